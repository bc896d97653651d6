package douyin_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/douyin"
	"github.com/oauth2x/oauth2x/douyin/douyintest"
	"github.com/oauth2x/oauth2x/internal/wire"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// signalStore is a MemoryStore that reports each saved token on a channel
// once the flight that saved it is over. The source releases the store's
// lock only after it has cleared its flight, so a token received from saved
// means the next due Token call starts a new flight rather than finding the
// old one still running.
type signalStore struct {
	*oauth2x.MemoryStore
	saved chan *oauth2.Token
	last  *oauth2.Token // saved under the lock, not yet reported
}

func (s *signalStore) Save(ctx context.Context, t *oauth2.Token) error {
	s.last = t
	return s.MemoryStore.Save(ctx, t)
}

func (s *signalStore) Lock(ctx context.Context) (func(), error) {
	unlock, err := s.MemoryStore.Lock(ctx)
	if err != nil {
		return nil, err
	}
	return func() {
		t := s.last
		s.last = nil
		unlock()
		if t != nil {
			s.saved <- t
		}
	}, nil
}

// await returns the next saved token. A token source error reported on
// errs (nil: none expected there) fails the test at once, and a minute
// without a save fails it rather than hanging it; the minute is a guard,
// not a timing.
func (s *signalStore) await(t *testing.T, errs <-chan error) *oauth2.Token {
	t.Helper()
	select {
	case tok := <-s.saved:
		return tok
	case err := <-errs:
		t.Fatalf("token source error while waiting for a save: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("no save within a minute")
	}
	return nil
}

// clockedLogin logs in on a fake whose clock, and the engine's, is clk.
func clockedLogin(t *testing.T) (*douyintest.Server, *douyin.Config, context.Context, *testClock, *oauth2.Token) {
	t.Helper()
	fake, conf, ctx := setup(t)
	clk := &testClock{t: time.Now()}
	fake.SetNow(clk.Now)
	ctx = wire.WithClock(ctx, clk.Now)
	return fake, conf, ctx, clk, login(t, fake, conf, ctx)
}

func TestRenewingTokenSource(t *testing.T) {
	fake, conf, ctx, clk, tok := clockedLogin(t)

	store := &signalStore{MemoryStore: oauth2x.NewMemoryStore(), saved: make(chan *oauth2.Token, 4)}
	errs := make(chan error, 4)
	r := &douyin.Renewing{Config: conf, Within: 5 * 24 * time.Hour, Now: clk.Now}
	src := oauth2x.NewTokenSource(ctx, r, tok, &oauth2x.Options{Store: store, Now: clk.Now, OnError: func(err error) { errs <- err }})
	if _, err := src.Token(); err != nil { // loads the empty store and saves the login
		t.Fatal(err)
	}
	if saved := store.await(t, errs); saved.RefreshToken != tok.RefreshToken {
		t.Fatalf("first save = %v, want the login", saved)
	}

	// Day 14.99: an ordinary early refresh; the refresh token has 15 days left.
	clk.Add(15*24*time.Hour - 30*time.Second)
	if got, err := src.Token(); err != nil || got.AccessToken != tok.AccessToken {
		t.Fatalf("Token = %v, %v; want the current token while refreshing", got, err)
	}
	refreshed := store.await(t, errs)
	if fake.Calls(douyintest.RenewRefreshTokenPath) != 0 || refreshed.RefreshToken != tok.RefreshToken {
		t.Fatalf("renewed with 15 days left")
	}
	// Day 25.5: the access token is valid, but the refresh token enters the
	// renewal window: one background renew, then a refresh.
	clk.Add(10*24*time.Hour + 12*time.Hour)
	got, err := src.Token()
	if err != nil {
		t.Fatal(err)
	}
	renewed := store.await(t, errs)
	if got.RefreshToken != tok.RefreshToken {
		t.Errorf("caller was handed a token mid-renewal")
	}
	if n := fake.Calls(douyintest.RenewRefreshTokenPath); n != 1 {
		t.Errorf("renewals = %d, want 1", n)
	}
	if renewed.RefreshToken == tok.RefreshToken {
		t.Fatal("refresh token not renewed")
	}
	if want := clk.Now().Add(30 * 24 * time.Hour); oauth2x.RefreshExpiry(renewed).Sub(want).Abs() > time.Minute {
		t.Errorf("renewed refresh expiry = %v, want about %v", oauth2x.RefreshExpiry(renewed), want)
	}
	// The old refresh token is dead; the new one works.
	if _, err := conf.Refresh(ctx, tok); !errors.Is(err, oauth2x.ErrInvalidGrant) {
		t.Errorf("old refresh token after renewal: %v", err)
	}
	select {
	case err := <-errs:
		t.Errorf("unexpected error: %v", err)
	default:
	}
}

func TestRenewLimitSurfacesEarly(t *testing.T) {
	fake, conf, ctx, clk, tok := clockedLogin(t)
	fake.FailNext(douyintest.RenewRefreshTokenPath, douyintest.CodeRenewLimit, "刷新次数超过限制")
	renewErrs := make(chan error, 4)
	r := &douyin.Renewing{Config: conf, Now: clk.Now, OnError: func(err error) { renewErrs <- err }}
	store := &signalStore{MemoryStore: oauth2x.NewMemoryStore(), saved: make(chan *oauth2.Token, 8)}
	src := oauth2x.NewTokenSource(ctx, r, tok, &oauth2x.Options{Store: store, Now: clk.Now, OnError: func(err error) { t.Errorf("token source error: %v", err) }})
	if _, err := src.Token(); err != nil { // loads the empty store and saves the login
		t.Fatal(err)
	}
	if saved := store.await(t, nil); saved.RefreshToken != tok.RefreshToken {
		t.Fatalf("first save = %v, want the login", saved)
	}

	// Day 26: the access token is valid, the refresh token has 4 days left.
	clk.Add(26 * 24 * time.Hour)
	src.Token()
	got := store.await(t, nil)
	err := <-renewErrs
	if !errors.Is(err, oauth2x.ErrInvalidGrant) {
		t.Fatalf("renewal failure = %v, want ErrInvalidGrant while the refresh token still lives", err)
	}
	var re *oauth2.RetrieveError
	var e *oauth2x.Error
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" || !errors.As(err, &e) || e.Code != "10020" {
		t.Errorf("RetrieveError = %v", re)
	}
	if got.RefreshToken != tok.RefreshToken || got.AccessToken == tok.AccessToken {
		t.Errorf("after the refusal the source holds %v; want a refreshed access token and the same, live refresh token", got)
	}
	// The refusal is not retried, and the refresh token keeps refreshing
	// the access token until it dies.
	clk.Add(3*24*time.Hour + 23*time.Hour)
	for range 10 {
		if _, err := src.Token(); err != nil {
			t.Fatal(err)
		}
	}
	if n := fake.Calls(douyintest.RenewRefreshTokenPath); n != 1 {
		t.Errorf("renew calls = %d, want 1", n)
	}
	select {
	case err := <-renewErrs:
		t.Errorf("renewal tried again: %v", err)
	default:
	}
}

func TestRenewingKeepsRefreshedTokenWhenRenewFails(t *testing.T) {
	fake, conf, ctx, clk, tok := clockedLogin(t)
	clk.Add(27 * 24 * time.Hour)
	fake.FailNext(douyintest.RenewRefreshTokenPath, douyintest.CodeSystemError, "系统繁忙")
	var reported []error
	r := &douyin.Renewing{Config: conf, Now: clk.Now, OnError: func(err error) { reported = append(reported, err) }}
	nt, err := r.Refresh(ctx, tok)
	if err != nil {
		t.Fatalf("Refresh = %v; a failed renewal must not fail the refresh", err)
	}
	if len(reported) != 1 || !oauth2x.IsTemporary(reported[0]) {
		t.Errorf("reported %v, want one temporary error", reported)
	}
	// The refresh token it returns is alive.
	if _, err := conf.Refresh(ctx, nt); err != nil {
		t.Errorf("the returned refresh token is dead: %v", err)
	}
	// Retried an hour later, and then renewed.
	if due := r.RefreshDue(nt); !due.Equal(clk.Now().Add(time.Hour)) {
		t.Errorf("RefreshDue = %v, want an hour from now", due)
	}
	clk.Add(time.Hour)
	renewed, err := r.Refresh(ctx, nt)
	if err != nil || renewed.RefreshToken == nt.RefreshToken {
		t.Errorf("second try: %v, %v", renewed, err)
	}
}

// TestRenewWindowGuard is the fault of a Within longer than the refresh
// token's life (31 of 30 days): the window is capped at half the life, and
// each refresh token is renewed once, so the five renewals are not spent
// at once and nothing refreshes in a loop.
func TestRenewWindowGuard(t *testing.T) {
	fake, conf, ctx, clk, tok := clockedLogin(t)
	r := &douyin.Renewing{Config: conf, Within: 31 * 24 * time.Hour, Now: clk.Now, OnError: func(err error) { t.Errorf("renewal: %v", err) }}
	if due := r.RefreshDue(tok); clk.Now().After(due) {
		t.Errorf("a fresh refresh token is due for renewal at once (due %v)", due)
	}
	// A refresher loop as a token source runs it: refresh whenever due,
	// over 40 virtual days, a look every hour.
	cur := tok
	for range 40 * 24 {
		clk.Add(time.Hour)
		if due := r.RefreshDue(cur); !due.IsZero() && clk.Now().Before(due) && clk.Now().Before(cur.Expiry.Add(-time.Minute)) {
			continue
		}
		nt, err := r.Refresh(ctx, cur)
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		cur = nt
	}
	renews, refreshes := fake.Calls(douyintest.RenewRefreshTokenPath), fake.Calls(douyintest.RefreshTokenPath)
	t.Logf("FAULT 12 renew-window: %d renewals and %d refreshes in 40 virtual days with Within 31 days", renews, refreshes)
	// Renewal at days 15 and 30 (half of each 30-day refresh token), and
	// refreshes of the 15-day access token about as often.
	if renews < 1 || renews > 3 {
		t.Errorf("renewals in 40 days = %d, want 2 (one per refresh token at half-life)", renews)
	}
	if refreshes > 8 {
		t.Errorf("refreshes in 40 days = %d, want a handful", refreshes)
	}
}
