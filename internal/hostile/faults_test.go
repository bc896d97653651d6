package hostile_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/douyin"
	"github.com/oauth2x/oauth2x/douyin/douyintest"
	"github.com/oauth2x/oauth2x/internal/bytedance"
	"github.com/oauth2x/oauth2x/internal/wire"
)

// clock is a settable clock that a token source and a fake share. It is
// safe for concurrent use.
type clock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// errSink collects what a token source reports to Options.OnError, never
// blocking.
type errSink chan error

func (s errSink) report(err error) {
	select {
	case s <- err:
	default:
	}
}

// reported returns the next report already made, or nil.
func (s errSink) reported() error {
	select {
	case err := <-s:
		return err
	default:
		return nil
	}
}

// await returns the next report, made by a background refresh; it gives up
// after a minute so that a missing report fails the test instead of
// hanging it.
func (s errSink) await() error {
	select {
	case err := <-s:
		return err
	case <-time.After(time.Minute):
		return nil
	}
}

// refusedAddr returns a loopback address nobody listens on.
func refusedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// douyinSetup starts a fake Douyin, whose token endpoints go down while
// down is set (connection refused) and whose API stays up, and logs in.
func douyinSetup(t *testing.T, sc *scanner, down *atomic.Bool) (*douyintest.Server, *douyin.Config, context.Context, *oauth2.Token) {
	t.Helper()
	fake := douyintest.NewServer()
	t.Cleanup(fake.Close)
	sc.add(fake.ClientSecret)
	refused := refusedAddr(t)
	base := fake.Client().Transport
	tr := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if down != nil && down.Load() && strings.HasPrefix(r.URL.Path, "/oauth/") {
			r = r.Clone(r.Context())
			r.URL.Host, r.Host = refused, refused
		}
		return base.RoundTrip(r)
	})
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, sc.client(&http.Client{Transport: tr}))
	conf := fake.Config(redirect, "user_info")
	code := fake.IssueCode("user_info")
	sc.add(code)
	tok, err := conf.Exchange(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	return fake, conf, ctx, sc.addToken(tok)
}

// apiCall calls the fake's API through c and returns an error unless it
// accepted the token. It may be called from any goroutine.
func apiCall(c *http.Client, fake *douyintest.Server) error {
	resp, err := c.Get(fake.URL + douyintest.APIPath)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := wire.ReadCapped(resp.Body, wire.MaxBody)
	if err != nil {
		return err
	}
	var a douyintest.APIAnswer
	if err := wire.Unmarshal(b, &a); err != nil {
		return err
	}
	if a.Data.ErrorCode != 0 {
		return errors.New("API refused the token: " + a.Data.Description)
	}
	return nil
}

// TestEndpointDownThenBack takes the token endpoint down (503 from a
// gateway, or nothing listening) and back: callers holding a valid token
// never notice, callers holding an expired one get a temporary error and
// recover on their next call.
func TestEndpointDownThenBack(t *testing.T) {
	for _, mode := range []string{"503", "connection refused"} {
		t.Run(mode, func(t *testing.T) {
			sc := newScanner()
			var down atomic.Bool
			fake, conf, ctx, tok := douyinSetup(t, sc, &down)
			sink := make(errSink, 16)
			opts := &oauth2x.Options{OnError: sink.report}

			valid := oauth2x.NewTokenSource(ctx, conf, tok, opts)
			validClient := conf.Client(ctx, tok)
			soon := *tok
			soon.Expiry = time.Now().Add(30 * time.Second) // inside the early window
			early := oauth2x.NewTokenSource(ctx, conf, &soon, opts)
			old := *tok
			old.Expiry = time.Now().Add(-time.Minute)
			// The expired source's clock moves past the backoff that shares
			// its failure with later callers.
			var skew atomic.Int64
			expired := oauth2x.NewTokenSource(ctx, conf, &old, &oauth2x.Options{OnError: sink.report,
				Now: func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }})

			if mode == "503" {
				for range 2 { // the early window's background refresh, then the expired caller
					fake.RespondNext(douyintest.RefreshTokenPath, http.StatusServiceUnavailable, "<html><body>503 Service Temporarily Unavailable</body></html>")
				}
			} else {
				down.Store(true)
			}

			for i := range 20 {
				got, err := valid.Token()
				if err != nil || got.AccessToken != tok.AccessToken {
					t.Fatalf("valid token, call %d, endpoint down: %v, %v", i, got, err)
				}
				if err := apiCall(validClient, fake); err != nil {
					t.Fatalf("API with a valid token, endpoint down: %v", err)
				}
			}
			got, err := early.Token()
			if err != nil || got.AccessToken != tok.AccessToken {
				t.Fatalf("token inside the early window, endpoint down: %v, %v", got, err)
			}
			bgErr := sink.await() // the background refresh failed, and only OnError heard of it
			if !oauth2x.IsTemporary(bgErr) {
				t.Errorf("background failure not temporary: %v", bgErr)
			}
			sc.check(t, "background refresh", bgErr)

			got, err = expired.Token()
			if got != nil || !oauth2x.IsTemporary(err) || !errors.Is(err, oauth2x.ErrTemporary) {
				t.Fatalf("expired token, endpoint down: %v, %v; want a temporary error", got, err)
			}
			sc.check(t, "expired, endpoint down", err)

			down.Store(false)
			before := fake.Calls(douyintest.RefreshTokenPath)
			if _, err := expired.Token(); !oauth2x.IsTemporary(err) || fake.Calls(douyintest.RefreshTokenPath) != before {
				t.Fatalf("expired token within the backoff: %v; want the shared failure, no refresh", err)
			}
			skew.Store(int64(time.Second)) // the first backoff is at most one second
			got, err = expired.Token()
			if err != nil || got.AccessToken == old.AccessToken {
				t.Fatalf("expired token, endpoint back: %v, %v; want a new token on the next call", got, err)
			}
			if n := fake.Calls(douyintest.RefreshTokenPath) - before; n != 1 {
				t.Errorf("recovery took %d refreshes, want 1", n)
			}
			if err := apiCall(douyin.NewClient(ctx, expired), fake); err != nil {
				t.Errorf("API after recovery: %v", err)
			}
			sc.checkURLs(t)
		})
	}
}

// TestContextHonoured holds every call of every provider at its fake and
// ends the caller's context, by cancellation and by deadline: each call
// returns the context's error, which is not temporary, and no token.
func TestContextHonoured(t *testing.T) {
	for _, p := range providers {
		t.Run(p.name, func(t *testing.T) {
			sc := newScanner()
			base := context.WithValue(context.Background(), oauth2.HTTPClient, sc.client(&http.Client{}))
			h := p.fake(t, sc, base)
			// Each call gets its own signal, so that a request which never
			// reached the fake (its deadline passed while dialling) cannot
			// leave a waiter behind to swallow the next call's signal.
			var mu sync.Mutex
			var entered chan struct{}
			arm := func() chan struct{} {
				mu.Lock()
				defer mu.Unlock()
				entered = make(chan struct{}, 1)
				return entered
			}
			release := make(chan struct{})
			t.Cleanup(func() { close(release) }) // before the fake closes: cleanups run last-in first-out
			h.hook(func(string) {
				mu.Lock()
				ch := entered
				mu.Unlock()
				select {
				case ch <- struct{}{}:
				default:
				}
				<-release
			})
			for _, c := range p.calls(h.kit) {
				held := arm()
				cctx, cancel := context.WithCancel(base)
				go func() { <-held; cancel() }()
				tok, err := c.do(cctx)
				cancel()
				checkFailure(t, sc, p.name, c, tok, err, context.Canceled)
				if !c.bridge && oauth2x.IsTemporary(err) {
					t.Errorf("%s: the caller's cancellation reported as temporary", c.op)
				}

				arm()
				dctx, dcancel := context.WithTimeout(base, 20*time.Millisecond)
				tok, err = c.do(dctx)
				dcancel()
				checkFailure(t, sc, p.name, c, tok, err, context.DeadlineExceeded)
			}
			sc.checkURLs(t)
		})
	}
}

// TestTokenSourceWaitsHonourContext holds a refresh and ends the waits of
// TokenContext, Token (through the source's own context) and an API
// client's request; the held refresh then completes once for all.
func TestTokenSourceWaitsHonourContext(t *testing.T) {
	sc := newScanner()
	fake, conf, ctx, tok := douyinSetup(t, sc, nil)
	entered := make(chan struct{}, 8)
	release := make(chan struct{})
	fake.SetHook(func(path string) {
		if path == douyintest.RefreshTokenPath {
			entered <- struct{}{}
			<-release
		}
	})
	old := *tok
	old.Expiry = time.Now().Add(-time.Minute)
	sctx, cancelSource := context.WithCancel(ctx)
	src := oauth2x.NewTokenSource(sctx, conf, &old, nil)
	var cs wire.ContextSource = src

	wctx, cancel := context.WithCancel(ctx)
	go func() { <-entered; cancel() }()
	if got, err := cs.TokenContext(wctx); got != nil || !errors.Is(err, context.Canceled) {
		t.Errorf("TokenContext, cancelled: %v, %v", got, err)
	}
	dctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if got, err := cs.TokenContext(dctx); got != nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("TokenContext, deadline: %v, %v", got, err)
	}
	rctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(rctx, http.MethodGet, fake.URL+douyintest.APIPath, nil)
	if _, err := bytedance.Client(ctx, src).Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("API request waiting for a refresh, deadline: %v", err)
	}
	cancelSource()
	if got, err := src.Token(); got != nil || !errors.Is(err, context.Canceled) {
		t.Errorf("Token, source's context cancelled: %v, %v", got, err)
	}

	close(release)
	got, err := cs.TokenContext(ctx)
	if err != nil || got.AccessToken == old.AccessToken {
		t.Fatalf("after release: %v, %v", got, err)
	}
	if n := fake.Calls(douyintest.RefreshTokenPath); n != 1 {
		t.Errorf("refreshes = %d, want the one held", n)
	}
	sc.checkURLs(t)
}

// faultyStore is a Store and Locker whose operations fail or block on
// demand. It keeps every token saved. It is safe for concurrent use.
type faultyStore struct {
	mu                 sync.Mutex // guards everything below
	saved              []*oauth2.Token
	failSave, failLoad bool
	failLock           bool
	saveGate, lockGate chan struct{} // when set, Save or Lock waits until it is closed, ignoring ctx
	entered            chan string
	held               chan struct{} // the lock
}

var errStoreDown = errors.New("store down")

func newFaultyStore() *faultyStore {
	return &faultyStore{entered: make(chan string, 64), held: make(chan struct{}, 1)}
}

func (s *faultyStore) set(f func(s *faultyStore)) { s.mu.Lock(); f(s); s.mu.Unlock() }

func (s *faultyStore) Load(context.Context) (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failLoad {
		return nil, errStoreDown
	}
	if len(s.saved) == 0 {
		return nil, nil
	}
	return s.saved[len(s.saved)-1], nil
}

func (s *faultyStore) Save(_ context.Context, t *oauth2.Token) error {
	s.mu.Lock()
	gate, fail := s.saveGate, s.failSave
	s.mu.Unlock()
	if gate != nil {
		s.entered <- "save"
		<-gate
	}
	if fail {
		return errStoreDown
	}
	s.mu.Lock()
	s.saved = append(s.saved, t)
	s.mu.Unlock()
	return nil
}

func (s *faultyStore) Lock(ctx context.Context) (func(), error) {
	s.mu.Lock()
	gate, fail := s.lockGate, s.failLock
	s.mu.Unlock()
	if gate != nil {
		s.entered <- "lock"
		<-gate
	}
	if fail {
		return nil, errStoreDown
	}
	select {
	case s.held <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-s.held }) }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *faultyStore) last() *oauth2.Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.saved) == 0 {
		return nil
	}
	return s.saved[len(s.saved)-1]
}

// TestStoreFailures runs a token source over a store that fails or
// blocks while Douyin rotates refresh tokens (each refresh kills the old
// one): no rotated refresh token is ever lost, so the next refresh always
// works, and no caller waits forever.
func TestStoreFailures(t *testing.T) {
	type env struct {
		fake  *douyintest.Server
		store *faultyStore
		clk   *clock
		src   oauth2.TokenSource
		cs    wire.ContextSource
		sink  errSink
		sc    *scanner
		orig  *oauth2.Token
	}
	setup := func(t *testing.T) *env {
		sc := newScanner()
		fake, conf, ctx, tok := douyinSetup(t, sc, nil)
		fake.SetRotate(true)
		clk := newClock()
		fake.SetNow(clk.now)
		e := &env{fake: fake, store: newFaultyStore(), clk: clk, sink: make(errSink, 64), sc: sc, orig: tok}
		old := *tok
		old.Expiry = clk.now().Add(-time.Minute)
		// A token counts as expired a day after issue, so that several
		// refreshes fit in the refresh token's 30 days, which do not move.
		e.src = oauth2x.NewTokenSource(ctx, conf, &old, &oauth2x.Options{Store: e.store, Now: clk.now, OnError: e.sink.report,
			MinValid: douyintest.AccessTTL - 24*time.Hour})
		e.cs = e.src.(wire.ContextSource)
		return e
	}
	// next expires the current token and checks that the refresh works,
	// which it can only with the latest rotated refresh token.
	next := func(t *testing.T, e *env, prev *oauth2.Token) *oauth2.Token {
		t.Helper()
		e.clk.add(24*time.Hour + time.Minute)
		got, err := e.src.Token()
		if err != nil {
			t.Fatalf("refresh after a store failure: %v (a rotated refresh token was lost?)", err)
		}
		e.sc.addToken(got)
		if got.RefreshToken == prev.RefreshToken {
			t.Errorf("refresh token not rotated")
		}
		return got
	}
	refreshes := func(e *env) int { return e.fake.Calls(douyintest.RefreshTokenPath) }

	t.Run("save fails", func(t *testing.T) {
		e := setup(t)
		e.store.set(func(s *faultyStore) { s.failSave = true })
		got, err := e.src.Token()
		if err != nil {
			t.Fatalf("Save failing made Token fail: %v", err)
		}
		e.sc.addToken(got)
		var se *oauth2x.StoreError
		if err := e.sink.reported(); !errors.As(err, &se) || se.Op != "save" || !errors.Is(err, errStoreDown) {
			t.Errorf("OnError got %v, want the failed save", err)
		}
		got = next(t, e, got) // works only with the rotated refresh token kept in memory
		e.store.set(func(s *faultyStore) { s.failSave = false })
		got = next(t, e, got)
		if last := e.store.last(); last == nil || last.RefreshToken != got.RefreshToken {
			t.Errorf("store holds %v once saving works again, want refresh token %q", last, got.RefreshToken)
		}
		if n := refreshes(e); n != 3 {
			t.Errorf("refreshes = %d, want 3", n)
		}
	})

	t.Run("load fails", func(t *testing.T) {
		e := setup(t)
		e.store.set(func(s *faultyStore) { s.failLoad = true })
		got, err := e.src.Token()
		if err != nil {
			t.Fatalf("Load failing made Token fail: %v", err)
		}
		var se *oauth2x.StoreError
		if err := e.sink.reported(); !errors.As(err, &se) || se.Op != "load" {
			t.Errorf("OnError got %v, want the failed load", err)
		}
		next(t, e, got)
	})

	t.Run("lock fails", func(t *testing.T) {
		e := setup(t)
		e.store.set(func(s *faultyStore) { s.failLock = true })
		got, err := e.src.Token()
		var se *oauth2x.StoreError
		if got != nil || !errors.As(err, &se) || se.Op != "lock" {
			t.Fatalf("Lock failing: %v, %v; want a lock error", got, err)
		}
		e.sc.check(t, "lock fails", err)
		if n := refreshes(e); n != 0 {
			t.Fatalf("refreshed %d times without the lock", n)
		}
		e.store.set(func(s *faultyStore) { s.failLock = false })
		e.clk.add(time.Second) // past the backoff that shares the failure
		got, err = e.src.Token()
		if err != nil {
			t.Fatalf("lock back: %v", err)
		}
		next(t, e, got)
	})

	for _, op := range []string{"save", "lock"} {
		t.Run("slow "+op, func(t *testing.T) {
			e := setup(t)
			gate := make(chan struct{})
			e.store.set(func(s *faultyStore) {
				if op == "save" {
					s.saveGate = gate
				} else {
					s.lockGate = gate
				}
			})
			ctx, cancel := context.WithCancel(context.Background())
			go func() { <-e.store.entered; cancel() }()
			if got, err := e.cs.TokenContext(ctx); got != nil || !errors.Is(err, context.Canceled) {
				t.Fatalf("waiting on a slow %s, cancelled: %v, %v", op, got, err)
			}
			dctx, dcancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer dcancel()
			if got, err := e.cs.TokenContext(dctx); got != nil || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("waiting on a slow %s, deadline: %v, %v", op, got, err)
			}
			e.store.set(func(s *faultyStore) { s.saveGate, s.lockGate = nil, nil })
			close(gate)
			got, err := e.src.Token()
			if err != nil {
				t.Fatalf("%s released: %v", op, err)
			}
			if n := refreshes(e); n != 1 {
				t.Errorf("refreshes = %d, want 1 for all the waiting callers", n)
			}
			if last := e.store.last(); last == nil || last.RefreshToken != got.RefreshToken {
				t.Errorf("store holds %v, want the rotated refresh token %q", last, got.RefreshToken)
			}
			next(t, e, got)
		})
	}
}
