package wire

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oauth2x/oauth2x/internal/hostile"
)

// fuzzSeeds adds every documented and hostile answer to f.
func fuzzSeeds(f *testing.F) {
	for _, s := range append(append([]hostile.Sample{}, hostile.Documented...), hostile.Answers...) {
		if len(s.Body) <= hostile.MaxSeed {
			f.Add(s.Status, []byte(s.Body))
		}
	}
	f.Add(200, []byte(`{"access_token":"a","expires_in":"  12 "}`))
	f.Add(200, []byte(`{"access_token":"a","Access_Token":"b"}`))
	f.Add(401, []byte(`{"error":"unknown_code"}`))
}

// leaky reports which of values (those with a letter, as tokens have, so
// that numbers printed by range checks do not count) appears in text.
func leaky(text string, values []string) string {
	for _, v := range values {
		if len(v) >= 8 && strings.ContainsFunc(v, func(r rune) bool { return r < '0' || r > '9' }) && strings.Contains(text, v) {
			return v
		}
	}
	return ""
}

func FuzzDecodeRFC6749(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		tok, e := DecodeRFC6749At(time.Now())(status, body)
		if broken := hostile.Broken(tok, e != nil); broken != "" {
			t.Fatalf("%s: %v", broken, e)
		}
		switch {
		case tok != nil:
			if status < 200 || status > 299 {
				t.Fatalf("token from HTTP %d", status)
			}
			if tok.ExpiresIn < 0 || time.Duration(tok.ExpiresIn)*time.Second > MaxLifetime {
				t.Fatalf("ExpiresIn = %d", tok.ExpiresIn)
			}
			// Its own checks (UTF-8, duplicate keys) passed; numbers
			// stay text, as wire.String keeps them.
			if err := Unmarshal(body, new(map[string]json.RawMessage)); err != nil {
				t.Fatalf("token from a body Unmarshal refuses: %v", err)
			}
		default:
			if e.Kind == nil {
				t.Fatalf("error without a kind: %v", e)
			}
			if e.Cause != nil {
				_, found, _ := Scrub(body, nil)
				if v := leaky(e.Cause.Error(), found); v != "" && !bytes.Contains(body, []byte(`"`+v+`":`)) {
					t.Fatalf("cause %q quotes token %q", e.Cause, v)
				}
			}
		}
	})
}

// FuzzInt checks that whatever wire.Int accepts it reads as the integer
// the JSON says, in both its number and its string form.
func FuzzInt(f *testing.F) {
	for _, s := range []string{`0`, `"0"`, `86400`, `"86400"`, `" 12 "`, `null`, `""`, `-5`, `1e3`, `1.5`, `"1.0"`,
		`99999999999999999999`, `9223372036854775807`, `-9223372036854775808`, `true`, `{}`, `[]`, `"\u0031"`, `1E400`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var n Int
		err := n.UnmarshalJSON(b)
		if err != nil {
			return
		}
		if !n.Set {
			if n.V != 0 {
				t.Fatalf("unset Int with value %d", n.V)
			}
			return
		}
		num := strconv.AppendInt(nil, n.V, 10)
		for _, form := range [][]byte{num, []byte(strconv.Quote(string(num)))} {
			var m Int
			if err := m.UnmarshalJSON(form); err != nil || m != n {
				t.Fatalf("%s read as %+v; its own form %s reads as %+v, %v", b, n, form, m, err)
			}
		}
		// Inside a document, encoding/json agrees that it is a value.
		var doc struct{ X Int }
		if err := json.Unmarshal(append(append([]byte(`{"X":`), b...), '}'), &doc); err == nil && doc.X != n {
			t.Fatalf("in a document %s reads as %+v, alone as %+v", b, doc.X, n)
		}
	})
}

// FuzzString checks that wire.String reads strings as encoding/json does
// and numbers as their literal text.
func FuzzString(f *testing.F) {
	for _, s := range []string{`"act.x"`, `""`, `null`, `12345`, `-1.5e3`, `"\u00e9"`, `true`, `{}`, `"\ud800"`, "\"\xff\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var s String
		if err := s.UnmarshalJSON(b); err != nil {
			return
		}
		var want string
		switch tb := bytes.TrimSpace(b); {
		case len(tb) > 0 && tb[0] == '"':
			if err := json.Unmarshal(tb, &want); err != nil {
				t.Fatalf("accepted %q, which encoding/json refuses: %v", b, err)
			}
		case string(tb) == "null":
		default:
			want = string(tb)
		}
		if string(s) != want {
			t.Fatalf("%q read as %q, want %q", b, s, want)
		}
	})
}

// FuzzScrub checks that the body kept on an error never holds the value of
// a token-bearing key, nor the secret, where it stands as a whole value,
// and that scanning never panics or hangs on any body.
func FuzzScrub(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, _ int, body []byte) {
		out, found, many := Scrub(body, []string{"s3cret-value"})
		if many && out != Withheld {
			t.Fatal("too many token values, body kept")
		}
		if standsIn(out, "s3cret-value") {
			t.Fatalf("secret kept in %q", out)
		}
		for _, v := range found {
			if len(v) >= 12 && strings.TrimSpace(v) != "" && !strings.Contains(Redacted, v) && !strings.Contains(v, Redacted) && standsIn(out, v) {
				t.Fatalf("token %q kept in %q", v, out)
			}
		}
	})
}

// standsIn reports whether v stands as a whole value somewhere in s.
func standsIn(s, v string) bool {
	for i := 0; ; i++ {
		j := strings.Index(s[i:], v)
		if j < 0 {
			return false
		}
		i += j
		if whole(s, i, i+len(v)) {
			return true
		}
	}
}
