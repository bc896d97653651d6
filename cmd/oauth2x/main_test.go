package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/douyin/douyintest"
)

// asCommand, set in a child's environment, makes the test binary run the
// command instead of the tests, so that tests drive it as a subprocess
// without building it separately.
const asCommand = "OAUTH2X_TEST_RUN_COMMAND"

func TestMain(m *testing.M) {
	if os.Getenv(asCommand) == "1" {
		main()
	}
	os.Exit(m.Run())
}

// environ is a child's environment: the test's, minus every OAUTH2X_
// variable, plus a fresh config directory.
func environ(t *testing.T, extra ...string) []string {
	t.Helper()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OAUTH2X_") && !strings.HasPrefix(kv, "GORACE=") {
			env = append(env, kv)
		}
	}
	// Under -race, a child would otherwise sleep a second before exiting.
	env = append(env, asCommand+"=1", "GORACE=atexit_sleep_ms=0", "OAUTH2X_CONFIG_DIR="+t.TempDir())
	return append(env, extra...)
}

// douyinEnv is a child's environment for the fake's app.
func douyinEnv(t *testing.T, fake *douyintest.Server) []string {
	return environ(t,
		"OAUTH2X_DOUYIN_CLIENT_KEY="+fake.ClientKey,
		"OAUTH2X_DOUYIN_CLIENT_SECRET="+fake.ClientSecret,
		"OAUTH2X_DOUYIN_ENDPOINT="+fake.URL)
}

func getenv(env []string, key string) string {
	for _, kv := range env {
		if k, v, _ := strings.Cut(kv, "="); k == key {
			return v
		}
	}
	return ""
}

type outcome struct {
	code           int
	stdout, stderr string
}

func (o outcome) all() string { return o.stdout + o.stderr }

// run runs the command to completion.
func run(t *testing.T, env []string, args ...string) outcome {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("oauth2x %s: %v", strings.Join(args, " "), err)
	}
	return outcome{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}

// running is a command still running, whose output is read as it comes.
type running struct {
	cmd    *exec.Cmd
	lines  chan string // stdout, line by line
	stdout strings.Builder
	stderr bytes.Buffer
	done   chan struct{} // closed when stdout is drained
}

func start(t *testing.T, env []string, args ...string) *running {
	t.Helper()
	r := &running{cmd: exec.Command(os.Args[0], args...), lines: make(chan string, 100), done: make(chan struct{})}
	r.cmd.Env = env
	r.cmd.Stderr = &r.stderr
	out, err := r.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.cmd.Process.Kill(); r.cmd.Wait() })
	go func() {
		defer close(r.done)
		s := bufio.NewScanner(out)
		for s.Scan() {
			r.stdout.WriteString(s.Text() + "\n")
			r.lines <- s.Text()
		}
		close(r.lines)
	}()
	return r
}

// authURL reads stdout until the authorization page's URL.
func (r *running) authURL(t *testing.T) *url.URL {
	t.Helper()
	for line := range r.lines {
		if s := strings.TrimSpace(line); strings.HasPrefix(s, "http") {
			u, err := url.Parse(s)
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
	}
	r.cmd.Wait()
	t.Fatalf("no authorization URL printed; stderr:\n%s", r.stderr.String())
	return nil
}

// wait waits for the command to end.
func (r *running) wait(t *testing.T) outcome {
	t.Helper()
	for range r.lines {
	}
	<-r.done
	err := r.cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return outcome{code: r.cmd.ProcessState.ExitCode(), stdout: r.stdout.String(), stderr: r.stderr.String()}
}

// open opens u with a browser that follows redirects and records the
// addresses it was sent to.
func open(t *testing.T, u string) (*http.Response, string, []*url.URL) {
	t.Helper()
	var hops []*url.URL
	c := &http.Client{CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		hops = append(hops, req.URL)
		return nil
	}}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body), hops
}

func storePath(env []string, name string) string {
	return filepath.Join(getenv(env, "OAUTH2X_CONFIG_DIR"), name)
}

// accountPath is where the command keeps account's token at provider:
// the file oauth2x.KeyedFileStore names for the key account.
func accountPath(env []string, provider, account string) string {
	return oauth2x.NewKeyedFileStore(storePath(env, provider)).File(account).Path
}

func readStored(t *testing.T, path string) *oauth2.Token {
	t.Helper()
	tok, err := oauth2x.NewFileStore(path).Load(context.Background())
	if err != nil || tok == nil {
		t.Fatalf("stored token at %s: %v, %v", path, tok, err)
	}
	return tok
}

// apiOK reports whether the fake's API accepts tok.
func apiOK(t *testing.T, fake *douyintest.Server, tok string) bool {
	t.Helper()
	c := &http.Client{Transport: headerTransport{"access-token", tok}}
	var a douyintest.APIAnswer
	if err := getJSON(context.Background(), c, fake.URL+douyintest.APIPath, &a); err != nil {
		t.Fatal(err)
	}
	return a.Data.ErrorCode == 0
}

type headerTransport struct{ name, value string }

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(h.name, h.value)
	return http.DefaultTransport.RoundTrip(r)
}

// unmasked matches a whole token of the ByteDance fakes (act.douyin000002)
// or of the Fantem fake (32 hexadecimal digits).
var unmasked = regexp.MustCompile(`\b(act|rft|clt)\.[a-z]+\d{6}\b|\b[0-9A-F]{32}\b`)

// noSecrets fails if out holds any of the secrets or an unmasked token.
func noSecrets(t *testing.T, out string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(out, s) {
			t.Errorf("output contains secret %q:\n%s", s, out)
		}
	}
	if m := unmasked.FindString(out); m != "" {
		t.Errorf("output contains the whole token %q:\n%s", m, out)
	}
}

// login runs `oauth2x login douyin` and approves on the fake's page.
func login(t *testing.T, env []string, args ...string) outcome {
	t.Helper()
	r := start(t, env, append([]string{"login", "douyin"}, args...)...)
	resp, body, _ := open(t, r.authURL(t).String())
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "authorized") {
		t.Errorf("callback answered %s: %s", resp.Status, body)
	}
	return r.wait(t)
}

func TestWalkthrough(t *testing.T) {
	o := run(t, environ(t))
	if o.code != exitOK {
		t.Fatalf("exit %d\n%s", o.code, o.all())
	}
	total := 0
	for _, p := range providers {
		_, section, ok := strings.Cut(o.stdout, "\n"+p.name+": fake ")
		if !ok {
			t.Errorf("no section for %s:\n%s", p.name, o.stdout)
			continue
		}
		section, _, _ = strings.Cut(section, "\n\n")
		steps := []string{"authorize", "exchange", "replay code"}
		f := p.fake()
		if f.api != nil {
			steps = append(steps, "call API")
		}
		f.close()
		steps = append(steps, "refresh")
		conf := p.newFlow(&app{})
		if _, ok := conf.(renewer); ok {
			steps = append(steps, "renew")
		}
		if _, ok := conf.(clientTokener); ok {
			steps = append(steps, "client token")
		}
		steps = append(steps, "stored", "second user")
		lines := strings.Split(strings.TrimSpace(section), "\n")[1:]
		if len(lines) != len(steps) {
			t.Errorf("%s: %d steps printed, want %d:\n%s", p.name, len(lines), len(steps), section)
			continue
		}
		for i, step := range steps {
			if want := regexp.MustCompile(`^  \d+\. ` + step + ` +\S`); !want.MatchString(lines[i]) || strings.Contains(lines[i], "FAILED") {
				t.Errorf("%s: step %d = %q, want %s", p.name, i+1, lines[i], step)
			}
		}
		total += len(steps)
	}
	if !strings.Contains(o.stdout, "\nok: ") || !regexp.MustCompile(`steps passed`).MatchString(o.stdout) {
		t.Errorf("no summary:\n%s", o.stdout)
	}
	if m := regexp.MustCompile(`(\d+) steps passed`).FindStringSubmatch(o.stdout); m == nil || m[1] != strconv.Itoa(total) {
		t.Errorf("summary counts %v steps, want %d", m, total)
	}
	// Every token printed is masked.
	for _, m := range regexp.MustCompile(`(?:access|refresh|app-level|replaces|rotated to) (\S+)`).FindAllStringSubmatch(o.stdout, -1) {
		if m[1] != "token" && !strings.Contains(m[1], "…") {
			t.Errorf("token printed unmasked: %q", m[0])
		}
	}
	noSecrets(t, o.all(), douyintest.DefaultClientSecret)
}

func TestLoginTokenRefreshRenewLogout(t *testing.T) {
	fake := douyintest.NewServer()
	defer fake.Close()
	fake.SetRotate(true)
	env := environ(t, "OAUTH2X_DOUYIN_CLIENT_KEY="+fake.ClientKey, "OAUTH2X_DOUYIN_CLIENT_SECRET="+fake.ClientSecret)
	path := accountPath(env, "douyin", "default")

	// login, with the endpoint as a flag.
	r := start(t, env, "login", "douyin", "--endpoint", fake.URL, "--scope", "user_info,video.list")
	authURL := r.authURL(t)
	q := authURL.Query()
	redirect, _ := url.Parse(q.Get("redirect_uri"))
	if q.Get("client_key") != fake.ClientKey || q.Get("scope") != "user_info,video.list" || len(q.Get("state")) < 16 ||
		redirect == nil || redirect.Hostname() != "127.0.0.1" || redirect.Port() == "" {
		t.Errorf("authorization URL %s", authURL)
	}
	resp, body, hops := open(t, authURL.String())
	if resp.StatusCode != http.StatusOK || len(hops) != 1 || hops[0].Host != redirect.Host {
		t.Errorf("callback: %s %q via %v", resp.Status, body, hops)
	}
	o := r.wait(t)
	if o.code != exitOK || !strings.Contains(o.stdout, "logged in as open_id "+douyintest.DefaultOpenID) {
		t.Fatalf("login: exit %d\n%s", o.code, o.all())
	}
	noSecrets(t, o.all(), fake.ClientSecret, hops[0].Query().Get("code"))
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %#o, want 0600", fi.Mode().Perm())
	}
	first := readStored(t, path)
	if !apiOK(t, fake, first.AccessToken) || first.Extra("open_id") != douyintest.DefaultOpenID || first.Extra("scope") != "user_info,video.list" {
		t.Errorf("stored token %+v, extras open_id=%v scope=%v", first, first.Extra("open_id"), first.Extra("scope"))
	}

	// token: the endpoint from the environment from now on.
	env = append(env, "OAUTH2X_DOUYIN_ENDPOINT="+fake.URL)
	o = run(t, env, "token", "douyin")
	if o.code != exitOK || o.stdout != first.AccessToken+"\n" {
		t.Fatalf("token: exit %d, stdout %q, want the stored access token\n%s", o.code, o.stdout, o.stderr)
	}
	if n := fake.Calls(douyintest.RefreshTokenPath); n != 0 {
		t.Errorf("a valid token caused %d refreshes", n)
	}

	// An expired token is refreshed, and the rotated refresh token saved.
	saveExpired(t, path, first)
	o = run(t, env, "token", "douyin")
	second := readStored(t, path)
	if o.code != exitOK || o.stdout != second.AccessToken+"\n" || second.AccessToken == first.AccessToken {
		t.Fatalf("token after expiry: exit %d, printed %q, stored %q, first %q\n%s", o.code, o.stdout, second.AccessToken, first.AccessToken, o.stderr)
	}
	if second.RefreshToken == first.RefreshToken || !second.Expiry.After(time.Now()) {
		t.Errorf("rotated refresh token not saved: %q (was %q), expiry %v", second.RefreshToken, first.RefreshToken, second.Expiry)
	}
	if n := fake.Calls(douyintest.RefreshTokenPath); n != 1 {
		t.Errorf("refreshes = %d, want 1", n)
	}
	if !apiOK(t, fake, second.AccessToken) {
		t.Error("the fake refuses the refreshed token")
	}

	// --refresh forces one; --json prints the whole token with extras.
	o = run(t, env, "token", "douyin", "--refresh", "--json")
	printed, err := oauth2x.UnmarshalToken([]byte(o.stdout))
	if o.code != exitOK || err != nil {
		t.Fatalf("token --refresh --json: exit %d, %v\n%s", o.code, err, o.all())
	}
	third := readStored(t, path)
	if printed.AccessToken != third.AccessToken || printed.RefreshToken != third.RefreshToken || third.AccessToken == second.AccessToken {
		t.Errorf("printed %q/%q, stored %q/%q, before %q", printed.AccessToken, printed.RefreshToken, third.AccessToken, third.RefreshToken, second.AccessToken)
	}
	if printed.Extra("open_id") != douyintest.DefaultOpenID || oauth2x.RefreshExpiry(printed).IsZero() {
		t.Errorf("--json lost extras: open_id %v, refresh expiry %v", printed.Extra("open_id"), oauth2x.RefreshExpiry(printed))
	}
	if n := fake.Calls(douyintest.RefreshTokenPath); n != 2 {
		t.Errorf("refreshes = %d, want 2", n)
	}

	// renew replaces the refresh token and keeps the access token.
	o = run(t, env, "renew", "douyin")
	fourth := readStored(t, path)
	if o.code != exitOK || fourth.RefreshToken == third.RefreshToken || fourth.AccessToken != third.AccessToken {
		t.Fatalf("renew: exit %d, refresh %q (was %q)\n%s", o.code, fourth.RefreshToken, third.RefreshToken, o.all())
	}
	noSecrets(t, o.all())

	// logout deletes it; then token says to log in.
	o = run(t, env, "logout", "douyin")
	if o.code != exitOK {
		t.Fatalf("logout: exit %d\n%s", o.code, o.all())
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("token file still there after logout: %v", err)
	}
	o = run(t, env, "token", "douyin")
	if o.code != exitReauth || o.stdout != "" || !strings.Contains(o.stderr, "run `oauth2x login douyin`") {
		t.Errorf("token after logout: exit %d, stdout %q, stderr %q", o.code, o.stdout, o.stderr)
	}
}

func TestBadClientSecret(t *testing.T) {
	fake := douyintest.NewServer()
	defer fake.Close()
	const wrong = "wrong-secret-9f8e7d"
	env := environ(t, "OAUTH2X_DOUYIN_CLIENT_KEY="+fake.ClientKey, "OAUTH2X_DOUYIN_CLIENT_SECRET="+wrong, "OAUTH2X_DOUYIN_ENDPOINT="+fake.URL)

	check := func(what string, o outcome, secrets ...string) {
		t.Helper()
		if o.code != exitFailure {
			t.Errorf("%s: exit %d, want %d", what, o.code, exitFailure)
		}
		for _, want := range []string{"error 10013", "client_key 或 client_secret 错误", "log id ", "OAUTH2X_DOUYIN_CLIENT_SECRET"} {
			if !strings.Contains(o.stderr, want) {
				t.Errorf("%s: stderr lacks %q:\n%s", what, want, o.stderr)
			}
		}
		noSecrets(t, o.all(), append(secrets, wrong, fake.ClientSecret)...)
	}

	check("client-token", run(t, env, "client-token", "douyin"))

	r := start(t, env, "login", "douyin")
	_, _, hops := open(t, r.authURL(t).String())
	code := ""
	if len(hops) > 0 {
		code = hops[0].Query().Get("code")
	}
	check("login", r.wait(t), code)
	if _, err := os.Stat(accountPath(env, "douyin", "default")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a token was saved: %v", err)
	}

	// The secret from a file works, and beats the environment.
	file := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(file, []byte(fake.ClientSecret+"\n"), 0o600)
	if o := run(t, env, "client-token", "douyin", "--client-secret-file", file); o.code != exitOK {
		t.Errorf("client-token with --client-secret-file: exit %d\n%s", o.code, o.all())
	}
}

// loggedIn starts a fake Douyin and logs in to it with the command.
func loggedIn(t *testing.T) (*douyintest.Server, []string) {
	t.Helper()
	fake := douyintest.NewServer()
	t.Cleanup(fake.Close)
	env := douyinEnv(t, fake)
	if o := login(t, env); o.code != exitOK {
		t.Fatalf("login: exit %d\n%s", o.code, o.all())
	}
	return fake, env
}

// saveExpired stores tok at path as if its access token had expired.
func saveExpired(t *testing.T, path string, tok *oauth2.Token) {
	t.Helper()
	expired := *tok
	expired.Expiry = time.Now().Add(-time.Minute)
	if err := oauth2x.NewFileStore(path).Save(context.Background(), &expired); err != nil {
		t.Fatal(err)
	}
}

func TestDeadGrantSaysLogIn(t *testing.T) {
	fake, env := loggedIn(t)
	path := accountPath(env, "douyin", "default")
	tok := readStored(t, path)
	fake.Revoke(douyintest.DefaultOpenID)
	saveExpired(t, path, tok)

	o := run(t, env, "token", "douyin")
	if o.code != exitReauth || o.stdout != "" {
		t.Errorf("exit %d, stdout %q", o.code, o.stdout)
	}
	for _, want := range []string{"error 10010", "run `oauth2x login douyin`"} {
		if !strings.Contains(o.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, o.stderr)
		}
	}
	noSecrets(t, o.all(), tok.RefreshToken, tok.AccessToken)
}

func TestRenewLimitSaysLogIn(t *testing.T) {
	_, env := loggedIn(t)
	for i := range douyintest.MaxRenewals {
		if o := run(t, env, "renew", "douyin"); o.code != exitOK {
			t.Fatalf("renewal %d: exit %d\n%s", i+1, o.code, o.all())
		}
	}
	o := run(t, env, "renew", "douyin")
	if o.code != exitReauth || !strings.Contains(o.stderr, "error 10020") || !strings.Contains(o.stderr, "run `oauth2x login douyin`") {
		t.Errorf("renewal past the limit: exit %d\n%s", o.code, o.all())
	}
}

func TestProcessesShareOneRefreshAndOneClientToken(t *testing.T) {
	fake := douyintest.NewServer()
	defer fake.Close()
	env := douyinEnv(t, fake)
	path := accountPath(env, "douyin", "default")
	conf := fake.Config("http://127.0.0.1/callback")
	tok, err := conf.Exchange(context.Background(), fake.IssueCode("user_info"))
	if err != nil {
		t.Fatal(err)
	}
	saveExpired(t, path, tok)

	const n = 4
	for _, args := range [][]string{{"token", "douyin"}, {"client-token", "douyin"}} {
		outs := make([]outcome, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() { defer wg.Done(); outs[i] = run(t, env, args...) }()
		}
		wg.Wait()
		for i, o := range outs {
			if o.code != exitOK || o.stdout != outs[0].stdout || o.stdout == "" {
				t.Errorf("%v #%d: exit %d, printed %q, first printed %q\n%s", args, i, o.code, o.stdout, outs[0].stdout, o.stderr)
			}
		}
	}
	if got := fake.Calls(douyintest.RefreshTokenPath); got != 1 {
		t.Errorf("%d processes caused %d refreshes, want 1", n, got)
	}
	if got := fake.Calls(douyintest.ClientTokenPath); got != 1 {
		t.Errorf("%d processes fetched %d client tokens, want 1", n, got)
	}
}

// TestEveryProviderRoundTrip logs in to each provider's fake, prints and
// refreshes the token, and logs out, with each provider's own names for
// its credentials.
func TestEveryProviderRoundTrip(t *testing.T) {
	for _, p := range providers {
		t.Run(p.name, func(t *testing.T) {
			f := p.fake()
			defer f.close()
			env := environ(t, p.idEnv()+"="+f.clientID, p.env("ENDPOINT")+"="+f.url)
			if f.clientSecret != "" {
				env = append(env, p.env("CLIENT_SECRET")+"="+f.clientSecret)
			}
			r := start(t, env, "login", p.name)
			resp, body, _ := open(t, r.authURL(t).String())
			if resp.StatusCode != http.StatusOK {
				t.Errorf("callback answered %s: %s", resp.Status, body)
			}
			if o := r.wait(t); o.code != exitOK || !strings.Contains(o.stdout, p.name+": logged in") {
				t.Fatalf("login: exit %d\n%s", o.code, o.all())
			}
			path := accountPath(env, p.name, "default")
			stored := readStored(t, path)

			o := run(t, env, "token", p.name)
			if o.code != exitOK || o.stdout != stored.AccessToken+"\n" {
				t.Fatalf("token: exit %d, printed %q, stored %q\n%s", o.code, o.stdout, stored.AccessToken, o.stderr)
			}
			o = run(t, env, "token", p.name, "--refresh")
			refreshed := readStored(t, path)
			if o.code != exitOK || o.stdout != refreshed.AccessToken+"\n" || refreshed.AccessToken == stored.AccessToken || refreshed.RefreshToken == "" {
				t.Fatalf("token --refresh: exit %d, printed %q, stored %+v, before %q\n%s", o.code, o.stdout, refreshed, stored.AccessToken, o.stderr)
			}
			// The provider's API takes the refreshed token, sent its way.
			ctx := context.Background()
			if said, err := f.api(ctx, p.newFlow(&app{}).Client(ctx, refreshed)); err != nil {
				t.Errorf("API refused the refreshed token: %v", err)
			} else {
				t.Log(said)
			}
			if o := run(t, env, "logout", p.name); o.code != exitOK {
				t.Errorf("logout: exit %d\n%s", o.code, o.all())
			}
			if o := run(t, env, "token", p.name); o.code != exitReauth || !strings.Contains(o.stderr, "run `oauth2x login "+p.name+"`") {
				t.Errorf("token after logout: exit %d\n%s", o.code, o.all())
			}
		})
	}
}

// TestAccounts logs two accounts in at one provider: each has its own
// token file and token, a refresh of one leaves the other's file alone,
// logout of one keeps the other and the app's client token, and logout of
// the last one deletes the client token too.
func TestAccounts(t *testing.T) {
	fake := douyintest.NewServer()
	defer fake.Close()
	fake.SetRotate(true)
	env := douyinEnv(t, fake)
	for _, account := range []string{"alice", "bob"} {
		o := login(t, env, "--account", account)
		if o.code != exitOK || !strings.Contains(o.stdout, "oauth2x token douyin --account "+account+"\n") {
			t.Fatalf("login --account %s: exit %d\n%s", account, o.code, o.all())
		}
	}
	alicePath, bobPath := accountPath(env, "douyin", "alice"), accountPath(env, "douyin", "bob")
	alice, bob := readStored(t, alicePath), readStored(t, bobPath)
	if alice.AccessToken == bob.AccessToken || alice.RefreshToken == bob.RefreshToken {
		t.Fatalf("alice and bob share a token: %q %q", alice.AccessToken, bob.AccessToken)
	}
	for account, want := range map[string]string{"alice": alice.AccessToken, "bob": bob.AccessToken} {
		if o := run(t, env, "token", "douyin", "--account", account); o.code != exitOK || o.stdout != want+"\n" {
			t.Errorf("token --account %s: exit %d, printed %q, want %q\n%s", account, o.code, o.stdout, want, o.stderr)
		}
	}
	if o := run(t, env, "token", "douyin"); o.code != exitReauth || !strings.Contains(o.stderr, "run `oauth2x login douyin`") {
		t.Errorf("token of the default account, never logged in: exit %d\n%s", o.code, o.all())
	}

	// A refresh of alice's token writes alice's file only.
	bobBytes, err := os.ReadFile(bobPath)
	if err != nil {
		t.Fatal(err)
	}
	saveExpired(t, alicePath, alice)
	o := run(t, env, "token", "douyin", "--account", "alice")
	refreshed := readStored(t, alicePath)
	if o.code != exitOK || o.stdout != refreshed.AccessToken+"\n" || refreshed.RefreshToken == alice.RefreshToken {
		t.Fatalf("token --account alice after expiry: exit %d, printed %q, stored %+v\n%s", o.code, o.stdout, refreshed, o.stderr)
	}
	if after, _ := os.ReadFile(bobPath); !bytes.Equal(after, bobBytes) {
		t.Error("refreshing alice's token changed bob's file")
	}
	if n := fake.Calls(douyintest.RefreshTokenPath); n != 1 {
		t.Errorf("refreshes = %d, want 1", n)
	}

	if o := run(t, env, "client-token", "douyin"); o.code != exitOK {
		t.Fatalf("client-token: exit %d\n%s", o.code, o.all())
	}
	clientPath := storePath(env, "douyin-client.json")
	if o := run(t, env, "logout", "douyin", "--account", "alice"); o.code != exitOK || !strings.Contains(o.stdout, `logged out account "alice"`) {
		t.Errorf("logout --account alice: exit %d\n%s", o.code, o.all())
	}
	for path, want := range map[string]bool{alicePath: false, bobPath: true, clientPath: true} {
		if _, err := os.Stat(path); (err == nil) != want {
			t.Errorf("after alice's logout, %s exists: %v, want %v", path, err == nil, want)
		}
	}
	if o := run(t, env, "token", "douyin", "--account", "alice"); o.code != exitReauth || !strings.Contains(o.stderr, "run `oauth2x login douyin --account alice`") {
		t.Errorf("token --account alice after logout: exit %d\n%s", o.code, o.all())
	}
	if o := run(t, env, "token", "douyin", "--account", "bob"); o.code != exitOK || o.stdout != bob.AccessToken+"\n" {
		t.Errorf("bob's token after alice's logout: exit %d\n%s", o.code, o.all())
	}
	if o := run(t, env, "logout", "douyin", "--account", "bob"); o.code != exitOK {
		t.Errorf("logout --account bob: exit %d\n%s", o.code, o.all())
	}
	for _, path := range []string{bobPath, clientPath} {
		if _, err := os.Stat(path); err == nil {
			t.Errorf("after the last account's logout, %s is still there", path)
		}
	}
}

// TestAccountNames: any printable account name stays inside the
// provider's directory, in a file of its own; an empty name or one with
// control characters is a usage error.
func TestAccountNames(t *testing.T) {
	fake := douyintest.NewServer()
	defer fake.Close()
	env := douyinEnv(t, fake)
	dir := storePath(env, "douyin")
	for _, account := range []string{"../escape", "a/b", "Alice", "alice", "用户 1", ".."} {
		if o := login(t, env, "--account", account); o.code != exitOK {
			t.Fatalf("login --account %q: exit %d\n%s", account, o.code, o.all())
		}
		path := accountPath(env, "douyin", account)
		if filepath.Dir(path) != dir {
			t.Errorf("account %q stored at %s, outside %s", account, path, dir)
		}
		if o := run(t, env, "token", "douyin", "--account", account); o.code != exitOK || o.stdout != readStored(t, path).AccessToken+"\n" {
			t.Errorf("token --account %q: exit %d\n%s", account, o.code, o.all())
		}
	}
	entries, _ := os.ReadDir(storePath(env, ""))
	for _, e := range entries {
		if n := e.Name(); n != "douyin" {
			t.Errorf("unexpected %s in the configuration directory", n)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "k-*.json"))
	if len(files) != 6 {
		t.Errorf("%d token files for 6 accounts: %v", len(files), files)
	}
	for _, account := range []string{"", "a\x1b]0;x\x07", "a\nb", strings.Repeat("x", 201)} {
		o := run(t, env, "token", "douyin", "--account", account)
		if o.code != exitUsage || strings.ContainsAny(o.all(), "\x1b\x07") {
			t.Errorf("token --account %q: exit %d, want %d\n%q", account, o.code, exitUsage, o.all())
		}
	}
}

// TestOldTokenFileReadThrough: a token file of the command's single-token
// days (<config>/douyin.json) is the default account's while there is no
// account file: read and refreshed in place, deleted by logout; the next
// login writes the account file.
func TestOldTokenFileReadThrough(t *testing.T) {
	fake, env := loggedIn(t)
	fake.SetRotate(true)
	old, path := storePath(env, "douyin.json"), accountPath(env, "douyin", "default")
	if err := os.Rename(path, old); err != nil {
		t.Fatal(err)
	}
	before := readStored(t, old)
	if o := run(t, env, "token", "douyin"); o.code != exitOK || o.stdout != before.AccessToken+"\n" {
		t.Fatalf("token from the old file: exit %d\n%s", o.code, o.all())
	}
	if o := run(t, env, "token", "douyin", "--refresh"); o.code != exitOK {
		t.Fatalf("token --refresh: exit %d\n%s", o.code, o.all())
	}
	if after := readStored(t, old); after.RefreshToken == before.RefreshToken {
		t.Errorf("the rotated refresh token was not saved to the old file")
	}
	if _, err := os.Lstat(path); err == nil {
		t.Errorf("%s was written beside the old file", path)
	}
	if o := run(t, env, "logout", "douyin"); o.code != exitOK {
		t.Fatalf("logout: exit %d\n%s", o.code, o.all())
	}
	if _, err := os.Lstat(old); err == nil {
		t.Error("logout left the old file")
	}
	if o := login(t, env); o.code != exitOK {
		t.Fatalf("login: exit %d\n%s", o.code, o.all())
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("login after logout: %v", err)
	}
}

// TestLoginTikTokPKCE: `oauth2x login tiktok` sends a PKCE challenge, the
// lowercase hex of SHA-256 as TikTok's desktop flow reads it, and
// exchanges the code with its verifier: the fake refuses the code without
// the verifier whose hash the challenge is.
func TestLoginTikTokPKCE(t *testing.T) {
	var p *provider
	for _, q := range providers {
		if q.name == "tiktok" {
			p = q
		}
	}
	f := p.fake()
	defer f.close()
	env := environ(t, p.idEnv()+"="+f.clientID, p.env("CLIENT_SECRET")+"="+f.clientSecret, p.env("ENDPOINT")+"="+f.url)
	r := start(t, env, "login", "tiktok", "--account", "alice")
	authURL := r.authURL(t)
	q := authURL.Query()
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(q.Get("code_challenge")) || q.Get("code_challenge_method") != "S256" {
		t.Errorf("authorization URL: code_challenge %q, method %q; want 64 lowercase hex digits and S256", q.Get("code_challenge"), q.Get("code_challenge_method"))
	}
	if resp, body, _ := open(t, authURL.String()); resp.StatusCode != http.StatusOK {
		t.Errorf("callback answered %s: %s", resp.Status, body)
	}
	o := r.wait(t)
	if o.code != exitOK || !strings.Contains(o.stdout, "tiktok: logged in") {
		t.Fatalf("login: exit %d\n%s", o.code, o.all())
	}
	if tok := readStored(t, accountPath(env, "tiktok", "alice")); tok.AccessToken == "" {
		t.Errorf("stored %+v", tok)
	}

	// Another login's challenge is another verifier's.
	r = start(t, env, "login", "tiktok", "--account", "bob")
	second := r.authURL(t)
	if second.Query().Get("code_challenge") == q.Get("code_challenge") {
		t.Error("two logins sent the same code challenge")
	}
	open(t, second.String())
	if o := r.wait(t); o.code != exitOK {
		t.Fatalf("second login: exit %d\n%s", o.code, o.all())
	}
}
