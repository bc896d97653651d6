// Package douyin signs users in with Douyin (抖音开放平台, open.douyin.com)
// and calls its APIs, using the types of golang.org/x/oauth2.
//
// Douyin's token API breaks RFC 6749: it names the client "client_key",
// joins scopes with commas, wraps every answer in {"data":{…}}, answers
// errors with HTTP 200, sends numbers as strings in some editions, and reads
// the token from an "access-token" header. [Config] speaks all of that and
// has the methods of *oauth2.Config, so code written for one works with the
// other. Package douyintest is a fake Douyin for tests.
//
// Documentation: https://developer.open-douyin.com/docs/resource/zh-CN/dop/develop/openapi/account-permission/get-access-token
package douyin

import (
	"context"
	"net/http"
	"strings"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/internal/bytedance"
	"github.com/oauth2x/oauth2x/internal/wire"
)

// Endpoint is Douyin's production authorization page and token endpoint.
var Endpoint = oauth2.Endpoint{
	AuthURL:  "https://open.douyin.com/platform/oauth/connect/",
	TokenURL: "https://open.douyin.com/oauth/access_token/",
}

// SilentAuthURL is the silent authorization page, usable only inside the
// Douyin app, with scope login_id.
const SilentAuthURL = "https://aweme.snssdk.com/oauth/authorize/v2/"

var platform = &bytedance.Platform{Name: "douyin", Endpoint: &Endpoint}

// Config describes a Douyin app. Its methods have the signatures of
// *oauth2.Config's. A Config is safe for concurrent use as long as it is
// not modified.
type Config struct {
	// ClientKey is the app's client_key. Required.
	ClientKey string
	// ClientSecret is the app's client_secret. Required for Exchange and
	// client tokens; refresh and renew do not send it.
	ClientSecret string
	// RedirectURL is the registered redirect_uri (http:// or https://,
	// without a query). Required for AuthCodeURL.
	RedirectURL string
	// Scopes are the permissions asked for, such as "user_info"; they are
	// sent comma-separated.
	Scopes []string
	// Endpoint overrides the production URLs (a sandbox, a proxy, a fake).
	// An empty URL means the one in [Endpoint] at the time of the call.
	// Refresh, renew and client-token calls go to the documented paths
	// next to Endpoint.TokenURL, keeping any prefix in front of
	// /oauth/access_token/ (see oauth2x.SiblingURL).
	Endpoint oauth2.Endpoint
}

func (c *Config) app() *bytedance.App { return (*bytedance.App)(c) }

// AuthCodeURL returns the URL of Douyin's authorization page (a QR code on
// desktop, a native page in the app). Options such as
// oauth2.SetAuthURLParam and [OptionalScopes] add parameters.
func (c *Config) AuthCodeURL(state string, opts ...oauth2.AuthCodeOption) string {
	return platform.AuthCodeURL(c.app(), "", state, c.Scopes, opts...)
}

// SilentAuthCodeURL returns the URL of the silent authorization page,
// which works only inside the Douyin app and grants scope login_id. When
// c.Endpoint.AuthURL is set, the page is next to it, after any prefix its
// path has in front of /platform/oauth/connect/ (see oauth2x.SiblingURL).
func (c *Config) SilentAuthCodeURL(state string, opts ...oauth2.AuthCodeOption) string {
	page := SilentAuthURL
	if c.Endpoint.AuthURL != "" {
		page = bytedance.SilentAuthURL(c.Endpoint.AuthURL, "/platform/oauth/connect/", "/oauth/authorize/v2/")
	}
	return platform.AuthCodeURL(c.app(), page, state, []string{"login_id"}, append(opts, oauth2.SetAuthURLParam("scope", "login_id"))...)
}

// Scope is one optional scope on the authorization page: Checked says
// whether its box is ticked when the page opens.
type Scope struct {
	Name    string
	Checked bool
}

// OptionalScopes lists scopes the user may untick, as the optionalScope
// parameter: OptionalScopes(Scope{"friend_relation", true}, Scope{"message",
// false}) sends optionalScope=friend_relation,1,message,0.
func OptionalScopes(scopes ...Scope) oauth2.AuthCodeOption {
	parts := make([]string, 0, 2*len(scopes))
	for _, s := range scopes {
		flag := "0"
		if s.Checked {
			flag = "1"
		}
		parts = append(parts, s.Name, flag)
	}
	return oauth2.SetAuthURLParam("optionalScope", strings.Join(parts, ","))
}

// Exchange trades an authorization code (valid 10 minutes, once) for a
// token. The token's Extra holds "open_id", "scope", "refresh_expires_in"
// (a float64 number of seconds, as encoding/json and x/oauth2 give numbers)
// and "log_id"; see [OpenID] and [oauth2x.RefreshExpiry].
func (c *Config) Exchange(ctx context.Context, code string, opts ...oauth2.AuthCodeOption) (*oauth2.Token, error) {
	return platform.Exchange(ctx, c.app(), code, opts...)
}

// Refresh trades t's refresh token for a new access token (15 days). The
// refresh token's own expiry does not move; whatever refresh token the
// answer carries is kept, and the old one when it carries none.
func (c *Config) Refresh(ctx context.Context, t *oauth2.Token) (*oauth2.Token, error) {
	return platform.Refresh(ctx, c.app(), t)
}

// RenewRefreshToken trades t's refresh token for a new one with a fresh
// 30 days; the old one dies at once. The access token is kept. Douyin
// allows five renewals; then it answers 10020, an [oauth2x.ErrInvalidGrant].
// The app needs the renew_refresh_token permission.
func (c *Config) RenewRefreshToken(ctx context.Context, t *oauth2.Token) (*oauth2.Token, error) {
	return platform.Renew(ctx, c.app(), t)
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
// "access-token" header, as Douyin's OpenAPI reads it, from [Config.TokenSource]:
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
// the "access-token" header, as Douyin's OpenAPI reads it: oauth2.NewClient with the
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
// must share one: use [Config.ClientTokenSource] with a shared store, or
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
// this app, which most Douyin APIs need.
func OpenID(t *oauth2.Token) string { return bytedance.OpenID(t) }

// Extra keys of Douyin tokens.
const (
	ExtraOpenID           = "open_id"            // the user's id for this app
	ExtraScope            = "scope"              // the scopes granted, comma-separated
	ExtraRefreshExpiresIn = "refresh_expires_in" // the refresh token's lifetime at issue, seconds (float64)
	ExtraLogID            = "log_id"             // the provider's log id for the call
)
