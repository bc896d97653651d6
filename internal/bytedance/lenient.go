package bytedance

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/oauth2x/oauth2x/internal/wire"
)

// A profile field (a name, a count, a flag) informs; it does not steer the
// protocol. So the lenient types below read what they can and leave the
// rest zero instead of failing the whole answer: a provider that prints
// "is_verified":"true", a count as 1.5 or a gender as "male" still yields
// the user. Fields that decide success (open_id, error codes) stay strict.

// lenientString is a string, a number printed as one, or "<nil>" (empty);
// anything else is empty.
type lenientString string

func (s *lenientString) UnmarshalJSON(b []byte) error {
	var v loose
	if v.UnmarshalJSON(b) == nil {
		*s = lenientString(v)
	}
	return nil
}

// lenientInt is an integer, a string of one, or a number with a fraction
// (cut toward zero); anything else is zero.
type lenientInt int64

func (n *lenientInt) UnmarshalJSON(b []byte) error {
	var v looseInt
	if v.UnmarshalJSON(b) == nil {
		*n = lenientInt(v.V)
		return nil
	}
	var f float64
	if json.Unmarshal(b, &f) == nil && math.Abs(f) < 1<<53 {
		*n = lenientInt(f)
	}
	return nil
}

// lenientBool is true or false, or a string or number strconv.ParseBool
// reads ("true", "1"); anything else is false.
type lenientBool bool

func (v *lenientBool) UnmarshalJSON(b []byte) error {
	var x bool
	if json.Unmarshal(b, &x) == nil {
		*v = lenientBool(x)
		return nil
	}
	var s wire.String
	if s.UnmarshalJSON(b) == nil {
		p, err := strconv.ParseBool(strings.TrimSpace(string(s)))
		*v = lenientBool(err == nil && p)
	}
	return nil
}
