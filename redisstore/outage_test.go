package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/redisstore"
)

// upstream is an in-process provider that rotates refresh tokens: each
// works once, so a refresh token that is lost or used twice shows as a
// rejected refresh. Its tokens expire an hour after its clock's now.
type upstream struct {
	clk *clock

	mu        sync.Mutex
	seq       int
	valid     string // the one live refresh token
	refreshes int
	rejected  int
	after     func() // run once after the next refresh, before it returns
}

func (u *upstream) issue() *oauth2.Token {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.issueLocked()
}

func (u *upstream) issueLocked() *oauth2.Token {
	u.seq++
	u.valid = fmt.Sprintf("rt-%d", u.seq)
	now := u.clk.Now()
	return (&oauth2.Token{
		AccessToken:  fmt.Sprintf("at-%d", u.seq),
		RefreshToken: u.valid,
		Expiry:       now.Add(time.Hour),
	}).WithExtra(map[string]any{"open_id": "user-1", "refresh_token_expiry": now.Add(30 * 24 * time.Hour).Unix()})
}

func (u *upstream) Refresh(_ context.Context, t *oauth2.Token) (*oauth2.Token, error) {
	u.mu.Lock()
	if t == nil || t.RefreshToken != u.valid {
		u.rejected++
		u.mu.Unlock()
		return nil, &oauth2x.Error{Provider: "fake", Op: "refresh", Kind: oauth2x.ErrInvalidGrant}
	}
	u.refreshes++
	nt := u.issueLocked()
	after := u.after
	u.after = nil
	u.mu.Unlock()
	if after != nil {
		after()
	}
	return nt, nil
}

func (u *upstream) counts() (refreshes, rejected int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.refreshes, u.rejected
}

// savingStore tells of every successful Save.
type savingStore struct {
	*redisstore.Store
	saved chan *oauth2.Token
}

func (s savingStore) Save(ctx context.Context, t *oauth2.Token) error {
	err := s.Store.Save(ctx, t)
	if err == nil {
		select {
		case s.saved <- t:
		default:
		}
	}
	return err
}

// wantTemporaryStoreError checks that err is the token store's op failing
// because Redis is away: oauth2x.IsTemporary, a *oauth2x.StoreError, a
// *redisstore.Error.
func wantTemporaryStoreError(t *testing.T, err error, op string) {
	t.Helper()
	var se *oauth2x.StoreError
	var re *redisstore.Error
	switch {
	case err == nil:
		t.Fatalf("no error, want a temporary %s error", op)
	case !oauth2x.IsTemporary(err):
		t.Fatalf("error is not temporary: %v", err)
	case !errors.As(err, &se) || se.Op != op:
		t.Fatalf("error is not a StoreError for %s: %v", op, err)
	case !errors.As(err, &re) || !re.Temporary:
		t.Fatalf("error is not a temporary *redisstore.Error: %v", err)
	}
}

// TestRedisOutage stops the token store's Redis under a token source and
// starts it again: callers with a valid token keep working, a refresh
// fails with a temporary error and succeeds once Redis is back, and a
// refresh token rotated while Redis was away is saved, not lost.
func TestRedisOutage(t *testing.T) {
	// Its own server, with an append-only file so that a restart keeps the
	// data as a real deployment's would.
	srv := startRedis(t, "--appendonly", "yes", "--appendfsync", "always")
	ctx := context.Background()
	clk := newClock()
	up := &upstream{clk: clk}
	key := redisstore.Key("test", "outage", "user-1")
	newStore := func(c redis.UniversalClient) savingStore {
		return savingStore{redisstore.New(c, key, &redisstore.Options{LockTTL: time.Second, Now: clk.Now}), make(chan *oauth2.Token, 1)}
	}
	// A client with go-redis's default options, as an application has.
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer rdb.Close()
	store := newStore(rdb)
	if err := store.Store.Save(ctx, up.issue()); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 16)
	ts := oauth2x.NewTokenSource(ctx, up, nil, &oauth2x.Options{
		Store:   store,
		Now:     clk.Now,
		OnError: func(err error) { errs <- err },
	})
	tok0, err := ts.Token()
	if err != nil || tok0.AccessToken != "at-1" {
		t.Fatalf("first Token = %v, %v; want the stored at-1", tok0, err)
	}

	t.Log("Redis stops")
	srv.Stop()
	{
		// Each operation fails with a temporary error. (A client that
		// gives up at once, to keep the test short.)
		fast := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1, DialerRetries: 1})
		defer fast.Close()
		s := newStore(fast)
		_, err := s.Load(ctx)
		wantTemporaryStoreError(t, &oauth2x.StoreError{Op: "load", Err: err}, "load")
		err = s.Store.Save(ctx, tok0)
		wantTemporaryStoreError(t, &oauth2x.StoreError{Op: "save", Err: err}, "save")
		_, err = s.Lock(ctx)
		wantTemporaryStoreError(t, &oauth2x.StoreError{Op: "lock", Err: err}, "lock")
	}

	// Callers holding a valid token keep working.
	var wg sync.WaitGroup
	for range 16 {
		goGroup(&wg, func() {
			for range 100 {
				if tok, err := ts.Token(); err != nil || tok.AccessToken != tok0.AccessToken {
					t.Errorf("Token during the outage = %v, %v", tok, err)
					return
				}
			}
		})
	}
	wg.Wait()

	// In the early window the current token is still served; the
	// background refresh fails on the lock and is reported.
	clk.Advance(time.Hour - 30*time.Second)
	if tok, err := ts.Token(); err != nil || tok.AccessToken != tok0.AccessToken {
		t.Fatalf("Token in the early window = %v, %v", tok, err)
	}
	start := time.Now()
	wantTemporaryStoreError(t, nextStoreError(t, errs, "lock"), "lock")
	t.Logf("the background refresh failed %v after it started (go-redis's default retries)", time.Since(start).Round(time.Millisecond))

	// Once the token has expired, callers get the temporary error.
	clk.Advance(time.Minute)
	start = time.Now()
	_, err = ts.Token()
	t.Logf("a caller with an expired token got its error after %v", time.Since(start).Round(time.Millisecond))
	wantTemporaryStoreError(t, err, "lock")
	if n, _ := up.counts(); n != 0 {
		t.Fatalf("%d upstream refreshes without the lock", n)
	}

	t.Log("Redis starts again")
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	waitUp(t, rdb)
	clk.Advance(2 * time.Second) // past the backoff that shares the lock failure
	tok1, err := ts.Token()
	if err != nil || tok1.AccessToken != "at-2" {
		t.Fatalf("Token after Redis came back = %v, %v; want a refreshed at-2", tok1, err)
	}
	if n, _ := up.counts(); n != 1 {
		t.Fatalf("%d upstream refreshes, want 1", n)
	}
	if got := <-store.saved; got.RefreshToken != tok1.RefreshToken {
		t.Fatalf("saved %s, want %s", got.RefreshToken, tok1.RefreshToken)
	}

	// Redis dies between the provider rotating the refresh token and the
	// save: the caller gets the new token, the save failure is reported.
	up.after = srv.Stop
	clk.Advance(time.Hour)
	tok2, err := ts.Token()
	if err != nil || tok2.AccessToken != "at-3" {
		t.Fatalf("Token when the save fails = %v, %v; want at-3", tok2, err)
	}
	wantTemporaryStoreError(t, nextStoreError(t, errs, "save"), "save")

	t.Log("Redis starts again, still holding the token whose refresh token is now dead")
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	waitUp(t, rdb)
	if stored, err := store.Load(ctx); err != nil || stored.RefreshToken != tok1.RefreshToken {
		t.Fatalf("store after restart: %v, %v; want %s", stored, err, tok1.RefreshToken)
	}
	// The token source retries the save once its backoff is over. The
	// restart lost the lock it held, so its first retry is refused
	// (ErrLockLost: a fenced save never writes without the lock); the next
	// takes the lock again and saves.
	var saved *oauth2.Token
	for try := 0; saved == nil; try++ {
		if try == 3 {
			t.Fatal("the unsaved token was not saved in 3 retries")
		}
		clk.Advance(5 * time.Second)
		if tok, err := ts.Token(); err != nil || tok.AccessToken != tok2.AccessToken {
			t.Fatalf("Token = %v, %v; want %s", tok, err, tok2.AccessToken)
		}
		select {
		case saved = <-store.saved:
		case err := <-errs:
			if !errors.Is(err, oauth2x.ErrLockLost) {
				t.Fatalf("retrying the save: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the unsaved token was not saved again within 30s")
		}
	}
	refreshes, _ := up.counts()
	up.mu.Lock()
	live := up.valid
	up.mu.Unlock()
	if saved.RefreshToken != live {
		t.Fatalf("saved refresh token %s, the live one is %s", saved.RefreshToken, live)
	}
	if refreshes != 2 {
		t.Fatalf("%d upstream refreshes, want 2: retrying a save must not refresh", refreshes)
	}

	// Another process starting now finds the live refresh token.
	rdb2 := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer rdb2.Close()
	other := oauth2x.NewTokenSource(ctx, up, nil, &oauth2x.Options{Store: newStore(rdb2), Now: clk.Now})
	clk.Advance(2 * time.Hour) // every token so far has expired
	if _, err := other.Token(); err != nil {
		t.Fatalf("another process refreshing with the stored token: %v", err)
	}
	if _, rejected := up.counts(); rejected != 0 {
		t.Fatalf("%d refreshes with a dead refresh token", rejected)
	}
	if _, err := ts.Token(); err != nil {
		t.Fatalf("the first token source after the other refreshed: %v", err)
	}
}

// nextStoreError returns the next error reported that is a failure of op;
// the load failures reported before it must be temporary.
func nextStoreError(t *testing.T, errs <-chan error, op string) error {
	t.Helper()
	for {
		err := <-errs
		var se *oauth2x.StoreError
		if errors.As(err, &se) && se.Op == op {
			return err
		}
		wantTemporaryStoreError(t, err, "load")
	}
}

// waitUp waits until c reaches its server again: after an outage go-redis
// fails fast and probes the server once a second until it answers.
func waitUp(t *testing.T, c redis.UniversalClient) {
	t.Helper()
	start := time.Now()
	for range 200 { // bounded: 10s
		if c.Ping(context.Background()).Err() == nil {
			t.Logf("client reconnected %v after the server was up", time.Since(start).Round(time.Millisecond))
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("client did not reconnect within 10s")
}
