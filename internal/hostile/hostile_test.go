package hostile_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
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
		if strings.Contains(text, v) || strings.Contains(text, url.QueryEscape(v)) {
			return v
		}
	}
	return ""
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
			return oc.Exchange(bctx(ctx), k.code())
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
		{op: "exchange", path: codePath, do: func(ctx context.Context) (*oauth2.Token, error) { return conf.Exchange(ctx, k.code()) }},
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
	case name == "extra error":
		k = oauth2x.ErrInvalidRequest
	case name == "oversized", strings.HasPrefix(name, "duplicate"), strings.HasPrefix(name, "expires_in"),
		strings.HasPrefix(name, "truncated"), strings.HasPrefix(name, "json "), strings.HasPrefix(name, "data "),
		name == "empty 200", name == "whitespace", name == "html 200", name == "trailing garbage", name == "form encoded 200",
		name == "no access token", name == "empty access token", name == "access token object",
		name == "deep nesting", name == "invalid utf-8", name == "error_code out of range", name == "error_code float":
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

// TestHostileAnswers sends every hostile answer to every call of every
// provider through its fake: none may give a token, each must give one
// typed error, in bounded time, and no secret may reach an error or a URL.
func TestHostileAnswers(t *testing.T) {
	answers := append(append([]hostile.Sample{}, hostile.Answers...),
		hostile.Sample{Name: "oversized", Status: 200, Body: hostile.Oversized()},
		hostile.Sample{Name: "many token values", Status: 200, Body: hostile.ManyTokens()})
	for _, p := range providers {
		t.Run(p.name, func(t *testing.T) {
			sc := newScanner()
			base := context.WithValue(context.Background(), oauth2.HTTPClient, sc.client(&http.Client{}))
			h := p.fake(t, sc, base)
			k, inject := h.kit, h.inject
			cases, tokens := 0, 0
			for _, c := range p.calls(k) {
				for _, a := range answers {
					if c.noAccess && a.Name == "no access token" {
						continue // a valid renew answer carries no access token
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
			tok, e = wire.DecodeRFC6749(s.Status, []byte(s.Body))
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

func init() {
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
				sc := newScanner("transport-client-secret", "act.transport-live-access", "rft.transport-live-refresh", "code-transport-1")
				k := kit{
					id: "ck", secret: "transport-client-secret",
					code: func() string { return "code-transport-1" },
					tok:  &oauth2.Token{AccessToken: "act.transport-live-access", RefreshToken: "rft.transport-live-refresh", Expiry: time.Now().Add(time.Hour)},
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
					if !c.bridge && errors.Is(err, context.DeadlineExceeded) && oauth2x.IsTemporary(err) {
						t.Errorf("%s: the caller's own deadline reported as temporary", c.op)
					}
				}
				if n := th.count(); n != 0 {
					t.Errorf("the other host got %d requests", n)
				}
				sc.checkURLs(t)
			})
		}
	}
}
