package wire

import (
	"context"
	"errors"

	"golang.org/x/oauth2"
)

// Call performs r, a call of a provider's API made with a user's token
// (user info, revoke) rather than a token call, and decodes the answer
// with decode. It returns nil or an *Error, classified, redacted and
// bounded exactly as a token call's.
func Call(ctx context.Context, r *Request, decode func(status int, body []byte) *Error) error {
	rr := *r
	rr.NoAccessToken = true
	_, err := Do(ctx, &rr, func(status int, body []byte) (*oauth2.Token, *Error) {
		if e := decode(status, body); e != nil {
			return nil, e
		}
		return &oauth2.Token{}, nil
	})
	return err
}

// RetryInvalidToken calls call with t. When call fails with
// ErrInvalidToken (the provider says the access token is invalid or
// expired) and t carries a refresh token, it refreshes t once with refresh
// and calls again with the new token. It returns the new token, or nil when
// it did not refresh: a refresh may rotate the refresh token, so the
// caller must keep the new token in place of t.
func RetryInvalidToken(ctx context.Context, t *oauth2.Token, refresh func(context.Context, *oauth2.Token) (*oauth2.Token, error), call func(*oauth2.Token) error) (*oauth2.Token, error) {
	err := call(t)
	if !errors.Is(err, ErrInvalidToken) || t.RefreshToken == "" {
		return nil, err
	}
	nt, rerr := refresh(ctx, t)
	if rerr != nil {
		return nil, rerr
	}
	return nt, call(nt)
}
