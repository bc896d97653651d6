// Package oauth2x lets golang.org/x/oauth2 work with OAuth 2.0 providers
// whose token APIs break RFC 6749 — Douyin, Toutiao, TikTok and the Fantem
// gateway — and does the token lifecycle better than x/oauth2 itself.
//
// Each provider lives in its own package (douyin, toutiao, tiktok, fantem)
// with a Config whose methods have the signatures of *oauth2.Config's, so code
// written against one works against the other (see [Flow]). Tokens are
// plain *oauth2.Token values; what a provider says beyond the standard
// fields is in Token.Extra.
//
// [NewTokenSource] caches, refreshes and persists a token: reads never wait
// on a refresh, concurrent callers cause one upstream call, a rotated
// refresh token is saved before it is handed out, and a [Store] that also
// locks lets many processes share one token.
//
// Errors from every provider are *[Error] values that unwrap to
// *oauth2.RetrieveError (with the RFC 6749 code in ErrorCode) and to one of
// the kinds; [KindOf] classifies any token error, ours or x/oauth2's, the
// same way. See the README's error guide for what to do about each kind.
//
// # Endpoints
//
// Each provider package exports Endpoint, an oauth2.Endpoint holding its
// production authorization page and token endpoint, and each Config has an
// Endpoint field of the same type. An empty URL in the field means the
// one in the package's Endpoint variable at the time of the call, so
// reassigning douyin.Endpoint, toutiao.Endpoint or fantem.Endpoint
// redirects every Config that does not set its own (a Bridge reads it
// when it is built). Calls other than the code exchange go to the
// provider's documented paths next to TokenURL, keeping any path prefix in
// front of the documented token path ([SiblingURL]): a proxy at
// http://host/douyin/oauth/access_token/ gets refresh calls at
// http://host/douyin/oauth/refresh_token/. [EndpointAt] moves production
// endpoints to another base, keeping their paths.
package oauth2x

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x/internal/wire"
)

// Flow is what *oauth2.Config and every provider's Config have in common:
// the authorization code flow, and tokens that refresh themselves.
type Flow interface {
	AuthCodeURL(state string, opts ...oauth2.AuthCodeOption) string
	Exchange(ctx context.Context, code string, opts ...oauth2.AuthCodeOption) (*oauth2.Token, error)
	TokenSource(ctx context.Context, t *oauth2.Token) oauth2.TokenSource
	Client(ctx context.Context, t *oauth2.Token) *http.Client
}

var _ Flow = (*oauth2.Config)(nil)

// A Refresher turns an old token into a new one. Every provider Config is
// one; [ConfigRefresher] makes a plain *oauth2.Config one. Refresh must be
// safe for concurrent use.
type Refresher interface {
	Refresh(ctx context.Context, t *oauth2.Token) (*oauth2.Token, error)
}

// RefresherFunc adapts a function to a [Refresher].
type RefresherFunc func(ctx context.Context, t *oauth2.Token) (*oauth2.Token, error)

// Refresh calls f(ctx, t).
func (f RefresherFunc) Refresh(ctx context.Context, t *oauth2.Token) (*oauth2.Token, error) {
	return f(ctx, t)
}

// ConfigRefresher makes a standard *oauth2.Config (Google, GitHub, …) a
// [Refresher], so that [NewTokenSource] serves its tokens too. A refresh
// answer without a refresh token keeps the old one, as x/oauth2 does.
//
// It refreshes through the same engine as the provider Configs, sending
// what x/oauth2 sends (HTTP Basic or body credentials as
// c.Endpoint.AuthStyle says, auto-detected and remembered as x/oauth2 does)
// and decoding the answer as strictly. So it holds the same line: the
// client under oauth2.HTTPClient in ctx (or one with a 30-second timeout)
// is used through a copy that follows no redirect, so a token URL that redirects
// never gets the client secret and refresh token re-sent elsewhere; a call
// that neither ctx nor the client bounds gives up after 30 seconds; the
// error's text and its *oauth2.RetrieveError never carry the client
// secret or the tokens, however the answer echoes them; only an
// invalid_grant answer is a dead grant; and a token outside RFC 6750
// syntax, or with a token_type other than Bearer, is refused as
// [ErrBadResponse], as is an answer with duplicate keys, invalid UTF-8 or
// an expires_in out of range. Every top-level field of the answer is
// available through Token.Extra, as with x/oauth2.
func ConfigRefresher(c *oauth2.Config) Refresher {
	var style atomic.Int32 // the oauth2.AuthStyle that worked, once auto-detected
	return RefresherFunc(func(ctx context.Context, t *oauth2.Token) (*oauth2.Token, error) {
		if t == nil || t.RefreshToken == "" {
			return nil, wire.NoRefreshToken("oauth2", "refresh")
		}
		refresh := func(as oauth2.AuthStyle) (*oauth2.Token, error) {
			r := &wire.Request{
				Provider: "oauth2",
				Op:       "refresh",
				URL:      c.Endpoint.TokenURL,
				Encoding: wire.Form,
				Params:   []wire.Param{{Key: "grant_type", Value: "refresh_token"}, {Key: "refresh_token", Value: t.RefreshToken}},
				Secrets:  []string{t.AccessToken, c.ClientSecret},
			}
			if as == oauth2.AuthStyleInParams {
				r.Params = append(r.Params, wire.Param{Key: "client_id", Value: c.ClientID})
				if c.ClientSecret != "" {
					r.Params = append(r.Params, wire.Param{Key: "client_secret", Value: c.ClientSecret})
				}
			} else {
				r.BasicID, r.BasicSecret = c.ClientID, c.ClientSecret
			}
			nt, err := wire.Do(ctx, r, wire.DecodeRFC6749Raw(wire.Clock(ctx)))
			if err == nil && nt.RefreshToken == "" {
				nt.RefreshToken = t.RefreshToken
			}
			return nt, err
		}
		as := c.Endpoint.AuthStyle
		if as == oauth2.AuthStyleAutoDetect {
			as = oauth2.AuthStyle(style.Load())
		}
		if as != oauth2.AuthStyleAutoDetect {
			return refresh(as)
		}
		// As x/oauth2 does: try HTTP Basic, then the body, and remember
		// which one the server took.
		nt, err := refresh(oauth2.AuthStyleInHeader)
		if err == nil {
			style.Store(int32(oauth2.AuthStyleInHeader))
			return nt, nil
		}
		var e *Error
		if !errors.As(err, &e) || e.Status == 0 {
			return nil, err
		}
		if nt, err = refresh(oauth2.AuthStyleInParams); err == nil {
			style.Store(int32(oauth2.AuthStyleInParams))
		}
		return nt, err
	})
}
