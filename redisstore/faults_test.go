//go:build unix

package redisstore_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/redisstore"
)

// acquireCalls is how many lock-taking commands (SET NX, or the script)
// the server at c has run.
func acquireCalls(t *testing.T, c *redis.Client) int {
	t.Helper()
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(info, "\n") {
		for _, cmd := range []string{"cmdstat_setnx:", "cmdstat_set:", "cmdstat_evalsha:", "cmdstat_eval:"} {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(line), cmd); ok {
				calls, _, _ := strings.Cut(strings.TrimPrefix(rest, "calls="), ",")
				v, _ := strconv.Atoi(calls)
				n += v
			}
		}
	}
	return n
}

// TestLockThroughPause pauses Redis (SIGSTOP) while a lock is being taken,
// long enough for go-redis to time out and retry the command, and resumes
// it (SIGCONT): the first attempt lands, and the retry must recognise the
// lock as its own rather than wait out its own lease polling.
func TestLockThroughPause(t *testing.T) {
	srv := startRedis(t)
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer admin.Close()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr(), ReadTimeout: 500 * time.Millisecond, WriteTimeout: 500 * time.Millisecond, MaxRetries: 3})
	defer c.Close()
	store := redisstore.New(c, redisstore.Key("test", "pause", "u"), nil) // LockTTL 30s
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	admin.ConfigResetStat(context.Background())

	if err := srv.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second) // under the 30s lease
	defer cancel()
	type result struct {
		unlock func()
		err    error
	}
	got := make(chan result, 1)
	go func() {
		u, err := store.Lock(ctx)
		got <- result{u, err}
	}()
	// The pause is the fault: it outlasts go-redis's read timeout (500ms),
	// so the command is sent again while Redis is stopped.
	time.Sleep(800 * time.Millisecond)
	if err := srv.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	r := <-got
	if r.err != nil {
		t.Fatalf("Lock after the pause: %v (the retry waited on its own lease)", r.err)
	}
	defer r.unlock()
	n := acquireCalls(t, admin)
	t.Logf("FAULT 10 redis-pause: Lock returned holding the lock after %d lock commands", n)
	if n > 8 {
		t.Errorf("lock commands = %d: the retry polled its own lease", n)
	}
}

// TestSaveFencedByLease: a holder that lost its lease (Redis restarted
// empty, or the holder was paused past it; here the lock key is deleted)
// cannot overwrite the token saved by the holder after it, and learns of
// the loss from its Save.
func TestSaveFencedByLease(t *testing.T) {
	rdb, _ := sharedRedis(t)
	key := testKey(t, rdb, "fence")
	a, b := redisstore.New(rdb, key, nil), redisstore.New(rdb, key, nil)
	ctx := context.Background()
	unlockA, err := a.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer unlockA()
	rdb.Del(ctx, a.LockKey()) // A's lease is gone
	unlockB, err := b.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	newer := &oauth2.Token{AccessToken: "at-b", RefreshToken: "rt-b", Expiry: time.Now().Add(2 * time.Hour)}
	if err := b.Save(ctx, newer); err != nil {
		t.Fatal(err)
	}
	unlockB()
	err = a.Save(ctx, &oauth2.Token{AccessToken: "at-a", RefreshToken: "rt-a", Expiry: time.Now().Add(time.Hour)})
	got, lerr := b.Load(ctx)
	if lerr != nil {
		t.Fatal(lerr)
	}
	overwritten := 0
	if got.RefreshToken != "rt-b" {
		overwritten = 1
	}
	t.Logf("FAULT 11 redis-lost-lease: %d newer tokens overwritten by the holder that lost its lease; its Save said %v", overwritten, err)
	if overwritten != 0 {
		t.Errorf("stored %s after the old holder's Save, want the newer rt-b", got.RefreshToken)
	}
	if !errors.Is(err, oauth2x.ErrLockLost) || !oauth2x.IsTemporary(err) {
		t.Errorf("old holder's Save = %v, want a temporary ErrLockLost", err)
	}
}

// TestLeaseEndsWithContext: a holder stuck past its context (a refresh
// that outlived RefreshTimeout) is not renewed; its lock is released, and
// another process gets it.
func TestLeaseEndsWithContext(t *testing.T) {
	rdb, _ := sharedRedis(t)
	key := testKey(t, rdb, "stuck")
	opts := &redisstore.Options{LockTTL: 300 * time.Millisecond}
	stuck, other := redisstore.New(rdb, key, opts), redisstore.New(rdb, key, opts)
	hctx, hcancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer hcancel()
	if _, err := stuck.Lock(hctx); err != nil { // never unlocks
		t.Fatal(err)
	}
	<-hctx.Done()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // 30 leases
	defer cancel()
	unlock, err := other.Lock(ctx)
	if err != nil {
		t.Fatalf("another holder after the stuck one's context ended: %v (its lease kept being renewed)", err)
	}
	unlock()
	t.Logf("FAULT 4 redis-stuck-holder: lease not renewed after the holder's context ended; another holder got the lock")
}

// TestRestartEmptyMidRefresh kills Redis (no persistence) right after the
// provider rotated the refresh token for one replica, so that its Save
// fails, and starts Redis again empty: no lock, no token. A second replica
// (its own client) whose token has expired must not refresh with the
// refresh token the first has used up; it gets temporary errors until the
// first saves again, then the first's token.
func TestRestartEmptyMidRefresh(t *testing.T) {
	srv := startRedis(t)
	ctx := context.Background()
	clk := newClock()
	up := &upstream{clk: clk}
	key := redisstore.Key("test", "restart", "user-1")
	saved := make(chan *oauth2.Token, 1)
	aErrs := make(chan error, 16)
	source := func(saved chan *oauth2.Token, report func(error)) *oauth2x.TokenSource {
		c := redis.NewClient(&redis.Options{Addr: srv.Addr()})
		t.Cleanup(func() { c.Close() })
		return oauth2x.NewTokenSource(ctx, up, nil, &oauth2x.Options{
			Store: savingStore{redisstore.New(c, key, &redisstore.Options{LockTTL: time.Second, Now: clk.Now}), saved},
			Now:   clk.Now, RefreshTimeout: 2 * time.Second, OnError: report})
	}
	seed := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer seed.Close()
	if err := redisstore.New(seed, key, nil).Save(ctx, up.issue()); err != nil {
		t.Fatal(err)
	}
	a := source(saved, func(err error) { aErrs <- err })
	b := source(make(chan *oauth2.Token, 1), func(error) {})
	for _, s := range []*oauth2x.TokenSource{a, b} {
		if _, err := s.Token(); err != nil { // each reads the store
			t.Fatal(err)
		}
	}
	clk.Advance(time.Hour) // expired everywhere
	up.mu.Lock()
	up.after = srv.Stop // the rotated refresh token now lives only in a
	up.mu.Unlock()
	tokA, err := a.Token()
	if err != nil {
		t.Fatalf("a: %v", err)
	}
	if err := srv.Start(); err != nil { // empty: no lock, no token
		t.Fatal(err)
	}
	waitUp(t, seed)
	_, bErr := b.Token()
	if bErr == nil || !oauth2x.IsTemporary(bErr) {
		t.Errorf("b while only a holds the live refresh token: %v, want a temporary error", bErr)
	}
	// a's save retries (backing off from 1s) until one lands.
	for try := 0; ; try++ {
		if try == 5 {
			t.Fatal("a did not save again in 5 retries")
		}
		clk.Advance(10 * time.Second)
		a.Token()
		select {
		case <-saved:
		case <-aErrs:
			continue
		case <-time.After(30 * time.Second): // a guard against a hang, not a timing
			t.Fatal("a's retry neither saved nor failed")
		}
		break
	}
	clk.Advance(10 * time.Second) // past b's backoff
	got, err := b.Token()
	refreshes, stale := up.counts()
	t.Logf("FAULT 7 redis-restart-empty: %d stale refreshes, %d refreshes; b: %q, then the live token", stale, refreshes, bErr)
	if stale != 0 {
		t.Errorf("stale refreshes = %d, want 0", stale)
	}
	if err != nil || got.RefreshToken != tokA.RefreshToken {
		t.Errorf("b in the end: %v, %v; want a's %s", got, err, tokA.RefreshToken)
	}
}
