// Package tiktok signs users in with TikTok (Login Kit v2,
// open.tiktokapis.com) and calls its APIs, using the types of
// golang.org/x/oauth2.
//
// TikTok names the client "client_key", joins scopes with commas, wants
// the secret on refresh, reads a hex S256 code challenge from desktop and
// mobile apps, may answer errors with HTTP 200, and rotates refresh tokens:
// the previous one dies once a new one is issued. [Config] speaks that and
// has the methods of *oauth2.Config; [Bridge] lets a plain *oauth2.Config
// talk to TikTok. Package tiktoktest is a fake TikTok.
//
// Documentation: https://developers.tiktok.com/doc/oauth-user-access-token-management
package tiktok

import (
	"context"
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

// Paths of the token, revoke and user-info calls on the token host. A
// token URL with a prefix in front of TokenPath (a gateway's
// "/tiktok/v2/oauth/token/") keeps it for revoke and user info.
const (
	TokenPath    = "/v2/oauth/token/"
	RevokePath   = "/v2/oauth/revoke/"
	UserInfoPath = "/v2/user/info/"
)

var platform = &bytedance.Global{Platform: bytedance.Platform{Name: "tiktok", Endpoint: &Endpoint}, TokenPath: TokenPath, RevokePath: RevokePath, UserInfoPath: UserInfoPath}

// Config describes a TikTok app. Its methods have the signatures of
// *oauth2.Config's. A Config is safe for concurrent use if not modified.
type Config struct {
	// ClientKey is the app's client_key. Required.
	ClientKey string
	// ClientSecret is the app's client_secret. Required, refresh included.
	ClientSecret string
	// RedirectURL is a registered redirect_uri. Required: codes are bound to it.
	RedirectURL string
	// Scopes are the permissions asked for ("user.info.basic").
	Scopes []string
	// Endpoint overrides the production URLs (a sandbox, a fake); zero
	// means [Endpoint]. Revoke and user info use its token URL's host and
	// the prefix it has in front of [TokenPath].
	Endpoint oauth2.Endpoint
}

func (c *Config) app() *bytedance.App { return (*bytedance.App)(c) }

// AuthCodeURL returns the URL of TikTok's authorization page, adding
// code_challenge_method=S256 to a [HexS256ChallengeOption].
func (c *Config) AuthCodeURL(state string, opts ...oauth2.AuthCodeOption) string {
	return platform.AuthCodeURL(c.app(), state, opts...)
}

// HexS256ChallengeOption is the code challenge of TikTok's desktop and
// mobile flows: the lowercase hex of SHA-256 of verifier, not RFC 7636's
// base64url. Make verifier with oauth2.GenerateVerifier; pass this to
// [Config.AuthCodeURL] and oauth2.VerifierOption(verifier) to
// [Config.Exchange].
func HexS256ChallengeOption(verifier string) oauth2.AuthCodeOption {
	return oauth2.SetAuthURLParam("code_challenge", bytedance.HexS256Challenge(verifier))
}

// Exchange trades an authorization code for a token. Its Extra holds
// "open_id", "scope", "refresh_expires_in" and "log_id"; see [OpenID] and
// [oauth2x.RefreshExpiry].
func (c *Config) Exchange(ctx context.Context, code string, opts ...oauth2.AuthCodeOption) (*oauth2.Token, error) {
	return platform.Exchange(ctx, c.app(), code, opts...)
}

// Refresh trades t's refresh token for a new token. TikTok rotates
// refresh tokens and the old one dies at once: keep the returned token in
// place of t, as [oauth2x.NewTokenSource] does.
func (c *Config) Refresh(ctx context.Context, t *oauth2.Token) (*oauth2.Token, error) {
	return platform.Refresh(ctx, c.app(), t)
}

// TokenSource returns a token source that serves t and, like x/oauth2's,
// refreshes it in the caller's call once it is within ten seconds of
// expiry; concurrent callers share one refresh. TikTok rotates refresh
// tokens: save the token Token returns whenever it differs from the stored
// one (its AccessToken or its RefreshToken). For users whose requests
// overlap, use [oauth2x.Tokens] (or [oauth2x.NewTokenSource] with a
// store), which refresh once per expiry and save before handing the token
// out.
func (c *Config) TokenSource(ctx context.Context, t *oauth2.Token) oauth2.TokenSource {
	return wire.ReuseSource(ctx, t, c.Refresh)
}

// Client returns an HTTP client that sends t's access token as
// "Authorization: Bearer", refreshing as needed, over the transport of the
// client under oauth2.HTTPClient in ctx. When an answer says the access
// token is invalid (error.code access_token_invalid), the client refreshes
// once through its source and sends the request again (a request whose
// body cannot be re-read, without GetBody, is not resent).
func (c *Config) Client(ctx context.Context, t *oauth2.Token) *http.Client {
	return bytedance.BearerClient(ctx, c.TokenSource(ctx, t))
}

// ClientToken fetches an app-level token (client_credentials, 2 hours),
// which TikTok's Research and Commercial Content APIs take.
func (c *Config) ClientToken(ctx context.Context) (*oauth2.Token, error) {
	return platform.ClientToken(ctx, c.app())
}

// ClientTokenSource returns a token source of app-level tokens that
// fetches a new one as the current one nears expiry.
func (c *Config) ClientTokenSource(ctx context.Context) oauth2.TokenSource {
	fetch := func(ctx context.Context, _ *oauth2.Token) (*oauth2.Token, error) { return c.ClientToken(ctx) }
	return oauth2x.NewTokenSource(ctx, oauth2x.RefresherFunc(fetch), nil, nil)
}

// Revoke revokes t's access token: the user's grant to the app ends. A
// nil or empty token is refused before any call with an
// [oauth2x.ErrInvalidRequest].
func (c *Config) Revoke(ctx context.Context, t *oauth2.Token) error {
	return platform.Revoke(ctx, c.app(), t)
}

// OpenID returns the open_id the token answer carried: the user's id for this app.
func OpenID(t *oauth2.Token) string { return bytedance.OpenID(t) }

// Bridge returns an *http.Client that lets a program keep its plain
// *oauth2.Config (or clientcredentials.Config) and talk to TikTok at e
// (zero: [Endpoint]). Put it in the context under oauth2.HTTPClient:
// x/oauth2's token requests are answered by a [Config] with the client id
// and secret they carry, as RFC 6749 JSON, errors with a 4xx or 5xx status.
// Other requests go to base (nil: a client with a 30-second timeout).
func Bridge(e oauth2.Endpoint, base *http.Client) *http.Client {
	return platform.Bridge(e, base, func(a *bytedance.App) bridge.Flow { return (*Config)(a) })
}
