package wire

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"golang.org/x/oauth2"
)

// rfcKinds maps RFC 6749 error codes to kinds.
var rfcKinds = map[string]error{
	"invalid_grant":           ErrInvalidGrant,
	"invalid_client":          ErrInvalidClient,
	"unauthorized_client":     ErrInvalidClient,
	"invalid_request":         ErrInvalidRequest,
	"unsupported_grant_type":  ErrInvalidRequest,
	"invalid_scope":           ErrInsufficientScope,
	"access_denied":           ErrInsufficientScope,
	"temporarily_unavailable": ErrTemporary,
	"server_error":            ErrTemporary,
	"slow_down":               ErrRateLimited,
	"invalid_token":           ErrInvalidToken, // RFC 6750
}

// rfcKind classifies an RFC 6749 error answer by its code, then by its
// status: a code the library does not know is the provider's refusal,
// unless the status says busy. Only a code proves a dead grant: a 400
// that says nothing usable (an nginx or WAF page, plain text) is a bad
// response, retried with backoff, never a grant given up for good.
func rfcKind(code string, status int) error {
	if k := rfcKinds[code]; k != nil {
		return k
	}
	switch {
	case status >= 500 || status == http.StatusTooManyRequests:
		return kindForStatus(status)
	case code != "" && strings.Trim(code, "abcdefghijklmnopqrstuvwxyz_") == "":
		return ErrRejected
	case code != "":
		return ErrBadResponse // not an error code at all: a number, a sentence
	}
	return kindForStatus(status)
}

// Classify wraps an error from x/oauth2 itself (a *oauth2.RetrieveError or
// a transport error) into an *Error with a kind, redacting secrets from
// every text as [Do] does: the secrets given, and the token values the
// answer carried.
func Classify(provider, op string, err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	e := &Error{Provider: provider, Op: op}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		e.Code, e.Description = re.ErrorCode, re.ErrorDescription
		if e.Code == "" {
			// x/oauth2 parses an error body only when it is labelled JSON.
			var a rfcAnswer
			if json.Unmarshal(re.Body, &a) == nil && a.Error != "" {
				e.Code, e.Description = string(a.Error), string(a.ErrorDescription)
			}
		}
		if re.Response != nil {
			e.Status = re.Response.StatusCode
		}
		e.Kind = RetrieveKind(re)
		uri := re.ErrorURI
		e.clean(re.Response, re.Body, secrets)
		e.Retrieve.ErrorURI = redactURL(uri, nil)
		return Export(e)
	}
	e.Kind = ErrTemporary
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		e.Kind = nil
	}
	e.Cause = redactErr(err, secrets)
	return Export(e)
}
