package douyin_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/douyin"
	"github.com/oauth2x/oauth2x/douyin/douyintest"
	"github.com/oauth2x/oauth2x/internal/oauthtest"
)

const redirect = "https://app.example/callback"

func setup(t *testing.T) (*douyintest.Server, *douyin.Config, context.Context) {
	t.Helper()
	fake := douyintest.NewServer()
	t.Cleanup(fake.Close)
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, fake.Client())
	return fake, fake.Config(redirect, "user_info", "video.list"), ctx
}

// login drives the fake's authorization page and exchanges the code.
func login(t *testing.T, fake *douyintest.Server, conf *douyin.Config, ctx context.Context) *oauth2.Token {
	t.Helper()
	code, state, err := fake.Authorize(ctx, conf.AuthCodeURL("st4te"))
	if err != nil {
		t.Fatal(err)
	}
	if state != "st4te" {
		t.Fatalf("state = %q, want st4te", state)
	}
	tok, err := conf.Exchange(ctx, code)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	return tok
}

func TestAuthCodeURL(t *testing.T) {
	conf := &douyin.Config{ClientKey: "ck", ClientSecret: "s3cret", RedirectURL: redirect, Scopes: []string{"user_info", "video.list"}}
	got, err := url.Parse(conf.AuthCodeURL("xyz", oauth2.SetAuthURLParam("extra", "1"),
		douyin.OptionalScopes(douyin.Scope{Name: "friend_relation", Checked: true}, douyin.Scope{Name: "message"})))
	if err != nil {
		t.Fatal(err)
	}
	if base := got.Scheme + "://" + got.Host + got.Path; base != douyin.Endpoint.AuthURL {
		t.Errorf("page = %s, want %s", base, douyin.Endpoint.AuthURL)
	}
	want := url.Values{
		"client_key": {"ck"}, "response_type": {"code"}, "scope": {"user_info,video.list"},
		"redirect_uri": {redirect}, "state": {"xyz"}, "extra": {"1"},
		"optionalScope": {"friend_relation,1,message,0"},
	}
	if diff := cmp.Diff(want, got.Query()); diff != "" {
		t.Errorf("query (-want +got):\n%s", diff)
	}
	if strings.Contains(got.String(), "s3cret") {
		t.Error("secret in the authorization URL")
	}

	silent, _ := url.Parse(conf.SilentAuthCodeURL("s"))
	if !strings.HasPrefix(silent.String(), douyin.SilentAuthURL+"?") {
		t.Errorf("silent page = %s", silent)
	}
	if q := silent.Query(); q.Get("scope") != "login_id" || q.Get("client_key") != "ck" || q.Get("state") != "s" || q.Has("client_id") {
		t.Errorf("silent query = %v", q)
	}
}

func TestSilentLoginAgainstFake(t *testing.T) {
	fake, conf, ctx := setup(t)
	code, _, err := fake.Authorize(ctx, conf.SilentAuthCodeURL("s"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := conf.Exchange(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.Extra("scope"); got != "login_id" {
		t.Errorf("scope = %v, want login_id", got)
	}
}

func TestExchangeBothEditions(t *testing.T) {
	for _, strNums := range []bool{false, true} {
		t.Run(map[bool]string{false: "numbers", true: "strings"}[strNums], func(t *testing.T) {
			fake, conf, ctx := setup(t)
			fake.SetStringNumbers(strNums)
			before := time.Now()
			tok := login(t, fake, conf, ctx)
			if !strings.HasPrefix(tok.AccessToken, "act.") || !strings.HasPrefix(tok.RefreshToken, "rft.") {
				t.Errorf("tokens = %q, %q", tok.AccessToken, tok.RefreshToken)
			}
			if tok.ExpiresIn != 1296000 {
				t.Errorf("ExpiresIn = %d, want 1296000", tok.ExpiresIn)
			}
			if lo, hi := before.Add(15*24*time.Hour), time.Now().Add(15*24*time.Hour); tok.Expiry.Before(lo) || tok.Expiry.After(hi) {
				t.Errorf("Expiry = %v, want within [%v, %v]", tok.Expiry, lo, hi)
			}
			if got := douyin.OpenID(tok); got != douyintest.DefaultOpenID {
				t.Errorf("OpenID = %q", got)
			}
			if got := tok.Extra("scope"); got != "user_info,video.list" {
				t.Errorf("scope = %v", got)
			}
			if got := tok.Extra("refresh_expires_in"); got != float64(2592000) {
				t.Errorf("refresh_expires_in = %#v", got)
			}
			if got, _ := tok.Extra("log_id").(string); got == "" {
				t.Error("no log_id")
			}
			if re := oauth2x.RefreshExpiry(tok); re.Sub(before.Truncate(time.Second)) < 30*24*time.Hour {
				t.Errorf("RefreshExpiry = %v", re)
			}
			if fake.SecretsSeen(douyintest.AccessTokenPath) != 1 {
				t.Error("exchange did not send client_secret")
			}
		})
	}
}

// rfcCodes are the RFC 6749 codes x/oauth2 code sees for each kind.
var rfcCodes = map[error]string{
	oauth2x.ErrInvalidGrant:      "invalid_grant",
	oauth2x.ErrInvalidClient:     "invalid_client",
	oauth2x.ErrInvalidRequest:    "invalid_request",
	oauth2x.ErrInsufficientScope: "invalid_scope",
	oauth2x.ErrInvalidToken:      "invalid_token",
	oauth2x.ErrRateLimited:       "slow_down",
	oauth2x.ErrTemporary:         "temporarily_unavailable",
	oauth2x.ErrBadResponse:       "server_error",
	oauth2x.ErrRejected:          "invalid_request",
}

// assertErr checks kind, provider code, log id and that no secret leaks.
func assertErr(t *testing.T, err error, kind error, code string, secrets ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	if !errors.Is(err, kind) {
		t.Errorf("errors.Is(%v, %v) = false", err, kind)
	}
	var re *oauth2.RetrieveError
	if code != "" {
		if !errors.As(err, &re) {
			t.Fatalf("not a *oauth2.RetrieveError: %v", err)
		}
		// x/oauth2 code reads the RFC 6749 code; Douyin's number is on
		// our error type and in the description.
		if want := rfcCodes[kind]; re.ErrorCode != want {
			t.Errorf("ErrorCode = %q, want %q", re.ErrorCode, want)
		}
		var e *oauth2x.Error
		if !errors.As(err, &e) || e.Code != code || !strings.Contains(re.ErrorDescription, "error "+code) {
			t.Errorf("provider code %q lost: %+v, description %q", code, e, re.ErrorDescription)
		}
		if !strings.Contains(err.Error(), "log id ") {
			t.Errorf("no log id in %q", err)
		}
	}
	if re != nil && re.Response != nil && re.Response.Request != nil {
		if req := re.Response.Request; req.GetBody != nil || (req.Body != nil && req.Body != http.NoBody) || len(req.Header) > 0 {
			t.Errorf("RetrieveError.Response.Request still carries the request body or headers")
		}
	}
	if !strings.HasPrefix(err.Error(), "douyin: ") {
		t.Errorf("error not prefixed: %q", err)
	}
	for _, s := range append(secrets, douyintest.DefaultClientSecret) {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("error text %q contains secret %q", err, s)
		}
		if re != nil && strings.Contains(string(re.Body), s) {
			t.Errorf("RetrieveError.Body contains secret %q", s)
		}
	}
}

func TestExchangeErrors(t *testing.T) {
	fake, conf, ctx := setup(t)
	code := fake.IssueCode("user_info")
	if _, err := conf.Exchange(ctx, code); err != nil {
		t.Fatal(err)
	}
	_, err := conf.Exchange(ctx, code)
	assertErr(t, err, oauth2x.ErrInvalidGrant, "10007", code)

	bad := *conf
	bad.ClientSecret = "wrong-secret-value"
	_, err = bad.Exchange(ctx, fake.IssueCode("user_info"))
	assertErr(t, err, oauth2x.ErrInvalidClient, "10013", "wrong-secret-value")

	fake.SetStringNumbers(true)
	fake.FailNext(douyintest.AccessTokenPath, douyintest.CodeSystemError, "系统错误")
	_, err = conf.Exchange(ctx, fake.IssueCode("user_info"))
	assertErr(t, err, oauth2x.ErrTemporary, "10001")
	if !oauth2x.IsTemporary(err) {
		t.Error("IsTemporary = false for 10001")
	}
}

func TestExchangeHonoursOptions(t *testing.T) {
	var got url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		got = r.PostForm
		w.Write([]byte(`{"data":{"access_token":"act.x","expires_in":10,"error_code":0},"message":"success"}`))
	}))
	defer srv.Close()
	conf := &douyin.Config{ClientKey: "ck", ClientSecret: "cs", Endpoint: oauth2.Endpoint{TokenURL: srv.URL + "/oauth/access_token/"}}
	if _, err := conf.Exchange(context.Background(), "the-code", oauth2.SetAuthURLParam("redirect_uri", "https://x/cb")); err != nil {
		t.Fatal(err)
	}
	want := url.Values{"client_key": {"ck"}, "client_secret": {"cs"}, "code": {"the-code"}, "grant_type": {"authorization_code"}, "redirect_uri": {"https://x/cb"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("form (-want +got):\n%s", diff)
	}
}

func TestRefresh(t *testing.T) {
	for _, rotate := range []bool{false, true} {
		t.Run(map[bool]string{false: "same", true: "rotated"}[rotate], func(t *testing.T) {
			fake, conf, ctx := setup(t)
			fake.SetRotate(rotate)
			tok := login(t, fake, conf, ctx)
			nt, err := conf.Refresh(ctx, tok)
			if err != nil {
				t.Fatal(err)
			}
			if nt.AccessToken == tok.AccessToken || nt.AccessToken == "" {
				t.Errorf("access token not renewed: %q", nt.AccessToken)
			}
			if rotated := nt.RefreshToken != tok.RefreshToken; rotated != rotate {
				t.Errorf("refresh token rotated = %v, want %v", rotated, rotate)
			}
			if fake.SecretsSeen(douyintest.RefreshTokenPath) != 0 {
				t.Error("refresh sent client_secret")
			}
			if douyin.OpenID(nt) != douyin.OpenID(tok) {
				t.Error("open_id lost on refresh")
			}
			if a, b := oauth2x.RefreshExpiry(nt), oauth2x.RefreshExpiry(tok); a.Sub(b).Abs() > 2*time.Second {
				t.Errorf("refresh expiry moved from %v to %v", b, a)
			}
			if rotate {
				_, err := conf.Refresh(ctx, tok)
				assertErr(t, err, oauth2x.ErrInvalidGrant, "10010", tok.RefreshToken, tok.AccessToken)
			}
		})
	}
}

func TestRefreshKeepsOldRefreshTokenWhenAnswerHasNone(t *testing.T) {
	fake, conf, ctx := setup(t)
	fake.RespondNext(douyintest.RefreshTokenPath, 200, `{"data":{"access_token":"act.new","expires_in":"1296000","error_code":"0"},"message":"<nil>"}`)
	old := (&oauth2.Token{AccessToken: "act.old", RefreshToken: "rft.keep"}).WithExtra(map[string]any{"open_id": "u1"})
	nt, err := conf.Refresh(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	if nt.RefreshToken != "rft.keep" || nt.AccessToken != "act.new" || douyin.OpenID(nt) != "u1" {
		t.Errorf("got %+v open_id %q", nt, douyin.OpenID(nt))
	}
}

func TestRenew(t *testing.T) {
	fake, conf, ctx := setup(t)
	tok := login(t, fake, conf, ctx)
	cur := tok
	for i := 1; i <= douyintest.MaxRenewals; i++ {
		nt, err := conf.RenewRefreshToken(ctx, cur)
		if err != nil {
			t.Fatalf("renew %d: %v", i, err)
		}
		if nt.AccessToken != tok.AccessToken || nt.RefreshToken == cur.RefreshToken || !nt.Expiry.Equal(tok.Expiry) {
			t.Fatalf("renew %d gave %+v", i, nt)
		}
		if fake.SecretsSeen(douyintest.RenewRefreshTokenPath) != 0 {
			t.Fatal("renew sent client_secret")
		}
		// The old refresh token dies at once.
		_, err = conf.Refresh(ctx, cur)
		assertErr(t, err, oauth2x.ErrInvalidGrant, "10010", cur.RefreshToken)
		cur = nt
	}
	_, err := conf.RenewRefreshToken(ctx, cur)
	assertErr(t, err, oauth2x.ErrInvalidGrant, "10020", cur.RefreshToken)
	if _, err := conf.Refresh(ctx, cur); err != nil {
		t.Errorf("the last renewed refresh token still refreshes: %v", err)
	}
}

func TestClientToken(t *testing.T) {
	fake, conf, ctx := setup(t)
	tok, err := conf.ClientToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok.AccessToken, "clt.") || tok.ExpiresIn != 7200 || tok.RefreshToken != "" {
		t.Errorf("client token = %+v", tok)
	}
	src := conf.ClientTokenSource(ctx)
	a, err := src.Token()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := src.Token()
	if a != b || fake.Calls(douyintest.ClientTokenPath) != 2 {
		t.Errorf("source fetched again: calls = %d", fake.Calls(douyintest.ClientTokenPath))
	}
	s1, _ := conf.StableClientToken(ctx)
	s2, _ := conf.StableClientToken(ctx)
	if s1 == nil || s2 == nil || s1.AccessToken != s2.AccessToken {
		t.Errorf("stable client tokens differ: %v %v", s1, s2)
	}
	bad := *conf
	bad.ClientSecret = "nope-secret"
	_, err = bad.ClientToken(ctx)
	assertErr(t, err, oauth2x.ErrInvalidClient, "10013", "nope-secret")
	fake.FailNext(douyintest.ClientTokenPath, douyintest.CodeRenewLimit, "rate limited")
	_, err = conf.ClientToken(ctx)
	assertErr(t, err, oauth2x.ErrRateLimited, "10020")
}

func TestClientTokensKnockEachOtherOut(t *testing.T) {
	fake, conf, ctx := setup(t)
	now := time.Now()
	var mu sync.Mutex
	fake.SetNow(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	first, _ := conf.ClientToken(ctx)
	conf.ClientToken(ctx)
	conf.ClientToken(ctx)
	if !apiOK(t, ctx, fake, first.AccessToken) {
		t.Fatal("first client token dead inside the grace")
	}
	mu.Lock()
	now = now.Add(douyintest.ClientGrace + time.Second)
	mu.Unlock()
	if apiOK(t, ctx, fake, first.AccessToken) {
		t.Error("first client token still valid after a third was fetched and the grace passed")
	}
}

func apiOK(t *testing.T, ctx context.Context, fake *douyintest.Server, tok string) bool {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", fake.URL+douyintest.APIPath, nil)
	req.Header.Set("access-token", tok)
	var a douyintest.APIAnswer
	do(t, fake.Client(), req, &a)
	return a.Data.ErrorCode == 0
}

func do(t *testing.T, c *http.Client, req *http.Request, v any) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func TestClientSendsAccessTokenHeaderAndRefreshes(t *testing.T) {
	fake, conf, ctx := setup(t)
	tok := login(t, fake, conf, ctx)
	expired := *tok
	expired.Expiry = time.Now().Add(-time.Minute)
	client := conf.Client(ctx, &expired)
	var a douyintest.APIAnswer
	req, _ := http.NewRequest("GET", fake.URL+douyintest.APIPath, nil)
	do(t, client, req, &a)
	if a.Data.ErrorCode != 0 || a.Data.Header != "access-token" || a.Data.OpenID != douyintest.DefaultOpenID {
		t.Errorf("API saw %+v", a.Data)
	}
	if n := fake.Calls(douyintest.RefreshTokenPath); n != 1 {
		t.Errorf("refreshes = %d, want 1", n)
	}

	// Douyin's OpenAPI refuses Authorization: Bearer, and so does the fake.
	bearer := oauth2.NewClient(ctx, conf.TokenSource(ctx, tok))
	req, _ = http.NewRequest("GET", fake.URL+douyintest.APIPath, nil)
	a = douyintest.APIAnswer{}
	do(t, bearer, req, &a)
	if a.Data.ErrorCode != douyintest.CodeTokenMissing || a.Data.OpenID != "" {
		t.Errorf("API saw %+v via oauth2.NewClient; want Douyin's refusal", a.Data)
	}
}

// TestNewClientSendsAnySourcesToken: a persisting source's token goes in
// the access-token header too, and its refresh is the source's own.
func TestNewClientSendsAnySourcesToken(t *testing.T) {
	fake, conf, ctx := setup(t)
	tok := login(t, fake, conf, ctx)
	store := oauth2x.NewMemoryStore()
	src := oauth2x.NewTokenSource(ctx, conf, confExpired(tok), &oauth2x.Options{Store: store})
	var a douyintest.APIAnswer
	req, _ := http.NewRequest("GET", fake.URL+douyintest.APIPath, nil)
	do(t, douyin.NewClient(ctx, src), req, &a)
	if a.Data.ErrorCode != 0 || a.Data.Header != "access-token" || a.Data.OpenID != douyintest.DefaultOpenID {
		t.Errorf("API saw %+v", a.Data)
	}
	saved, err := store.Load(ctx)
	if err != nil || saved == nil || saved.AccessToken == tok.AccessToken {
		t.Errorf("the refreshed token was not saved: %v, %v", saved, err)
	}
	if n := fake.Calls(douyintest.RefreshTokenPath); n != 1 {
		t.Errorf("refreshes = %d, want 1", n)
	}
}

func confExpired(tok *oauth2.Token) *oauth2.Token {
	old := *tok
	old.Expiry = time.Now().Add(-time.Minute)
	return &old
}

func TestConcurrentCallersCauseOneRefresh(t *testing.T) {
	fake, conf, ctx := setup(t)
	tok := login(t, fake, conf, ctx)
	tok.Expiry = time.Now().Add(-time.Second)
	const n = 64
	gate := oauthtest.NewGate(douyintest.RefreshTokenPath, n)
	fake.SetHook(gate.Hook)
	src := conf.TokenSource(ctx, tok)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			gate.Started()
			if _, err := src.Token(); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := fake.Calls(douyintest.RefreshTokenPath); got != 1 {
		t.Errorf("upstream refreshes = %d, want 1", got)
	}
}

func TestHTTPClientFromContextAndDefault(t *testing.T) {
	fake, conf, _ := setup(t)
	var n int
	var mu sync.Mutex
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		n++
		mu.Unlock()
		return fake.Client().Transport.RoundTrip(r)
	})
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: rt})
	if _, err := conf.Exchange(ctx, fake.IssueCode("user_info")); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("context client used %d times, want 1", n)
	}
	// With no client in the context, the default one still works (loopback).
	if _, err := conf.Exchange(context.Background(), fake.IssueCode("user_info")); err != nil {
		t.Fatal(err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestBadAnswers(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		kind   error
	}{
		{"html 502", 502, "<html><body>Bad Gateway</body></html>", oauth2x.ErrTemporary},
		{"not json", 200, "<html>hello</html>", oauth2x.ErrBadResponse},
		{"empty", 200, "", oauth2x.ErrBadResponse},
		{"truncated", 200, `{"data":{"access_token":"act.x","expires_in":12`, oauth2x.ErrBadResponse},
		{"oversized", 200, `{"data":{"access_token":"act.` + strings.Repeat("x", 2<<20) + `"}}`, oauth2x.ErrBadResponse},
		{"no access token", 200, `{"data":{"error_code":0,"expires_in":10},"message":"success"}`, oauth2x.ErrBadResponse},
		{"data null", 200, `{"data":null,"message":"success"}`, oauth2x.ErrBadResponse},
		{"data string", 200, `{"data":"act.x","message":"success"}`, oauth2x.ErrBadResponse},
		{"message error", 200, `{"data":{"access_token":"act.x","expires_in":10,"error_code":0},"message":"error"}`, oauth2x.ErrRejected},
		{"extra error", 200, `{"data":{"access_token":"act.x","expires_in":10},"extra":{"logid":"L1","error_code":2100005,"description":"Parameter error"}}`, oauth2x.ErrInvalidRequest},
		{"extra sub error", 200, `{"data":{"access_token":"act.x","expires_in":10},"extra":{"logid":"L1","error_code":0,"sub_error_code":10004,"sub_description":"scope"}}`, oauth2x.ErrInsufficientScope},
		{"negative expires_in", 200, `{"data":{"access_token":"act.x","expires_in":-5,"error_code":0}}`, oauth2x.ErrBadResponse},
		{"huge expires_in", 200, `{"data":{"access_token":"act.x","expires_in":99999999999999999999,"error_code":0}}`, oauth2x.ErrBadResponse},
		{"fractional error_code", 200, `{"data":{"access_token":"act.x","expires_in":10,"error_code":0.5}}`, oauth2x.ErrBadResponse},
		{"error 400 unknown body", 400, `bad request`, oauth2x.ErrBadResponse},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fake, conf, ctx := setup(t)
			fake.RespondNext(douyintest.AccessTokenPath, c.status, c.body)
			code := fake.IssueCode("user_info")
			tok, err := conf.Exchange(ctx, code)
			if tok != nil {
				t.Fatalf("got a token: %+v", tok)
			}
			assertErr(t, err, c.kind, "", code)
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) {
				t.Fatalf("an answered call gave no *oauth2.RetrieveError: %v", err)
			}
			if re.Response.StatusCode != c.status {
				t.Errorf("RetrieveError status = %d, want %d", re.Response.StatusCode, c.status)
			}
		})
	}
}

func TestRedirectIsNotFollowed(t *testing.T) {
	var hits int
	var mu sync.Mutex
	thief := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
	}))
	defer thief.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, thief.URL+"/steal?x=1", http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	conf := &douyin.Config{ClientKey: "ck", ClientSecret: "cs-secret", Endpoint: oauth2.Endpoint{TokenURL: srv.URL + "/oauth/access_token/"}}
	_, err := conf.Exchange(context.Background(), "code-1")
	assertErr(t, err, oauth2x.ErrBadResponse, "", "cs-secret", "code-1")
	if hits != 0 {
		t.Errorf("credentials forwarded to another host %d times", hits)
	}
}

func TestContextCancellation(t *testing.T) {
	fake, conf, _ := setup(t)
	entered := make(chan struct{})
	release := make(chan struct{})
	defer close(release)
	fake.SetHook(func(path string) {
		if path == douyintest.AccessTokenPath {
			close(entered)
			<-release
		}
	})
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), oauth2.HTTPClient, fake.Client()))
	go func() { <-entered; cancel() }()
	_, err := conf.Exchange(ctx, fake.IssueCode("user_info"))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if oauth2x.IsTemporary(err) {
		t.Error("a caller's own cancellation is not temporary")
	}
}

func TestRefreshNeverMovesRefreshExpiry(t *testing.T) {
	fake, conf, ctx := setup(t)
	tok := login(t, fake, conf, ctx)
	// An answer that states the refresh token's full life again.
	fake.RespondNext(douyintest.RefreshTokenPath, 200, `{"data":{"access_token":"act.n","refresh_token":"`+tok.RefreshToken+`","expires_in":1296000,"refresh_expires_in":2592000,"error_code":0},"message":"success"}`)
	old := *tok
	old.Expiry = time.Now()
	nt, err := conf.Refresh(ctx, &old)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := oauth2x.RefreshExpiry(nt), oauth2x.RefreshExpiry(tok); !a.Equal(b) {
		t.Errorf("refresh moved the refresh token's expiry from %v to %v", b, a)
	}
	// A shorter remaining life than recorded is believed.
	fake.RespondNext(douyintest.RefreshTokenPath, 200, `{"data":{"access_token":"act.m","expires_in":1296000,"refresh_expires_in":3600,"error_code":0},"message":"success"}`)
	nt, err = conf.Refresh(ctx, nt)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(oauth2x.RefreshExpiry(nt)); d > time.Hour+time.Second || d < time.Hour-5*time.Second {
		t.Errorf("refresh expiry in %v, want about an hour", d)
	}
}

// TestExtrasKeepTheirType: an extra has the same Go type on a fresh token,
// after a store's round trip, and through the bridge (where x/oauth2
// decodes the answer), so code reading tok.Extra works on all three.
func TestExtrasKeepTheirType(t *testing.T) {
	fake, conf, ctx := setup(t)
	fresh := login(t, fake, conf, ctx)
	b, err := oauth2x.MarshalToken(fresh)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := oauth2x.UnmarshalToken(b)
	if err != nil {
		t.Fatal(err)
	}
	plain := &oauth2.Config{ClientID: conf.ClientKey, ClientSecret: conf.ClientSecret, Endpoint: conf.Endpoint}
	bctx := context.WithValue(ctx, oauth2.HTTPClient, douyin.Bridge(conf.Endpoint, fake.Client()))
	bridged, err := plain.Exchange(bctx, fake.IssueCode("user_info"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{douyin.ExtraRefreshExpiresIn, douyin.ExtraOpenID, douyin.ExtraScope, douyin.ExtraLogID} {
		want := fmt.Sprintf("%T", fresh.Extra(k))
		if fresh.Extra(k) == nil {
			t.Errorf("%s: missing on a fresh token", k)
		}
		for name, tok := range map[string]*oauth2.Token{"stored": stored, "bridged": bridged} {
			if got := fmt.Sprintf("%T", tok.Extra(k)); got != want {
				t.Errorf("%s: %s on a fresh token, %s %s", k, want, got, name)
			}
		}
	}
	if oauth2x.RefreshExpiry(stored) != oauth2x.RefreshExpiry(fresh) {
		t.Errorf("refresh expiry moved through the store: %v → %v", oauth2x.RefreshExpiry(fresh), oauth2x.RefreshExpiry(stored))
	}
}
