package oauth2x_test

import (
	"context"
	"net/http"
	"testing"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x/tiktok/tiktoktest"
)

// confTikTok describes the TikTok fake: every refresh rotates the refresh
// token, so the rotation behaviour runs with rotation always on.
func confTikTok(t *testing.T) *confWorld {
	fake := tiktoktest.NewServer()
	t.Cleanup(fake.Close)
	conf := fake.Config(confRedirect, "user.info.basic")
	return &confWorld{
		flow:         conf,
		refresher:    conf,
		ctx:          context.WithValue(context.Background(), oauth2.HTTPClient, fake.Client()),
		authorize:    fake.Authorize,
		exchangePath: tiktoktest.TokenPath,
		refreshPath:  tiktoktest.TokenPath,
		calls:        fake.Calls,
		setHook:      fake.SetHook,
		setRotate:    func(bool) {}, // always on
		revoke:       fake.Revoke,
		apiOK: func(t *testing.T, c *http.Client) bool {
			var a struct {
				Data struct {
					User struct {
						OpenID string `json:"open_id"`
					} `json:"user"`
				} `json:"data"`
				Error struct{ Code string } `json:"error"`
			}
			confGet(t, c, fake.URL+tiktoktest.UserInfoPath+"?fields=open_id", &a)
			return a.Error.Code == "ok" && a.Data.User.OpenID == fake.User().OpenID
		},
		secrets: []string{conf.ClientSecret},
	}
}
