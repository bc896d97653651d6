package wire

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/oauth2"
)

// MaxLifetime bounds any expires_in we accept: ten years. A larger value is
// a broken answer, not a token to keep forever.
const MaxLifetime = 10 * 365 * 24 * time.Hour

// Int is a JSON integer that may arrive as a number ("86400" or 86400) or
// as a string of one. Null and "" decode to zero with Set false. A
// fractional or out-of-range value is an error.
type Int struct {
	V   int64
	Set bool
}

// UnmarshalJSON implements json.Unmarshaler.
func (n *Int) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		s, ok := plainString(b)
		if !ok {
			if err := json.Unmarshal(b, &s); err != nil {
				return err
			}
		}
		b = []byte(strings.TrimSpace(s))
	}
	if len(b) == 0 || string(b) == "null" {
		*n = Int{}
		return nil
	}
	v, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(string(b), 64)
		if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return fmt.Errorf("not an integer: %.40q", b)
		}
		v = int64(f)
	}
	*n = Int{V: v, Set: true}
	return nil
}

// String is a JSON string that tolerates a number in its place.
type String string

// UnmarshalJSON implements json.Unmarshaler.
func (s *String) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) > 0 && b[0] == '"':
		if v, ok := plainString(b); ok {
			*s = String(v)
			return nil
		}
		var v string
		err := json.Unmarshal(b, &v)
		*s = String(v)
		return err
	case string(b) == "null":
		*s = ""
		return nil
	case len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		*s = String(b)
		return nil
	}
	return fmt.Errorf("not a string: %.40q", b)
}

// plainString returns the value of the JSON string literal b when it is
// printable ASCII without escapes: its bytes between the quotes, which is
// what json.Unmarshal would return, without json.Unmarshal's cost. Token
// answers' strings are such literals.
func plainString(b []byte) (string, bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return "", false
	}
	in := b[1 : len(b)-1]
	for _, c := range in {
		if c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			return "", false
		}
	}
	return string(in), true
}

// Lifetime checks an expires_in value and turns it into a duration.
func Lifetime(name string, n Int, required bool) (time.Duration, error) {
	if !n.Set {
		if required {
			return 0, fmt.Errorf("%s missing", name)
		}
		return 0, nil
	}
	if n.V <= 0 {
		return 0, fmt.Errorf("%s is %d, not a positive number of seconds", name, n.V)
	}
	if d := time.Duration(n.V) * time.Second; n.V <= int64(MaxLifetime/time.Second) {
		return d, nil
	}
	return 0, fmt.Errorf("%s is %d seconds, more than ten years", name, n.V)
}

// Extra keys the library writes into a token beyond the provider's own.
const (
	// ExtraRefreshExpiry holds the refresh token's expiry as Unix seconds,
	// computed from refresh_expires_in when the token was issued, so it
	// stays meaningful after a save and a load.
	ExtraRefreshExpiry = "refresh_token_expiry"
)

// TokenFields is what a decoder found in a successful answer.
type TokenFields struct {
	AccessToken  string
	TokenType    string
	RefreshToken string
	ExpiresIn    time.Duration // 0: no expiry given
	RefreshIn    time.Duration // 0: unknown
	Extra        map[string]any
}

type clockKey struct{}

// WithClock returns a context whose token calls stamp expiries with now
// instead of time.Now. The token source passes its Options.Now this way, so
// that one clock rules both the expiries and the decisions made on them.
func WithClock(ctx context.Context, now func() time.Time) context.Context {
	return context.WithValue(ctx, clockKey{}, now)
}

// Clock returns the current time by ctx's clock (see WithClock).
func Clock(ctx context.Context) time.Time {
	if now, ok := ctx.Value(clockKey{}).(func() time.Time); ok && now != nil {
		return now()
	}
	return time.Now()
}

// Token builds an *oauth2.Token from f, stamping expiries relative to now.
func (f *TokenFields) Token(now time.Time) *oauth2.Token {
	t := &oauth2.Token{
		AccessToken:  f.AccessToken,
		TokenType:    f.TokenType,
		RefreshToken: f.RefreshToken,
	}
	if f.ExpiresIn > 0 {
		t.ExpiresIn = int64(f.ExpiresIn / time.Second)
		t.Expiry = now.Add(f.ExpiresIn).Round(0)
	}
	extra := f.Extra
	if f.RefreshIn > 0 {
		if extra == nil {
			extra = map[string]any{}
		}
		extra[ExtraRefreshExpiry] = float64(now.Add(f.RefreshIn).Unix()) // as JSON gives numbers back
	}
	if extra != nil {
		t = t.WithExtra(extra)
	}
	return t
}

// rfcAnswer is an RFC 6749 section 5.1 / 5.2 answer, tolerant of string numbers.
type rfcAnswer struct {
	AccessToken      String `json:"access_token"`
	TokenType        String `json:"token_type"`
	RefreshToken     String `json:"refresh_token"`
	ExpiresIn        Int    `json:"expires_in"`
	Scope            String `json:"scope"`
	IDToken          String `json:"id_token"`
	Error            String `json:"error"`
	ErrorDescription String `json:"error_description"`
	ErrorURI         String `json:"error_uri"`
}

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

// DecodeRFC6749 decodes a standard token answer (JSON, numbers or strings),
// classifying errors by the body's "error" field before the status. Expiries
// are stamped with time.Now; see DecodeRFC6749At.
func DecodeRFC6749(status int, body []byte) (*oauth2.Token, *Error) {
	return decodeRFC6749(time.Now(), status, body)
}

// DecodeRFC6749At is DecodeRFC6749 with expiries stamped relative to now.
func DecodeRFC6749At(now time.Time) Decoder {
	return func(status int, body []byte) (*oauth2.Token, *Error) { return decodeRFC6749(now, status, body) }
}

// DecodeRFC6749Raw is DecodeRFC6749At that also keeps every top-level
// field of a successful answer as the token's extra, as x/oauth2 keeps
// them (Token.Extra("id_token") and the like).
func DecodeRFC6749Raw(now time.Time) Decoder {
	return func(status int, body []byte) (*oauth2.Token, *Error) {
		t, e := decodeRFC6749(now, status, body)
		if e != nil {
			return nil, e
		}
		var raw map[string]any
		if json.Unmarshal(body, &raw) == nil {
			if v := t.Extra(ExtraRefreshExpiry); v != nil {
				raw[ExtraRefreshExpiry] = v
			}
			t = t.WithExtra(raw)
		}
		return t, nil
	}
}

func decodeRFC6749(now time.Time, status int, body []byte) (*oauth2.Token, *Error) {
	var a rfcAnswer
	jerr := Unmarshal(body, &a)
	if jerr == nil && a.Error != "" {
		code := string(a.Error)
		return nil, &Error{Kind: rfcKind(code, status), Code: code, Description: string(a.ErrorDescription)}
	}
	if status < 200 || status > 299 {
		return nil, &Error{Kind: rfcKind("", status)}
	}
	if jerr != nil {
		return nil, &Error{Kind: ErrBadResponse, Cause: fmt.Errorf("answer is not a token: %w", ScrubJSONError(jerr))}
	}
	life, err := Lifetime("expires_in", a.ExpiresIn, false)
	if err != nil {
		return nil, &Error{Kind: ErrBadResponse, Cause: err}
	}
	f := TokenFields{
		AccessToken:  string(a.AccessToken),
		TokenType:    string(a.TokenType),
		RefreshToken: string(a.RefreshToken),
		ExpiresIn:    life,
	}
	if a.Scope != "" || a.IDToken != "" {
		f.Extra = map[string]any{}
		if a.Scope != "" {
			f.Extra["scope"] = string(a.Scope)
		}
		if a.IDToken != "" {
			f.Extra["id_token"] = string(a.IDToken)
		}
	}
	if f.AccessToken == "" {
		return nil, &Error{Kind: ErrBadResponse, Cause: errors.New("answer carries no access token")}
	}
	return f.Token(now), nil
}

// ScrubJSONError keeps a JSON error's meaning but never the bytes of the
// body it quotes (a body may hold a token).
func ScrubJSONError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errDuplicate(err):
		return err
	case errors.As(err, &se):
		return fmt.Errorf("invalid JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Errorf("field %q has the wrong type (%s)", te.Field, te.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("JSON cut short")
	}
	return errors.New("invalid JSON")
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
