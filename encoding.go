package oauth2x

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
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
	if b, ok := appendToken(make([]byte, 0, 384+len(t.AccessToken)+len(t.RefreshToken)), t); ok {
		return b, nil
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

// sortedExtraKeys are extraKeys in the order json.Marshal writes a map's.
var sortedExtraKeys = slices.Sorted(slices.Values(extraKeys))

// appendToken appends to b what json.Marshal writes for t's storedToken,
// byte for byte, when t holds only what it can write without
// encoding/json (strings that need no escape, numbers that need no
// exponent, booleans, nulls), and reports whether it did. json.Marshal
// was 76% of MarshalToken's time, its map of extras 43% (profile of
// BenchmarkTokenEncoding/op=marshal: 17 allocations, 3.7x json.Marshal of
// an oauth2.Token before; 1 and about 1x after). TestMarshalTokenIsJSON
// and FuzzUnmarshalToken hold the two to the same bytes.
func appendToken(b []byte, t *oauth2.Token) ([]byte, bool) {
	ok := true
	str := func(s string) {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				ok = false // escaped by encoding/json
				return
			}
		}
		b = append(append(append(b, '"'), s...), '"')
	}
	b = append(b, `{"access_token":`...)
	str(t.AccessToken)
	if t.TokenType != "" {
		b = append(b, `,"token_type":`...)
		str(t.TokenType)
	}
	if t.RefreshToken != "" {
		b = append(b, `,"refresh_token":`...)
		str(t.RefreshToken)
	}
	if !t.Expiry.IsZero() {
		var err error
		b = append(b, `,"expiry":"`...)
		if b, err = t.Expiry.AppendText(b); err != nil {
			return nil, false
		}
		b = append(b, '"')
	}
	if t.ExpiresIn != 0 {
		b = strconv.AppendInt(append(b, `,"expires_in":`...), t.ExpiresIn, 10)
	}
	sep := byte('{')
	for _, k := range sortedExtraKeys {
		v := t.Extra(k)
		if v == nil {
			continue
		}
		if sep == '{' {
			b = append(b, `,"extra":{`...)
		} else {
			b = append(b, ',')
		}
		sep = ','
		b = append(append(append(b, '"'), k...), `":`...)
		switch v := v.(type) {
		case string:
			str(v)
		case bool:
			b = strconv.AppendBool(b, v)
		case int:
			b = strconv.AppendInt(b, int64(v), 10)
		case int64:
			b = strconv.AppendInt(b, v, 10)
		case float64:
			if a := math.Abs(v); v != 0 && (a < 1e-6 || a >= 1e21) || math.IsNaN(v) {
				return nil, false // written with an exponent, or an error
			}
			b = strconv.AppendFloat(b, v, 'f', -1, 64)
		default:
			return nil, false
		}
	}
	if sep == ',' {
		b = append(b, '}')
	}
	return append(b, '}'), ok
}

// UnmarshalToken decodes what [MarshalToken] encoded. It also reads the
// plain json.Marshal(*oauth2.Token) form, so existing stores migrate. A
// stored token without an access token or refresh token is an error.
// Numbers among the extras come back as float64, the type they have on a
// fresh token from this module's providers and on any token x/oauth2
// decodes, so tok.Extra gives the same type however the token was obtained.
func UnmarshalToken(b []byte) (*oauth2.Token, error) {
	var s storedToken
	// wire.DecodeJSON is json.Unmarshal, which was 87% of UnmarshalToken's
	// time (28% validating the bytes), in one pass where it can.
	if err := wire.DecodeJSON(b, &s); err != nil {
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
