package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Tolerant numbers and strings: what providers write where RFC 6749 wants
// a number or a string, and the one check every lifetime passes.

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
