package hostile_test

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/douyin/douyintest"
	"github.com/oauth2x/oauth2x/internal/bytedance"
)

// TestLoad sends one API request from each of 10,000 goroutines (1,000
// under the race detector) through the client douyin.Config.Client builds,
// while the token expires under them: a quarter of the requests in, the
// token source's clock jumps to five seconds before expiry, inside the
// ten seconds in which a token is no longer handed out. Every request must
// succeed, and the expiry must cost exactly one upstream refresh.
func TestLoad(t *testing.T) {
	n := 10000
	if raceEnabled {
		n = 1000
	}
	if testing.Short() {
		n = 500
	}
	sc := newScanner()
	fake, conf, _, tok := douyinSetup(t, sc, nil)
	tr := &http.Transport{MaxConnsPerHost: 64, MaxIdleConnsPerHost: 64}
	t.Cleanup(tr.CloseIdleConnections)
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, sc.client(&http.Client{Transport: tr}))
	clk := newClock()
	// This is conf.Client(ctx, tok) with a clock the test can move.
	src := oauth2x.NewTokenSource(ctx, conf, tok, &oauth2x.Options{Now: clk.now})
	client := bytedance.Client(ctx, src)
	apiBefore := fake.Calls(douyintest.APIPath)

	var failed atomic.Int64
	var firstErr sync.Once
	done := make(chan struct{}, n)
	late := make(chan struct{})
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i >= n/2 {
				<-late
			}
			if err := apiCall(client, fake); err != nil {
				failed.Add(1)
				firstErr.Do(func() { t.Errorf("request failed: %v", err) })
			}
			done <- struct{}{}
		}()
	}
	for range n / 4 {
		<-done
	}
	clk.add(tok.Expiry.Sub(clk.now()) - 5*time.Second) // 5s before expiry on the source's clock
	close(late)
	wg.Wait()
	elapsed := time.Since(start)

	refreshes := fake.Calls(douyintest.RefreshTokenPath)
	requests := fake.Calls(douyintest.APIPath) - apiBefore
	if f := failed.Load(); f != 0 {
		t.Errorf("%d of %d requests failed", f, n)
	}
	if requests != n {
		t.Errorf("the API saw %d requests, want %d", requests, n)
	}
	if refreshes != 1 {
		t.Errorf("refreshes = %d, want 1", refreshes)
	}
	got, err := src.Token()
	if err != nil || got.AccessToken == tok.AccessToken {
		t.Errorf("after the run the source serves %v, %v; want the refreshed token", got, err)
	}
	sc.checkURLs(t)
	t.Logf("load: %d goroutines, %d requests, %d failed, %d refreshes, %v (%.0f requests/s), race detector %v",
		n, requests, failed.Load(), refreshes, elapsed.Round(time.Millisecond), float64(requests)/elapsed.Seconds(), raceEnabled)
}
