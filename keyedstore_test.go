package oauth2x

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x/internal/oauthtest"
)

// TestKeyedStores runs the same checks on every keyed store of the core
// module: absent is (nil, nil), extras survive, keys are independent,
// delete is idempotent, and each key's lock excludes only that key.
func TestKeyedStores(t *testing.T) {
	for name, s := range map[string]KeyedStore{
		"memory": NewKeyedMemoryStore(),
		"files":  NewKeyedFileStore(filepath.Join(t.TempDir(), "tokens")),
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			keys := []string{"alice", "Alice", "a/b", "../x", "", "é", strings.Repeat("long", 100)}
			for _, k := range keys {
				if tok, err := s.Load(ctx, k); tok != nil || err != nil {
					t.Fatalf("absent %q: %v, %v", k, tok, err)
				}
			}
			for i, k := range keys {
				tok := (&oauth2.Token{AccessToken: "at" + strconv.Itoa(i), RefreshToken: "rt", Expiry: time.Unix(2e9, 0).UTC()}).WithExtra(map[string]any{"open_id": k})
				if err := s.Save(ctx, k, tok); err != nil {
					t.Fatalf("save %q: %v", k, err)
				}
			}
			for i, k := range keys {
				tok, err := s.Load(ctx, k)
				if err != nil || tok.AccessToken != "at"+strconv.Itoa(i) || tok.Extra("open_id") != k {
					t.Fatalf("load %q: %v, %v", k, tok, err)
				}
			}
			if err := s.Delete(ctx, "alice"); err != nil {
				t.Fatal(err)
			}
			if err := s.Delete(ctx, "alice"); err != nil {
				t.Fatalf("second delete: %v", err)
			}
			if tok, _ := s.Load(ctx, "alice"); tok != nil {
				t.Fatal("deleted key still loads")
			}
			if tok, _ := s.Load(ctx, "Alice"); tok == nil {
				t.Fatal("deleting alice deleted Alice")
			}
			l := s.(KeyedLocker)
			unlock, err := l.Lock(ctx, "alice")
			if err != nil {
				t.Fatal(err)
			}
			other, err := l.Lock(ctx, "Alice")
			if err != nil {
				t.Fatalf("another key's lock: %v", err)
			}
			other()
			short, cancel := context.WithCancel(ctx)
			cancel()
			if _, err := l.Lock(short, "alice"); err == nil {
				t.Fatal("took a held key's lock")
			}
			unlock()
			again, err := l.Lock(ctx, "alice")
			if err != nil {
				t.Fatalf("lock after unlock: %v", err)
			}
			again()
		})
	}
}

func TestKeyedFileNames(t *testing.T) {
	s := NewKeyedFileStore("/d")
	for key, want := range map[string]string{
		"alice":                  "k-alice.json",
		"Alice":                  "k-%41lice.json",
		"../x":                   "k-%2E%2E%2Fx.json",
		"":                       "k-.json",
		"open_id-1":              "k-open_id-1.json",
		strings.Repeat("a", 300): "h-",
	} {
		got := filepath.Base(s.File(key).Path)
		if !strings.HasPrefix(got, want) || filepath.Dir(s.File(key).Path) != "/d" {
			t.Errorf("key %q: file %q, want %q", key, s.File(key).Path, want)
		}
	}
}

// TestKeyedStoreAsStore: KeyStore makes one key of a keyed store a Store,
// a Locker when the keyed store locks.
func TestKeyedStoreAsStore(t *testing.T) {
	ks := NewKeyedMemoryStore()
	s := KeyStore(ks, "alice")
	if _, ok := s.(Locker); !ok {
		t.Error("KeyStore of a KeyedLocker is not a Locker")
	}
	ctx := context.Background()
	if err := s.Save(ctx, &oauth2.Token{AccessToken: "a"}); err != nil {
		t.Fatal(err)
	}
	if tok, _ := ks.Load(ctx, "alice"); tok == nil || tok.AccessToken != "a" {
		t.Errorf("saved through KeyStore, keyed store has %v", tok)
	}
	if _, ok := KeyStore(countingOnly{ks}, "alice").(Locker); ok {
		t.Error("KeyStore of a store that does not lock is a Locker")
	}
}

type countingOnly struct{ KeyedStore }

// TestKeyedFileStoreProcesses: 4 OS processes (this test binary re-run)
// share a directory of token files; keys expire, then every process asks
// for every key from 8 goroutines at once. Twice over: each key is
// refreshed exactly once per expiry, no call fails, and no rotated refresh
// token is lost (the fake refuses a refresh token that is not live, and the
// stored one is the live one).
func TestKeyedFileStoreProcesses(t *testing.T) {
	nkeys := 1000
	if raceEnabled || testing.Short() {
		nkeys = 1000
	}
	rot := oauthtest.NewRotating()
	srv := httptest.NewServer(rot)
	defer srv.Close()
	dir := t.TempDir()
	oauthtest.ExpiryRounds(t, rot, NewKeyedFileStore(dir), keyNames("u", nkeys), 2, 4, "TestKeyedFileStoreChild",
		"OAUTH2X_KEYED_DIR="+dir, "OAUTH2X_KEYED_URL="+srv.URL, "OAUTH2X_KEYED_N="+strconv.Itoa(nkeys))
}

func TestKeyedFileStoreChild(t *testing.T) {
	dir := os.Getenv("OAUTH2X_KEYED_DIR")
	if dir == "" {
		t.Skip("run by TestKeyedFileStoreProcesses as a child process")
	}
	n, _ := strconv.Atoi(os.Getenv("OAUTH2X_KEYED_N"))
	conf := &oauth2.Config{ClientID: "id", Endpoint: oauth2.Endpoint{TokenURL: os.Getenv("OAUTH2X_KEYED_URL"), AuthStyle: oauth2.AuthStyleInParams}}
	m := NewTokens(ConfigRefresher(conf), NewKeyedFileStore(dir), &Options{OnError: func(err error) { t.Log(err) }})
	oauthtest.Ready()
	oauthtest.Report(oauthtest.CallAll(context.Background(), func(ctx context.Context, key string) error {
		_, err := m.Token(ctx, key)
		return err
	}, keyNames("u", n), oauthtest.Workers))
}
