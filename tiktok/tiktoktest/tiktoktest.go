// Package tiktoktest is a fake TikTok (Login Kit v2) for tests, yours and
// ours. It runs on httptest and is at least as strict as TikTok: token
// calls must be form-encoded POSTs naming the client "client_key" with its
// client_secret (refresh included); a code works once, for its
// redirect_uri, and when it was issued with a code_challenge only with the
// code_verifier whose SHA-256 in lowercase hex it is; every refresh
// rotates the refresh token and the old one dies at once; access tokens
// live 2 hours and refresh tokens 180 days, both answered as the seconds
// they have left; errors are {"error","error_description","log_id"} with
// HTTP 200, as TikTok has been seen to answer them. Its user info reads
// the token only from "Authorization: Bearer", needs "fields" and answers
// only the fields the granted scopes allow.
//
// Its authorization page is HTML a person recognises (the app's name, the
// scopes, Authorize and Cancel buttons), shown to browsers and, with
// disable_auto_auth=1, to every client; [Server.Authorize] clicks
// Authorize on it as a browser would. Other clients are approved at once,
// as TikTok does for a valid session. Redirect URIs must be registered
// ([Server.Config], [Server.RegisterRedirect]).
//
//	fake := tiktoktest.NewServer()
//	defer fake.Close()
//	conf := fake.Config("https://app.example/callback", "user.info.basic")
//	code, _, err := fake.Authorize(ctx, conf.AuthCodeURL("state"))
//	tok, err := conf.Exchange(ctx, code)
package tiktoktest

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x/internal/oauthtest"
	"github.com/oauth2x/oauth2x/tiktok"
)

// Paths the fake serves, as TikTok does (the page and the API share the
// fake's one host).
const (
	AuthPath     = "/v2/auth/authorize/"
	TokenPath    = "/v2/oauth/token/"
	RevokePath   = tiktok.RevokePath
	UserInfoPath = tiktok.UserInfoPath
)

// Lifetimes, as TikTok's current documents give them, and what the fake
// knows.
const (
	CodeTTL          = 10 * time.Minute
	AccessTTL        = 2 * time.Hour
	RefreshTTL       = 180 * 24 * time.Hour
	ClientTTL        = 2 * time.Hour
	DefaultClientKey = "fake-tiktok-client-key"
	DefaultSecret    = "fake-tiktok-client-secret"
	DefaultApp       = "Fake TikTok App"
)

// Fields each scope allows in user info.
var scopeFields = map[string][]string{
	"user.info.basic":   {"open_id", "union_id", "avatar_url", "avatar_url_100", "avatar_large_url", "display_name"},
	"user.info.profile": {"bio_description", "profile_deep_link", "is_verified", "username"},
	"user.info.stats":   {"follower_count", "following_count", "likes_count", "video_count"},
}

// Server is a running fake TikTok. Close it when done. Its methods are
// safe for concurrent use.
type Server struct {
	// URL is the fake's base URL, such as "http://127.0.0.1:1234", with
	// the prefix given to NewServerAt.
	URL string

	srv *httptest.Server
	rec oauthtest.Recorder

	mu        sync.Mutex // guards everything below
	key       string
	secret    string
	app       string
	user      tiktok.User
	now       func() time.Time
	redirects map[string]bool
	seq       int
	codes     map[string]*grant
	access    map[string]*grant
	refresh   map[string]*grant
	errStatus int // status of token and revoke errors; 0: 200
}

type grant struct {
	scope, redirect, challenge string
	refreshExpiry              time.Time
	expiry                     time.Time
	used, client               bool
}

// avatar is the fake user's avatar, inline, so that a browser showing it
// makes no request beyond the loopback.
const avatar = "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHdpZHRoPSI5NiIgaGVpZ2h0PSI5NiI+PGNpcmNsZSBjeD0iNDgiIGN5PSI0OCIgcj0iNDgiIGZpbGw9IiMyNWY0ZWUiLz48dGV4dCB4PSI0OCIgeT0iNjAiIGZvbnQtc2l6ZT0iMzYiIHRleHQtYW5jaG9yPSJtaWRkbGUiIGZpbGw9IiNmZmYiIGZvbnQtZmFtaWx5PSJzYW5zLXNlcmlmIj5UVDwvdGV4dD48L3N2Zz4="

// NewServer starts a fake TikTok that knows one app (DefaultClientKey,
// DefaultSecret, named DefaultApp) and one user, whose profile
// [Server.User] returns.
func NewServer() *Server { return NewServerAt("") }

// NewServerAt is NewServer with every path served under prefix (such as
// "/tiktok", as behind a gateway): the fake's URL then ends in prefix, and
// a call that leaves the prefix out is not found.
func NewServerAt(prefix string) *Server {
	prefix = strings.TrimSuffix(prefix, "/")
	s := &Server{
		key: DefaultClientKey, secret: DefaultSecret, app: DefaultApp,
		user: tiktok.User{
			OpenID: "723f24d7-e717-40f8-a2b6-cb8464cd23b4", UnionID: "c9c60f44-a68e-4f5d-84dd-ce22faeb0ba1",
			DisplayName: "Tik Tester", Username: "tiktester",
			AvatarURL: avatar, AvatarURL100: "https://p16.tiktokcdn.example/avatar_100.jpeg",
			AvatarLargeURL: "https://p16.tiktokcdn.example/avatar_large.jpeg",
			BioDescription: "Testing logins", ProfileDeepLink: "https://vm.tiktok.example/tiktester", IsVerified: true,
			FollowerCount: 1200, FollowingCount: 34, LikesCount: 5600, VideoCount: 78,
		},
		now: time.Now, redirects: map[string]bool{},
		codes: map[string]*grant{}, access: map[string]*grant{}, refresh: map[string]*grant{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc(prefix+AuthPath, s.authorize)
	mux.HandleFunc(prefix+TokenPath, s.entry(TokenPath, s.token))
	mux.HandleFunc(prefix+RevokePath, s.entry(RevokePath, s.revoke))
	mux.HandleFunc(prefix+UserInfoPath, s.entry(UserInfoPath, s.userInfo))
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL + prefix
	return s
}

// Close shuts the fake down.
func (s *Server) Close() { s.srv.Close() }

// Client returns an HTTP client that reaches the fake.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Endpoint returns the fake's authorization page and token endpoint.
func (s *Server) Endpoint() oauth2.Endpoint {
	return oauth2.Endpoint{AuthURL: s.URL + AuthPath, TokenURL: s.URL + TokenPath}
}

// Config registers redirectURL for the fake's app and returns a
// tiktok.Config for it.
func (s *Server) Config(redirectURL string, scopes ...string) *tiktok.Config {
	s.mu.Lock()
	s.redirects[redirectURL] = true
	key, secret := s.key, s.secret
	s.mu.Unlock()
	return &tiktok.Config{ClientKey: key, ClientSecret: secret, RedirectURL: redirectURL, Scopes: scopes, Endpoint: s.Endpoint()}
}

// RegisterRedirect registers a redirect URI for the fake's app, as the
// developer portal does. A desktop app's URI may give its port as "*"
// (http://127.0.0.1:*/callback) to match any port on that host.
func (s *Server) RegisterRedirect(uri string) {
	s.mu.Lock()
	s.redirects[uri] = true
	s.mu.Unlock()
}

// registered reports whether uri matches a registered redirect URI.
func (s *Server) registered(uri string) bool {
	if s.redirects[uri] {
		return true
	}
	u, err := url.Parse(uri)
	if err != nil || u.Port() == "" || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost") {
		return false
	}
	u.Host = u.Hostname() + ":*"
	return s.redirects[u.String()]
}

// User returns the profile of the fake's user.
func (s *Server) User() tiktok.User { s.mu.Lock(); defer s.mu.Unlock(); return s.user }

// Authorize opens authURL as a person's browser does and clicks
// Authorize on the page, then returns the code and state TikTok redirects
// back with, without following the redirect.
func (s *Server) Authorize(ctx context.Context, authURL string) (code, state string, err error) {
	return oauthtest.Approve(ctx, s.Client(), authURL)
}

// IssueCode returns a fresh authorization code for redirectURL and scope
// (comma-separated), as approving the authorization page would, without
// a code challenge.
func (s *Server) IssueCode(redirectURL, scope string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newCode(&grant{scope: scope, redirect: redirectURL})
}

func (s *Server) newCode(g *grant) string {
	code := s.mint("code*v2!") // real codes carry characters that must be escaped
	g.expiry = s.now().Add(CodeTTL)
	s.codes[code] = g
	return code
}

// Calls returns how many requests reached path.
func (s *Server) Calls(path string) int { return s.rec.Calls(path) }

// SetHook sets a function called at the start of every request with its
// path, outside the fake's lock; a test may block in it to hold a call.
func (s *Server) SetHook(h func(path string)) { s.rec.SetHook(h) }

// RespondNext makes the next call to path answer status and body verbatim.
func (s *Server) RespondNext(path string, status int, body string) {
	s.rec.RespondNext(path, status, body)
}

// SetNow sets the fake's clock.
func (s *Server) SetNow(now func() time.Time) { s.mu.Lock(); s.now = now; s.mu.Unlock() }

// Revoke ends the user's grant as removing the app in TikTok does: every
// token dies.
func (s *Server) Revoke() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revokeLocked()
}

func (s *Server) revokeLocked() {
	oauthtest.DeleteWhere(func(g *grant) bool { return !g.client }, s.access, s.refresh)
}

func (s *Server) mint(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s.tiktok%06d", prefix, s.seq)
}

func (s *Server) logID() string {
	s.seq++
	return fmt.Sprintf("20261130%012dTIKTOK", s.seq)
}

// authorize is the authorization page: HTML with the app, the scopes and
// the buttons; the Authorize button's POST redirects with a code.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	s.rec.CountCall(AuthPath)
	if oauthtest.TakeConsent(w, r) {
		return
	}
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	redirect := q.Get("redirect_uri")
	switch {
	case q.Get("client_key") != s.key:
		http.Error(w, "client_key unknown", http.StatusBadRequest)
		return
	case q.Get("response_type") != "code":
		http.Error(w, "response_type must be code", http.StatusBadRequest)
		return
	case !s.registered(redirect):
		http.Error(w, "redirect_uri is not registered for this app", http.StatusBadRequest)
		return
	case q.Get("scope") == "" || strings.Contains(q.Get("scope"), " "):
		http.Error(w, "scope must be a comma-separated list", http.StatusBadRequest)
		return
	case q.Has("code_challenge") && q.Get("code_challenge_method") != "S256":
		http.Error(w, "code_challenge_method must be S256", http.StatusBadRequest)
		return
	}
	// A browser gets the consent page; so does every client when
	// disable_auto_auth=1. Otherwise the user counts as having a valid
	// session and is approved at once, as disable_auto_auth=0 allows.
	if oauthtest.ShowConsent(w, r, "TikTok", s.app, q.Get("disable_auto_auth") == "1") {
		return
	}
	code := s.newCode(&grant{scope: q.Get("scope"), redirect: redirect, challenge: q.Get("code_challenge")})
	back := url.Values{"code": {code}, "scopes": {q.Get("scope")}}
	if st := q.Get("state"); st != "" {
		back.Set("state", st)
	}
	http.Redirect(w, r, redirect+"?"+back.Encode(), http.StatusFound)
}

// failure is an OAuth error answer.
type failure struct{ code, desc string }

// form reads a token call's parameters: a form-encoded POST, nothing else.
func form(r *http.Request) (url.Values, *failure) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if r.Method != http.MethodPost || ct != "application/x-www-form-urlencoded" {
		return nil, &failure{"invalid_request", "The request must be a POST with Content-Type application/x-www-form-urlencoded."}
	}
	if err := r.ParseForm(); err != nil {
		return nil, &failure{"invalid_request", "The request parameters are malformed."}
	}
	if len(r.URL.RawQuery) > 0 {
		return nil, &failure{"invalid_request", "Parameters go in the body, not the URL."}
	}
	return r.PostForm, nil
}

// entry counts a call to path, answers a queued answer if there is one,
// and otherwise runs h holding the fake's lock.
func (s *Server) entry(path string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.rec.CountCall(path)
		if c, ok := s.rec.TakeAnswer(path); ok {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(cmp.Or(c.Status, http.StatusOK))
			io.WriteString(w, c.Body)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		h(w, r)
	}
}

func (s *Server) write(w http.ResponseWriter, status int, v map[string]any, f *failure) {
	if f != nil {
		v = map[string]any{"error": f.code, "error_description": f.desc}
		if s.errStatus != 0 {
			status = s.errStatus
		}
	}
	v["log_id"] = s.logID()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// oauthCall reads an OAuth call's parameters and checks its client_key
// and client_secret.
func (s *Server) oauthCall(r *http.Request) (url.Values, *failure) {
	p, f := form(r)
	switch {
	case f != nil:
		return nil, f
	case p.Has("client_id") && !p.Has("client_key"):
		return nil, &failure{"invalid_request", "client_key is missing: TikTok does not read client_id."}
	case p.Get("client_key") != s.key:
		return nil, &failure{"invalid_client", "Client key is invalid."}
	case p.Get("client_secret") != s.secret:
		return nil, &failure{"invalid_client", "Client secret is invalid."}
	}
	return p, nil
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	p, f := s.oauthCall(r)
	var v map[string]any
	if f == nil {
		switch p.Get("grant_type") {
		case "authorization_code":
			v, f = s.exchange(p)
		case "refresh_token":
			v, f = s.refreshToken(p)
		case "client_credentials":
			tok := s.mint("clt")
			s.access[tok] = &grant{client: true, expiry: s.now().Add(ClientTTL)}
			v = map[string]any{"access_token": tok, "expires_in": int64(ClientTTL / time.Second), "token_type": "Bearer"}
		default:
			f = &failure{"unsupported_grant_type", "The grant type is not supported."}
		}
	}
	s.write(w, http.StatusOK, v, f)
}

// SetErrorStatus sets the HTTP status of the token and revoke endpoints'
// error answers. TikTok's documents show errors with HTTP 200, which is
// the default; its servers have been seen answering 400 and 401 too.
func (s *Server) SetErrorStatus(status int) { s.mu.Lock(); s.errStatus = status; s.mu.Unlock() }

func (s *Server) exchange(p url.Values) (map[string]any, *failure) {
	g := s.codes[p.Get("code")]
	switch {
	case g == nil || g.used || !s.now().Before(g.expiry):
		return nil, &failure{"invalid_grant", "Authorization code is expired or has been used."}
	case p.Get("redirect_uri") != g.redirect:
		return nil, &failure{"invalid_request", "Redirect_uri is not matched with the uri when requesting code."}
	case g.challenge != "" && hexS256(p.Get("code_verifier")) != g.challenge,
		g.challenge == "" && p.Has("code_verifier"):
		return nil, &failure{"invalid_request", "Code verifier or code challenge is invalid."}
	}
	g.used = true
	now := s.now()
	return s.issue(&grant{scope: g.scope, refreshExpiry: now.Add(RefreshTTL)}, now), nil
}

func hexS256(verifier string) string {
	if verifier == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(verifier))
	return hex.EncodeToString(sum[:])
}

// issue mints an access token and a new refresh token for g; the refresh
// token keeps g's expiry, answered as the seconds left.
func (s *Server) issue(g *grant, now time.Time) map[string]any {
	act, rft := s.mint("act"), s.mint("rft")
	s.access[act] = &grant{scope: g.scope, expiry: now.Add(AccessTTL)}
	s.refresh[rft] = g
	return map[string]any{
		"access_token": act, "expires_in": int64(AccessTTL / time.Second), "open_id": s.user.OpenID,
		"refresh_token": rft, "refresh_expires_in": int64(g.refreshExpiry.Sub(now) / time.Second),
		"scope": g.scope, "token_type": "Bearer",
	}
}

func (s *Server) refreshToken(p url.Values) (map[string]any, *failure) {
	rt := p.Get("refresh_token")
	g := s.refresh[rt]
	now := s.now()
	if g == nil || !now.Before(g.refreshExpiry) {
		return nil, &failure{"invalid_grant", "Refresh token is invalid or expired."}
	}
	delete(s.refresh, rt) // rotated: the old one dies at once
	return s.issue(g, now), nil
}

func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	p, f := s.oauthCall(r)
	if f == nil && s.access[p.Get("token")] == nil {
		f = &failure{"invalid_request", "The request parameters are malformed."}
	}
	if f != nil {
		s.write(w, http.StatusOK, nil, f)
		return
	}
	if g := s.access[p.Get("token")]; g.client {
		delete(s.access, p.Get("token")) // an app's token: the users' grants live on
	} else {
		s.revokeLocked()
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, "{}")
}

// userInfo is GET /v2/user/info/?fields=…: the token only in
// "Authorization: Bearer", fields required, each allowed by a granted scope.
func (s *Server) userInfo(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, code, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg, "log_id": s.logID()}})
	}
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	g := s.access[tok]
	fields := strings.Split(r.URL.Query().Get("fields"), ",")
	switch {
	case r.Method != http.MethodGet:
		fail(http.StatusMethodNotAllowed, "invalid_params", "Use GET.")
		return
	case r.URL.Query().Has("access_token"):
		fail(http.StatusBadRequest, "invalid_params", "The access token goes in the Authorization header.")
		return
	case g == nil || g.client || !s.now().Before(g.expiry):
		fail(http.StatusUnauthorized, "access_token_invalid", "Access token is invalid, please refresh token and retry")
		return
	case r.URL.Query().Get("fields") == "":
		fail(http.StatusBadRequest, "invalid_params", "fields is required.")
		return
	}
	granted := strings.Split(g.scope, ",")
	all, _ := json.Marshal(map[string]any{
		"open_id": s.user.OpenID, "union_id": s.user.UnionID, "avatar_url": s.user.AvatarURL,
		"avatar_url_100": s.user.AvatarURL100, "avatar_large_url": s.user.AvatarLargeURL, "display_name": s.user.DisplayName,
		"bio_description": s.user.BioDescription, "profile_deep_link": s.user.ProfileDeepLink, "is_verified": s.user.IsVerified,
		"username": s.user.Username, "follower_count": s.user.FollowerCount, "following_count": s.user.FollowingCount,
		"likes_count": s.user.LikesCount, "video_count": s.user.VideoCount,
	})
	var values map[string]any
	json.Unmarshal(all, &values)
	user := map[string]any{}
	for _, f := range fields {
		scope := ""
		for sc, fs := range scopeFields {
			if slices.Contains(fs, f) {
				scope = sc
			}
		}
		switch {
		case scope == "":
			fail(http.StatusBadRequest, "invalid_params", "Unknown field "+f+".")
			return
		case !slices.Contains(granted, scope):
			fail(http.StatusBadRequest, "scope_permission_missed", "Field "+f+" needs scope "+scope+".")
			return
		}
		user[f] = values[f]
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"user": user},
		"error": map[string]string{"code": "ok", "message": "", "log_id": s.logID()}})
}
