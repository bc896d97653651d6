package hostile_test

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/douyin"
	"github.com/oauth2x/oauth2x/douyin/douyintest"
	"github.com/oauth2x/oauth2x/fantem"
	"github.com/oauth2x/oauth2x/fantem/fantemtest"
	"github.com/oauth2x/oauth2x/internal/bytedance"
	"github.com/oauth2x/oauth2x/internal/hostile"
	"github.com/oauth2x/oauth2x/internal/wire"
	"github.com/oauth2x/oauth2x/toutiao"
	"github.com/oauth2x/oauth2x/toutiao/toutiaotest"
)

const redirect = "https://app.example/callback"

// scanner collects the secrets a suite handles and checks every error the
// suite meets for them: its text, the RetrieveError's body and
// description, and every URL in its chain. It also records every URL the
// library requested, which must hold no secret at all. It is safe for
// concurrent use.
type scanner struct {
	mu      sync.Mutex // guards everything below
	secrets map[string]bool
	urls    []string
	errs    int
}

func newScanner(secrets ...string) *scanner {
	s := &scanner{secrets: map[string]bool{}}
	s.add(hostile.PlantedAccess, hostile.PlantedRefresh)
	s.add(secrets...)
	return s
}

func (s *scanner) add(secrets ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range secrets {
		if v != "" {
			s.secrets[v] = true
		}
	}
}

// addToken adds t's access and refresh tokens.
func (s *scanner) addToken(t *oauth2.Token) *oauth2.Token {
	if t != nil {
		s.add(t.AccessToken, t.RefreshToken)
	}
	return t
}

// leak returns the secret found in text, if any, as is or query-escaped.
func (s *scanner) leak(text string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for v := range s.secrets {
		for _, sp := range spelled(v) {
			if strings.Contains(text, sp) {
				return v
			}
		}
	}
	return ""
}

// spelled returns the ways a text may carry v: as it is, query- or
// path-escaped, JSON-escaped once or twice (with or without HTML escapes
// and escaped slashes).
func spelled(v string) []string {
	js := func(s string, html bool) string {
		var b strings.Builder
		e := json.NewEncoder(&b)
		e.SetEscapeHTML(html)
		e.Encode(s)
		q := strings.TrimSpace(b.String())
		return q[1 : len(q)-1]
	}
	out := []string{v, url.QueryEscape(v), url.PathEscape(v)}
	for _, x := range []string{v, js(v, true), js(v, false)} {
		out = append(out, js(x, true), js(x, false), strings.ReplaceAll(js(x, false), "/", `\/`))
	}
	return out
}

// check fails t if err carries a secret anywhere a user could print it.
func (s *scanner) check(t testing.TB, where string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	s.mu.Lock()
	s.errs++
	s.mu.Unlock()
	texts := map[string]string{"text": err.Error(), "%+v": fmt.Sprintf("%+v", err)}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		texts["RetrieveError.Body"] = string(re.Body)
		texts["RetrieveError.ErrorDescription"] = re.ErrorDescription
		texts["RetrieveError.ErrorURI"] = re.ErrorURI
		if re.Response != nil && re.Response.Request != nil {
			texts["RetrieveError.Response.Request.URL"] = re.Response.Request.URL.String()
		}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		texts["url.Error.URL"] = ue.URL
	}
	for what, text := range texts {
		if v := s.leak(text); v != "" {
			t.Errorf("%s: secret %q in %s: %q", where, v, what, text)
		}
	}
}

// checkURLs fails t if any URL the library requested carried a secret.
func (s *scanner) checkURLs(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	urls := append([]string(nil), s.urls...)
	s.mu.Unlock()
	for _, u := range urls {
		if v := s.leak(u); v != "" {
			t.Errorf("secret %q travelled in a URL: %s", v, u)
		}
	}
}

// client returns base with a transport that records every request URL.
func (s *scanner) client(base *http.Client) *http.Client {
	c := *base
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		s.mu.Lock()
		s.urls = append(s.urls, r.URL.String())
		s.mu.Unlock()
		return next.RoundTrip(r)
	})
	return &c
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// kit is what the calls of one provider need: where to send them, the
// app's credentials, a source of codes and a live token.
type kit struct {
	endpoint   oauth2.Endpoint
	id, secret string
	code       func() string
	tok        *oauth2.Token
	// verifier, when set, is sent as the PKCE code_verifier of every
	// exchange: a secret like the code.
	verifier string
}

// opts are the options of k's exchanges.
func (k kit) opts() []oauth2.AuthCodeOption {
	if k.verifier == "" {
		return nil
	}
	return []oauth2.AuthCodeOption{oauth2.VerifierOption(k.verifier)}
}

// call is one token call of a provider.
type call struct {
	op     string
	path   string // where its request goes, for injecting answers
	bridge bool   // made by a plain *oauth2.Config through the provider's Bridge
	// noAccess: a valid answer may lack an access token (Douyin's renew).
	noAccess bool
	do       func(ctx context.Context) (*oauth2.Token, error)
}

// provider is one row of the tables: a fake and the calls against it.
type provider struct {
	name string
	// fake starts the provider's fake, registered with sc, and returns the
	// kit for it and its injector of verbatim answers.
	fake  func(t *testing.T, sc *scanner, ctx context.Context) *handle
	calls func(k kit) []call
}

// handle is a running fake: the kit for its app, its injector of verbatim
// answers, and its hook, called at the start of every request.
type handle struct {
	kit
	inject func(path string, status int, body string)
	hook   func(h func(path string))
}

// bridgeCalls are the exchange and refresh of a plain *oauth2.Config
// whose context carries the provider's Bridge.
func bridgeCalls(k kit, codePath, refreshPath string, bridgeFor func(oauth2.Endpoint, *http.Client) *http.Client) []call {
	oc := &oauth2.Config{ClientID: k.id, ClientSecret: k.secret, RedirectURL: redirect,
		Endpoint: oauth2.Endpoint{AuthURL: k.endpoint.AuthURL, TokenURL: k.endpoint.TokenURL, AuthStyle: oauth2.AuthStyleInParams}}
	bctx := func(ctx context.Context) context.Context {
		return context.WithValue(ctx, oauth2.HTTPClient, bridgeFor(k.endpoint, wire.ContextClient(ctx)))
	}
	return []call{
		{op: "bridge exchange", path: codePath, bridge: true, do: func(ctx context.Context) (*oauth2.Token, error) {
			return oc.Exchange(bctx(ctx), k.code(), k.opts()...)
		}},
		{op: "bridge refresh", path: refreshPath, bridge: true, do: func(ctx context.Context) (*oauth2.Token, error) {
			return oc.TokenSource(bctx(ctx), &oauth2.Token{RefreshToken: k.tok.RefreshToken, Expiry: time.Unix(1, 0)}).Token()
		}},
	}
}

// bytedanceServer is what douyintest.Server and toutiaotest.Server have
// in common.
type bytedanceServer interface {
	Close()
	IssueCode(scope string) string
	RespondNext(path string, status int, body string)
	SetHook(func(path string))
}

// bytedanceFake registers a fake of the platform (Douyin's or Toutiao's)
// at base, knowing key and secret, with sc and logs in once.
func bytedanceFake(t *testing.T, sc *scanner, ctx context.Context, f bytedanceServer, base, key, secret, authPath string) *handle {
	t.Helper()
	t.Cleanup(f.Close)
	sc.add(secret)
	k := kit{
		endpoint: oauth2.Endpoint{AuthURL: base + authPath, TokenURL: base + bytedance.PathAccessToken},
		id:       key, secret: secret,
		code: func() string { c := f.IssueCode("user_info"); sc.add(c); return c },
	}
	tok, err := (&douyin.Config{ClientKey: k.id, ClientSecret: k.secret, Endpoint: k.endpoint}).Exchange(ctx, k.code())
	if err != nil {
		t.Fatal(err)
	}
	k.tok = sc.addToken(tok)
	return &handle{k, f.RespondNext, f.SetHook}
}

// flow is what every provider's Config does.
type flow interface {
	Exchange(ctx context.Context, code string, opts ...oauth2.AuthCodeOption) (*oauth2.Token, error)
	Refresh(ctx context.Context, t *oauth2.Token) (*oauth2.Token, error)
}

// flowCalls are a provider's exchange and refresh, and the same through
// its Bridge, followed by more.
func flowCalls(conf flow, k kit, codePath, refreshPath string, bridgeFor func(oauth2.Endpoint, *http.Client) *http.Client, more ...call) []call {
	calls := []call{
		{op: "exchange", path: codePath, do: func(ctx context.Context) (*oauth2.Token, error) { return conf.Exchange(ctx, k.code(), k.opts()...) }},
		{op: "refresh", path: refreshPath, do: func(ctx context.Context) (*oauth2.Token, error) { return conf.Refresh(ctx, k.tok) }},
	}
	return append(append(calls, more...), bridgeCalls(k, codePath, refreshPath, bridgeFor)...)
}

// clientTokenCall is a ByteDance platform's client token call.
func clientTokenCall(path string, get func(context.Context) (*oauth2.Token, error)) call {
	op := "client token"
	if path == bytedance.PathStableClientToken {
		op = "stable client token"
	}
	return call{op: op, path: path, do: get}
}

// providers are the rows: every provider, and each one's Bridge.
var providers = []provider{
	{
		name: "douyin",
		fake: func(t *testing.T, sc *scanner, ctx context.Context) *handle {
			f := douyintest.NewServer()
			return bytedanceFake(t, sc, ctx, f, f.URL, f.ClientKey, f.ClientSecret, douyintest.AuthPath)
		},
		calls: func(k kit) []call {
			conf := &douyin.Config{ClientKey: k.id, ClientSecret: k.secret, RedirectURL: redirect, Scopes: []string{"user_info"}, Endpoint: k.endpoint}
			return flowCalls(conf, k, bytedance.PathAccessToken, bytedance.PathRefreshToken, douyin.Bridge,
				call{op: "renew", path: bytedance.PathRenewRefreshToken, noAccess: true, do: func(ctx context.Context) (*oauth2.Token, error) {
					return conf.RenewRefreshToken(ctx, k.tok)
				}},
				clientTokenCall(bytedance.PathClientToken, conf.ClientToken),
				clientTokenCall(bytedance.PathStableClientToken, conf.StableClientToken))
		},
	},
	{
		name: "toutiao",
		fake: func(t *testing.T, sc *scanner, ctx context.Context) *handle {
			f := toutiaotest.NewServer()
			return bytedanceFake(t, sc, ctx, f, f.URL, f.ClientKey, f.ClientSecret, toutiaotest.AuthPath)
		},
		calls: func(k kit) []call {
			conf := &toutiao.Config{ClientKey: k.id, ClientSecret: k.secret, RedirectURL: redirect, Scopes: []string{"user_info"}, Endpoint: k.endpoint}
			return flowCalls(conf, k, bytedance.PathAccessToken, bytedance.PathRefreshToken, toutiao.Bridge,
				clientTokenCall(bytedance.PathClientToken, conf.ClientToken))
		},
	},
	{
		name: "fantem",
		fake: func(t *testing.T, sc *scanner, ctx context.Context) *handle {
			f := fantemtest.NewServer()
			t.Cleanup(f.Close)
			f.ClientSecret = "fantem-hostile-client-secret"
			sc.add(f.ClientSecret)
			k := kit{endpoint: f.Endpoint(), id: f.ClientID, secret: f.ClientSecret,
				code: func() string { c := f.IssueCode(""); sc.add(c); return c }}
			tok, err := (&fantem.Config{ClientID: k.id, ClientSecret: k.secret, Endpoint: k.endpoint}).Exchange(ctx, k.code())
			if err != nil {
				t.Fatal(err)
			}
			k.tok = sc.addToken(tok)
			return &handle{k, f.RespondNext, f.SetHook}
		},
		calls: func(k kit) []call {
			conf := &fantem.Config{ClientID: k.id, ClientSecret: k.secret, RedirectURL: redirect, Endpoint: k.endpoint}
			return flowCalls(conf, k, fantemtest.TokenPath, fantemtest.TokenPath, fantem.Bridge)
		},
	},
	{
		// A plain RFC 6749 provider through oauth2x.ConfigRefresher.
		name: "oauth2",
		fake: func(t *testing.T, sc *scanner, ctx context.Context) *handle {
			f := newRFCFake(t)
			sc.add(f.secret, f.refresh)
			k := kit{endpoint: oauth2.Endpoint{TokenURL: f.URL + rfcTokenPath}, id: "rfc-client", secret: f.secret,
				code: func() string { return "" },
				tok:  &oauth2.Token{AccessToken: "at.rfc0live0access", RefreshToken: f.refresh, Expiry: time.Unix(1, 0)}}
			sc.add(k.tok.AccessToken)
			return &handle{k, f.respondNext, f.setHook}
		},
		calls: func(k kit) []call {
			conf := &oauth2.Config{ClientID: k.id, ClientSecret: k.secret,
				Endpoint: oauth2.Endpoint{TokenURL: k.endpoint.TokenURL, AuthStyle: oauth2.AuthStyleInParams}}
			r := oauth2x.ConfigRefresher(conf)
			return []call{{op: "refresh", path: rfcTokenPath, do: func(ctx context.Context) (*oauth2.Token, error) { return r.Refresh(ctx, k.tok) }}}
		},
	},
}

// rfcTokenPath is where rfcFake answers token requests.
const rfcTokenPath = "/token"

// rfcFake is a plain RFC 6749 token endpoint (the kind of server
// ConfigRefresher is for): it refreshes its one live refresh token for the
// client with its secret in the body, and answers invalid_grant otherwise.
// A test can queue verbatim answers and hook every request. It is safe for
// concurrent use.
type rfcFake struct {
	*httptest.Server
	secret, refresh string
	mu              sync.Mutex // guards the fields below
	canned          []hostile.Sample
	hook            func(path string)
	n               int // access tokens issued
}

func newRFCFake(t *testing.T) *rfcFake {
	f := &rfcFake{secret: "rfc-client-secret-0001", refresh: "rt.rfc0live0refresh0token"}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *rfcFake) respondNext(_ string, status int, body string) {
	f.mu.Lock()
	f.canned = append(f.canned, hostile.Sample{Status: status, Body: body})
	f.mu.Unlock()
}

func (f *rfcFake) setHook(h func(path string)) { f.mu.Lock(); f.hook = h; f.mu.Unlock() }

func (f *rfcFake) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	hook := f.hook
	f.mu.Unlock()
	if hook != nil {
		hook(r.URL.Path)
	}
	f.mu.Lock()
	var canned *hostile.Sample
	if len(f.canned) > 0 {
		canned, f.canned = &f.canned[0], f.canned[1:]
	}
	f.n++
	n := f.n
	f.mu.Unlock()
	if canned != nil {
		w.WriteHeader(canned.Status)
		io.WriteString(w, canned.Body)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if r.PostFormValue("client_secret") != f.secret || r.PostFormValue("grant_type") != "refresh_token" || r.PostFormValue("refresh_token") != f.refresh {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"invalid_grant","error_description":"refresh token unknown"}`)
		return
	}
	fmt.Fprintf(w, `{"access_token":"at.rfc0issued0%d","token_type":"Bearer","expires_in":3600}`, n)
}

// kinds are every error kind; each error must match exactly one.
var kinds = []error{
	oauth2x.ErrInvalidGrant, oauth2x.ErrInvalidClient, oauth2x.ErrInvalidRequest, oauth2x.ErrInsufficientScope,
	oauth2x.ErrInvalidToken, oauth2x.ErrRateLimited, oauth2x.ErrTemporary, oauth2x.ErrBadResponse, oauth2x.ErrRejected,
}

// kindOf returns the one kind err matches. A bridged call's error is
// x/oauth2's *oauth2.RetrieveError; it is classified by oauth2x.KindOf,
// which must give the kind a direct call gives.
func kindOf(c call, err error) (error, error) {
	var re *oauth2.RetrieveError
	var oe *oauth2x.Error
	switch {
	case c.bridge && errors.As(err, &re):
		err = oauth2x.KindOf(err)
	case !errors.As(err, &oe):
		// A bridged call that got no answer fails as the network would,
		// with the provider's error inside x/oauth2's.
		return nil, fmt.Errorf("error is neither an *oauth2x.Error nor a bridged *oauth2.RetrieveError: %v", err)
	}
	var found []error
	for _, k := range kinds {
		if errors.Is(err, k) {
			found = append(found, k)
		}
	}
	if len(found) != 1 {
		return nil, fmt.Errorf("error matches %d kinds: %v", len(found), err)
	}
	return found[0], nil
}

// wantKind is the kind a hostile answer must give in every dialect, where
// the dialects agree; nil means any one kind will do.
func wantKind(name string, bridged bool) error {
	var k error
	switch {
	case name == "html 502" || strings.HasSuffix(name, " 500"):
		k = oauth2x.ErrTemporary
	case name == "plain text 429":
		k = oauth2x.ErrRateLimited
	case name == "error_code float whole" || name == "error with token 400":
		k = oauth2x.ErrInvalidGrant
	case name == "extra error", name == "long description":
		k = oauth2x.ErrInvalidRequest
	case name == "oversized", strings.HasPrefix(name, "duplicate"), strings.HasPrefix(name, "expires_in"),
		strings.HasPrefix(name, "truncated"), strings.HasPrefix(name, "json "), strings.HasPrefix(name, "data "),
		name == "empty 200", name == "whitespace", name == "html 200", name == "trailing garbage", name == "form encoded 200",
		name == "no access token", name == "empty access token", name == "access token object",
		name == "deep nesting", name == "invalid utf-8", name == "error_code out of range", name == "error_code float",
		name == "html 400", name == "plain text 400", name == "deep brackets",
		strings.HasPrefix(name, "access token "), strings.HasPrefix(name, "refresh token "), strings.HasPrefix(name, "token_type "):
		k = oauth2x.ErrBadResponse
	}
	return k // the bridge keeps the kind: bridged is the same
}

// checkFailure asserts that a hostile case gave no token, one typed error
// (want, when not nil), the provider's prefix, and no secret.
func checkFailure(t *testing.T, sc *scanner, p string, c call, tok *oauth2.Token, err error, want error) {
	t.Helper()
	if tok != nil {
		t.Errorf("%s %s: got a token: %+v", p, c.op, tok)
	}
	if err == nil {
		t.Errorf("%s %s: no error", p, c.op)
		return
	}
	sc.check(t, p+" "+c.op, err)
	if !c.bridge && !strings.HasPrefix(err.Error(), p+": ") {
		t.Errorf("%s %s: error not prefixed with the provider: %q", p, c.op, err)
	}
	if want == nil {
		return
	}
	if !errors.Is(want, context.DeadlineExceeded) && !errors.Is(want, context.Canceled) {
		got, kerr := kindOf(c, err)
		if kerr != nil {
			t.Errorf("%s %s: %v", p, c.op, kerr)
		} else if got != want {
			t.Errorf("%s %s: kind %q, want %q (%v)", p, c.op, got, want, err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Errorf("%s %s: err = %v, want %v", p, c.op, err, want)
	}
}

// maxErrorText bounds an error's text whatever the answer: the
// description is cut at 200 bytes, and the rest is the library's own words.
const maxErrorText = 1024

// TestHostileAnswers sends every hostile answer to every call of every
// provider through its fake: none may give a token, each must give one
// typed error, in bounded time, and no secret may reach an error or a URL.
func TestHostileAnswers(t *testing.T) {
	answers := append(append([]hostile.Sample{}, hostile.Answers...),
		hostile.Sample{Name: "oversized", Status: 200, Body: hostile.Oversized()},
		hostile.Sample{Name: "many token values", Status: 200, Body: hostile.ManyTokens()},
		hostile.Sample{Name: "deep brackets", Status: 400, Body: hostile.DeepBrackets()},
		hostile.Sample{Name: "long description", Status: 400, Body: hostile.LongDescription()})
	for _, p := range providers {
		t.Run(p.name, func(t *testing.T) {
			sc := newScanner()
			base := context.WithValue(context.Background(), oauth2.HTTPClient, sc.client(&http.Client{}))
			h := p.fake(t, sc, base)
			k, inject := h.kit, h.inject
			cases, tokens := 0, 0
			for _, c := range p.calls(k) {
				for _, a := range answers {
					if c.noAccess && (a.Name == "no access token" || strings.HasPrefix(a.Name, "access token ")) {
						continue // a renew answer's access token is not read
					}
					cases++
					inject(c.path, a.Status, a.Body)
					// The deadline only bounds a hang: an answer must fail
					// on its own, well before it.
					ctx, cancel := context.WithTimeout(base, time.Minute)
					tok, err := c.do(ctx)
					cancel()
					if tok != nil {
						tokens++
					}
					if errors.Is(err, context.DeadlineExceeded) {
						t.Errorf("%s %s %q: hung until the deadline", p.name, c.op, a.Name)
					}
					t.Run(c.op+"/"+a.Name, func(t *testing.T) {
						checkFailure(t, sc, p.name, c, tok, err, wantKind(a.Name, c.bridge))
						if err != nil && len(err.Error()) > maxErrorText {
							t.Errorf("error text of %d bytes, more than %d", len(err.Error()), maxErrorText)
						}
						if c.bridge || err == nil || a.Name == "oversized" {
							return // an answer past the cap is not read, so not kept
						}
						var re *oauth2.RetrieveError
						if !errors.As(err, &re) || re.Response == nil || re.Response.StatusCode != a.Status {
							t.Errorf("no RetrieveError with HTTP %d: %v", a.Status, err)
						}
					})
				}
			}
			sc.checkURLs(t)
			t.Logf("%s: %d hostile answers over %d calls: %d cases, %d tokens given, %d errors scanned for %d secrets, %d URLs checked",
				p.name, len(answers), len(p.calls(k)), cases, tokens, sc.errs, len(sc.secrets), len(sc.urls))
		})
	}
}

// TestDocumentedAnswersStillWork guards the hostile checks against
// refusing what the providers really send: every documented success
// decodes in its own dialect.
func TestDocumentedAnswersStillWork(t *testing.T) {
	for _, s := range hostile.Documented {
		if s.Status != 200 || strings.Contains(s.Body, `"error`) {
			continue
		}
		var tok *oauth2.Token
		var err error
		op := bytedance.OpExchange
		if strings.Contains(s.Name, "renew") {
			op = bytedance.OpRenew
		}
		if strings.HasPrefix(s.Name, "fantem") {
			var e *wire.Error
			tok, e = wire.DecodeRFC6749At(time.Now())(s.Status, []byte(s.Body))
			if e != nil {
				err = e
			}
		} else {
			a, e := bytedance.Decode(op, s.Status, []byte(s.Body))
			if e != nil {
				err = e
			} else if a.AccessToken == "" && a.RefreshToken == "" {
				err = errors.New("no token in answer")
			}
		}
		if err != nil {
			t.Errorf("%s: %v", s.Name, err)
		}
		if strings.HasPrefix(s.Name, "fantem") && (tok == nil || tok.AccessToken == "") {
			t.Errorf("%s: no token", s.Name)
		}
	}
}

// transportCase is a server misbehaving below the level of the answer.
type transportCase struct {
	name    string
	handler func(thief *thief) http.HandlerFunc
	timeout time.Duration // the caller's deadline; zero: one minute
	want    func(bridged bool) error
	// code, when set, is the authorization code sent instead of the
	// usual one, and is not a secret the scanner looks for.
	code string
	// check, when set, checks each call's error further.
	check func(t *testing.T, c call, err error)
}

// thief is another host that must never see a request.
type thief struct {
	*httptest.Server
	mu   sync.Mutex
	hits int
}

func newThief(t *testing.T) *thief {
	th := &thief{}
	th.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		th.mu.Lock()
		th.hits++
		th.mu.Unlock()
		w.Write([]byte(`{"access_token":"` + hostile.PlantedAccess + `","expires_in":10,"data":{"access_token":"` + hostile.PlantedAccess + `","expires_in":10,"error_code":0}}`))
	}))
	t.Cleanup(th.Close)
	return th
}

func (th *thief) count() int { th.mu.Lock(); defer th.mu.Unlock(); return th.hits }

// drip is a valid answer the slow-drip server sends a byte at a time.
const drip = `{"access_token":"` + hostile.PlantedAccess + `","expires_in":10,"data":{"access_token":"` + hostile.PlantedAccess + `","expires_in":10,"error_code":0},"message":"success"}`

var transportCases = []transportCase{
	{
		name: "slow drip cut by the context",
		handler: func(*thief) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusOK)
				tick := time.NewTicker(100 * time.Millisecond)
				defer tick.Stop()
				for i := range len(drip) {
					w.Write([]byte{drip[i]})
					w.(http.Flusher).Flush()
					select {
					case <-r.Context().Done():
						return
					case <-tick.C:
					}
				}
			}
		},
		timeout: 350 * time.Millisecond,
		want:    func(bool) error { return context.DeadlineExceeded },
	},
	{
		name: "connection reset mid-body",
		handler: func(*thief) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				conn, buf, err := w.(http.Hijacker).Hijack()
				if err != nil {
					panic(err)
				}
				fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(drip), drip[:len(drip)/2])
				buf.Flush()
				if tc, ok := conn.(*net.TCPConn); ok {
					tc.SetLinger(0) // close with a reset, not a FIN
				}
				conn.Close()
			}
		},
		want: func(bool) error { return oauth2x.ErrTemporary },
	},
	{
		name: "connection closed before any answer",
		handler: func(*thief) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				conn, _, err := w.(http.Hijacker).Hijack()
				if err != nil {
					panic(err)
				}
				if tc, ok := conn.(*net.TCPConn); ok {
					tc.SetLinger(0)
				}
				conn.Close()
			}
		},
		want: func(bool) error { return oauth2x.ErrTemporary },
	},
}

// requestParams returns every parameter of a token request, whatever its
// encoding (form, multipart or JSON), in a stable order.
func requestParams(r *http.Request) url.Values {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	r.Body = io.NopCloser(strings.NewReader(string(body)))
	v := url.Values{}
	var m map[string]string
	if json.Unmarshal(body, &m) == nil {
		for k, x := range m {
			v.Set(k, x)
		}
		return v
	}
	if r.ParseMultipartForm(1<<20) == nil || r.ParseForm() == nil {
		for k, xs := range r.Form {
			v[k] = xs
		}
	}
	return v
}

// echoAnswer is an error answer in both dialects whose description is
// desc: the way some providers quote the request back.
func echoAnswer(desc string) string {
	d, _ := json.Marshal(desc)
	return `{"error":"invalid_request","error_description":` + string(d) + `,"data":{"error_code":10005,"description":` + string(d) + `}}`
}

// echoStyles are the ways an answer may echo the request: every secret the
// request carried (client secret, code, PKCE verifier, refresh token)
// comes back URL-encoded, JSON-escaped, or as words of a sentence.
var echoStyles = []struct {
	name string
	echo func(w http.ResponseWriter, v url.Values)
}{
	{"echo form-encoded", func(w http.ResponseWriter, v url.Values) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, echoAnswer("bad request: "+v.Encode()))
	}},
	{"echo JSON-escaped", func(w http.ResponseWriter, v url.Values) {
		m := map[string]string{}
		for k := range v {
			m[k] = v.Get(k)
		}
		b, _ := json.Marshal(m)
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, echoAnswer(string(b))) // escaped once in the description, twice in the body
	}},
	{"echo words", func(w http.ResponseWriter, v url.Values) {
		var words []string
		for k := range v {
			words = append(words, "invalid "+k+" "+v.Get(k)+".")
		}
		slices.Sort(words)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, echoAnswer(strings.Join(words, " "))) // HTTP 200, as TikTok may
	}},
	{"echo form-encoded sentence", func(w http.ResponseWriter, v url.Values) {
		var words []string
		for k := range v {
			words = append(words, "invalid "+k+" "+v.Get(k)+".")
		}
		slices.Sort(words)
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, echoAnswer(url.QueryEscape(strings.Join(words, " "))))
	}},
	{"echo plain text 400", func(w http.ResponseWriter, v url.Values) {
		http.Error(w, "Bad Request: "+v.Encode()+" "+fmt.Sprint(map[string][]string(v)), http.StatusBadRequest)
	}},
}

func init() {
	for _, st := range echoStyles {
		plain := strings.Contains(st.name, "plain")
		transportCases = append(transportCases, transportCase{
			name: st.name,
			handler: func(*thief) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) { st.echo(w, requestParams(r)) }
			},
			want: func(bool) error { // the bridge keeps the kind
				if plain {
					return oauth2x.ErrBadResponse
				}
				return oauth2x.ErrInvalidRequest
			},
		})
	}
	// A one-character code is redacted where it stands, and nowhere else.
	const desc = "code c refused at /oauth/access_token/ (see /oauth/access_token/ docs)"
	transportCases = append(transportCases, transportCase{
		name: "short code garbles nothing",
		code: "c",
		handler: func(*thief) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusBadRequest)
				io.WriteString(w, echoAnswer(desc))
			}
		},
		want: func(bool) error { return oauth2x.ErrInvalidRequest },
		check: func(t *testing.T, c call, err error) {
			text := err.Error()
			if !strings.Contains(text, "refused at /oauth/access_token/ (see /oauth/access_token/ docs)") {
				t.Errorf("%s: text garbled: %q", c.op, text)
			}
			if strings.HasSuffix(c.op, "exchange") && !strings.Contains(text, "code "+wire.Redacted+" refused") {
				t.Errorf("%s: the code standing as a word was not redacted: %q", c.op, text)
			}
		},
	})
	for _, code := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		transportCases = append(transportCases, transportCase{
			name: fmt.Sprintf("redirect %d to another host", code),
			handler: func(th *thief) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, th.URL+r.URL.Path+"?client_secret=x", code)
				}
			},
			want: func(bool) error { return oauth2x.ErrBadResponse }, // the bridge keeps the kind
		})
	}
}

// transportSecret is the client secret of the transport cases: it has
// characters that query and JSON escaping change.
const transportSecret = "transport/client+secret&<1>"

// transportVerifier is the PKCE code_verifier every exchange of the
// transport cases sends: a secret like the code.
const transportVerifier = "pkce-verifier-0123456789-abcdefghijklmnopqrstuvwxyz"

// TestHostileTransport points every call of every provider at a server
// that drips, resets or redirects: each call fails with a typed error in
// bounded time, gives no token, leaks no secret, and the other host of a
// redirect never sees a request.
func TestHostileTransport(t *testing.T) {
	for _, p := range providers {
		for _, tc := range transportCases {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				th := newThief(t)
				srv := httptest.NewServer(tc.handler(th))
				t.Cleanup(srv.Close)
				code := cmp.Or(tc.code, "code-transport-1")
				sc := newScanner(transportSecret, "act.transport-live-access", "rft.transport-live-refresh", transportVerifier)
				if tc.code == "" {
					sc.add(code)
				}
				k := kit{
					id: "ck", secret: transportSecret,
					code:     func() string { return code },
					tok:      &oauth2.Token{AccessToken: "act.transport-live-access", RefreshToken: "rft.transport-live-refresh", Expiry: time.Now().Add(time.Hour)},
					verifier: transportVerifier,
				}
				k.endpoint = oauth2.Endpoint{AuthURL: srv.URL + "/oauth/authorize", TokenURL: srv.URL + bytedance.PathAccessToken}
				if p.name == "fantem" {
					k.endpoint, _ = fantem.EndpointFor(srv.URL)
				}
				client := sc.client(srv.Client())
				for _, c := range p.calls(k) {
					ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), oauth2.HTTPClient, client), cmp.Or(tc.timeout, time.Minute))
					tok, err := c.do(ctx)
					cancel()
					checkFailure(t, sc, p.name, c, tok, err, tc.want(c.bridge))
					if tc.check != nil && err != nil {
						tc.check(t, c, err)
					}
					if !c.bridge && errors.Is(err, context.DeadlineExceeded) && oauth2x.IsTemporary(err) {
						t.Errorf("%s: the caller's own deadline reported as temporary", c.op)
					}
				}
				if n := th.count(); n != 0 {
					t.Errorf("the other host got %d requests", n)
				}
				if client.CheckRedirect != nil {
					t.Errorf("the caller's client was changed")
				}
				sc.checkURLs(t)
			})
		}
	}
}
