package oauth2x

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
)

func TestMarshalTokenKeepsExtras(t *testing.T) {
	exp := time.Date(2026, 12, 7, 12, 0, 0, 123, time.UTC)
	in := (&oauth2.Token{AccessToken: "act.1", TokenType: "Bearer", RefreshToken: "rft.1", Expiry: exp, ExpiresIn: 1296000}).
		WithExtra(map[string]any{"open_id": "u-1", "scope": "user_info", "refresh_expires_in": int64(2592000), "refresh_token_expiry": exp.Add(15 * 24 * time.Hour).Unix(), "log_id": "L1"})
	b, err := MarshalToken(in)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := json.Marshal(in)
	if strings.Contains(string(plain), "open_id") {
		t.Fatal("json.Marshal keeps extras now; the encoding may no longer be needed")
	}
	out, err := UnmarshalToken(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, out, cmp.Comparer(func(a, b *oauth2.Token) bool {
		return a.AccessToken == b.AccessToken && a.TokenType == b.TokenType && a.RefreshToken == b.RefreshToken &&
			a.Expiry.Equal(b.Expiry) && a.ExpiresIn == b.ExpiresIn
	})); diff != "" {
		t.Errorf("round trip (-in +out):\n%s", diff)
	}
	if out.Extra("open_id") != "u-1" || out.Extra("scope") != "user_info" || out.Extra("log_id") != "L1" {
		t.Errorf("extras lost: %s", b)
	}
	if !RefreshExpiry(out).Equal(RefreshExpiry(in).Truncate(time.Second)) || RefreshExpiry(out).IsZero() {
		t.Errorf("refresh expiry %v, want %v", RefreshExpiry(out), RefreshExpiry(in))
	}
	// The plain x/oauth2 form still loads, so existing stores migrate.
	old, err := UnmarshalToken(plain)
	if err != nil || old.AccessToken != "act.1" || !old.Expiry.Equal(exp) {
		t.Errorf("plain form: %v, %v", old, err)
	}
	for _, bad := range []string{``, `{}`, `{"access_token":""}`, `[1]`, `{"access_token":5}`} {
		if tok, err := UnmarshalToken([]byte(bad)); err == nil || tok != nil {
			t.Errorf("UnmarshalToken(%q) = %v, %v; want an error", bad, tok, err)
		}
	}
	if _, err := MarshalToken(nil); err == nil {
		t.Error("MarshalToken(nil) succeeded")
	}
}

func TestFileStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "douyin.json")
	fs := NewFileStore(path)
	ctx := context.Background()
	if tok, err := fs.Load(ctx); tok != nil || err != nil {
		t.Fatalf("empty Load = %v, %v", tok, err)
	}
	tok := (&oauth2.Token{AccessToken: "a", RefreshToken: "r"}).WithExtra(map[string]any{"open_id": "o"})
	if err := fs.Save(ctx, tok); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
	}
	got, err := fs.Load(ctx)
	if err != nil || got.RefreshToken != "r" || got.Extra("open_id") != "o" {
		t.Errorf("Load = %v, %v", got, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
	os.WriteFile(path, []byte("{garbage"), 0o600)
	if tok, err := fs.Load(ctx); err == nil || tok != nil {
		t.Errorf("corrupt file Load = %v, %v", tok, err)
	}
	if err := fs.Delete(); err != nil {
		t.Fatal(err)
	}
	if err := fs.Delete(); err != nil {
		t.Errorf("second Delete: %v", err)
	}
}

func TestLocksExclude(t *testing.T) {
	for name, l := range map[string]Locker{
		"memory": NewMemoryStore(),
		"file":   NewFileStore(filepath.Join(t.TempDir(), "t.json")),
	} {
		t.Run(name, func(t *testing.T) {
			unlock, err := l.Lock(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if _, err := l.Lock(ctx); !errors.Is(err, context.Canceled) {
				t.Errorf("second Lock while held = %v, want context.Canceled", err)
			}
			got := make(chan func(), 1)
			go func() {
				u, err := l.Lock(context.Background())
				if err != nil {
					t.Error(err)
					u = func() {}
				}
				got <- u
			}()
			unlock()
			unlock() // twice is harmless
			(<-got)()
		})
	}
}

// rfcServer is an RFC 6749 token endpoint that counts refreshes and can be
// gated.
func rfcServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		if r.Form.Get("grant_type") != "refresh_token" {
			w.WriteHeader(400)
			fmt.Fprint(w, `{"error":"unsupported_grant_type"}`)
			return
		}
		if strings.HasPrefix(r.Form.Get("refresh_token"), "dead") {
			w.WriteHeader(400)
			fmt.Fprint(w, `{"error":"invalid_grant","error_description":"refresh token revoked"}`)
			return
		}
		i := n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"at-%d","refresh_token":"rt-%d","token_type":"bearer","expires_in":3600}`, i, i)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestConfigRefresher(t *testing.T) {
	srv, n := rfcServer(t)
	conf := &oauth2.Config{ClientID: "id", ClientSecret: "plain-secret", Endpoint: oauth2.Endpoint{TokenURL: srv.URL, AuthStyle: oauth2.AuthStyleInParams}}
	src := NewTokenSource(context.Background(), ConfigRefresher(conf), &oauth2.Token{AccessToken: "old", RefreshToken: "rt-0", Expiry: time.Now().Add(-time.Hour)}, nil)
	toks, errs := callers(src, 32)
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if toks[0].AccessToken != "at-1" || toks[0].RefreshToken != "rt-1" || n.Load() != 1 {
		t.Errorf("got %v after %d refreshes", toks[0], n.Load())
	}
	_, err := ConfigRefresher(conf).Refresh(context.Background(), &oauth2.Token{RefreshToken: "dead-rt"})
	var re *oauth2.RetrieveError
	if !errors.Is(err, ErrInvalidGrant) || !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Errorf("dead refresh token: %v", err)
	}
	if strings.Contains(err.Error(), "dead-rt") || strings.Contains(err.Error(), "plain-secret") {
		t.Errorf("secret in %q", err)
	}
	basic := *conf
	basic.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
	_, err = ConfigRefresher(&basic).Refresh(context.Background(), &oauth2.Token{RefreshToken: "dead-rt"})
	if !errors.As(err, &re) || re.Response == nil || re.Response.Request == nil {
		t.Fatalf("no response in %v", err)
	}
	if req := re.Response.Request; req.GetBody != nil || req.Header.Get("Authorization") != "" {
		t.Errorf("the error still carries the request's body or Basic credentials")
	}
	if _, err := ConfigRefresher(conf).Refresh(context.Background(), &oauth2.Token{}); !errors.Is(err, ErrInvalidGrant) {
		t.Errorf("no refresh token: %v", err)
	}
}

// TestFileStoreProcesses has several OS processes (this test binary,
// re-run as children) share one file store: one upstream refresh between
// them, and every one ends with the same token.
func TestFileStoreProcesses(t *testing.T) {
	if os.Getenv("OAUTH2X_CHILD_STORE") != "" {
		return // only TestFileStoreChild runs in a child
	}
	srv, n := rfcServer(t)
	path := filepath.Join(t.TempDir(), "shared.json")
	if err := NewFileStore(path).Save(context.Background(), &oauth2.Token{AccessToken: "at-0", RefreshToken: "rt-0", Expiry: time.Now().Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	const procs = 4
	outs := startChildren(t, procs, "TestFileStoreChild", "OAUTH2X_CHILD_STORE="+path, "OAUTH2X_CHILD_URL="+srv.URL)()
	if got := n.Load(); got != 1 {
		t.Errorf("upstream refreshes across %d processes = %d, want 1", procs, got)
	}
	for i, out := range outs {
		if !strings.Contains(out, "TOKEN at-1 rt-1") {
			t.Errorf("child %d printed %q, want the one refreshed token", i, out)
		}
	}
}

func TestFileStoreChild(t *testing.T) {
	path := os.Getenv("OAUTH2X_CHILD_STORE")
	if path == "" {
		t.Skip("run by TestFileStoreProcesses as a child process")
	}
	conf := &oauth2.Config{ClientID: "id", Endpoint: oauth2.Endpoint{TokenURL: os.Getenv("OAUTH2X_CHILD_URL"), AuthStyle: oauth2.AuthStyleInParams}}
	src := NewTokenSource(context.Background(), ConfigRefresher(conf), nil, &Options{Store: NewFileStore(path)})
	tok, err := src.Token()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("TOKEN %s %s\n", tok.AccessToken, tok.RefreshToken)
}

// TestFileStoreHonoursContext: a done context stops Load, Save and Lock,
// and ends a lock held with it, so a holder stuck past its RefreshTimeout
// does not keep everyone else out.
func TestFileStoreHonoursContext(t *testing.T) {
	for name, st := range map[string]interface {
		Store
		Locker
	}{"memory": NewMemoryStore(), "file": NewFileStore(filepath.Join(t.TempDir(), "t.json"))} {
		t.Run(name, func(t *testing.T) {
			done, cancel := context.WithCancel(context.Background())
			cancel()
			if _, err := st.Load(done); !errors.Is(err, context.Canceled) {
				t.Errorf("Load with a done context = %v", err)
			}
			if err := st.Save(done, &oauth2.Token{AccessToken: "a"}); !errors.Is(err, context.Canceled) {
				t.Errorf("Save with a done context = %v", err)
			}
			hctx, hcancel := context.WithCancel(context.Background())
			if _, err := st.Lock(hctx); err != nil {
				t.Fatal(err)
			}
			hcancel() // the holder's context ends; it never unlocks
			unlock, err := st.Lock(context.Background())
			if err != nil {
				t.Fatalf("Lock after the holder's context ended: %v", err)
			}
			unlock()
		})
	}
}

// TestFileStoreKilledBeforeRename kills a process (the test binary, as a
// child) between Save writing its temporary file and renaming it, 20
// times: every time the token it was saving — the only one holding the
// rotated refresh token — is what the next Load returns, and the next Save
// cleans up the orphan.
func TestFileStoreKilledBeforeRename(t *testing.T) {
	if os.Getenv("OAUTH2X_CHILD_KILL") != "" {
		return
	}
	const runs = 20
	dir := t.TempDir()
	path := filepath.Join(dir, "token.json")
	fs := NewFileStore(path)
	ctx := context.Background()
	lost := 0
	for i := range runs {
		prev := &oauth2.Token{AccessToken: fmt.Sprintf("at-%d", i), RefreshToken: fmt.Sprintf("rt-%d", i), Expiry: time.Now().Add(time.Duration(i) * time.Minute)}
		if err := fs.Save(ctx, prev); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestFileStoreKillChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "OAUTH2X_CHILD_KILL="+path, fmt.Sprintf("OAUTH2X_CHILD_N=%d", i+1))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line := make([]byte, len("WRITTEN\n"))
		if _, err := io.ReadFull(out, line); err != nil || string(line) != "WRITTEN\n" {
			t.Fatalf("child: %q, %v", line, err)
		}
		cmd.Process.Kill() // kill -9, between the write and the rename
		cmd.Wait()
		got, err := NewFileStore(path).Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("rt-%d", i+1); got == nil || got.RefreshToken != want {
			lost++
			t.Errorf("run %d: Load after the kill = %v, want the token being saved (%s)", i, got, want)
		}
	}
	t.Logf("FAULT filestore-kill-before-rename: grants lost %d of %d kills", lost, runs)
	if err := fs.Save(ctx, &oauth2.Token{AccessToken: "at-last", RefreshToken: "rt-last", Expiry: time.Now().Add(48 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "token.json.tmp*")); len(left) != 0 {
		t.Errorf("orphans left after a Save: %v", left)
	}
}

func TestFileStoreKillChild(t *testing.T) {
	path := os.Getenv("OAUTH2X_CHILD_KILL")
	if path == "" {
		t.Skip("run by TestFileStoreKilledBeforeRename as a child process")
	}
	n := os.Getenv("OAUTH2X_CHILD_N")
	afterTempWrite = func(string) {
		os.Stdout.WriteString("WRITTEN\n")
		select {} // killed here
	}
	tok := &oauth2.Token{AccessToken: "at-" + n, RefreshToken: "rt-" + n, Expiry: time.Now().Add(24 * time.Hour)}
	NewFileStore(path).Save(context.Background(), tok)
}

// startChildren starts procs copies of this test binary, each running only
// test with env added to its environment; wait waits for them all and
// returns their outputs. A child that fails fails t.
func startChildren(t *testing.T, procs int, test string, env ...string) (wait func() []string) {
	outs := make([]string, procs)
	var wg sync.WaitGroup
	for i := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1")
			cmd.Env = append(os.Environ(), env...)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Errorf("child %d: %v\n%s", i, err, out)
			}
			outs[i] = string(out)
		}()
	}
	return func() []string { wg.Wait(); return outs }
}
