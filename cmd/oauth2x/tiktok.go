package main

import (
	"context"
	"fmt"
	"net/http"

	"github.com/oauth2x/oauth2x/tiktok"
	"github.com/oauth2x/oauth2x/tiktok/tiktoktest"
)

// TikTok is the fourth row of the providers table.
func init() {
	providers = append(providers, &provider{
		name:       "tiktok",
		title:      "TikTok",
		idParam:    "client_key",
		needSecret: true,
		scopes:     []string{"user.info.basic"},
		endpoint:   tiktok.Endpoint,
		page:       "sign in to TikTok and authorize the app",
		// TikTok's desktop apps, whose redirect is on loopback as the
		// command's is, must send a code challenge, hex-encoded S256.
		challenge: tiktok.HexS256ChallengeOption,
		newFlow: func(a *app) flow {
			return &tiktok.Config{ClientKey: a.ClientID, ClientSecret: a.ClientSecret, RedirectURL: a.RedirectURL, Scopes: a.Scopes, Endpoint: a.Endpoint}
		},
		fake: func() *fake {
			s := tiktoktest.NewServer()
			s.RegisterRedirect("http://127.0.0.1:*/callback") // the walkthrough's loopback callback
			return &fake{url: s.URL, clientID: tiktoktest.DefaultClientKey, clientSecret: tiktoktest.DefaultSecret, close: s.Close,
				api: func(ctx context.Context, c *http.Client) (string, error) {
					var a struct {
						Data struct {
							User struct {
								OpenID      string `json:"open_id"`
								DisplayName string `json:"display_name"`
							} `json:"user"`
						} `json:"data"`
						Error struct{ Code, Message string } `json:"error"`
					}
					if err := getJSON(ctx, c, s.URL+tiktoktest.UserInfoPath+"?fields=open_id,display_name", &a); err != nil {
						return "", err
					}
					if a.Error.Code != "ok" {
						return "", fmt.Errorf("API refused the token: %s %q", a.Error.Code, a.Error.Message)
					}
					return fmt.Sprintf("bearer token accepted by /v2/user/info/, user %s (%s)", a.Data.User.OpenID, a.Data.User.DisplayName), nil
				}}
		},
	})
}
