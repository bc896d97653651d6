package fantem_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x/fantem"
	"github.com/oauth2x/oauth2x/fantem/fantemtest"
)

// Sign a user in: send them to AuthCodeURL, then exchange the code the
// gateway redirects back with.
func Example() {
	fake := fantemtest.NewServer() // stands in for the deployment's gateway
	defer fake.Close()
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, fake.Client())

	endpoint, err := fantem.EndpointFor(fake.URL) // the deployment's host
	if err != nil {
		log.Fatal(err)
	}
	conf := &fantem.Config{
		ClientID:    fake.ClientID,
		RedirectURL: "https://app.example/callback",
		Endpoint:    endpoint,
	}
	code, state, err := fake.Authorize(ctx, conf.AuthCodeURL("state-123"))
	if err != nil {
		log.Fatal(err)
	}
	tok, err := conf.Exchange(ctx, code)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("state:", state)
	fmt.Println("access token:", tok.AccessToken)
	fmt.Println("type:", tok.Type(), "expires_in:", tok.ExpiresIn)
	// Output:
	// state: state-123
	// access token: ACCE5500000000000000000000000002
	// type: Bearer expires_in: 36000
}

// The gateway's refresh answer carries no refresh token: the old one is
// kept.
func ExampleConfig_Refresh() {
	fake := fantemtest.NewServer()
	defer fake.Close()
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, fake.Client())
	conf := fake.Config("https://app.example/callback")

	tok, err := conf.Exchange(ctx, fake.IssueCode(""))
	if err != nil {
		log.Fatal(err)
	}
	nt, err := conf.Refresh(ctx, tok)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("access token:", tok.AccessToken, "→", nt.AccessToken)
	fmt.Println("refresh token kept:", nt.RefreshToken == tok.RefreshToken)
	// Output:
	// access token: ACCE5500000000000000000000000002 → ACCE5500000000000000000000000004
	// refresh token kept: true
}

// A program that uses a plain *oauth2.Config keeps it: the bridge in the
// context sends its token requests multipart, as the gateway wants.
func ExampleBridge() {
	fake := fantemtest.NewServer()
	defer fake.Close()

	conf := &oauth2.Config{
		ClientID:    fake.ClientID,
		RedirectURL: "https://app.example/callback",
		Endpoint:    fake.Endpoint(),
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient,
		fantem.Bridge(conf.Endpoint, fake.Client()))

	code, _, err := fake.Authorize(ctx, conf.AuthCodeURL("s"))
	if err != nil {
		log.Fatal(err)
	}
	tok, err := conf.Exchange(ctx, code)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("access token:", tok.AccessToken)

	_, err = conf.Exchange(ctx, code) // codes work once
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		fmt.Println("error:", re.ErrorCode, "HTTP", re.Response.StatusCode)
	}
	// Output:
	// access token: ACCE5500000000000000000000000002
	// error: invalid_grant HTTP 400
}
