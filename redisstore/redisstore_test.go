package redisstore_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/internal/oauthtest"
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

// oddKeys are user keys that a careless encoding would confuse with each
// other or with the application's key.
var oddKeys = []string{"", "u", "U", "a:b", "a%3Ab", "a}b", "{a}", "}", "%", "a b\n", "用户", strings.Repeat("x", 500), "a:lock"}

// TestKeyedKey: every key has a Redis key of its own, in a hash slot
// shared with its lock and decided by that key alone; a non-empty key's
// Redis key is the one Key makes, and the empty key is not the
// application's.
func TestKeyedKey(t *testing.T) {
	ks := redisstore.NewKeyed(nil, "douyin", "app:1", nil)
	seen := map[string]string{}
	for _, k := range oddKeys {
		rk := ks.Key(k)
		if prev, dup := seen[rk]; dup {
			t.Errorf("keys %q and %q share Redis key %s", prev, k, rk)
		}
		seen[rk] = k
		if k != "" && rk != redisstore.Key("douyin", "app:1", k) {
			t.Errorf("Key(%q) = %s, want Key's %s", k, rk, redisstore.Key("douyin", "app:1", k))
		}
		if slot(rk) != slot(rk+":lock") {
			t.Errorf("key %q: token and lock in slots %d and %d", k, slot(rk), slot(rk+":lock"))
		}
		tag := rk[strings.IndexByte(rk, '{')+1 : len(rk)-1]
		if strings.ContainsAny(tag, "{}") {
			t.Errorf("key %q: hash tag %q is not the whole key", k, tag)
		}
	}
	if ks.Key("") == redisstore.Key("douyin", "app:1", "") {
		t.Error(`the empty key shares the application's client token key`)
	}
}

// FuzzKeyedKey: for any two keys, their Redis keys differ, and each is
// one hash tag that ends the key.
func FuzzKeyedKey(f *testing.F) {
	for _, k := range oddKeys {
		f.Add(k, "a")
	}
	ks := redisstore.NewKeyed(nil, "p", "c", nil)
	f.Fuzz(func(t *testing.T, a, b string) {
		ra, rb := ks.Key(a), ks.Key(b)
		if a != b && ra == rb {
			t.Fatalf("%q and %q share %s", a, b, ra)
		}
		i := strings.IndexByte(ra, '{')
		if j := strings.IndexByte(ra[i+1:], '}'); i < 0 || i+1+j != len(ra)-1 {
			t.Fatalf("%q: %s is not one hash tag to its end", a, ra)
		}
	})
}

// newKeyed returns a KeyedStore of an application no other test uses, on
// a client of its own (another process, as far as Redis can tell), and
// deletes its keys when the test ends.
func newKeyed(t testing.TB, addr, app string, opts *redisstore.Options) *redisstore.KeyedStore {
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() {
		ctx := context.Background()
		keys, _ := c.Keys(ctx, "oauth2x:{test:"+app+":*").Result()
		for _, k := range keys {
			c.Del(ctx, k)
		}
		c.Close()
	})
	return redisstore.NewKeyed(c, "test", app, opts)
}

func TestKeyedRoundTrip(t *testing.T) {
	_, addr := sharedRedis(t)
	ks := newKeyed(t, addr, randHex(6), nil)
	ctx := context.Background()
	now := time.Now()
	for i, k := range oddKeys {
		if err := ks.Save(ctx, k, tokenWithExtras(now, "at"+strconv.Itoa(i), "rt"+strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	for i, k := range oddKeys {
		got, err := ks.Load(ctx, k)
		if err != nil || got == nil || got.AccessToken != "at"+strconv.Itoa(i) || oauth2x.RefreshExpiry(got).IsZero() {
			t.Fatalf("Load(%q) = %v, %v; want at%d with its extras", k, got, err, i)
		}
		if st, err := ks.Store(k).Load(ctx); err != nil || st == nil || st.AccessToken != got.AccessToken {
			t.Errorf("Store(%q).Load = %v, %v; want the keyed store's token", k, st, err)
		}
	}
	if err := ks.Delete(ctx, "a:b"); err != nil {
		t.Fatal(err)
	}
	if got, err := ks.Load(ctx, "a:b"); got != nil || err != nil {
		t.Errorf("after Delete: %v, %v; want nil, nil", got, err)
	}
	if got, err := ks.Load(ctx, "a%3Ab"); err != nil || got == nil {
		t.Errorf("Delete of a:b took a%%3Ab along: %v, %v", got, err)
	}
	if err := ks.Delete(ctx, "never"); err != nil {
		t.Errorf("Delete of an absent key: %v", err)
	}
}

// TestKeyedLockPerKey: four stores (processes, as far as Redis can tell)
// take the locks of three keys at random: never two holders of one key at
// once; and a key held by one store does not hold up another key.
func TestKeyedLockPerKey(t *testing.T) {
	_, addr := sharedRedis(t)
	app := randHex(6)
	const stores, workers, rounds = 4, 6, 20
	keys := []string{"a", "b", "a:b"}
	var inside [3]atomic.Int64
	var overlaps, total atomic.Int64
	var wg sync.WaitGroup
	ctx := context.Background()
	for s := range stores {
		ks := newKeyed(t, addr, app, &redisstore.Options{LockTTL: 10 * time.Second})
		for w := range workers {
			goGroup(&wg, func() {
				for r := range rounds {
					i := (s + w + r) % len(keys)
					unlock, err := ks.Lock(ctx, keys[i])
					if err != nil {
						t.Error(err)
						return
					}
					if inside[i].Add(1) != 1 {
						overlaps.Add(1)
					}
					total.Add(1)
					inside[i].Add(-1)
					unlock()
				}
			})
		}
	}
	wg.Wait()
	if n := overlaps.Load(); n != 0 {
		t.Errorf("%d acquisitions while another holder of the key was inside", n)
	}
	if total.Load() != stores*workers*rounds {
		t.Errorf("%d acquisitions, want %d", total.Load(), stores*workers*rounds)
	}

	// One store holds key a: another gets every other key at once, and a
	// only once the first lets go.
	a, b := newKeyed(t, addr, app, nil), newKeyed(t, addr, app, nil)
	unlockA, err := a.Lock(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	bound, cancel := context.WithTimeout(ctx, 10*time.Second) // a bound only: these locks are free
	defer cancel()
	for _, k := range []string{"b", "a:b", "", "A"} {
		u, err := b.Lock(bound, k)
		if err != nil {
			t.Fatalf("key %q while another store holds key a: %v", k, err)
		}
		u()
	}
	held, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if u, err := b.Lock(held, "a"); !errors.Is(err, context.DeadlineExceeded) {
		if u != nil {
			u()
		}
		t.Fatalf("key a while held elsewhere: %v, want its context's end", err)
	}
	got := make(chan error, 1)
	go func() {
		u, err := b.Lock(bound, "a")
		if err == nil {
			u()
		}
		got <- err
	}()
	unlockA()
	if err := <-got; err != nil {
		t.Errorf("key a after its holder let go: %v", err)
	}
}

// TestKeyedSaveFencedPerKey: a store that lost its lease on one key (here
// the lock key is deleted and another store takes the lock) cannot
// overwrite that key's newer token, while its save of another key it
// still holds goes through, and so does a save through the single-token
// Store of that key, which shares its locks.
func TestKeyedSaveFencedPerKey(t *testing.T) {
	rdb, addr := sharedRedis(t)
	app := randHex(6)
	a, b := newKeyed(t, addr, app, nil), newKeyed(t, addr, app, nil)
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	// k2 first: a store that kept one owner value for all its locks would
	// fence k2's save with k1's.
	unlock2, err := a.Lock(ctx, "k2")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock2()
	unlock1, err := a.Lock(ctx, "k1")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock1()
	rdb.Del(ctx, a.Key("k1")+":lock") // a's lease on k1 is gone
	unlockB, err := b.Lock(ctx, "k1")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Save(ctx, "k1", &oauth2.Token{AccessToken: "at-b", RefreshToken: "rt-b", Expiry: exp}); err != nil {
		t.Fatal(err)
	}
	unlockB()

	err = a.Save(ctx, "k1", &oauth2.Token{AccessToken: "at-a", RefreshToken: "rt-a", Expiry: exp})
	if !errors.Is(err, oauth2x.ErrLockLost) || !oauth2x.IsTemporary(err) {
		t.Errorf("Save of k1 after losing its lease = %v, want a temporary ErrLockLost", err)
	}
	if got, _ := b.Load(ctx, "k1"); got == nil || got.RefreshToken != "rt-b" {
		t.Errorf("k1 stored %v, want the newer rt-b", got)
	}
	if err := a.Save(ctx, "k2", &oauth2.Token{AccessToken: "at-2", RefreshToken: "rt-2", Expiry: exp}); err != nil {
		t.Errorf("Save of k2, still held: %v", err)
	}
	if err := a.Store("k1").Save(ctx, &oauth2.Token{AccessToken: "at-s", RefreshToken: "rt-s", Expiry: exp}); !errors.Is(err, oauth2x.ErrLockLost) {
		t.Errorf("Store(k1).Save = %v: not fenced by the keyed store's lock", err)
	}
	if got, _ := b.Load(ctx, "k1"); got == nil || got.RefreshToken != "rt-b" {
		t.Errorf("k1 stored %v after the single-token Save, want rt-b", got)
	}
}

// TestKeyedProcesses: 4 OS processes (this test binary re-run) share
// Redis; 1,000 keys expire, then every process asks for every key from 8
// goroutines at once. Twice over: each key is refreshed exactly once per
// expiry, no call fails, and no rotated refresh token is lost (the fake
// refuses a refresh token that is not live, and the stored one is the live
// one).
func TestKeyedProcesses(t *testing.T) {
	_, addr := sharedRedis(t)
	nkeys := 1000
	if testing.Short() {
		nkeys = 200
	}
	app := randHex(6)
	rot := oauthtest.NewRotating()
	srv := httptest.NewServer(rot)
	defer srv.Close()
	oauthtest.ExpiryRounds(t, rot, newKeyed(t, addr, app, nil), oauthtest.KeyNames(nkeys), 2, 4, "TestKeyedChild",
		"OAUTH2X_REDIS_KEYED_APP="+app, "OAUTH2X_REDIS_KEYED_URL="+srv.URL, "OAUTH2X_REDIS_KEYED_N="+strconv.Itoa(nkeys))
}

func TestKeyedChild(t *testing.T) {
	app := os.Getenv("OAUTH2X_REDIS_KEYED_APP")
	if app == "" {
		t.Skip("run by TestKeyedProcesses as a child process")
	}
	rdb, _ := sharedRedis(t)
	n, _ := strconv.Atoi(os.Getenv("OAUTH2X_REDIS_KEYED_N"))
	conf := &oauth2.Config{ClientID: "id", Endpoint: oauth2.Endpoint{TokenURL: os.Getenv("OAUTH2X_REDIS_KEYED_URL"), AuthStyle: oauth2.AuthStyleInParams}}
	m := oauth2x.NewTokens(oauth2x.ConfigRefresher(conf), redisstore.NewKeyed(rdb, "test", app, nil), &oauth2x.Options{OnError: func(err error) { t.Log(err) }})
	oauthtest.Child(m.Token, n)
}
