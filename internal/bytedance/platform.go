package bytedance

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x/internal/wire"
)

// Operation names, as errors print them.
const (
	OpExchange    = "exchange"
	OpRefresh     = "refresh"
	OpRenew       = "renew refresh token"
	OpClientToken = "client token"
)

// Documented paths on the token host. Every path ends in "/".
const (
	PathAccessToken       = "/oauth/access_token/"
	PathRefreshToken      = "/oauth/refresh_token/"
	PathRenewRefreshToken = "/oauth/renew_refresh_token/"
	PathClientToken       = "/oauth/client_token/"
	PathStableClientToken = "/oauth/stable_client_token/"
)

// Platform describes one host of the platform.
type Platform struct {
	Name string // "douyin": prefixes errors
	// Endpoint points at the provider package's Endpoint variable, read at
	// each call, so that reassigning it redirects every Config that does
	// not set its own.
	Endpoint *oauth2.Endpoint
}

// App is the shape of douyin.Config and toutiao.Config; they convert to it
// without copying.
type App struct {
	ClientKey    string
	ClientSecret string
	RedirectURL  string
	Scopes       []string
	Endpoint     oauth2.Endpoint
}

func (p *Platform) endpoint(a *App) oauth2.Endpoint {
	return wire.EndpointOr(a.Endpoint, *p.Endpoint)
}

// URL returns the documented path next to the app's token URL, after any
// prefix it has (wire.Sibling). A token URL that is no URL is returned as
// it is, for the call to fail on it with the reason.
func (p *Platform) URL(a *App, path string) string {
	tokenURL := p.endpoint(a).TokenURL
	if path == "" || path == PathAccessToken {
		return tokenURL
	}
	u, err := wire.Sibling(tokenURL, PathAccessToken, path)
	if err != nil {
		return tokenURL
	}
	return u
}

// SilentAuthURL returns the silent authorization page next to authURL,
// the app's authorization page, whose own path is authPath.
func SilentAuthURL(authURL, authPath, silentPath string) string {
	u, err := wire.Sibling(authURL, authPath, silentPath)
	if err != nil {
		return authURL
	}
	return u
}

// AuthCodeURL builds an authorization page URL on authURL. An
// oauth2.Config builds the query so that the caller's options are honoured;
// then client_id becomes client_key and scopes are joined by commas.
func (p *Platform) AuthCodeURL(a *App, authURL, state string, scopes []string, opts ...oauth2.AuthCodeOption) string {
	if authURL == "" {
		authURL = p.endpoint(a).AuthURL
	}
	c := oauth2.Config{ClientID: a.ClientKey, RedirectURL: a.RedirectURL, Endpoint: oauth2.Endpoint{AuthURL: authURL}}
	raw := c.AuthCodeURL(state, opts...)
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	if v, ok := q["client_id"]; ok {
		q.Del("client_id")
		if q.Get("client_key") == "" {
			q["client_key"] = v
		}
	}
	if q.Get("scope") == "" && len(scopes) > 0 {
		q.Set("scope", strings.Join(scopes, ","))
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func (p *Platform) request(op, path string, enc wire.Encoding, a *App, params []wire.Param, secrets ...string) *wire.Request {
	return &wire.Request{
		Provider: p.Name,
		Op:       op,
		URL:      p.URL(a, path),
		Encoding: enc,
		Params:   params,
		Secrets:  append(secrets, a.ClientSecret),
	}
}

// Exchange trades a code for a token.
func (p *Platform) Exchange(ctx context.Context, a *App, code string, opts ...oauth2.AuthCodeOption) (*oauth2.Token, error) {
	// An option naming a parameter replaces it, as on every provider.
	params := wire.WithOptions([]wire.Param{
		{Key: "client_key", Value: a.ClientKey},
		{Key: "client_secret", Value: a.ClientSecret},
		{Key: "code", Value: code},
		{Key: "grant_type", Value: "authorization_code"},
	}, opts)
	r := p.request(OpExchange, PathAccessToken, wire.Form, a, params, code)
	return wire.Do(ctx, r, TokenDecoderAt(OpExchange, nil, wire.Clock(ctx)))
}

// Refresh trades t's refresh token for a new access token. What the answer
// leaves out (the refresh token, its expiry, the open id) is kept from t.
func (p *Platform) Refresh(ctx context.Context, a *App, t *oauth2.Token) (*oauth2.Token, error) {
	if t == nil || t.RefreshToken == "" {
		return nil, wire.NoRefreshToken(p.Name, OpRefresh)
	}
	r := p.request(OpRefresh, PathRefreshToken, wire.Form, a, []wire.Param{
		{Key: "client_key", Value: a.ClientKey},
		{Key: "grant_type", Value: "refresh_token"},
		{Key: "refresh_token", Value: t.RefreshToken},
	}, t.RefreshToken, t.AccessToken)
	return wire.Do(ctx, r, TokenDecoderAt(OpRefresh, t, wire.Clock(ctx)))
}

// Renew trades t's refresh token for a new one with a fresh lifetime; the
// access token and the rest of t are kept.
func (p *Platform) Renew(ctx context.Context, a *App, t *oauth2.Token) (*oauth2.Token, error) {
	if t == nil || t.RefreshToken == "" {
		return nil, wire.NoRefreshToken(p.Name, OpRenew)
	}
	r := p.request(OpRenew, PathRenewRefreshToken, wire.Form, a, []wire.Param{
		{Key: "client_key", Value: a.ClientKey},
		{Key: "refresh_token", Value: t.RefreshToken},
	}, t.RefreshToken, t.AccessToken)
	r.NoAccessToken = true
	now := wire.Clock(ctx)
	return wire.Do(ctx, r, func(status int, body []byte) (*oauth2.Token, *wire.Error) {
		ans, e := Decode(OpRenew, status, body)
		if e != nil {
			return nil, e
		}
		if ans.RefreshToken == "" || ans.ExpiresIn == 0 {
			return nil, &wire.Error{LogID: ans.LogID, Kind: wire.ErrBadResponse, Cause: errors.New("renew answer carries no refresh token and lifetime")}
		}
		// In a renew answer, expires_in is the new refresh token's life.
		f := &wire.TokenFields{
			AccessToken:  t.AccessToken,
			TokenType:    t.TokenType,
			RefreshToken: ans.RefreshToken,
			RefreshIn:    ans.ExpiresIn,
			Extra: map[string]any{
				ExtraRefreshExpiresIn: float64(ans.ExpiresIn / time.Second),
			},
		}
		if ans.LogID != "" {
			f.Extra[ExtraLogID] = ans.LogID
		}
		carry(f, t, now, false)
		nt := f.Token(now)
		nt.Expiry, nt.ExpiresIn = t.Expiry, t.ExpiresIn
		return nt, nil
	})
}

// ClientToken fetches an app-level token, from the stable endpoint when
// stable is set.
func (p *Platform) ClientToken(ctx context.Context, a *App, stable bool) (*oauth2.Token, error) {
	path := PathClientToken
	if stable {
		path = PathStableClientToken
	}
	r := p.request(OpClientToken, path, wire.JSON, a, []wire.Param{
		{Key: "client_key", Value: a.ClientKey},
		{Key: "client_secret", Value: a.ClientSecret},
		{Key: "grant_type", Value: "client_credential"},
	})
	return wire.Do(ctx, r, TokenDecoderAt(OpClientToken, nil, wire.Clock(ctx)))
}

// ClientRefresher fetches a new client token whenever asked to refresh.
type ClientRefresher struct {
	P      *Platform
	A      *App
	Stable bool
}

// Refresh ignores the old token: client tokens are fetched, not refreshed.
func (c *ClientRefresher) Refresh(ctx context.Context, _ *oauth2.Token) (*oauth2.Token, error) {
	return c.P.ClientToken(ctx, c.A, c.Stable)
}

// Client returns an *http.Client that sends src's token in the
// "access-token" header, as the platform's APIs read it. Its transport is
// the one of the client in ctx, if any. When src is an Invalidator (a
// Config's TokenSource) and an answer says the access token is invalid or
// expired (the codes DecodeUser calls ErrInvalidToken), it refreshes
// through src and sends the request once more.
func Client(ctx context.Context, src oauth2.TokenSource) *http.Client {
	return &http.Client{Transport: &wire.RetryTransport{
		HeaderTransport: wire.HeaderTransport{Source: src, Base: wire.ContextClient(ctx).Transport, Header: "access-token"},
		Invalid: func(status int, body []byte) bool {
			_, e := DecodeUser(status, body)
			return e != nil && e.Kind == wire.ErrInvalidToken
		},
	}}
}
