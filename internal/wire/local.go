package wire

import (
	"errors"

	"golang.org/x/oauth2"
)

// ErrNoRefreshToken is the cause when a token without a refresh token
// (or no token at all) is refreshed.
var ErrNoRefreshToken = errors.New("token has no refresh token")

// NoRefreshToken is the error of refreshing a token that has no refresh
// token, or of refreshing no token: a dead grant, passed through [Export].
// Like a provider's invalid_grant answer it carries an
// *oauth2.RetrieveError whose ErrorCode is "invalid_grant", so a check
// written for x/oauth2 (errors.As with a RetrieveError, then its
// ErrorCode) sees a dead grant on this path too.
func NoRefreshToken(provider, op string) error {
	e := &Error{Provider: provider, Op: op, Kind: ErrInvalidGrant, Cause: ErrNoRefreshToken}
	e.Retrieve = &oauth2.RetrieveError{ErrorCode: "invalid_grant", ErrorDescription: e.Detail()}
	return Export(e)
}

// Refused is the error of a call refused before anything was sent (a
// missing token, an open id the token lacks), passed through [Export]
// so that it is the same public type as every other failure.
func Refused(provider, op string, kind, cause error) error {
	return Export(&Error{Provider: provider, Op: op, Kind: kind, Cause: cause})
}
