// Package tiktok signs users in with TikTok (Login Kit v2,
// open.tiktokapis.com) and calls its APIs, using the types of
// golang.org/x/oauth2.
//
// TikTok names the client "client_key", joins scopes with commas, wants
// the client secret on refresh, reads a hex S256 code challenge from
// desktop and mobile apps, may answer errors with HTTP 200, and rotates
// refresh tokens: the previous one dies once a new one is issued. [Config]
// speaks that and has the methods of *oauth2.Config; [Bridge] lets a plain
// *oauth2.Config talk to TikTok. Package tiktoktest is a fake TikTok.
//
// Documentation: https://developers.tiktok.com/doc/oauth-user-access-token-management
package tiktok

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/internal/bridge"
	"github.com/oauth2x/oauth2x/internal/bytedance"
	"github.com/oauth2x/oauth2x/internal/wire"
)

// Endpoint is TikTok's production authorization page and token endpoint.
var Endpoint = oauth2.Endpoint{
	AuthURL:  "https://www.tiktok.com/v2/auth/authorize/",
	TokenURL: "https://open.tiktokapis.com/v2/oauth/token/",
}

// Paths of the revoke and user-info calls on the token host.
const (
	RevokePath   = "/v2/oauth/revoke/"
	UserInfoPath = "/v2/user/info/"
)

var platform = &bytedance.Platform{Name: "tiktok", Endpoint: Endpoint}

// Config describes a TikTok app. Its methods have the signatures of
// *oauth2.Config's. A Config is safe for concurrent use as long as it is
// not modified.
type Config struct {
	// ClientKey is the app's client_key. Required.
	ClientKey string
	// ClientSecret is the app's client_secret. Required: every token call
	// sends it, refresh included.
	ClientSecret string
	// RedirectURL is a registered redirect_uri. Required: the code is
	// bound to it.
	RedirectURL string
	// Scopes are the permissions asked for ("user.info.basic"), sent
	// comma-separated.
	Scopes []string
	// Endpoint overrides the production URLs (a sandbox, a fake); the zero
	// value means [Endpoint]. Revoke and user info go to their paths on
	// the scheme and host of Endpoint.TokenURL.
	Endpoint oauth2.Endpoint
}

func (c *Config) app() *bytedance.App { return (*bytedance.App)(c) }

// AuthCodeURL returns the URL of TikTok's authorization page. With a
// code_challenge (see [HexS256ChallengeOption]) it adds
// code_challenge_method=S256, the only method TikTok has.
func (c *Config) AuthCodeURL(state string, opts ...oauth2.AuthCodeOption) string {
	has := map[string]bool{}
	for _, p := range wire.OptionParams(opts) {
		has[p.Key] = true
	}
	if has["code_challenge"] && !has["code_challenge_method"] {
		opts = append(opts, oauth2.SetAuthURLParam("code_challenge_method", "S256"))
	}
	return platform.AuthCodeURL(c.app(), "", state, c.Scopes, opts...)
}

// HexS256ChallengeOption derives the code challenge TikTok's desktop and
// mobile flows read: the lowercase hex of SHA-256 of verifier, not RFC
// 7636's base64url. Make verifier with oauth2.GenerateVerifier, pass this
// option to [Config.AuthCodeURL] (which adds code_challenge_method=S256)
// and oauth2.VerifierOption(verifier) to [Config.Exchange].
func HexS256ChallengeOption(verifier string) oauth2.AuthCodeOption {
	sum := sha256.Sum256([]byte(verifier))
	return oauth2.SetAuthURLParam("code_challenge", hex.EncodeToString(sum[:]))
}

// request is a form-encoded call to path on the token host ("" for the
// token URL itself), with the app's credentials after ps.
func (c *Config) request(op, path string, ps []wire.Param, secrets ...string) *wire.Request {
	url := platform.TokenURL(c.app())
	if path != "" {
		url = platform.URL(c.app(), path)
	}
	return &wire.Request{Provider: "tiktok", Op: op, URL: url, Encoding: wire.Form,
		Params:  append(ps, wire.Param{Key: "client_key", Value: c.ClientKey}, wire.Param{Key: "client_secret", Value: c.ClientSecret}),
		Secrets: append(secrets, c.ClientSecret)}
}

// Exchange trades an authorization code for a token. The token's Extra
// holds "open_id", "scope", "refresh_expires_in" and "log_id"; the
// refresh token's expiry is computed from the answer (see
// [oauth2x.RefreshExpiry]). Desktop and mobile apps pass
// oauth2.VerifierOption.
func (c *Config) Exchange(ctx context.Context, code string, opts ...oauth2.AuthCodeOption) (*oauth2.Token, error) {
	ps := wire.WithOptions([]wire.Param{{Key: "grant_type", Value: "authorization_code"}, {Key: "code", Value: code}, {Key: "redirect_uri", Value: c.RedirectURL}}, opts)
	return wire.Do(ctx, c.request("exchange", "", ps, code), wire.DecodeFlatAt(wire.Clock(ctx), nil))
}

// Refresh trades t's refresh token for a new token. TikTok rotates
// refresh tokens and the old one dies at once: keep the returned token in
// place of t (a token source from [oauth2x.NewTokenSource] does).
func (c *Config) Refresh(ctx context.Context, t *oauth2.Token) (*oauth2.Token, error) {
	if t == nil || t.RefreshToken == "" {
		return nil, &wire.Error{Provider: "tiktok", Op: "refresh", Kind: wire.ErrInvalidGrant, Cause: errNoRefreshToken}
	}
	ps := []wire.Param{{Key: "grant_type", Value: "refresh_token"}, {Key: "refresh_token", Value: t.RefreshToken}}
	return wire.Do(ctx, c.request("refresh", "", ps, t.RefreshToken, t.AccessToken), wire.DecodeFlatAt(wire.Clock(ctx), t))
}

var errNoRefreshToken = errors.New("token has no refresh token")

// TokenSource returns a token source that serves t and refreshes it,
// keeping each rotated refresh token, built on [oauth2x.NewTokenSource]
// with no store. To persist tokens, call oauth2x.NewTokenSource with a
// Store instead.
func (c *Config) TokenSource(ctx context.Context, t *oauth2.Token) oauth2.TokenSource {
	return oauth2x.NewTokenSource(ctx, c, t, nil)
}

// Client returns an HTTP client that sends t's access token as
// "Authorization: Bearer", as TikTok's APIs read it, refreshing as needed.
// Its transport is the one of the client under oauth2.HTTPClient in ctx.
func (c *Config) Client(ctx context.Context, t *oauth2.Token) *http.Client {
	return &http.Client{Transport: &wire.HeaderTransport{Source: c.TokenSource(ctx, t), Base: wire.ContextClient(ctx).Transport, Header: "Authorization", Scheme: "Bearer"}}
}

// ClientToken fetches an app-level token (grant client_credentials, 2
// hours), which only TikTok's Research and Commercial Content APIs take.
func (c *Config) ClientToken(ctx context.Context) (*oauth2.Token, error) {
	ps := []wire.Param{{Key: "grant_type", Value: "client_credentials"}}
	return wire.Do(ctx, c.request("client token", "", ps), wire.DecodeFlatAt(wire.Clock(ctx), nil))
}

// ClientTokenSource returns a token source of app-level tokens that
// fetches a new one as the current one nears expiry.
func (c *Config) ClientTokenSource(ctx context.Context) oauth2.TokenSource {
	return oauth2x.NewTokenSource(ctx, oauth2x.RefresherFunc(func(ctx context.Context, _ *oauth2.Token) (*oauth2.Token, error) {
		return c.ClientToken(ctx)
	}), nil, nil)
}

// Revoke revokes t's access token; the user's grant to the app ends.
func (c *Config) Revoke(ctx context.Context, t *oauth2.Token) error {
	if t == nil {
		t = &oauth2.Token{}
	}
	r := c.request("revoke", RevokePath, []wire.Param{{Key: "token", Value: t.AccessToken}}, t.AccessToken, t.RefreshToken)
	return wire.Call(ctx, r, wire.DecodeAck)
}

// UserInfo fetches fields (such as "open_id", "union_id", "avatar_url",
// "display_name"; each scope allows some) of t's user; none means open_id,
// union_id, avatar_url and display_name. The token travels in the
// Authorization header, never in the URL. If TikTok says the access token
// is invalid and t has a refresh token, UserInfo refreshes once and asks
// again; the User's Token then holds the new token, which replaces t (the
// old refresh token is dead). If the second call fails too, the User is not
// nil and holds only that Token.
func (c *Config) UserInfo(ctx context.Context, t *oauth2.Token, fields ...string) (*User, error) {
	if len(fields) == 0 {
		fields = []string{"open_id", "union_id", "avatar_url", "display_name"}
	}
	if t == nil {
		t = &oauth2.Token{}
	}
	u, err := bytedance.TikTokUserInfo(ctx, platform.URL(c.app(), UserInfoPath), t, fields, c.Refresh, c.ClientSecret)
	return (*User)(u), err
}

// OpenID returns the open_id the token answer carried: the user's id for
// this app.
func OpenID(t *oauth2.Token) string { return bytedance.OpenID(t) }

// Bridge returns an *http.Client that lets a program keep its plain
// *oauth2.Config (or clientcredentials.Config) and talk to TikTok. Put it
// in the context under oauth2.HTTPClient: x/oauth2's token requests to
// e.TokenURL are answered by a [Config] with the client id and secret they
// carry, as RFC 6749 JSON; errors come back with a 4xx or 5xx status, so
// x/oauth2 returns an *oauth2.RetrieveError. Every other request goes to
// base (nil: a client with a 30-second timeout) unchanged. The zero e
// means [Endpoint].
func Bridge(e oauth2.Endpoint, base *http.Client) *http.Client {
	return bridge.Client(base, &bridge.Provider{Name: "tiktok", TokenURLs: []string{platform.TokenURL(&bytedance.App{Endpoint: e})},
		For: func(id, secret string) bridge.Flow { return &Config{ClientKey: id, ClientSecret: secret, Endpoint: e} }})
}
