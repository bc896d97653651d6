package wire

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"unicode"
)

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

// scanJSON walks body once, byte by byte, as a lexer of JSON that goes on
// where a parser would stop: a truncated or invalid answer is walked to
// its end, so that no token it carries is missed. depth counts the
// strings holding JSON it is inside. It keeps one three-byte frame per
// open array or object, at most maxDepth of them, and allocates a string
// only for the values of sensitive keys (at most maxValues of them) and
// for strings holding JSON: its memory is bounded by a small multiple of
// the body, whatever the body.
func scanJSON(body []byte, depth int) scanResult {
	res := scanResult{cut: -1}
	type frame struct {
		obj       bool
		wantKey   bool
		sensitive bool // the value that comes next is a sensitive key's
	}
	var stack []frame
	keyEnd := 0 // where the last sensitive key ended
	for i := 0; i < len(body); i++ {
		var top *frame
		if n := len(stack); n > 0 {
			top = &stack[n-1]
		}
		switch c := body[i]; c {
		case '{', '[':
			if len(stack) == maxDepth {
				res.cut = i
				return res
			}
			stack = append(stack, frame{obj: c == '{', wantKey: c == '{'})
		case '}', ']':
			if top != nil {
				stack = stack[:len(stack)-1]
			}
		case ',':
			if top != nil && top.obj {
				top.wantKey, top.sensitive = true, false
			}
		case '"':
			j, esc := i+1, false
			for j < len(body) && body[j] != '"' {
				if body[j] == '\\' {
					esc = true
					j++
				}
				j++
			}
			if j >= len(body) {
				// The body breaks off inside this string.
				if top != nil && top.obj && !top.wantKey && top.sensitive {
					res.cut = i
				}
				return res
			}
			raw := body[i+1 : j]
			switch {
			case top != nil && top.obj && top.wantKey:
				top.sensitive, top.wantKey = sensitiveRaw(raw, esc, body[i:j+1]), false
				if top.sensitive {
					keyEnd = j + 1
				}
			case top != nil && top.obj && top.sensitive && !res.many:
				res.keep(unquoteRaw(raw, esc, body[i:j+1]))
			}
			if depth < maxNested && holdsJSON(raw) {
				// A gateway that encodes JSON twice hides the tokens in a string.
				inner := scanJSON([]byte(strings.TrimSpace(unquoteRaw(raw, esc, body[i:j+1]))), depth+1)
				res.keep(inner.values...)
				res.many = res.many || inner.many
			}
			i = j
		}
	}
	if n := len(stack); n > 0 && stack[n-1].obj && !stack[n-1].wantKey && stack[n-1].sensitive {
		// The body ends after a sensitive key, before its value ended.
		res.cut = keyEnd
	}
	return res
}

// unquoteRaw returns the value of the JSON string quoted (whose bytes
// between the quotes are raw): raw itself when it has no escape, else
// what encoding/json reads, else raw.
func unquoteRaw(raw []byte, esc bool, quoted []byte) string {
	if esc {
		var s string
		if json.Unmarshal(quoted, &s) == nil {
			return s
		}
	}
	return string(raw)
}

// sensitiveRaw reports whether the key quoted (raw between the quotes)
// names a secret, without allocating for plain ASCII keys.
func sensitiveRaw(raw []byte, esc bool, quoted []byte) bool {
	if esc || !isASCII(raw) {
		return answerSecret(foldKey(unquoteRaw(raw, esc, quoted)))
	}
	var buf [16]byte
	if len(raw) > len(buf) {
		return false
	}
	for k, c := range raw {
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		buf[k] = c
	}
	return answerSecret(string(buf[:len(raw)]))
}

// holdsJSON reports whether a string's raw bytes start, after white
// space, with "{" or "[".
func holdsJSON(raw []byte) bool {
	t := bytes.TrimLeft(raw, " \t\r\n")
	if len(t) >= 2 && t[0] == '\\' && (t[1] == 'n' || t[1] == 't' || t[1] == 'r') {
		return true // escaped white space first: look closer
	}
	return len(t) > 0 && (t[0] == '{' || t[0] == '[')
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
