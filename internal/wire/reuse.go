package wire

import (
	"context"

	"golang.org/x/oauth2"
)

// ReuseSource returns the token source a provider's Config.TokenSource
// returns, which behaves as (*oauth2.Config).TokenSource does: it serves t
// while t is valid by x/oauth2's rule (Token.Valid: more than ten seconds
// left, or no expiry), and once it is not, refreshes in the caller's call,
// hands the new token to that caller and keeps it, rotated refresh token
// included. It never refreshes early or in the background, so a source
// built per request from a stored token costs no upstream call while the
// token is valid.
//
// Unlike x/oauth2's, it has TokenContext: a request's context bounds how
// long it waits for a refresh (HeaderTransport uses it). The refresh itself
// carries ctx's values and ends when either ctx or the caller's context
// ends. It is safe for concurrent use; concurrent callers of an expired
// token cause one refresh.
func ReuseSource(ctx context.Context, t *oauth2.Token, refresh func(context.Context, *oauth2.Token) (*oauth2.Token, error)) oauth2.TokenSource {
	if ctx == nil {
		ctx = context.Background()
	}
	return &reuse{ctx: ctx, refresh: refresh, t: t, sem: make(chan struct{}, 1)}
}

type reuse struct {
	ctx     context.Context
	refresh func(context.Context, *oauth2.Token) (*oauth2.Token, error)
	sem     chan struct{} // held while t is read or replaced
	t       *oauth2.Token // guarded by sem
}

// Token returns a valid token, refreshing with the source's context.
func (s *reuse) Token() (*oauth2.Token, error) { return s.TokenContext(s.ctx) }

// TokenContext is Token with ctx bounding the wait.
func (s *reuse) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-s.sem }()
	if s.t.Valid() {
		return s.t, nil
	}
	rctx, cancel := context.WithCancelCause(s.ctx)
	defer cancel(nil)
	stop := context.AfterFunc(ctx, func() { cancel(context.Cause(ctx)) })
	defer stop()
	nt, err := s.refresh(rctx, s.t)
	if err != nil {
		return nil, err
	}
	s.t = nt
	return nt, nil
}
