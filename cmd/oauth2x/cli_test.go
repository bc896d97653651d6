package main

import (
	"bufio"
	"context"
	"io"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauth2x/oauth2x/douyin/douyintest"
)

// syncBuffer is an io.Writer safe for the command's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// inProcess runs the command in this process with env as its whole
// environment.
func inProcess(t *testing.T, env map[string]string, ps []*provider, args ...string) outcome {
	t.Helper()
	var stdout, stderr syncBuffer
	c := &cli{stdout: &stdout, stderr: &stderr, stdin: strings.NewReader(""), getenv: func(k string) string { return env[k] }, providers: ps}
	code := c.run(context.Background(), args)
	return outcome{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func TestUsage(t *testing.T) {
	dir := t.TempDir()
	key := map[string]string{"OAUTH2X_CONFIG_DIR": dir, "OAUTH2X_DOUYIN_CLIENT_KEY": "ck"}
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string // in the output
	}{
		{"help", nil, []string{"help"}, exitOK, "Exit codes: 0 ok, 1 failure, 2 usage, 3 authorization needed"},
		{"-h", nil, []string{"-h"}, exitOK, "oauth2x login <provider>"},
		{"demo -h", nil, []string{"demo", "-h"}, exitOK, "Usage: oauth2x demo"},
		{"login -h", nil, []string{"login", "-h"}, exitOK, "-redirect-url"},
		{"token -h", nil, []string{"token", "-h"}, exitOK, "-valid-for"},
		{"client-token -h", nil, []string{"client-token", "-h"}, exitOK, "-stable"},
		{"renew -h", nil, []string{"renew", "-h"}, exitOK, "Usage: oauth2x renew"},
		{"logout -h", nil, []string{"logout", "-h"}, exitOK, "Usage: oauth2x logout"},
		{"unknown command", nil, []string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{"no provider", nil, []string{"token"}, exitUsage, "name a provider (douyin, toutiao, fantem, tiktok)"},
		{"unknown provider", nil, []string{"token", "nosuch"}, exitUsage, `unknown provider "nosuch"`},
		{"unknown flag", nil, []string{"token", "douyin", "--bogus"}, exitUsage, "flag provided but not defined: -bogus"},
		{"demo unknown provider", nil, []string{"demo", "nosuch"}, exitUsage, `unknown provider "nosuch"`},
		{"no client key", map[string]string{"OAUTH2X_CONFIG_DIR": dir}, []string{"login", "douyin"}, exitUsage, "no client_key: set OAUTH2X_DOUYIN_CLIENT_KEY or pass --client-key"},
		{"no secret", key, []string{"login", "douyin"}, exitUsage, "no client secret: set OAUTH2X_DOUYIN_CLIENT_SECRET or pass --client-secret-file"},
		{"no secret, client token", key, []string{"client-token", "douyin"}, exitUsage, "OAUTH2X_DOUYIN_CLIENT_SECRET"},
		{"bad endpoint", key, []string{"token", "douyin", "--endpoint", "ftp://x"}, exitUsage, "endpoint must be an http:// or https:// URL"},
		{"bad redirect", map[string]string{"OAUTH2X_CONFIG_DIR": dir, "OAUTH2X_DOUYIN_CLIENT_KEY": "ck", "OAUTH2X_DOUYIN_CLIENT_SECRET": "cs"},
			[]string{"login", "douyin", "--redirect-url", "https://app.example/cb?x=1"}, exitUsage, "--redirect-url must be"},
		{"not logged in", key, []string{"token", "douyin"}, exitReauth, "run `oauth2x login douyin`"},
		{"renew, not logged in", key, []string{"renew", "douyin"}, exitReauth, "run `oauth2x login douyin`"},
		{"renew toutiao", map[string]string{"OAUTH2X_CONFIG_DIR": dir}, []string{"renew", "toutiao"}, exitUsage, "toutiao has no renew endpoint: when its refresh token expires, run `oauth2x login toutiao`"},
		{"client-token fantem", map[string]string{"OAUTH2X_CONFIG_DIR": dir}, []string{"client-token", "fantem"}, exitUsage, "fantem has no app-level tokens"},
		{"fantem names its client id", map[string]string{"OAUTH2X_CONFIG_DIR": dir}, []string{"login", "fantem"}, exitUsage, "no client_id: set OAUTH2X_FANTEM_CLIENT_ID or pass --client-id"},
		{"provider before flags", map[string]string{"OAUTH2X_CONFIG_DIR": dir}, []string{"token", "--json", "fantem", "--valid-for", "1m"}, exitReauth, "run `oauth2x login fantem`"},
		{"logout, nothing stored", key, []string{"logout", "douyin"}, exitOK, "douyin: no token was stored"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := inProcess(t, tc.env, nil, tc.args...)
			if o.code != tc.code || !strings.Contains(o.all(), tc.want) {
				t.Errorf("exit %d (want %d), output lacks %q:\n%s", o.code, tc.code, tc.want, o.all())
			}
			if tc.code == exitOK && o.stderr != "" {
				t.Errorf("stderr on success: %q", o.stderr)
			}
		})
	}
}

func TestSecretOnTheCommandLineIsNotEchoed(t *testing.T) {
	const secret = "s3cr3t-typed-on-argv"
	env := map[string]string{"OAUTH2X_CONFIG_DIR": t.TempDir(), "OAUTH2X_DOUYIN_CLIENT_KEY": "ck"}
	for _, args := range [][]string{
		{"client-token", "douyin", secret},
		{"login", "douyin", "--scope", "user_info", secret},
		{"client-token", "douyin", "--client-secret=" + secret},
	} {
		o := inProcess(t, env, nil, args...)
		if o.code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args[:2], o.code, exitUsage)
		}
		if strings.Contains(o.all(), secret) {
			t.Errorf("%v: the secret is echoed:\n%s", args[:2], o.all())
		}
	}
}

func TestLoginTimesOut(t *testing.T) {
	fake := douyintest.NewServer()
	defer fake.Close()
	env := map[string]string{"OAUTH2X_CONFIG_DIR": t.TempDir(), "OAUTH2X_DOUYIN_CLIENT_KEY": fake.ClientKey, "OAUTH2X_DOUYIN_CLIENT_SECRET": fake.ClientSecret}
	o := inProcess(t, env, nil, "login", "douyin", "--endpoint", fake.URL, "--timeout", "50ms")
	if o.code != exitFailure || !strings.Contains(o.stderr, "no authorization arrived within 50ms") || !strings.Contains(o.stderr, "Waiting for the authorization: 0:00 left") {
		t.Errorf("exit %d\n%s", o.code, o.all())
	}
}

// TestLoginWithPastedRedirect logs in with a redirect URL that is not on
// this machine: the user pastes the address the browser landed on.
func TestLoginWithPastedRedirect(t *testing.T) {
	fake := douyintest.NewServer()
	defer fake.Close()
	const redirect = "https://app.example/oauth/callback"
	env := map[string]string{"OAUTH2X_CONFIG_DIR": t.TempDir(), "OAUTH2X_DOUYIN_CLIENT_KEY": fake.ClientKey, "OAUTH2X_DOUYIN_CLIENT_SECRET": fake.ClientSecret}
	for _, tc := range []struct {
		name   string
		forge  bool
		code   int
		output string
	}{
		{"pasted", false, exitOK, "logged in as open_id " + douyintest.DefaultOpenID},
		{"forged state", true, exitFailure, "state does not match"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdin, paste := io.Pipe()
			defer paste.Close() // ends the command's reader of pasted addresses
			stdoutR, stdoutW := io.Pipe()
			var stderr syncBuffer
			c := &cli{stdout: stdoutW, stderr: &stderr, stdin: stdin, getenv: func(k string) string { return env[k] }}
			done := make(chan int)
			go func() {
				code := c.run(context.Background(), []string{"login", "douyin", "--endpoint", fake.URL, "--redirect-url", redirect})
				stdoutW.Close()
				done <- code
			}()
			var out strings.Builder
			lines := bufio.NewScanner(stdoutR)
			for lines.Scan() {
				out.WriteString(lines.Text() + "\n")
				if u := strings.TrimSpace(lines.Text()); strings.HasPrefix(u, "http") {
					if got, _ := url.Parse(u); got.Query().Get("redirect_uri") != redirect {
						t.Errorf("redirect_uri = %q, want %q", got.Query().Get("redirect_uri"), redirect)
					}
					code, state, err := fake.Authorize(context.Background(), u)
					if err != nil {
						t.Fatal(err)
					}
					if tc.forge {
						state = "forged"
					}
					go func() {
						io.WriteString(paste, "\n"+redirect+"?"+url.Values{"code": {code}, "state": {state}}.Encode()+"\n")
						if tc.forge {
							paste.Close() // refused, the login waits for another paste: none comes
						}
					}()
				}
			}
			got := <-done
			if got != tc.code || !strings.Contains(out.String()+stderr.String(), tc.output) {
				t.Errorf("exit %d (want %d), output lacks %q:\n%s%s", got, tc.code, tc.output, out.String(), stderr.String())
			}
			if !strings.Contains(stderr.String(), "paste that whole address") {
				t.Errorf("no prompt to paste:\n%s", stderr.String())
			}
		})
	}
}

func TestWalkthroughFailureShowsTypedError(t *testing.T) {
	row := *providers[0]
	row.fake = func() *fake {
		s := douyintest.NewServer()
		s.FailNext(douyintest.RefreshTokenPath, douyintest.CodeRefreshExpired, "refresh_token 已过期")
		return bytedanceFake(s.URL, s.ClientKey, s.ClientSecret, s.Close, douyintest.APIPath)
	}
	o := inProcess(t, nil, []*provider{&row})
	if o.code != exitReauth {
		t.Errorf("exit %d, want %d", o.code, exitReauth)
	}
	for _, want := range []string{"refresh      FAILED: douyin: refresh: error 10010", "[errors.Is oauth2x.ErrInvalidGrant]"} {
		if !strings.Contains(o.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, o.stdout)
		}
	}
	if strings.Contains(o.stdout, "\nok: ") || strings.Contains(o.stdout, "renew ") {
		t.Errorf("the walkthrough went on after a failure:\n%s", o.stdout)
	}
	if !strings.Contains(o.stderr, "walkthrough failed: douyin: refresh: error 10010") {
		t.Errorf("stderr:\n%s", o.stderr)
	}
}

func TestMask(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"act.f7094fbffab2ecbfc45e9af9c32bc241oYdckvBKe82BPx8T0000", "act.f709…0000"},
		{"294D412BD5A20464043F2381EC3EB6C7", "294D412B…B6C7"},
		{"act.douyin000003", "act.douy…0003"},
		{"short-token", "sh…"},
		{"", "(none)"},
	} {
		if got := mask(tc.in); got != tc.want {
			t.Errorf("mask(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestLife(t *testing.T) {
	for _, tc := range []struct {
		in   time.Duration
		want string
	}{
		{1296000*time.Second - time.Second, "15 days"},
		{7200*time.Second - time.Second, "2 hours"},
		{36000 * time.Second, "10 hours"},
		{80 * time.Second, "1m20s"},
		{90 * time.Second, "2 minutes"},
		{-time.Second, "0s"},
	} {
		if got := life(tc.in); got != tc.want {
			t.Errorf("life(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
