// Package fantem signs users in with a Fantem gateway (the OAuth 2.0
// server behind Fantem's Alexa account linking) and calls its APIs, using
// the types of golang.org/x/oauth2.
//
// The gateway's token endpoint reads only multipart/form-data, answers
// expires_in as a number or a string, names no token type, leaves the
// refresh token out of refresh answers, and answers errors with HTTP 400
// and a body of any shape. [Config] speaks all of that and has the methods
// of *oauth2.Config; [Bridge] lets a plain *oauth2.Config talk to the
// gateway unchanged. Each deployment has its own host: see [EndpointFor].
// Package fantemtest is a fake gateway for tests.
package fantem

import (
	"context"
	"errors"
	"net/http"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/internal/bridge"
	"github.com/oauth2x/oauth2x/internal/wire"
)

// Paths of the authorization page and the token endpoint on a gateway's host.
const (
	AuthPath  = "/oauth/authorize"
	TokenPath = "/oauth/token"
)

// Endpoint is the documented example gateway's authorization page and
// token endpoint. Deployments have their own host: see [EndpointFor].
var Endpoint = oauth2.Endpoint{
	AuthURL:  "https://openapi.fantem-gateway.com" + AuthPath,
	TokenURL: "https://openapi.fantem-gateway.com" + TokenPath,
}

// EndpointFor returns the endpoint of the gateway at base, an absolute
// http:// or https:// URL such as "https://gateway.example.com"; a path
// prefix is kept ("https://host/gw" gives "https://host/gw/oauth/token").
// It fails on anything else, "not a url" included.
func EndpointFor(base string) (oauth2.Endpoint, error) {
	e, err := wire.At(base, oauth2.Endpoint{AuthURL: AuthPath, TokenURL: TokenPath})
	if err != nil {
		return oauth2.Endpoint{}, errors.New("fantem: " + err.Error())
	}
	return e, nil
}

// Config describes a client of a Fantem gateway. Its methods have the
// signatures of *oauth2.Config's. A Config is safe for concurrent use as
// long as it is not modified.
type Config struct {
	// ClientID is the client's client_id. Required.
	ClientID string
	// ClientSecret is optional: the gateway documents none (it is a public
	// client), so it is sent only when set.
	ClientSecret string
	// RedirectURL is the registered redirect_uri, sent on the authorization
	// page and with the code.
	RedirectURL string
	// Scopes are the permissions asked for, space-separated on the page.
	Scopes []string
	// Endpoint is the gateway's; an empty URL means the one in [Endpoint]
	// at the time of the call. Use [EndpointFor] for a deployment's host.
	Endpoint oauth2.Endpoint
}

var _ oauth2x.Refresher = (*Config)(nil)

func (c *Config) endpoint() oauth2.Endpoint {
	return wire.EndpointOr(c.Endpoint, Endpoint)
}

// AuthCodeURL returns the URL of the gateway's authorization page, built
// as x/oauth2 builds it; options such as oauth2.S256ChallengeOption add
// parameters.
func (c *Config) AuthCodeURL(state string, opts ...oauth2.AuthCodeOption) string {
	oc := oauth2.Config{ClientID: c.ClientID, RedirectURL: c.RedirectURL, Scopes: c.Scopes, Endpoint: c.endpoint()}
	return oc.AuthCodeURL(state, opts...)
}

// params are the parameters every token call carries after its own.
func (c *Config) params(ps ...wire.Param) []wire.Param {
	ps = append(ps, wire.Param{Key: "client_id", Value: c.ClientID})
	if c.ClientSecret != "" {
		ps = append(ps, wire.Param{Key: "client_secret", Value: c.ClientSecret})
	}
	return ps
}

func (c *Config) do(ctx context.Context, op string, params []wire.Param, prev *oauth2.Token, secrets ...string) (*oauth2.Token, error) {
	r := &wire.Request{
		Provider: "fantem",
		Op:       op,
		URL:      c.endpoint().TokenURL,
		Encoding: wire.Multipart,
		Params:   params,
		Secrets:  append(secrets, c.ClientSecret),
	}
	decode := wire.DecodeRFC6749At(wire.Clock(ctx))
	return wire.Do(ctx, r, func(status int, body []byte) (*oauth2.Token, *wire.Error) {
		t, e := decode(status, body)
		if e == nil && prev != nil && t.RefreshToken == "" {
			// Refresh answers carry no refresh token: the old one stays.
			t.RefreshToken = prev.RefreshToken
		}
		return t, e
	})
}

// Exchange trades an authorization code for a token. Options such as
// oauth2.SetAuthURLParam and oauth2.VerifierOption add (or replace)
// parameters.
func (c *Config) Exchange(ctx context.Context, code string, opts ...oauth2.AuthCodeOption) (*oauth2.Token, error) {
	ps := []wire.Param{{Key: "grant_type", Value: "authorization_code"}, {Key: "code", Value: code}}
	if c.RedirectURL != "" {
		ps = append(ps, wire.Param{Key: "redirect_uri", Value: c.RedirectURL})
	}
	return c.do(ctx, "exchange", wire.WithOptions(c.params(ps...), opts), nil, code)
}

// Refresh trades t's refresh token for a new access token. The gateway's
// answer carries no refresh token, so t's is kept.
func (c *Config) Refresh(ctx context.Context, t *oauth2.Token) (*oauth2.Token, error) {
	if t == nil || t.RefreshToken == "" {
		return nil, wire.NoRefreshToken("fantem", "refresh")
	}
	ps := c.params(wire.Param{Key: "grant_type", Value: "refresh_token"}, wire.Param{Key: "refresh_token", Value: t.RefreshToken})
	return c.do(ctx, "refresh", ps, t, t.RefreshToken, t.AccessToken)
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

// Client returns an HTTP client that sends t's access token as
// "Authorization: Bearer", from [Config.TokenSource]: it refreshes only
// when x/oauth2's would. Its transport is the one of the client under
// oauth2.HTTPClient in ctx, if any. For a client on a long-lived source
// (oauth2x.NewTokenSource), use oauth2.NewClient(ctx, src): the gateway's
// APIs read the standard header.
func (c *Config) Client(ctx context.Context, t *oauth2.Token) *http.Client {
	return &http.Client{Transport: &wire.HeaderTransport{
		Source: c.TokenSource(ctx, t),
		Base:   wire.ContextClient(ctx).Transport,
		Header: "Authorization",
		Scheme: "Bearer",
	}}
}

// Bridge returns an *http.Client that lets a program keep its plain
// *oauth2.Config and talk to the gateway at e (an empty URL: the one in
// [Endpoint] when Bridge is called). Put it in
// the context under oauth2.HTTPClient: x/oauth2's form-encoded token
// requests to e.TokenURL are answered by a [Config] with the client id and
// secret the request carries (in the body or in HTTP Basic auth), sent
// multipart as the gateway wants, and the answers come back as RFC 6749
// JSON, the refresh token kept on refresh. Errors come back as
// {"error":…,"error_description":…} with a 4xx or 5xx status, so x/oauth2
// returns an *oauth2.RetrieveError (invalid_grant for a dead code or
// refresh token). The gateway has no client_credentials grant: such a
// request gets unsupported_grant_type. Every other request goes to base
// (nil: a client with a 30-second timeout) unchanged.
func Bridge(e oauth2.Endpoint, base *http.Client) *http.Client {
	e = (&Config{Endpoint: e}).endpoint() // the package's Endpoint as it is now
	return bridge.Client(base, &bridge.Provider{
		Name:      "fantem",
		TokenURLs: []string{e.TokenURL},
		For: func(id, secret string) bridge.Flow {
			return &Config{ClientID: id, ClientSecret: secret, Endpoint: e}
		},
	})
}
