// Package fantemtest is a fake Fantem gateway for tests, yours and ours. It
// runs on httptest and behaves as the real one does: its token endpoint
// reads only multipart/form-data (anything else gets HTTP 400), codes work
// once for 10 minutes (and, when the authorization page got a PKCE
// code_challenge, only with the matching code_verifier), refresh answers
// carry no refresh token (the old one stays valid), expires_in is a number or (SetStringExpiresIn) a string,
// no token_type is sent, and errors are HTTP 400 with a JSON
// {"error":…} body or (SetPlainErrors) plain text. Its authorization page
// approves at once and redirects with a code and the state, so a whole
// login runs without a browser; its API at /api/ reports whose bearer
// token it was sent.
//
//	fake := fantemtest.NewServer()
//	defer fake.Close()
//	conf := fake.Config("https://app.example/callback")
//	tok, err := conf.Exchange(ctx, fake.IssueCode(""))
package fantemtest

import (
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
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

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x/fantem"
	"github.com/oauth2x/oauth2x/internal/oauthtest"
)

// Paths the fake serves, as the gateway does.
const (
	AuthPath  = fantem.AuthPath
	TokenPath = fantem.TokenPath
	APIPath   = "/api/"
)

// What the fake knows and how long things live.
const (
	CodeTTL         = 10 * time.Minute
	AccessTTL       = 36000 * time.Second
	DefaultClientID = "fake-fantem-client"
	DefaultUser     = "fake-fantem-user"
)

// Server is a running fake gateway. Close it when done. Its fields may be
// set before the first request; its methods are safe for concurrent use.
type Server struct {
	// URL is the fake's base URL, "http://127.0.0.1:port".
	URL string
	// ClientID is the client the gateway knows.
	ClientID string
	// ClientSecret, when set, must come with every token call; the real
	// gateway documents none, and neither does the fake by default.
	ClientSecret string
	// User is whom every login signs in as.
	User string

	srv *httptest.Server
	rec oauthtest.Recorder // calls, secrets seen, the hook, queued answers

	mu            sync.Mutex // guards everything below
	now           func() time.Time
	stringExpires bool
	plainErrors   bool
	seq           int
	codes         map[string]*grant
	access        map[string]*grant
	refresh       map[string]*grant
}

type grant struct {
	user, scope, redirect string
	challenge, method     string    // PKCE code_challenge and its method, when the page got one
	expiry                time.Time // zero: never
	used                  bool
}

// NewServer starts a fake gateway that knows one public client
// (DefaultClientID, no secret) and one user (DefaultUser).
func NewServer() *Server {
	s := &Server{
		ClientID: DefaultClientID,
		User:     DefaultUser,
		now:      time.Now,
		codes:    map[string]*grant{},
		access:   map[string]*grant{},
		refresh:  map[string]*grant{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc(AuthPath, s.authorize)
	mux.HandleFunc(TokenPath, s.token)
	mux.HandleFunc(APIPath, s.api)
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	return s
}

// Close shuts the fake down, waiting for its requests to finish.
func (s *Server) Close() { s.srv.Close() }

// Client returns an HTTP client that reaches the fake. Put it in a
// context under oauth2.HTTPClient.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Calls returns how many requests reached path (AuthPath, TokenPath or APIPath).
func (s *Server) Calls(path string) int { return s.rec.Calls(path) }

// SecretsSeen returns how many requests to path carried client_secret.
func (s *Server) SecretsSeen(path string) int { return s.rec.SecretsSeen(path) }

// SetHook sets a function called at the start of every request with its
// path, outside the fake's lock: a test can count calls or block in it to
// hold one. nil removes it.
func (s *Server) SetHook(hook func(path string)) { s.rec.SetHook(hook) }

// RespondNext makes the next call to path answer status and body
// verbatim; the content type follows the body: JSON, HTML or plain text.
func (s *Server) RespondNext(path string, status int, body string) {
	s.rec.RespondNext(path, status, body)
}

// Endpoint returns the fake's authorization page and token endpoint.
func (s *Server) Endpoint() oauth2.Endpoint {
	return oauth2.Endpoint{AuthURL: s.URL + AuthPath, TokenURL: s.URL + TokenPath}
}

// Config returns a fantem.Config for the fake's client.
func (s *Server) Config(redirectURL string, scopes ...string) *fantem.Config {
	return &fantem.Config{
		ClientID:     s.ClientID,
		ClientSecret: s.ClientSecret,
		RedirectURL:  redirectURL,
		Scopes:       scopes,
		Endpoint:     s.Endpoint(),
	}
}

// Authorize opens authURL as a browser would and returns the code and
// state the authorization page redirects back with, without following the
// redirect.
func (s *Server) Authorize(ctx context.Context, authURL string) (code, state string, err error) {
	return oauthtest.Authorize(ctx, s.srv.Client(), authURL)
}

// SetNow sets the fake's clock; nil means time.Now.
func (s *Server) SetNow(now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	s.mu.Lock()
	s.now = now
	s.mu.Unlock()
}

// SetStringExpiresIn makes answers send expires_in as a string ("36000"),
// as the gateway's documents describe it.
func (s *Server) SetStringExpiresIn(on bool) { s.mu.Lock(); s.stringExpires = on; s.mu.Unlock() }

// SetPlainErrors makes errors come as plain text instead of JSON.
func (s *Server) SetPlainErrors(on bool) { s.mu.Lock(); s.plainErrors = on; s.mu.Unlock() }

// Revoke kills every token of user, as unlinking the account does.
func (s *Server) Revoke(user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	oauthtest.DeleteWhere(func(g *grant) bool { return g.user == user }, s.access, s.refresh)
}

// IssueCode returns a fresh authorization code for the fake's user, as the
// authorization page would, bound to no redirect_uri.
func (s *Server) IssueCode(scope string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newCode(scope, "")
}

func (s *Server) newCode(scope, redirect string) string {
	code := s.mint("C0DE", 28)
	s.codes[code] = &grant{user: s.User, scope: scope, redirect: redirect, expiry: s.now().Add(CodeTTL)}
	return code
}

// mint makes a deterministic value that looks like the gateway's: 32
// upper-case hex digits, tagged by kind.
func (s *Server) mint(tag string, width int) string {
	s.seq++
	return fmt.Sprintf("%s%0*X", tag, width, s.seq)
}

// authorize is the authorization page: it approves at once and redirects
// to redirect_uri with a code and the state.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	s.rec.CountCall(AuthPath)
	if oauthtest.TakeConsent(w, r) {
		return
	}
	q := r.URL.Query()
	u, err := url.Parse(q.Get("redirect_uri"))
	switch {
	case q.Get("client_id") != s.ClientID:
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	case q.Get("response_type") != "code":
		http.Error(w, "response_type must be code", http.StatusBadRequest)
		return
	case err != nil || (u.Scheme != "http" && u.Scheme != "https"):
		http.Error(w, "illegal redirect_uri", http.StatusBadRequest)
		return
	}
	method := q.Get("code_challenge_method")
	if q.Get("code_challenge") != "" && method != "S256" && method != "plain" && method != "" {
		http.Error(w, "unsupported code_challenge_method", http.StatusBadRequest)
		return
	}
	if oauthtest.ShowConsent(w, r, "Fantem", "App "+s.ClientID, false) {
		return // a browser gets the page a person sees; other clients, the approval
	}
	s.mu.Lock()
	code := s.newCode(q.Get("scope"), q.Get("redirect_uri"))
	if g := s.codes[code]; q.Get("code_challenge") != "" {
		g.challenge, g.method = q.Get("code_challenge"), cmp.Or(method, "plain")
	}
	s.mu.Unlock()
	back := u.Query()
	back.Set("code", code)
	if st := q.Get("state"); st != "" {
		back.Set("state", st)
	}
	u.RawQuery = back.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// failure is an error answer: HTTP 400 and an RFC 6749 code.
type failure struct{ code, desc string }

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	s.rec.CountCall(TokenPath)
	p, perr := multipartParams(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.Has("client_secret") {
		s.rec.CountSecret(TokenPath)
	}
	if c, ok := s.rec.TakeAnswer(TokenPath); ok {
		ct := "text/plain; charset=utf-8"
		switch b := strings.TrimSpace(c.Body); {
		case strings.HasPrefix(b, "{"):
			ct = "application/json"
		case strings.HasPrefix(b, "<"):
			ct = "text/html; charset=utf-8"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(cmp.Or(c.Status, http.StatusOK))
		io.WriteString(w, c.Body)
		return
	}
	var answer map[string]any
	var f *failure
	switch {
	case r.Method != http.MethodPost:
		f = &failure{"invalid_request", "token requests must be POST"}
	case perr != nil:
		f = &failure{"invalid_request", perr.Error()}
	case p.Get("client_id") == "":
		f = &failure{"invalid_request", "client_id missing"}
	case p.Get("client_id") != s.ClientID:
		f = &failure{"invalid_client", "unknown client"}
	case s.ClientSecret != "" && p.Get("client_secret") != s.ClientSecret:
		f = &failure{"invalid_client", "client authentication failed"}
	default:
		switch p.Get("grant_type") {
		case "authorization_code":
			answer, f = s.exchange(p)
		case "refresh_token":
			answer, f = s.refreshToken(p)
		default:
			f = &failure{"unsupported_grant_type", "grant_type must be authorization_code or refresh_token"}
		}
	}
	if f != nil {
		w.Header().Set("Cache-Control", "no-store")
		if s.plainErrors {
			http.Error(w, "Bad Request: "+f.desc, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"error": f.code, "error_description": f.desc})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(answer)
}

// multipartParams reads a multipart/form-data body; any other encoding is
// refused, as the gateway refuses it.
func multipartParams(r *http.Request) (url.Values, error) {
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "multipart/form-data" {
		return url.Values{}, fmt.Errorf("content type %q not supported: send multipart/form-data", ct)
	}
	if err := r.ParseMultipartForm(1 << 16); err != nil {
		return url.Values{}, fmt.Errorf("malformed multipart body")
	}
	return url.Values(r.MultipartForm.Value), nil
}

func (s *Server) exchange(p url.Values) (map[string]any, *failure) {
	code := p.Get("code")
	if code == "" {
		return nil, &failure{"invalid_request", "code missing"}
	}
	g := s.codes[code]
	switch {
	case g == nil || g.used || !s.now().Before(g.expiry):
		return nil, &failure{"invalid_grant", "authorization code unknown, expired or used"}
	case g.redirect != "" && p.Get("redirect_uri") != g.redirect:
		return nil, &failure{"invalid_grant", "redirect_uri does not match"}
	case g.challenge != "" && p.Get("code_verifier") == "":
		return nil, &failure{"invalid_request", "code_verifier missing"}
	case g.challenge != "" && !verifies(g.method, g.challenge, p.Get("code_verifier")):
		return nil, &failure{"invalid_grant", "code_verifier does not match the code_challenge"}
	}
	g.used = true
	act, rft := s.mint("ACCE55", 26), s.mint("12EF12E5", 24)
	s.access[act] = &grant{user: g.user, scope: g.scope, expiry: s.now().Add(AccessTTL)}
	s.refresh[rft] = &grant{user: g.user, scope: g.scope}
	return map[string]any{"access_token": act, "refresh_token": rft, "expires_in": s.expiresIn()}, nil
}

// verifies reports whether verifier matches the PKCE challenge (RFC 7636
// section 4.6).
func verifies(method, challenge, verifier string) bool {
	if method == "plain" {
		return subtle.ConstantTimeCompare([]byte(verifier), []byte(challenge)) == 1
	}
	sum := sha256.Sum256([]byte(verifier))
	return subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) == 1
}

func (s *Server) refreshToken(p url.Values) (map[string]any, *failure) {
	rt := p.Get("refresh_token")
	if rt == "" {
		return nil, &failure{"invalid_request", "refresh_token missing"}
	}
	g := s.refresh[rt]
	if g == nil {
		return nil, &failure{"invalid_grant", "refresh token unknown"}
	}
	act := s.mint("ACCE55", 26)
	s.access[act] = &grant{user: g.user, scope: g.scope, expiry: s.now().Add(AccessTTL)}
	// No refresh_token: the old one stays in use.
	return map[string]any{"access_token": act, "expires_in": s.expiresIn()}, nil
}

func (s *Server) expiresIn() any {
	n := int64(AccessTTL / time.Second)
	if s.stringExpires {
		return strconv.FormatInt(n, 10)
	}
	return n
}

// APIAnswer is what the fake API at /api/ answers: whose bearer token it
// was sent, or an error.
type APIAnswer struct {
	User  string `json:"user,omitempty"`
	Scope string `json:"scope,omitempty"`
	Error string `json:"error,omitempty"`
}

func (s *Server) api(w http.ResponseWriter, r *http.Request) {
	s.rec.CountCall(APIPath)
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	g := s.access[tok]
	live := g != nil && s.now().Before(g.expiry)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	var a APIAnswer
	if live {
		a.User, a.Scope = g.user, g.scope
	} else {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
		a.Error = "invalid_token"
	}
	json.NewEncoder(w).Encode(a)
}
