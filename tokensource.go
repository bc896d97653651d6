package oauth2x

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
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
// until the caller holds the store's lock or ctx is done; the lock is held
// until unlock is called or ctx is done, whichever comes first (a lease is
// not renewed past ctx). While one holder refreshes, the others wait and
// then load its result instead of refreshing again.
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

// ErrLockLost is matched by the error of a Save that a [Locker]'s store
// refused because the caller's lock was lost meanwhile (a lease that
// lapsed). The token source then takes the lock again before its next try.
var ErrLockLost = errors.New("oauth2x: the token store's lock was lost")

// Options tunes [NewTokenSource]. The zero value (or nil) is ready to use.
type Options struct {
	// Store persists the token. Optional. When it also implements
	// [Locker], refreshes across all processes sharing it are serialised
	// and each expiry causes one upstream refresh.
	Store Store

	// ExpireEarly is how long before expiry a background refresh starts
	// while the current token keeps being served. Optional; zero means one
	// minute. A negative value turns early refresh off: the token is
	// refreshed only once it has expired (MinValid before its expiry), by
	// the callers that find it so, who wait for the refresh.
	ExpireEarly time.Duration

	// MinValid is the least lifetime a token handed out has left: a token
	// closer to expiry counts as expired, and callers wait for its refresh.
	// A short-lived process (a command that prints a token and exits) sets
	// it to how long it needs the token, so that no refresh is left running
	// in the background when it exits. Optional; zero means ten seconds, as
	// in x/oauth2.
	MinValid time.Duration

	// RefreshTimeout bounds every wait for one flight: taking the store's
	// lock, loading, refreshing and saving. A flight that outlives it is
	// abandoned: its waiters get an [ErrTemporary] error at once, the next
	// call may start a fresh flight, and the store's lock it took is
	// released (a Locker's lease is not renewed past it). A token an
	// abandoned flight still gets is kept and saved later. Optional; zero
	// means one minute.
	RefreshTimeout time.Duration

	// MaxBackoff caps the wait before retrying after a failure — of a
	// refresh, of taking the store's lock, of a save, or, for a dead grant,
	// of looking in the store for a new token. Waits start at one second
	// and double up to MaxBackoff; each is shortened at random by up to a
	// quarter, so that processes spread out. While the wait after a failed
	// refresh lasts, callers whose token has expired get that failure at
	// once instead of calling the provider again. Optional; zero means five
	// minutes.
	MaxBackoff time.Duration

	// OnError is told of every failure that no caller of Token sees: a
	// background refresh that failed, a Save that failed (the new token is
	// still used and saving is retried), a Load that failed. Optional; nil
	// logs them with log/slog's default logger at warning level. Set it to
	// func(error) {} for silence. It must not block.
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

	mu        sync.Mutex // guards cur's writes, flight and the fields below
	flight    *flight
	fails     int       // consecutive failed flights (refresh, lock, a dead grant's look at the store)
	saveFails int       // consecutive failed saves
	failErr   error     // the last failed flight's error, shared until failUntil
	failUntil time.Time // expired callers get failErr without a flight until then
	hold      *heldLock // the store's lock, kept after a failed save until a save succeeds

	had        bool      // the store has held a token (loaded or saved)
	emptySince time.Time // the store has been found empty since then, after it had held a token
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
	done  chan struct{}
	ended bool // done is closed; guarded by TokenSource.mu
	tok   *oauth2.Token
	err   error
}

// heldLock is the store's lock as a flight holds it. It is released when
// the flight ends, or at the flight's RefreshTimeout unless kept for the
// next flight (a failed save keeps it).
type heldLock struct {
	mu       sync.Mutex
	unlock   func()
	cancel   context.CancelFunc // ends the context the lock was taken with
	kept     bool
	released bool
}

func (h *heldLock) release() {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.released {
		return
	}
	h.released = true
	if h.unlock != nil {
		h.unlock()
	}
	h.cancel()
}

// keep marks h to outlive its flight; false if it was already released.
func (h *heldLock) keep(k bool) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.kept = k
	return !h.released
}

// NewTokenSource returns a token source that serves t until it nears
// expiry and then refreshes it with r:
//
//   - a valid token is served with one atomic load, never behind a lock a
//     refresh holds, and never after a store call once the store is
//     healthy;
//   - within opts.ExpireEarly of expiry the current token keeps being served
//     while one background refresh runs on its own context; only callers
//     whose token has expired wait, on that same refresh;
//   - any number of concurrent callers cause one upstream call, and share
//     its failure for the backoff that follows it (see Options.MaxBackoff);
//   - a dead grant ([ErrInvalidGrant]) is remembered and returned at once
//     until the store supplies a new token, which is looked for with a
//     plain Load, backing off; temporary failures are retried in the
//     background with backoff while the old token is still valid;
//   - with opts.Store, the stored token replaces t when it is newer, and
//     every new token is saved before it is handed out. A store that fails
//     (Load, Lock or Save) never refuses a token that is still valid. If
//     Save fails the new token (with its rotated refresh token) is still
//     used, the failure goes to opts.OnError, and saving is retried with
//     backoff;
//   - with a store that is also a [Locker], the lock is held from before
//     the refresh until the new token is saved — across retries of a
//     failed save, which come on a timer even if nothing reads the token —
//     so no other process refreshes with the refresh token
//     this one has just used up. The guarantee is as strong as the lock:
//     a lease that lapses (a holder paused past it, a Redis that restarts
//     empty) lets another process in, and a store that forgets its token
//     cannot say which refresh token is current.
//
// ctx supplies values (such as oauth2.HTTPClient) to refreshes; its
// cancellation stops Token from waiting but does not cancel a refresh that
// other callers share. [TokenSource.TokenContext] bounds one wait with a
// context of its own.
func NewTokenSource(ctx context.Context, r Refresher, t *oauth2.Token, opts *Options) *TokenSource {
	if ctx == nil {
		ctx = context.Background()
	}
	s := &TokenSource{r: r, ctx: ctx}
	if opts != nil {
		s.opts = *opts
	}
	if s.opts.ExpireEarly == 0 {
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

// newTokenSource is NewTokenSource; tests written before it returned the
// concrete type call it.
func newTokenSource(ctx context.Context, r Refresher, t *oauth2.Token, opts *Options) *TokenSource {
	return NewTokenSource(ctx, r, t, opts)
}

// stateFor computes when t stops being served and when it is due.
func (s *TokenSource) stateFor(t *oauth2.Token) *state {
	st := &state{tok: t}
	if t == nil || t.AccessToken == "" {
		st.expiry = time.Unix(0, 1) // not servable
		return st
	}
	if !t.Expiry.IsZero() {
		st.expiry = t.Expiry.Add(-s.opts.MinValid)
		early := max(s.opts.ExpireEarly, 0) // negative: early refresh is off
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

// usable reports whether st's token may be handed out at now.
func (st *state) usable(now time.Time) bool {
	return st.tok != nil && (st.expiry.IsZero() || now.Before(st.expiry))
}

// servable reports whether st's token may be handed out at now without
// reading the store first.
func (st *state) servable(now time.Time) bool { return !st.load && st.usable(now) }

// fresh reports whether nothing is to be done about st at now: its token
// is servable, not yet due for refresh, and saved.
func (st *state) fresh(now time.Time) bool {
	return st.servable(now) && (st.refresh.IsZero() || now.Before(st.refresh)) && !st.unsaved
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
		if !st.due.IsZero() && !now.Before(st.due) && !s.flying.Load() {
			s.background(now)
		}
		return st.tok, nil
	}
	f, err := s.join(now)
	if f == nil {
		return nil, err
	}
	select {
	case <-f.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if f.err != nil {
		// A store that failed does not refuse a token the caller holds.
		if st := s.cur.Load(); st.usable(s.now()) {
			return st.tok, nil
		}
	}
	return f.tok, f.err
}

// join returns the flight in progress, or starts one, or returns the
// failure that expired callers share until the backoff after it ends.
func (s *TokenSource) join(now time.Time) (*flight, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.flight != nil {
		return s.flight, nil
	}
	if st := s.cur.Load(); st.dead != nil && s.opts.Store == nil {
		return nil, st.dead
	}
	if s.failErr != nil && now.Before(s.failUntil) {
		return nil, s.failErr
	}
	return s.startLocked(false), nil
}

// background starts a refresh unless one is in flight or a retry is not
// yet due.
func (s *TokenSource) background(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.flight != nil {
		return
	}
	if st := s.cur.Load(); st.due.IsZero() || now.Before(st.due) || st.dead != nil && !st.unsaved {
		return // a flight that just ended moved it
	}
	s.startLocked(true)
}

func (s *TokenSource) startLocked(bg bool) *flight {
	f := &flight{done: make(chan struct{})}
	s.flight = f
	s.flying.Store(true)
	go s.run(f, bg)
	return f
}

// run performs flight f, abandoning it to its waiters once it outlives
// RefreshTimeout.
func (s *TokenSource) run(f *flight, bg bool) {
	base := context.WithoutCancel(s.ctx)
	if s.opts.Now != nil {
		base = wire.WithClock(base, s.opts.Now)
	}
	ctx, cancel := context.WithTimeout(base, s.opts.RefreshTimeout)
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		s.end(f, nil, &Error{Provider: "oauth2x", Op: "refresh", Kind: ErrTemporary,
			Cause: fmt.Errorf("abandoned after RefreshTimeout (%v): %w", s.opts.RefreshTimeout, context.DeadlineExceeded)}, bg, true)
	})
	tok, err := s.fly(ctx, base)
	if stop() {
		s.end(f, tok, ownTimeout(ctx, err), bg, false)
	}
}

// end ends flight f with its result, unless it has ended already: the
// failure bookkeeping, then the waiters are released. The failure of an
// abandoned flight is not shared: the next call may start a fresh one.
func (s *TokenSource) end(f *flight, tok *oauth2.Token, err error, bg, abandoned bool) {
	now := s.now()
	s.mu.Lock()
	if f.ended {
		s.mu.Unlock()
		return
	}
	f.ended, f.tok, f.err = true, tok, err
	if s.flight == f {
		s.flight = nil
		s.flying.Store(false)
	}
	if err != nil {
		s.fails++
		d := s.backoff(s.fails)
		if !abandoned {
			s.failErr, s.failUntil = err, now.Add(d)
		}
		st := *s.cur.Load()
		if errors.Is(err, ErrInvalidGrant) {
			st.dead = err
		} else {
			st.due = now.Add(d)
		}
		s.cur.Store(&st)
	} else {
		s.fails, s.failErr = 0, nil
	}
	s.mu.Unlock()
	close(f.done)
	if err != nil && bg {
		s.report(err)
	}
}

// fly does the work of a flight: load, lock, load again, refresh if still
// needed, save, unlock. A store that is healthy and a token that is fresh
// cost one Load and no lock.
func (s *TokenSource) fly(ctx, base context.Context) (*oauth2.Token, error) {
	store := s.opts.Store
	if store == nil {
		return s.refresh(ctx, s.cur.Load(), nil)
	}
	s.mu.Lock()
	h := s.hold
	s.hold = nil
	s.mu.Unlock()
	if h != nil && !h.keep(false) {
		h = nil // lost at the previous flight's timeout
	}
	var st *state
	if h == nil {
		// A plain load notices another process's token without the lock.
		if st = s.load(ctx); st.fresh(s.now()) {
			return st.tok, nil
		} else if st.dead != nil && !st.unsaved {
			return nil, st.dead
		}
		var err error
		if h, err = s.lock(ctx, base); err != nil {
			return nil, err
		}
	} else {
		context.AfterFunc(ctx, func() { s.lapse(h) })
	}
	if h != nil {
		st = s.load(ctx) // another process may have refreshed while we waited
	}
	if st.fresh(s.now()) {
		h.release()
		return st.tok, nil
	}
	if err := s.lost(st); err != nil {
		h.release()
		return nil, err
	}
	return s.refresh(ctx, st, h)
}

// lapse releases h at a flight's timeout unless the flight kept it.
func (s *TokenSource) lapse(h *heldLock) {
	h.mu.Lock()
	kept := h.kept
	h.mu.Unlock()
	if !kept {
		h.release()
	}
}

// lock takes the store's lock on a context of its own, which ends at ctx's
// timeout unless the flight keeps the lock.
func (s *TokenSource) lock(ctx, base context.Context) (*heldLock, error) {
	l, ok := s.opts.Store.(Locker)
	if !ok {
		return nil, nil
	}
	lctx, cancel := context.WithCancel(base)
	h := &heldLock{cancel: cancel}
	context.AfterFunc(ctx, func() { s.lapse(h) })
	u, err := l.Lock(lctx)
	if err != nil {
		h.release()
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, &StoreError{Op: "lock", Err: err}
	}
	h.mu.Lock()
	h.unlock = u
	released := h.released
	h.mu.Unlock()
	if released { // the timeout came as the lock was taken
		u()
		return nil, &StoreError{Op: "lock", Err: context.DeadlineExceeded}
	}
	return h, nil
}

// load reads the store, adopts its token when newer and publishes the
// result; a failed load is reported and leaves the token in memory.
func (s *TokenSource) load(ctx context.Context) *state {
	stored, err := s.opts.Store.Load(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.cur.Load()
	switch {
	case err != nil:
		defer s.report(&StoreError{Op: "load", Err: err})
	case stored == nil:
		if s.had && s.emptySince.IsZero() {
			s.emptySince = s.now()
		}
	default:
		s.had, s.emptySince = true, time.Time{}
		if newer(stored, st.tok) {
			st = s.stateFor(stored)
		}
	}
	if st.load {
		next := *st
		next.load = false
		st = &next
	}
	if st.fresh(s.now()) {
		next := *st
		next.due = next.refresh // a retry that was due is done
		st = &next
	}
	s.cur.Store(st)
	return st
}

// errStoreLost is the cause of the error a flight returns while the store
// has lost the token it held.
var errStoreLost = errors.New("the store lost the token it held (restarted empty?): waiting for the process holding the newest token to save it again")

// lost returns a temporary error when refreshing st's token would use a
// refresh token the store no longer vouches for: the store held a token
// and is now empty (a Redis restarted without persistence), and this
// source's token is not one it has yet to save. The process that refreshed
// last saves its token again on its next retry; until MaxBackoff has
// passed — the longest that retry waits — no other process refreshes from
// its own, possibly used-up, refresh token. After that the token in memory
// is the best there is.
func (s *TokenSource) lost(st *state) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st.unsaved || s.emptySince.IsZero() || !s.now().Before(s.emptySince.Add(s.opts.MaxBackoff)) {
		return nil
	}
	return &StoreError{Op: "load", Err: errStoreLost, temporary: true}
}

// refresh refreshes st's token unless only saving it is due, and saves
// the result holding h, the store's lock. A failed save keeps h for the
// next flight.
func (s *TokenSource) refresh(ctx context.Context, st *state, h *heldLock) (*oauth2.Token, error) {
	store := s.opts.Store
	now := s.now()
	if !st.servable(now) || !st.refresh.IsZero() && !now.Before(st.refresh) {
		if st.dead != nil {
			h.release()
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
			h.release()
			return nil, err
		}
		st = s.next(st, tok, now)
	}
	if store == nil {
		s.publish(ctx, st)
		return st.tok, nil
	}
	if ctx.Err() != nil {
		// Abandoned while refreshing: keep the token (its refresh token
		// may be the only live one) for a later flight to save.
		h.release()
		s.publish(ctx, st)
		return st.tok, nil
	}
	err := store.Save(ctx, st.tok)
	s.mu.Lock()
	next := *st
	next.unsaved = err != nil
	if err == nil {
		s.saveFails, s.had, s.emptySince = 0, true, time.Time{}
		next.due = next.refresh
	} else {
		s.saveFails++
		wait := s.backoff(s.saveFails)
		next.due = s.now().Add(wait)
		if !next.refresh.IsZero() && next.refresh.Before(next.due) {
			next.due = next.refresh
		}
		if h != nil && !errors.Is(err, ErrLockLost) && ctx.Err() == nil && h.keep(true) {
			s.hold = h // no other process refreshes from the stale store
			h = nil
			// The retry must come even if no one reads: others wait
			// for this lock.
			time.AfterFunc(wait, func() { s.background(s.now()) })
		}
	}
	s.mu.Unlock()
	h.release()
	if err != nil {
		s.report(&StoreError{Op: "save", Err: err})
	}
	s.publish(ctx, &next)
	return next.tok, nil
}

// next is the state of tok, which refreshing st's token gave at now.
func (s *TokenSource) next(st *state, tok *oauth2.Token, now time.Time) *state {
	if tok.ExpiresIn == 0 && !tok.Expiry.IsZero() {
		// Record the lifetime (x/oauth2's clientcredentials leaves it out):
		// the half-life rule in stateFor needs it, in every process that
		// loads this token.
		c := *tok
		c.ExpiresIn = int64(c.Expiry.Sub(now) / time.Second)
		tok = &c
	}
	next := s.stateFor(tok)
	next.unsaved = s.opts.Store != nil
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
	return next
}

// publish makes st current. A flight abandoned at its timeout (ctx done)
// only publishes a token newer than the current one, which a later flight
// saves.
func (s *TokenSource) publish(ctx context.Context, st *state) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ctx.Err() != nil {
		if !newer(st.tok, s.cur.Load().tok) {
			return
		}
		c := *st
		c.unsaved = s.opts.Store != nil
		if c.unsaved {
			c.due = s.now()
		}
		st = &c
	}
	s.cur.Store(st)
}

// backoff returns how long to wait after the nth consecutive failure: 1s,
// 2s, 4s, … up to MaxBackoff, less up to a quarter at random.
func (s *TokenSource) backoff(n int) time.Duration {
	d := min(minBackoff<<min(max(n-1, 0), 20), s.opts.MaxBackoff)
	return d - time.Duration(rand.Int64N(int64(d/4)+1))
}

func (s *TokenSource) report(err error) {
	if s.opts.OnError != nil {
		s.opts.OnError(err)
		return
	}
	slog.Warn("oauth2x: token source", "err", err)
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
// failed. Load and Save failures reach [Options.OnError]; a lock failure,
// or a store found to have lost the token it held, is returned to callers
// whose token has expired, and is temporary.
type StoreError struct {
	Op  string // "load", "save", "lock" or "delete"
	Err error

	temporary bool // a load that found the store had lost its token
}

// Error names the store operation and its failure.
func (e *StoreError) Error() string { return "oauth2x: token store " + e.Op + ": " + e.Err.Error() }

// Unwrap returns the store's own error, and [ErrTemporary] for a lock
// that was not had or a store that lost its token: retrying later may
// succeed.
func (e *StoreError) Unwrap() []error {
	if e.Op == "lock" || e.temporary {
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
