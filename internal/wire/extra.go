package wire

import (
	"encoding/json"
	"math"
	"strconv"
	"time"

	"golang.org/x/oauth2"
)

// Extra keys the library writes into a token beyond the provider's own.
const (
	// ExtraRefreshExpiry holds the refresh token's expiry as Unix seconds,
	// computed from refresh_expires_in when the token was issued, so it
	// stays meaningful after a save and a load.
	ExtraRefreshExpiry = "refresh_token_expiry"
)

// ExtraKeys are the Token.Extra keys the providers of this module write,
// with the common RFC and OpenID ones. x/oauth2 gives no way to list a
// token's extras, so what copies a token's extras copies these.
var ExtraKeys = []string{
	"open_id", "union_id", "scope", "refresh_expires_in", ExtraRefreshExpiry,
	"log_id", "id_token",
}

// ExtraInt reads an integer extra whether it was stored as a Go integer, a
// float64 (after a JSON round trip), a json.Number or a string.
func ExtraInt(t *oauth2.Token, key string) (int64, bool) {
	if t == nil {
		return 0, false
	}
	switch v := t.Extra(key).(type) {
	case int64:
		return v, true
	case int:
		return int64(v), true
	case float64:
		if v != math.Trunc(v) || math.Abs(v) > 1<<53 {
			return 0, false
		}
		return int64(v), true
	case json.Number:
		n, err := v.Int64()
		return n, err == nil
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		return n, err == nil
	}
	return 0, false
}

// RefreshExpiry returns when t's refresh token expires, or the zero time
// when the provider did not say.
func RefreshExpiry(t *oauth2.Token) time.Time {
	if s, ok := ExtraInt(t, ExtraRefreshExpiry); ok && s > 0 {
		return time.Unix(s, 0)
	}
	return time.Time{}
}
