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
	"net/http"
	"time"

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
func ConfigRefresher(c *oauth2.Config) Refresher {
	return RefresherFunc(func(ctx context.Context, t *oauth2.Token) (*oauth2.Token, error) {
		if t == nil || t.RefreshToken == "" {
			return nil, &Error{Provider: "oauth2", Op: "refresh", Kind: ErrInvalidGrant, Cause: errNoRefreshToken}
		}
		// A token whose expiry is in the past makes x/oauth2 refresh.
		old := &oauth2.Token{RefreshToken: t.RefreshToken, Expiry: expired}
		nt, err := c.TokenSource(ctx, old).Token()
		if err != nil {
			return nil, wire.Classify("oauth2", "refresh", err, t.RefreshToken, c.ClientSecret)
		}
		return nt, nil
	})
}

// expired is an expiry in the past.
var expired = time.Unix(1, 0)
