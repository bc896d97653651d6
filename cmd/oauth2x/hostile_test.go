package main

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oauth2x/oauth2x/douyin/douyintest"
)

// TestCallbackRefusesAndKeepsWaiting sends the login's loopback callback
// what a stale tab, a forged link or a page rebinding its name to
// loopback would: each is refused and nothing is exchanged, and the login
// still completes when the real redirect comes.
func TestCallbackRefusesAndKeepsWaiting(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		// request builds the hostile request from the real redirect URL,
		// the state sent and a code the fake issued.
		request func(redirect *url.URL, state, code string) *http.Request
	}{
		{"stray path", http.StatusNotFound, func(r *url.URL, state, code string) *http.Request {
			u := *r
			u.Path = "/favicon.ico"
			return get(u.String())
		}},
		{"wrong state", http.StatusBadRequest, func(r *url.URL, state, code string) *http.Request {
			return get(withQuery(r, url.Values{"code": {code}, "state": {"forged-state"}}))
		}},
		{"missing state", http.StatusBadRequest, func(r *url.URL, state, code string) *http.Request {
			return get(withQuery(r, url.Values{"code": {code}}))
		}},
		{"error with wrong state", http.StatusBadRequest, func(r *url.URL, state, code string) *http.Request {
			return get(withQuery(r, url.Values{"error": {"access_denied"}, "state": {"forged-state"}}))
		}},
		{"Host of another site", http.StatusBadRequest, func(r *url.URL, state, code string) *http.Request {
			req := get(withQuery(r, url.Values{"code": {code}, "state": {state}}))
			req.Host = "attacker.example"
			return req
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := douyintest.NewServer()
			defer fake.Close()
			env := douyinEnv(t, fake)
			r := start(t, env, "login", "douyin")
			authURL := r.authURL(t)
			redirect, err := url.Parse(authURL.Query().Get("redirect_uri"))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(tc.request(redirect, authURL.Query().Get("state"), fake.IssueCode("user_info")))
			if err != nil {
				t.Fatalf("hostile request: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Errorf("hostile request answered %s, want %d", resp.Status, tc.status)
			}
			if n := fake.Calls(douyintest.AccessTokenPath); n != 0 {
				t.Errorf("%d exchanges after a hostile request", n)
			}
			// The real redirect still logs in.
			resp, body, _ := open(t, authURL.String())
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, "authorized") {
				t.Errorf("real redirect after the hostile one: %s %q", resp.Status, body)
			}
			if o := r.wait(t); o.code != exitOK {
				t.Errorf("exit %d\n%s", o.code, o.all())
			}
		})
	}
}

func get(u string) *http.Request {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return req
}

func withQuery(u *url.URL, q url.Values) string {
	v := *u
	v.RawQuery = q.Encode()
	return v.String()
}

// TestCallbackEscapesProviderText: an error answer with the right state
// ends the login, and the provider's text reaches the terminal with its
// control characters escaped.
func TestCallbackEscapesProviderText(t *testing.T) {
	fake := douyintest.NewServer()
	defer fake.Close()
	env := douyinEnv(t, fake)
	r := start(t, env, "login", "douyin")
	authURL := r.authURL(t)
	redirect, _ := url.Parse(authURL.Query().Get("redirect_uri"))
	desc := "denied \x1b]0;owned\x07\x1b[2J\r\nFAKE PROMPT$ "
	resp, err := http.Get(withQuery(redirect, url.Values{"error": {"access_denied\x1b[31m"}, "error_description": {desc}, "state": {authURL.Query().Get("state")}}))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	o := r.wait(t)
	if o.code != exitFailure || !strings.Contains(o.stderr, `denied \x1b]0;owned\a\x1b[2J\r\nFAKE PROMPT$`) {
		t.Errorf("exit %d, want %d with the description escaped:\n%q", o.code, exitFailure, o.all())
	}
	if strings.ContainsAny(o.all(), "\x1b\x07") {
		t.Errorf("a control character reached the terminal: %q", o.all())
	}
}

// TestLoginStdinClosed: with a redirect URL elsewhere the address must be
// pasted; when standard input is closed the login ends at once instead of
// waiting for the code's lifetime.
func TestLoginStdinClosed(t *testing.T) {
	fake := douyintest.NewServer()
	defer fake.Close()
	env := map[string]string{"OAUTH2X_CONFIG_DIR": t.TempDir(), "OAUTH2X_DOUYIN_CLIENT_KEY": fake.ClientKey, "OAUTH2X_DOUYIN_CLIENT_SECRET": fake.ClientSecret}
	// The timeout is only a bound on a hang: the login must end on its own.
	o := inProcess(t, env, nil, "login", "douyin", "--endpoint", fake.URL, "--redirect-url", "https://app.example/cb", "--timeout", "1m")
	if o.code != exitFailure || !strings.Contains(o.stderr, "standard input closed before the address was pasted") {
		t.Errorf("exit %d\n%s", o.code, o.all())
	}
}

// runBounded runs the command as a subprocess, killed after a minute so
// that a hang fails the test instead of stalling it.
func runBounded(t *testing.T, env []string, args ...string) outcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = env
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("oauth2x %s hung", strings.Join(args, " "))
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return outcome{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}

// TestCommandFiles points the token file and the secret file at what is
// not a small regular file: each is refused at once with a clear error.
func TestCommandFiles(t *testing.T) {
	fake := douyintest.NewServer()
	defer fake.Close()
	big := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(big, make([]byte, 2<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := mkfifo(fifo); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	for _, tc := range []filesCase{
		{"token file links to /dev/zero", "/dev/zero", "", "", []string{"token", "douyin"}, exitFailure, "is not a regular file (a device)"},
		{"token file links to a FIFO", fifo, "", "", []string{"token", "douyin"}, exitFailure, "is not a regular file (a named pipe)"},
		{"token file larger than 1 MiB", big, "", "", []string{"token", "douyin"}, exitFailure, "is larger than 1 MiB"},
		{"token file is a directory", t.TempDir(), "", "", []string{"token", "douyin"}, exitFailure, "is not a regular file (a directory)"},
		{"renew, token file links to /dev/zero", "/dev/zero", "", "", []string{"renew", "douyin"}, exitFailure, "is not a regular file (a device)"},
		{"token file with a terminal escape in the token", "", `{"access_token":"act.\u001b]0;owned\u0007","refresh_token":"rft.x","expiry":"2999-01-01T00:00:00Z"}`, "",
			[]string{"token", "douyin"}, exitFailure, "not of RFC 6750 token syntax, so it was not printed"},
		{"secret file /dev/zero", "", "", "/dev/zero", []string{"client-token", "douyin"}, exitUsage, "is not a regular file (a device)"},
		{"secret file a FIFO", "", "", fifo, []string{"login", "douyin"}, exitUsage, "is not a regular file (a named pipe)"},
		{"secret file larger than 1 MiB", "", "", big, []string{"client-token", "douyin"}, exitUsage, "is larger than 1 MiB"},
	} {
		// Each token file case twice: an account's file, and the file of the
		// command's single-token days, which the default account reads.
		for _, account := range []string{"alice", ""} {
			name := tc.name
			if tc.target == "" && tc.content == "" {
				if account != "" {
					continue
				}
			} else if account == "" {
				name += ", old single-token file"
			}
			t.Run(name, func(t *testing.T) { tc.run(t, fake, account) })
		}
	}
}

// filesCase is a case of TestCommandFiles.
type filesCase struct {
	name   string
	target string // what the token file links to; empty: no token file
	// content, when set, is written to the token file instead.
	content string
	secret  string // --client-secret-file
	args    []string
	code    int
	want    string
}

// run runs tc with account's token file, or with the old single-token
// file when account is "".
func (tc filesCase) run(t *testing.T, fake *douyintest.Server, account string) {
	args := tc.args
	env := environ(t, "OAUTH2X_DOUYIN_CLIENT_KEY="+fake.ClientKey, "OAUTH2X_DOUYIN_ENDPOINT="+fake.URL)
	path := storePath(env, "douyin.json")
	if account != "" {
		path = accountPath(env, "douyin", account)
		args = append(args[:len(args):len(args)], "--account", account)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if tc.target != "" {
		if err := os.Symlink(tc.target, path); err != nil {
			t.Fatal(err)
		}
	}
	if tc.content != "" {
		if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if tc.secret != "" {
		args = append(args, "--client-secret-file", tc.secret)
	} else {
		env = append(env, "OAUTH2X_DOUYIN_CLIENT_SECRET="+fake.ClientSecret)
	}
	o := runBounded(t, env, args...)
	if o.code != tc.code || !strings.Contains(o.stderr, tc.want) {
		t.Errorf("exit %d (want %d), stderr lacks %q:\n%s", o.code, tc.code, tc.want, o.all())
	}
	if strings.ContainsAny(o.all(), "\x1b\x07") {
		t.Errorf("a control character reached the terminal: %q", o.all())
	}
}

// TestSymlinkedTokenFileIsWrittenThrough keeps the token file elsewhere,
// behind a symbolic link: a refresh that rotates the refresh token writes
// the link's target, and the link stays a link. The same for a link at
// the old single-token file, which the default account reads through.
func TestSymlinkedTokenFileIsWrittenThrough(t *testing.T) {
	t.Run("account file", func(t *testing.T) { testSymlinkWriteThrough(t, false) })
	t.Run("old single-token file", func(t *testing.T) { testSymlinkWriteThrough(t, true) })
}

func testSymlinkWriteThrough(t *testing.T, legacy bool) {
	fake, env := loggedIn(t)
	fake.SetRotate(true)
	link := accountPath(env, "douyin", "default")
	target := filepath.Join(t.TempDir(), "shared-token.json")
	if err := os.Rename(link, target); err != nil {
		t.Fatal(err)
	}
	if legacy {
		link = storePath(env, "douyin.json")
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	before := readStored(t, target)
	if o := run(t, env, "token", "douyin", "--refresh"); o.code != exitOK {
		t.Fatalf("token --refresh: exit %d\n%s", o.code, o.all())
	}
	fi, err := os.Lstat(link)
	if err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v %v", fi.Mode(), err)
	}
	after := readStored(t, target)
	if after.RefreshToken == before.RefreshToken {
		t.Errorf("the link's target kept the old refresh token %q", before.RefreshToken)
	}
	if fi, _ := os.Stat(target); fi.Mode().Perm() != 0o600 {
		t.Errorf("target mode %#o, want 0600", fi.Mode().Perm())
	}
}

// TestEndpointRemembered logs in with --endpoint and then runs token and
// renew with no endpoint anywhere: the token file says where the token
// came from. A file written before the endpoint was kept still reads.
func TestEndpointRemembered(t *testing.T) {
	fake := douyintest.NewServer()
	defer fake.Close()
	env := environ(t, "OAUTH2X_DOUYIN_CLIENT_KEY="+fake.ClientKey, "OAUTH2X_DOUYIN_CLIENT_SECRET="+fake.ClientSecret)
	if o := login(t, env, "--endpoint", fake.URL); o.code != exitOK {
		t.Fatalf("login: exit %d\n%s", o.code, o.all())
	}
	raw, err := os.ReadFile(accountPath(env, "douyin", "default"))
	if err != nil || !strings.Contains(string(raw), `"endpoint":{"auth_url":"`+fake.URL) {
		t.Fatalf("token file does not keep the endpoint: %s %v", raw, err)
	}
	before := fake.Calls(douyintest.RefreshTokenPath)
	for _, args := range [][]string{{"token", "douyin", "--refresh"}, {"renew", "douyin"}, {"token", "douyin", "--refresh"}} {
		if o := runBounded(t, env, args...); o.code != exitOK {
			t.Fatalf("%s without --endpoint: exit %d\n%s", strings.Join(args, " "), o.code, o.all())
		}
	}
	if n := fake.Calls(douyintest.RefreshTokenPath) - before; n != 2 {
		t.Errorf("%d refreshes reached the fake, want 2", n)
	}
	// An older file, without the endpoint, reads as before.
	tok := readStored(t, accountPath(env, "douyin", "default"))
	saveExpired(t, accountPath(env, "douyin", "default"), tok)
	o := runBounded(t, append(env, "OAUTH2X_DOUYIN_ENDPOINT="+fake.URL), "token", "douyin")
	if o.code != exitOK || !strings.HasPrefix(o.stdout, "act.") {
		t.Errorf("token from an older file: exit %d\n%s", o.code, o.all())
	}
}

// TestHelpListsWhatApplies: each command's help lists only the flags that
// apply to the providers it serves, and --version says which build runs.
func TestHelpListsWhatApplies(t *testing.T) {
	for _, tc := range []struct {
		args        []string
		has, hasNot string
	}{
		{[]string{"renew", "-h"}, "-client-key", "-client-id"},
		{[]string{"client-token", "-h"}, "-client-key", "-client-id"},
		{[]string{"login", "-h"}, "-client-id", ""},
		{[]string{"--version"}, "oauth2x ", "\n\n"},
	} {
		o := inProcess(t, nil, nil, tc.args...)
		if o.code != exitOK || !strings.Contains(o.stdout, tc.has) || (tc.hasNot != "" && strings.Contains(o.stdout, tc.hasNot)) {
			t.Errorf("%s: exit %d, want %q and not %q:\n%s", strings.Join(tc.args, " "), o.code, tc.has, tc.hasNot, o.all())
		}
	}
}
