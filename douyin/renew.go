package douyin

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
)

// Renewing is an [oauth2x.Refresher] that also renews the refresh token
// when it is within Within of its expiry, so that a user's grant outlives
// the refresh token's 30 days (five times at most). Use it with
// oauth2x.NewTokenSource; it is opt-in because renewing needs the
// renew_refresh_token permission.
//
// Refresh refreshes first and renews second, so that no failure can leave
// the token source holding a refresh token that renewal killed. A failed
// renewal does not fail the refresh: the refreshed token is returned and
// the failure goes to OnError. When Douyin refuses for good (10020, the
// limit of five), OnError receives an [oauth2x.ErrInvalidGrant] error while
// the refresh token still has Within left: time to ask the user to
// authorize again, before anything stops working. A temporary failure is
// retried an hour later.
//
// Each refresh token is renewed at most once, and the window is at most
// half the refresh token's lifetime (as ExpireEarly is for the access
// token): a Within longer than that (say 31 days of a 30-day refresh
// token) would otherwise renew on every refresh and spend all five
// renewals at once.
//
// A Renewing is safe for concurrent use; it must not be copied after first
// use.
type Renewing struct {
	// Config is the app. Required.
	Config *Config
	// Within is how long before the refresh token's expiry it is renewed,
	// at most half the refresh token's lifetime. Optional; zero means 5
	// days.
	Within time.Duration
	// OnError is told of every failed renewal. Optional; nil logs it with
	// log/slog's default logger at warning level.
	OnError func(error)
	// Now is the clock. Optional; nil means time.Now.
	Now func() time.Time

	mu       sync.Mutex // guards the fields below
	failedRT string     // the refresh token whose renewal failed last
	retryAt  time.Time  // when to try renewing failedRT again; zero: never
	renewed  string     // the refresh token renewed last: never renewed again
}

const (
	renewRetry = time.Hour
	// refreshTokenLife is the refresh token's lifetime (30 days, and 30
	// fresh days on renewal).
	refreshTokenLife = 30 * 24 * time.Hour
)

func (r *Renewing) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// window is how long before a refresh token expires it is renewed. A
// refresh answer's refresh_expires_in is what is left of the refresh
// token, not its lifetime, so the lifetime is Douyin's documented one.
func (r *Renewing) window() time.Duration {
	w := r.Within
	if w <= 0 {
		w = 5 * 24 * time.Hour
	}
	return min(w, refreshTokenLife/2)
}

// RefreshDue returns when t's refresh token enters the renewal window, or,
// after a failed renewal of it, when to try again; the zero time once
// Douyin has refused it for good, or once it has been renewed.
func (r *Renewing) RefreshDue(t *oauth2.Token) time.Time {
	exp := oauth2x.RefreshExpiry(t)
	if exp.IsZero() || t == nil {
		return time.Time{}
	}
	due := exp.Add(-r.window())
	r.mu.Lock()
	defer r.mu.Unlock()
	if t.RefreshToken == r.renewed {
		return time.Time{}
	}
	if t.RefreshToken == r.failedRT {
		if r.retryAt.IsZero() || r.retryAt.After(exp) {
			return time.Time{}
		}
		if r.retryAt.After(due) {
			due = r.retryAt
		}
	}
	return due
}

// Refresh refreshes the access token, then renews the refresh token if it
// is due.
func (r *Renewing) Refresh(ctx context.Context, t *oauth2.Token) (*oauth2.Token, error) {
	nt, err := r.Config.Refresh(ctx, t)
	if err != nil {
		return nil, err
	}
	if due := r.RefreshDue(nt); due.IsZero() || r.now().Before(due) {
		return nt, nil
	}
	r.mu.Lock()
	r.renewed = nt.RefreshToken // claimed before the call, so that concurrent refreshes renew it once
	r.mu.Unlock()
	renewed, err := r.Config.RenewRefreshToken(ctx, nt)
	if err == nil {
		return renewed, nil
	}
	r.mu.Lock()
	r.renewed = ""
	r.failedRT, r.retryAt = nt.RefreshToken, time.Time{}
	if !errors.Is(err, oauth2x.ErrInvalidGrant) {
		r.retryAt = r.now().Add(renewRetry)
	}
	r.mu.Unlock()
	if r.OnError != nil {
		r.OnError(err)
	} else {
		slog.Warn("refresh token renewal failed", "err", err)
	}
	return nt, nil
}
