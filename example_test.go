package oauth2x_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/douyin/douyintest"
)

// A token source that persists every new token (and every rotated refresh
// token) before handing it out, and that several processes can share: the
// file store's lock makes one of them refresh while the others wait and
// load the result.
func ExampleNewTokenSource() {
	fake := douyintest.NewServer()
	defer fake.Close()
	fake.SetRotate(true)
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, fake.Client())
	conf := fake.Config("https://app.example/callback", "user_info")
	tok, err := conf.Exchange(ctx, fake.IssueCode("user_info"))
	if err != nil {
		log.Fatal(err)
	}
	tok.Expiry = time.Now().Add(-time.Second) // pretend it expired

	dir, _ := os.MkdirTemp("", "oauth2x")
	defer os.RemoveAll(dir)
	store := oauth2x.NewFileStore(filepath.Join(dir, "douyin.json"))

	// Two sources, as two processes would have.
	a := oauth2x.NewTokenSource(ctx, conf, tok, &oauth2x.Options{Store: store})
	b := oauth2x.NewTokenSource(ctx, conf, tok, &oauth2x.Options{Store: store})
	ta, err := a.Token()
	if err != nil {
		log.Fatal(err)
	}
	tb, err := b.Token()
	if err != nil {
		log.Fatal(err)
	}
	saved, _ := store.Load(ctx)
	fmt.Println("same token:", ta.AccessToken == tb.AccessToken)
	fmt.Println("rotated refresh token saved:", saved.RefreshToken == ta.RefreshToken && ta.RefreshToken != tok.RefreshToken)
	fmt.Println("open id saved:", saved.Extra("open_id"))
	fmt.Println("upstream refreshes:", fake.Calls(douyintest.RefreshTokenPath))
	// Output:
	// same token: true
	// rotated refresh token saved: true
	// open id saved: fake-open-id
	// upstream refreshes: 1
}

// Any standard provider (Google, GitHub, …) gets the same lifecycle.
func ExampleConfigRefresher() {
	conf := &oauth2.Config{ClientID: "id", ClientSecret: "secret", Endpoint: oauth2.Endpoint{TokenURL: "https://provider.example/token"}}
	src := oauth2x.NewTokenSource(context.Background(), oauth2x.ConfigRefresher(conf),
		&oauth2.Token{AccessToken: "still-valid", Expiry: time.Now().Add(time.Hour)}, nil)
	tok, err := src.Token()
	fmt.Println(tok.AccessToken, err)
	// Output: still-valid <nil>
}
