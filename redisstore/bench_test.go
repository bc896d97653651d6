package redisstore_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/internal/oauthtest"
	"github.com/oauth2x/oauth2x/redisstore"
)

// BenchmarkLockHandover measures how long a process waiting for the lock
// takes to get it once its holder lets go: from the holder calling unlock
// to the waiter holding the lock, with the holder keeping the lock for
// hold first (a refresh's upstream call, say). The waiter runs on a client
// of its own, as another process would. Reported: handover-µs (mean) and
// p50/p99/max.
//
//	OAUTH2X_REDIS_ADDR=127.0.0.1:6390 go test -run '^$' -bench LockHandover -benchtime 200x
func BenchmarkLockHandover(b *testing.B) {
	for _, hold := range []time.Duration{0, 10 * time.Millisecond, 100 * time.Millisecond} {
		b.Run("hold="+hold.String(), func(b *testing.B) {
			rdb, addr := sharedRedis(b)
			key := testKey(b, rdb, "bench")
			holder := redisstore.New(rdb, key, nil)
			c2 := redis.NewClient(&redis.Options{Addr: addr})
			defer c2.Close()
			waiter := redisstore.New(c2, key, nil)
			ctx := context.Background()

			var handovers []time.Duration
			for b.Loop() {
				unlock, err := holder.Lock(ctx)
				if err != nil {
					b.Fatal(err)
				}
				got := make(chan time.Time)
				go func() {
					u, err := waiter.Lock(ctx)
					at := time.Now()
					if err != nil {
						b.Error(err)
					} else {
						u()
					}
					got <- at
				}()
				time.Sleep(hold) // the holder's work
				released := time.Now()
				unlock()
				handovers = append(handovers, (<-got).Sub(released))
			}
			slices.Sort(handovers)
			var sum time.Duration
			for _, d := range handovers {
				sum += d
			}
			pct := func(p float64) float64 {
				return float64(handovers[int(p*float64(len(handovers)-1))].Microseconds())
			}
			b.ReportMetric(float64(sum.Microseconds())/float64(len(handovers)), "handover-µs")
			b.ReportMetric(pct(0.5), "p50-µs")
			b.ReportMetric(pct(0.99), "p99-µs")
			b.ReportMetric(pct(1), "max-µs")
		})
	}
}

// BenchmarkRefresh64 measures refreshes per second through Redis: 64 keys
// of a KeyedStore expire at once and oauth2x.Tokens is asked for each by
// one caller; every refresh takes the key's lock, loads, refreshes (in
// memory, no network: the rotating fake), saves fenced by the lock, and
// unlocks.
//
//	OAUTH2X_REDIS_ADDR=127.0.0.1:6390 go test -run '^$' -bench Refresh64 -benchtime 20x -count 3
func BenchmarkRefresh64(b *testing.B) {
	_, addr := sharedRedis(b)
	ks := newKeyed(b, addr, randHex(6), nil)
	rot := oauthtest.NewRotating()
	keys := oauthtest.KeyNames(64)
	ctx := context.Background()
	m := oauth2x.NewTokens(oauth2x.RefresherFunc(rot.Refresh), ks, &oauth2x.Options{OnError: func(err error) { b.Log(err) }})
	var elapsed time.Duration
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		for _, k := range keys { // every key expired
			var tok *oauth2.Token
			if i == 0 {
				tok = rot.Grant(k, time.Now().Add(-time.Minute))
			} else if tok, _ = ks.Load(ctx, k); tok != nil {
				tok.Expiry = time.Now().Add(-time.Minute)
			}
			if err := m.Put(ctx, k, tok); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		took, errs := oauthtest.AllAtOnce(ctx, m.Token, keys)
		elapsed += took
		for _, err := range errs {
			b.Fatal(err)
		}
		if n := rot.Refreshes(keys[0]); n != i+1 {
			b.Fatalf("%d refreshes of one key after %d expiries", n, i+1)
		}
	}
	b.ReportMetric(float64(len(keys)*b.N)/elapsed.Seconds(), "refreshes/s")
}
