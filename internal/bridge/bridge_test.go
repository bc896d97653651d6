package bridge_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/internal/bridge"
	"github.com/oauth2x/oauth2x/internal/wire"
)

// stub is a provider Config that records what the bridge asked of it.
type stub struct {
	id, secret string
	calls      *[]string
	err        error
}

func (s *stub) record(call string) { *s.calls = append(*s.calls, s.id+"|"+s.secret+"|"+call) }

func (s *stub) Exchange(_ context.Context, code string, opts ...oauth2.AuthCodeOption) (*oauth2.Token, error) {
	params := ""
	for _, p := range wire.OptionParams(opts) {
		params += " " + p.Key + "=" + p.Value
	}
	s.record("exchange " + code + params)
	if s.err != nil {
		return nil, s.err
	}
	return (&oauth2.Token{AccessToken: "at-1", RefreshToken: "rt-1", Expiry: time.Now().Add(time.Hour), ExpiresIn: 3600}).
		WithExtra(map[string]any{"open_id": "user-1", "refresh_expires_in": int64(60)}), nil
}

func (s *stub) Refresh(_ context.Context, t *oauth2.Token) (*oauth2.Token, error) {
	s.record("refresh " + t.RefreshToken)
	if s.err != nil {
		return nil, s.err
	}
	return &oauth2.Token{AccessToken: "at-2", RefreshToken: t.RefreshToken}, nil
}

type clientStub struct{ stub }

func (s *clientStub) ClientToken(context.Context) (*oauth2.Token, error) {
	s.record("client token")
	return &oauth2.Token{AccessToken: "clt-1", Expiry: time.Now().Add(time.Hour)}, nil
}

// world is a bridge in front of an upstream that counts what passes.
type world struct {
	upstream *httptest.Server
	client   *http.Client
	ctx      context.Context
	mu       sync.Mutex
	calls    []string // what the provider Config was asked
	passed   []string // what reached the upstream
	err      error    // the provider's answer to every call, when set
}

func newWorld(t *testing.T, clientTokens bool) *world {
	w := &world{}
	w.upstream = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.mu.Lock()
		w.passed = append(w.passed, r.Method+" "+r.URL.Path+" "+string(b))
		w.mu.Unlock()
		rw.Write([]byte("upstream"))
	}))
	t.Cleanup(w.upstream.Close)
	w.client = bridge.Client(w.upstream.Client(), &bridge.Provider{
		Name:      "prov",
		TokenURLs: []string{w.upstream.URL + "/token", w.upstream.URL + "/other/"},
		For: func(id, secret string) bridge.Flow {
			s := stub{id: id, secret: secret, calls: &w.calls, err: w.err}
			if clientTokens {
				return &clientStub{s}
			}
			return &s
		},
	})
	w.ctx = context.WithValue(context.Background(), oauth2.HTTPClient, w.client)
	return w
}

func (w *world) config(style oauth2.AuthStyle) *oauth2.Config {
	return &oauth2.Config{ClientID: "id with space", ClientSecret: "s3cr:t&=", RedirectURL: "https://app.example/cb",
		Endpoint: oauth2.Endpoint{TokenURL: w.upstream.URL + "/token", AuthStyle: style}}
}

func TestExchangeAndRefreshBothAuthStyles(t *testing.T) {
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleAutoDetect, oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		w := newWorld(t, false)
		conf := w.config(style)
		tok, err := conf.Exchange(w.ctx, "the-code", oauth2.VerifierOption("ver"))
		if err != nil {
			t.Fatalf("style %d: %v", style, err)
		}
		if tok.AccessToken != "at-1" || tok.RefreshToken != "rt-1" || tok.Type() != "Bearer" || tok.ExpiresIn != 3600 {
			t.Errorf("style %d: token %+v", style, tok)
		}
		if tok.Extra("open_id") != "user-1" || tok.Extra("refresh_expires_in") != float64(60) {
			t.Errorf("style %d: extras open_id=%v refresh_expires_in=%v", style, tok.Extra("open_id"), tok.Extra("refresh_expires_in"))
		}
		old := *tok
		old.Expiry = time.Now().Add(-time.Hour)
		nt, err := conf.TokenSource(w.ctx, &old).Token()
		if err != nil || nt.AccessToken != "at-2" || nt.RefreshToken != "rt-1" {
			t.Fatalf("style %d: refresh gave %+v, %v", style, nt, err)
		}
		want := []string{
			"id with space|s3cr:t&=|exchange the-code code_verifier=ver redirect_uri=https://app.example/cb",
			"id with space|s3cr:t&=|refresh rt-1",
		}
		if len(w.calls) != 2 || !sameParams(w.calls[0], want[0]) || w.calls[1] != want[1] {
			t.Errorf("style %d: provider saw\n%s\nwant\n%s", style, strings.Join(w.calls, "\n"), strings.Join(want, "\n"))
		}
		if len(w.passed) != 0 {
			t.Errorf("style %d: token requests reached the upstream: %q", style, w.passed)
		}
	}
}

// sameParams compares two recorded calls ignoring the order of options.
func sameParams(a, b string) bool {
	fa, fb := strings.Fields(a), strings.Fields(b)
	if len(fa) != len(fb) {
		return false
	}
	seen := map[string]int{}
	for _, f := range fa {
		seen[f]++
	}
	for _, f := range fb {
		seen[f]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}

func TestClientCredentials(t *testing.T) {
	w := newWorld(t, true)
	cc := &clientcredentials.Config{ClientID: "app", ClientSecret: "app-secret", TokenURL: w.upstream.URL + "/other/", Scopes: []string{"x"}}
	tok, err := cc.Token(w.ctx)
	if err != nil || tok.AccessToken != "clt-1" || tok.RefreshToken != "" {
		t.Fatalf("client token %+v, %v", tok, err)
	}
	if len(w.calls) != 1 || w.calls[0] != "app|app-secret|client token" {
		t.Errorf("provider saw %q", w.calls)
	}

	// A provider without client tokens answers unsupported_grant_type.
	w = newWorld(t, false)
	cc.TokenURL = w.upstream.URL + "/token"
	_, err = cc.Token(w.ctx)
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "unsupported_grant_type" || re.Response.StatusCode != 400 {
		t.Fatalf("err = %v, want unsupported_grant_type with HTTP 400", err)
	}
	if strings.Contains(err.Error(), "app-secret") || strings.Contains(string(re.Body), "app-secret") {
		t.Error("secret in the error")
	}
}

func TestOtherRequestsPassThrough(t *testing.T) {
	w := newWorld(t, false)
	post := func(path, ctype, body string, basic bool) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, w.upstream.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		if basic {
			req.SetBasicAuth("u", "p")
		}
		resp, err := w.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "upstream" {
			t.Errorf("POST %s %s: answered %q by the bridge", path, body, b)
		}
	}
	post("/api/", "application/x-www-form-urlencoded", "grant_type=refresh_token&client_id=x", false)        // not a token URL
	post("/token", "application/json", `{"grant_type":"client_credential","client_key":"k"}`, false)         // the provider's JSON
	post("/token", "application/x-www-form-urlencoded", "grant_type=authorization_code&client_key=k", false) // the provider's form
	post("/token", "application/x-www-form-urlencoded", "client_key=k&refresh_token=r", true)                // no grant_type
	resp, err := w.client.Get(w.upstream.URL + "/token")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want := []string{
		"POST /api/ grant_type=refresh_token&client_id=x",
		`POST /token {"grant_type":"client_credential","client_key":"k"}`,
		"POST /token grant_type=authorization_code&client_key=k",
		"POST /token client_key=k&refresh_token=r",
		"GET /token ",
	}
	if strings.Join(w.passed, "\n") != strings.Join(want, "\n") {
		t.Errorf("upstream saw\n%s\nwant\n%s", strings.Join(w.passed, "\n"), strings.Join(want, "\n"))
	}
	if len(w.calls) != 0 {
		t.Errorf("the provider was asked %q", w.calls)
	}
}

func TestErrorsRoundTripToTheirKind(t *testing.T) {
	for _, c := range []struct {
		kind   error
		code   string
		status int
	}{
		{wire.ErrInvalidGrant, "invalid_grant", 400},
		{wire.ErrInvalidClient, "invalid_client", 401},
		{wire.ErrInvalidRequest, "invalid_request", 400},
		{wire.ErrInsufficientScope, "invalid_scope", 400},
		{wire.ErrInvalidToken, "invalid_token", 401},
		{wire.ErrRateLimited, "slow_down", 429},
		{wire.ErrTemporary, "temporarily_unavailable", 503},
		// No RFC code of their own: the kind travels in "error_kind".
		{wire.ErrBadResponse, "server_error", 502},
		{wire.ErrRejected, "invalid_request", 400},
	} {
		w := newWorld(t, false)
		w.err = &oauth2x.Error{Provider: "prov", Op: "exchange", Kind: c.kind, Code: "10007", Description: "dead", LogID: "LOG1", Status: 200}
		conf := w.config(oauth2.AuthStyleInHeader)
		_, err := conf.Exchange(w.ctx, "code-xyz")
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) {
			t.Fatalf("%s: %v is not a RetrieveError", c.code, err)
		}
		if re.ErrorCode != c.code || re.Response.StatusCode != c.status {
			t.Errorf("%s: got %q HTTP %d", c.code, re.ErrorCode, re.Response.StatusCode)
		}
		if !strings.Contains(re.ErrorDescription, "error 10007") || !strings.Contains(re.ErrorDescription, "log id LOG1") {
			t.Errorf("%s: provider code or log id lost: %q", c.code, re.ErrorDescription)
		}
		if back := wire.Classify("x", "exchange", err); !errors.Is(back, c.kind) {
			t.Errorf("%s: classified back as %v", c.code, back)
		}
		if back := oauth2x.KindOf(err); back != c.kind {
			t.Errorf("%s: KindOf gives %v, want %v", c.code, back, c.kind)
		}
	}
}

func TestNoAnswerIsATransportError(t *testing.T) {
	w := newWorld(t, false)
	w.err = &oauth2x.Error{Provider: "prov", Op: "exchange", Kind: wire.ErrTemporary, Cause: errors.New("connection refused")}
	_, err := w.config(oauth2.AuthStyleInParams).Exchange(w.ctx, "c")
	var re *oauth2.RetrieveError
	if !errors.Is(err, wire.ErrTemporary) || errors.As(err, &re) {
		t.Errorf("err = %v, want a transport error of kind ErrTemporary", err)
	}
}

func TestCancelledRequest(t *testing.T) {
	w := newWorld(t, false)
	ctx, cancel := context.WithCancel(w.ctx)
	cancel()
	w.err = &oauth2x.Error{Provider: "prov", Op: "exchange", Cause: context.Canceled}
	_, err := w.config(oauth2.AuthStyleInParams).Exchange(ctx, "c")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestNilBaseHasATimeout(t *testing.T) {
	c := bridge.Client(nil, &bridge.Provider{Name: "prov"})
	if c.Timeout == 0 {
		t.Error("a bridge built on no client has no timeout")
	}
}
