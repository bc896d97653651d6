package oauth2x

import (
	"context"
	"errors"
	"log"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x/internal/wire"
)

// Store persists one token. Load returns (nil, nil) when the store is
// empty. Stores must be safe for concurrent use; use [MarshalToken] and
// [UnmarshalToken] to encode tokens so that their extras survive.
type Store interface {
	Load(ctx context.Context) (*oauth2.Token, error)
	Save(ctx context.Context, t *oauth2.Token) error
}

// Locker is implemented by a [Store] shared between processes. Lock waits
// until the caller holds the store's lock or ctx is done; unlock releases
// it. While one holder refreshes, the others wait and then load its result
// instead of refreshing again.
type Locker interface {
	Lock(ctx context.Context) (unlock func(), err error)
}

// DueRefresher is a [Refresher] that wants to be called before the access
// token nears expiry — for example to renew a refresh token that is about
// to die. RefreshDue returns when t should be refreshed; the zero time means
// no earlier than the access token's own schedule.
type DueRefresher interface {
	Refresher
	RefreshDue(t *oauth2.Token) time.Time
}

// Options tunes [NewTokenSource]. The zero value (or nil) is ready to use.
type Options struct {
	// Store persists the token. Optional. When it also implements
	// [Locker], refreshes across all processes sharing it are serialised
	// and each expiry causes one upstream refresh.
	Store Store

	// ExpireEarly is how long before expiry a background refresh starts
	// while the current token keeps being served. Optional; zero means one
	// minute.
	ExpireEarly time.Duration

	// MinValid is the least lifetime a token handed out has left: a token
	// closer to expiry counts as expired, and callers wait for its refresh.
	// A short-lived process (a command that prints a token and exits) sets
	// it to how long it needs the token, so that no refresh is left running
	// in the background when it exits. Optional; zero means ten seconds, as
	// in x/oauth2.
	MinValid time.Duration

	// RefreshTimeout bounds one refresh, including waiting for the store's
	// lock. Optional; zero means one minute.
	RefreshTimeout time.Duration

	// MaxBackoff caps the wait between background retries after a
	// temporary failure (network, 5xx, provider busy), which start at one
	// second and double. Optional; zero means five minutes.
	MaxBackoff time.Duration

	// OnError is told of every failure that no caller of Token sees: a
	// background refresh that failed, a Save that failed (the new token is
	// still used and saving is retried), a Load that failed. Optional; nil
	// logs them with the standard logger. It must not block.
	OnError func(error)

	// Now is the clock. Optional; nil means time.Now.
	Now func() time.Time

	// MaxResident bounds how many keys' tokens a [Tokens] holds in memory:
	// beyond it, idle keys leave memory, least recently used first, and
	// are loaded from the store on their next request. Optional; zero
	// means 10,000. Not used by NewTokenSource.
	MaxResident int
}

const (
	defaultExpireEarly    = time.Minute
	defaultRefreshTimeout = time.Minute
	defaultMaxBackoff     = 5 * time.Minute
	minBackoff            = time.Second
	// expiryGuard is the default MinValid: a token this close to expiry is
	// not handed out, as in x/oauth2, so it does not expire on its way to
	// the API.
	expiryGuard = 10 * time.Second
)

// TokenSource is the token source [NewTokenSource] returns. It is safe for
// concurrent use.
type TokenSource struct {
	r    Refresher
	ctx  context.Context // values (the HTTP client) for refreshes; not their cancellation
	opts Options
	now  func() time.Time

	cur atomic.Pointer[state]

	// flying is set while flight is not nil, so that reads inside the
	// early window skip the mutex while a refresh is in flight.
	flying atomic.Bool

	mu     sync.Mutex // guards flight and the fields below
	flight *flight
	fails  int // consecutive temporary failures
}

// state is an immutable snapshot; readers load it with one atomic load.
type state struct {
	tok     *oauth2.Token
	expiry  time.Time // no longer served from here; zero: never expires
	refresh time.Time // the token's own refresh time; zero: never
	due     time.Time // a background flight (refresh, retry or save) is due from here; zero: never
	dead    error     // a dead grant: refreshing is pointless until a new token comes
	load    bool      // the store has not been read yet
	unsaved bool      // tok is newer than what the store holds
}

// flight is one refresh in progress; waiters share its result.
type flight struct {
	done chan struct{}
	tok  *oauth2.Token
	err  error
}

// NewTokenSource returns a token source that serves t until it nears
// expiry and then refreshes it with r:
//
//   - a valid token is served with one atomic load, never behind a lock a
//     refresh holds;
//   - within opts.ExpireEarly of expiry the current token keeps being served
//     while one background refresh runs on its own context; only callers
//     whose token has expired wait, on that same refresh;
//   - any number of concurrent callers cause one upstream call, and share
//     its failure;
//   - a dead grant ([ErrInvalidGrant]) is remembered and returned at once
//     until the store supplies a new token; temporary failures are retried in
//     the background with backoff while the old token is still valid;
//   - with opts.Store, the stored token replaces t when it is newer, and
//     every new token is saved before it is handed out. If Save fails the new
//     token (with its rotated refresh token) is still used, the failure goes
//     to opts.OnError, and saving is retried.
//
// ctx supplies values (such as oauth2.HTTPClient) to refreshes; its
// cancellation stops Token from waiting but does not cancel a refresh that
// other callers share. The source returned is a *[TokenSource]; assert it
// to use [TokenSource.TokenContext], which bounds one wait with a context.
func NewTokenSource(ctx context.Context, r Refresher, t *oauth2.Token, opts *Options) oauth2.TokenSource {
	return newTokenSource(ctx, r, t, opts)
}

func newTokenSource(ctx context.Context, r Refresher, t *oauth2.Token, opts *Options) *TokenSource {
	if ctx == nil {
		ctx = context.Background()
	}
	s := &TokenSource{r: r, ctx: ctx}
	if opts != nil {
		s.opts = *opts
	}
	if s.opts.ExpireEarly <= 0 {
		s.opts.ExpireEarly = defaultExpireEarly
	}
	if s.opts.MinValid <= 0 {
		s.opts.MinValid = expiryGuard
	}
	if s.opts.RefreshTimeout <= 0 {
		s.opts.RefreshTimeout = defaultRefreshTimeout
	}
	if s.opts.MaxBackoff <= 0 {
		s.opts.MaxBackoff = defaultMaxBackoff
	}
	s.now = s.opts.Now
	if s.now == nil {
		s.now = time.Now
	}
	st := s.stateFor(t)
	st.load = s.opts.Store != nil
	s.cur.Store(st)
	return s
}

// stateFor computes when t stops being served and when it is due.
func (s *TokenSource) stateFor(t *oauth2.Token) *state {
	st := &state{tok: t}
	if t == nil || t.AccessToken == "" {
		st.tok = t
		st.expiry = time.Unix(0, 1) // not servable
		return st
	}
	if !t.Expiry.IsZero() {
		st.expiry = t.Expiry.Add(-s.opts.MinValid)
		early := s.opts.ExpireEarly
		if life := time.Duration(t.ExpiresIn) * time.Second; life > 0 && early > life/2 {
			// An ExpireEarly longer than half the lifetime would refresh
			// at once, forever: refresh at half-life instead.
			early = life / 2
		}
		st.refresh = t.Expiry.Add(-early)
	}
	if d, ok := s.r.(DueRefresher); ok {
		if at := d.RefreshDue(t); !at.IsZero() && (st.refresh.IsZero() || at.Before(st.refresh)) {
			st.refresh = at
		}
	}
	st.due = st.refresh
	return st
}

// servable reports whether st's token may be handed out at now.
func (st *state) servable(now time.Time) bool {
	return st.tok != nil && !st.load && (st.expiry.IsZero() || now.Before(st.expiry))
}

// Token returns a valid token, refreshing if needed. It implements
// oauth2.TokenSource.
func (s *TokenSource) Token() (*oauth2.Token, error) {
	return s.TokenContext(s.ctx)
}

// TokenContext is Token with a context that bounds how long the caller
// waits for a refresh in flight. Cancelling it does not cancel the refresh,
// which other callers may share.
func (s *TokenSource) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	st := s.cur.Load()
	now := s.now()
	if st.servable(now) {
		if !st.due.IsZero() && !now.Before(st.due) && st.dead == nil && !s.flying.Load() {
			s.background(now)
		}
		return st.tok, nil
	}
	if st.dead != nil && s.opts.Store == nil {
		return nil, st.dead
	}
	f := s.start(false)
	select {
	case <-f.done:
		return f.tok, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// background starts a refresh unless one is in flight or a retry is not
// yet due.
func (s *TokenSource) background(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.flight != nil {
		return
	}
	if st := s.cur.Load(); now.Before(st.due) || st.dead != nil {
		return // a flight that just ended moved it
	}
	s.startLocked(true)
}

// start joins the flight in progress or starts one.
func (s *TokenSource) start(bg bool) *flight {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.flight != nil {
		return s.flight
	}
	return s.startLocked(bg)
}

func (s *TokenSource) startLocked(bg bool) *flight {
	f := &flight{done: make(chan struct{})}
	s.flight = f
	s.flying.Store(true)
	go s.run(f, bg)
	return f
}

// run performs one flight: lock the store, load, refresh if still needed,
// save, publish, unlock.
func (s *TokenSource) run(f *flight, bg bool) {
	ctx := context.WithoutCancel(s.ctx)
	if s.opts.Now != nil {
		ctx = wire.WithClock(ctx, s.opts.Now)
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.RefreshTimeout)
	defer cancel()
	unlock := func() {}
	if l, ok := s.opts.Store.(Locker); ok {
		if u, err := l.Lock(ctx); err != nil {
			f.err = s.failed(&StoreError{Op: "lock", Err: err, temporary: ctx.Err() != nil})
		} else {
			unlock = u
		}
	}
	if f.err == nil {
		f.tok, f.err = s.refresh(ctx)
	}

	s.mu.Lock()
	s.flight = nil
	s.flying.Store(false)
	if f.err == nil {
		s.fails = 0
	}
	s.mu.Unlock()
	close(f.done) // waiters go on while the store's lock is released
	unlock()
	if f.err != nil && bg {
		s.report(f.err)
	}
}

// refresh does the work of a flight, holding the store's lock if it has
// one: load, refresh if still needed, save, publish.
func (s *TokenSource) refresh(ctx context.Context) (*oauth2.Token, error) {
	store := s.opts.Store
	st := s.cur.Load()
	if store != nil {
		stored, err := store.Load(ctx)
		switch {
		case err != nil:
			s.report(&StoreError{Op: "load", Err: err})
		case newer(stored, st.tok):
			st = s.stateFor(stored)
		}
		if st.load {
			next := *st
			next.load = false
			st = &next
		}
		s.cur.Store(st)
	}
	now := s.now()
	if st.servable(now) && (st.refresh.IsZero() || now.Before(st.refresh)) {
		if st.unsaved {
			return st.tok, s.save(ctx, st)
		}
		return st.tok, nil // another process refreshed, or nothing was due
	}
	if st.dead != nil {
		return nil, st.dead
	}
	tok, err := s.r.Refresh(ctx, st.tok)
	switch {
	case err != nil:
	case tok == nil || tok.AccessToken == "":
		err = &Error{Provider: "oauth2x", Op: "refresh", Kind: ErrBadResponse, Cause: errors.New("refresher returned no access token")}
	case !tok.Expiry.IsZero() && !s.now().Before(tok.Expiry):
		err = &Error{Provider: "oauth2x", Op: "refresh", Kind: ErrBadResponse, Cause: errors.New("refresher returned an expired token")}
	}
	if err != nil {
		return nil, s.failed(ownTimeout(ctx, err))
	}
	if tok.ExpiresIn == 0 && !tok.Expiry.IsZero() {
		// Record the lifetime (x/oauth2's clientcredentials leaves it out):
		// the half-life rule in stateFor needs it, in every process that
		// loads this token.
		c := *tok
		c.ExpiresIn = int64(c.Expiry.Sub(now) / time.Second)
		tok = &c
	}
	next := s.stateFor(tok)
	if same := st.tok != nil && tok.AccessToken == st.tok.AccessToken; same || !next.servable(now) {
		// The refresh gave the same token again (Douyin's stable client
		// token does so while it lives) or one with less than MinValid
		// left: nothing better is to be had before it expires, so it is
		// served to its end and refreshed then, not again and again.
		end := tok.Expiry
		if same && now.Before(end.Add(-s.opts.MinValid)) {
			end = end.Add(-s.opts.MinValid)
		}
		next.expiry, next.refresh, next.due = end, end, end
	}
	if store != nil {
		// Saved before it is handed out; kept even when saving fails.
		return tok, s.save(ctx, next)
	}
	s.cur.Store(next)
	return tok, nil
}

// save stores st's token and publishes st. A failed save is reported, not
// returned: the token is good and is handed out; the state is marked
// unsaved and due again soon so that saving is retried.
func (s *TokenSource) save(ctx context.Context, st *state) error {
	err := s.opts.Store.Save(ctx, st.tok)
	next := *st
	next.unsaved = err != nil
	if err != nil {
		retry := s.now().Add(s.backoff())
		if next.due.IsZero() || retry.Before(next.due) {
			next.due = retry
		}
		s.report(&StoreError{Op: "save", Err: err})
	}
	s.cur.Store(&next)
	return nil
}

// failed records a failed refresh: a dead grant is remembered; a temporary
// failure pushes the next background attempt out with backoff.
func (s *TokenSource) failed(err error) error {
	st := *s.cur.Load()
	if errors.Is(err, ErrInvalidGrant) {
		st.dead = err
	} else {
		st.due = s.now().Add(s.backoff())
	}
	s.cur.Store(&st)
	return err
}

// backoff counts a failure and returns how long to wait before the next
// background attempt: 1s, 2s, 4s, … up to MaxBackoff.
func (s *TokenSource) backoff() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := minBackoff << min(s.fails, 20)
	s.fails++
	return min(d, s.opts.MaxBackoff)
}

func (s *TokenSource) report(err error) {
	if s.opts.OnError != nil {
		s.opts.OnError(err)
		return
	}
	log.Printf("oauth2x: %v", err)
}

// newer reports whether a (from the store) should replace b (in memory):
// it expires later, or expires at the same time with a refresh token that
// lives longer (a renewal).
func newer(a, b *oauth2.Token) bool {
	switch {
	case a == nil || a.AccessToken == "" && a.RefreshToken == "":
		return false
	case b == nil:
		return true
	case a.Expiry.After(b.Expiry):
		return true
	case a.Expiry.Equal(b.Expiry):
		return a.RefreshToken != b.RefreshToken && RefreshExpiry(a).After(RefreshExpiry(b))
	}
	return false
}

// StoreError is a failure of the token store; it says which operation
// failed. Save failures reach [Options.OnError]; lock failures are returned.
type StoreError struct {
	Op  string // "load", "save", "lock" or "delete"
	Err error

	temporary bool // the lock was not had within RefreshTimeout
}

// Error names the store operation and its failure.
func (e *StoreError) Error() string { return "oauth2x: token store " + e.Op + ": " + e.Err.Error() }

// Unwrap returns the store's own error, and [ErrTemporary] when the lock
// was not had within Options.RefreshTimeout.
func (e *StoreError) Unwrap() []error {
	if e.temporary {
		return []error{e.Err, ErrTemporary}
	}
	return []error{e.Err}
}

// ownTimeout gives an error caused by the flight's own RefreshTimeout the
// kind it lacks: to a caller it is a temporary failure, not a cancellation
// of its own.
func ownTimeout(ctx context.Context, err error) error {
	var e *Error
	if ctx.Err() == nil || !errors.As(err, &e) || e.Kind != nil {
		return err
	}
	c := *e
	c.Kind = ErrTemporary
	return &c
}
