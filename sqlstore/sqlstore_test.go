package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"golang.org/x/oauth2"
	_ "modernc.org/sqlite"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/internal/oauthtest"
	"github.com/oauth2x/oauth2x/sqlstore"
)

const dsnEnv = "OAUTH2X_POSTGRES_DSN"

// openPostgres opens the PostgreSQL that OAUTH2X_POSTGRES_DSN names. In CI
// (CI=true) a missing server fails the test; elsewhere it skips, saying
// how to get one.
func openPostgres(t testing.TB) *sql.DB {
	t.Helper()
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set in CI: run the tests through `bash sqlstore/ci.sh`", dsnEnv)
		}
		t.Skipf("%s is not set: run `bash sqlstore/ci.sh` (it installs and starts a throw-away PostgreSQL), or set it to a PostgreSQL DSN", dsnEnv)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(); err != nil {
		t.Fatalf("PostgreSQL at %s: %v", dsnEnv, err)
	}
	db.SetMaxIdleConns(64) // each refresh in flight holds one for its lock
	t.Cleanup(func() { db.Close() })
	return db
}

// openSQLite opens a SQLite file in a temporary directory (or path, if
// not empty), waiting on a busy database rather than failing.
func openSQLite(t testing.TB, path string) *sql.DB {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "tokens.db")
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1) // SQLite writes one at a time: wait in the pool, not in its busy loop
	t.Cleanup(func() { db.Close() })
	return db
}

// newStore makes a Store on a table of its own, dropped at the end.
func newStore(t testing.TB, db *sql.DB, d sqlstore.Dialect, table string) *sqlstore.Store {
	t.Helper()
	if table == "" {
		b := make([]byte, 6)
		rand.Read(b)
		table = "t_" + hex.EncodeToString(b)
		t.Cleanup(func() { db.Exec("DROP TABLE " + table) })
	}
	s, err := sqlstore.New(db, d, &sqlstore.Options{Table: table})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTable(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

type dialect struct {
	name string
	d    sqlstore.Dialect
	open func(testing.TB) *sql.DB
}

var dialects = []dialect{
	{"postgres", sqlstore.Postgres, openPostgres},
	{"sqlite", sqlstore.SQLite, func(t testing.TB) *sql.DB { return openSQLite(t, "") }},
}

func TestStore(t *testing.T) {
	for _, dl := range dialects {
		t.Run(dl.name, func(t *testing.T) {
			db := dl.open(t)
			s := newStore(t, db, dl.d, "")
			ctx := context.Background()
			if tok, err := s.Load(ctx, "alice"); tok != nil || err != nil {
				t.Fatalf("absent: %v, %v", tok, err)
			}
			exp := time.Unix(2e9, 0).UTC()
			tok := (&oauth2.Token{AccessToken: "at", RefreshToken: "rt", Expiry: exp, ExpiresIn: 7200}).
				WithExtra(map[string]any{"open_id": "oid", "refresh_expires_in": float64(2592000)})
			if err := s.Save(ctx, "alice", tok); err != nil {
				t.Fatal(err)
			}
			if err := s.Save(ctx, "bob", &oauth2.Token{AccessToken: "bob"}); err != nil {
				t.Fatal(err)
			}
			got, err := s.Load(ctx, "alice")
			if err != nil || got.AccessToken != "at" || got.RefreshToken != "rt" || !got.Expiry.Equal(exp) || got.Extra("open_id") != "oid" {
				t.Fatalf("load: %+v, %v", got, err)
			}
			if !oauth2x.RefreshExpiry(got).Equal(oauth2x.RefreshExpiry(tok)) {
				t.Errorf("refresh expiry %v, want %v", oauth2x.RefreshExpiry(got), oauth2x.RefreshExpiry(tok))
			}
			var expires sql.NullInt64
			if err := db.QueryRow("SELECT expires_at FROM " + tableOf(s) + " WHERE token_key = 'alice'").Scan(&expires); err != nil || expires.Int64 != exp.Unix() {
				t.Errorf("expires_at = %v, %v; want %d", expires, err, exp.Unix())
			}
			if err := db.QueryRow("SELECT expires_at FROM " + tableOf(s) + " WHERE token_key = 'bob'").Scan(&expires); err != nil || expires.Valid {
				t.Errorf("no expiry: expires_at = %v, %v; want NULL", expires, err)
			}
			if err := s.Save(ctx, "alice", &oauth2.Token{AccessToken: "at2"}); err != nil {
				t.Fatal(err)
			}
			if got, _ := s.Load(ctx, "alice"); got.AccessToken != "at2" {
				t.Errorf("after a second save: %v", got)
			}
			if err := s.Delete(ctx, "alice"); err != nil {
				t.Fatal(err)
			}
			if err := s.Delete(ctx, "alice"); err != nil {
				t.Errorf("second delete: %v", err)
			}
			if got, _ := s.Load(ctx, "alice"); got != nil {
				t.Errorf("after delete: %v", got)
			}
			if got, _ := s.Load(ctx, "bob"); got == nil {
				t.Error("deleting alice deleted bob")
			}
			if err := s.Save(ctx, strings.Repeat("k", sqlstore.MaxKeyLen+1), tok); err == nil {
				t.Error("saved a key longer than MaxKeyLen")
			}
			if err := s.Save(ctx, strings.Repeat("k", sqlstore.MaxKeyLen), tok); err != nil {
				t.Errorf("key of MaxKeyLen: %v", err)
			}
			if _, err := db.Exec("UPDATE " + tableOf(s) + " SET token = 'not json' WHERE token_key = 'bob'"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Load(ctx, "bob"); err == nil {
				t.Error("a corrupt row loaded")
			}
		})
	}
}

// tableOf reads the table name back from the schema.
func tableOf(s *sqlstore.Store) string {
	f := strings.Fields(s.Schema())
	return f[5]
}

func TestNewChecks(t *testing.T) {
	db, _ := sql.Open("sqlite", "file::memory:")
	defer db.Close()
	for _, name := range []string{"a b", "x;DROP TABLE y", "1abc", `"q"`, "a.b.c", strings.Repeat("a", 64), "a-b"} {
		if _, err := sqlstore.New(db, sqlstore.SQLite, &sqlstore.Options{Table: name}); err == nil {
			t.Errorf("table name %q accepted", name)
		}
	}
	for _, name := range []string{"", "tokens", "auth.tokens", "_t1", strings.Repeat("a", 63)} {
		if _, err := sqlstore.New(db, sqlstore.Postgres, &sqlstore.Options{Table: name}); err != nil {
			t.Errorf("table name %q: %v", name, err)
		}
	}
	if _, err := sqlstore.New(db, 0, nil); err == nil {
		t.Error("dialect 0 accepted")
	}
	if _, err := sqlstore.New(nil, sqlstore.SQLite, nil); err == nil {
		t.Error("nil db accepted")
	}
	s, _ := sqlstore.New(db, sqlstore.Postgres, nil)
	if want := "CREATE TABLE IF NOT EXISTS oauth2x_tokens ("; !strings.HasPrefix(s.Schema(), want) {
		t.Errorf("schema %q, want it to start %q", s.Schema(), want)
	}
}

// TestLock: a key's lock excludes another holder of that key (on
// PostgreSQL, another Store with connections of its own, as another
// process has), not of other keys; a wait gives up with its context.
func TestLock(t *testing.T) {
	for _, dl := range dialects {
		t.Run(dl.name, func(t *testing.T) {
			db := dl.open(t)
			s1 := newStore(t, db, dl.d, "")
			s2 := s1
			if dl.d == sqlstore.Postgres {
				s2 = newStore(t, dl.open(t), dl.d, tableOf(s1))
			}
			ctx := context.Background()
			unlock, err := s1.Lock(ctx, "alice")
			if err != nil {
				t.Fatal(err)
			}
			other, err := s2.Lock(ctx, "bob")
			if err != nil {
				t.Fatalf("another key: %v", err)
			}
			other()
			short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
			defer cancel()
			if _, err := s2.Lock(short, "alice"); err == nil {
				t.Fatal("took a held key's lock")
			}
			got := make(chan func())
			go func() {
				u, err := s2.Lock(ctx, "alice")
				if err != nil {
					t.Error(err)
				}
				got <- u
			}()
			unlock()
			unlock() // twice is harmless
			(<-got)()
		})
	}
}

// TestLockConnectionDies: the connection holding a PostgreSQL lock dies.
// The server releases the lock, so another process takes it; the old
// holder's save, which goes over the dead connection, fails instead of
// overwriting what the new holder saved.
func TestLockConnectionDies(t *testing.T) {
	db := openPostgres(t)
	s1 := newStore(t, db, sqlstore.Postgres, "")
	s2 := newStore(t, openPostgres(t), sqlstore.Postgres, tableOf(s1))
	ctx := context.Background()
	unlock, err := s1.Lock(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	var pid int
	if err := db.QueryRow("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("SELECT pg_terminate_backend($1)", pid); err != nil {
		t.Fatal(err)
	}
	unlock2, err := s2.Lock(ctx, "alice")
	if err != nil {
		t.Fatalf("lock after the holder's connection died: %v", err)
	}
	if err := s2.Save(ctx, "alice", &oauth2.Token{AccessToken: "new-holder"}); err != nil {
		t.Fatal(err)
	}
	if err := s1.Save(ctx, "alice", &oauth2.Token{AccessToken: "old-holder"}); err == nil {
		t.Error("the old holder saved over a dead connection")
	}
	unlock2()
	if tok, _ := s2.Load(ctx, "alice"); tok == nil || tok.AccessToken != "new-holder" {
		t.Errorf("stored %v, want the new holder's token", tok)
	}
	unlock() // harmless on a dead connection
	if tok, err := s1.Load(ctx, "alice"); err != nil || tok.AccessToken != "new-holder" {
		t.Errorf("after unlock the old holder loads %v, %v", tok, err)
	}
}

// keyOf returns the key of a token the Rotating fake issued.
func keyOf(t *oauth2.Token) string {
	rest := strings.TrimPrefix(t.RefreshToken, "rt.")
	return rest[:strings.LastIndexByte(rest, '.')]
}

func keyNames(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "u" + strconv.Itoa(i)
	}
	return keys
}

// TestTokensOneRefreshPerKey: Tokens over the table, keys expired, 8
// callers per key held at the refresh until all have started: one refresh
// per key, every caller served.
func TestTokensOneRefreshPerKey(t *testing.T) {
	for _, dl := range dialects {
		t.Run(dl.name, func(t *testing.T) {
			const callers, nkeys = 8, 200
			s := newStore(t, dl.open(t), dl.d, "")
			rot := oauthtest.NewRotating()
			keys := keyNames(nkeys)
			gates := map[string]*oauthtest.Gate{}
			ctx := context.Background()
			for _, k := range keys {
				gates[k] = oauthtest.NewGate(k, callers)
				if err := s.Save(ctx, k, rot.Grant(k, time.Now().Add(-time.Minute))); err != nil {
					t.Fatal(err)
				}
			}
			m := oauth2x.NewTokens(oauth2x.RefresherFunc(func(ctx context.Context, t *oauth2.Token) (*oauth2.Token, error) {
				gates[keyOf(t)].Hook(keyOf(t))
				return rot.Refresh(ctx, t)
			}), s, &oauth2x.Options{OnError: func(err error) { t.Log(err) }})
			var wg sync.WaitGroup
			var bad atomic.Int32
			for _, k := range keys {
				for range callers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						gates[k].Started()
						if tok, err := m.Token(ctx, k); err != nil || tok.AccessToken != "at."+k+".1" {
							if bad.Add(1) < 5 {
								t.Errorf("%s: %v, %v", k, tok, err)
							}
						}
					}()
				}
			}
			wg.Wait()
			for _, k := range keys {
				if n := rot.Refreshes(k); n != 1 {
					t.Fatalf("%s refreshed %d times, want 1", k, n)
				}
				if tok, _ := s.Load(ctx, k); tok.RefreshToken != rot.Live(k) {
					t.Fatalf("%s: stored refresh token %s, live %s", k, tok.RefreshToken, rot.Live(k))
				}
			}
			if _, err := m.Token(ctx, "nobody"); !errors.Is(err, oauth2x.ErrNoToken) {
				t.Errorf("absent key: %v, want ErrNoToken", err)
			}
		})
	}
}

// TestTokensProcesses: 4 OS processes (this test binary re-run) share a
// PostgreSQL table; 1,000 keys expire, then every process asks for every
// key from 8 goroutines at once. Twice over: each key is refreshed exactly
// once per expiry, no call fails, and no rotated refresh token is lost
// (the fake refuses a refresh token that is not live, and the stored one
// is the live one).
func TestTokensProcesses(t *testing.T) {
	db := openPostgres(t)
	nkeys := 1000
	if testing.Short() {
		nkeys = 200
	}
	s := newStore(t, db, sqlstore.Postgres, "")
	rot := oauthtest.NewRotating()
	srv := httptestServer(t, rot)
	oauthtest.ExpiryRounds(t, rot, s, keyNames(nkeys), 2, 4, "TestTokensChild",
		"OAUTH2X_SQL_TABLE="+tableOf(s), "OAUTH2X_SQL_URL="+srv, "OAUTH2X_SQL_N="+strconv.Itoa(nkeys))
}

func TestTokensChild(t *testing.T) {
	table := os.Getenv("OAUTH2X_SQL_TABLE")
	if table == "" {
		t.Skip("run by TestTokensProcesses as a child process")
	}
	n, _ := strconv.Atoi(os.Getenv("OAUTH2X_SQL_N"))
	s := newStore(t, openPostgres(t), sqlstore.Postgres, table)
	conf := &oauth2.Config{ClientID: "id", Endpoint: oauth2.Endpoint{TokenURL: os.Getenv("OAUTH2X_SQL_URL"), AuthStyle: oauth2.AuthStyleInParams}}
	m := oauth2x.NewTokens(oauth2x.ConfigRefresher(conf), s, &oauth2x.Options{OnError: func(err error) { t.Log(err) }})
	oauthtest.Ready()
	oauthtest.Report(oauthtest.CallAll(context.Background(), func(ctx context.Context, key string) error {
		_, err := m.Token(ctx, key)
		return err
	}, keyNames(n), oauthtest.Workers))
}

// BenchmarkRefresh64 measures refreshes per second through the store: 64
// keys expire at once and are each asked for by one caller; every refresh
// locks the key, loads, refreshes (in memory, no network) and saves.
func BenchmarkRefresh64(b *testing.B) {
	for _, dl := range dialects {
		b.Run("db="+dl.name, func(b *testing.B) {
			s := newStore(b, dl.open(b), dl.d, "")
			rot := oauthtest.NewRotating()
			keys := keyNames(64)
			ctx := context.Background()
			for _, k := range keys {
				if err := s.Save(ctx, k, rot.Grant(k, time.Now().Add(-time.Minute))); err != nil {
					b.Fatal(err)
				}
			}
			m := oauth2x.NewTokens(oauth2x.RefresherFunc(rot.Refresh), s, &oauth2x.Options{OnError: func(err error) { b.Log(err) }})
			var elapsed time.Duration
			for i := range b.N {
				b.StopTimer()
				for _, k := range keys { // expire them all again
					tok, err := s.Load(ctx, k)
					if err != nil {
						b.Fatal(err)
					}
					tok.Expiry = time.Now().Add(-time.Minute)
					if err := m.Put(ctx, k, tok); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				start := time.Now()
				var wg sync.WaitGroup
				for _, k := range keys {
					wg.Add(1)
					go func() {
						defer wg.Done()
						if _, err := m.Token(ctx, k); err != nil {
							b.Error(err)
						}
					}()
				}
				wg.Wait()
				elapsed += time.Since(start)
				if n := rot.Refreshes(keys[0]); n != i+1 {
					b.Fatalf("%d refreshes of one key after %d expiries", n, i+1)
				}
			}
			b.ReportMetric(float64(64*b.N)/elapsed.Seconds(), "refreshes/s")
		})
	}
}

// httptestServer serves h on loopback for the test's life and returns its URL.
func httptestServer(t testing.TB, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
