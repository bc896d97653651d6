package douyin_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/douyin"
	"github.com/oauth2x/oauth2x/douyin/douyintest"
)

func ExampleConfig_AuthCodeURL() {
	conf := &douyin.Config{
		ClientKey:    "your-client-key",
		ClientSecret: "your-client-secret",
		RedirectURL:  "https://app.example/callback",
		Scopes:       []string{"user_info", "video.list"},
	}
	fmt.Println(conf.AuthCodeURL("state-123",
		douyin.OptionalScopes(douyin.Scope{Name: "friend_relation", Checked: true}, douyin.Scope{Name: "message"})))
	// Output:
	// https://open.douyin.com/platform/oauth/connect/?client_key=your-client-key&optionalScope=friend_relation%2C1%2Cmessage%2C0&redirect_uri=https%3A%2F%2Fapp.example%2Fcallback&response_type=code&scope=user_info%2Cvideo.list&state=state-123
}

// Log a user in: send them to AuthCodeURL, take the code from the
// callback, exchange it. Here the fake's page approves at once.
func ExampleConfig_Exchange() {
	fake := douyintest.NewServer()
	defer fake.Close()
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, fake.Client())
	conf := fake.Config("https://app.example/callback", "user_info")

	code, state, err := fake.Authorize(ctx, conf.AuthCodeURL("state-123"))
	if err != nil {
		log.Fatal(err)
	}
	tok, err := conf.Exchange(ctx, code)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("state:", state)
	fmt.Println("open id:", douyin.OpenID(tok))
	fmt.Println("scope:", tok.Extra("scope"))
	refreshLife, _ := tok.Extra("refresh_expires_in").(float64) // numbers in Extra are float64, as in x/oauth2
	fmt.Println("lives:", tok.ExpiresIn, "s; refresh token:", int64(refreshLife), "s")

	// The same code twice: Douyin answers 10007 with HTTP 200. x/oauth2
	// code sees the RFC 6749 code; Douyin's number is on *oauth2x.Error.
	_, err = conf.Exchange(ctx, code)
	var re *oauth2.RetrieveError
	var e *oauth2x.Error
	fmt.Println("again:", oauth2x.KindOf(err) == oauth2x.ErrInvalidGrant, errors.As(err, &re) && re.ErrorCode == "invalid_grant",
		errors.As(err, &e) && e.Code == "10007")
	// Output:
	// state: state-123
	// open id: fake-open-id
	// scope: user_info
	// lives: 1296000 s; refresh token: 2592000 s
	// again: true true true
}

// Call Douyin's APIs: the client sends the token in the access-token
// header and refreshes it when it nears expiry.
func ExampleConfig_Client() {
	fake := douyintest.NewServer()
	defer fake.Close()
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, fake.Client())
	conf := fake.Config("https://app.example/callback", "user_info")
	tok, err := conf.Exchange(ctx, fake.IssueCode("user_info"))
	if err != nil {
		log.Fatal(err)
	}

	resp, err := conf.Client(ctx, tok).Get(fake.URL + douyintest.APIPath)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Print(string(body))
	// Output:
	// {"data":{"error_code":0,"description":"","header":"access-token","open_id":"fake-open-id","client":false}}
}

func ExampleConfig_Refresh() {
	fake := douyintest.NewServer()
	defer fake.Close()
	fake.SetRotate(true) // answers carry a new refresh token; the old one dies
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, fake.Client())
	conf := fake.Config("https://app.example/callback", "user_info")
	tok, err := conf.Exchange(ctx, fake.IssueCode("user_info"))
	if err != nil {
		log.Fatal(err)
	}

	fresh, err := conf.Refresh(ctx, tok)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("new access token:", fresh.AccessToken != tok.AccessToken)
	fmt.Println("rotated refresh token kept:", fresh.RefreshToken != tok.RefreshToken)
	fmt.Println("open id kept:", douyin.OpenID(fresh))

	_, err = conf.Refresh(ctx, tok) // the old refresh token
	fmt.Println("old one:", errors.Is(err, oauth2x.ErrInvalidGrant))
	// Output:
	// new access token: true
	// rotated refresh token kept: true
	// open id kept: fake-open-id
	// old one: true
}

// App-level calls use a client token; the source fetches a new one as it
// nears expiry. Processes must share one (see oauth2x.Options.Store).
func ExampleConfig_ClientTokenSource() {
	fake := douyintest.NewServer()
	defer fake.Close()
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, fake.Client())
	conf := fake.Config("")

	src := conf.ClientTokenSource(ctx)
	a, err := src.Token()
	if err != nil {
		log.Fatal(err)
	}
	b, _ := src.Token()
	fmt.Println(a.AccessToken[:4], a.ExpiresIn, a == b)
	fmt.Println("fetched:", fake.Calls(douyintest.ClientTokenPath))

	client := &http.Client{Transport: &oauth2.Transport{Source: src, Base: fake.Client().Transport}}
	resp, err := client.Get(fake.URL + douyintest.APIPath)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.Status)
	// Output:
	// clt. 7200 true
	// fetched: 1
	// 200 OK
}

// A source per request from the stored token, as x/oauth2 users write it:
// nothing goes upstream while the token is valid, and a refreshed token is
// saved, so a rotated refresh token is never lost.
func ExampleConfig_TokenSource() {
	fake := douyintest.NewServer()
	defer fake.Close()
	fake.SetRotate(true)
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, fake.Client())
	conf := fake.Config("https://app.example/callback", "user_info")
	stored, err := conf.Exchange(ctx, fake.IssueCode("user_info"))
	if err != nil {
		log.Fatal(err)
	}
	perRequest := func() {
		cur, err := conf.TokenSource(ctx, stored).Token()
		if err != nil {
			log.Fatal(err)
		}
		if cur.AccessToken != stored.AccessToken {
			stored = cur // save it where the app keeps tokens
		}
		resp, err := conf.Client(ctx, cur).Get(fake.URL + douyintest.APIPath)
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
	}
	for range 10 {
		perRequest()
	}
	fmt.Println("refreshes while valid:", fake.Calls(douyintest.RefreshTokenPath))

	stored.Expiry = time.Now().Add(5 * time.Second) // inside x/oauth2's 10 s
	for range 10 {
		perRequest()
	}
	fmt.Println("refreshes near expiry:", fake.Calls(douyintest.RefreshTokenPath))

	stored.Expiry = time.Now().Add(-time.Minute)
	perRequest() // the saved, rotated refresh token still works
	fmt.Println("refreshes after expiry:", fake.Calls(douyintest.RefreshTokenPath))
	// Output:
	// refreshes while valid: 0
	// refreshes near expiry: 1
	// refreshes after expiry: 2
}
