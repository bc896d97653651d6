package redisstore_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/redisstore"
)

// crc16 is Redis Cluster's key hash (CRC-16/XMODEM).
func crc16(s string) uint16 {
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc ^= uint16(s[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// slot is the Redis Cluster hash slot of key, hash tags included.
func slot(key string) uint16 {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	return crc16(key) % 16384
}

func TestKey(t *testing.T) {
	// Vectors from the Redis Cluster specification.
	if got := crc16("123456789"); got != 0x31C3 {
		t.Fatalf("crc16 = %#x, want 0x31c3", got)
	}
	if got := slot("foo"); got != 12182 {
		t.Fatalf("slot(foo) = %d, want 12182", got)
	}

	for _, tc := range []struct{ provider, client, user, want string }{
		{"douyin", "aw05az2qjv4hg5ti", "_000HgDBHlj0-fc0dHBA", "oauth2x:{douyin:aw05az2qjv4hg5ti:_000HgDBHlj0-fc0dHBA}"},
		{"douyin", "aw05az2qjv4hg5ti", "", "oauth2x:{douyin:aw05az2qjv4hg5ti}"},
		{"p", "a:b", "", "oauth2x:{p:a%3Ab}"},
		{"p", "a", "b", "oauth2x:{p:a:b}"},
		{"p", "c", "u}x{", "oauth2x:{p:c:u%7Dx%7B}"},
		{"p", "c", "100%", "oauth2x:{p:c:100%25}"},
	} {
		got := redisstore.Key(tc.provider, tc.client, tc.user)
		if got != tc.want {
			t.Errorf("Key(%q, %q, %q) = %q, want %q", tc.provider, tc.client, tc.user, got, tc.want)
		}
		lock := redisstore.New(nil, got, nil).LockKey()
		if lock != got+":lock" {
			t.Errorf("LockKey = %q, want %q", lock, got+":lock")
		}
		if slot(got) != slot(lock) {
			t.Errorf("%q is in slot %d, its lock in %d", got, slot(got), slot(lock))
		}
	}
	// Two users of one app land in different slots (the tag is per user).
	if a, b := slot(redisstore.Key("douyin", "ck", "user-a")), slot(redisstore.Key("douyin", "ck", "user-b")); a == b {
		t.Errorf("two users share slot %d", a)
	}
}

// tokenWithExtras is a Douyin-like token: open_id, scope and the refresh
// token's expiry ride in Extra.
func tokenWithExtras(now time.Time, access, refresh string) *oauth2.Token {
	return (&oauth2.Token{
		AccessToken:  access,
		TokenType:    "Bearer",
		RefreshToken: refresh,
		Expiry:       now.Add(15 * 24 * time.Hour),
		ExpiresIn:    15 * 24 * 3600,
	}).WithExtra(map[string]any{
		"open_id":              "open-id-1",
		"scope":                "user_info,video.list",
		"refresh_expires_in":   int64(30 * 24 * 3600),
		"refresh_token_expiry": now.Add(30 * 24 * time.Hour).Unix(),
	})
}

func TestRoundTrip(t *testing.T) {
	rdb, _ := sharedRedis(t)
	ctx := context.Background()
	now := time.Now().Truncate(time.Second)
	s := redisstore.New(rdb, testKey(t, rdb, "u"), &redisstore.Options{Now: func() time.Time { return now }})

	got, err := s.Load(ctx)
	if got != nil || err != nil {
		t.Fatalf("Load of a missing key = %v, %v; want nil, nil", got, err)
	}

	want := tokenWithExtras(now, "act.1", "rft.1")
	if err := s.Save(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err = s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken != want.AccessToken || got.RefreshToken != want.RefreshToken ||
		got.TokenType != want.TokenType || !got.Expiry.Equal(want.Expiry) || got.ExpiresIn != want.ExpiresIn {
		t.Errorf("Load = %+v, want %+v", got, want)
	}
	if v := got.Extra("open_id"); v != "open-id-1" {
		t.Errorf("open_id = %v", v)
	}
	if v := got.Extra("scope"); v != "user_info,video.list" {
		t.Errorf("scope = %v", v)
	}
	if re, wre := oauth2x.RefreshExpiry(got), oauth2x.RefreshExpiry(want); re.IsZero() || !re.Equal(wre) {
		t.Errorf("RefreshExpiry = %v, want %v", re, wre)
	}

	// The stored bytes are MarshalToken's, so any store reads them.
	raw, err := rdb.Get(ctx, s.Key()).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := oauth2x.UnmarshalToken(raw); err != nil {
		t.Errorf("stored value is not MarshalToken's: %v", err)
	}

	if err := s.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Load(ctx); got != nil || err != nil {
		t.Fatalf("Load after Delete = %v, %v; want nil, nil", got, err)
	}
	if err := s.Delete(ctx); err != nil {
		t.Fatalf("Delete of a missing key: %v", err)
	}
}

func TestSaveTTL(t *testing.T) {
	rdb, _ := sharedRedis(t)
	ctx := context.Background()
	now := time.Now().Truncate(time.Second)
	opts := &redisstore.Options{Now: func() time.Time { return now }}
	day := 24 * time.Hour
	for _, tc := range []struct {
		name string
		tok  *oauth2.Token
		want time.Duration // 0: no TTL
	}{
		{"refresh expiry known", tokenWithExtras(now, "a", "r"), 30*day + redisstore.DefaultExpiryMargin},
		{"access expiry only", &oauth2.Token{AccessToken: "a", RefreshToken: "r", Expiry: now.Add(2 * time.Hour)}, 2*time.Hour + redisstore.DefaultUnknownRefreshTTL},
		{"no expiry", &oauth2.Token{AccessToken: "a"}, 0},
		{"refresh token long dead", (&oauth2.Token{AccessToken: "a", RefreshToken: "r", Expiry: now.Add(-90 * day)}).
			WithExtra(map[string]any{"refresh_token_expiry": now.Add(-60 * day).Unix()}), time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := redisstore.New(rdb, testKey(t, rdb, "ttl"), opts)
			if err := s.Save(ctx, tc.tok); err != nil {
				t.Fatal(err)
			}
			ttl, err := rdb.PTTL(ctx, s.Key()).Result()
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == 0 {
				if ttl >= 0 {
					t.Errorf("PTTL = %v, want none", ttl)
				}
				return
			}
			// The TTL was set to exactly want; the server has since counted
			// some of it down.
			if ttl > tc.want || ttl < tc.want-time.Minute {
				t.Errorf("PTTL = %v, want %v", ttl, tc.want)
			}
		})
	}

	// Saving a token without a TTL over one with a TTL clears the TTL.
	s := redisstore.New(rdb, testKey(t, rdb, "ttl"), opts)
	if err := s.Save(ctx, tokenWithExtras(now, "a", "r")); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, &oauth2.Token{AccessToken: "b"}); err != nil {
		t.Fatal(err)
	}
	if ttl := rdb.PTTL(ctx, s.Key()).Val(); ttl >= 0 {
		t.Errorf("PTTL = %v after saving a token without expiry, want none", ttl)
	}
}

func TestErrors(t *testing.T) {
	rdb, _ := sharedRedis(t)
	ctx := context.Background()
	s := redisstore.New(rdb, testKey(t, rdb, "err"), nil)

	// A key of the wrong type is a misconfiguration, not an outage.
	if err := rdb.HSet(ctx, s.Key(), "f", "v").Err(); err != nil {
		t.Fatal(err)
	}
	_, err := s.Load(ctx)
	var re *redisstore.Error
	if !errors.As(err, &re) || re.Op != "load" || re.Key != s.Key() {
		t.Fatalf("Load of a hash = %v, want a *redisstore.Error for load", err)
	}
	if oauth2x.IsTemporary(err) {
		t.Errorf("WRONGTYPE is temporary: %v", err)
	}
	if !redis.HasErrorPrefix(err, "WRONGTYPE") {
		t.Errorf("error does not unwrap to Redis's: %v", err)
	}

	// Junk in the key is reported, not served.
	if err := rdb.Set(ctx, s.Key(), "not json", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if tok, err := s.Load(ctx); err == nil {
		t.Errorf("Load of junk = %v, want an error", tok)
	}

	// Cancelled contexts give their own error.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Load(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Load(cancelled) = %v", err)
	}
	if err := s.Save(cctx, &oauth2.Token{AccessToken: "a"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Save(cancelled) = %v", err)
	}
	if _, err := s.Lock(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Lock(cancelled) = %v", err)
	}
	if err := s.Save(ctx, nil); err == nil {
		t.Error("Save(nil) succeeded")
	}
}

// TestLockExcludes has goroutines of several stores — several processes,
// as far as Redis can tell — take one lock in turn.
func TestLockExcludes(t *testing.T) {
	rdb, addr := sharedRedis(t)
	key := testKey(t, rdb, "excl")
	const stores, workers, rounds = 4, 8, 25
	var inside, overlaps, total atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, stores*workers)
	for range stores {
		c := redis.NewClient(&redis.Options{Addr: addr})
		defer c.Close()
		s := redisstore.New(c, key, &redisstore.Options{LockTTL: 10 * time.Second})
		for range workers {
			goGroup(&wg, func() {
				for range rounds {
					unlock, err := s.Lock(context.Background())
					if err != nil {
						errs <- err
						return
					}
					if inside.Add(1) != 1 {
						overlaps.Add(1)
					}
					total.Add(1)
					inside.Add(-1)
					unlock()
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := overlaps.Load(); n != 0 {
		t.Errorf("%d acquisitions while another holder was inside", n)
	}
	if total.Load() != stores*workers*rounds {
		t.Errorf("%d acquisitions, want %d", total.Load(), stores*workers*rounds)
	}
	if n := rdb.Exists(context.Background(), key+":lock").Val(); n != 0 {
		t.Error("lock key left behind")
	}
}

func TestLockContext(t *testing.T) {
	rdb, addr := sharedRedis(t)
	key := testKey(t, rdb, "ctx")
	a := redisstore.New(rdb, key, nil)
	c2 := redis.NewClient(&redis.Options{Addr: addr})
	defer c2.Close()
	b := redisstore.New(c2, key, nil)

	unlock, err := a.Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	// A deadline ends the wait with the context's error.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if u, err := b.Lock(ctx); !errors.Is(err, context.DeadlineExceeded) || u != nil {
		t.Fatalf("Lock while held, with a deadline = %v, %v; want DeadlineExceeded", u != nil, err)
	}

	// So does a cancellation while waiting.
	ctx, cancel = context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := b.Lock(ctx)
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Lock cancelled while waiting = %v", err)
	}

	// A waiter gets the lock once it is released.
	got := make(chan func())
	go func() {
		u, err := b.Lock(context.Background())
		if err != nil {
			t.Error(err)
		}
		got <- u
	}()
	unlock()
	unlock() // a second call does nothing
	ub := <-got
	if ub == nil {
		t.FailNow()
	}
	// a's second unlock did not release b's lock.
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := a.Lock(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("lock taken while b holds it: %v", err)
	}
	ub()
}

// TestUnlockNotOwner: a holder whose lease ran out must not release (or
// extend) the lock that someone else took since.
func TestUnlockNotOwner(t *testing.T) {
	rdb, addr := sharedRedis(t)
	ctx := context.Background()
	key := testKey(t, rdb, "owner")
	a := redisstore.New(rdb, key, &redisstore.Options{LockTTL: 10 * time.Second})
	c2 := redis.NewClient(&redis.Options{Addr: addr})
	defer c2.Close()
	b := redisstore.New(c2, key, &redisstore.Options{LockTTL: 10 * time.Second})

	unlockA, err := a.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	aOwner := rdb.Get(ctx, a.LockKey()).Val()
	// a's lease runs out (a was paused for longer than the lease, say).
	if err := rdb.PExpire(ctx, a.LockKey(), time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	unlockB, err := b.Lock(ctx) // waits until the key has expired
	if err != nil {
		t.Fatal(err)
	}
	bOwner := rdb.Get(ctx, b.LockKey()).Val()
	if bOwner == "" || bOwner == aOwner {
		t.Fatalf("owners: a %q, b %q; want distinct", aOwner, bOwner)
	}

	unlockA()
	if got := rdb.Get(ctx, b.LockKey()).Val(); got != bOwner {
		t.Fatalf("after a's unlock the lock holds %q, want b's %q", got, bOwner)
	}
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := a.Lock(cctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a took the lock b holds: %v", err)
	}
	unlockB()
	if n := rdb.Exists(ctx, b.LockKey()).Val(); n != 0 {
		t.Fatal("b's unlock left the lock")
	}
}

// TestLockCrashedHolder: a process that dies holding the lock (kill -9,
// no unlock) blocks the others for at most its lease.
func TestLockCrashedHolder(t *testing.T) {
	rdb, addr := sharedRedis(t)
	ctx := context.Background()
	key := testKey(t, rdb, "crash")
	// The holder renews its lease every third of it; a lease long enough
	// that a loaded machine does not delay a renewal past it.
	const lease = 2 * time.Second

	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childEnv+"=crashlock", "CRASH_ADDR="+addr, "CRASH_KEY="+key, "CRASH_LEASE="+lease.String())
	child.Stderr = os.Stderr
	stdin, err := child.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "locked\n" {
		child.Process.Kill()
		child.Wait()
		t.Fatalf("child said %q, %v; want locked", line, err)
	}

	s := redisstore.New(rdb, key, &redisstore.Options{LockTTL: lease})
	// While the child lives it renews its lease: the lock stays taken
	// longer than one lease.
	cctx, cancel := context.WithTimeout(ctx, lease*3/2)
	defer cancel()
	if _, err := s.Lock(cctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("lock taken from a live holder: %v", err)
	}

	if err := child.Process.Kill(); err != nil { // SIGKILL: no unlock, no cleanup
		t.Fatal(err)
	}
	child.Wait()
	if rdb.Exists(ctx, key+":lock").Val() == 0 {
		t.Log("the dead holder's lease had already lapsed")
	}
	killed := time.Now()

	cctx, cancel = context.WithTimeout(ctx, 30*lease)
	defer cancel()
	unlock, err := s.Lock(cctx)
	if err != nil {
		t.Fatalf("lock of a killed holder never lapsed: %v", err)
	}
	t.Logf("lock free %v after its holder was killed (lease %v)", time.Since(killed).Round(time.Millisecond), lease)
	unlock()
}

// crashLockChild takes the lock, says "locked" and waits to be killed.
func crashLockChild() int {
	lease, err := time.ParseDuration(os.Getenv("CRASH_LEASE"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	c := redis.NewClient(&redis.Options{Addr: os.Getenv("CRASH_ADDR")})
	s := redisstore.New(c, os.Getenv("CRASH_KEY"), &redisstore.Options{LockTTL: lease})
	if _, err := s.Lock(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	fmt.Println("locked")
	io.Copy(io.Discard, os.Stdin) // until killed, or the parent goes away
	return 0
}
