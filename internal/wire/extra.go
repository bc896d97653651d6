package wire

import (
	"encoding/json"
	"math"
	"strconv"
	"time"

	"golang.org/x/oauth2"
)

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
