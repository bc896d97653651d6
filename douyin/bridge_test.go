package douyin_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/douyin"
	"github.com/oauth2x/oauth2x/douyin/douyintest"
)

func TestBridgePlainOAuth2Flows(t *testing.T) {
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleAutoDetect, oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		fake, conf, _ := setup(t)
		fake.SetRotate(true)
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, douyin.Bridge(fake.Endpoint(), fake.Client()))
		plain := &oauth2.Config{ClientID: conf.ClientKey, ClientSecret: conf.ClientSecret, RedirectURL: redirect,
			Endpoint: oauth2.Endpoint{AuthURL: fake.Endpoint().AuthURL, TokenURL: fake.Endpoint().TokenURL, AuthStyle: style}}

		tok, err := plain.Exchange(ctx, fake.IssueCode("user_info"))
		if err != nil {
			t.Fatalf("style %d: Exchange: %v", style, err)
		}
		if douyin.OpenID(tok) != douyintest.DefaultOpenID || tok.ExpiresIn != 1296000 || tok.Type() != "Bearer" {
			t.Errorf("style %d: token %+v open_id %q", style, tok, douyin.OpenID(tok))
		}
		if oauth2x.RefreshExpiry(tok).IsZero() {
			t.Errorf("style %d: refresh expiry lost on the way through x/oauth2", style)
		}
		old := *tok
		old.Expiry = time.Now().Add(-time.Minute)
		nt, err := plain.TokenSource(ctx, &old).Token()
		if err != nil {
			t.Fatalf("style %d: refresh: %v", style, err)
		}
		if nt.AccessToken == tok.AccessToken || nt.RefreshToken == tok.RefreshToken || fake.Calls(douyintest.RefreshTokenPath) != 1 {
			t.Errorf("style %d: refresh gave %+v (rotation expected), %d calls", style, nt, fake.Calls(douyintest.RefreshTokenPath))
		}
		if fake.SecretsSeen(douyintest.RefreshTokenPath) != 0 {
			t.Errorf("style %d: the secret went to the refresh call", style)
		}

		cc := &clientcredentials.Config{ClientID: conf.ClientKey, ClientSecret: conf.ClientSecret, TokenURL: fake.Endpoint().TokenURL, AuthStyle: style}
		ct, err := cc.Token(ctx)
		if err != nil || !strings.HasPrefix(ct.AccessToken, "clt.") || fake.Calls(douyintest.ClientTokenPath) != 1 {
			t.Errorf("style %d: client token %+v, %v", style, ct, err)
		}

		// The old refresh token died with the rotation.
		_, err = plain.TokenSource(ctx, &old).Token()
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" || re.Response.StatusCode != 400 || !strings.Contains(re.ErrorDescription, "error 10010") {
			t.Errorf("style %d: dead refresh token: %v", style, err)
		}
		for _, s := range []string{old.RefreshToken, old.AccessToken, conf.ClientSecret} {
			if strings.Contains(err.Error(), s) || strings.Contains(string(re.Body), s) {
				t.Errorf("style %d: %q leaks: %v", style, s, err)
			}
		}
	}
}

// A douyin.Config works unchanged with the bridge in its context: requests
// in Douyin's own dialect pass through.
func TestBridgeLeavesDouyinDialectAlone(t *testing.T) {
	fake, conf, _ := setup(t)
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, douyin.Bridge(fake.Endpoint(), fake.Client()))
	tok := login(t, fake, conf, ctx)
	if _, err := conf.Refresh(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if _, err := conf.RenewRefreshToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if _, err := conf.ClientToken(ctx); err != nil {
		t.Fatal(err)
	}
}

// A program that uses a plain *oauth2.Config keeps it: the bridge in the
// context speaks Douyin's dialect for it.
func ExampleBridge() {
	fake := douyintest.NewServer() // stands in for open.douyin.com
	defer fake.Close()

	conf := &oauth2.Config{
		ClientID:     fake.ClientKey,
		ClientSecret: fake.ClientSecret,
		Endpoint:     fake.Endpoint(), // douyin.Endpoint in production
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient,
		douyin.Bridge(fake.Endpoint(), fake.Client())) // douyin.Bridge(douyin.Endpoint, nil)

	tok, err := conf.Exchange(ctx, fake.IssueCode("user_info"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("open_id:", douyin.OpenID(tok), "expires_in:", tok.ExpiresIn)

	_, err = conf.Exchange(ctx, "used-or-expired-code")
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		fmt.Println("error:", re.ErrorCode, "HTTP", re.Response.StatusCode)
	}
	// Output:
	// open_id: fake-open-id expires_in: 1296000
	// error: invalid_grant HTTP 400
}
