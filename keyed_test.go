package oauth2x

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x/internal/oauthtest"
)

// keyOf returns the key of a token the Rotating fake issued.
func keyOf(t *oauth2.Token) string {
	rest := strings.TrimPrefix(t.RefreshToken, "rt.")
	return rest[:strings.LastIndexByte(rest, '.')]
}

// quiet are options that keep background failures out of the test log.
func quiet() *Options { return &Options{OnError: func(error) {}} }

// putExpired grants every key an expired token in m.
func putExpired(t testing.TB, m *Tokens, rot *oauthtest.Rotating, keys []string) {
	t.Helper()
	for _, k := range keys {
		if err := m.Put(context.Background(), k, rot.Grant(k, time.Now().Add(-time.Minute))); err != nil {
			t.Fatal(err)
		}
	}
}

func keyNames(prefix string, n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return keys
}

// TestTokensOneRefreshPerKey: many keys, all expired, each asked for by 8
// callers at once whose refresh is held until all 8 have started: exactly
// one refresh per key, and every caller gets its key's new token.
func TestTokensOneRefreshPerKey(t *testing.T) {
	const callers = 8
	nkeys, batch := 10000, 1000
	if raceEnabled {
		batch = 500 // the race detector allows 8128 goroutines
	}
	rot := oauthtest.NewRotating()
	keys := keyNames("user-", nkeys)
	gates := make(map[string]*oauthtest.Gate, nkeys)
	for _, k := range keys {
		gates[k] = oauthtest.NewGate(k, callers)
	}
	r := RefresherFunc(func(ctx context.Context, t *oauth2.Token) (*oauth2.Token, error) {
		k := keyOf(t)
		gates[k].Hook(k)
		return rot.Refresh(ctx, t)
	})
	m := NewTokens(r, NewKeyedMemoryStore(), &Options{MaxResident: nkeys, OnError: func(error) {}})
	putExpired(t, m, rot, keys)
	var bad atomic.Int32
	for lo := 0; lo < nkeys; lo += batch {
		var wg sync.WaitGroup
		for _, k := range keys[lo:min(lo+batch, nkeys)] {
			for range callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					gates[k].Started()
					tok, err := m.Token(context.Background(), k)
					if err != nil || tok.AccessToken != "at."+k+".1" {
						if bad.Add(1) < 5 {
							t.Errorf("%s: got %v, %v", k, tok, err)
						}
					}
				}()
			}
		}
		wg.Wait()
	}
	for _, k := range keys {
		if n := rot.Refreshes(k); n != 1 {
			t.Fatalf("%s refreshed %d times by %d callers, want 1", k, n, callers)
		}
	}
	if rot.Reused() != 0 {
		t.Errorf("%d refreshes with a dead refresh token", rot.Reused())
	}
}

// TestTokensNoToken: a key never put, or deleted, is ErrNoToken, and is not
// kept in memory.
func TestTokensNoToken(t *testing.T) {
	rot := oauthtest.NewRotating()
	store := NewKeyedMemoryStore()
	m := NewTokens(RefresherFunc(rot.Refresh), store, quiet())
	ctx := context.Background()
	if tok, err := m.Token(ctx, "nobody"); !errors.Is(err, ErrNoToken) || tok != nil {
		t.Fatalf("absent key: %v, %v; want ErrNoToken", tok, err)
	}
	if _, err := m.TokenSource(ctx, "nobody").Token(); !errors.Is(err, ErrNoToken) {
		t.Fatalf("absent key through TokenSource: %v", err)
	}
	if n := m.Resident(); n != 0 {
		t.Errorf("absent key kept in memory: %d resident", n)
	}
	if err := m.Put(ctx, "alice", rot.Grant("alice", time.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if tok, err := m.Token(ctx, "alice"); err != nil || tok.AccessToken != "at.alice.0" {
		t.Fatalf("alice: %v, %v", tok, err)
	}
	if err := m.Delete(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Token(ctx, "alice"); !errors.Is(err, ErrNoToken) {
		t.Fatalf("after Delete: %v, want ErrNoToken", err)
	}
	if stored, _ := store.Load(ctx, "alice"); stored != nil {
		t.Errorf("Delete left %v in the store", stored)
	}
	if err := m.Delete(ctx, "alice"); err != nil {
		t.Errorf("second Delete: %v", err)
	}
	if err := m.Put(ctx, "empty", &oauth2.Token{}); err == nil {
		t.Error("Put of an empty token succeeded")
	}
}

// deletedElsewhere sets the scene of the deleted-elsewhere tests: b holds
// alice's token (valid for an hour), which another process then deletes.
func deletedElsewhere(t *testing.T) (*clock, *oauthtest.Rotating, KeyedStore, *Tokens) {
	t.Helper()
	c := newClock()
	rot := oauthtest.NewRotating()
	store := NewKeyedMemoryStore()
	ctx := context.Background()
	a := NewTokens(RefresherFunc(rot.Refresh), store, opts(c))
	b := NewTokens(RefresherFunc(rot.Refresh), store, opts(c))
	if err := a.Put(ctx, "alice", rot.Grant("alice", c.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Token(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := a.Delete(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	return c, rot, store, b
}

// TestTokensDeletedElsewhere: another process deletes a key (logout) while
// this one holds its token: at expiry this one does not refresh it (which
// would bring the logged-out user back) but answers ErrNoToken.
func TestTokensDeletedElsewhere(t *testing.T) {
	c, rot, store, b := deletedElsewhere(t)
	ctx := context.Background()
	c.Add(2 * time.Hour) // b's copy expires
	// Across ten virtual minutes, past MaxBackoff:
	for range 20 {
		if _, err := b.Token(ctx, "alice"); !errors.Is(err, ErrNoToken) {
			t.Fatalf("deleted elsewhere, at expiry: %v, want ErrNoToken", err)
		}
		c.Add(30 * time.Second)
	}
	if n := rot.Refreshes("alice"); n != 0 {
		t.Errorf("a deleted key was refreshed %d times", n)
	}
	if stored, _ := store.Load(ctx, "alice"); stored != nil {
		t.Errorf("a deleted key came back: %v", stored)
	}
	if n := b.Resident(); n != 0 {
		t.Errorf("a deleted key stayed in memory: %d resident", n)
	}
}

// TestTokensDeletedElsewhereNoticedEarly: the background refresh of a key's
// token in its early window finds the key deleted in another process: the
// token is not refreshed and no longer served, though it has not expired.
func TestTokensDeletedElsewhereNoticedEarly(t *testing.T) {
	c, rot, store, b := deletedElsewhere(t)
	ctx := context.Background()
	c.Add(time.Hour - 30*time.Second) // inside the early window, still valid
	if _, err := b.Token(ctx, "alice"); err != nil {
		t.Fatalf("valid token, before the store is read: %v", err)
	}
	b.mu.RLock()
	e := b.resident["alice"]
	b.mu.RUnlock()
	waitFlight(&e.src) // the background refresh, which finds the key gone
	if tok, err := b.Token(ctx, "alice"); !errors.Is(err, ErrNoToken) {
		t.Fatalf("after the background look found the key deleted: %v, %v; want ErrNoToken", tok, err)
	}
	if n := rot.Refreshes("alice"); n != 0 {
		t.Errorf("a deleted key was refreshed %d times", n)
	}
	if stored, _ := store.Load(ctx, "alice"); stored != nil {
		t.Errorf("a deleted key came back: %v", stored)
	}
}

// TestTokensDeadGrantIsolated: one key's dead grant is remembered for that
// key (no second upstream call) and does not disturb another key; Put of a
// new login revives it.
func TestTokensDeadGrantIsolated(t *testing.T) {
	rot := oauthtest.NewRotating()
	var calls sync.Map // key -> *atomic.Int32
	r := RefresherFunc(func(ctx context.Context, t *oauth2.Token) (*oauth2.Token, error) {
		n, _ := calls.LoadOrStore(keyOf(t), new(atomic.Int32))
		n.(*atomic.Int32).Add(1)
		return rot.Refresh(ctx, t)
	})
	m := NewTokens(r, NewKeyedMemoryStore(), quiet())
	ctx := context.Background()
	putExpired(t, m, rot, []string{"dead", "alive"})
	rot.Revoke("dead")
	for range 3 {
		if _, err := m.Token(ctx, "dead"); !errors.Is(err, ErrInvalidGrant) {
			t.Fatalf("dead grant: %v, want ErrInvalidGrant", err)
		}
		tok, err := m.Token(ctx, "alive")
		if err != nil || tok.AccessToken != "at.alive.1" {
			t.Fatalf("the other key: %v, %v", tok, err)
		}
	}
	if n, _ := calls.Load("dead"); n.(*atomic.Int32).Load() != 1 {
		t.Errorf("dead grant refreshed %d times, want 1 (remembered)", n.(*atomic.Int32).Load())
	}
	if err := m.Put(ctx, "dead", &oauth2.Token{AccessToken: "relogin", Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if tok, err := m.Token(ctx, "dead"); err != nil || tok.AccessToken != "relogin" {
		t.Errorf("after a new login: %v, %v", tok, err)
	}
}

// countingStore counts loads.
type countingStore struct {
	KeyedStore
	loads atomic.Int32
}

func (c *countingStore) Load(ctx context.Context, key string) (*oauth2.Token, error) {
	c.loads.Add(1)
	return c.KeyedStore.Load(ctx, key)
}

// TestTokensEviction: beyond MaxResident idle keys leave memory, a key in
// use stays, and an evicted key is loaded again from the store (not
// refreshed) on its next request.
func TestTokensEviction(t *testing.T) {
	rot := oauthtest.NewRotating()
	store := &countingStore{KeyedStore: NewKeyedMemoryStore()}
	m := NewTokens(RefresherFunc(rot.Refresh), store, &Options{MaxResident: 10, OnError: func(error) {}})
	ctx := context.Background()
	keys := keyNames("k", 100)
	for _, k := range keys {
		if err := store.Save(ctx, k, rot.Grant(k, time.Now().Add(time.Hour))); err != nil {
			t.Fatal(err)
		}
	}
	for i, k := range keys {
		if _, err := m.Token(ctx, k); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Token(ctx, "k0"); err != nil { // k0 is hot
			t.Fatal(err)
		}
		if n := m.Resident(); n > 10 {
			t.Fatalf("after %d keys %d resident, want at most 10", i+1, n)
		}
	}
	loads := store.loads.Load()
	if _, err := m.Token(ctx, "k0"); err != nil || store.loads.Load() != loads {
		t.Errorf("the hot key was evicted (loads %d -> %d, %v)", loads, store.loads.Load(), err)
	}
	tok, err := m.Token(ctx, "k1")
	if err != nil || tok.AccessToken != "at.k1.0" || store.loads.Load() != loads+1 {
		t.Errorf("evicted key: %v, %v, loads %d -> %d; want it loaded once from the store", tok, err, loads, store.loads.Load())
	}
	for _, k := range keys {
		if rot.Refreshes(k) != 0 {
			t.Fatalf("%s refreshed; eviction must not refresh", k)
		}
	}
}

// synthStore makes up a valid token for any key and stores nothing, so
// that what grows with the keys touched is the Tokens' own memory.
type synthStore struct{ expiry time.Time }

func (s synthStore) Load(_ context.Context, key string) (*oauth2.Token, error) {
	return &oauth2.Token{AccessToken: "at." + key, RefreshToken: "rt." + key, Expiry: s.expiry}, nil
}
func (synthStore) Save(context.Context, string, *oauth2.Token) error { return nil }
func (synthStore) Delete(context.Context, string) error              { return nil }

func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestTokensMemoryFlat touches 1,000,000 distinct keys once each (100,000
// under the race detector) with MaxResident 1,000: the heap after the
// last key is within 1 MiB of the heap after the first 10%.
func TestTokensMemoryFlat(t *testing.T) {
	n := 1_000_000
	if raceEnabled {
		n = 100_000
	}
	if testing.Short() {
		n = 50_000
	}
	m := NewTokens(RefresherFunc(oauthtest.NewRotating().Refresh), synthStore{time.Now().Add(time.Hour)}, &Options{MaxResident: 1000, OnError: func(error) {}})
	ctx := context.Background()
	var base uint64
	for i := range n {
		if _, err := m.Token(ctx, fmt.Sprintf("user-%d", i)); err != nil {
			t.Fatal(err)
		}
		if i == n/10 {
			base = heapInUse()
		}
	}
	end := heapInUse()
	t.Logf("%d keys touched: heap %d B after %d, %d B after all; %d resident", n, base, n/10, end, m.Resident())
	if m.Resident() > 1000 {
		t.Errorf("%d resident, want at most 1000", m.Resident())
	}
	if end > base+1<<20 {
		t.Errorf("heap grew from %d to %d B across %d keys touched once", base, end, n)
	}
}

// residentBytes measures the heap per resident key: n keys made resident
// from synthStore, minus the heap before. The tokens themselves (about
// 180 B each here) are included.
func residentBytes(n int) float64 {
	m := NewTokens(RefresherFunc(oauthtest.NewRotating().Refresh), synthStore{time.Now().Add(time.Hour)}, &Options{MaxResident: n, OnError: func(error) {}})
	keys := keyNames("u", n)
	ctx := context.Background()
	before := heapInUse()
	for _, k := range keys {
		if _, err := m.Token(ctx, k); err != nil {
			panic(err)
		}
	}
	after := heapInUse()
	runtime.KeepAlive(m)
	return float64(after-before) / float64(n)
}

// TestTokensBytesPerResidentUser checks the goal: at most 500 B per user
// held in memory, token included.
func TestTokensBytesPerResidentUser(t *testing.T) {
	b := residentBytes(20000)
	t.Logf("%.0f B per resident user", b)
	if b > 500 {
		t.Errorf("%.0f B per resident user, want at most 500", b)
	}
}

// BenchmarkKeyedResidentBytes reports the heap per user held in memory
// (B/user, token included): Tokens against x/oauth2, where a service keeps
// a ReuseTokenSource per user in a map.
func BenchmarkKeyedResidentBytes(b *testing.B) {
	const n = 20000
	b.Run("impl=oauth2x-Tokens", func(b *testing.B) {
		// One measurement whatever b.N: the metric is per user, not per op.
		b.ReportMetric(residentBytes(n), "B/user")
	})
	b.Run("impl=x-oauth2", func(b *testing.B) {
		keys := keyNames("u", n)
		store := synthStore{time.Now().Add(time.Hour)}
		before := heapInUse()
		m := make(map[string]oauth2.TokenSource, 0)
		for _, k := range keys {
			tok, _ := store.Load(context.Background(), k)
			m[k] = oauth2.ReuseTokenSource(tok, oauth2.StaticTokenSource(tok))
		}
		b.ReportMetric(float64(heapInUse()-before)/n, "B/user")
		runtime.KeepAlive(m)
	})
}

// faultyStore fails Save while failSave is set and Load while failLoad is,
// and counts every call.
type faultyStore struct {
	KeyedStore
	failSave, failLoad atomic.Bool
	calls              atomic.Int32
}

var errStoreDown = errors.New("store down")

func (f *faultyStore) Load(ctx context.Context, key string) (*oauth2.Token, error) {
	f.calls.Add(1)
	if f.failLoad.Load() {
		return nil, errStoreDown
	}
	return f.KeyedStore.Load(ctx, key)
}

func (f *faultyStore) Save(ctx context.Context, key string, t *oauth2.Token) error {
	f.calls.Add(1)
	if f.failSave.Load() {
		return errStoreDown
	}
	return f.KeyedStore.Save(ctx, key, t)
}

// TestTokensStoreFaults: the lifecycle's fault rules hold per key. A Save
// that fails after a refresh does not lose the rotated refresh token (it
// is served, and saved once the store is back); while the store is down a
// resident valid token is served with no store call at all.
func TestTokensStoreFaults(t *testing.T) {
	c := newClock()
	rot := oauthtest.NewRotating()
	rot.Life = 1000 * time.Hour // issued tokens outlive the fake clock's jumps
	store := &faultyStore{KeyedStore: NewKeyedMemoryStore()}
	var reported atomic.Int32
	m := NewTokens(RefresherFunc(rot.Refresh), store, &Options{Now: c.Now, OnError: func(err error) {
		if errors.Is(err, errStoreDown) {
			reported.Add(1)
		}
	}})
	ctx := context.Background()
	if err := m.Put(ctx, "alice", rot.Grant("alice", c.Now().Add(-time.Minute))); err != nil {
		t.Fatal(err)
	}
	if err := m.Put(ctx, "bob", rot.Grant("bob", c.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Token(ctx, "bob"); err != nil {
		t.Fatal(err)
	}

	store.failSave.Store(true)
	tok, err := m.Token(ctx, "alice")
	if err != nil || tok.RefreshToken != rot.Live("alice") {
		t.Fatalf("refresh while saves fail: %v, %v; want the rotated token", tok, err)
	}
	if reported.Load() == 0 {
		t.Error("the failed save was not reported")
	}
	if stored, _ := store.KeyedStore.Load(ctx, "alice"); stored.RefreshToken == rot.Live("alice") {
		t.Fatal("the failed save saved")
	}

	store.failLoad.Store(true)
	before := store.calls.Load()
	for range 100 {
		if got, err := m.Token(ctx, "bob"); err != nil || got.AccessToken != "at.bob.0" {
			t.Fatalf("resident token while the store is down: %v, %v", got, err)
		}
	}
	if n := store.calls.Load() - before; n != 0 {
		t.Errorf("%d store calls for 100 reads of a resident valid token, want 0", n)
	}

	store.failSave.Store(false)
	store.failLoad.Store(false)
	c.Add(10 * time.Minute) // past the save's retry backoff
	if _, err := m.Token(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	m.mu.RLock()
	e := m.resident["alice"]
	m.mu.RUnlock()
	waitFlight(&e.src)
	if stored, _ := store.KeyedStore.Load(ctx, "alice"); stored == nil || stored.RefreshToken != rot.Live("alice") {
		t.Errorf("after the store came back it holds %v; live refresh token %s", stored, rot.Live("alice"))
	}
	if n := rot.Reused(); n != 0 {
		t.Errorf("%d refreshes with a dead refresh token", n)
	}
}
