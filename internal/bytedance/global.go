package bytedance

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x/internal/bridge"
	"github.com/oauth2x/oauth2x/internal/wire"
)

// Global is ByteDance's international platform, TikTok's Login Kit v2:
// client_key as on the Chinese platform, but flat RFC 6749-like answers
// (with open_id and refresh_expires_in) that may carry "error" with HTTP
// 200, one token URL for every grant, the secret on refresh, revoke, and
// user info read with "Authorization: Bearer". The tiktok package
// describes itself to it.
type Global struct {
	Platform
	RevokePath, UserInfoPath string
}

// HexS256Challenge is TikTok's code challenge: the lowercase hex of the
// SHA-256 of verifier.
func HexS256Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return hex.EncodeToString(sum[:])
}

// AuthCodeURL builds the authorization page URL; with a code_challenge
// and no method it adds code_challenge_method=S256, the only method.
func (g *Global) AuthCodeURL(a *App, state string, opts ...oauth2.AuthCodeOption) string {
	has := map[string]bool{}
	for _, p := range wire.OptionParams(opts) {
		has[p.Key] = true
	}
	if has["code_challenge"] && !has["code_challenge_method"] {
		opts = append(opts, oauth2.SetAuthURLParam("code_challenge_method", "S256"))
	}
	return g.Platform.AuthCodeURL(a, "", state, a.Scopes, opts...)
}

// call is a form-encoded call to path on the token host ("" for the token
// URL itself), with the app's credentials after ps.
func (g *Global) call(op, path string, a *App, ps []wire.Param, secrets ...string) *wire.Request {
	url := g.TokenURL(a)
	if path != "" {
		url = g.URL(a, path)
	}
	return &wire.Request{Provider: g.Name, Op: op, URL: url, Encoding: wire.Form,
		Params:  append(ps, wire.Param{Key: "client_key", Value: a.ClientKey}, wire.Param{Key: "client_secret", Value: a.ClientSecret}),
		Secrets: append(secrets, a.ClientSecret)}
}

// Exchange trades a code for a token; redirect_uri is sent, as the code
// is bound to it, and opts add code_verifier.
func (g *Global) Exchange(ctx context.Context, a *App, code string, opts ...oauth2.AuthCodeOption) (*oauth2.Token, error) {
	ps := wire.WithOptions([]wire.Param{{Key: "grant_type", Value: "authorization_code"}, {Key: "code", Value: code}, {Key: "redirect_uri", Value: a.RedirectURL}}, opts)
	return wire.Do(ctx, g.call(OpExchange, "", a, ps, code), wire.DecodeFlatAt(wire.Clock(ctx), nil))
}

// Refresh trades t's refresh token, with the secret, for a new token and
// a new refresh token (the old one dies).
func (g *Global) Refresh(ctx context.Context, a *App, t *oauth2.Token) (*oauth2.Token, error) {
	if t == nil || t.RefreshToken == "" {
		return nil, &wire.Error{Provider: g.Name, Op: OpRefresh, Kind: wire.ErrInvalidGrant, Cause: errNoRefreshToken}
	}
	ps := []wire.Param{{Key: "grant_type", Value: "refresh_token"}, {Key: "refresh_token", Value: t.RefreshToken}}
	return wire.Do(ctx, g.call(OpRefresh, "", a, ps, t.RefreshToken, t.AccessToken), wire.DecodeFlatAt(wire.Clock(ctx), t))
}

// ClientToken fetches an app-level token (grant client_credentials).
func (g *Global) ClientToken(ctx context.Context, a *App) (*oauth2.Token, error) {
	ps := []wire.Param{{Key: "grant_type", Value: "client_credentials"}}
	return wire.Do(ctx, g.call(OpClientToken, "", a, ps), wire.DecodeFlatAt(wire.Clock(ctx), nil))
}

// Revoke revokes t's access token.
func (g *Global) Revoke(ctx context.Context, a *App, t *oauth2.Token) error {
	if t == nil {
		t = &oauth2.Token{}
	}
	r := g.call("revoke", g.RevokePath, a, []wire.Param{{Key: "token", Value: t.AccessToken}}, t.AccessToken, t.RefreshToken)
	return wire.Call(ctx, r, wire.DecodeAck)
}

// UserInfo fetches fields of t's user with a GET and "Authorization:
// Bearer", never with the token in the URL, refreshing and retrying once
// as [Platform.UserInfo] does.
func (g *Global) UserInfo(ctx context.Context, a *App, t *oauth2.Token, fields []string) (*TikTokUser, error) {
	if t == nil {
		t = &oauth2.Token{}
	}
	var u *TikTokUser
	nt, err := wire.RetryInvalidToken(ctx, t, func(ctx context.Context, t *oauth2.Token) (*oauth2.Token, error) {
		return g.Refresh(ctx, a, t)
	}, func(t *oauth2.Token) error {
		r := &wire.Request{
			Provider: g.Name, Op: OpUserInfo, URL: g.URL(a, g.UserInfoPath), Method: http.MethodGet,
			Params:  []wire.Param{{Key: "fields", Value: strings.Join(fields, ",")}},
			Header:  http.Header{"Authorization": {"Bearer " + t.AccessToken}},
			Secrets: []string{a.ClientSecret, t.AccessToken, t.RefreshToken},
		}
		return wire.Call(ctx, r, func(status int, body []byte) (e *wire.Error) {
			u, e = DecodeTikTokUser(status, body)
			return e
		})
	})
	return withToken(u, nt, err, func(u *TikTokUser) **oauth2.Token { return &u.Token })
}

// BearerClient returns an *http.Client that sends src's token as
// "Authorization: Bearer". Its transport is the one of the client in ctx.
func BearerClient(ctx context.Context, src oauth2.TokenSource) *http.Client {
	return &http.Client{Transport: &wire.HeaderTransport{Source: src, Base: wire.ContextClient(ctx).Transport, Header: "Authorization", Scheme: "Bearer"}}
}

// Bridge returns the client that lets plain x/oauth2 flows talk to the
// platform at e (zero: the platform's Endpoint); flow turns the app a
// request describes into the provider's Config.
func (g *Global) Bridge(e oauth2.Endpoint, base *http.Client, flow func(*App) bridge.Flow) *http.Client {
	return bridge.Client(base, &bridge.Provider{Name: g.Name, TokenURLs: []string{g.TokenURL(&App{Endpoint: e})},
		For: func(id, secret string) bridge.Flow {
			return flow(&App{ClientKey: id, ClientSecret: secret, Endpoint: e})
		}})
}
