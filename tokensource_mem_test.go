package oauth2x

import (
	"context"
	"runtime"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// idleSources is how many token sources BenchmarkIdleSourceBytes holds.
const idleSources = 100_000

// idleSourceBytes measures the heap per idle token source: n sources made
// from one shared token (so the token itself is not counted), minus the
// heap before. make builds one source.
func idleSourceBytes(n int, build func(tok *oauth2.Token) any) float64 {
	tok := &oauth2.Token{AccessToken: "at", RefreshToken: "rt", Expiry: time.Now().Add(time.Hour)}
	keep := make([]any, n)
	before := heapInUse()
	for i := range keep {
		keep[i] = build(tok)
	}
	after := heapInUse()
	runtime.KeepAlive(keep)
	return float64(after-before) / float64(n)
}

// BenchmarkIdleSourceBytes reports the heap per idle token source
// (B/source): NewTokenSource without a store against x/oauth2's
// Config.TokenSource, each refreshing through an oauth2.Config.
func BenchmarkIdleSourceBytes(b *testing.B) {
	conf := &oauth2.Config{ClientID: "id", Endpoint: oauth2.Endpoint{TokenURL: "http://127.0.0.1:1/token"}}
	ctx := context.Background()
	r := ConfigRefresher(conf)
	b.Run("impl=oauth2x", func(b *testing.B) {
		// One measurement whatever b.N: the metric is per source, not per op.
		b.ReportMetric(idleSourceBytes(idleSources, func(tok *oauth2.Token) any {
			return NewTokenSource(ctx, r, tok, nil)
		}), "B/source")
	})
	b.Run("impl=x-oauth2", func(b *testing.B) {
		b.ReportMetric(idleSourceBytes(idleSources, func(tok *oauth2.Token) any {
			return conf.TokenSource(ctx, tok)
		}), "B/source")
	})
}
