package oauth2x

import (
	"encoding/json"
	"errors"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x/internal/wire"
)

// extraKeys are the Token.Extra keys that [MarshalToken] keeps. x/oauth2
// gives no way to list a token's extras, so the encoding keeps the ones the
// providers of this module write and the common RFC and OpenID ones.
var extraKeys = wire.ExtraKeys

// storedToken is the stored form: oauth2.Token's own JSON names plus extra.
type storedToken struct {
	AccessToken  string         `json:"access_token"`
	TokenType    string         `json:"token_type,omitempty"`
	RefreshToken string         `json:"refresh_token,omitempty"`
	Expiry       time.Time      `json:"expiry,omitzero"`
	ExpiresIn    int64          `json:"expires_in,omitempty"`
	Extra        map[string]any `json:"extra,omitempty"`
}

// MarshalToken encodes t as JSON, keeping the extras the library relies on
// (open_id, scope, refresh_expires_in, the refresh token's expiry, log_id,
// union_id, id_token), which json.Marshal(*t) drops. Stores use it.
func MarshalToken(t *oauth2.Token) ([]byte, error) {
	if t == nil {
		return nil, errors.New("oauth2x: MarshalToken: nil token")
	}
	s := storedToken{
		AccessToken:  t.AccessToken,
		TokenType:    t.TokenType,
		RefreshToken: t.RefreshToken,
		Expiry:       t.Expiry,
		ExpiresIn:    t.ExpiresIn,
	}
	for _, k := range extraKeys {
		if v := t.Extra(k); v != nil {
			if s.Extra == nil {
				s.Extra = make(map[string]any, 4)
			}
			s.Extra[k] = v
		}
	}
	return json.Marshal(&s)
}

// UnmarshalToken decodes what [MarshalToken] encoded. It also reads the
// plain json.Marshal(*oauth2.Token) form, so existing stores migrate. A
// stored token without an access token or refresh token is an error.
// Numbers among the extras come back as float64, the type they have on a
// fresh token from this module's providers and on any token x/oauth2
// decodes, so tok.Extra gives the same type however the token was obtained.
func UnmarshalToken(b []byte) (*oauth2.Token, error) {
	var s storedToken
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, errors.New("oauth2x: stored token is not valid JSON: " + wire.ScrubJSONError(err).Error())
	}
	if s.AccessToken == "" && s.RefreshToken == "" {
		return nil, errors.New("oauth2x: stored token has neither access token nor refresh token")
	}
	t := &oauth2.Token{
		AccessToken:  s.AccessToken,
		TokenType:    s.TokenType,
		RefreshToken: s.RefreshToken,
		Expiry:       s.Expiry,
		ExpiresIn:    s.ExpiresIn,
	}
	if len(s.Extra) > 0 {
		t = t.WithExtra(s.Extra)
	}
	return t, nil
}

// RefreshExpiry returns when t's refresh token expires, as the provider
// said at issue (refresh_expires_in), or the zero time when it did not.
func RefreshExpiry(t *oauth2.Token) time.Time { return wire.RefreshExpiry(t) }
