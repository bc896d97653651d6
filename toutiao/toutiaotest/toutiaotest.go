// Package toutiaotest is a fake Toutiao open platform for tests, yours and
// ours. It runs on httptest and behaves as the real one does, quirks
// included: errors with HTTP 200, numbers as numbers or (SetStringNumbers)
// as strings, codes that work once for 10 minutes, refresh-token rotation
// (SetRotate), no renew call, and client tokens of which only the newest
// two stay valid. It is no kinder than Toutiao: its API at /api/ reads the
// token from the access-token header only and refuses "Authorization:
// Bearer" with error 2190002.
//
// Its authorization page approves at once and redirects with a code and
// the state, so a whole login runs without a browser:
//
//	fake := toutiaotest.NewServer()
//	defer fake.Close()
//	conf := fake.Config("http://127.0.0.1/callback", "user_info")
//	code, state, err := fake.Authorize(ctx, conf.AuthCodeURL("state"))
//	tok, err := conf.Exchange(ctx, code)
//
// Put fake.Client() in the context under oauth2.HTTPClient (any client
// reaching 127.0.0.1 works too).
package toutiaotest

import (
	"context"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x/internal/bytedancetest"
	"github.com/oauth2x/oauth2x/toutiao"
)

// Paths the fake serves, as Toutiao does. Toutiao has no renew call and no
// silent authorization page: those paths answer 404.
const (
	AuthPath              = "/oauth/authorize/"
	AccessTokenPath       = "/oauth/access_token/"
	RefreshTokenPath      = "/oauth/refresh_token/"
	ClientTokenPath       = "/oauth/client_token/"
	StableClientTokenPath = "/oauth/stable_client_token/"
	// APIPath is a stand-in for Toutiao's OpenAPI: it answers an [APIAnswer]
	// saying whose token the access-token header carried.
	APIPath = "/api/"
)

// Error codes the fake answers with, as Toutiao does.
const (
	CodeBadParam       = 10005
	CodeBadClient      = 10013
	CodeCodeDead       = 10007
	CodeRefreshExpired = 10010
	CodeSystemError    = 10001
	CodeTokenMissing   = 2190002
	CodeTokenExpired   = 2190008
)

// What the fake knows, and the lifetimes the platform documents.
const (
	DefaultClientKey    = "fake-client-key"
	DefaultClientSecret = "fake-client-secret"
	DefaultOpenID       = "fake-open-id"
	CodeTTL             = 10 * time.Minute
	AccessTTL           = 15 * 24 * time.Hour
	RefreshTTL          = 30 * 24 * time.Hour
	ClientTTL           = 2 * time.Hour
	// ClientGrace is how long a client token lives on once two newer
	// ones have been fetched.
	ClientGrace = 5 * time.Minute
)

// APIAnswer is what the fake API at [APIPath] answers, in the platform's
// envelope: ErrorCode 0 and the user's OpenID when the access-token header
// carried a live token ([CodeTokenMissing] when it carried none, Bearer
// included; [CodeTokenExpired] when dead).
type APIAnswer struct {
	Data struct {
		ErrorCode   int    `json:"error_code"`
		Description string `json:"description"`
		Header      string `json:"header"` // "access-token" when accepted
		OpenID      string `json:"open_id"`
		Client      bool   `json:"client"` // a client token, not a user's
	} `json:"data"`
}

// Server is a running fake Toutiao. Close it when done. Its methods are
// safe for concurrent use.
type Server struct {
	// URL is the fake's base URL, "http://127.0.0.1:port".
	URL string
	// ClientKey and ClientSecret are the app the fake knows:
	// DefaultClientKey and DefaultClientSecret. Read only.
	ClientKey, ClientSecret string
	// OpenID is the user every login signs in as: DefaultOpenID. Read only.
	OpenID string

	f *bytedancetest.Fake
}

// NewServer starts a fake Toutiao that knows one app and one user.
func NewServer() *Server {
	f := bytedancetest.NewSite("toutiao", AuthPath, bytedancetest.Site{})
	return &Server{URL: f.URL, ClientKey: f.ClientKey, ClientSecret: f.ClientSecret, OpenID: f.OpenID, f: f}
}

// Close shuts the fake down, waiting for its requests to finish.
func (s *Server) Close() { s.f.Close() }

// Client returns an HTTP client that reaches the fake. Put it in a
// context under oauth2.HTTPClient.
func (s *Server) Client() *http.Client { return s.f.Client() }

// Endpoint returns the fake's authorization page and token endpoint.
func (s *Server) Endpoint() oauth2.Endpoint {
	return oauth2.Endpoint{AuthURL: s.URL + AuthPath, TokenURL: s.URL + AccessTokenPath}
}

// Config returns a toutiao.Config for the fake's app.
func (s *Server) Config(redirectURL string, scopes ...string) *toutiao.Config {
	return &toutiao.Config{
		ClientKey:    s.ClientKey,
		ClientSecret: s.ClientSecret,
		RedirectURL:  redirectURL,
		Scopes:       scopes,
		Endpoint:     s.Endpoint(),
	}
}

// Authorize opens authURL (from Config.AuthCodeURL) as a browser would and
// returns the code and state the authorization page redirects back with,
// without following the redirect.
func (s *Server) Authorize(ctx context.Context, authURL string) (code, state string, err error) {
	return s.f.Authorize(ctx, authURL)
}

// IssueCode returns a fresh authorization code for the fake's user, as the
// authorization page would.
func (s *Server) IssueCode(scope string) string { return s.f.IssueCode(scope) }

// Revoke kills every token of the user, as revoking access in the Toutiao app does.
func (s *Server) Revoke(openID string) { s.f.Revoke(openID) }

// Calls returns how many requests reached path (one of the Path constants).
func (s *Server) Calls(path string) int { return s.f.Calls(path) }

// SecretsSeen returns how many requests to path carried client_secret.
func (s *Server) SecretsSeen(path string) int { return s.f.SecretsSeen(path) }

// SetHook sets a function called at the start of every request with its
// path, outside the fake's lock: a test can count calls or block in it to
// hold one. nil removes it.
func (s *Server) SetHook(hook func(path string)) { s.f.SetHook(hook) }

// FailNext makes the next call to path answer with a Toutiao error, as
// Toutiao sends them: HTTP 200,
// {"data":{"error_code":code,"description":desc},"message":"error"}.
func (s *Server) FailNext(path string, code int, desc string) { s.f.FailNext(path, code, desc) }

// RespondNext makes the next call to path answer status and body verbatim
// (Content-Type application/json).
func (s *Server) RespondNext(path string, status int, body string) {
	s.f.RespondNext(path, status, body)
}

// SetRotate makes refresh answers carry a new refresh token, killing the
// old one.
func (s *Server) SetRotate(on bool) { s.f.SetRotate(on) }

// SetStringNumbers selects the older edition of answers: every number,
// error_code included, as a string, and message "<nil>".
func (s *Server) SetStringNumbers(on bool) { s.f.SetStringNumbers(on) }

// SetNow sets the fake's clock; nil means time.Now.
func (s *Server) SetNow(now func() time.Time) { s.f.SetNow(now) }
