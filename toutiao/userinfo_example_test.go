package toutiao_test

import (
	"context"
	"fmt"
	"log"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x/toutiao/toutiaotest"
)

// After the login, ask who signed in: Toutiao gives the open id, the
// nickname and the avatar.
func ExampleConfig_UserInfo() {
	fake := toutiaotest.NewServer()
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
	fmt.Println(user.OpenID, user.Nickname, user.UnionID == "")
	// Output: fake-open-id 测试用户 true
}
