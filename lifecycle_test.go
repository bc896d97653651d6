package oauth2x

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// clock is a fake clock, safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// upstream is a Refresher that counts calls, can be held at a gate, and
// rotates refresh tokens; it fails when told to.
type upstream struct {
	clock     *clock
	life      time.Duration
	calls     atomic.Int32
	entered   chan struct{} // receives once per call, if not nil
	gate      chan struct{} // calls wait for it to close, if not nil
	mu        sync.Mutex
	err       error  // returned by calls while set
	lastRT    string // the refresh token the last call was given
	rotate    bool
	expiresIn int64 // seconds, set on issued tokens when not zero
}

func (u *upstream) Refresh(ctx context.Context, t *oauth2.Token) (*oauth2.Token, error) {
	n := u.calls.Add(1)
	if u.entered != nil {
		select {
		case u.entered <- struct{}{}:
		default: // only the first entry is waited for
		}
	}
	if u.gate != nil {
		select {
		case <-u.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if t != nil {
		u.lastRT = t.RefreshToken
	}
	if u.err != nil {
		return nil, u.err
	}
	rt := t.RefreshToken
	if u.rotate {
		rt = fmt.Sprintf("rt-%d", n)
	}
	return &oauth2.Token{AccessToken: fmt.Sprintf("at-%d", n), RefreshToken: rt, Expiry: u.clock.Now().Add(u.life), ExpiresIn: u.expiresIn}, nil
}

func newUpstream(c *clock) *upstream { return &upstream{clock: c, life: time.Hour} }

func expiredToken(c *clock) *oauth2.Token {
	return &oauth2.Token{AccessToken: "at-0", RefreshToken: "rt-0", Expiry: c.Now().Add(-time.Minute)}
}

func opts(c *clock) *Options {
	return &Options{Now: c.Now, OnError: func(error) {}}
}

// callers runs n concurrent Token calls and returns their results.
func callers(src oauth2.TokenSource, n int) ([]*oauth2.Token, []error) {
	toks, errs := make([]*oauth2.Token, n), make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			toks[i], errs[i] = src.Token()
		}()
	}
	wg.Wait()
	return toks, errs
}

// waitFlight waits for the flight in progress on s, if there is one. A
// background flight may already have ended when a test looks, so tests
// assert what a flight did (upstream calls, the store), not that one is
// still running.
func waitFlight(s *TokenSource) {
	s.mu.Lock()
	f := s.flight
	s.mu.Unlock()
	if f != nil {
		<-f.done
	}
}

func TestManyCallersOneRefresh(t *testing.T) {
	c := newClock()
	u := newUpstream(c)
	u.entered, u.gate = make(chan struct{}, 1), make(chan struct{})
	src := NewTokenSource(context.Background(), u, expiredToken(c), opts(c))
	done := make(chan struct{})
	var toks []*oauth2.Token
	var errs []error
	go func() { toks, errs = callers(src, 256); close(done) }()
	<-u.entered // one refresh is in flight; hold it while the others pile up
	close(u.gate)
	<-done
	for i := range toks {
		if errs[i] != nil || toks[i].AccessToken != "at-1" {
			t.Fatalf("caller %d: %v %v", i, toks[i], errs[i])
		}
	}
	if n := u.calls.Load(); n != 1 {
		t.Errorf("upstream refreshes = %d, want 1", n)
	}
}

func TestFailureSharedExactlyOnce(t *testing.T) {
	c := newClock()
	u := newUpstream(c)
	u.err = &Error{Provider: "test", Op: "refresh", Kind: ErrTemporary, Cause: errors.New("boom")}
	u.entered, u.gate = make(chan struct{}, 1), make(chan struct{})
	s := NewTokenSource(context.Background(), u, expiredToken(c), opts(c))
	const n = 64
	f, _ := s.join(instantOf(c.Now()))
	<-u.entered
	// Every waiter joins the one flight in progress.
	results := make(chan error, n)
	var joined sync.WaitGroup
	for range n {
		joined.Add(1)
		go func() {
			g, _ := s.join(instantOf(c.Now()))
			joined.Done()
			<-g.done
			results <- g.err
		}()
	}
	joined.Wait()
	close(u.gate)
	<-f.done
	for range n {
		if err := <-results; !errors.Is(err, ErrTemporary) {
			t.Fatalf("waiter got %v", err)
		}
	}
	if got := u.calls.Load(); got != 1 {
		t.Errorf("upstream calls = %d, want 1", got)
	}
}

func TestEarlyRefreshDoesNotBlockValidToken(t *testing.T) {
	c := newClock()
	u := newUpstream(c)
	u.entered, u.gate = make(chan struct{}, 1), make(chan struct{})
	tok := &oauth2.Token{AccessToken: "at-0", RefreshToken: "rt-0", Expiry: c.Now().Add(30 * time.Second)}
	s := NewTokenSource(context.Background(), u, tok, &Options{Now: c.Now, ExpireEarly: time.Minute, OnError: func(error) {}})
	got, err := s.Token() // inside the early window: starts a background refresh
	if err != nil || got.AccessToken != "at-0" {
		t.Fatalf("Token = %v, %v; want the current token at once", got, err)
	}
	<-u.entered // the refresh is in flight and held at the gate
	for range 100 {
		if got, err := s.Token(); err != nil || got.AccessToken != "at-0" {
			t.Fatalf("Token during refresh = %v, %v", got, err)
		}
	}
	s.mu.Lock()
	f := s.flight
	s.mu.Unlock()
	close(u.gate)
	<-f.done
	if got, _ := s.Token(); got.AccessToken != "at-1" {
		t.Errorf("after refresh Token = %v, want at-1", got.AccessToken)
	}
	if n := u.calls.Load(); n != 1 {
		t.Errorf("refreshes = %d, want 1", n)
	}
}

func TestBackgroundRefreshSurvivesCallerContext(t *testing.T) {
	c := newClock()
	u := newUpstream(c)
	u.entered, u.gate = make(chan struct{}, 1), make(chan struct{})
	s := NewTokenSource(context.Background(), u, expiredToken(c), opts(c))
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := s.TokenContext(ctx); errc <- err }()
	<-u.entered
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("TokenContext = %v, want context.Canceled", err)
	}
	s.mu.Lock()
	f := s.flight
	s.mu.Unlock()
	close(u.gate)
	<-f.done
	if f.err != nil {
		t.Fatalf("the shared refresh died with the caller's context: %v", f.err)
	}
	if got, err := s.Token(); err != nil || got.AccessToken != "at-1" {
		t.Errorf("Token = %v, %v", got, err)
	}
}

func TestDeadGrantRemembered(t *testing.T) {
	c := newClock()
	u := newUpstream(c)
	u.err = &Error{Provider: "test", Op: "refresh", Kind: ErrInvalidGrant, Code: "10010"}
	src := NewTokenSource(context.Background(), u, expiredToken(c), opts(c))
	for range 5 {
		if _, err := src.Token(); !errors.Is(err, ErrInvalidGrant) {
			t.Fatalf("Token = %v, want ErrInvalidGrant", err)
		}
	}
	if n := u.calls.Load(); n != 1 {
		t.Errorf("upstream calls = %d, want 1: a dead grant is not retried", n)
	}
}

func TestDeadGrantRevivedByStore(t *testing.T) {
	c := newClock()
	u := newUpstream(c)
	u.err = &Error{Provider: "test", Op: "refresh", Kind: ErrInvalidGrant}
	store := NewMemoryStore()
	src := NewTokenSource(context.Background(), u, expiredToken(c), &Options{Store: store, Now: c.Now, OnError: func(error) {}})
	if _, err := src.Token(); !errors.Is(err, ErrInvalidGrant) {
		t.Fatalf("Token = %v", err)
	}
	// The user logs in again elsewhere (say, with the command-line tool).
	fresh := &oauth2.Token{AccessToken: "at-new", RefreshToken: "rt-new", Expiry: c.Now().Add(time.Hour)}
	if err := store.Save(context.Background(), fresh); err != nil {
		t.Fatal(err)
	}
	c.Add(time.Second) // the store is looked at again after the backoff
	if got, err := src.Token(); err != nil || got.AccessToken != "at-new" {
		t.Errorf("Token = %v, %v; want the newly stored token", got, err)
	}
}

func TestTemporaryFailureBacksOffWhileTokenValid(t *testing.T) {
	c := newClock()
	u := newUpstream(c)
	u.err = &Error{Provider: "test", Op: "refresh", Kind: ErrTemporary}
	reported := make(chan error, 64)
	tok := &oauth2.Token{AccessToken: "at-0", RefreshToken: "rt-0", Expiry: c.Now().Add(5 * time.Minute)}
	s := NewTokenSource(context.Background(), u, tok, &Options{Now: c.Now, ExpireEarly: 10 * time.Minute, OnError: func(err error) { reported <- err }})
	for range 50 {
		if got, err := s.Token(); err != nil || got.AccessToken != "at-0" {
			t.Fatalf("Token = %v, %v; want the still-valid token", got, err)
		}
		waitFlight(s)
	}
	if n := u.calls.Load(); n != 1 {
		t.Errorf("upstream calls before the backoff passed = %d, want 1", n)
	}
	// A background flight reports after its waiters are released: the one
	// failure is received, not counted at once.
	select {
	case err := <-reported:
		if !errors.Is(err, ErrTemporary) {
			t.Errorf("background failure reported as %v, want ErrTemporary", err)
		}
	case <-time.After(time.Minute): // a guard against a hang, not a timing
		t.Fatal("the background failure was never reported")
	}
	select {
	case err := <-reported:
		t.Errorf("a second report with one upstream call: %v", err)
	default:
	}
	c.Add(time.Second) // first backoff is one second
	s.Token()
	waitFlight(s)
	if n := u.calls.Load(); n != 2 {
		t.Errorf("upstream calls after one backoff = %d, want 2", n)
	}
	u.mu.Lock()
	u.err = nil
	u.mu.Unlock()
	c.Add(2 * time.Second) // second backoff is two seconds
	s.Token()
	waitFlight(s)
	if got, _ := s.Token(); got.AccessToken != "at-3" {
		t.Errorf("after recovery Token = %v, want at-3", got.AccessToken)
	}
}

func TestExpiredCallerRecoversOnNextCall(t *testing.T) {
	c := newClock()
	u := newUpstream(c)
	u.err = &Error{Provider: "test", Op: "refresh", Kind: ErrTemporary}
	src := NewTokenSource(context.Background(), u, expiredToken(c), opts(c))
	if _, err := src.Token(); !IsTemporary(err) {
		t.Fatalf("Token = %v, want a temporary error", err)
	}
	u.mu.Lock()
	u.err = nil
	u.mu.Unlock()
	if _, err := src.Token(); !IsTemporary(err) || u.calls.Load() != 1 {
		t.Fatalf("Token within the backoff = %v after %d calls, want the shared failure", err, u.calls.Load())
	}
	c.Add(time.Second) // the first backoff is at most one second
	if got, err := src.Token(); err != nil || got.AccessToken != "at-2" {
		t.Errorf("Token = %v, %v", got, err)
	}
}

// flakyStore is a MemoryStore whose Save fails while fail > 0.
type flakyStore struct {
	*MemoryStore
	fail  atomic.Int32
	saves atomic.Int32
}

func (f *flakyStore) Save(ctx context.Context, t *oauth2.Token) error {
	f.saves.Add(1)
	if f.fail.Add(-1) >= 0 {
		return errors.New("disk full")
	}
	return f.MemoryStore.Save(ctx, t)
}

func TestSaveFailureLosesNothing(t *testing.T) {
	c := newClock()
	u := newUpstream(c)
	u.rotate = true
	store := &flakyStore{MemoryStore: NewMemoryStore()}
	store.fail.Store(1)
	var reported []error
	var mu sync.Mutex
	s := NewTokenSource(context.Background(), u, expiredToken(c), &Options{Store: store, Now: c.Now, OnError: func(err error) {
		mu.Lock()
		reported = append(reported, err)
		mu.Unlock()
	}})
	got, err := s.Token()
	if err != nil || got.RefreshToken != "rt-1" {
		t.Fatalf("Token = %v, %v; want the rotated token despite the failed save", got, err)
	}
	mu.Lock()
	var se *StoreError
	if len(reported) != 1 || !errors.As(reported[0], &se) || se.Op != "save" {
		t.Errorf("reported = %v, want one save StoreError", reported)
	}
	mu.Unlock()
	if stored, _ := store.Load(context.Background()); stored != nil {
		t.Fatalf("store holds %v after a failed save", stored)
	}
	// Saving is retried after a backoff, without a refresh.
	c.Add(time.Second)
	s.Token()
	waitFlight(s) // the retry, if it has not already ended; the store tells whether it ran
	if stored, _ := store.Load(context.Background()); stored == nil || stored.RefreshToken != "rt-1" {
		t.Errorf("store holds %v after the retry, want rt-1", stored)
	}
	if n := u.calls.Load(); n != 1 {
		t.Errorf("upstream calls = %d, want 1", n)
	}
	// The next refresh uses the rotated refresh token.
	c.Add(2 * time.Hour)
	if _, err := s.Token(); err != nil {
		t.Fatal(err)
	}
	if u.lastRT != "rt-1" {
		t.Errorf("next refresh used %q, want the rotated rt-1", u.lastRT)
	}
}

func TestSaveBeforeHandOut(t *testing.T) {
	c := newClock()
	u := newUpstream(c)
	u.rotate = true
	var s *TokenSource
	store := &hookStore{MemoryStore: NewMemoryStore()}
	store.onSave = func(t *oauth2.Token) {
		// The new token may be kept in memory before its save, but not
		// where a caller is handed it.
		if cur := s.cur.Load(); cur.tok != nil && cur.tok.AccessToken == t.AccessToken && cur.servable(s.now()) {
			panic("token servable before it was saved")
		}
	}
	s = NewTokenSource(context.Background(), u, expiredToken(c), &Options{Store: store, Now: c.Now})
	got, err := s.Token()
	if err != nil {
		t.Fatal(err)
	}
	if stored, _ := store.Load(context.Background()); stored.AccessToken != got.AccessToken {
		t.Errorf("stored %v, handed out %v", stored.AccessToken, got.AccessToken)
	}
}

type hookStore struct {
	*MemoryStore
	onSave func(*oauth2.Token)
}

func (h *hookStore) Save(ctx context.Context, t *oauth2.Token) error {
	h.onSave(t)
	return h.MemoryStore.Save(ctx, t)
}

func TestStoredNewerTokenWinsAtStart(t *testing.T) {
	c := newClock()
	store := NewMemoryStore()
	newerTok := &oauth2.Token{AccessToken: "at-stored", RefreshToken: "rt-stored", Expiry: c.Now().Add(2 * time.Hour)}
	store.Save(context.Background(), newerTok)
	u := newUpstream(c)
	given := &oauth2.Token{AccessToken: "at-given", RefreshToken: "rt-given", Expiry: c.Now().Add(time.Hour)}
	src := NewTokenSource(context.Background(), u, given, &Options{Store: store, Now: c.Now})
	if got, err := src.Token(); err != nil || got.AccessToken != "at-given" {
		t.Errorf("first Token = %v, %v; want the valid given token at once", got, err)
	}
	waitFlight(src) // the store's first read
	if got, err := src.Token(); err != nil || got.AccessToken != "at-stored" {
		t.Errorf("Token = %v, %v; want the newer stored token", got, err)
	}
	// An older stored token does not replace the given one.
	src = NewTokenSource(context.Background(), u, &oauth2.Token{AccessToken: "at-3h", Expiry: c.Now().Add(3 * time.Hour)}, &Options{Store: store, Now: c.Now})
	src.Token()
	waitFlight(src)
	if got, _ := src.Token(); got.AccessToken != "at-3h" {
		t.Errorf("Token = %v; want the given, newer token", got.AccessToken)
	}
	if u.calls.Load() != 0 {
		t.Errorf("refreshed %d times with valid tokens", u.calls.Load())
	}
}

func TestSourcesSharingLockingStoreRefreshOnce(t *testing.T) {
	c := newClock()
	u := newUpstream(c)
	u.rotate = true
	store := NewMemoryStore()
	store.Save(context.Background(), expiredToken(c))
	var srcs []oauth2.TokenSource
	for range 4 {
		srcs = append(srcs, NewTokenSource(context.Background(), u, nil, &Options{Store: store, Now: c.Now}))
	}
	var wg sync.WaitGroup
	for _, src := range srcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, errs := callers(src, 16); errors.Join(errs...) != nil {
				t.Error(errors.Join(errs...))
			}
		}()
	}
	wg.Wait()
	if n := u.calls.Load(); n != 1 {
		t.Errorf("upstream refreshes across 4 sources = %d, want 1", n)
	}
	for i, src := range srcs {
		if got, _ := src.Token(); got.RefreshToken != "rt-1" {
			t.Errorf("source %d holds %q, want the rotated rt-1", i, got.RefreshToken)
		}
	}
}

func TestLockNotTakenIsAnErrorNotADeadlock(t *testing.T) {
	c := newClock()
	u := newUpstream(c)
	store := NewMemoryStore()
	unlock, err := store.Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	src := NewTokenSource(context.Background(), u, expiredToken(c), &Options{Store: store, Now: c.Now, RefreshTimeout: 20 * time.Millisecond, OnError: func(error) {}})
	_, err = src.Token()
	// The lock's wait and the flight end at the same timeout: either says so.
	if !IsTemporary(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Token = %v, want a temporary error with the deadline", err)
	}
	// A caller's own context ends its wait on the lock. (A source whose lock
	// wait outlasts the test, so the two endings cannot race.)
	patient := NewTokenSource(context.Background(), u, expiredToken(c), &Options{Store: store, Now: c.Now, RefreshTimeout: time.Hour, OnError: func(error) {}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := patient.TokenContext(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("TokenContext = %v, want context.Canceled", err)
	}
	if u.calls.Load() != 0 {
		t.Error("refreshed without the lock")
	}
}

func TestHalfLifeWhenExpireEarlyExceedsLifetime(t *testing.T) {
	c := newClock()
	u := newUpstream(c)
	u.life = time.Minute
	u.expiresIn = 60
	s := NewTokenSource(context.Background(), u, expiredToken(c), &Options{Now: c.Now, ExpireEarly: time.Hour})
	if _, err := s.Token(); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		s.Token()
	}
	if n := u.calls.Load(); n != 1 {
		t.Errorf("refreshes = %d, want 1: an ExpireEarly longer than the lifetime must not loop", n)
	}
	c.Add(31 * time.Second)
	s.Token()
	waitFlight(s)
	if n := u.calls.Load(); n != 2 {
		t.Errorf("refreshes = %d, want 2: one background refresh at half-life", n)
	}
}

func TestNoExpiryServedForever(t *testing.T) {
	u := newUpstream(newClock())
	src := NewTokenSource(context.Background(), u, &oauth2.Token{AccessToken: "static"}, nil)
	for range 3 {
		if got, err := src.Token(); err != nil || got.AccessToken != "static" {
			t.Fatalf("Token = %v, %v", got, err)
		}
	}
	if u.calls.Load() != 0 {
		t.Error("refreshed a token without expiry")
	}
}

func TestMinValidRefreshesInForeground(t *testing.T) {
	c := newClock()
	u := newUpstream(c)
	tok := &oauth2.Token{AccessToken: "at-0", RefreshToken: "rt-0", Expiry: c.Now().Add(4 * time.Minute)}
	src := NewTokenSource(context.Background(), u, tok, &Options{Now: c.Now, MinValid: 5 * time.Minute})
	got, err := src.Token()
	if err != nil || got.AccessToken != "at-1" {
		t.Errorf("Token = %v, %v; want a token refreshed before it was handed out", got, err)
	}
	// With the default, the same token is still served.
	src = NewTokenSource(context.Background(), newUpstream(c), tok, &Options{Now: c.Now, ExpireEarly: time.Second})
	if got, _ := src.Token(); got.AccessToken != "at-0" {
		t.Errorf("Token = %v; want the valid token", got.AccessToken)
	}
}

func TestRefreshBackoffResetsWhenStoreSuppliesToken(t *testing.T) {
	c := newClock()
	u := newUpstream(c)
	u.err = &Error{Provider: "test", Op: "refresh", Kind: ErrTemporary}
	store := NewMemoryStore()
	s := NewTokenSource(context.Background(), u, expiredToken(c), &Options{Store: store, Now: c.Now, OnError: func(error) {}})
	for range 3 {
		if _, err := s.Token(); !IsTemporary(err) {
			t.Fatalf("Token = %v", err)
		}
	}
	if n := u.calls.Load(); n != 1 {
		t.Errorf("upstream calls within the backoff = %d, want 1", n)
	}
	// Another process refreshed and saved: adopting it is a success.
	store.Save(context.Background(), &oauth2.Token{AccessToken: "at-other", RefreshToken: "rt-other", Expiry: c.Now().Add(time.Hour)})
	c.Add(time.Second)
	if got, err := s.Token(); err != nil || got.AccessToken != "at-other" {
		t.Fatalf("Token = %v, %v", got, err)
	}
	s.mu.Lock()
	fails := 0
	if s.f != nil {
		fails = s.f.fails
	}
	s.mu.Unlock()
	if fails != 0 {
		t.Errorf("failure count after a successful flight = %d, want 0", fails)
	}
}

func TestLifetimeRecordedForHalfLifeRule(t *testing.T) {
	c := newClock()
	u := newUpstream(c) // issues tokens without ExpiresIn, as clientcredentials does
	u.life = time.Minute
	s := NewTokenSource(context.Background(), u, expiredToken(c), &Options{Now: c.Now, ExpireEarly: time.Hour})
	tok, err := s.Token()
	if err != nil {
		t.Fatal(err)
	}
	if tok.ExpiresIn != 60 {
		t.Errorf("ExpiresIn = %d, want the lifetime recorded", tok.ExpiresIn)
	}
	for range 10 {
		s.Token()
	}
	if n := u.calls.Load(); n != 1 {
		t.Errorf("refreshes = %d, want 1", n)
	}
}

// stable answers with the current token while it lives, as Douyin's
// stable client token endpoint does.
type stable struct {
	clock *clock
	calls atomic.Int32
	cur   atomic.Pointer[oauth2.Token]
}

func (s *stable) Refresh(context.Context, *oauth2.Token) (*oauth2.Token, error) {
	n := s.calls.Add(1)
	if t := s.cur.Load(); t != nil && s.clock.Now().Before(t.Expiry) {
		return t, nil
	}
	t := &oauth2.Token{AccessToken: fmt.Sprintf("clt-%d", n), Expiry: s.clock.Now().Add(2 * time.Hour), ExpiresIn: 7200}
	s.cur.Store(t)
	return t, nil
}

func TestSameTokenAgainIsNotRefreshedInALoop(t *testing.T) {
	c := newClock()
	r := &stable{clock: c}
	s := NewTokenSource(context.Background(), r, nil, &Options{Now: c.Now, ExpireEarly: time.Minute})
	first, err := s.Token()
	if err != nil {
		t.Fatal(err)
	}
	c.Add(2*time.Hour - 30*time.Second) // inside the early window
	for range 20 {
		if got, err := s.Token(); err != nil || got != first {
			t.Fatalf("Token = %v, %v", got, err)
		}
		waitFlight(s)
	}
	if n := r.calls.Load(); n != 2 {
		t.Errorf("upstream calls in the early window = %d, want 2 (one got the same token back)", n)
	}
	c.Add(25 * time.Second) // within MinValid of expiry: served to its end
	for range 20 {
		s.Token()
		waitFlight(s)
	}
	if n := r.calls.Load(); n > 3 {
		t.Errorf("upstream calls near expiry = %d, want at most 3", n)
	}
	c.Add(10 * time.Second) // expired: a new token
	if got, err := s.Token(); err != nil || got.AccessToken == first.AccessToken {
		t.Errorf("after expiry Token = %v, %v", got, err)
	}
}

func TestOwnRefreshTimeoutIsTemporary(t *testing.T) {
	c := newClock()
	u := newUpstream(c)
	u.gate = make(chan struct{}) // never opens: the flight's own timeout ends it
	src := NewTokenSource(context.Background(), RefresherFunc(func(ctx context.Context, t *oauth2.Token) (*oauth2.Token, error) {
		_, err := u.Refresh(ctx, t)
		return nil, &Error{Provider: "test", Op: "refresh", Cause: err}
	}), expiredToken(c), &Options{Now: c.Now, RefreshTimeout: 10 * time.Millisecond})
	if _, err := src.Token(); !IsTemporary(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Token = %v, want a temporary error from the refresh timeout", err)
	}
}

// TestNegativeExpireEarlyTurnsEarlyRefreshOff: with ExpireEarly < 0 a
// token is not refreshed before it expires (MinValid before its expiry),
// however close that is; zero still means the one-minute default.
func TestNegativeExpireEarlyTurnsEarlyRefreshOff(t *testing.T) {
	c := newClock()
	u := newUpstream(c)
	tok := &oauth2.Token{AccessToken: "at-0", RefreshToken: "rt-0", Expiry: c.Now().Add(time.Hour)}
	off := NewTokenSource(context.Background(), u, tok, &Options{Now: c.Now, ExpireEarly: -1, OnError: func(error) {}})
	def := NewTokenSource(context.Background(), u, tok, &Options{Now: c.Now, OnError: func(error) {}})
	c.Add(time.Hour - 30*time.Second) // inside the default early window, before MinValid
	for range 10 {
		if got, err := off.Token(); err != nil || got.AccessToken != "at-0" {
			t.Fatalf("early refresh off: %v, %v", got, err)
		}
		waitFlight(off)
	}
	if n := u.calls.Load(); n != 0 {
		t.Errorf("early refresh off: %d refreshes before expiry", n)
	}
	def.Token()
	waitFlight(def)
	if n := u.calls.Load(); n != 1 {
		t.Errorf("default ExpireEarly: %d refreshes in the early window, want 1", n)
	}
	c.Add(25 * time.Second) // within MinValid of expiry: refreshed for the caller
	if got, err := off.Token(); err != nil || got.AccessToken == "at-0" {
		t.Errorf("early refresh off, at expiry: %v, %v; want a refreshed token", got, err)
	}
}

// TestDefaultReportIsSlogWarning: with no OnError a background failure is
// logged with log/slog at warning level, not with the log package.
func TestDefaultReportIsSlogWarning(t *testing.T) {
	lines := make(chanWriter, 4)
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(lines, &slog.HandlerOptions{Level: slog.LevelWarn})))
	defer slog.SetDefault(prev)
	c := newClock()
	u := newUpstream(c)
	u.err = &Error{Provider: "test", Op: "refresh", Kind: ErrTemporary}
	tok := &oauth2.Token{AccessToken: "at-0", RefreshToken: "rt-0", Expiry: c.Now().Add(30 * time.Second)} // in the early window
	s := NewTokenSource(context.Background(), u, tok, &Options{Now: c.Now})
	s.Token()
	select {
	case out := <-lines:
		if !strings.Contains(out, "level=WARN") || !strings.Contains(out, "temporary") {
			t.Errorf("default report = %q, want a slog warning with the error", out)
		}
	case <-time.After(time.Minute): // a guard against a hang, not a timing
		t.Fatal("the background failure was not logged")
	}
}

// chanWriter sends each write on the channel.
type chanWriter chan string

func (w chanWriter) Write(p []byte) (int, error) { w <- string(p); return len(p), nil }

// lockedSave is a FileStore whose Save checks that the caller holds the
// store's lock.
type lockedSave struct {
	*FileStore
	t *testing.T
}

func (l lockedSave) Save(ctx context.Context, tok *oauth2.Token) error {
	if release, ok, _ := tryLockFile(l.Path + ".lock"); ok {
		release()
		l.t.Error("saved without holding the store's lock")
	}
	return l.FileStore.Save(ctx, tok)
}

// TestGivenTokenSavedForRestart: NewTokenSource with a valid token and an
// empty FileStore saves the token, holding the store's lock, before it
// hands it out: a restart (a new source on the file, with no token) and a
// second replica get it with no upstream call, and at expiry the two
// refresh once between them.
func TestGivenTokenSavedForRestart(t *testing.T) {
	c := newClock()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "token.json")
	u := newUpstream(c)
	u.rotate = true
	given := &oauth2.Token{AccessToken: "at-login", RefreshToken: "rt-login", Expiry: c.Now().Add(time.Hour), ExpiresIn: 3600}
	first := NewTokenSource(ctx, u, given, &Options{Store: lockedSave{NewFileStore(path), t}, Now: c.Now})
	if got, err := first.Token(); err != nil || got.AccessToken != "at-login" {
		t.Fatalf("first: %v, %v", got, err)
	}
	waitFlight(first) // the store's first read, which saves the given token
	if stored, err := NewFileStore(path).Load(ctx); err != nil || stored == nil || stored.RefreshToken != "rt-login" {
		t.Fatalf("the store holds %v, %v after the first call; want the given token", stored, err)
	}
	restarted := NewTokenSource(ctx, u, nil, &Options{Store: NewFileStore(path), Now: c.Now})
	replica := NewTokenSource(ctx, u, nil, &Options{Store: NewFileStore(path), Now: c.Now})
	for name, s := range map[string]*TokenSource{"restarted": restarted, "replica": replica} {
		if got, err := s.Token(); err != nil || got.AccessToken != "at-login" {
			t.Fatalf("%s, no token given: %v, %v; want the saved login", name, got, err)
		}
	}
	if n := u.calls.Load(); n != 0 {
		t.Fatalf("upstream calls = %d before expiry, want 0", n)
	}
	c.Add(time.Hour) // expired: one refresh between the two
	for name, s := range map[string]*TokenSource{"restarted": restarted, "replica": replica} {
		if got, err := s.Token(); err != nil || got.RefreshToken != "rt-1" {
			t.Fatalf("%s at expiry: %v, %v; want the one refreshed token", name, got, err)
		}
	}
	if n := u.calls.Load(); n != 1 {
		t.Errorf("upstream calls at expiry = %d, want 1", n)
	}
}

// TestGivenNewerTokenReplacesStored: a given token newer than the stored
// one is served and replaces it in the store; an older one is not saved.
func TestGivenNewerTokenReplacesStored(t *testing.T) {
	c := newClock()
	ctx := context.Background()
	store := NewMemoryStore()
	store.Save(ctx, &oauth2.Token{AccessToken: "at-old", RefreshToken: "rt-old", Expiry: c.Now().Add(30 * time.Minute)})
	u := newUpstream(c)
	s := NewTokenSource(ctx, u, &oauth2.Token{AccessToken: "at-new", RefreshToken: "rt-new", Expiry: c.Now().Add(time.Hour)}, &Options{Store: store, Now: c.Now})
	if got, err := s.Token(); err != nil || got.AccessToken != "at-new" {
		t.Fatalf("Token = %v, %v; want the given, newer token", got, err)
	}
	waitFlight(s) // the store's first read, which saves the given token
	if stored, _ := store.Load(ctx); stored.AccessToken != "at-new" || stored.RefreshToken != "rt-new" {
		t.Errorf("store holds %s/%s, want the given token saved over the older one", stored.AccessToken, stored.RefreshToken)
	}
	s = NewTokenSource(ctx, u, &oauth2.Token{AccessToken: "at-older", RefreshToken: "rt-older", Expiry: c.Now().Add(10 * time.Minute)}, &Options{Store: store, Now: c.Now})
	s.Token() // the valid given token, served at once
	waitFlight(s)
	if got, _ := s.Token(); got.AccessToken != "at-new" {
		t.Errorf("Token = %s, want the stored, newer token", got.AccessToken)
	}
	if stored, _ := store.Load(ctx); stored.AccessToken != "at-new" {
		t.Errorf("an older given token was saved: the store holds %s", stored.AccessToken)
	}
	if u.calls.Load() != 0 {
		t.Errorf("refreshed %d times with valid tokens", u.calls.Load())
	}
}
