package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"golang.org/x/oauth2"
)

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
