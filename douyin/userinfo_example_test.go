package douyin_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/douyin"
	"github.com/oauth2x/oauth2x/douyin/douyintest"
)

// After the login, ask who signed in.
func ExampleConfig_UserInfo() {
	fake := douyintest.NewServer()
	defer fake.Close()
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, fake.Client())
	conf := fake.Config("https://app.example/callback", "user_info")

	tok, err := conf.Exchange(ctx, fake.IssueCode("user_info"))
	if err != nil {
		log.Fatal(err)
	}
	user, err := conf.UserInfo(ctx, tok)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(user.OpenID, user.UnionID, user.Nickname)
	// Output: fake-open-id fake-union-id 测试用户
}

// The phone number, when the user granted mobile_alert, comes encrypted
// with the client secret.
func ExampleDecryptMobile() {
	mobile, err := douyin.DecryptMobile("0123456789abcdef0123456789abcdef", "tyUWQwYuUmVFJtElAL+D7Q==")
	fmt.Println(mobile, err)
	// Output: 12345678910 <nil>
}

// UserInfoFrom refreshes through the source and asks again when Douyin
// calls the token invalid; the new token stays in the source, to save.
func ExampleConfig_UserInfoFrom() {
	fake := douyintest.NewServer()
	defer fake.Close()
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, fake.Client())
	conf := fake.Config("https://app.example/callback", "user_info")
	tok, err := conf.Exchange(ctx, fake.IssueCode("user_info"))
	if err != nil {
		log.Fatal(err)
	}
	// Douyin's clock says the access token expired; tok's Expiry does not.
	fake.SetNow(func() time.Time { return time.Now().Add(douyintest.AccessTTL + time.Minute) })

	_, err = conf.UserInfo(ctx, tok) // one call, no refresh
	fmt.Println(errors.Is(err, oauth2x.ErrInvalidToken))

	src := conf.TokenSource(ctx, tok)
	user, err := conf.UserInfoFrom(ctx, src) // refreshes once, asks again
	if err != nil {
		log.Fatal(err)
	}
	nt, _ := src.Token() // the new token: save it in place of tok
	fmt.Println(user.OpenID, nt.AccessToken != tok.AccessToken)
	// Output:
	// true
	// fake-open-id true
}
