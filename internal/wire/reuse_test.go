package wire

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// TestReuseSourceRefreshesLikeXOAuth2: a valid token (more than ten
// seconds left) is served with no refresh; one inside ten seconds is
// refreshed once, in the call, however many callers ask at once, and the
// rotated refresh token is the one used next.
func TestReuseSourceRefreshesLikeXOAuth2(t *testing.T) {
	var calls atomic.Int32
	var seen []string
	var mu sync.Mutex
	entered, release := make(chan struct{}), make(chan struct{})
	refresh := func(_ context.Context, t *oauth2.Token) (*oauth2.Token, error) {
		n := calls.Add(1)
		mu.Lock()
		seen = append(seen, t.RefreshToken)
		mu.Unlock()
		if n == 1 {
			close(entered)
			<-release
		}
		return &oauth2.Token{AccessToken: "a" + string(rune('0'+n)), RefreshToken: "r" + string(rune('0'+n)), Expiry: time.Now().Add(time.Hour)}, nil
	}
	valid := &oauth2.Token{AccessToken: "a0", RefreshToken: "r0", Expiry: time.Now().Add(30 * time.Second)}
	if got, err := ReuseSource(context.Background(), valid, refresh).Token(); err != nil || got != valid || calls.Load() != 0 {
		t.Fatalf("valid token: %v, %v, %d refreshes", got, err, calls.Load())
	}

	near := &oauth2.Token{AccessToken: "a0", RefreshToken: "r0", Expiry: time.Now().Add(5 * time.Second)}
	src := ReuseSource(context.Background(), near, refresh)
	const n = 16
	var wg sync.WaitGroup
	got := make(chan string, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := src.Token()
			if err != nil {
				t.Error(err)
				return
			}
			got <- tok.AccessToken
		}()
	}
	<-entered
	close(release)
	wg.Wait()
	close(got)
	for a := range got {
		if a != "a1" {
			t.Errorf("a caller got %q, want the one refreshed token", a)
		}
	}
	if calls.Load() != 1 {
		t.Errorf("%d refreshes for %d callers, want 1", calls.Load(), n)
	}
	// Force the next refresh: it must use the rotated refresh token.
	src.(*reuse).t.Expiry = time.Now()
	if _, err := src.Token(); err != nil {
		t.Fatal(err)
	}
	if seen[len(seen)-1] != "r1" {
		t.Errorf("refreshed with %q, want the rotated r1", seen[len(seen)-1])
	}
}

// TestReuseSourceWaitIsBoundedByTheCaller: a caller whose context ends
// while another's refresh is held returns at once.
func TestReuseSourceWaitIsBoundedByTheCaller(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	refresh := func(ctx context.Context, _ *oauth2.Token) (*oauth2.Token, error) {
		close(entered)
		<-release
		return &oauth2.Token{AccessToken: "new", Expiry: time.Now().Add(time.Hour)}, nil
	}
	src := ReuseSource(context.Background(), &oauth2.Token{RefreshToken: "r", Expiry: time.Unix(1, 0)}, refresh).(*reuse)
	done := make(chan error, 1)
	go func() { _, err := src.Token(); done <- err }()
	<-entered
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := src.TokenContext(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("waiting caller: %v, want context.Canceled", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Error(err)
	}
}
