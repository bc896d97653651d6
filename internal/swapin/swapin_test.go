// Package swapin_test is the swap-in suite: a small web app written
// against *oauth2.Config (login, callback, a client per request from the
// stored token, a revoked user sent back to log in) runs unchanged except
// for its Config type against each provider's fake, directly and through
// each provider's Bridge, and must cost the same upstream calls and pass
// the same error checks as plain x/oauth2 does.
package swapin_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/douyin"
	"github.com/oauth2x/oauth2x/douyin/douyintest"
	"github.com/oauth2x/oauth2x/fantem"
	"github.com/oauth2x/oauth2x/fantem/fantemtest"
	"github.com/oauth2x/oauth2x/toutiao"
	"github.com/oauth2x/oauth2x/toutiao/toutiaotest"
)

// webApp is the app under test, written as an x/oauth2 user writes one;
// C is *oauth2.Config or a provider's Config, and nothing else changes.
// It keeps one user's token, as an app keeps it in its database.
type webApp[C oauth2x.Flow] struct {
	conf C
	ctx  context.Context // carries the app's HTTP client (oauth2.HTTPClient)
	api  string          // the provider API the app calls for /me

	// Two lines a Douyin or Toutiao app changes when it keeps
	// *oauth2.Config behind the Bridge: x/oauth2 builds the authorization
	// page URL without asking anyone (and names the client client_id, which
	// the platform does not read), and sends the token as Bearer, which the
	// platform's API refuses. nil: the Config's own.
	authCodeURL func(state string, opts ...oauth2.AuthCodeOption) string
	client      func(ctx context.Context, t *oauth2.Token) *http.Client

	mu      sync.Mutex // guards the fields below
	state   string
	stored  *oauth2.Token
	lastErr error // the last token error /me met
}

func (a *webApp[C]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/login":
		a.mu.Lock()
		a.state = "st-" + time.Now().Format("150405.000000000")
		state := a.state
		a.mu.Unlock()
		u := a.conf.AuthCodeURL(state)
		if a.authCodeURL != nil {
			u = a.authCodeURL(state)
		}
		http.Redirect(w, r, u, http.StatusFound)
	case "/callback":
		a.mu.Lock()
		want := a.state
		a.mu.Unlock()
		if r.URL.Query().Get("state") != want {
			http.Error(w, "bad state", http.StatusBadRequest)
			return
		}
		tok, err := a.conf.Exchange(a.ctx, r.URL.Query().Get("code"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		a.save(tok)
		io.WriteString(w, "logged in")
	case "/me":
		a.mu.Lock()
		stored := a.stored
		a.mu.Unlock()
		// A source per request from the stored token; a refreshed token
		// is saved, so a rotated refresh token is never lost.
		tok, err := a.conf.TokenSource(a.ctx, stored).Token()
		if err != nil {
			a.mu.Lock()
			a.lastErr = err
			a.mu.Unlock()
			var re *oauth2.RetrieveError
			if errors.As(err, &re) && re.ErrorCode == "invalid_grant" {
				http.Redirect(w, r, "/login", http.StatusFound)
				return
			}
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		if tok.AccessToken != stored.AccessToken {
			a.save(tok)
		}
		c := a.conf.Client(a.ctx, tok)
		if a.client != nil {
			c = a.client(a.ctx, tok)
		}
		resp, err := c.Get(a.api)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		io.Copy(w, resp.Body)
	default:
		http.NotFound(w, r)
	}
}

func (a *webApp[C]) save(t *oauth2.Token) {
	a.mu.Lock()
	a.stored = t
	a.mu.Unlock()
}

// setExpiry moves the stored token's expiry, as time passing would.
func (a *webApp[C]) setExpiry(in time.Duration) {
	a.mu.Lock()
	t := *a.stored
	t.Expiry = time.Now().Add(in)
	a.stored = &t
	a.mu.Unlock()
}

// fake is what the suite needs of a provider's fake.
type fake struct {
	tokenCalls func() int // requests to the token endpoints (exchange, refresh)
	authorize  func(ctx context.Context, authURL string) (code, state string, err error)
	revoke     func()
	rotate     func() // nil: the provider never rotates refresh tokens
	apiURL     string
	apiOK      func(body []byte) bool
}

// runner drives one app through the scenarios and reports the upstream
// calls each one cost.
type runner interface {
	run(t *testing.T) map[string]int
}

type row[C oauth2x.Flow] struct {
	app  *webApp[C]
	fake fake
}

const redirect = "http://127.0.0.1/callback"

// browser follows no redirects, so that the suite sees them.
var browser = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func get(t *testing.T, u string) (*http.Response, []byte) {
	t.Helper()
	resp, err := browser.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func (r *row[C]) login(t *testing.T, base string) {
	t.Helper()
	resp, _ := get(t, base+"/login")
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("/login: %s", resp.Status)
	}
	code, state, err := r.fake.authorize(context.Background(), resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	resp, b := get(t, base+"/callback?"+url.Values{"code": {code}, "state": {state}}.Encode())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/callback: %s %s", resp.Status, b)
	}
}

func (r *row[C]) me(t *testing.T, base string) *http.Response {
	t.Helper()
	resp, b := get(t, base+"/me")
	if resp.StatusCode == http.StatusOK && !r.fake.apiOK(b) {
		t.Errorf("/me: the API refused the token: %s", b)
	}
	return resp
}

func (r *row[C]) run(t *testing.T) map[string]int {
	srv := httptest.NewServer(r.app)
	defer srv.Close()
	calls := map[string]int{}
	step := func(name string, f func()) {
		before := r.fake.tokenCalls()
		f()
		calls[name] = r.fake.tokenCalls() - before
	}
	step("login", func() { r.login(t, srv.URL) })
	if r.fake.rotate != nil {
		r.fake.rotate()
	}
	step("10 requests, token 30s from expiry", func() {
		r.app.setExpiry(30 * time.Second)
		for range 10 {
			if resp := r.me(t, srv.URL); resp.StatusCode != http.StatusOK {
				t.Fatalf("/me: %s", resp.Status)
			}
		}
	})
	step("10 requests, token 5s from expiry", func() {
		r.app.setExpiry(5 * time.Second)
		old := r.app.stored.AccessToken
		for range 10 {
			if resp := r.me(t, srv.URL); resp.StatusCode != http.StatusOK {
				t.Fatalf("/me: %s", resp.Status)
			}
		}
		if r.app.stored.AccessToken == old {
			t.Error("the app never saw the refreshed token")
		}
	})
	step("expired again: the saved refresh token still works", func() {
		r.app.setExpiry(-time.Minute)
		if resp := r.me(t, srv.URL); resp.StatusCode != http.StatusOK {
			t.Fatalf("/me with the saved (rotated) refresh token: %s", resp.Status)
		}
	})
	step("revoked user", func() {
		r.fake.revoke()
		r.app.setExpiry(-time.Minute)
		resp := r.me(t, srv.URL)
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/login" {
			t.Errorf("revoked user: %s, want a redirect to /login; error %v", resp.Status, r.app.lastErr)
		}
		if k := oauth2x.KindOf(r.app.lastErr); k != oauth2x.ErrInvalidGrant {
			t.Errorf("KindOf(%v) = %v, want ErrInvalidGrant", r.app.lastErr, k)
		}
	})
	return calls
}

func douyinFake(f *douyintest.Server) fake {
	return fake{
		tokenCalls: func() int { return f.Calls(douyintest.AccessTokenPath) + f.Calls(douyintest.RefreshTokenPath) },
		authorize:  f.Authorize,
		revoke:     func() { f.Revoke(f.OpenID) },
		rotate:     func() { f.SetRotate(true) },
		apiURL:     f.URL + douyintest.APIPath,
		apiOK: func(b []byte) bool {
			var a douyintest.APIAnswer
			return json.Unmarshal(b, &a) == nil && a.Data.OpenID == f.OpenID
		},
	}
}

func toutiaoFake(f *toutiaotest.Server) fake {
	return fake{
		tokenCalls: func() int { return f.Calls(toutiaotest.AccessTokenPath) + f.Calls(toutiaotest.RefreshTokenPath) },
		authorize:  f.Authorize,
		revoke:     func() { f.Revoke(f.OpenID) },
		rotate:     func() { f.SetRotate(true) },
		apiURL:     f.URL + toutiaotest.APIPath,
		apiOK: func(b []byte) bool {
			var a toutiaotest.APIAnswer
			return json.Unmarshal(b, &a) == nil && a.Data.OpenID == f.OpenID
		},
	}
}

func fantemFake(f *fantemtest.Server) fake {
	return fake{
		tokenCalls: func() int { return f.Calls(fantemtest.TokenPath) },
		authorize:  f.Authorize,
		revoke:     func() { f.Revoke(f.User) },
		apiURL:     f.URL + fantemtest.APIPath,
		apiOK: func(b []byte) bool {
			var a fantemtest.APIAnswer
			return json.Unmarshal(b, &a) == nil && a.User == f.User
		},
	}
}

// plain is the *oauth2.Config an x/oauth2 user writes for the provider at e.
func plain(id, secret string, e oauth2.Endpoint, scopes ...string) *oauth2.Config {
	e.AuthStyle = oauth2.AuthStyleInParams
	return &oauth2.Config{ClientID: id, ClientSecret: secret, RedirectURL: redirect, Scopes: scopes, Endpoint: e}
}

// bytedanceBridged is the app with *oauth2.Config behind a Douyin or
// Toutiao Bridge: the page URL from the provider's Config, the API
// client from its NewClient.
func bytedanceBridged(authCodeURL func(string, ...oauth2.AuthCodeOption) string,
	bridge func(oauth2.Endpoint, *http.Client) *http.Client,
	newClient func(context.Context, oauth2.TokenSource) *http.Client,
	e oauth2.Endpoint, base *http.Client, key, secret string, f fake) runner {
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, bridge(e, base))
	app := &webApp[*oauth2.Config]{conf: plain(key, secret, e, "user_info"), ctx: ctx, api: f.apiURL,
		authCodeURL: authCodeURL,
		client: func(ctx context.Context, t *oauth2.Token) *http.Client {
			return newClient(ctx, oauth2.StaticTokenSource(t))
		}}
	return &row[*oauth2.Config]{app, f}
}

// rows are every provider, directly and through its Bridge; each pair
// must cost the same upstream calls.
var rows = []struct {
	provider, path string
	new            func(t *testing.T) runner
}{
	{"douyin", "direct", func(t *testing.T) runner {
		f := douyintest.NewServer()
		t.Cleanup(f.Close)
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, f.Client())
		return &row[*douyin.Config]{&webApp[*douyin.Config]{conf: f.Config(redirect, "user_info"), ctx: ctx, api: f.URL + douyintest.APIPath}, douyinFake(f)}
	}},
	{"douyin", "bridge", func(t *testing.T) runner {
		f := douyintest.NewServer()
		t.Cleanup(f.Close)
		return bytedanceBridged(f.Config(redirect, "user_info").AuthCodeURL, douyin.Bridge, douyin.NewClient,
			f.Endpoint(), f.Client(), f.ClientKey, f.ClientSecret, douyinFake(f))
	}},
	{"toutiao", "direct", func(t *testing.T) runner {
		f := toutiaotest.NewServer()
		t.Cleanup(f.Close)
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, f.Client())
		return &row[*toutiao.Config]{&webApp[*toutiao.Config]{conf: f.Config(redirect, "user_info"), ctx: ctx, api: f.URL + toutiaotest.APIPath}, toutiaoFake(f)}
	}},
	{"toutiao", "bridge", func(t *testing.T) runner {
		f := toutiaotest.NewServer()
		t.Cleanup(f.Close)
		return bytedanceBridged(f.Config(redirect, "user_info").AuthCodeURL, toutiao.Bridge, toutiao.NewClient,
			f.Endpoint(), f.Client(), f.ClientKey, f.ClientSecret, toutiaoFake(f))
	}},
	{"fantem", "direct", func(t *testing.T) runner {
		f := fantemtest.NewServer()
		t.Cleanup(f.Close)
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, f.Client())
		return &row[*fantem.Config]{&webApp[*fantem.Config]{conf: f.Config(redirect, "devices"), ctx: ctx, api: f.URL + fantemtest.APIPath}, fantemFake(f)}
	}},
	{"fantem", "bridge", func(t *testing.T) runner {
		f := fantemtest.NewServer()
		t.Cleanup(f.Close)
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, fantem.Bridge(f.Endpoint(), f.Client()))
		// Nothing to change: the gateway reads client_id and Bearer.
		return &row[*oauth2.Config]{&webApp[*oauth2.Config]{conf: plain(f.ClientID, "", f.Endpoint(), "devices"), ctx: ctx, api: f.URL + fantemtest.APIPath}, fantemFake(f)}
	}},
}

// want is what plain x/oauth2 costs: a source per request refreshes only
// inside ten seconds of expiry, once, and the app keeps what it got.
var want = map[string]int{
	"login":                              1,
	"10 requests, token 30s from expiry": 0,
	"10 requests, token 5s from expiry":  1,
	"expired again: the saved refresh token still works": 1,
	"revoked user": 1,
}

func TestSwapIn(t *testing.T) {
	got := map[string]map[string]int{}
	for _, r := range rows {
		t.Run(r.provider+"/"+r.path, func(t *testing.T) {
			calls := r.new(t).run(t)
			got[r.provider+"/"+r.path] = calls
			for step, n := range want {
				if calls[step] != n {
					t.Errorf("%s: %d upstream token calls, want %d as with plain x/oauth2", step, calls[step], n)
				}
			}
		})
	}
	for _, r := range rows {
		if r.path != "direct" {
			continue
		}
		if d, b := got[r.provider+"/direct"], got[r.provider+"/bridge"]; !reflect.DeepEqual(d, b) {
			t.Errorf("%s: direct %v, through the bridge %v", r.provider, d, b)
		}
	}
}

// TestFakesHaveTheirOwnAPI: a fake's API is its own, documented methods:
// nothing comes through an embedded type, so go doc shows it all.
func TestFakesHaveTheirOwnAPI(t *testing.T) {
	for _, typ := range []reflect.Type{
		reflect.TypeFor[douyintest.Server](), reflect.TypeFor[toutiaotest.Server](), reflect.TypeFor[fantemtest.Server](),
	} {
		for i := range typ.NumField() {
			if f := typ.Field(i); f.Anonymous {
				t.Errorf("%s embeds %s", typ, f.Type)
			}
		}
		ptr := reflect.PointerTo(typ)
		for _, m := range []string{"Close", "Client", "Calls", "SecretsSeen", "SetHook", "RespondNext", "Authorize", "IssueCode", "Revoke", "SetNow", "Endpoint", "Config"} {
			if _, ok := ptr.MethodByName(m); !ok {
				t.Errorf("%s has no method %s", typ, m)
			}
		}
		for _, m := range []string{"CountCall", "CountSecret", "TakeAnswer", "QueueAnswer"} {
			if _, ok := ptr.MethodByName(m); ok {
				t.Errorf("%s exports plumbing: %s", typ, m)
			}
		}
	}
}

// TestFakesKnowWhatTheySay: the values each fake writes out are the ones
// it serves.
func TestFakesKnowWhatTheySay(t *testing.T) {
	d := douyintest.NewServer()
	defer d.Close()
	tt := toutiaotest.NewServer()
	defer tt.Close()
	f := fantemtest.NewServer()
	defer f.Close()
	for _, c := range [][2]string{
		{d.ClientKey, douyintest.DefaultClientKey}, {d.ClientSecret, douyintest.DefaultClientSecret}, {d.OpenID, douyintest.DefaultOpenID},
		{tt.ClientKey, toutiaotest.DefaultClientKey}, {tt.ClientSecret, toutiaotest.DefaultClientSecret}, {tt.OpenID, toutiaotest.DefaultOpenID},
		{f.ClientID, fantemtest.DefaultClientID}, {f.User, fantemtest.DefaultUser},
	} {
		if c[0] != c[1] {
			t.Errorf("fake serves %q, says %q", c[0], c[1])
		}
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, tt.Client())
	tok, err := tt.Config(redirect, "user_info").Exchange(ctx, tt.IssueCode("user_info"))
	if err != nil || tok.ExpiresIn != int64(toutiaotest.AccessTTL/time.Second) {
		t.Errorf("toutiaotest: %v, %v", tok, err)
	}
	for _, p := range []string{"/oauth/renew_refresh_token/", "/oauth/authorize/v2/"} {
		resp, err := tt.Client().Get(tt.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("toutiaotest serves %s: %s", p, resp.Status)
		}
	}
}
