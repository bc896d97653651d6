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
