package oauth2x

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
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
	// released (a Locker's lease is not renewed past it) — unless the
	// flight is saving a new token: then the lock is held until the Save
	// returns, and, if it failed, until a retry saves the token. A token
	// an abandoned flight still gets is kept and saved later, never
	// refreshed again from the older stored one. Optional; zero means one
	// minute.
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
	// The fields are laid out for the many sources a Tokens holds: the
	// options are shared and normalised (settings), times are instants,
	// and what only failures need is in faults, made on the first one. An
	// idle source is 96 B and its state 48 B: 144 B, against 352 B with
	// Options copied in, time.Time fields and the failure fields inline
	// (BenchmarkIdleSourceBytes).
	r     Refresher
	store Store           // nil: none
	ctx   context.Context // values (the HTTP client) for refreshes; not their cancellation
	set   *settings

	cur atomic.Pointer[state]

	// flying is set while flight is not nil, so that reads inside the
	// early window skip the mutex while a refresh is in flight.
	flying atomic.Bool

	// keyed is set for a key's source in a [Tokens]: a store found
	// without the token means the key was deleted (a logout), answered
	// with ErrNoToken, never with a refresh from the token in memory.
	keyed bool

	had bool // the store has held a token (loaded or saved); guarded by mu

	mu     sync.Mutex // guards cur's writes, had, flight and f
	flight *flight
	f      *faults // nil while nothing has failed
}

// settings are the normalised [Options] a token source reads. A [Tokens]
// shares one between all its keys' sources; NewTokenSource without
// options shares defaultSettings.
type settings struct {
	expireEarly    time.Duration
	minValid       time.Duration
	refreshTimeout time.Duration
	maxBackoff     time.Duration
	onError        func(error)      // nil: log/slog
	now            func() time.Time // nil: time.Now
}

var defaultSettings = settings{
	expireEarly:    defaultExpireEarly,
	minValid:       expiryGuard,
	refreshTimeout: defaultRefreshTimeout,
	maxBackoff:     defaultMaxBackoff,
}

// newSettings normalises o; nil is the defaults.
func newSettings(o *Options) *settings {
	if o == nil {
		return &defaultSettings
	}
	set := defaultSettings
	if o.ExpireEarly != 0 {
		set.expireEarly = o.ExpireEarly
	}
	if o.MinValid > 0 {
		set.minValid = o.MinValid
	}
	if o.RefreshTimeout > 0 {
		set.refreshTimeout = o.RefreshTimeout
	}
	if o.MaxBackoff > 0 {
		set.maxBackoff = o.MaxBackoff
	}
	set.onError, set.now = o.OnError, o.Now
	return &set
}

// faults is what a token source remembers of failures. It is made on the
// first failure and dropped once all is well again, so that a healthy
// source does not carry it. Its fields are guarded by TokenSource.mu.
type faults struct {
	fails      int       // consecutive failed flights (refresh, lock, a dead grant's look at the store)
	saveFails  int       // consecutive failed saves
	failErr    error     // the last failed flight's error, shared until failUntil
	failUntil  instant   // expired callers get failErr without a flight until then
	hold       *heldLock // the store's lock, kept after a failed save until a save succeeds
	emptySince instant   // the store has been found empty since then, after it had held a token
	dead       error     // deadTok's grant is dead: refreshing it is pointless
	deadTok    *oauth2.Token
}

// instant is a wall-clock time in Unix nanoseconds; 0 is never (or, for
// a time that is due, not scheduled). A state holds three, which as
// time.Time would cost 48 B more per token source.
type instant int64

// instantOf converts t; the zero time is 0, and times outside what Unix
// nanoseconds hold are clamped.
func instantOf(t time.Time) instant {
	switch {
	case t.IsZero():
		return 0
	case t.Before(minInstant):
		return 1
	case t.After(maxInstant):
		return math.MaxInt64
	}
	return instant(t.UnixNano())
}

var (
	minInstant = time.Unix(0, 1)
	maxInstant = time.Unix(0, math.MaxInt64)
)

func (i instant) add(d time.Duration) instant { return i + instant(d) }

// state is an immutable snapshot; readers load it with one atomic load.
type state struct {
	tok     *oauth2.Token
	expiry  instant // no longer served from here; 0: never expires
	refresh instant // the token's own refresh time; 0: never
	due     instant // a background flight (refresh, retry or save) is due from here; 0: never
	load    bool    // the store has not been read yet
	unread  bool    // the store could not be read yet: tok is still to be compared with what it holds
	unsaved bool    // tok is newer than what the store holds
	refused bool    // the provider refused tok's access token (Invalidate): not served
}

// flight is one refresh in progress; waiters share its result.
type flight struct {
	done  chan struct{}
	ended bool // done is closed; guarded by TokenSource.mu
	tok   *oauth2.Token
	err   error

	// held is the store's lock while the flight holds it: released once
	// the flight has ended, so that a process that takes it next finds
	// the flight's token published and this source ready for a new
	// flight. Only the flight's goroutine uses it.
	held *heldLock
}

// heldLock is the store's lock as a flight holds it. It is released when
// the flight ends, or at the flight's RefreshTimeout unless kept for the
// next flight (a failed save keeps it).
type heldLock struct {
	mu       sync.Mutex
	unlock   func()
	cancel   context.CancelFunc // ends the context the lock was taken with
	kept     bool
	gen      int  // counts the flights that took it over: a lapse of an earlier one does not release it
	saving   bool // a Save of the flight is running: the lock outlives the timeout until it returns
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

// save marks a Save as running under h (the lock is not let go at the
// flight's timeout meanwhile) or as done; false if h was already
// released. A nil h (no lock) is always had.
func (h *heldLock) save(on bool) bool {
	if h == nil {
		return true
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.saving = on
	return !h.released
}

// keep marks h to outlive its flight; false if it was already released.
func (h *heldLock) keep() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.kept = true
	return !h.released
}

// take hands h, kept by an earlier flight, to a new one, whose lapse is
// that of generation gen; ok is false if h was already released.
func (h *heldLock) take() (gen int, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.kept = false
	h.gen++
	return h.gen, !h.released
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
//   - with opts.Store, the first call reads the store: the stored token
//     replaces t when it is newer, and t replaces the stored token when t
//     is newer, or when the store is empty and has never held a token —
//     then t is saved (under the store's lock, when it is a [Locker]), so
//     that a restart, or another process started without a token, finds
//     it. A valid t is served at once while the store is read in the
//     background, so a store that hangs or cannot be read does not hold
//     it back (reading the store, and saving t if need be, is retried
//     with backoff); only a caller without a valid t waits for the read;
//   - every new token is saved before it is handed out, or its Save has
//     failed or outlived RefreshTimeout. A store that fails (Load, Lock
//     or Save) never refuses a token that is still valid. If Save fails
//     or hangs the new token (with its rotated refresh token) is still
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
	var store Store
	if opts != nil {
		store = opts.Store
	}
	s := new(TokenSource)
	s.init(ctx, r, store, t, newSettings(opts))
	return s
}

// init makes s, a zero TokenSource, the source of t. [Tokens] makes its
// keys' sources in place with it.
func (s *TokenSource) init(ctx context.Context, r Refresher, store Store, t *oauth2.Token, set *settings) {
	if ctx == nil {
		ctx = context.Background()
	}
	s.r, s.store, s.ctx, s.set = r, store, ctx, set
	st := s.stateFor(t)
	st.load = store != nil
	if st.load && st.usable(s.now()) {
		// A valid t is not held back by the store's first read (a store
		// that hangs would hold it for RefreshTimeout): t is served at
		// once, and the store is read and compared with t by a flight in
		// the background, due at once.
		st.load, st.unread, st.due = false, true, 1
	}
	s.cur.Store(st)
}

// clock is the time now by Options.Now.
func (s *TokenSource) clock() time.Time {
	if s.set.now != nil {
		return s.set.now()
	}
	return time.Now()
}

// now is clock as an instant. The time now needs none of instantOf's
// checks.
func (s *TokenSource) now() instant { return instant(s.clock().UnixNano()) }

// before returns d before i, and no earlier than 1 (0 would be never).
func (i instant) before(d time.Duration) instant { return max(i-instant(d), 1) }

// stateFor computes when t stops being served and when it is due.
func (s *TokenSource) stateFor(t *oauth2.Token) *state {
	st := &state{tok: t}
	if t == nil || t.AccessToken == "" {
		st.expiry = 1 // not servable
		return st
	}
	if exp := instantOf(t.Expiry); exp != 0 {
		st.expiry = exp.before(s.set.minValid)
		early := max(s.set.expireEarly, 0) // negative: early refresh is off
		if life := time.Duration(t.ExpiresIn) * time.Second; life > 0 && early > life/2 {
			// An ExpireEarly longer than half the lifetime would refresh
			// at once, forever: refresh at half-life instead.
			early = life / 2
		}
		st.refresh = exp.before(early)
	}
	if d, ok := s.r.(DueRefresher); ok {
		if at := instantOf(d.RefreshDue(t)); at != 0 && (st.refresh == 0 || at < st.refresh) {
			st.refresh = at
		}
	}
	st.due = st.refresh
	return st
}

// usable reports whether st's token may be handed out at now.
func (st *state) usable(now instant) bool {
	return st.tok != nil && !st.refused && (st.expiry == 0 || now < st.expiry)
}

// servable reports whether st's token may be handed out at now without
// reading the store first.
func (st *state) servable(now instant) bool { return !st.load && st.usable(now) }

// refreshDue reports whether st's token is due for refresh at now.
func (st *state) refreshDue(now instant) bool { return st.refresh != 0 && now >= st.refresh }

// fresh reports whether nothing is to be done about st at now: its token
// is servable, not yet due for refresh, and known to be saved.
func (st *state) fresh(now instant) bool {
	return st.servable(now) && !st.refreshDue(now) && !st.unsaved && !st.unread
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
		if st.due != 0 && now >= st.due && !s.flying.Load() {
			s.background(now)
		}
		return st.tok, nil
	}
	for again := true; ; again = false {
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
		} else if st := s.cur.Load(); again && st.refused && st.tok == f.tok {
			// The flight began before the provider refused its token:
			// join one that starts after.
			now = s.now()
			continue
		}
		return f.tok, f.err
	}
}

// Invalidate tells s that the provider refused accessToken (an API
// answered that it is invalid or expired, as when the user revoked the
// app's access). If it is the access token of s's current token, that
// token is no longer served: the next Token waits for one flight, shared
// by all callers, that first loads the store (another process may hold a
// newer token already) and otherwise refreshes. A refresh that then finds
// the grant dead gives [ErrInvalidGrant], as always; every other rule of
// [NewTokenSource] (backoff, a shared failure, RefreshTimeout) holds. Any
// other access token — a late report about a token already replaced — is
// ignored and causes no refresh.
//
// The HTTP clients of this module's provider packages (NewClient) and
// their UserInfoFrom call Invalidate and retry once when an answer says
// the token is invalid; code making its own calls may do the same.
func (s *TokenSource) Invalidate(accessToken string) {
	if accessToken == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.cur.Load()
	if st.refused || st.tok == nil || st.tok.AccessToken != accessToken {
		return
	}
	next := *st
	next.refused = true
	s.cur.Store(&next)
}

var _ wire.Invalidator = (*TokenSource)(nil)

// join returns the flight in progress, or starts one, or returns the
// failure that expired callers share until the backoff after it ends.
func (s *TokenSource) join(now instant) (*flight, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.flight != nil {
		return s.flight, nil
	}
	if err := s.deadLocked(s.cur.Load()); err != nil && s.store == nil {
		return nil, err
	}
	if f := s.f; f != nil && f.failErr != nil && now < f.failUntil {
		return nil, f.failErr
	}
	return s.startLocked(false), nil
}

// background starts a refresh unless one is in flight or a retry is not
// yet due.
func (s *TokenSource) background(now instant) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.flight != nil {
		return
	}
	if st := s.cur.Load(); st.due == 0 || now < st.due || s.deadLocked(st) != nil && !st.unsaved {
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

// faultsLocked returns s.f, making it if need be. s.mu is held.
func (s *TokenSource) faultsLocked() *faults {
	if s.f == nil {
		s.f = new(faults)
	}
	return s.f
}

// tidyLocked forgets a dead grant once its token is no longer current,
// and drops s.f once it holds nothing. s.mu is held.
func (s *TokenSource) tidyLocked() {
	f := s.f
	if f == nil {
		return
	}
	if f.dead != nil && f.deadTok != s.cur.Load().tok {
		f.dead, f.deadTok = nil, nil
	}
	if *f == (faults{}) {
		s.f = nil
	}
}

// deadLocked returns the dead grant's error if st's token is the one
// whose grant the provider declared dead. s.mu is held.
func (s *TokenSource) deadLocked(st *state) error {
	if f := s.f; f != nil && f.dead != nil && f.deadTok == st.tok {
		return f.dead
	}
	return nil
}

// dead is deadLocked, taking s.mu.
func (s *TokenSource) dead(st *state) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deadLocked(st)
}

// run performs flight f, abandoning it to its waiters once it outlives
// RefreshTimeout.
func (s *TokenSource) run(f *flight, bg bool) {
	base := context.WithoutCancel(s.ctx)
	if s.set.now != nil {
		base = wire.WithClock(base, s.set.now)
	}
	ctx, cancel := context.WithTimeout(base, s.set.refreshTimeout)
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		s.end(f, nil, &Error{Provider: "oauth2x", Op: "refresh", Kind: ErrTemporary,
			Cause: fmt.Errorf("abandoned after RefreshTimeout (%v): %w", s.set.refreshTimeout, context.DeadlineExceeded)}, bg, true)
	})
	tok, err := s.fly(ctx, base, f)
	if stop() {
		s.end(f, tok, ownTimeout(ctx, err), bg, false)
	}
	f.held.release()
}

// end ends flight f with its result, unless it has ended already: the
// failure bookkeeping, then the waiters are released. The failure of an
// abandoned flight is not shared: the next call may start a fresh one. A
// failure is reported when no caller sees it: the flight ran in the
// background, or its waiters get the token they hold instead.
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
		fl := s.faultsLocked()
		fl.fails++
		d := s.backoff(fl.fails)
		if !abandoned {
			fl.failErr, fl.failUntil = err, now.add(d)
		}
		st := s.cur.Load()
		if errors.Is(err, ErrInvalidGrant) && !errors.Is(err, ErrNoToken) {
			fl.dead, fl.deadTok = err, st.tok
		} else {
			next := *st
			next.due = now.add(d)
			s.cur.Store(&next)
		}
	} else if s.f != nil {
		s.f.fails, s.f.failErr, s.f.failUntil = 0, nil, 0
	}
	s.tidyLocked()
	unseen := bg || s.cur.Load().usable(now)
	s.mu.Unlock()
	if err != nil && unseen && !errors.Is(err, ErrNoToken) {
		s.report(err) // before the waiters go on: the flight is then done
	}
	close(f.done)
}

// fly does the work of a flight f: load, lock, load again, refresh if
// still needed, save. A store that is healthy and a token that is fresh
// cost one Load and no lock. The lock it takes is in f.held.
func (s *TokenSource) fly(ctx, base context.Context, f *flight) (*oauth2.Token, error) {
	if s.store == nil {
		return s.refresh(ctx, s.cur.Load(), f)
	}
	s.mu.Lock()
	if s.f != nil {
		f.held, s.f.hold = s.f.hold, nil
	}
	s.mu.Unlock()
	if h := f.held; h != nil {
		if gen, ok := h.take(); !ok {
			f.held = nil // lost at the previous flight's timeout
		} else {
			context.AfterFunc(ctx, func() { s.lapse(h, gen) })
		}
	}
	var st *state
	var err error
	if f.held == nil {
		// A plain load notices another process's token without the lock.
		st, err = s.load(ctx)
		if err != nil && s.stop(st, err) {
			return nil, err
		}
		if st.fresh(s.now()) {
			return st.tok, nil
		} else if dead := s.dead(st); dead != nil && !st.unsaved {
			return nil, dead
		}
		if f.held, err = s.lock(ctx, base); err != nil {
			return nil, err
		}
	}
	if f.held != nil {
		// Another process may have refreshed while we waited.
		if st, err = s.load(ctx); err != nil && s.stop(st, err) {
			return nil, err
		}
	}
	if st.fresh(s.now()) {
		return st.tok, nil
	}
	if err := s.lost(st); err != nil {
		return nil, err
	}
	return s.refresh(ctx, st, f)
}

// stop reports whether a flight ends with err, the failure of a load that
// gave st: the key was deleted ([ErrNoToken]), there is no token to
// refresh, or the caller's token, not yet compared with the store, is not
// due for refresh (the comparison is retried with backoff). Otherwise the
// flight goes on with the token in memory, and err is reported.
func (s *TokenSource) stop(st *state, err error) bool {
	if errors.Is(err, ErrNoToken) || st.tok == nil || st.unread && !st.refreshDue(s.now()) {
		return true
	}
	s.report(err)
	return false
}

// lapse releases h at the timeout of the flight that holds it as
// generation gen, unless that flight kept it, a later one took it, or a
// Save is running under it: another process taking the lock then would
// load the old token and refresh with the refresh token just used up. The
// flight lets it go once the Save returns.
func (s *TokenSource) lapse(h *heldLock, gen int) {
	h.mu.Lock()
	kept := h.kept || h.saving || h.gen != gen
	h.mu.Unlock()
	if !kept {
		h.release()
	}
}

// lock takes the store's lock on a context of its own, which ends at ctx's
// timeout unless the flight keeps the lock.
func (s *TokenSource) lock(ctx, base context.Context) (*heldLock, error) {
	l, ok := s.store.(Locker)
	if !ok {
		return nil, nil
	}
	lctx, cancel := context.WithCancel(base)
	h := &heldLock{cancel: cancel}
	context.AfterFunc(ctx, func() { s.lapse(h, 0) })
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
	if released || ctx.Err() != nil {
		// The timeout came as the lock was taken, perhaps before lapse
		// has run: the flight is abandoned and must not go on with it.
		if released {
			u()
		} else {
			h.release()
		}
		return nil, &StoreError{Op: "lock", Err: context.DeadlineExceeded}
	}
	return h, nil
}

// load reads the store and publishes what it found. The stored token
// replaces the one in memory when it is newer; the one in memory is to be
// saved when it is newer than the stored one, or when the store is empty
// and has never held a token (the caller's token, for a restart or
// another process to find). A failed load leaves the token in memory and
// returns a temporary [StoreError]. For a key's source ([Tokens]) an empty
// store means the key was deleted: the token in memory is dropped and the
// error is ErrNoToken.
func (s *TokenSource) load(ctx context.Context) (*state, error) {
	stored, err := s.store.Load(ctx)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.cur.Load()
	next := *st
	next.load, next.unread = false, false
	switch {
	case err != nil:
		err = &StoreError{Op: "load", Err: err, temporary: true}
		next.unread = st.load || st.unread
	case stored == nil && s.keyed:
		next, err = *s.stateFor(nil), ErrNoToken
	case stored == nil:
		if s.had {
			if f := s.faultsLocked(); f.emptySince == 0 {
				f.emptySince = now
			}
		} else if next.usable(now) && s.deadLocked(st) == nil {
			next.unsaved = true
		}
	default:
		s.had = true
		if s.f != nil {
			s.f.emptySince = 0
		}
		if newer(stored, st.tok) {
			next = *s.stateFor(stored)
		} else if newer(st.tok, stored) && s.deadLocked(st) == nil {
			next.unsaved = true
		}
	}
	if next.fresh(now) {
		next.due = next.refresh // a retry that was due is done
	}
	s.cur.Store(&next)
	s.tidyLocked()
	return &next, err
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
// is the best there is. (A key's source in a [Tokens] never gets here: an
// empty store is a deleted key for it.)
func (s *TokenSource) lost(st *state) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st.unsaved || s.f == nil || s.f.emptySince == 0 || s.now() >= s.f.emptySince.add(s.set.maxBackoff) {
		return nil
	}
	return &StoreError{Op: "load", Err: errStoreLost, temporary: true}
}

// refresh refreshes st's token unless only saving it is due, and saves
// the result holding f.held, the store's lock. A failed save keeps the
// lock for the next flight.
func (s *TokenSource) refresh(ctx context.Context, st *state, f *flight) (*oauth2.Token, error) {
	now := s.now()
	if !st.servable(now) || st.refreshDue(now) {
		if err := s.dead(st); err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			// Abandoned (a load that outlived RefreshTimeout, say): what
			// it read of the store is not to be trusted, and another
			// process may hold the lock by now.
			return nil, err
		}
		tok, err := s.r.Refresh(ctx, st.tok)
		switch {
		case err != nil:
		case tok == nil || tok.AccessToken == "":
			err = &Error{Provider: "oauth2x", Op: "refresh", Kind: ErrBadResponse, Cause: errors.New("refresher returned no access token")}
		case !tok.Expiry.IsZero() && !s.clock().Before(tok.Expiry):
			err = &Error{Provider: "oauth2x", Op: "refresh", Kind: ErrBadResponse, Cause: errors.New("refresher returned an expired token")}
		}
		if err != nil {
			return nil, err
		}
		st = s.next(st, tok, now)
		if s.store != nil {
			// Keep the new token (its refresh token may be the only live
			// one) before saving it, not yet to be handed out: should the
			// save outlive RefreshTimeout, the next flight saves it again
			// instead of refreshing from the stale store.
			pending := *st
			pending.load = true
			s.publish(ctx, &pending)
		}
	}
	if s.store == nil {
		s.publish(ctx, st)
		return st.tok, nil
	}
	if ctx.Err() != nil || !f.held.save(true) {
		// Abandoned while refreshing: keep the token (its refresh token
		// may be the only live one) for a later flight to save.
		s.publish(ctx, st)
		return st.tok, nil
	}
	err := s.store.Save(ctx, st.tok)
	f.held.save(false)
	s.mu.Lock()
	next := *st
	next.unsaved = err != nil
	if err == nil {
		s.had = true
		if fl := s.f; fl != nil {
			fl.saveFails, fl.emptySince = 0, 0
		}
		next.due = next.refresh
	} else {
		fl := s.faultsLocked()
		fl.saveFails++
		wait := s.backoff(fl.saveFails)
		next.due = s.now().add(wait)
		if next.refresh != 0 && next.refresh < next.due {
			next.due = next.refresh
		}
		if h := f.held; h != nil && !errors.Is(err, ErrLockLost) && h.keep() {
			fl.hold = h // no other process refreshes from the stale store
			f.held = nil
			// The retry must come even if no one reads: others wait
			// for this lock.
			time.AfterFunc(wait, func() { s.background(s.now()) })
		}
	}
	s.mu.Unlock()
	if err != nil {
		s.report(&StoreError{Op: "save", Err: err})
	}
	s.publish(ctx, &next)
	return next.tok, nil
}

// next is the state of tok, which refreshing st's token gave at now.
func (s *TokenSource) next(st *state, tok *oauth2.Token, now instant) *state {
	if tok.ExpiresIn == 0 && !tok.Expiry.IsZero() {
		// Record the lifetime (x/oauth2's clientcredentials leaves it out):
		// the half-life rule in stateFor needs it, in every process that
		// loads this token.
		c := *tok
		c.ExpiresIn = int64(time.Duration(instantOf(c.Expiry)-now) / time.Second)
		tok = &c
	}
	next := s.stateFor(tok)
	next.unsaved = s.store != nil
	if same := st.tok != nil && tok.AccessToken == st.tok.AccessToken; same || !next.servable(now) {
		// The refresh gave the same token again (Douyin's stable client
		// token does so while it lives) or one with less than MinValid
		// left: nothing better is to be had before it expires, so it is
		// served to its end and refreshed then, not again and again.
		end := instantOf(tok.Expiry)
		if same && end != 0 && now < end.before(s.set.minValid) {
			end = end.before(s.set.minValid)
		}
		next.expiry, next.refresh, next.due = end, end, end
	}
	return next
}

// publish makes st current. A flight abandoned at its timeout (ctx done)
// only publishes a token newer than the current one; if it is unsaved, a
// later flight saves it.
func (s *TokenSource) publish(ctx context.Context, st *state) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur := s.cur.Load(); cur.refused && cur.tok == st.tok && !st.refused {
		// A flight that only saved the token while the provider refused
		// it does not make it served again.
		c := *st
		c.refused = true
		st = &c
	}
	if ctx.Err() != nil {
		if cur := s.cur.Load().tok; st.tok != cur && !newer(st.tok, cur) {
			return
		}
		if st.unsaved {
			c := *st
			c.due = s.now()
			st = &c
		}
	}
	s.cur.Store(st)
	s.tidyLocked()
}

// backoff returns how long to wait after the nth consecutive failure: 1s,
// 2s, 4s, … up to MaxBackoff, less up to a quarter at random.
func (s *TokenSource) backoff(n int) time.Duration {
	d := min(minBackoff<<min(max(n-1, 0), 20), s.set.maxBackoff)
	return d - time.Duration(rand.Int64N(int64(d/4)+1))
}

func (s *TokenSource) report(err error) {
	if s.set.onError != nil {
		s.set.onError(err)
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
// failed. Failures that no caller sees reach [Options.OnError]; a failed
// lock or load, or a store found to have lost the token it held, is
// returned to callers whose token has expired (or who have none yet), and
// is temporary.
type StoreError struct {
	Op  string // "load", "save", "lock" or "delete"
	Err error

	temporary bool // a load that failed, or found the store had lost its token
}

// Error names the store operation and its failure.
func (e *StoreError) Error() string { return "oauth2x: token store " + e.Op + ": " + e.Err.Error() }

// Unwrap returns the store's own error, and [ErrTemporary] for a lock
// that was not had, a load that failed or a store that lost its token:
// retrying later may succeed.
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
