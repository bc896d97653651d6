package oauth2x

import (
	"context"
	"errors"
	"hash/maphash"
	"net/http"
	"sync"
	"sync/atomic"

	"golang.org/x/oauth2"
)

// KeyedStore persists many tokens, each under a key (a user id, a tenant).
// Load returns (nil, nil) when the key has no token; Delete of an absent
// key is not an error. Stores must be safe for concurrent use; use
// [MarshalToken] and [UnmarshalToken] to encode tokens so that their extras
// survive.
type KeyedStore interface {
	Load(ctx context.Context, key string) (*oauth2.Token, error)
	Save(ctx context.Context, key string, t *oauth2.Token) error
	Delete(ctx context.Context, key string) error
}

// KeyedLocker is implemented by a [KeyedStore] shared between processes.
// Lock waits until the caller holds key's lock or ctx is done; unlock
// releases it. Keys lock independently of each other.
type KeyedLocker interface {
	Lock(ctx context.Context, key string) (unlock func(), err error)
}

// ErrNoToken is returned by [Tokens] for a key whose store holds no token
// (never logged in, logged out, or deleted): send that user to log in and
// [Tokens.Put] the token the login gives.
//
// It calls for what a dead grant does, so it also matches
// errors.Is(err, [ErrInvalidGrant]), and [KindOf] gives ErrInvalidGrant:
// one check sends the user to log in for both. errors.Is(err, ErrNoToken)
// still tells it apart. It is no *oauth2.RetrieveError: code that looks
// for x/oauth2's ErrorCode "invalid_grant" does not see it.
var ErrNoToken error = &noTokenError{}

type noTokenError struct{}

func (*noTokenError) Error() string {
	return "oauth2x: no token stored for this key; send the user to log in"
}

// Unwrap makes ErrNoToken match ErrInvalidGrant.
func (*noTokenError) Unwrap() error { return ErrInvalidGrant }

// KeyStore returns the single-token [Store] that keeps key's token in s,
// for [NewTokenSource] and code written for one token. It is also a
// [Locker] when s is a [KeyedLocker].
func KeyStore(s KeyedStore, key string) Store {
	k := keyStore{s: s, key: key}
	if l, ok := s.(KeyedLocker); ok {
		return keyLockerStore{k, l}
	}
	return k
}

type keyStore struct {
	s   KeyedStore
	key string
}

func (k keyStore) Load(ctx context.Context) (*oauth2.Token, error) { return k.s.Load(ctx, k.key) }
func (k keyStore) Save(ctx context.Context, t *oauth2.Token) error { return k.s.Save(ctx, k.key, t) }

type keyLockerStore struct {
	keyStore
	l KeyedLocker
}

func (k keyLockerStore) Lock(ctx context.Context) (func(), error) { return k.l.Lock(ctx, k.key) }

// Tokens holds the tokens of many users, each under a key, with every
// guarantee of [NewTokenSource] per key: a valid token is read without a
// lock that a refresh holds; any number of callers, in any number of
// processes sharing a [KeyedLocker] store, cause one upstream refresh per
// expiry; a failure is shared; a dead grant is remembered; every new token
// (and every rotated refresh token) is saved before it is handed out.
//
// Tokens is long-lived: keep one per provider for the life of the service.
// It holds at most Options.MaxResident keys in memory; idle keys beyond it
// leave memory, least recently used first, and are loaded from the store
// on their next request. It is safe for concurrent use.
type Tokens struct {
	r      Refresher
	store  KeyedStore
	locker KeyedLocker // the store's, or one within this process
	set    *settings   // every key's source shares them
	max    int

	client atomic.Pointer[clientContext] // the last refresh context made

	// hot is a lock-free front for resident: a key's slot (by hash) holds
	// its resident if it was read lately. Slots are filled with m.mu read-
	// locked and cleared with it locked, so a slot never holds a key that
	// is no longer resident.
	hot  [hotSlots]atomic.Pointer[resident]
	seed maphash.Seed

	mu       sync.RWMutex // guards resident
	resident map[string]*resident
}

// hotSlots is the size of Tokens.hot: 32 KiB per Tokens.
const hotSlots = 4096

// resident is one key held in memory: its token source and what the
// eviction sweep needs. It is the Store and Locker of its source, which it
// holds by value: one allocation per key (BenchmarkKeyedResidentBytes).
type resident struct {
	src  TokenSource
	m    *Tokens
	key  string
	used atomic.Bool // read since the sweep last passed
}

const defaultMaxResident = 10000

// NewTokens returns a Tokens that refreshes with r and keeps every key's
// token in store. When store is also a [KeyedLocker], processes sharing it
// refresh each key once between them; otherwise refreshes are serialised
// per key within this process only. opts is as for [NewTokenSource]
// (opts.Store is not used: store is every key's store); nil means the
// defaults.
func NewTokens(r Refresher, store KeyedStore, opts *Options) *Tokens {
	m := &Tokens{r: r, store: store, set: newSettings(opts), max: defaultMaxResident, resident: map[string]*resident{}, seed: maphash.MakeSeed()}
	if opts != nil && opts.MaxResident > 0 {
		m.max = opts.MaxResident
	}
	if l, ok := store.(KeyedLocker); ok {
		m.locker = l
	} else {
		m.locker = newKeyLocks()
	}
	return m
}

// Put stores t, the token a login gave, under key: it is saved before Put
// returns, replaces whatever key held (a dead grant included), and is
// served from then on. Put waits for a refresh of key in flight to end.
func (m *Tokens) Put(ctx context.Context, key string, t *oauth2.Token) error {
	if t == nil || t.AccessToken == "" && t.RefreshToken == "" {
		return errors.New("oauth2x: Tokens.Put: token has neither access token nor refresh token")
	}
	unlock, err := m.locker.Lock(ctx, key)
	if err != nil {
		return &StoreError{Op: "lock", Err: err}
	}
	defer unlock()
	if err := m.store.Save(ctx, key, t); err != nil {
		return &StoreError{Op: "save", Err: err}
	}
	m.forget(key)
	return nil
}

// Delete removes key's token from the store and from memory (a logout).
// Afterwards Token returns [ErrNoToken] for key; other processes serve a
// token they already hold until they next look in the store (at the
// latest when it is due for refresh), then return ErrNoToken.
//
// To Tokens a key absent from the store is always a logout, never a store
// that lost it: a key's token is not refreshed from memory once the store
// lacks it. A store that loses keys — a Redis restarted without
// persistence, a table truncated or restored from an older backup that
// lacks them — therefore logs those users out: they get ErrNoToken and
// must log in again. A key's token that a failed Save left only in memory
// is dropped the same way if the store comes back without the key. Use a
// store that keeps what it has saved.
func (m *Tokens) Delete(ctx context.Context, key string) error {
	unlock, err := m.locker.Lock(ctx, key)
	if err != nil {
		return &StoreError{Op: "lock", Err: err}
	}
	defer unlock()
	if err := m.store.Delete(ctx, key); err != nil {
		return &StoreError{Op: "delete", Err: err}
	}
	m.forget(key)
	return nil
}

// Token returns a valid token for key, refreshing it if needed, or
// [ErrNoToken] when the store has none. ctx bounds how long the caller
// waits; a key not in memory is loaded from the store, and its refreshes
// use ctx's oauth2.HTTPClient (nothing else of ctx, not its cancellation).
func (m *Tokens) Token(ctx context.Context, key string) (*oauth2.Token, error) {
	slot := &m.hot[maphash.String(m.seed, key)%hotSlots]
	e := slot.Load()
	if e == nil || e.key != key {
		m.mu.RLock()
		if e = m.resident[key]; e != nil {
			slot.Store(e)
		}
		m.mu.RUnlock()
		if e == nil {
			e = m.add(ctx, key)
		}
	}
	if !e.used.Load() {
		e.used.Store(true)
	}
	t, err := e.src.TokenContext(ctx)
	if err != nil && errors.Is(err, ErrNoToken) {
		m.drop(e)
	}
	return t, err
}

// TokenSource returns an oauth2.TokenSource for key's token, bound to ctx.
// It holds nothing but the key, so it is cheap to make per request; its
// Token is [Tokens.Token]. It also has an Invalidate(accessToken string)
// method, [Tokens.Invalidate] for key, which the HTTP clients of this
// module's provider packages call to refresh and retry once when an answer
// says the token is invalid (the user revoked access, say).
func (m *Tokens) TokenSource(ctx context.Context, key string) oauth2.TokenSource {
	return keySource{m: m, ctx: ctx, key: key}
}

type keySource struct {
	m   *Tokens
	ctx context.Context
	key string
}

func (s keySource) Token() (*oauth2.Token, error) { return s.m.Token(s.ctx, s.key) }

func (s keySource) Invalidate(accessToken string) { s.m.Invalidate(s.key, accessToken) }

// Invalidate tells m that the provider refused accessToken, key's access
// token: as [TokenSource.Invalidate], the next Token for key loads the
// store (another process may have a newer token) and otherwise refreshes,
// once for all callers; an access token other than key's current one is
// ignored. A key not in memory (evicted since its token was handed out)
// is left alone: its next Token serves what the store holds.
func (m *Tokens) Invalidate(key, accessToken string) {
	m.mu.RLock()
	e := m.resident[key]
	m.mu.RUnlock()
	if e != nil {
		e.src.Invalidate(accessToken)
	}
}

// add makes key resident, evicting an idle key when at the bound. The new
// source holds no token: its first flight loads it.
func (m *Tokens) add(ctx context.Context, key string) *resident {
	e := &resident{m: m, key: key}
	e.src.init(m.refreshContext(ctx), m.r, e, nil, m.set)
	e.src.keyed = true
	m.mu.Lock()
	defer m.mu.Unlock()
	if old := m.resident[key]; old != nil {
		return old // another caller made it resident first
	}
	if len(m.resident) >= m.max {
		m.evictLocked()
	}
	m.resident[key] = e
	return e
}

// evictLocked drops one idle key from memory. It visits keys from a
// random place, passing over keys read since it last visited them
// (clearing their mark), keys with a flight in progress and keys whose
// token is not yet saved (a failed save), and drops the
// first other one: a second-chance approximation of least recently used
// that costs readers no lock. When every key is busy it drops none and the
// bound is exceeded until one is idle. m.mu is held.
func (m *Tokens) evictLocked() {
	for range 2 { // the first pass may only clear marks
		for _, e := range m.resident {
			if e.used.Load() {
				e.used.Store(false)
				continue
			}
			if e.src.flying.Load() || e.src.cur.Load().unsaved {
				continue // its token would be lost, or refreshed again from the store
			}
			m.removeLocked(e)
			return
		}
	}
}

// forget drops key from memory, if it is resident.
func (m *Tokens) forget(key string) {
	m.mu.Lock()
	if e := m.resident[key]; e != nil {
		m.removeLocked(e)
	}
	m.mu.Unlock()
}

// drop drops e from memory if it is still key's resident.
func (m *Tokens) drop(e *resident) {
	m.mu.Lock()
	if m.resident[e.key] == e {
		m.removeLocked(e)
	}
	m.mu.Unlock()
}

// removeLocked drops e from memory. m.mu is held.
func (m *Tokens) removeLocked(e *resident) {
	delete(m.resident, e.key)
	m.hot[maphash.String(m.seed, e.key)%hotSlots].CompareAndSwap(e, nil)
}

// refreshContext returns the context for the refreshes of a key loaded
// during a call with ctx: ctx's oauth2.HTTPClient and nothing else, so
// that a key held in memory does not hold a request's context.
func (m *Tokens) refreshContext(ctx context.Context) context.Context {
	c, _ := ctx.Value(oauth2.HTTPClient).(*http.Client)
	if c == nil {
		return context.Background()
	}
	if cc := m.client.Load(); cc != nil && cc.c == c {
		return cc.ctx
	}
	cc := &clientContext{c: c, ctx: context.WithValue(context.Background(), oauth2.HTTPClient, c)}
	m.client.Store(cc)
	return cc.ctx
}

type clientContext struct {
	c   *http.Client
	ctx context.Context
}

// Resident returns how many keys are held in memory.
func (m *Tokens) Resident() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.resident)
}

// Load implements Store for e's source: key's token from the store. An
// absent token is a deleted key to the source (it is keyed).
func (e *resident) Load(ctx context.Context) (*oauth2.Token, error) {
	return e.m.store.Load(ctx, e.key)
}

// Save implements Store for e's source.
func (e *resident) Save(ctx context.Context, t *oauth2.Token) error {
	return e.m.store.Save(ctx, e.key, t)
}

// Lock implements Locker for e's source: key's lock.
func (e *resident) Lock(ctx context.Context) (func(), error) { return e.m.locker.Lock(ctx, e.key) }

// keyLocks locks keys within one process: a key's lock exists while
// someone holds or waits for it. It is safe for concurrent use.
type keyLocks struct {
	mu sync.Mutex // guards m
	m  map[string]*keyLock
}

type keyLock struct {
	ch   chan struct{} // a value in the channel is the lock
	refs int           // holders and waiters; guarded by keyLocks.mu
}

func newKeyLocks() *keyLocks { return &keyLocks{m: map[string]*keyLock{}} }

// Lock takes key's lock, waiting until it is free or ctx is done.
func (l *keyLocks) Lock(ctx context.Context, key string) (func(), error) {
	l.mu.Lock()
	k := l.m[key]
	if k == nil {
		k = &keyLock{ch: make(chan struct{}, 1)}
		l.m[key] = k
	}
	k.refs++
	l.mu.Unlock()
	release := func() {
		l.mu.Lock()
		if k.refs--; k.refs == 0 {
			delete(l.m, key)
		}
		l.mu.Unlock()
	}
	select {
	case k.ch <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-k.ch; release() }) }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}
