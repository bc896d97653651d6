package wire

import (
	"errors"
	"strings"

	"golang.org/x/oauth2"
)

// ValidToken reports whether s is a token as RFC 6750 section 2.1 writes
// one: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" )
// *"=". A token outside it (a space, a NUL, CR or LF, a terminal escape)
// cannot travel in a header as the provider reads it: every API call
// would fail for the token's lifetime, and printing it would write
// control characters to a terminal.
func ValidToken(s string) bool {
	i := 0
	for i < len(s) && b64Byte(s[i]) {
		i++
	}
	if i == 0 {
		return false
	}
	for i < len(s) && s[i] == '=' {
		i++
	}
	return i == len(s)
}

// b64Byte reports whether c is one of b64token's characters before the
// trailing "=".
func b64Byte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/'
}

// errAccessSyntax, errRefreshSyntax and errTokenType are the causes when an answer's token
// cannot be used as it stands.
var (
	errAccessSyntax  = errors.New("the access token is not of RFC 6750 token syntax (letters, digits, -._~+/ then =)")
	errRefreshSyntax = errors.New("the refresh token is not of RFC 6750 token syntax (letters, digits, -._~+/ then =)")
	errTokenType     = errors.New(`token_type is neither empty nor "Bearer": the library sends bearer tokens only`)
)

// CheckToken refuses a token the library could not use as it stands, with
// an [ErrBadResponse] error: an access token (when there is one) or a
// refresh token (when there is one) outside RFC 6750 token syntax (see
// [ValidToken]), or a token_type that would change the header sent (MAC,
// Basic, one with CR or LF, …). It normalises "bearer" in any case to
// "Bearer", which is how x/oauth2 sends it; an empty token_type stays
// empty, which x/oauth2 reads as Bearer.
func CheckToken(t *oauth2.Token) *Error {
	switch {
	case t.AccessToken != "" && !ValidToken(t.AccessToken):
		return &Error{Kind: ErrBadResponse, Cause: errAccessSyntax}
	case t.RefreshToken != "" && !ValidToken(t.RefreshToken):
		return &Error{Kind: ErrBadResponse, Cause: errRefreshSyntax}
	case t.TokenType == "" || t.TokenType == "Bearer":
	case strings.EqualFold(t.TokenType, "bearer"):
		t.TokenType = "Bearer"
	default:
		return &Error{Kind: ErrBadResponse, Cause: errTokenType}
	}
	return nil
}
