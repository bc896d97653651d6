// Package bytedance speaks ByteDance's open platform, which Douyin and
// Toutiao share: the same paths, parameters, envelope and error codes
// behind two hosts. The douyin and toutiao packages describe themselves to
// it as a Platform.
package bytedance

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x/internal/wire"
)

// Extra keys a token carries beyond the standard fields.
const (
	ExtraOpenID           = "open_id"
	ExtraScope            = "scope"
	ExtraRefreshExpiresIn = "refresh_expires_in"
	ExtraLogID            = "log_id"
)

// envelope is {"data":{…},"message":…,"extra":{…}} in either edition.
type envelope struct {
	Data    *data       `json:"data"`
	Message wire.String `json:"message"`
	Extra   *struct {
		LogID          wire.String `json:"logid"`
		ErrorCode      wire.Int    `json:"error_code"`
		Description    wire.String `json:"description"`
		SubErrorCode   wire.Int    `json:"sub_error_code"`
		SubDescription wire.String `json:"sub_description"`
	} `json:"extra"`
}

type data struct {
	AccessToken      wire.String `json:"access_token"`
	RefreshToken     wire.String `json:"refresh_token"`
	ExpiresIn        wire.Int    `json:"expires_in"`
	RefreshExpiresIn wire.Int    `json:"refresh_expires_in"`
	OpenID           wire.String `json:"open_id"`
	Scope            wire.String `json:"scope"`
	ErrorCode        wire.Int    `json:"error_code"`
	Description      wire.String `json:"description"`
	LogID            wire.String `json:"log_id"`
}

// Answer is a decoded, successful envelope.
type Answer struct {
	AccessToken, RefreshToken, OpenID, Scope, LogID string
	ExpiresIn, RefreshExpiresIn                     time.Duration
}

// Decode reads one envelope in one pass. op names the call, since the same
// code means different things on different calls (10020).
func Decode(op string, status int, body []byte) (*Answer, *wire.Error) {
	var env envelope
	jerr := wire.Unmarshal(body, &env)
	if jerr != nil {
		if status < 200 || status > 299 {
			return nil, &wire.Error{}
		}
		return nil, &wire.Error{Kind: wire.ErrBadResponse, Cause: fmt.Errorf("answer is not a ByteDance envelope: %w", wire.ScrubJSONError(jerr))}
	}
	var logID string
	if env.Data != nil {
		logID = string(env.Data.LogID)
	}
	if env.Extra != nil && env.Extra.LogID != "" {
		logID = string(env.Extra.LogID)
	}
	fail := func(code int64, desc string) (*Answer, *wire.Error) {
		e := &wire.Error{LogID: logID, Description: desc}
		if code != 0 {
			e.Code = strconv.FormatInt(code, 10)
			e.Kind = Kind(op, code)
		}
		return nil, e
	}
	d := env.Data
	switch {
	case d != nil && d.ErrorCode.V != 0:
		return fail(d.ErrorCode.V, string(d.Description))
	case env.Extra != nil && env.Extra.ErrorCode.V != 0:
		return fail(env.Extra.ErrorCode.V, string(env.Extra.Description))
	case env.Extra != nil && env.Extra.SubErrorCode.V != 0:
		return fail(env.Extra.SubErrorCode.V, string(env.Extra.SubDescription))
	case env.Message == "error":
		desc := ""
		if d != nil {
			desc = string(d.Description)
		}
		e := &wire.Error{LogID: logID, Description: desc, Kind: wire.ErrRejected}
		if status < 200 || status > 299 {
			e.Kind = nil // let the status speak
		}
		return nil, e
	case status < 200 || status > 299:
		return fail(0, "")
	case d == nil:
		return nil, &wire.Error{LogID: logID, Kind: wire.ErrBadResponse, Cause: errors.New("envelope has no data")}
	}
	a := &Answer{
		AccessToken:  string(d.AccessToken),
		RefreshToken: string(d.RefreshToken),
		OpenID:       string(d.OpenID),
		Scope:        string(d.Scope),
		LogID:        logID,
	}
	var err error
	if a.ExpiresIn, err = wire.Lifetime("expires_in", d.ExpiresIn, a.AccessToken != ""); err == nil {
		a.RefreshExpiresIn, err = wire.Lifetime("refresh_expires_in", d.RefreshExpiresIn, false)
	}
	if err != nil {
		return nil, &wire.Error{LogID: logID, Kind: wire.ErrBadResponse, Cause: err}
	}
	return a, nil
}

// Fields turns an answer into the engine's token fields, with the extras
// Douyin and Toutiao users read. Numbers among them are float64, the type
// encoding/json gives them: the same type after a store's round trip and
// through the bridge, where x/oauth2 decodes the answer.
func (a *Answer) Fields() *wire.TokenFields {
	f := &wire.TokenFields{
		AccessToken:  a.AccessToken,
		TokenType:    "Bearer",
		RefreshToken: a.RefreshToken,
		ExpiresIn:    a.ExpiresIn,
		RefreshIn:    a.RefreshExpiresIn,
		Extra:        map[string]any{},
	}
	if a.OpenID != "" {
		f.Extra[ExtraOpenID] = a.OpenID
	}
	if a.Scope != "" {
		f.Extra[ExtraScope] = a.Scope
	}
	if a.RefreshExpiresIn > 0 {
		f.Extra[ExtraRefreshExpiresIn] = float64(a.RefreshExpiresIn / time.Second)
	}
	if a.LogID != "" {
		f.Extra[ExtraLogID] = a.LogID
	}
	return f
}

// TokenDecoderAt decodes a token answer (exchange, refresh, client
// token), with expiries stamped relative to now. prev, when not nil, is
// the token being refreshed: what the answer leaves out (the refresh
// token, its expiry, the open id) is carried over from it.
func TokenDecoderAt(op string, prev *oauth2.Token, now time.Time) wire.Decoder {
	return func(status int, body []byte) (*oauth2.Token, *wire.Error) {
		a, e := Decode(op, status, body)
		if e != nil {
			return nil, e
		}
		if a.AccessToken == "" {
			return nil, &wire.Error{LogID: a.LogID, Kind: wire.ErrBadResponse, Cause: errors.New("answer carries no access token")}
		}
		f := a.Fields()
		if prev != nil {
			carry(f, prev, now, true)
		}
		return f.Token(now), nil
	}
}

// carry fills what an answer left out from the previous token. After a
// refresh (not a renewal), the refresh token's expiry is the earlier of
// the previous one and the one the answer implies: on this platform a
// refresh never moves it, whatever refresh_expires_in the answer carries.
func carry(f *wire.TokenFields, prev *oauth2.Token, now time.Time, refresh bool) {
	if f.RefreshToken == "" {
		f.RefreshToken = prev.RefreshToken
	}
	if old, ok := wire.ExtraInt(prev, wire.ExtraRefreshExpiry); ok && refresh {
		if f.RefreshIn == 0 || now.Add(f.RefreshIn).Unix() > old {
			f.RefreshIn = 0
			f.Extra[wire.ExtraRefreshExpiry] = float64(old)
		}
	}
	for _, k := range []string{ExtraOpenID, ExtraScope} {
		if _, ok := f.Extra[k]; !ok {
			if v, ok := prev.Extra(k).(string); ok && v != "" {
				f.Extra[k] = v
			}
		}
	}
}

// Kind classifies a platform error code.
func Kind(op string, code int64) error {
	switch code {
	case 10002, 10005, 2100005:
		return wire.ErrInvalidRequest
	case 10003, 10006, 10013, 10014:
		return wire.ErrInvalidClient
	case 10004:
		return wire.ErrInsufficientScope
	case 10007, 10010:
		return wire.ErrInvalidGrant
	case 10008, 2190008, 2190002, 28001008:
		return wire.ErrInvalidToken
	case 10020:
		if op == OpClientToken {
			return wire.ErrRateLimited
		}
		return wire.ErrInvalidGrant
	case 10001, 2100004:
		return wire.ErrTemporary
	}
	return wire.ErrRejected
}
