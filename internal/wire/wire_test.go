package wire

import (
	"net/url"
	"strconv"
	"testing"
)

// TestFormEncodeIsURLValuesEncode: the form body is byte for byte what
// url.Values.Encode writes, whatever the order, repetition, escaping and
// number of the parameters.
func TestFormEncodeIsURLValuesEncode(t *testing.T) {
	cases := [][]Param{
		nil,
		{{"grant_type", "refresh_token"}, {"client_key", "k"}, {"refresh_token", "rft.a/b+c=="}},
		{{"b", "2"}, {"a", "x y&z"}, {"b", "1"}, {"a", "é"}, {"", ""}, {"c d", "?#"}},
	}
	var many []Param
	for i := 20; i > 0; i-- {
		many = append(many, Param{Key: "k" + strconv.Itoa(i%7), Value: strconv.Itoa(i)})
	}
	cases = append(cases, many)
	for _, ps := range cases {
		v := url.Values{}
		for _, p := range ps {
			v.Add(p.Key, p.Value)
		}
		if got, want := string(formEncode(ps)), v.Encode(); got != want {
			t.Errorf("formEncode(%v) = %q, want %q", ps, got, want)
		}
	}
}
