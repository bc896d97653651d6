package douyin_test

import (
	"context"
	"fmt"
	"log"

	"golang.org/x/oauth2"

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
