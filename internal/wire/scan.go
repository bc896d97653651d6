package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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
// they appear in an answer or a request, compared folded.
var sensitiveKeys = map[string]bool{
	foldKey("access_token"):  true,
	foldKey("refresh_token"): true,
	foldKey("id_token"):      true,
	foldKey("client_secret"): true,
	foldKey("code"):          true,
	foldKey("code_verifier"): true,
}

// Sensitive reports whether a parameter or answer key names a secret: a
// token, a code, a PKCE verifier, the client secret.
func Sensitive(key string) bool { return sensitiveKeys[foldKey(key)] }

// scanResult is what one walk over an answer found.
type scanResult struct {
	values []string // distinct string values of sensitive keys, at most maxValues
	many   bool     // there were more than maxValues
	cut    int      // offset where the body ends inside a sensitive value or nests too deep; -1: it does not
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

// maxDepth is how deep scanJSON follows arrays and objects: as deep as
// encoding/json decodes. A body nested deeper is cut there, unread, so
// that its cost stays bounded.
const maxDepth = 10000

// scanJSON walks body token by token, as far as it is valid JSON: a
// truncated answer is walked up to where it breaks off. depth counts the
// strings holding JSON it is inside. It keeps one small frame per open
// array or object, at most maxDepth of them.
func scanJSON(body []byte, depth int) scanResult {
	res := scanResult{cut: -1}
	type frame struct {
		obj       bool
		wantKey   bool
		sensitive bool // the value that comes next is a sensitive key's
	}
	var stack []frame
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].obj {
			stack[n-1].wantKey, stack[n-1].sensitive = true, false
		}
	}
	for {
		off := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			if n := len(stack); n > 0 && stack[n-1].obj && !stack[n-1].wantKey && stack[n-1].sensitive {
				res.cut = int(off)
			}
			return res
		}
		var top *frame
		if n := len(stack); n > 0 {
			top = &stack[n-1]
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				if len(stack) == maxDepth {
					res.cut = int(off)
					return res
				}
				stack = append(stack, frame{obj: v == '{', wantKey: v == '{'})
			default:
				stack = stack[:len(stack)-1]
				valueDone()
			}
		case string:
			if top != nil && top.obj && top.wantKey {
				top.sensitive, top.wantKey = sensitiveKeys[foldKey(v)], false
				continue
			}
			if top != nil && top.obj && top.sensitive {
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

// errDuplicate reports whether err is one of Unmarshal's own refusals
// (a *DuplicateKeyError or ErrInvalidUTF8), whose text quotes no value.
func errDuplicate(err error) bool {
	var de *DuplicateKeyError
	return errors.As(err, &de) || errors.Is(err, ErrInvalidUTF8)
}
