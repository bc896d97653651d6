// Package wire is the one engine every provider package describes itself to:
// request encoding, capped body reads, tolerant decoding, error
// classification and redaction. Provider packages never talk HTTP by hand.
package wire

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
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
	ErrBadResponse       = errors.New("malformed answer from the provider")
	ErrRejected          = errors.New("the provider refused the call: see its code and description")
)

// Error is the engine's description of a failed token call. It never
// leaves the module as it is: [Export] turns it into the root package's
// public oauth2x.Error, as x/oauth2 turns internal.RetrieveError into
// oauth2.RetrieveError. It unwraps to its Kind, to a *oauth2.RetrieveError
// when the provider answered, and to the underlying cause (a network or
// context error) when there was one.
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

// Export turns an *Error into the error a public call returns. The root
// package sets it, at initialisation, to convert to oauth2x.Error; every
// package that returns token errors imports the root package, so the
// conversion is in place before any call. Unset, errors stay *Error.
var Export = func(e *Error) error { return e }

// Error says which provider and call failed, the provider's code,
// description and log id, and what to do; never a secret.
func (e *Error) Error() string {
	s := e.Detail()
	if e.Kind != nil {
		s += ": " + e.Kind.Error()
	}
	return s
}

// Detail is the error's text without the kind's advice: provider, call,
// code, description, cause, status and log id. It is the description a
// RetrieveError carries, whether the error came directly or through the
// bridge.
func (e *Error) Detail() string {
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

// kindTable names each kind in one word, for the bridge's "error_kind"
// field (the RFC 6749 code alone cannot carry every kind: a refusal the
// library does not classify and a malformed answer have no RFC code of
// their own, and the kind must survive the round trip), and gives the RFC
// 6749 (or RFC 6750) code and HTTP status it corresponds to.
var kindTable = []struct {
	kind   error
	name   string
	code   string
	status int
}{
	{ErrInvalidGrant, "invalid_grant", "invalid_grant", http.StatusBadRequest},
	{ErrInvalidClient, "invalid_client", "invalid_client", http.StatusUnauthorized},
	{ErrInvalidRequest, "invalid_request", "invalid_request", http.StatusBadRequest},
	{ErrInsufficientScope, "insufficient_scope", "invalid_scope", http.StatusBadRequest},
	{ErrInvalidToken, "invalid_token", "invalid_token", http.StatusUnauthorized},
	{ErrRateLimited, "rate_limited", "slow_down", http.StatusTooManyRequests},
	{ErrTemporary, "temporary", "temporarily_unavailable", http.StatusServiceUnavailable},
	{ErrBadResponse, "bad_response", "server_error", http.StatusBadGateway},
	{ErrRejected, "rejected", "invalid_request", http.StatusBadRequest},
}

// KindName returns the one-word name of kind, or "" for nil or an unknown kind.
func KindName(kind error) string {
	for _, k := range kindTable {
		if k.kind == kind {
			return k.name
		}
	}
	return ""
}

// KindNamed returns the kind whose name is name, or nil.
func KindNamed(name string) error {
	for _, k := range kindTable {
		if k.name == name {
			return k.kind
		}
	}
	return nil
}

// RFCCode returns the RFC 6749 (or RFC 6750) error code and HTTP status
// that kind corresponds to: what x/oauth2 code reads in
// RetrieveError.ErrorCode, and what the bridge answers. An unknown or nil
// kind is an invalid_request.
func RFCCode(kind error) (code string, status int) {
	for _, k := range kindTable {
		if k.kind == kind {
			return k.code, k.status
		}
	}
	return "invalid_request", http.StatusBadRequest
}

// retrieveCode is the ErrorCode of e's RetrieveError: the provider's own
// code when it is an RFC 6749 one, else the code e's kind corresponds to,
// so that x/oauth2 code checking re.ErrorCode == "invalid_grant" works
// with every provider.
func (e *Error) retrieveCode() string {
	if rfcKinds[e.Code] != nil {
		return e.Code
	}
	code, _ := RFCCode(e.Kind)
	return code
}

// KindOf classifies any error a token call can return, whichever way it
// came: an *Error (or anything unwrapping to a kind), a *oauth2.RetrieveError
// from x/oauth2 (through the bridge or from a standard server), a network
// error. It returns one of the kinds, or nil for a cancelled or timed-out
// context and for errors that are not about a token call.
func KindOf(err error) error {
	if err == nil {
		return nil
	}
	for _, k := range kindTable {
		if errors.Is(err, k.kind) {
			return k.kind
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil // the caller's own cancellation, even with part of an answer
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return RetrieveKind(re)
	}
	var ne net.Error
	var ue *url.Error
	if errors.As(err, &ne) || errors.As(err, &ue) {
		return ErrTemporary
	}
	return nil
}

// RetrieveKind classifies an error answer that x/oauth2 returned as a
// *oauth2.RetrieveError: by the "error_kind" the bridge adds, then by the
// RFC 6749 code (from ErrorCode or the body), then by the status.
func RetrieveKind(re *oauth2.RetrieveError) error {
	var a struct {
		Error String `json:"error"`
		Kind  String `json:"error_kind"`
	}
	if json.Unmarshal(re.Body, &a) == nil {
		if k := KindNamed(string(a.Kind)); k != nil {
			return k
		}
	}
	code := re.ErrorCode
	if code == "" {
		code = string(a.Error)
	}
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	return rfcKind(code, status)
}
