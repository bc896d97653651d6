// Package bytedancetest is the engine of the fakes of ByteDance's open
// platform (Douyin and Toutiao) on httptest, behaving as the real one
// does: HTTP-200 errors, numbers as numbers or strings, single-use codes,
// refresh-token rotation when asked, renew killing the old refresh token, a
// new client token killing all but the newest two, and an API that reads
// the token from the access-token header only. The public fakes,
// douyintest and toutiaotest, wrap it with their own small API and write
// out their own paths; nothing here is for users.
package bytedancetest

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/oauth2x/oauth2x/internal/oauthtest"
)

// Lifetimes, as the platform documents them.
const (
	CodeTTL        = 10 * time.Minute
	AccessTTL      = 15 * 24 * time.Hour
	RefreshTTL     = 30 * 24 * time.Hour
	ClientTTL      = 2 * time.Hour
	ClientGrace    = 5 * time.Minute
	MaxRenewals    = 5
	DefaultKey     = "fake-client-key"
	DefaultSecret  = "fake-client-secret"
	DefaultOpenID  = "fake-open-id"
	DefaultScope   = "user_info"
	APIPath        = "/api/"
	SilentAuthPath = "/oauth/authorize/v2/"
)

// Fake is a running fake platform. Its fields may be set before the first
// request; its methods are safe for concurrent use.
type Fake struct {
	*httptest.Server
	// Recorder counts calls (Calls, SecretsSeen), holds a test's hook
	// (SetHook) and queued answers (RespondNext).
	*oauthtest.Recorder

	// Name is the platform's name ("douyin"), used in tokens' log ids.
	Name string
	// AuthPath is the authorization page's path.
	AuthPath string
	// ClientKey and ClientSecret are the app the fake knows.
	ClientKey, ClientSecret string
	// OpenID is the user every login signs in as.
	OpenID string

	mu sync.Mutex // guards everything below
	// StringNumbers makes answers use the older edition: numbers, even
	// error_code, as strings and message "<nil>".
	stringNumbers bool
	rotate        bool
	now           func() time.Time
	seq           int
	codes         map[string]*grant
	access        map[string]*grant
	refresh       map[string]*grant
	clients       []*grant
}

type grant struct {
	openID, scope string
	expiry        time.Time
	used          bool
	renewals      int
	client        bool
	issued        time.Time
}

// Site says which pages and calls a host of the platform has beyond the
// ones every host has.
type Site struct {
	Silent bool // the silent authorization page at SilentAuthPath
	Renew  bool // /oauth/renew_refresh_token/
}

// New starts a fake whose authorization page is at authPath, with the
// silent page and renew (Douyin's host).
func New(name, authPath string) *Fake {
	return NewSite(name, authPath, Site{Silent: true, Renew: true})
}

// NewSite starts a fake whose authorization page is at authPath and which
// has what site says; a page or call the host lacks answers 404.
func NewSite(name, authPath string, site Site) *Fake {
	f := &Fake{
		Name:         name,
		AuthPath:     authPath,
		ClientKey:    DefaultKey,
		ClientSecret: DefaultSecret,
		OpenID:       DefaultOpenID,
		now:          time.Now,
		Recorder:     &oauthtest.Recorder{},
		codes:        map[string]*grant{},
		access:       map[string]*grant{},
		refresh:      map[string]*grant{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc(authPath, f.authorize)
	if site.Silent && authPath != SilentAuthPath {
		mux.HandleFunc(SilentAuthPath, f.authorize)
	} else if authPath != SilentAuthPath {
		mux.HandleFunc(SilentAuthPath, http.NotFound)
	}
	mux.HandleFunc("/oauth/access_token/", f.tokenCall(f.exchange))
	mux.HandleFunc("/oauth/refresh_token/", f.tokenCall(f.refreshToken))
	if site.Renew {
		mux.HandleFunc("/oauth/renew_refresh_token/", f.tokenCall(f.renew))
	}
	mux.HandleFunc("/oauth/client_token/", f.tokenCall(f.clientToken(false)))
	mux.HandleFunc("/oauth/stable_client_token/", f.tokenCall(f.clientToken(true)))
	mux.HandleFunc(APIPath, f.api)
	mux.HandleFunc(UserInfoPath, f.userInfo)
	f.Server = httptest.NewServer(mux)
	return f
}

// SetStringNumbers selects the older edition of answers: every number,
// error_code included, as a string, and message "<nil>".
func (f *Fake) SetStringNumbers(on bool) { f.mu.Lock(); f.stringNumbers = on; f.mu.Unlock() }

// SetRotate makes refresh answers carry a new refresh token, killing the old one.
func (f *Fake) SetRotate(on bool) { f.mu.Lock(); f.rotate = on; f.mu.Unlock() }

// SetNow sets the fake's clock.
func (f *Fake) SetNow(now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	f.mu.Lock()
	f.now = now
	f.mu.Unlock()
}

// FailNext makes the next call to path answer with a platform error (HTTP
// 200, {"data":{"error_code":code,…},"message":"error"}).
func (f *Fake) FailNext(path string, code int, desc string) {
	f.QueueAnswer(path, oauthtest.Canned{Code: code, Desc: desc})
}

// Revoke kills every token of the user, as revoking access in the app does.
func (f *Fake) Revoke(openID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	oauthtest.DeleteWhere(func(g *grant) bool { return g.openID == openID }, f.access, f.refresh)
}

// IssueCode returns a fresh authorization code for the fake's user, as
// the authorization page would.
func (f *Fake) IssueCode(scope string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.newCode(scope)
}

func (f *Fake) newCode(scope string) string {
	code := f.mint("code")
	f.codes[code] = &grant{openID: f.OpenID, scope: scope, expiry: f.now().Add(CodeTTL)}
	return code
}

// mint makes a deterministic token-like value with the platform's prefix.
func (f *Fake) mint(prefix string) string {
	f.seq++
	return fmt.Sprintf("%s.%s%06d", prefix, f.Name, f.seq)
}

// authorize is the authorization page: it approves at once and redirects
// to redirect_uri with a code and the state.
func (f *Fake) authorize(w http.ResponseWriter, r *http.Request) {
	f.count(r.URL.Path)
	if oauthtest.TakeConsent(w, r) {
		return
	}
	q := r.URL.Query()
	redirect := q.Get("redirect_uri")
	u, err := url.Parse(redirect)
	switch {
	case q.Get("client_key") != f.ClientKey:
		http.Error(w, "unknown client_key", http.StatusBadRequest)
		return
	case q.Get("response_type") != "code":
		http.Error(w, "response_type must be code", http.StatusBadRequest)
		return
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.RawQuery != "":
		http.Error(w, "illegal redirect_uri", http.StatusBadRequest)
		return
	}
	scope := q.Get("scope")
	if r.URL.Path == SilentAuthPath && scope != "login_id" {
		http.Error(w, "silent authorization needs scope login_id", http.StatusBadRequest)
		return
	}
	if oauthtest.ShowConsent(w, r, oauthtest.Title(f.Name), "App "+f.ClientKey, false) {
		return // a browser gets the page a person sees; other clients, the approval
	}
	f.mu.Lock()
	code := f.newCode(scope)
	f.mu.Unlock()
	back := url.Values{"code": {code}}
	if s := q.Get("state"); s != "" {
		back.Set("state", s)
	}
	if scope != "" {
		back.Set("scopes", scope)
	}
	u.RawQuery = back.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func (f *Fake) count(path string) { f.CountCall(path) }

// canned writes the answer queued for path (RespondNext, FailNext), if
// any, and reports whether there was one. f.mu is held.
func (f *Fake) canned(w http.ResponseWriter, path string) bool {
	c, ok := f.TakeAnswer(path)
	if !ok {
		return false
	}
	if c.Body != "" || c.Status != 0 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(cmp.Or(c.Status, http.StatusOK))
		io.WriteString(w, c.Body)
		return true
	}
	f.write(w, fail(c.Code, c.Desc))
	return true
}

// Authorize opens authURL as a browser would and returns the code and
// state the authorization page redirects back with, without following the
// redirect.
func (f *Fake) Authorize(ctx context.Context, authURL string) (code, state string, err error) {
	return oauthtest.Authorize(ctx, f.Client(), authURL)
}

// answer is what a handler produces: a data object or an error code.
type answer struct {
	data map[string]any
	code int
	desc string
}

func fail(code int, desc string) answer { return answer{code: code, desc: desc} }

// tokenCall reads parameters (form, query or JSON), applies injections,
// and writes the envelope.
func (f *Fake) tokenCall(h func(p url.Values, path string) answer) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.count(r.URL.Path)
		p, err := params(r)
		f.mu.Lock()
		defer f.mu.Unlock()
		if p.Has("client_secret") {
			f.CountSecret(r.URL.Path)
		}
		if f.canned(w, r.URL.Path) {
			return
		}
		if err != nil {
			f.write(w, fail(10005, "缺少参数"))
			return
		}
		if r.Method != http.MethodPost && r.Method != http.MethodGet {
			f.write(w, fail(10002, "method not allowed"))
			return
		}
		f.write(w, h(p, r.URL.Path))
	}
}

func params(r *http.Request) (url.Values, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		var m map[string]any
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&m); err != nil {
			return nil, err
		}
		v := url.Values{}
		for k, x := range m {
			v.Set(k, fmt.Sprint(x))
		}
		return v, nil
	}
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	return r.Form, nil
}

func (f *Fake) write(w http.ResponseWriter, a answer) {
	num := func(n int64) any {
		if f.stringNumbers {
			return strconv.FormatInt(n, 10)
		}
		return n
	}
	f.seq++
	logID := fmt.Sprintf("2026112204%06d%s", f.seq, strings.ToUpper(f.Name))
	env := map[string]any{}
	if a.code != 0 {
		env["data"] = map[string]any{"captcha": "", "desc_url": "", "description": a.desc, "error_code": num(int64(a.code))}
		env["message"] = "error"
		env["extra"] = map[string]any{"logid": logID, "now": num(f.now().UnixMilli())}
	} else {
		d := map[string]any{"description": "", "error_code": num(0), "log_id": logID}
		for k, v := range a.data {
			if n, ok := v.(int64); ok {
				v = num(n)
			}
			d[k] = v
		}
		env["data"] = d
		env["message"] = "success"
		if f.stringNumbers {
			env["message"] = "<nil>"
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(env)
}

func (f *Fake) checkKey(p url.Values) (answer, bool) {
	if p.Get("client_key") == "" {
		return fail(10005, "缺少参数 client_key"), false
	}
	if p.Get("client_key") != f.ClientKey {
		return fail(10003, "client_key 不存在"), false
	}
	return answer{}, true
}

func (f *Fake) exchange(p url.Values, _ string) answer {
	if a, ok := f.checkKey(p); !ok {
		return a
	}
	if p.Get("client_secret") != f.ClientSecret {
		return fail(10013, "client_key 或 client_secret 错误")
	}
	if p.Get("grant_type") != "authorization_code" {
		return fail(10005, "grant_type 错误")
	}
	code := p.Get("code")
	if code == "" {
		return fail(10005, "缺少参数 code")
	}
	g := f.codes[code]
	if g == nil || g.used || !f.now().Before(g.expiry) {
		return fail(10007, "授权码已过期或已被使用")
	}
	g.used = true
	return f.issue(g.openID, g.scope)
}

// issue mints an access token and a refresh token for a new grant.
func (f *Fake) issue(openID, scope string) answer {
	now := f.now()
	act, rft := f.mint("act"), f.mint("rft")
	f.access[act] = &grant{openID: openID, scope: scope, expiry: now.Add(AccessTTL)}
	f.refresh[rft] = &grant{openID: openID, scope: scope, expiry: now.Add(RefreshTTL)}
	return answer{data: map[string]any{
		"access_token": act, "refresh_token": rft, "open_id": openID, "scope": scope,
		"expires_in": int64(AccessTTL / time.Second), "refresh_expires_in": int64(RefreshTTL / time.Second),
		"captcha": "", "desc_url": "",
	}}
}

func (f *Fake) liveRefresh(p url.Values) (*grant, answer, bool) {
	if a, ok := f.checkKey(p); !ok {
		return nil, a, false
	}
	rt := p.Get("refresh_token")
	if rt == "" {
		return nil, fail(10005, "缺少参数 refresh_token"), false
	}
	g := f.refresh[rt]
	if g == nil || !f.now().Before(g.expiry) {
		return nil, fail(10010, "refresh_token 已过期"), false
	}
	return g, answer{}, true
}

func (f *Fake) refreshToken(p url.Values, _ string) answer {
	if p.Get("grant_type") != "refresh_token" {
		return fail(10005, "grant_type 错误")
	}
	g, a, ok := f.liveRefresh(p)
	if !ok {
		return a
	}
	now := f.now()
	act := f.mint("act")
	f.access[act] = &grant{openID: g.openID, scope: g.scope, expiry: now.Add(AccessTTL)}
	rt := p.Get("refresh_token")
	if f.rotate {
		delete(f.refresh, rt)
		rt = f.mint("rft")
		f.refresh[rt] = g // the refresh token's expiry does not move
	}
	return answer{data: map[string]any{
		"access_token": act, "refresh_token": rt, "open_id": g.openID, "scope": g.scope,
		"expires_in": int64(AccessTTL / time.Second), "refresh_expires_in": int64(g.expiry.Sub(now) / time.Second),
	}}
}

func (f *Fake) renew(p url.Values, _ string) answer {
	g, a, ok := f.liveRefresh(p)
	if !ok {
		return a
	}
	if g.renewals >= MaxRenewals {
		return fail(10020, "刷新次数超过限制")
	}
	delete(f.refresh, p.Get("refresh_token"))
	rt := f.mint("rft")
	f.refresh[rt] = &grant{openID: g.openID, scope: g.scope, expiry: f.now().Add(RefreshTTL), renewals: g.renewals + 1}
	return answer{data: map[string]any{"refresh_token": rt, "expires_in": int64(RefreshTTL / time.Second)}}
}

func (f *Fake) clientToken(stable bool) func(url.Values, string) answer {
	return func(p url.Values, _ string) answer {
		if a, ok := f.checkKey(p); !ok {
			return a
		}
		if p.Get("client_secret") != f.ClientSecret {
			return fail(10013, "client_key 或 client_secret 错误")
		}
		if p.Get("grant_type") != "client_credential" {
			return fail(10005, "grant_type 错误")
		}
		now := f.now()
		if stable {
			for tok, g := range f.access {
				if g.client && now.Before(g.expiry) && f.newestClient(tok) {
					return answer{data: map[string]any{"access_token": tok, "expires_in": int64(g.expiry.Sub(now) / time.Second)}}
				}
			}
		}
		tok := f.mint("clt")
		g := &grant{client: true, expiry: now.Add(ClientTTL), issued: now}
		f.access[tok] = g
		f.clients = append(f.clients, g)
		// Only the newest two stay valid; older ones die after a grace.
		if n := len(f.clients); n > 2 {
			for _, old := range f.clients[:n-2] {
				if dead := now.Add(ClientGrace); old.expiry.After(dead) {
					old.expiry = dead
				}
			}
			f.clients = f.clients[n-2:]
		}
		return answer{data: map[string]any{"access_token": tok, "expires_in": int64(ClientTTL / time.Second)}}
	}
}

func (f *Fake) newestClient(tok string) bool {
	return len(f.clients) > 0 && f.access[tok] == f.clients[len(f.clients)-1]
}

// APIAnswer is what the fake API at /api/ answers: whose token it read
// from the access-token header, or an error code.
type APIAnswer struct {
	Data struct {
		ErrorCode   int    `json:"error_code"`
		Description string `json:"description"`
		Header      string `json:"header"` // "access-token" when accepted
		OpenID      string `json:"open_id"`
		Client      bool   `json:"client"`
	} `json:"data"`
}

// api is the platform's newer OpenAPI: it reads the token from the
// access-token header and nowhere else. A token sent as "Authorization:
// Bearer" is refused as missing, as the real API refuses it, so a test
// that passes here passes in production.
func (f *Fake) api(w http.ResponseWriter, r *http.Request) {
	f.count(APIPath)
	f.mu.Lock()
	done := f.canned(w, APIPath)
	f.mu.Unlock()
	if done {
		return
	}
	tok := r.Header.Get("access-token")
	var a APIAnswer
	f.mu.Lock()
	g := f.access[tok]
	now := f.now()
	f.mu.Unlock()
	switch {
	case tok == "" && r.Header.Get("Authorization") != "":
		a.Data.ErrorCode, a.Data.Description = 2190002, "access_token 缺失: this API reads the access-token header, not Authorization"
	case tok == "":
		a.Data.ErrorCode, a.Data.Description = 2190002, "access_token 缺失"
	case g == nil || !now.Before(g.expiry):
		a.Data.ErrorCode, a.Data.Description = 2190008, "access_token 已过期"
	default:
		a.Data.Header, a.Data.OpenID, a.Data.Client = "access-token", g.openID, g.client
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(a)
}
