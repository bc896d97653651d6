package toutiao_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/oauth2x/oauth2x/toutiao"
	"github.com/oauth2x/oauth2x/toutiao/toutiaotest"
)

// Sign a user in: send them to AuthCodeURL (a QR code), then exchange the
// code Toutiao redirects back with.
func Example() {
	fake := toutiaotest.NewServer() // stands in for open.snssdk.com
	defer fake.Close()
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, fake.Client())

	conf := &toutiao.Config{
		ClientKey:    fake.ClientKey,
		ClientSecret: fake.ClientSecret,
		RedirectURL:  "https://app.example/callback",
		Scopes:       []string{"user_info"},
		Endpoint:     fake.Endpoint(), // leave zero in production
	}
	// The fake's page approves at once; a real user scans a QR code.
	code, state, err := fake.Authorize(ctx, conf.AuthCodeURL("state-123"))
	if err != nil {
		log.Fatal(err)
	}
	tok, err := conf.Exchange(ctx, code)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("state:", state)
	fmt.Println("open_id:", toutiao.OpenID(tok))
	fmt.Println("scope:", tok.Extra(toutiao.ExtraScope))
	fmt.Println("expires_in:", tok.ExpiresIn)
	// Output:
	// state: state-123
	// open_id: fake-open-id
	// scope: user_info
	// expires_in: 1296000
}

// Refresh trades the refresh token for a new access token; the open_id and
// the refresh token stay.
func ExampleConfig_Refresh() {
	fake := toutiaotest.NewServer()
	defer fake.Close()
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, fake.Client())
	conf := fake.Config("https://app.example/callback", "user_info")

	tok, err := conf.Exchange(ctx, fake.IssueCode("user_info"))
	if err != nil {
		log.Fatal(err)
	}
	nt, err := conf.Refresh(ctx, tok)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("new access token:", nt.AccessToken != tok.AccessToken)
	fmt.Println("same refresh token:", nt.RefreshToken == tok.RefreshToken)
	fmt.Println("open_id:", toutiao.OpenID(nt))
	// Output:
	// new access token: true
	// same refresh token: true
	// open_id: fake-open-id
}

// An app-level token, for APIs that act for the app rather than a user.
func ExampleConfig_ClientToken() {
	fake := toutiaotest.NewServer()
	defer fake.Close()
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, fake.Client())
	conf := fake.Config("")

	tok, err := conf.ClientToken(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("client token:", strings.HasPrefix(tok.AccessToken, "clt."), "expires_in:", tok.ExpiresIn)
	// Output:
	// client token: true expires_in: 7200
}

// A program built on clientcredentials.Config keeps it: the bridge in the
// context turns its request into Toutiao's client_token call.
func ExampleBridge() {
	fake := toutiaotest.NewServer()
	defer fake.Close()
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient,
		toutiao.Bridge(fake.Endpoint(), fake.Client())) // toutiao.Bridge(toutiao.Endpoint, nil)

	cc := &clientcredentials.Config{
		ClientID:     fake.ClientKey,
		ClientSecret: fake.ClientSecret,
		TokenURL:     fake.Endpoint().TokenURL, // toutiao.Endpoint.TokenURL
	}
	tok, err := cc.Token(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("client token:", strings.HasPrefix(tok.AccessToken, "clt."), "valid:", tok.Valid())
	// Output:
	// client token: true valid: true
}
