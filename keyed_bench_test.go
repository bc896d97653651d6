package oauth2x_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
)

// BenchmarkKeyedToken reads a valid token under RunParallel: Tokens.Token
// for a key held in memory (among 1,000), against one NewTokenSource and
// against x/oauth2's ReuseTokenSource holding the same token.
func BenchmarkKeyedToken(b *testing.B) {
	for _, g := range []int{0, 64} {
		name := "g=procs"
		if g > 0 {
			name = fmt.Sprintf("g=%d", g)
		}
		for _, impl := range []string{"x-oauth2", "oauth2x", "oauth2x-Tokens"} {
			b.Run(name+"/impl="+impl, func(b *testing.B) {
				tok := &oauth2.Token{AccessToken: "at", RefreshToken: "rt", Expiry: time.Now().Add(time.Hour)}
				var src oauth2.TokenSource
				switch impl {
				case "oauth2x":
					src = oauth2x.NewTokenSource(context.Background(), benchNoRefresh{b}, tok, nil)
				case "x-oauth2":
					src = oauth2.ReuseTokenSource(tok, benchNoRefresh{b})
				default:
					ctx := context.Background()
					m := oauth2x.NewTokens(benchNoRefresh{b}, oauth2x.NewKeyedMemoryStore(), nil)
					for i := range 1000 {
						if err := m.Put(ctx, fmt.Sprint("user-", i), tok); err != nil {
							b.Fatal(err)
						}
					}
					src = m.TokenSource(ctx, "user-500")
					var err error
					if tok, err = src.Token(); err != nil {
						b.Fatal(err)
					}
				}
				if g > 0 {
					procs := runtime.GOMAXPROCS(0)
					b.SetParallelism((g + procs - 1) / procs)
				}
				benchReadParallel(b, src, tok)
			})
		}
	}
}
