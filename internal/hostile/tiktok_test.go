package hostile_test

import (
	"context"
	"testing"

	"github.com/oauth2x/oauth2x/tiktok"
	"github.com/oauth2x/oauth2x/tiktok/tiktoktest"
)

// TikTok joins the hostile and fault tables (TestHostileAnswers,
// TestContextHonoured, TestHostileTransport) as one more row.
func init() {
	providers = append(providers, provider{
		name: "tiktok",
		fake: func(t *testing.T, sc *scanner, ctx context.Context) *handle {
			f := tiktoktest.NewServer()
			t.Cleanup(f.Close)
			conf := f.Config(redirect, "user.info.basic")
			sc.add(conf.ClientSecret)
			k := kit{endpoint: f.Endpoint(), id: conf.ClientKey, secret: conf.ClientSecret}
			k.code = func() string { c := f.IssueCode(redirect, "user.info.basic"); sc.add(c); return c }
			tok, err := conf.Exchange(ctx, k.code())
			if err != nil {
				t.Fatal(err)
			}
			k.tok = sc.addToken(tok)
			return &handle{k, f.RespondNext, f.SetHook}
		},
		calls: func(k kit) []call {
			conf := &tiktok.Config{ClientKey: k.id, ClientSecret: k.secret, RedirectURL: redirect, Scopes: []string{"user.info.basic"}, Endpoint: k.endpoint}
			return flowCalls(conf, k, tiktoktest.TokenPath, tiktoktest.TokenPath, tiktok.Bridge,
				call{op: "client token", path: tiktoktest.TokenPath, do: conf.ClientToken})
		},
	})
}
