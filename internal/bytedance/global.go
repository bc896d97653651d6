package bytedance

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
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
	// TokenPath is the documented path of the token URL; RevokePath and
	// UserInfoPath go after the prefix an app's token URL has in front
	// of it (a gateway's "/tiktok/v2/oauth/token/").
	TokenPath, RevokePath, UserInfoPath string
}

// url returns path next to the app's token URL, after its prefix; a token
// URL that is no URL is returned as it is, for the call to fail on it.
func (g *Global) url(a *App, path string) string {
	tokenURL := g.TokenURL(a)
	u, err := wire.Sibling(tokenURL, g.TokenPath, path)
	if err != nil {
		return tokenURL
	}
	return u
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
		url = g.url(a, path)
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
		return nil, wire.NoRefreshToken(g.Name, OpRefresh)
	}
	ps := []wire.Param{{Key: "grant_type", Value: "refresh_token"}, {Key: "refresh_token", Value: t.RefreshToken}}
	return wire.Do(ctx, g.call(OpRefresh, "", a, ps, t.RefreshToken, t.AccessToken), wire.DecodeFlatAt(wire.Clock(ctx), t))
}

// ClientToken fetches an app-level token (grant client_credentials).
func (g *Global) ClientToken(ctx context.Context, a *App) (*oauth2.Token, error) {
	ps := []wire.Param{{Key: "grant_type", Value: "client_credentials"}}
	return wire.Do(ctx, g.call(OpClientToken, "", a, ps), wire.DecodeFlatAt(wire.Clock(ctx), nil))
}

// OpRevoke names the revoke call in errors.
const OpRevoke = "revoke"

// errNoAccessToken is the cause when a call that needs an access token gets none.
var errNoAccessToken = errors.New("token carries no access token")

// Revoke revokes t's access token. No token is refused before any call.
func (g *Global) Revoke(ctx context.Context, a *App, t *oauth2.Token) error {
	if t == nil || t.AccessToken == "" {
		return wire.Refused(g.Name, OpRevoke, wire.ErrInvalidRequest, errNoAccessToken)
	}
	r := g.call(OpRevoke, g.RevokePath, a, []wire.Param{{Key: "token", Value: t.AccessToken}}, t.AccessToken, t.RefreshToken)
	return wire.Call(ctx, r, wire.DecodeAck)
}

// UserInfo fetches fields of t's user with a GET and "Authorization:
// Bearer", never with the token in the URL. It makes one call: an access
// token TikTok calls invalid is an ErrInvalidToken, for the caller's token
// source to refresh (the Config's Client does it and retries).
func (g *Global) UserInfo(ctx context.Context, a *App, t *oauth2.Token, fields []string) (*TikTokUser, error) {
	if t == nil || t.AccessToken == "" {
		return nil, wire.Refused(g.Name, OpUserInfo, wire.ErrInvalidRequest, errNoAccessToken)
	}
	var u *TikTokUser
	r := &wire.Request{
		Provider: g.Name, Op: OpUserInfo, URL: g.url(a, g.UserInfoPath), Method: http.MethodGet,
		Params:  []wire.Param{{Key: "fields", Value: strings.Join(fields, ",")}},
		Header:  http.Header{"Authorization": {"Bearer " + t.AccessToken}},
		Secrets: []string{a.ClientSecret, t.AccessToken, t.RefreshToken},
	}
	err := wire.Call(ctx, r, func(status int, body []byte) (e *wire.Error) {
		u, e = DecodeTikTokUser(status, body)
		return e
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// BearerClient returns an *http.Client that sends src's token as
// "Authorization: Bearer". Its transport is the one of the client in ctx.
// When src is an Invalidator (a Config's TokenSource) and an answer says
// the access token is invalid (error.code access_token_invalid), it
// refreshes through src and sends the request once more.
func BearerClient(ctx context.Context, src oauth2.TokenSource) *http.Client {
	return &http.Client{Transport: &wire.RetryTransport{
		HeaderTransport: wire.HeaderTransport{Source: src, Base: wire.ContextClient(ctx).Transport, Header: "Authorization", Scheme: "Bearer"},
		Invalid: func(status int, body []byte) bool {
			_, e := DecodeTikTokUser(status, body)
			return e != nil && e.Kind == wire.ErrInvalidToken
		},
	}}
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
