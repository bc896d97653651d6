// Package oauth2x lets golang.org/x/oauth2 work with OAuth 2.0 providers
// whose token APIs break RFC 6749 — Douyin, Toutiao and the Fantem gateway —
// and does the token lifecycle better than x/oauth2 itself.
//
// Each provider lives in its own package (douyin, toutiao, fantem) with a
// Config whose methods have the signatures of *oauth2.Config's, so code
// written against one works against the other (see [Flow]). Tokens are
// plain *oauth2.Token values; what a provider says beyond the standard
// fields is in Token.Extra.
//
// [NewTokenSource] caches, refreshes and persists a token: reads never wait
// on a refresh, concurrent callers cause one upstream call, a rotated
// refresh token is saved before it is handed out, and a [Store] that also
// locks lets many processes share one token.
//
// Errors from every provider unwrap to *oauth2.RetrieveError (with the
// provider's code in ErrorCode) and to one of the kinds below; see the
// README's error guide for what to do about each.
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
			return nil, &wire.Error{Provider: "oauth2", Op: "refresh", Kind: ErrInvalidGrant, Cause: errNoRefreshToken}
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
		var e *wire.Error
		if !errors.As(err, &e) || e.Status == 0 {
			return nil, err
		}
		if nt, err = refresh(oauth2.AuthStyleInParams); err == nil {
			style.Store(int32(oauth2.AuthStyleInParams))
		}
		return nt, err
	})
}

// errNoRefreshToken is the cause when a token without a refresh token is refreshed.
var errNoRefreshToken = errors.New("token has no refresh token")

// Error kinds. Every error a token call returns matches exactly one of them
// with errors.Is; each says what the caller should do.
var (
	// ErrInvalidGrant: the code, refresh token or grant is dead (used,
	// expired, revoked, renew limit reached). Send the user through
	// authorization again.
	ErrInvalidGrant = wire.ErrInvalidGrant
	// ErrInvalidClient: the client key, secret or redirect URL is wrong.
	// Fix the configuration.
	ErrInvalidClient = wire.ErrInvalidClient
	// ErrInvalidRequest: a parameter is missing or malformed. Fix the call.
	ErrInvalidRequest = wire.ErrInvalidRequest
	// ErrInsufficientScope: the app lacks a permission. Apply for the scope.
	ErrInsufficientScope = wire.ErrInsufficientScope
	// ErrInvalidToken: the access token used is invalid or expired. Refresh.
	ErrInvalidToken = wire.ErrInvalidToken
	// ErrRateLimited: too many calls. Back off and retry later.
	ErrRateLimited = wire.ErrRateLimited
	// ErrTemporary: network failure, 5xx, or the provider is busy. Retry later.
	ErrTemporary = wire.ErrTemporary
	// ErrBadResponse: the answer was not a token nor a recognisable error
	// (HTML from a gateway, cut short, too large). Retry later; report it if
	// it persists.
	ErrBadResponse = wire.ErrBadResponse
	// ErrRejected: the provider refused with a code the library does not
	// classify. Read the code and description.
	ErrRejected = wire.ErrRejected
)

// Error is the type of every error a token call returns. Use errors.Is
// with the kinds above and errors.As with *oauth2.RetrieveError rather than
// inspecting it directly; its text names the provider and the call, the
// provider's code and log id, and never a secret, code or token.
type Error = wire.Error

// IsTemporary reports whether retrying the same call later may succeed:
// [ErrTemporary] or [ErrRateLimited].
func IsTemporary(err error) bool { return wire.IsTemporary(err) }
