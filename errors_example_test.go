package oauth2x_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/douyin"
	"github.com/oauth2x/oauth2x/douyin/douyintest"
)

// One check for a dead grant, whichever way the error came: from
// douyin.Config, or from a plain *oauth2.Config through the bridge.
func ExampleKindOf() {
	fake := douyintest.NewServer()
	defer fake.Close()
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, fake.Client())
	conf := fake.Config("https://app.example/callback", "user_info")
	tok, _ := conf.Exchange(ctx, fake.IssueCode("user_info"))
	fake.Revoke(fake.OpenID) // the user revokes access in the app
	tok.Expiry = time.Now().Add(-time.Minute)

	_, direct := conf.TokenSource(ctx, tok).Token()

	endpoint := conf.Endpoint
	endpoint.AuthStyle = oauth2.AuthStyleInParams // one upstream call per token call, a failed one included
	plain := &oauth2.Config{ClientID: conf.ClientKey, ClientSecret: conf.ClientSecret, Endpoint: endpoint}
	bridged := context.WithValue(ctx, oauth2.HTTPClient, douyin.Bridge(endpoint, fake.Client()))
	_, viaBridge := plain.TokenSource(bridged, tok).Token()

	for _, err := range []error{direct, viaBridge} {
		var re *oauth2.RetrieveError
		errors.As(err, &re)
		fmt.Println(oauth2x.KindOf(err) == oauth2x.ErrInvalidGrant, re.ErrorCode)
	}
	var e *oauth2x.Error
	if errors.As(direct, &e) {
		fmt.Println("Douyin's code:", e.Code)
	}
	// Output:
	// true invalid_grant
	// true invalid_grant
	// Douyin's code: 10010
}

// A production endpoint moved behind a proxy with a path prefix; every
// call derived from it keeps the prefix.
func ExampleEndpointAt() {
	e, err := oauth2x.EndpointAt("https://proxy.example/douyin", douyin.Endpoint)
	if err != nil {
		fmt.Println(err)
		return
	}
	refresh, _ := oauth2x.SiblingURL(e.TokenURL, "/oauth/access_token/", "/oauth/refresh_token/")
	fmt.Println(e.AuthURL)
	fmt.Println(e.TokenURL)
	fmt.Println(refresh)
	// Output:
	// https://proxy.example/douyin/platform/oauth/connect/
	// https://proxy.example/douyin/oauth/access_token/
	// https://proxy.example/douyin/oauth/refresh_token/
}
