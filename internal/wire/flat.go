package wire

import (
	"bytes"
	"time"

	"golang.org/x/oauth2"
)

// flatExtras are the fields a flat answer adds to RFC 6749's (TikTok's v2
// token endpoint): the user's open_id, the refresh token's remaining life
// and the request's log id, which error answers carry too.
type flatExtras struct {
	OpenID           String `json:"open_id"`
	RefreshExpiresIn Int    `json:"refresh_expires_in"`
	LogID            String `json:"log_id"`
}

// flatKinds are the codes a flat answer's provider (TikTok) tells the
// caller to handle otherwise than RFC 6749's table does: a scope or
// response type it does not take is a call to fix, and access_denied (the
// user or the server refused) is a refusal to tell the user about, not a
// permission to apply for.
var flatKinds = map[string]error{
	"invalid_scope":             ErrInvalidRequest,
	"unsupported_response_type": ErrInvalidRequest,
	"access_denied":             ErrRejected,
}

// flatKind is kind, unless flatKinds classifies code otherwise.
func flatKind(code string, kind error) error {
	if k := flatKinds[code]; k != nil {
		return k
	}
	return kind
}

// DecodeFlatAt decodes a flat RFC 6749 answer that also carries open_id,
// refresh_expires_in and log_id, with expiries stamped relative to now. A
// body carrying "error" is a failure whatever the status. prev, when not
// nil, is the token being refreshed: a refresh token or open id the answer
// leaves out is kept from it.
func DecodeFlatAt(now time.Time, prev *oauth2.Token) Decoder {
	return func(status int, body []byte) (*oauth2.Token, *Error) {
		t, e := decodeRFC6749(now, status, body)
		var x flatExtras
		if e != nil {
			// A body that was not JSON is not read twice: on a hostile
			// answer (10,000 levels of brackets) the second pass doubled
			// what the call allocated.
			if e.Code != "" && Unmarshal(body, &x) == nil {
				e.LogID = string(x.LogID)
			}
			e.Kind = flatKind(e.Code, e.Kind)
			return nil, e
		}
		if xerr := Unmarshal(body, &x); xerr != nil {
			return nil, &Error{Kind: ErrBadResponse, Cause: ScrubJSONError(xerr)}
		}
		refreshIn, err := Lifetime("refresh_expires_in", x.RefreshExpiresIn, false)
		if err != nil {
			return nil, &Error{LogID: string(x.LogID), Kind: ErrBadResponse, Cause: err}
		}
		f := TokenFields{AccessToken: t.AccessToken, TokenType: t.TokenType, RefreshToken: t.RefreshToken,
			ExpiresIn: time.Duration(t.ExpiresIn) * time.Second, RefreshIn: refreshIn, Extra: map[string]any{}}
		for k, v := range map[string]string{"open_id": string(x.OpenID), "log_id": string(x.LogID)} {
			if v != "" {
				f.Extra[k] = v
			}
		}
		if refreshIn > 0 {
			f.Extra["refresh_expires_in"] = int64(refreshIn / time.Second)
		}
		for _, k := range []string{"scope", "id_token"} {
			if v, ok := t.Extra(k).(string); ok {
				f.Extra[k] = v
			}
		}
		if prev != nil {
			if f.RefreshToken == "" {
				f.RefreshToken = prev.RefreshToken
			}
			if v, ok := prev.Extra("open_id").(string); ok && f.Extra["open_id"] == nil && v != "" {
				f.Extra["open_id"] = v
			}
		}
		return f.Token(now), nil
	}
}

// DecodeAck decodes the answer of a call that returns nothing on success
// (an empty body or {}, as TikTok's revoke does) and an RFC 6749 error
// otherwise. A body carrying "error" is a failure whatever the status.
func DecodeAck(status int, body []byte) *Error {
	var x struct {
		Error            String `json:"error"`
		ErrorDescription String `json:"error_description"`
		LogID            String `json:"log_id"`
	}
	ok := status >= 200 && status <= 299
	if len(bytes.TrimSpace(body)) == 0 {
		if ok {
			return nil
		}
		return &Error{Kind: rfcKind("", status)}
	}
	if err := Unmarshal(body, &x); err != nil {
		if ok {
			return &Error{Kind: ErrBadResponse, Cause: ScrubJSONError(err)}
		}
		return &Error{Kind: rfcKind("", status)}
	}
	if x.Error != "" || !ok {
		code := string(x.Error)
		return &Error{Kind: flatKind(code, rfcKind(code, status)), Code: code, Description: string(x.ErrorDescription), LogID: string(x.LogID)}
	}
	return nil
}
