package tiktok_test

import (
	"context"
	"fmt"
	"log"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/tiktok"
	"github.com/oauth2x/oauth2x/tiktok/tiktoktest"
)

// Sign a user in on the web: send them to AuthCodeURL, exchange the code
// TikTok redirects back with, and read who signed in.
func Example() {
	fake := tiktoktest.NewServer() // stands in for www.tiktok.com and open.tiktokapis.com
	defer fake.Close()
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, fake.Client())

	conf := &tiktok.Config{
		ClientKey:    tiktoktest.DefaultClientKey,
		ClientSecret: tiktoktest.DefaultSecret,
		RedirectURL:  "https://app.example/callback",
		Scopes:       []string{"user.info.basic"},
		Endpoint:     fake.Endpoint(), // leave zero in production
	}
	fake.Config(conf.RedirectURL) // registers the redirect URL with the fake
	// The user clicks Authorize on TikTok's page; the fake's Authorize does that.
	code, state, err := fake.Authorize(ctx, conf.AuthCodeURL("state-123"))
	if err != nil {
		log.Fatal(err)
	}
	tok, err := conf.Exchange(ctx, code)
	if err != nil {
		log.Fatal(err)
	}
	user, err := conf.UserInfo(ctx, tok, "open_id", "display_name", "avatar_url")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("state:", state)
	fmt.Println("open_id:", tiktok.OpenID(tok))
	fmt.Println("expires_in:", tok.ExpiresIn)
	fmt.Println("name:", user.DisplayName)
	// Output:
	// state: state-123
	// open_id: 723f24d7-e717-40f8-a2b6-cb8464cd23b4
	// expires_in: 7200
	// name: Tik Tester
}

// Desktop and mobile apps use PKCE with TikTok's hex challenge.
func ExampleHexS256ChallengeOption() {
	fake := tiktoktest.NewServer()
	defer fake.Close()
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, fake.Client())
	conf := fake.Config("http://127.0.0.1:8080/callback", "user.info.basic")

	verifier := oauth2.GenerateVerifier()
	code, _, err := fake.Authorize(ctx, conf.AuthCodeURL("s", tiktok.HexS256ChallengeOption(verifier)))
	if err != nil {
		log.Fatal(err)
	}
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	fmt.Println(tok != nil, err)
	// Output: true <nil>
}

// TikTok rotates refresh tokens: the old one dies when a new one is
// issued. A token source keeps (and with a Store, saves) the newest.
func ExampleConfig_Refresh() {
	fake := tiktoktest.NewServer()
	defer fake.Close()
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, fake.Client())
	conf := fake.Config("https://app.example/callback", "user.info.basic")

	tok, err := conf.Exchange(ctx, fake.IssueCode(conf.RedirectURL, "user.info.basic"))
	if err != nil {
		log.Fatal(err)
	}
	nt, err := conf.Refresh(ctx, tok)
	if err != nil {
		log.Fatal(err)
	}
	_, err = conf.Refresh(ctx, tok) // the old refresh token is dead
	fmt.Println(nt.RefreshToken != tok.RefreshToken)
	fmt.Println(oauth2x.IsTemporary(err), err != nil)
	// Output:
	// true
	// false true
}
