// Package douyintest is a fake Douyin open platform for tests, yours and
// ours. It runs on httptest and behaves as the real one does: errors with
// HTTP 200, numbers as numbers or (SetStringNumbers) as strings, codes that
// work once for 10 minutes, refresh-token rotation (SetRotate), renewals
// that kill the old refresh token and stop after five, and client tokens of
// which only the newest two stay valid. Its authorization page approves at
// once and redirects with a code and the state, so a whole login runs
// without a browser; its API at /api/ reports which token it was sent.
//
//	fake := douyintest.NewServer()
//	defer fake.Close()
//	conf := fake.Config("http://127.0.0.1/callback", "user_info")
//	tok, err := conf.Exchange(ctx, fake.IssueCode("user_info"))
package douyintest

import (
	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x/bytedancetest"
	"github.com/oauth2x/oauth2x/douyin"
)

// Paths the fake serves, as Douyin does.
const (
	AuthPath              = "/platform/oauth/connect/"
	SilentAuthPath        = bytedancetest.SilentAuthPath
	AccessTokenPath       = "/oauth/access_token/"
	RefreshTokenPath      = "/oauth/refresh_token/"
	RenewRefreshTokenPath = "/oauth/renew_refresh_token/"
	ClientTokenPath       = "/oauth/client_token/"
	StableClientTokenPath = "/oauth/stable_client_token/"
	APIPath               = bytedancetest.APIPath
)

// Error codes the fake answers with, as Douyin does.
const (
	CodeBadParam       = 10005
	CodeBadClient      = 10013
	CodeCodeDead       = 10007
	CodeRefreshExpired = 10010
	CodeRenewLimit     = 10020
	CodeSystemError    = 10001
	CodeTokenExpired   = 2190008
)

// Server is a running fake Douyin. Close it when done. Its methods are
// safe for concurrent use. The embedded fake's methods (FailNext,
// RespondNext, Calls, SetRotate, SetStringNumbers, SetNow, SetHook,
// IssueCode, Revoke, SecretsSeen) inject errors, count calls and steer time.
type Server struct {
	*bytedancetest.Fake
}

// NewServer starts a fake Douyin that knows one app
// (bytedancetest.DefaultKey / DefaultSecret) and one user.
func NewServer() *Server {
	return &Server{bytedancetest.New("douyin", AuthPath)}
}

// Endpoint returns the fake's authorization page and token endpoint.
func (s *Server) Endpoint() oauth2.Endpoint {
	return oauth2.Endpoint{AuthURL: s.URL + AuthPath, TokenURL: s.URL + AccessTokenPath}
}

// Config returns a douyin.Config for the fake's app.
func (s *Server) Config(redirectURL string, scopes ...string) *douyin.Config {
	return &douyin.Config{
		ClientKey:    s.ClientKey,
		ClientSecret: s.ClientSecret,
		RedirectURL:  redirectURL,
		Scopes:       scopes,
		Endpoint:     s.Endpoint(),
	}
}
