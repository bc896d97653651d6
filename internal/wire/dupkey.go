package wire

import (
	"encoding/json"
)

// dupKey returns the first key that body, which json.Unmarshal has already
// accepted, names twice in one object, compared as encoding/json matches
// keys (see foldKey). It walks the bytes once and, for objects of up to
// smallObject keys, allocates nothing.
func dupKey(body []byte) (string, bool) {
	type frame struct {
		obj     bool
		wantKey bool
		start   int                 // first of this object's keys in keys
		set     map[string]struct{} // folded keys, once the object is large
	}
	var frameBuf [16]frame
	var keyBuf [32][]byte
	stack, keys := frameBuf[:0], keyBuf[:0]
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '{', '[':
			stack = append(stack, frame{obj: body[i] == '{', wantKey: body[i] == '{', start: len(keys)})
		case '}', ']':
			if len(stack) == 0 {
				return "", false
			}
			keys = keys[:stack[len(stack)-1].start]
			stack = stack[:len(stack)-1]
		case ',':
			if n := len(stack); n > 0 && stack[n-1].obj {
				stack[n-1].wantKey = true
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
				return "", false
			}
			n := len(stack)
			if n == 0 || !stack[n-1].wantKey {
				i = j
				continue
			}
			top := &stack[n-1]
			top.wantKey = false
			raw, key := body[i+1:j], body[i+1:j]
			if esc || !isASCII(raw) {
				var s string
				if json.Unmarshal(body[i:j+1], &s) != nil {
					return "", false
				}
				key = []byte(foldKey(s))
			}
			i = j
			if top.set == nil && len(keys)-top.start < smallObject {
				for _, k := range keys[top.start:] {
					if asciiFoldEqual(k, key) {
						return keyText(raw, esc, body[i-len(raw)-1:i+1]), true
					}
				}
				keys = append(keys, key)
				continue
			}
			if top.set == nil {
				top.set = make(map[string]struct{}, 2*smallObject)
				for _, k := range keys[top.start:] {
					top.set[asciiUpper(k)] = struct{}{}
				}
			}
			u := asciiUpper(key)
			if _, seen := top.set[u]; seen {
				return keyText(raw, esc, body[i-len(raw)-1:i+1]), true
			}
			top.set[u] = struct{}{}
		}
	}
	return "", false
}

// smallObject is how many keys an object may have before dupKey indexes them.
const smallObject = 16

// keyText is a key as the answer spelled it, unescaped.
func keyText(raw []byte, esc bool, quoted []byte) string {
	if esc {
		var s string
		json.Unmarshal(quoted, &s)
		return s
	}
	return string(raw)
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// asciiFoldEqual compares a and b with ASCII letters folded, which for
// keys that are ASCII or already folded is foldKey equality.
func asciiFoldEqual(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if 'a' <= x && x <= 'z' {
			x -= 'a' - 'A'
		}
		if 'a' <= y && y <= 'z' {
			y -= 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func asciiUpper(b []byte) string {
	u := make([]byte, len(b))
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		u[i] = c
	}
	return string(u)
}
