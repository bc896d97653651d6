package oauth2x

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// faultStore is a Store and Locker (a MemoryStore underneath) that counts
// its calls and fails or hangs on demand. It is safe for concurrent use.
type faultStore struct {
	mu                  sync.Mutex
	m                   *MemoryStore // replaced by restart
	loads, saves, locks atomic.Int32
	failSaves           atomic.Int32 // the next n saves fail; negative: all do
	failLocks           atomic.Int32 // the next n locks fail; negative: all do
	failLoads           atomic.Bool
	hangLock            chan struct{} // when set, Lock waits for it, ignoring ctx
}

var errDiskFull = errors.New("disk full")

func newFaultStore() *faultStore { return &faultStore{m: NewMemoryStore()} }

func (f *faultStore) mem() *MemoryStore { f.mu.Lock(); defer f.mu.Unlock(); return f.m }

// restart loses everything, the lock included, as a Redis without
// persistence does when it restarts.
func (f *faultStore) restart() { f.mu.Lock(); f.m = NewMemoryStore(); f.mu.Unlock() }

// fails reports whether the next call counted by n fails.
func fails(n *atomic.Int32) bool {
	for {
		v := n.Load()
		if v == 0 {
			return false
		}
		if v < 0 || n.CompareAndSwap(v, v-1) {
			return true
		}
	}
}

func (f *faultStore) Load(ctx context.Context) (*oauth2.Token, error) {
	f.loads.Add(1)
	if f.failLoads.Load() {
		return nil, errDiskFull
	}
	return f.mem().Load(ctx)
}

func (f *faultStore) Save(ctx context.Context, t *oauth2.Token) error {
	f.saves.Add(1)
	if fails(&f.failSaves) {
		return errDiskFull
	}
	return f.mem().Save(ctx, t)
}

func (f *faultStore) Lock(ctx context.Context) (func(), error) {
	f.locks.Add(1)
	if f.hangLock != nil {
		<-f.hangLock
	}
	if fails(&f.failLocks) {
		return nil, errors.New("lock service down")
	}
	return f.mem().Lock(ctx)
}

// storeCalls is loads+saves+locks.
func (f *faultStore) calls() int32 { return f.loads.Load() + f.saves.Load() + f.locks.Load() }

// grant is a provider's grant whose refresh token rotates on every refresh
// and dies when used: a refresh with any but the live refresh token is a
// stale refresh, counted, and refused as a dead grant.
type grant struct {
	clock *clock
	mu    sync.Mutex
	live  string
	n     int
	stale int
	err   error // returned (after counting) while set
}

func (g *grant) Refresh(_ context.Context, t *oauth2.Token) (*oauth2.Token, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.err != nil {
		return nil, g.err
	}
	if t == nil || t.RefreshToken != g.live {
		g.stale++
		return nil, &Error{Provider: "test", Op: "refresh", Kind: ErrInvalidGrant}
	}
	g.n++
	g.live = "rt-" + string(rune('a'+g.n%26)) + time.Duration(g.n).String()
	return &oauth2.Token{AccessToken: "at-" + g.live, RefreshToken: g.live, Expiry: g.clock.Now().Add(time.Hour), ExpiresIn: 3600}, nil
}

func (g *grant) counts() (refreshes, stale int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.n, g.stale
}

// TestFaults is the fault table of the token source: one row per fault,
// each asserting a count that the fault used to blow up, and logging it as
// a FAULT line (the README's table is made from them).
func TestFaults(t *testing.T) {
	rows := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"store recovers after one failed save: reads served from memory", faultSaveOnceThenReads},
		{"save fails forever: saves back off", faultSaveForever},
		{"store lock down: a valid token is served, an expired one gets a temporary error", faultLockDown},
		{"store down at start: the given token is served, then saved once the store is back", faultStoreDownAtStart},
		{"refresher ignores its context: RefreshTimeout bounds the wait", faultRefresherHangs},
		{"lock holder stuck: another source on the FileStore gets in after the timeout", faultStuckFileStoreHolder},
		{"store lock hangs, ignoring its context", faultLockHangs},
		{"provider down, token expired: upstream calls back off", faultProviderDown},
		{"dead grant with a store: no lock per call", faultDeadGrantWithStore},
		{"save fails after a rotating refresh: no stale refresh by another source", faultStaleAfterFailedSave},
		{"store restarts empty mid-refresh: no stale refresh by another source", faultStoreRestartsEmpty},
		{"save fails, then no reads: the retry comes anyway and lets the lock go", faultHeldLockRetriedWithoutReads},
		{"save outlives RefreshTimeout after a rotating refresh, then lands: no stale refresh here or elsewhere", faultSaveOutlivesTimeout(false)},
		{"save outlives RefreshTimeout after a rotating refresh, then fails: the lock is kept, no stale refresh", faultSaveOutlivesTimeout(true)},
		{"store's first Load hangs: a valid given token is served at once, then saved", faultFirstLoadHangs},
		{"save finds the lock lost, MaxResident 1: the unsaved key stays in memory", faultTokensKeepUnsavedKey},
	}
	for _, r := range rows {
		t.Run(r.name, r.run)
	}
}

func faultSaveOnceThenReads(t *testing.T) {
	c := newClock()
	store := newFaultStore()
	store.failSaves.Store(1)
	s := NewTokenSource(context.Background(), newUpstream(c), expiredToken(c), &Options{Store: store, Now: c.Now, OnError: func(error) {}})
	if _, err := s.Token(); err != nil {
		t.Fatal(err)
	}
	c.Add(time.Second) // the save's retry is due: it succeeds
	s.Token()
	waitFlight(s)
	if store.saves.Load() != 2 {
		t.Fatalf("saves = %d, want the failed one and its retry", store.saves.Load())
	}
	before := store.calls()
	const reads = 200
	for range reads {
		if _, err := s.Token(); err != nil {
			t.Fatal(err)
		}
		waitFlight(s)
	}
	n := store.calls() - before
	t.Logf("FAULT 1 save-failed-once: %d store calls for %d reads after recovery", n, reads)
	if n != 0 {
		t.Errorf("store calls for %d reads of a valid token after the store recovered = %d, want 0", reads, n)
	}
}

func faultSaveForever(t *testing.T) {
	c := newClock()
	store := newFaultStore()
	store.failSaves.Store(-1)
	var reports atomic.Int32
	s := NewTokenSource(context.Background(), newUpstream(c), expiredToken(c), &Options{Store: store, Now: c.Now, OnError: func(error) { reports.Add(1) }})
	readFiveMinutes(t, s, c, "")
	n := store.saves.Load()
	t.Logf("FAULT 2 save-fails-forever: %d save attempts and %d reports in 5 virtual minutes", n, reports.Load())
	wantBackoffTries(t, "save", n, reports.Load())
}

// readFiveMinutes reads s once a virtual second for five virtual minutes,
// waiting for the flight each read starts; every read must succeed, and
// give the access token want unless it is empty.
func readFiveMinutes(t *testing.T, s *TokenSource, c *clock, want string) {
	t.Helper()
	for range 5 * 60 {
		got, err := s.Token()
		if err != nil || want != "" && got.AccessToken != want {
			t.Fatalf("Token = %v, %v; want %q", got, err, want)
		}
		waitFlight(s)
		c.Add(time.Second)
	}
}

// wantBackoffTries checks the tries of an operation failing throughout
// readFiveMinutes: 1+1+2+4+…+128 s (less jitter) is nine tries in five
// minutes, each reported once.
func wantBackoffTries(t *testing.T, op string, tries, reports int32) {
	t.Helper()
	if tries < 2 || tries > 10 {
		t.Errorf("%s attempts in 5 minutes = %d, want about 9 (doubling from 1s)", op, tries)
	}
	if reports != tries {
		t.Errorf("reports = %d, want one per failed %s (%d)", reports, op, tries)
	}
}

func faultLockDown(t *testing.T) {
	c := newClock()
	store := newFaultStore()
	store.failLocks.Store(-1)
	store.failLoads.Store(true)
	valid := &oauth2.Token{AccessToken: "at-valid", RefreshToken: "rt-0", Expiry: c.Now().Add(time.Hour)}
	u := newUpstream(c)
	s := NewTokenSource(context.Background(), u, valid, &Options{Store: store, Now: c.Now, OnError: func(error) {}})
	served := 0
	for range 100 {
		if got, err := s.Token(); err == nil && got.AccessToken == "at-valid" {
			served++
		}
	}
	t.Logf("FAULT 3 store-down: valid token served %d of 100 calls, %d store calls", served, store.calls())
	if served != 100 {
		t.Errorf("valid token served %d of 100 times with the store down", served)
	}
	if n := store.calls(); n > 2 {
		t.Errorf("store calls = %d for a valid token, want the first load at most", n)
	}
	x := NewTokenSource(context.Background(), u, expiredToken(c), &Options{Store: store, Now: c.Now, OnError: func(error) {}})
	if _, err := x.Token(); !IsTemporary(err) {
		t.Errorf("expired token, lock down: %v, want a temporary error", err)
	}
	if u.calls.Load() != 0 {
		t.Error("refreshed without the lock")
	}
}

// faultStoreDownAtStart: the store cannot be read when the source starts.
// The given valid token is served at once, nothing is saved without
// reading the store first, reading it is retried with backoff (on reads,
// about nine tries in five virtual minutes), and once the store answers
// the token is saved and reads cost no store call. A second source
// with no token gets a temporary error and never calls the refresher.
func faultStoreDownAtStart(t *testing.T) {
	c := newClock()
	ctx := context.Background()
	store := newFaultStore()
	store.failLoads.Store(true)
	var reports atomic.Int32
	u := newUpstream(c)
	given := &oauth2.Token{AccessToken: "at-login", RefreshToken: "rt-login", Expiry: c.Now().Add(time.Hour), ExpiresIn: 3600}
	s := NewTokenSource(ctx, u, given, &Options{Store: store, Now: c.Now, OnError: func(error) { reports.Add(1) }})
	readFiveMinutes(t, s, c, "at-login")
	loads := store.loads.Load()
	wantBackoffTries(t, "load", loads, reports.Load())
	blind := store.saves.Load()
	if blind != 0 {
		t.Errorf("saved %d times without reading the store", blind)
	}

	other := RefresherFunc(func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
		t.Error("a source with no token called the refresher while the store was down")
		return nil, errors.New("no")
	})
	if _, err := NewTokenSource(ctx, other, nil, &Options{Store: store, Now: c.Now, OnError: func(error) {}}).Token(); !IsTemporary(err) || errors.Is(err, ErrInvalidGrant) {
		t.Errorf("no token, store down: %v; want a temporary error, not a dead grant", err)
	}

	store.failLoads.Store(false)
	c.Add(5 * time.Minute) // past the longest backoff
	s.Token()
	waitFlight(s)
	if stored, _ := store.mem().Load(ctx); stored == nil || stored.RefreshToken != "rt-login" {
		t.Fatalf("after the store came back it holds %v; want the given token", stored)
	}
	before := store.calls()
	for range 100 {
		s.Token()
		waitFlight(s)
	}
	n := store.calls() - before
	t.Logf("FAULT 3 store-down-at-start: given token served 300 of 300 reads, %d load attempts and %d saves in 5 virtual minutes; saved when the store came back (%d save), then %d store calls for 100 reads", loads, blind, store.saves.Load(), n)
	if n != 0 {
		t.Errorf("store calls for 100 reads after the token was saved = %d, want 0", n)
	}
	if u.calls.Load() != 0 {
		t.Errorf("refreshed %d times with a valid token", u.calls.Load())
	}
}

// hung is a refresher whose first call never returns (it ignores its
// context) and whose later calls work.
type hung struct {
	up      *upstream
	calls   atomic.Int32
	entered chan struct{}
	release chan struct{}
}

func (h *hung) Refresh(ctx context.Context, t *oauth2.Token) (*oauth2.Token, error) {
	if h.calls.Add(1) == 1 {
		close(h.entered)
		<-h.release
	}
	return h.up.Refresh(ctx, t)
}

func faultRefresherHangs(t *testing.T) {
	c := newClock()
	h := &hung{up: newUpstream(c), entered: make(chan struct{}), release: make(chan struct{})}
	defer close(h.release)
	s := NewTokenSource(context.Background(), h, expiredToken(c), &Options{Now: c.Now, RefreshTimeout: 50 * time.Millisecond, OnError: func(error) {}})
	_, err := s.Token() // a regression hangs here: the test's own timeout catches it
	if !IsTemporary(err) {
		t.Fatalf("Token with a refresher ignoring its context = %v, want a temporary error", err)
	}
	got, err := s.Token()
	if err != nil {
		t.Fatalf("the next call, which starts a fresh flight = %v", err)
	}
	t.Logf("FAULT 4 refresher-hangs: wait ended with %q; next call started flight %d and got %s", "temporary", h.calls.Load(), got.AccessToken)
	if n := h.calls.Load(); n != 2 {
		t.Errorf("refresher calls = %d, want the hung one and a fresh one", n)
	}
}

func faultStuckFileStoreHolder(t *testing.T) {
	c := newClock()
	path := filepath.Join(t.TempDir(), "token.json")
	if err := NewFileStore(path).Save(context.Background(), expiredToken(c)); err != nil {
		t.Fatal(err)
	}
	h := &hung{up: newUpstream(c), entered: make(chan struct{}), release: make(chan struct{})}
	defer close(h.release)
	a := NewTokenSource(context.Background(), h, nil, &Options{Store: NewFileStore(path), Now: c.Now, RefreshTimeout: 50 * time.Millisecond, OnError: func(error) {}})
	if _, err := a.Token(); !IsTemporary(err) {
		t.Fatalf("stuck holder: %v, want a temporary error", err)
	}
	u := newUpstream(c)
	b := NewTokenSource(context.Background(), u, nil, &Options{Store: NewFileStore(path), Now: c.Now, RefreshTimeout: time.Minute, OnError: func(error) {}})
	got, err := b.Token()
	if err != nil {
		t.Fatalf("second source on the FileStore while the first is stuck: %v", err)
	}
	t.Logf("FAULT 4 stuck-filestore-holder: second source got %s after the first's timeout", got.AccessToken)
}

func faultLockHangs(t *testing.T) {
	c := newClock()
	store := newFaultStore()
	store.hangLock = make(chan struct{})
	defer close(store.hangLock)
	s := NewTokenSource(context.Background(), newUpstream(c), expiredToken(c), &Options{Store: store, Now: c.Now, RefreshTimeout: 50 * time.Millisecond, OnError: func(error) {}})
	if _, err := s.Token(); !IsTemporary(err) {
		t.Fatalf("Token with a Lock that hangs = %v, want a temporary error", err)
	}
}

func faultProviderDown(t *testing.T) {
	c := newClock()
	u := newUpstream(c)
	u.err = &Error{Provider: "test", Op: "refresh", Kind: ErrTemporary}
	s := NewTokenSource(context.Background(), u, expiredToken(c), &Options{Now: c.Now, OnError: func(error) {}})
	const goroutines, rounds, step = 100, 300, 100 * time.Millisecond // 30 virtual seconds
	calls := 0
	for range rounds {
		_, errs := callers(s, goroutines)
		for _, err := range errs {
			if !IsTemporary(err) {
				t.Fatalf("provider down: %v", err)
			}
		}
		calls += goroutines
		c.Add(step)
	}
	n := u.calls.Load()
	t.Logf("FAULT 5 provider-down: %d upstream refreshes for %d calls from %d goroutines in 30 virtual seconds", n, calls, goroutines)
	// Backoff 1+2+4+8+16 s (less jitter) fits at most 7 tries in 30 s.
	if n > 8 {
		t.Errorf("upstream refreshes in 30 s with the provider down = %d, want at most 8", n)
	}
}

func faultDeadGrantWithStore(t *testing.T) {
	c := newClock()
	u := newUpstream(c)
	u.err = &Error{Provider: "test", Op: "refresh", Kind: ErrInvalidGrant}
	store := newFaultStore()
	store.mem().Save(context.Background(), expiredToken(c))
	s := NewTokenSource(context.Background(), u, nil, &Options{Store: store, Now: c.Now, OnError: func(error) {}})
	const n = 1000
	for range n {
		if _, err := s.Token(); !errors.Is(err, ErrInvalidGrant) {
			t.Fatalf("Token = %v, want the dead grant", err)
		}
	}
	t.Logf("FAULT 6 dead-grant: %d calls -> %d locks, %d loads, %d refreshes", n, store.locks.Load(), store.loads.Load(), u.calls.Load())
	if store.locks.Load() > 1 || store.loads.Load() > 3 {
		t.Errorf("dead grant: %d locks and %d loads for %d calls, want one refresh's worth", store.locks.Load(), store.loads.Load(), n)
	}
}

func faultStaleAfterFailedSave(t *testing.T) {
	c := newClock()
	g := &grant{clock: c, live: "rt-0"}
	store := newFaultStore()
	store.mem().Save(context.Background(), expiredToken(c))
	o := &Options{Store: store, Now: c.Now, RefreshTimeout: 50 * time.Millisecond, OnError: func(error) {}}
	a := NewTokenSource(context.Background(), g, nil, o)
	b := NewTokenSource(context.Background(), g, nil, o)
	store.failSaves.Store(-1) // the disk is full
	if _, err := a.Token(); err != nil {
		t.Fatalf("a: %v", err)
	}
	for range 20 { // b keeps trying while a cannot save
		if _, err := b.Token(); err == nil {
			t.Fatal("b got a token while the only live refresh token is unsaved in a")
		}
		c.Add(100 * time.Millisecond)
	}
	store.failSaves.Store(0) // space again: a's retry saves and lets go
	c.Add(5 * time.Minute)
	a.Token()
	waitFlight(a)
	got, err := b.Token()
	if err != nil {
		t.Fatalf("b after a saved: %v", err)
	}
	refreshes, stale := g.counts()
	t.Logf("FAULT 7 stale-after-failed-save: %d stale refreshes, %d refreshes; b serves %s", stale, refreshes, got.RefreshToken)
	if stale != 0 {
		t.Errorf("stale refreshes = %d, want 0", stale)
	}
	if got.RefreshToken != g.live {
		t.Errorf("b holds %s, want the live %s", got.RefreshToken, g.live)
	}
}

func faultStoreRestartsEmpty(t *testing.T) {
	c := newClock()
	g := &grant{clock: c, live: "rt-0"}
	store := newFaultStore()
	store.mem().Save(context.Background(), &oauth2.Token{AccessToken: "at-0", RefreshToken: "rt-0", Expiry: c.Now().Add(time.Hour)})
	o := &Options{Store: store, Now: c.Now, RefreshTimeout: 50 * time.Millisecond, OnError: func(error) {}}
	a := NewTokenSource(context.Background(), g, nil, o)
	b := NewTokenSource(context.Background(), g, nil, o)
	for _, s := range []*TokenSource{a, b} {
		if _, err := s.Token(); err != nil { // each reads the store once
			t.Fatal(err)
		}
	}
	c.Add(time.Hour)         // expired
	store.failSaves.Store(1) // a's save fails: the store is going down
	if _, err := a.Token(); err != nil {
		t.Fatalf("a: %v", err)
	}
	store.restart() // back, empty, the lock gone
	for range 20 {  // b tries while only a holds the live refresh token
		if got, err := b.Token(); err == nil {
			t.Fatalf("b got %v while the store was empty and a held the live refresh token", got)
		}
		c.Add(100 * time.Millisecond)
	}
	c.Add(2 * time.Second) // a's save retry is due
	a.Token()
	waitFlight(a)
	c.Add(5 * time.Second)
	got, err := b.Token()
	if err != nil {
		t.Fatalf("b after a saved again: %v", err)
	}
	refreshes, stale := g.counts()
	t.Logf("FAULT 7 store-restarts-empty: %d stale refreshes, %d refreshes; b serves %s", stale, refreshes, got.RefreshToken)
	if stale != 0 || refreshes != 1 {
		t.Errorf("stale refreshes = %d and refreshes = %d, want 0 and 1", stale, refreshes)
	}
}

// savedSignal is a faultStore that tells of every save attempt.
type savedSignal struct {
	*faultStore
	tried chan error
}

func (s savedSignal) Save(ctx context.Context, t *oauth2.Token) error {
	err := s.faultStore.Save(ctx, t)
	s.tried <- err
	return err
}

func faultHeldLockRetriedWithoutReads(t *testing.T) {
	store := savedSignal{newFaultStore(), make(chan error, 8)}
	store.failSaves.Store(1)
	old := &oauth2.Token{AccessToken: "at-0", RefreshToken: "rt-0", Expiry: time.Now().Add(-time.Minute)}
	s := NewTokenSource(context.Background(), newUpstream(&clock{t: time.Now()}), old, &Options{Store: store, MaxBackoff: 20 * time.Millisecond, OnError: func(error) {}})
	if _, err := s.Token(); err != nil {
		t.Fatal(err)
	}
	guard := time.After(time.Minute) // a guard against a hang, not a timing
	for _, want := range []bool{false, true} {
		select {
		case err := <-store.tried:
			if (err == nil) != want {
				t.Fatalf("save attempt: %v", err)
			}
		case <-guard:
			t.Fatal("the save was not retried without reads: the lock stays held")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	unlock, err := store.Lock(ctx)
	if err != nil {
		t.Fatalf("lock after the retried save: %v", err)
	}
	unlock()
	t.Logf("FAULT 7 held-lock-no-reads: save retried with no reads, lock released")
}

// hangingSave is a faultStore whose Save, once armed, waits for release
// ignoring its context, and tells when it has entered and when it is done.
type hangingSave struct {
	*faultStore
	honour  bool // the late Save fails with its context's error instead of landing
	armed   atomic.Bool
	entered chan struct{}
	release chan struct{}
	done    chan struct{}
}

func (h *hangingSave) Save(ctx context.Context, t *oauth2.Token) error {
	if h.armed.CompareAndSwap(true, false) {
		close(h.entered)
		<-h.release
		defer close(h.done)
		if h.honour {
			return ctx.Err()
		}
		ctx = context.Background() // the write lands late, as over a slow network
	}
	return h.faultStore.Save(ctx, t)
}

// faultSaveOutlivesTimeout: the save after a rotating refresh hangs past
// RefreshTimeout. The new token is kept for the next flight of its source,
// which saves it instead of refreshing from the old stored token, and the
// store's lock is held while the save runs, so that another source does
// not refresh from it either. When the late save fails, the lock is kept
// until a retry saves the token.
func faultSaveOutlivesTimeout(honour bool) func(t *testing.T) {
	return func(t *testing.T) { saveOutlivesTimeout(t, honour) }
}

func saveOutlivesTimeout(t *testing.T, honour bool) {
	c := newClock()
	g := &grant{clock: c, live: "rt-0"}
	store := &hangingSave{faultStore: newFaultStore(), honour: honour, entered: make(chan struct{}), release: make(chan struct{}), done: make(chan struct{})}
	store.mem().Save(context.Background(), expiredToken(c))
	o := &Options{Store: store, Now: c.Now, RefreshTimeout: 50 * time.Millisecond, OnError: func(error) {}}
	a := NewTokenSource(context.Background(), g, nil, o)
	b := NewTokenSource(context.Background(), g, nil, o)
	store.armed.Store(true)
	served := 0
	check := func(name string, got *oauth2.Token, err error) {
		t.Helper()
		switch {
		case err == nil && got.RefreshToken == g.live:
			served++
		case err == nil || !IsTemporary(err):
			t.Errorf("%s while the save hangs: %v, %v; want the new token or a temporary error", name, got, err)
		}
	}
	got, err := a.Token() // refreshes; the save hangs and the flight is abandoned
	check("a", got, err)
	got, err = a.Token() // the next flight of a
	check("a again", got, err)
	select {
	case <-store.entered:
	case <-time.After(time.Minute): // a guard against a hang, not a timing
		t.Fatal("the save never started")
	}
	got, err = b.Token() // another source, sharing the store
	check("b", got, err)
	close(store.release)
	<-store.done
	if honour {
		got, err = b.Token() // a holds the lock until its retry saves
		check("b after the late save failed", got, err)
		c.Add(5 * time.Minute)
		a.Token() // the retry is due: it saves and lets the lock go
		waitFlight(a)
	}
	c.Add(5 * time.Minute)
	for name, s := range map[string]*TokenSource{"a": a, "b": b} {
		if got, err := s.Token(); err != nil || got.RefreshToken != g.live {
			t.Errorf("%s after the save landed: %v, %v; want the live %s", name, got, err, g.live)
		}
	}
	refreshes, stale := g.counts()
	t.Logf("FAULT 7 save-outlives-timeout (late save fails: %v): %d stale refreshes, %d refreshes; the new token served to %d of 3 calls while its save hung (the others: temporary)", honour, stale, refreshes, served)
	if stale != 0 || refreshes != 1 {
		t.Errorf("stale refreshes = %d and refreshes = %d, want 0 and 1", stale, refreshes)
	}
}

// lockLostOnce is a keyed store (with its locks) whose next Save fails
// with ErrLockLost while lost is set.
type lockLostOnce struct {
	*keyedMemoryStore
	lost atomic.Int32
}

func (l *lockLostOnce) Save(ctx context.Context, key string, t *oauth2.Token) error {
	if fails(&l.lost) {
		return fmt.Errorf("lease expired: %w", ErrLockLost)
	}
	return l.keyedMemoryStore.Save(ctx, key, t)
}

// faultTokensKeepUnsavedKey: a key's rotated token whose save failed
// (ErrLockLost: no lock is kept, no retry timer set) stays in memory
// however many other keys are read, until a retry saves it; evicted, it
// was lost and the next request refreshed from the used-up stored token.
func faultTokensKeepUnsavedKey(t *testing.T) {
	c := newClock()
	ctx := context.Background()
	g := &grant{clock: c, live: "rt-0"}
	store := &lockLostOnce{keyedMemoryStore: NewKeyedMemoryStore().(*keyedMemoryStore)}
	m := NewTokens(g, store, &Options{Now: c.Now, MaxResident: 1, OnError: func(error) {}})
	if err := m.Put(ctx, "a", expiredToken(c)); err != nil {
		t.Fatal(err)
	}
	if err := m.Put(ctx, "b", &oauth2.Token{AccessToken: "at-b", RefreshToken: "rt-b", Expiry: c.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	store.lost.Store(1)
	if _, err := m.Token(ctx, "a"); err != nil { // refreshed; the save fails
		t.Fatalf("a: %v", err)
	}
	for range 3 { // b comes in: at MaxResident 1 an idle key leaves
		if _, err := m.Token(ctx, "b"); err != nil {
			t.Fatalf("b: %v", err)
		}
	}
	resident := m.Resident()
	c.Add(5 * time.Minute) // past the save's backoff
	got, err := m.Token(ctx, "a")
	m.mu.RLock()
	e := m.resident["a"]
	m.mu.RUnlock()
	if e != nil {
		waitFlight(&e.src) // the save's retry
	}
	refreshes, stale := g.counts()
	stored, _ := store.Load(ctx, "a")
	t.Logf("FAULT 7 unsaved-key-evicted: %d stale refreshes, %d refreshes; %d keys resident at MaxResident 1", stale, refreshes, resident)
	if stale != 0 || refreshes != 1 {
		t.Errorf("stale refreshes = %d and refreshes = %d, want 0 and 1", stale, refreshes)
	}
	if err != nil || got.RefreshToken != g.live || stored == nil || stored.RefreshToken != g.live {
		t.Errorf("a after b came in: %v, %v, stored %v; want the live %s served and saved", got, err, stored, g.live)
	}
}

// hangingLoad is a faultStore whose Loads wait for release, ignoring
// their context (a blackholed Redis).
type hangingLoad struct {
	*faultStore
	release chan struct{}
}

func (h hangingLoad) Load(ctx context.Context) (*oauth2.Token, error) {
	<-h.release
	return h.faultStore.Load(ctx)
}

// faultFirstLoadHangs: the store hangs at the first call. A valid given
// token is served at once, not after RefreshTimeout (an hour here); the
// store is read in the background, and the token saved once it answers.
func faultFirstLoadHangs(t *testing.T) {
	c := newClock()
	store := hangingLoad{newFaultStore(), make(chan struct{})}
	u := newUpstream(c)
	given := &oauth2.Token{AccessToken: "at-login", RefreshToken: "rt-login", Expiry: c.Now().Add(time.Hour), ExpiresIn: 3600}
	s := NewTokenSource(context.Background(), u, given, &Options{Store: store, Now: c.Now, RefreshTimeout: time.Hour, OnError: func(error) {}})
	const calls = 100
	answered := make(chan int, 1)
	go func() {
		n := 0
		for range calls {
			if got, err := s.Token(); err == nil && got.AccessToken == "at-login" {
				n++
			}
		}
		answered <- n
	}()
	served := 0
	select {
	case served = <-answered:
	case <-time.After(10 * time.Second): // a guard against a hang, not a timing
	}
	close(store.release)
	waitFlight(s)
	stored, _ := store.mem().Load(context.Background())
	t.Logf("FAULT 3 first-load-hangs: given token served to %d of %d calls while the store's first Load hung; %d save once it answered", served, calls, store.saves.Load())
	if served != calls {
		t.Errorf("calls served the valid given token while the first Load hung = %d, want %d", served, calls)
	}
	if stored == nil || stored.RefreshToken != "rt-login" || u.calls.Load() != 0 {
		t.Errorf("after the store answered it holds %v, %d refreshes; want the given token, none", stored, u.calls.Load())
	}
}
