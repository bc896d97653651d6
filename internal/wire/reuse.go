package wire

import (
	"context"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// RefreshBound bounds a refresh a ReuseSource runs: it no longer ends with
// the caller that started it (see [ReuseSource]), so this is what ends a
// refresh that never answers.
const RefreshBound = 2 * time.Minute

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
// long it waits for a refresh (HeaderTransport uses it). The refresh
// itself carries ctx's values but not the cancellation of ctx or of any
// caller: an answer may rotate the refresh token, and a refresh abandoned
// mid-way would lose the new one while the provider has killed the old.
// So a caller whose context ends stops waiting, the refresh goes on (for
// at most [RefreshBound]) and its token is kept and handed to the next
// caller. It is safe for concurrent use; concurrent callers of an expired
// token cause one refresh.
//
// It is an [Invalidator]: told that the provider refused its access token,
// it refreshes at the next call even if the token's expiry says valid.
func ReuseSource(ctx context.Context, t *oauth2.Token, refresh func(context.Context, *oauth2.Token) (*oauth2.Token, error)) oauth2.TokenSource {
	if ctx == nil {
		ctx = context.Background()
	}
	return &reuse{ctx: ctx, refresh: refresh, t: t}
}

type reuse struct {
	ctx     context.Context
	refresh func(context.Context, *oauth2.Token) (*oauth2.Token, error)
	mu      sync.Mutex
	t       *oauth2.Token // guarded by mu
	stale   bool          // the provider refused t's access token; guarded by mu
	flight  *flight       // the refresh under way, if any; guarded by mu
}

// flight is one refresh; done closes once t and err are set.
type flight struct {
	done chan struct{}
	t    *oauth2.Token
	err  error
}

// Token returns a valid token, refreshing with the source's context.
func (s *reuse) Token() (*oauth2.Token, error) { return s.TokenContext(s.ctx) }

// TokenContext is Token with ctx bounding the wait.
func (s *reuse) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.flight == nil && s.t.Valid() && !s.stale {
		t := s.t
		s.mu.Unlock()
		return t, nil
	}
	f := s.flight
	if f == nil {
		f = &flight{done: make(chan struct{})}
		s.flight = f
		go s.run(f, s.t)
	}
	s.mu.Unlock()
	select {
	case <-f.done:
		return f.t, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// run refreshes old, detached from every caller's cancellation, and keeps
// the result for the next caller.
func (s *reuse) run(f *flight, old *oauth2.Token) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), RefreshBound)
	defer cancel()
	f.t, f.err = s.refresh(ctx, old)
	s.mu.Lock()
	if f.err == nil {
		s.t, s.stale = f.t, false
	}
	s.flight = nil
	s.mu.Unlock()
	close(f.done)
}

// Invalidate marks the source's token stale when its access token is
// accessToken, so that the next call refreshes it.
func (s *reuse) Invalidate(accessToken string) {
	s.mu.Lock()
	if s.t != nil && s.t.AccessToken == accessToken {
		s.stale = true
	}
	s.mu.Unlock()
}
