package oauth2x

import (
	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x/internal/wire"
)

// Error kinds. Every error a token call returns matches exactly one of them
// with errors.Is; each says what the caller should do. [KindOf] finds the
// kind of any token error, including a plain *oauth2.RetrieveError.
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

// Error is the type of every error a provider's token call returns
// (Exchange, Refresh, RenewRefreshToken, ClientToken, and a token source's
// Token). Its text names the provider and the call, the provider's code and
// log id, and what to do; never a secret, a code or a token.
//
// It unwraps to its Kind, so errors.Is(err, oauth2x.ErrInvalidGrant)
// works, and, when the provider answered, to a *oauth2.RetrieveError, so
// code written for x/oauth2 keeps working with errors.As (not with a type
// assertion: err.(*oauth2.RetrieveError) fails, as it does for any wrapped
// error):
//
//	var re *oauth2.RetrieveError
//	if errors.As(err, &re) && re.ErrorCode == "invalid_grant" { … }
//
// To read the provider's own code and log id:
//
//	var e *oauth2x.Error
//	if errors.As(err, &e) { log.Print(e.Code, e.LogID) }
type Error struct {
	// Provider names the provider: "douyin", "toutiao", "fantem",
	// "tiktok", "oauth2" for a plain *oauth2.Config behind
	// ConfigRefresher, or "oauth2x" when a token source itself fails a
	// refresh (a refresher's answer without a usable token, or one that
	// outlived RefreshTimeout).
	Provider string
	// Op names the call: "exchange", "refresh", "renew refresh token",
	// "client token", "user info", "revoke", or "bridge" for a request a
	// bridge refuses.
	Op string
	// Kind is one of the Err* kinds; nil when the caller's context was
	// cancelled or timed out before an answer came.
	Kind error
	// Code is the provider's own error code as it sent it: a number such
	// as "10010" from Douyin and Toutiao, an RFC 6749 code such as
	// "invalid_grant" from Fantem; empty when it sent none. The RFC 6749
	// code the failure corresponds to is in Retrieve.ErrorCode.
	Code string
	// Description is the provider's description, secrets removed.
	Description string
	// LogID is the provider's log id for the call, which its support asks
	// for; empty when it sent none.
	LogID string
	// Status is the HTTP status of the answer; 0 when no answer came.
	Status int
	// Retrieve is what errors.As finds for *oauth2.RetrieveError when the
	// provider answered: ErrorCode is the RFC 6749 code ("invalid_grant",
	// "invalid_client", "invalid_request", …), ErrorDescription the
	// provider's code, description and log id, Body the answer with
	// secrets removed, Response its status and headers. Nil when no answer
	// came.
	Retrieve *oauth2.RetrieveError
	// Cause is the network, context or decoding error behind the failure;
	// nil when the provider's answer says it all.
	Cause error
}

func init() { wire.Export = fromWire }

// fromWire converts the engine's error at the boundary, as x/oauth2
// converts internal.RetrieveError into oauth2.RetrieveError.
func fromWire(e *wire.Error) error {
	return &Error{
		Provider: e.Provider, Op: e.Op, Kind: e.Kind, Code: e.Code, Description: e.Description,
		LogID: e.LogID, Status: e.Status, Retrieve: e.Retrieve, Cause: e.Cause,
	}
}

func (e *Error) wire() *wire.Error {
	return &wire.Error{
		Provider: e.Provider, Op: e.Op, Kind: e.Kind, Code: e.Code, Description: e.Description,
		LogID: e.LogID, Status: e.Status, Retrieve: e.Retrieve, Cause: e.Cause,
	}
}

// Error says which provider and call failed, the provider's code,
// description and log id, and what to do.
func (e *Error) Error() string { return e.wire().Error() }

// Unwrap lets errors.Is and errors.As see the kind, the RetrieveError and
// the cause.
func (e *Error) Unwrap() []error { return e.wire().Unwrap() }

// Temporary reports whether retrying the same call later may succeed:
// the kind is [ErrTemporary] or [ErrRateLimited].
func (e *Error) Temporary() bool { return e.Kind == ErrTemporary || e.Kind == ErrRateLimited }

// KindOf returns the kind of any error a token call returned, whichever
// way it came, so that one check serves every path:
//
//   - an *[Error] from a provider's Config or a token source: its Kind;
//   - a *oauth2.RetrieveError from a plain *oauth2.Config, through a
//     provider's Bridge (which keeps the kind) or from a standard OAuth 2.0
//     server (classified by its RFC 6749 code, then its status);
//   - a network error: [ErrTemporary].
//
// It returns nil for a cancelled or timed-out context and for errors that
// are not about a token call.
//
//	if oauth2x.KindOf(err) == oauth2x.ErrInvalidGrant { // send the user to log in again
func KindOf(err error) error { return wire.KindOf(err) }

// IsTemporary reports whether retrying the same call later may succeed:
// the kind ([KindOf]) is [ErrTemporary] or [ErrRateLimited].
func IsTemporary(err error) bool {
	k := KindOf(err)
	return k == ErrTemporary || k == ErrRateLimited
}
