// Package toutiao signs users in with Toutiao (今日头条开放平台,
// open.snssdk.com) and calls its APIs, using the types of
// golang.org/x/oauth2.
//
// Toutiao is ByteDance's open platform behind its own host: the same token
// paths, parameters, envelope and error codes as Douyin, with its own
// authorization page and no renewal of refresh tokens. [Config] speaks that
// dialect and has the methods of *oauth2.Config; [Bridge] lets a plain
// *oauth2.Config talk to Toutiao unchanged. Package toutiaotest is a fake
// Toutiao for tests.
package toutiao

import (
	"context"
	"net/http"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/internal/bridge"
	"github.com/oauth2x/oauth2x/internal/bytedance"
	"github.com/oauth2x/oauth2x/internal/wire"
)

// Endpoint is Toutiao's production authorization page (shown to the user
// as a QR code) and token endpoint.
var Endpoint = oauth2.Endpoint{
	AuthURL:  "https://open.snssdk.com/oauth/authorize/",
	TokenURL: "https://open.snssdk.com/oauth/access_token/",
}

var platform = &bytedance.Platform{Name: "toutiao", Endpoint: &Endpoint}

// Config describes a Toutiao app. Its methods have the signatures of
// *oauth2.Config's. A Config is safe for concurrent use as long as it is
// not modified.
type Config struct {
	// ClientKey is the app's client_key. Required.
	ClientKey string
	// ClientSecret is the app's client_secret. Required for Exchange and
	// client tokens; refresh does not send it.
	ClientSecret string
	// RedirectURL is the registered redirect_uri (http:// or https://,
	// without a query). Required for AuthCodeURL.
	RedirectURL string
	// Scopes are the permissions asked for, such as "user_info"; they are
	// sent comma-separated.
	Scopes []string
	// Endpoint overrides the production URLs (a sandbox, a proxy, a fake).
	// An empty URL means the one in [Endpoint] at the time of the call.
	// Refresh and client-token calls go to the documented paths next to
	// Endpoint.TokenURL, keeping any prefix in front of
	// /oauth/access_token/ (see oauth2x.SiblingURL).
	Endpoint oauth2.Endpoint
}

func (c *Config) app() *bytedance.App { return (*bytedance.App)(c) }

// AuthCodeURL returns the URL of Toutiao's authorization page. Options
// such as oauth2.SetAuthURLParam add parameters.
func (c *Config) AuthCodeURL(state string, opts ...oauth2.AuthCodeOption) string {
	return platform.AuthCodeURL(c.app(), "", state, c.Scopes, opts...)
}

// Exchange trades an authorization code (valid 10 minutes, once) for a
// token. The token's Extra holds "open_id", "scope", "refresh_expires_in"
// (a float64 number of seconds, as encoding/json and x/oauth2 give numbers)
// and "log_id"; see [OpenID] and [oauth2x.RefreshExpiry].
func (c *Config) Exchange(ctx context.Context, code string, opts ...oauth2.AuthCodeOption) (*oauth2.Token, error) {
	return platform.Exchange(ctx, c.app(), code, opts...)
}

// Refresh trades t's refresh token for a new access token. The refresh
// token's own expiry does not move, and Toutiao has no call to renew it:
// when it dies (error 10010, an [oauth2x.ErrInvalidGrant]) the user must
// authorize again. Whatever refresh token the answer carries is kept, and
// the old one when it carries none.
func (c *Config) Refresh(ctx context.Context, t *oauth2.Token) (*oauth2.Token, error) {
	return platform.Refresh(ctx, c.app(), t)
}

// TokenSource returns a token source that behaves as
// (*oauth2.Config).TokenSource does: it returns t while t has more than ten
// seconds left (or no expiry), and once it has not, refreshes with
// [Config.Refresh] in the caller's call and returns the new token, keeping
// it for the next call. It never refreshes early or in the background, so
// building one per request from a stored token costs nothing upstream. A
// caller that stores tokens saves the token Token returns whenever it
// differs from the stored one (its AccessToken or its RefreshToken), so a
// rotated refresh token is never lost. For users whose requests overlap,
// use [oauth2x.Tokens] (one source per user, one refresh per expiry, saved
// before it is handed out); for a long-lived source that refreshes early
// in the background and persists through a store, [oauth2x.NewTokenSource].
func (c *Config) TokenSource(ctx context.Context, t *oauth2.Token) oauth2.TokenSource {
	return wire.ReuseSource(ctx, t, c.Refresh)
}

// Client returns an HTTP client that sends t's access token in the
// "access-token" header, as the platform's OpenAPI reads it, from [Config.TokenSource]:
// it refreshes only when x/oauth2's would, in the request that needs it.
// Its transport is the one of the client under oauth2.HTTPClient in ctx,
// if any. When an answer says the access token is invalid or expired
// (28001003, 28001008, 10008, 2190008, …), it refreshes once through its
// source, which keeps the new token, and resends the request (one whose
// body has no GetBody is not resent). To send the token of another source (a persisting
// oauth2x.NewTokenSource, say) the same way, use [NewClient]; for APIs that
// read "Authorization: Bearer", use oauth2.NewClient(ctx, c.TokenSource(ctx, t)).
func (c *Config) Client(ctx context.Context, t *oauth2.Token) *http.Client {
	return bytedance.Client(ctx, c.TokenSource(ctx, t))
}

// NewClient returns an HTTP client that sends the access token of src in
// the "access-token" header, as the platform's OpenAPI reads it: oauth2.NewClient with the
// platform's header. src is any oauth2.TokenSource: a [Config.TokenSource],
// an oauth2x.NewTokenSource that persists through a store, a
// [Config.ClientTokenSource]. Its transport is the one of the client under
// oauth2.HTTPClient in ctx, if any. A request waits for a refresh only as
// long as its context allows when src has a TokenContext method, as
// oauth2x.NewTokenSource's does. When an answer calls the token invalid
// and src can be told so (a [Config.TokenSource], an
// oauth2x.NewTokenSource, an oauth2x.Tokens source: each has an
// Invalidate method), it refreshes once and resends, as [Config.Client]
// does; other sources get no retry.
func NewClient(ctx context.Context, src oauth2.TokenSource) *http.Client {
	return bytedance.Client(ctx, src)
}

// ClientToken fetches an app-level token (client_token, 2 hours). Each new
// one invalidates all but the newest two after five minutes, so processes
// must share one: use [Config.ClientTokenRefresher] with a shared store, or
// [Config.StableClientToken].
func (c *Config) ClientToken(ctx context.Context) (*oauth2.Token, error) {
	return platform.ClientToken(ctx, c.app(), false)
}

// StableClientToken fetches an app-level token from the stable endpoint,
// which returns the same token while it lives instead of a new one.
func (c *Config) StableClientToken(ctx context.Context) (*oauth2.Token, error) {
	return platform.ClientToken(ctx, c.app(), true)
}

// ClientTokenSource returns a token source of app-level tokens, for one
// process, that fetches a new one as the current one nears expiry. Each
// fetch invalidates all but the newest two client tokens after five
// minutes, so processes that each run their own knock each other out: for
// several processes, use oauth2x.NewTokenSource with ClientTokenRefresher
// and a shared store (a FileStore, or redisstore), or ClientTokenRefresher(true)
// for the stable endpoint.
func (c *Config) ClientTokenSource(ctx context.Context) oauth2.TokenSource {
	return oauth2x.NewTokenSource(ctx, c.ClientTokenRefresher(false), nil, nil)
}

// ClientTokenRefresher returns the [oauth2x.Refresher] behind
// ClientTokenSource, for use with oauth2x.NewTokenSource and a shared
// store; stable selects the stable endpoint.
func (c *Config) ClientTokenRefresher(stable bool) oauth2x.Refresher {
	return &bytedance.ClientRefresher{P: platform, A: c.app(), Stable: stable}
}

// OpenID returns the open_id the token answer carried: the user's id for
// this app, which most Toutiao APIs need.
func OpenID(t *oauth2.Token) string { return bytedance.OpenID(t) }

// Bridge returns an *http.Client that lets a program keep its plain
// *oauth2.Config or clientcredentials.Config and talk to Toutiao. Put it in
// the context under oauth2.HTTPClient: x/oauth2's token requests to
// e.TokenURL (or the documented token paths on its host) are answered by a
// [Config] with the client id and secret the request carries, in the body
// or in HTTP Basic auth, and the answers come back as RFC 6749 JSON: grant
// authorization_code calls [Config.Exchange], refresh_token
// [Config.Refresh], client_credentials [Config.ClientToken]. Errors come
// back as {"error":…,"error_description":…} with a 4xx or 5xx status
// (invalid_grant for a dead code or refresh token), so x/oauth2 returns an
// *oauth2.RetrieveError, with Toutiao's code and log id in the
// description. Every other request goes to base unchanged.
//
// An empty URL in e means the one in [Endpoint] when Bridge is called; a
// prefix in e.TokenURL is kept for the derived paths. base (nil: a client
// with a 30-second timeout) makes the calls to Toutiao. Build the authorization page URL
// with [Config.AuthCodeURL]. With AuthStyleAutoDetect, x/oauth2 sends a
// failed request a second time with the credentials in the body; set
// Endpoint.AuthStyle to avoid that.
func Bridge(e oauth2.Endpoint, base *http.Client) *http.Client {
	return platform.Bridge(e, base, func(a *bytedance.App) bridge.Flow { return (*Config)(a) })
}

// Extra keys of Toutiao tokens.
const (
	ExtraOpenID           = "open_id"            // the user's id for this app
	ExtraScope            = "scope"              // the scopes granted, comma-separated
	ExtraRefreshExpiresIn = "refresh_expires_in" // the refresh token's lifetime at issue, seconds (float64)
	ExtraLogID            = "log_id"             // the provider's log id for the call
)
