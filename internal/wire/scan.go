package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrInvalidUTF8 is the cause when an answer is not valid UTF-8.
var ErrInvalidUTF8 = errors.New("answer is not valid UTF-8")

// DuplicateKeyError is the cause when an answer names one key twice in one
// object. encoding/json keeps the last value and matches keys without
// regard to case, while other parsers (a proxy, a logging gateway) may keep
// the first: such an answer means different things to different readers,
// so it is refused rather than guessed at.
type DuplicateKeyError struct {
	Key string // the key's second spelling, as the answer wrote it
}

func (e *DuplicateKeyError) Error() string {
	return fmt.Sprintf("key %.40q appears twice in one object", e.Key)
}

// Unmarshal is json.Unmarshal for answers from the network: it also
// refuses an answer that is not valid UTF-8 ([ErrInvalidUTF8]) or that
// names a key twice in one object (in any mix of case, as encoding/json
// matches them), returning a *DuplicateKeyError.
func Unmarshal(body []byte, v any) error {
	if !utf8.Valid(body) {
		// encoding/json would read invalid bytes as U+FFFD: a token that is
		// not the one the server sent.
		return ErrInvalidUTF8
	}
	if err := json.Unmarshal(body, v); err != nil {
		return err
	}
	if dup, ok := dupKey(body); ok {
		return &DuplicateKeyError{Key: dup}
	}
	return nil
}

// sensitiveKeys are the keys whose string values are secrets wherever
// they appear in an answer, compared folded.
var sensitiveKeys = map[string]bool{
	foldKey("access_token"):  true,
	foldKey("refresh_token"): true,
	foldKey("id_token"):      true,
	foldKey("client_secret"): true,
	foldKey("code"):          true,
}

// scanResult is what one walk over an answer found.
type scanResult struct {
	dup    string   // first key seen twice in one object
	hasDup bool     // dup is set
	values []string // distinct string values of sensitive keys, at most maxValues
	many   bool     // there were more than maxValues
	cut    int      // offset where the body ends inside a sensitive value; -1: it does not
}

// maxValues bounds how many token values Scrub redacts one by one: a real
// answer carries two or three, and redacting each of thousands through a
// megabyte would cost minutes.
const maxValues = 16

// keep adds v to the values unless it is empty or already there.
func (r *scanResult) keep(vs ...string) {
	for _, v := range vs {
		if v == "" || slices.Contains(r.values, v) {
			continue
		}
		if len(r.values) == maxValues {
			r.many = true
			return
		}
		r.values = append(r.values, v)
	}
}

// maxNested bounds how many times scanJSON looks inside a string holding
// JSON.
const maxNested = 2

// scanJSON walks body token by token, as far as it is valid JSON: a
// truncated answer is walked up to where it breaks off. depth counts the
// strings holding JSON it is inside.
func scanJSON(body []byte, depth int) scanResult {
	res := scanResult{cut: -1}
	type frame struct {
		obj     bool
		wantKey bool
		key     string // folded key whose value comes next
		keys    map[string]struct{}
	}
	var stack []*frame
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].obj {
			stack[n-1].wantKey = true
		}
	}
	for {
		off := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			if n := len(stack); n > 0 && stack[n-1].obj && !stack[n-1].wantKey && sensitiveKeys[stack[n-1].key] {
				res.cut = int(off)
			}
			return res
		}
		var top *frame
		if n := len(stack); n > 0 {
			top = stack[n-1]
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				stack = append(stack, &frame{obj: v == '{', wantKey: v == '{'})
			default:
				stack = stack[:len(stack)-1]
				valueDone()
			}
		case string:
			if top != nil && top.obj && top.wantKey {
				k := foldKey(v)
				if _, seen := top.keys[k]; seen && !res.hasDup {
					res.dup, res.hasDup = v, true
				}
				if top.keys == nil {
					top.keys = make(map[string]struct{}, 8)
				}
				top.keys[k] = struct{}{}
				top.key, top.wantKey = k, false
				continue
			}
			if top != nil && top.obj && sensitiveKeys[top.key] {
				res.keep(v)
			}
			if t := strings.TrimSpace(v); depth < maxNested && t != "" && (t[0] == '{' || t[0] == '[') {
				// A gateway that encodes JSON twice hides the tokens in a string.
				inner := scanJSON([]byte(t), depth+1)
				res.keep(inner.values...)
				res.many = res.many || inner.many
			}
			valueDone()
		default:
			valueDone()
		}
	}
}

// foldKey folds s as encoding/json does when it matches a key to a field:
// each rune becomes the smallest rune of its case-folding orbit, so that
// "ACCESS_TOKEN" and "acceſs_token" fold to what "access_token" does.
func foldKey(s string) string {
	return strings.Map(func(r rune) rune {
		for {
			r2 := unicode.SimpleFold(r)
			if r2 <= r {
				return r2
			}
			r = r2
		}
	}, s)
}

// Withheld replaces a body, or a text taken from one, that carries too
// many token values to redact them one by one.
const Withheld = "[withheld: the answer carries more than 16 token values]"

// Scrub returns body with every secret and every value of a
// token-bearing key (access_token, refresh_token, id_token, client_secret,
// code) replaced by "[redacted]", whether the body is JSON, JSON cut short,
// JSON inside a JSON string, or form-encoded. A body that breaks off
// inside such a value is cut there. It also returns the values it found,
// for redacting other texts taken from the same body; when there are more
// than 16 it returns [Withheld] and many is set, and those texts must be
// withheld too. Its cost is linear in the size of body.
func Scrub(body []byte, secrets []string) (scrubbed string, values []string, many bool) {
	s := string(body)
	found := scanJSON(body, 0)
	if found.cut >= 0 {
		s = s[:found.cut] + "[redacted]"
	}
	if t := strings.TrimSpace(s); t != "" && t[0] != '{' && t[0] != '[' && t[0] != '<' {
		if q, err := url.ParseQuery(t); err == nil {
			for k, vs := range q {
				if sensitiveKeys[foldKey(k)] {
					found.keep(vs...)
				}
			}
		}
	}
	if found.many {
		return Withheld, found.values, true
	}
	return redact(s, append(found.values, secrets...)), found.values, false
}

// errDuplicate reports whether err is one of Unmarshal's own refusals
// (a *DuplicateKeyError or ErrInvalidUTF8), whose text quotes no value.
func errDuplicate(err error) bool {
	var de *DuplicateKeyError
	return errors.As(err, &de) || errors.Is(err, ErrInvalidUTF8)
}
