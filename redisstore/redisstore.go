// Package redisstore keeps an OAuth 2.0 token in Redis so that many
// processes — the replicas of a service — share it through
// [oauth2x.NewTokenSource] and cause one upstream refresh between them.
//
// A [*Store] is an [oauth2x.Store] and an [oauth2x.Locker] for one Redis
// key. It works with every [redis.UniversalClient]: a single node, Sentinel
// (a failover client) or Cluster. Every command touches one key, and a
// token's lock key is in the same hash slot as the token key when the key is
// built with [Key].
//
//	rdb := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{"redis:6379"}})
//	store := redisstore.New(rdb, redisstore.Key("douyin", conf.ClientKey, openID), nil)
//	// Once, after login: store.Save(ctx, tok). Then in every replica:
//	src := oauth2x.NewTokenSource(ctx, conf, nil, &oauth2x.Options{Store: store})
//	tok, err := src.Token()
//
// For many users, a [*KeyedStore] ([NewKeyed]) is an [oauth2x.KeyedStore]
// and [oauth2x.KeyedLocker] for [oauth2x.NewTokens]: one Redis key and one
// lock per user key, run by the same code as a Store's.
//
//	tokens := oauth2x.NewTokens(conf, redisstore.NewKeyed(rdb, "douyin", conf.ClientKey, nil), nil)
//	// Login callback: tokens.Put(ctx, userID, tok). Any replica: tokens.Token(ctx, userID).
//
// The token is stored as the JSON of [oauth2x.MarshalToken], so the extras
// the library relies on (open_id, the refresh token's expiry, scope) survive.
// Its key expires a while after the refresh token does (see [Options]), so
// abandoned users do not pile up.
//
// The lock is a lease: SET key+":lock" owner NX PX LockTTL with a random
// owner value, renewed while held, released by a script that deletes the
// key only if it still holds the caller's owner value. A holder that dies
// stops renewing and its lease lapses; a holder that lost its lease can
// never delete or extend a lock someone else took since.
//
// Redis being unreachable is a temporary failure: errors satisfy
// errors.Is(err, oauth2x.ErrTemporary), so [oauth2x.IsTemporary] is true of
// the error a token source returns when it cannot lock. Callers holding a
// valid token never touch Redis and keep working through an outage.
package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	mrand "math/rand/v2"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
)

// Defaults for [Options].
const (
	// DefaultLockTTL is the default lease of a lock.
	DefaultLockTTL = 30 * time.Second
	// DefaultExpiryMargin is how long by default a key outlives its
	// refresh token.
	DefaultExpiryMargin = 24 * time.Hour
	// DefaultUnknownRefreshTTL is how long by default a key outlives its
	// access token when the refresh token's expiry is unknown.
	DefaultUnknownRefreshTTL = 30 * 24 * time.Hour
	// DefaultMinPoll is the default first wait for a lock someone holds.
	DefaultMinPoll = 2 * time.Millisecond
	// DefaultMaxPoll is the default longest wait between attempts to take
	// a lock someone holds.
	DefaultMaxPoll = 50 * time.Millisecond
)

// minKeyTTL is the shortest life Save gives a key, so that saving a token
// whose refresh token has already expired still stores it for a while.
const minKeyTTL = time.Minute

// unlockTimeout bounds the commands that release or clean up a lock, which
// run on a context of their own: the caller's may be done by then.
const unlockTimeout = 5 * time.Second

// Options tunes a [Store]. A nil *Options, and every zero field, means the
// default.
type Options struct {
	// LockTTL is the lock's lease. While the lock is held the lease is
	// renewed every LockTTL/3, so a refresh may take longer than LockTTL;
	// a holder that dies (crash, kill -9, network partition) stops
	// renewing, and its lock lapses at most LockTTL later. Zero means
	// DefaultLockTTL (30s).
	LockTTL time.Duration

	// ExpiryMargin is how long the token's key outlives its refresh
	// token's expiry (oauth2x.RefreshExpiry). Zero means
	// DefaultExpiryMargin (24h).
	ExpiryMargin time.Duration

	// UnknownRefreshTTL is how long the key outlives the access token's
	// expiry when the refresh token's expiry is unknown. Zero means
	// DefaultUnknownRefreshTTL (30 days). A token without any expiry is
	// stored without a TTL.
	UnknownRefreshTTL time.Duration

	// MinPoll and MaxPoll bound the wait between attempts to take a lock
	// someone else holds: the wait starts at MinPoll and doubles up to
	// MaxPoll, with jitter. A waiter takes the lock at most about MaxPoll
	// after it is released. Zero means DefaultMinPoll (2ms) and
	// DefaultMaxPoll (50ms).
	MinPoll, MaxPoll time.Duration

	// Now is the clock TTLs are computed with. Nil means time.Now. Give it
	// the same clock as oauth2x.Options.Now.
	Now func() time.Time
}

// Store is an [oauth2x.Store] and [oauth2x.Locker] holding one token in
// one Redis key. It is safe for concurrent use; make one with [New], or
// with [KeyedStore.Store] for one key of a keyed store.
type Store struct {
	l   *lease
	key string
}

var (
	_ oauth2x.Store  = (*Store)(nil)
	_ oauth2x.Locker = (*Store)(nil)
)

// New returns a Store keeping its token in key and its lock in
// key+":lock". Build key with [Key] so that both are in one Redis Cluster
// hash slot. opts may be nil.
func New(client redis.UniversalClient, key string, opts *Options) *Store {
	return &Store{l: newLease(client, opts), key: key}
}

// lease is the code [Store] and [KeyedStore] share: one Redis client, the
// options, and the locks held through it, whose owner values fence Save.
// It is safe for concurrent use.
type lease struct {
	rdb  redis.UniversalClient
	opts Options

	mu     sync.Mutex        // guards owners
	owners map[string]string // lock key → its owner value, while held through this lease
}

func newLease(client redis.UniversalClient, opts *Options) *lease {
	l := &lease{rdb: client, owners: map[string]string{}}
	if opts != nil {
		l.opts = *opts
	}
	o := &l.opts
	if o.LockTTL <= 0 {
		o.LockTTL = DefaultLockTTL
	}
	if o.ExpiryMargin <= 0 {
		o.ExpiryMargin = DefaultExpiryMargin
	}
	if o.UnknownRefreshTTL <= 0 {
		o.UnknownRefreshTTL = DefaultUnknownRefreshTTL
	}
	if o.MinPoll <= 0 {
		o.MinPoll = DefaultMinPoll
	}
	if o.MaxPoll <= 0 {
		o.MaxPoll = DefaultMaxPoll
	}
	o.MaxPoll = max(o.MaxPoll, o.MinPoll)
	if o.Now == nil {
		o.Now = time.Now
	}
	return l
}

// lockKey is the key of the lock of the token in key.
func lockKey(key string) string { return key + ":lock" }

// Key returns the Redis key of a token:
//
//	oauth2x:{<provider>:<clientKey>:<user>}   a user's token, e.g. oauth2x:{douyin:aw05az2qjv4hg5ti:_000HgDBHlj0-fc0dHBA}
//	oauth2x:{<provider>:<clientKey>}          the application's client token (user == "")
//
// and [New] puts its lock in the same key with ":lock" appended.
//
// The braces are a Redis Cluster hash tag: Cluster hashes only what is
// between the first "{" and the next "}", so a token key and its lock key
// always live in the same slot, on the same node — which Cluster requires
// of the keys one script touches, and which keeps a token and its lock
// failing over together. Each user is a tag of its own, so the users of one
// application spread over the whole cluster instead of loading one slot.
//
// In each part, "%", ":", "{" and "}" are written as %25, %3A, %7B and %7D,
// so that distinct arguments never make the same key and a "}" in a user
// id cannot end the tag early.
func Key(provider, clientKey, user string) string {
	if user == "" {
		return appKey(provider, clientKey) + "}"
	}
	return userKeyPrefix(provider, clientKey) + escape(user) + "}"
}

// appKey is a key up to its closing brace.
func appKey(provider, clientKey string) string {
	return "oauth2x:{" + escape(provider) + ":" + escape(clientKey)
}

// userKeyPrefix is what every user's key of one application starts with.
func userKeyPrefix(provider, clientKey string) string { return appKey(provider, clientKey) + ":" }

var keyEscaper = strings.NewReplacer("%", "%25", ":", "%3A", "{", "%7B", "}", "%7D")

func escape(s string) string { return keyEscaper.Replace(s) }

// Key returns the Redis key the token is stored in.
func (s *Store) Key() string { return s.key }

// LockKey returns the Redis key of the lock: Key()+":lock".
func (s *Store) LockKey() string { return lockKey(s.key) }

// Load returns the stored token, or (nil, nil) when there is none.
func (s *Store) Load(ctx context.Context) (*oauth2.Token, error) { return s.l.load(ctx, s.key) }

func (l *lease) load(ctx context.Context, key string) (*oauth2.Token, error) {
	data, err := l.rdb.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, l.fail(ctx, "load", key, err)
	}
	return oauth2x.UnmarshalToken(data)
}

// Save stores t, encoded with [oauth2x.MarshalToken], replacing what was
// there. The key expires ExpiryMargin after t's refresh token does; when
// that is unknown, UnknownRefreshTTL after t's access token does; a token
// with no expiry at all is kept without a TTL. A key is given at least a
// minute.
//
// While this Store holds the lock, Save is fenced: it writes, in one
// script, only if the lock still holds this holder's owner value, and
// otherwise fails with an error matching [oauth2x.ErrLockLost] — a holder
// whose lease lapsed never overwrites a newer token saved by the holder
// after it. Without the lock (a first save after login) it writes
// unconditionally.
func (s *Store) Save(ctx context.Context, t *oauth2.Token) error { return s.l.save(ctx, s.key, t) }

func (l *lease) save(ctx context.Context, key string, t *oauth2.Token) error {
	data, err := oauth2x.MarshalToken(t)
	if err != nil {
		return err
	}
	lk := lockKey(key)
	l.mu.Lock()
	owner := l.owners[lk]
	l.mu.Unlock()
	if owner == "" {
		err = l.rdb.Set(ctx, key, data, l.ttl(t)).Err()
	} else {
		var n int
		n, err = fencedSaveScript.Run(ctx, l.rdb, []string{key, lk}, owner, data, l.ttl(t).Milliseconds()).Int()
		if err == nil && n == 0 {
			return &Error{Op: "save", Key: key, Temporary: true, Err: oauth2x.ErrLockLost}
		}
	}
	if err != nil {
		return l.fail(ctx, "save", key, err)
	}
	return nil
}

// fencedSaveScript sets KEYS[1] to ARGV[2] (with a TTL of ARGV[3] ms, none
// when 0) only while the lock KEYS[2] holds the owner value ARGV[1].
var fencedSaveScript = redis.NewScript(`
if redis.call("GET", KEYS[2]) ~= ARGV[1] then
	return 0
end
if tonumber(ARGV[3]) > 0 then
	redis.call("SET", KEYS[1], ARGV[2], "PX", ARGV[3])
else
	redis.call("SET", KEYS[1], ARGV[2])
end
return 1`)

// ttl is the life Save gives t's key; 0 means none.
func (l *lease) ttl(t *oauth2.Token) time.Duration {
	var until time.Time
	switch re := oauth2x.RefreshExpiry(t); {
	case !re.IsZero():
		until = re.Add(l.opts.ExpiryMargin)
	case !t.Expiry.IsZero():
		until = t.Expiry.Add(l.opts.UnknownRefreshTTL)
	default:
		return 0
	}
	return max(until.Sub(l.opts.Now()), minKeyTTL).Round(time.Millisecond)
}

// Delete removes the stored token. A missing key is not an error. It does
// not touch the lock.
func (s *Store) Delete(ctx context.Context) error { return s.l.del(ctx, s.key) }

func (l *lease) del(ctx context.Context, key string) error {
	if err := l.rdb.Del(ctx, key).Err(); err != nil {
		return l.fail(ctx, "delete", key, err)
	}
	return nil
}

// releaseScript deletes the lock only if the caller still owns it.
var releaseScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0`)

// renewScript extends the lock's lease only if the caller still owns it.
var renewScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("PEXPIRE", KEYS[1], ARGV[2])
end
return 0`)

// acquireScript takes the lock KEYS[1] for owner ARGV[1] with a lease of
// ARGV[2] ms, or finds it already ours: a retried attempt whose first try
// landed (go-redis retries after a timeout, say while Redis was paused)
// then succeeds at once instead of waiting out its own lease.
var acquireScript = redis.NewScript(`
local v = redis.call("GET", KEYS[1])
if v == ARGV[1] then
	redis.call("PEXPIRE", KEYS[1], ARGV[2])
	return 1
end
if v then
	return 0
end
redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2])
return 1`)

// Lock takes the store's lock, waiting until it is free or ctx is done. It
// returns ctx's error when ctx ends first, and an error matching
// oauth2x.ErrTemporary when Redis cannot be reached; it does not keep
// retrying an unreachable Redis. The returned unlock releases the lock if
// the caller still owns it; calling it again does nothing.
//
// While held, the lock's lease (Options.LockTTL) is renewed in the
// background until unlock is called or ctx is done: a holder stuck past
// its context (oauth2x's RefreshTimeout) is not renewed, and its lock is
// released then. If the lease is lost anyway (Redis restarted without
// persistence, or the holder was paused for longer than the lease),
// another process may take the lock; this holder's Save then fails with
// oauth2x.ErrLockLost and its unlock leaves the other's lock alone.
func (s *Store) Lock(ctx context.Context) (unlock func(), err error) { return s.l.lock(ctx, s.key) }

func (l *lease) lock(ctx context.Context, key string) (unlock func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	lk := lockKey(key)
	owner := newOwner()
	wait := l.opts.MinPoll
	for {
		n, err := acquireScript.Run(ctx, l.rdb, []string{lk}, owner, l.opts.LockTTL.Milliseconds()).Int()
		if err != nil {
			if mayHaveApplied(err) {
				// The SET may have been applied with only its answer lost:
				// release what may be ours rather than block everyone for
				// a lease.
				l.release(lk, owner)
			}
			return nil, l.fail(ctx, "lock", lk, err)
		}
		if n == 1 {
			return l.held(ctx, lk, owner), nil
		}
		t := time.NewTimer(jitter(wait))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, l.opts.MaxPoll)
	}
}

// held starts renewing owner's lease of the lock lk until unlock or until
// lockCtx is done, and returns the function that stops renewing and
// releases it.
func (l *lease) held(lockCtx context.Context, lk, owner string) func() {
	l.mu.Lock()
	l.owners[lk] = owner
	l.mu.Unlock()
	ctx, stop := context.WithCancel(lockCtx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		every := max(l.opts.LockTTL/3, time.Millisecond)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			rctx, cancel := context.WithTimeout(ctx, every)
			n, err := renewScript.Run(rctx, l.rdb, []string{lk}, owner, l.opts.LockTTL.Milliseconds()).Int()
			cancel()
			if err == nil && n == 0 {
				return // lost: someone else's lock now, or none
			}
			// On an error, try again at the next tick: the lease may outlast
			// a short outage.
		}
	}()
	var once sync.Once
	unlock := func() {
		once.Do(func() {
			stop()
			<-done
			l.mu.Lock()
			if l.owners[lk] == owner {
				delete(l.owners, lk)
			}
			l.mu.Unlock()
			l.release(lk, owner)
		})
	}
	context.AfterFunc(lockCtx, unlock) // not renewed past lockCtx: released then
	return unlock
}

// release deletes the lock lk if owner holds it. Errors are dropped: the
// lease ends the lock anyway.
func (l *lease) release(lk, owner string) {
	ctx, cancel := context.WithTimeout(context.Background(), unlockTimeout)
	defer cancel()
	_ = releaseScript.Run(ctx, l.rdb, []string{lk}, owner).Err()
}

// mayHaveApplied reports whether a command that failed with err may have
// been carried out: not when no connection could be made, nor when Redis
// answered with an error.
func mayHaveApplied(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return false
	}
	var re redis.Error
	return !errors.As(err, &re)
}

// newOwner returns a random lock owner value.
func newOwner() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

// jitter returns d give or take a quarter, so that waiters spread out.
func jitter(d time.Duration) time.Duration {
	q := int64(d / 4)
	if q <= 0 {
		return d
	}
	return d - time.Duration(q) + time.Duration(mrand.Int64N(2*q+1))
}

// Error is a Redis failure in a [Store] operation, or a fenced Save refused
// because the lock was lost (Err is oauth2x.ErrLockLost). errors.Is(err,
// oauth2x.ErrTemporary) is true when trying again later may succeed — the
// network, a timeout, a server loading its data or failing over — so
// [oauth2x.IsTemporary] can tell an outage from a misconfiguration (wrong
// password, a key of the wrong type). It unwraps to the go-redis error.
type Error struct {
	Op        string // "load", "save", "delete" or "lock"
	Key       string // the Redis key
	Temporary bool   // retrying later may succeed
	Err       error  // from go-redis
}

// Error describes the failure: the operation, the key and Redis's error.
func (e *Error) Error() string {
	s := "redisstore: " + e.Op + " " + e.Key + ": " + e.Err.Error()
	if e.Temporary {
		s += " (temporary)"
	}
	return s
}

// Unwrap returns the go-redis error.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is oauth2x.ErrTemporary and e is temporary.
func (e *Error) Is(target error) bool { return e.Temporary && target == oauth2x.ErrTemporary }

// fail wraps err from op on key; when ctx is done it returns ctx's error
// instead, as the caller asked to stop.
func (l *lease) fail(ctx context.Context, op, key string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return &Error{Op: op, Key: key, Temporary: temporary(err), Err: err}
}

// temporary reports whether err, from go-redis, may go away on its own.
func temporary(err error) bool {
	if errors.Is(err, redis.ErrClosed) {
		return false // the client was closed: a bug, not an outage
	}
	var re redis.Error
	if !errors.As(err, &re) {
		return true // network, timeout, full pool: no answer from Redis
	}
	return redis.IsLoadingError(err) || redis.IsReadOnlyError(err) ||
		redis.IsClusterDownError(err) || redis.IsTryAgainError(err) ||
		redis.IsMasterDownError(err) || redis.IsMaxClientsError(err) ||
		redis.IsNoReplicasError(err) || redis.HasErrorPrefix(err, "BUSY") ||
		redis.HasErrorPrefix(err, "OOM")
}
