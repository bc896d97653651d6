package oauth2x_test

// One conformance suite for every provider: each row of confRows starts a
// provider's fake and describes it; every behaviour of confBehaviours runs
// against every row. A provider joins by adding one row.

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

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/douyin"
	"github.com/oauth2x/oauth2x/douyin/douyintest"
	"github.com/oauth2x/oauth2x/fantem"
	"github.com/oauth2x/oauth2x/fantem/fantemtest"
	"github.com/oauth2x/oauth2x/internal/oauthtest"
	"github.com/oauth2x/oauth2x/tiktok"
	"github.com/oauth2x/oauth2x/toutiao"
	"github.com/oauth2x/oauth2x/toutiao/toutiaotest"
)

const confRedirect = "https://app.example/callback"

// confWorld is one provider's fake and what the behaviours need of it.
type confWorld struct {
	flow      oauth2x.Flow
	refresher oauth2x.Refresher
	ctx       context.Context // carries the HTTP client that reaches the fake
	// authURL builds the authorization page URL; nil: flow.AuthCodeURL.
	authURL      func(state string) string
	authorize    func(ctx context.Context, authURL string) (code, state string, err error)
	exchangePath string // the fake's path that exchanges codes
	refreshPath  string // the fake's path that refreshes
	calls        func(path string) int
	setHook      func(func(path string))
	setRotate    func(bool) // nil: the provider never rotates refresh tokens
	revoke       func()     // kills every token of the fake's user
	apiOK        func(t *testing.T, c *http.Client) bool
	// newClient sends a source's token as the provider's API reads it;
	// nil: oauth2.NewClient (Authorization: Bearer).
	newClient func(ctx context.Context, src oauth2.TokenSource) *http.Client
	secrets   []string // the client secret, if any
	// untypedExchange: flow is x/oauth2's own, whose Exchange errors are
	// *oauth2.RetrieveError without an oauth2x kind.
	untypedExchange bool
}

type confRow struct {
	name string
	new  func(t *testing.T) *confWorld
}

var confRows = []confRow{
	{"oauth2", confPlain},
	{"douyin", func(t *testing.T) *confWorld {
		fake := douyintest.NewServer()
		t.Cleanup(fake.Close)
		conf := fake.Config(confRedirect, "user_info")
		return confByteDance(fake, fake.URL, fake.OpenID, fake.ClientSecret, conf, conf, douyin.NewClient)
	}},
	{"toutiao", func(t *testing.T) *confWorld {
		fake := toutiaotest.NewServer()
		t.Cleanup(fake.Close)
		conf := fake.Config(confRedirect, "user_info")
		return confByteDance(fake, fake.URL, fake.OpenID, fake.ClientSecret, conf, conf, toutiao.NewClient)
	}},
	{"fantem", confFantem},
	{"tiktok", confTikTok},
	// x/oauth2's own Config, unchanged, talking to each provider through
	// its bridge.
	{"douyin/bridge", func(t *testing.T) *confWorld {
		fake := douyintest.NewServer()
		t.Cleanup(fake.Close)
		conf := fake.Config(confRedirect, "user_info")
		w := confByteDance(fake, fake.URL, fake.OpenID, fake.ClientSecret, conf, conf, douyin.NewClient)
		return confBridged(w, conf.AuthCodeURL, fake.Endpoint(), douyin.Bridge(fake.Endpoint(), fake.Client()), conf.ClientKey, conf.ClientSecret)
	}},
	{"toutiao/bridge", func(t *testing.T) *confWorld {
		fake := toutiaotest.NewServer()
		t.Cleanup(fake.Close)
		conf := fake.Config(confRedirect, "user_info")
		w := confByteDance(fake, fake.URL, fake.OpenID, fake.ClientSecret, conf, conf, toutiao.NewClient)
		return confBridged(w, conf.AuthCodeURL, fake.Endpoint(), toutiao.Bridge(fake.Endpoint(), fake.Client()), conf.ClientKey, conf.ClientSecret)
	}},
	{"fantem/bridge", func(t *testing.T) *confWorld {
		w := confFantem(t)
		conf := w.flow.(*fantem.Config)
		return confBridged(w, conf.AuthCodeURL, conf.Endpoint, fantem.Bridge(conf.Endpoint, w.ctx.Value(oauth2.HTTPClient).(*http.Client)), conf.ClientID, conf.ClientSecret)
	}},
	{"tiktok/bridge", func(t *testing.T) *confWorld {
		w := confTikTok(t)
		conf := w.flow.(*tiktok.Config)
		return confBridged(w, conf.AuthCodeURL, conf.Endpoint, tiktok.Bridge(conf.Endpoint, w.ctx.Value(oauth2.HTTPClient).(*http.Client)), conf.ClientKey, conf.ClientSecret)
	}},
}

var confBehaviours = []struct {
	name string
	run  func(t *testing.T, w *confWorld)
}{
	{"flow", confTestFlow},
	{"refresh on expiry", confTestRefreshOnExpiry},
	{"rotation kept", confTestRotationKept},
	{"one refresh for 64 callers", confTestOneRefresh},
	{"dead grant", confTestDeadGrant},
	{"no secrets in errors", confTestNoSecrets},
	{"context cancellation", confTestCancellation},
}

func TestConformance(t *testing.T) {
	for _, row := range confRows {
		t.Run(row.name, func(t *testing.T) {
			for _, b := range confBehaviours {
				t.Run(b.name, func(t *testing.T) { b.run(t, row.new(t)) })
			}
		})
	}
}

// bytedanceServer is what douyintest.Server and toutiaotest.Server have
// in common.
type bytedanceServer interface {
	Client() *http.Client
	Calls(path string) int
	SetHook(func(path string))
	SetRotate(bool)
	Revoke(openID string)
}

// confByteDance describes a Douyin or Toutiao fake at base, whose user is
// openID and whose app has secret.
func confByteDance(fake bytedanceServer, base, openID, secret string, flow oauth2x.Flow, r oauth2x.Refresher,
	newClient func(context.Context, oauth2.TokenSource) *http.Client) *confWorld {
	return &confWorld{
		newClient: newClient,
		flow:      flow,
		refresher: r,
		ctx:       context.WithValue(context.Background(), oauth2.HTTPClient, fake.Client()),
		authorize: func(ctx context.Context, u string) (string, string, error) {
			return oauthtest.Authorize(ctx, fake.Client(), u)
		},
		exchangePath: douyintest.AccessTokenPath,
		refreshPath:  douyintest.RefreshTokenPath,
		calls:        fake.Calls,
		setHook:      fake.SetHook,
		setRotate:    fake.SetRotate,
		revoke:       func() { fake.Revoke(openID) },
		apiOK: func(t *testing.T, c *http.Client) bool {
			var a douyintest.APIAnswer // Toutiao's is the same
			confGet(t, c, base+douyintest.APIPath, &a)
			return a.Data.ErrorCode == 0 && a.Data.OpenID == openID
		},
		secrets: []string{secret},
	}
}

func confFantem(t *testing.T) *confWorld {
	fake := fantemtest.NewServer()
	t.Cleanup(fake.Close)
	conf := fake.Config(confRedirect, "devices")
	return &confWorld{
		flow:         conf,
		refresher:    conf,
		ctx:          context.WithValue(context.Background(), oauth2.HTTPClient, fake.Client()),
		authorize:    fake.Authorize,
		exchangePath: fantemtest.TokenPath,
		refreshPath:  fantemtest.TokenPath,
		calls:        fake.Calls,
		setHook:      fake.SetHook,
		revoke:       func() { fake.Revoke(fake.User) },
		apiOK: func(t *testing.T, c *http.Client) bool {
			var a fantemtest.APIAnswer
			confGet(t, c, fake.URL+fantemtest.APIPath, &a)
			return a.Error == "" && a.User == fake.User
		},
	}
}

// confBridged turns a provider's world into one where a plain
// *oauth2.Config talks to the provider through its bridge.
func confBridged(w *confWorld, authURL func(string, ...oauth2.AuthCodeOption) string, e oauth2.Endpoint, bridge *http.Client, id, secret string) *confWorld {
	conf := &oauth2.Config{ClientID: id, ClientSecret: secret, RedirectURL: confRedirect, Endpoint: e}
	w.flow = conf
	w.refresher = oauth2x.ConfigRefresher(conf)
	w.ctx = context.WithValue(context.Background(), oauth2.HTTPClient, bridge)
	w.authURL = func(state string) string { return authURL(state) }
	w.untypedExchange = true
	return w
}

func confGet(t *testing.T, c *http.Client, u string, v any) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// login drives the fake's approving page and exchanges the code.
func (w *confWorld) login(t *testing.T) (tok *oauth2.Token, code string) {
	t.Helper()
	authURL := w.flow.AuthCodeURL
	if w.authURL != nil {
		authURL = func(s string, _ ...oauth2.AuthCodeOption) string { return w.authURL(s) }
	}
	code, state, err := w.authorize(w.ctx, authURL("st4te"))
	if err != nil {
		t.Fatal(err)
	}
	if state != "st4te" || code == "" {
		t.Fatalf("page redirected with code %q state %q", code, state)
	}
	tok, err = w.flow.Exchange(w.ctx, code)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	return tok, code
}

// client sends src's token as the provider's API reads it.
func (w *confWorld) client(src oauth2.TokenSource) *http.Client {
	if w.newClient != nil {
		return w.newClient(w.ctx, src)
	}
	return oauth2.NewClient(w.ctx, src)
}

func confExpired(tok *oauth2.Token) *oauth2.Token {
	old := *tok
	old.Expiry = time.Now().Add(-time.Minute)
	return &old
}

func confTestFlow(t *testing.T, w *confWorld) {
	tok, _ := w.login(t)
	if tok.AccessToken == "" || tok.RefreshToken == "" || tok.Expiry.IsZero() || !tok.Valid() {
		t.Fatalf("login gave %+v", tok)
	}
	c := w.flow.Client(w.ctx, tok)
	if w.untypedExchange && w.newClient != nil {
		// x/oauth2's Client sends Authorization: Bearer, which this
		// provider's API refuses: send the token its way.
		c = w.client(w.flow.TokenSource(w.ctx, tok))
	}
	if !w.apiOK(t, c) {
		t.Error("the API refused the token that Flow.Client sent")
	}
	// Flow.TokenSource refreshes an expired token.
	before := w.calls(w.refreshPath)
	nt, err := w.flow.TokenSource(w.ctx, confExpired(tok)).Token()
	if err != nil {
		t.Fatal(err)
	}
	if nt.AccessToken == tok.AccessToken || w.calls(w.refreshPath) != before+1 {
		t.Errorf("Flow.TokenSource did not refresh once: %q, calls %d→%d", nt.AccessToken, before, w.calls(w.refreshPath))
	}
}

func confTestRefreshOnExpiry(t *testing.T, w *confWorld) {
	tok, _ := w.login(t)
	before := w.calls(w.refreshPath)
	src := oauth2x.NewTokenSource(w.ctx, w.refresher, confExpired(tok), nil)
	a, err := src.Token()
	if err != nil {
		t.Fatal(err)
	}
	b, err := src.Token()
	if err != nil {
		t.Fatal(err)
	}
	if a.AccessToken == tok.AccessToken || !a.Valid() {
		t.Errorf("not refreshed: %+v", a)
	}
	if b.AccessToken != a.AccessToken {
		t.Error("a valid refreshed token was replaced")
	}
	if got := w.calls(w.refreshPath) - before; got != 1 {
		t.Errorf("upstream refreshes = %d, want 1", got)
	}
	if !w.apiOK(t, w.client(src)) {
		t.Error("the API refused the refreshed token")
	}
}

func confTestRotationKept(t *testing.T, w *confWorld) {
	rotates := w.setRotate != nil
	if rotates {
		w.setRotate(true)
	}
	tok0, _ := w.login(t)
	store := oauth2x.NewMemoryStore()
	src := oauth2x.NewTokenSource(w.ctx, w.refresher, confExpired(tok0), &oauth2x.Options{Store: store})
	tok1, err := src.Token()
	if err != nil {
		t.Fatal(err)
	}
	if got := tok1.RefreshToken != tok0.RefreshToken; got != rotates || tok1.RefreshToken == "" {
		t.Fatalf("refresh token %q → %q; rotation expected %v", tok0.RefreshToken, tok1.RefreshToken, rotates)
	}
	stored, err := store.Load(w.ctx)
	if err != nil || stored == nil || stored.RefreshToken != tok1.RefreshToken {
		t.Fatalf("store holds %+v (%v), want refresh token %q", stored, err, tok1.RefreshToken)
	}
	if rotates {
		if _, err := w.refresher.Refresh(w.ctx, tok0); !errors.Is(err, oauth2x.ErrInvalidGrant) {
			t.Errorf("the rotated-out refresh token still works or fails oddly: %v", err)
		}
	}
	// The kept refresh token is the live one.
	tok2, err := w.refresher.Refresh(w.ctx, stored)
	if err != nil {
		t.Fatalf("refreshing with the kept refresh token: %v", err)
	}
	if tok2.RefreshToken == "" || tok2.AccessToken == tok1.AccessToken {
		t.Errorf("second refresh gave %+v", tok2)
	}
}

func confTestOneRefresh(t *testing.T, w *confWorld) {
	tok, _ := w.login(t)
	const n = 64
	gate := oauthtest.NewGate(w.refreshPath, n)
	w.setHook(gate.Hook)
	before := w.calls(w.refreshPath)
	src := oauth2x.NewTokenSource(w.ctx, w.refresher, confExpired(tok), nil)
	var wg sync.WaitGroup
	toks := make([]*oauth2.Token, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			gate.Started()
			toks[i], errs[i] = src.Token()
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if toks[i].AccessToken != toks[0].AccessToken || toks[i].AccessToken == tok.AccessToken {
			t.Fatalf("caller %d got %q, caller 0 %q", i, toks[i].AccessToken, toks[0].AccessToken)
		}
	}
	if got := w.calls(w.refreshPath) - before; got != 1 {
		t.Errorf("upstream refreshes = %d, want 1", got)
	}
}

func confTestDeadGrant(t *testing.T, w *confWorld) {
	tok, code := w.login(t)
	_, err := w.flow.Exchange(w.ctx, code)
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("reused code: %v, want a *oauth2.RetrieveError", err)
	}
	if w.untypedExchange {
		if re.ErrorCode != "invalid_grant" {
			t.Errorf("reused code: ErrorCode %q, want invalid_grant", re.ErrorCode)
		}
	} else if !errors.Is(err, oauth2x.ErrInvalidGrant) {
		t.Errorf("reused code: %v, want ErrInvalidGrant", err)
	}

	w.revoke()
	src := oauth2x.NewTokenSource(w.ctx, w.refresher, confExpired(tok), nil)
	if _, err := src.Token(); !errors.Is(err, oauth2x.ErrInvalidGrant) || !errors.As(err, &re) {
		t.Fatalf("revoked grant: %v, want ErrInvalidGrant and a *oauth2.RetrieveError", err)
	}
	before := w.calls(w.refreshPath)
	if _, err := src.Token(); !errors.Is(err, oauth2x.ErrInvalidGrant) {
		t.Errorf("second call: %v", err)
	}
	if w.calls(w.refreshPath) != before {
		t.Error("a dead grant was sent upstream again")
	}
	if _, err := w.refresher.Refresh(w.ctx, &oauth2.Token{AccessToken: "x"}); !errors.Is(err, oauth2x.ErrInvalidGrant) {
		t.Errorf("token without a refresh token: %v, want ErrInvalidGrant", err)
	}
}

func confTestNoSecrets(t *testing.T, w *confWorld) {
	tok, code := w.login(t)
	var errs []error
	_, err := w.flow.Exchange(w.ctx, code)
	errs = append(errs, err)
	w.revoke()
	_, err = w.refresher.Refresh(w.ctx, tok)
	errs = append(errs, err)
	_, err = oauth2x.NewTokenSource(w.ctx, w.refresher, confExpired(tok), nil).Token()
	errs = append(errs, err)
	secrets := append([]string{code, tok.AccessToken, tok.RefreshToken}, w.secrets...)
	for i, err := range errs {
		if err == nil {
			t.Fatalf("error %d: none", i)
		}
		var re *oauth2.RetrieveError
		errors.As(err, &re)
		for _, s := range secrets {
			if s == "" {
				continue
			}
			if strings.Contains(err.Error(), s) || strings.Contains(fmt.Sprintf("%+v", err), s) {
				t.Errorf("error %d text %q contains %q", i, err, s)
			}
			if re != nil && strings.Contains(string(re.Body), s) {
				t.Errorf("error %d RetrieveError.Body %q contains %q", i, re.Body, s)
			}
		}
	}
}

func confTestCancellation(t *testing.T, w *confWorld) {
	tok, _ := w.login(t)
	entered := make(chan string, 1)
	release := make(chan struct{})
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	defer unblock()
	w.setHook(func(path string) {
		if path == w.exchangePath || path == w.refreshPath {
			entered <- path
			<-release
		}
	})

	// A caller's cancellation ends its Exchange.
	ctx, cancel := context.WithCancel(w.ctx)
	go func() { <-entered; cancel() }()
	if _, err := w.flow.Exchange(ctx, "any-code"); !errors.Is(err, context.Canceled) {
		t.Errorf("Exchange: %v, want context.Canceled", err)
	}

	// A caller's cancellation ends its wait, not the refresh others share.
	cs := oauth2x.NewTokenSource(w.ctx, w.refresher, confExpired(tok), nil)
	ctx, cancel = context.WithCancel(w.ctx)
	go func() { <-entered; cancel() }()
	if _, err := cs.TokenContext(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("TokenContext: %v, want context.Canceled", err)
	}
	before := w.calls(w.refreshPath)
	unblock()
	nt, err := cs.Token()
	if err != nil || nt.AccessToken == tok.AccessToken {
		t.Fatalf("after the wait was cancelled the refresh still completes: %v %+v", err, nt)
	}
	if w.calls(w.refreshPath) != before {
		t.Error("the cancelled wait caused another upstream refresh")
	}
}

// confPlain is the reference row: x/oauth2's own Config against an RFC
// 6749 server.
func confPlain(t *testing.T) *confWorld {
	s := &confRFC{calls: map[string]int{}, codes: map[string]bool{}, refresh: map[string]bool{}, access: map[string]bool{}}
	s.srv = httptest.NewServer(s)
	t.Cleanup(s.srv.Close)
	conf := &oauth2.Config{
		ClientID:     "rfc-client",
		ClientSecret: "rfc-client-secret",
		RedirectURL:  confRedirect,
		Scopes:       []string{"profile"},
		Endpoint:     oauth2.Endpoint{AuthURL: s.srv.URL + "/authorize", TokenURL: s.srv.URL + "/token"},
	}
	return &confWorld{
		flow:      conf,
		refresher: oauth2x.ConfigRefresher(conf),
		ctx:       context.WithValue(context.Background(), oauth2.HTTPClient, s.srv.Client()),
		authorize: func(ctx context.Context, u string) (string, string, error) {
			return oauthtest.Authorize(ctx, s.srv.Client(), u)
		},
		exchangePath: "/token",
		refreshPath:  "/token",
		calls:        func(p string) int { s.mu.Lock(); defer s.mu.Unlock(); return s.calls[p] },
		setHook:      func(h func(string)) { s.mu.Lock(); s.hook = h; s.mu.Unlock() },
		setRotate:    func(on bool) { s.mu.Lock(); s.rotate = on; s.mu.Unlock() },
		revoke: func() {
			s.mu.Lock()
			clear(s.refresh)
			clear(s.access)
			s.mu.Unlock()
		},
		apiOK: func(t *testing.T, c *http.Client) bool {
			var a struct{ OK bool }
			confGet(t, c, s.srv.URL+"/api/", &a)
			return a.OK
		},
		secrets:         []string{conf.ClientSecret},
		untypedExchange: true,
	}
}

// confRFC is a small RFC 6749 server: client_secret_basic or post, single
// use codes, optional rotation, and an error description that quotes the
// refresh token it refuses, as some servers do.
type confRFC struct {
	srv *httptest.Server

	mu                     sync.Mutex // guards the fields below
	seq                    int
	rotate                 bool
	hook                   func(path string)
	calls                  map[string]int
	codes, refresh, access map[string]bool
}

func (s *confRFC) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.calls[r.URL.Path]++
	h := s.hook
	s.mu.Unlock()
	if h != nil {
		h(r.URL.Path)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	mint := func(p string) string { s.seq++; return fmt.Sprintf("%s-%04d", p, s.seq) }
	fail := func(status int, code, desc string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
	}
	switch r.URL.Path {
	case "/authorize":
		q := r.URL.Query()
		if q.Get("client_id") != "rfc-client" || q.Get("response_type") != "code" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		code := mint("rfc-code")
		s.codes[code] = true
		http.Redirect(w, r, q.Get("redirect_uri")+"?"+url.Values{"code": {code}, "state": {q.Get("state")}}.Encode(), http.StatusFound)
	case "/api/":
		tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		json.NewEncoder(w).Encode(map[string]bool{"OK": s.access[tok]})
	case "/token":
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
		}
		if id != "rfc-client" || secret != "rfc-client-secret" {
			fail(http.StatusUnauthorized, "invalid_client", "client authentication failed")
			return
		}
		rt := r.PostFormValue("refresh_token")
		switch r.PostFormValue("grant_type") {
		case "authorization_code":
			if !s.codes[r.PostFormValue("code")] {
				fail(http.StatusBadRequest, "invalid_grant", "code unknown or used")
				return
			}
			delete(s.codes, r.PostFormValue("code"))
			rt = mint("rfc-refresh")
			s.refresh[rt] = true
		case "refresh_token":
			if !s.refresh[rt] {
				fail(http.StatusBadRequest, "invalid_grant", "refresh token "+rt+" is unknown")
				return
			}
			if s.rotate {
				delete(s.refresh, rt)
				rt = mint("rfc-refresh")
				s.refresh[rt] = true
			}
		default:
			fail(http.StatusBadRequest, "unsupported_grant_type", "")
			return
		}
		at := mint("rfc-access")
		s.access[at] = true
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": at, "token_type": "Bearer", "refresh_token": rt, "expires_in": 3600})
	default:
		http.NotFound(w, r)
	}
}
