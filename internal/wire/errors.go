// Package wire is the one engine every provider package describes itself to:
// request encoding, capped body reads, tolerant decoding, error
// classification and redaction. Provider packages never talk HTTP by hand.
package wire

import (
	"errors"
	"strconv"
	"strings"

	"golang.org/x/oauth2"
)

// Error kinds. The root package re-exports them; see its documentation.
var (
	ErrInvalidGrant      = errors.New("grant is dead: send the user through authorization again")
	ErrInvalidClient     = errors.New("client rejected: fix the client key, secret or redirect URL")
	ErrInvalidRequest    = errors.New("request rejected: a parameter is missing or malformed")
	ErrInsufficientScope = errors.New("permission missing: apply for the scope")
	ErrInvalidToken      = errors.New("access token invalid or expired: refresh it")
	ErrRateLimited       = errors.New("rate limited: back off and retry later")
	ErrTemporary         = errors.New("temporary failure: retry later")
	ErrBadResponse       = errors.New("malformed answer from the token endpoint")
	ErrRejected          = errors.New("the provider refused the call: see its code and description")
)

// Error is what every failed token call returns. It unwraps to its Kind,
// to a *oauth2.RetrieveError when the provider answered, and to the
// underlying cause (a network or context error) when there was one.
type Error struct {
	Provider    string // "douyin"
	Op          string // "exchange", "refresh", "renew", "client token"
	Kind        error  // one of the Err* sentinels
	Code        string // provider's code ("10007") or RFC 6749 code
	Description string // provider's description, redacted
	LogID       string // provider's log id, for its support
	Status      int    // HTTP status, 0 when no answer came
	Retrieve    *oauth2.RetrieveError
	Cause       error // network, context or decode error; nil otherwise
}

// Error says which provider and call failed, the provider's code,
// description and log id, and what to do; never a secret.
func (e *Error) Error() string {
	var details, notes []string
	if e.Code != "" {
		details = append(details, "error "+e.Code)
	}
	if e.Description != "" {
		details = append(details, strconv.Quote(e.Description))
	}
	if e.Cause != nil {
		details = append(details, e.Cause.Error())
	}
	if e.Status != 0 && (len(details) == 0 || e.Status != 200) {
		notes = append(notes, "HTTP "+strconv.Itoa(e.Status))
	}
	if e.LogID != "" {
		notes = append(notes, "log id "+e.LogID)
	}
	s := e.Provider + ": " + e.Op
	if len(details) > 0 {
		s += ": " + strings.Join(details, " ")
	}
	if len(notes) > 0 {
		s += " (" + strings.Join(notes, ", ") + ")"
	}
	if e.Kind != nil {
		s += ": " + e.Kind.Error()
	}
	return s
}

// Unwrap lets errors.Is and errors.As see the kind, the RetrieveError and the cause.
func (e *Error) Unwrap() []error {
	errs := make([]error, 0, 3)
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Retrieve != nil {
		errs = append(errs, e.Retrieve)
	}
	if e.Cause != nil {
		errs = append(errs, e.Cause)
	}
	return errs
}

// Temporary reports whether retrying the same call later may succeed.
func (e *Error) Temporary() bool {
	return e.Kind == ErrTemporary || e.Kind == ErrRateLimited
}

// IsTemporary reports whether err is worth retrying later: a network
// failure, a 5xx, a provider's "busy" or a rate limit. A dead grant, a bad
// configuration or a malformed request is not.
func IsTemporary(err error) bool {
	return errors.Is(err, ErrTemporary) || errors.Is(err, ErrRateLimited)
}
