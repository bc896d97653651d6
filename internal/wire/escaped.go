package wire

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// redactEscaped replaces, in s, every secret written with JSON escapes
// other than the ones [spellings] lists: an answer may escape any
// character ("\u0072ft.…", "act\u002e…") or mix "\/" with "\u003c". A
// spelling with at least one backslash escape that decodes to a secret
// and stands as a whole value is replaced with [Redacted]. Its time is
// linear in the size of s times the secrets' length, and it does nothing
// to a text without a backslash.
func redactEscaped(s string, secrets []string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	for _, sec := range secrets {
		if strings.TrimSpace(sec) == "" {
			continue
		}
		var b strings.Builder
		pos := 0
		for i := 0; i < len(s); {
			j, escaped := matchEscaped(s, i, sec)
			if j < 0 || !escaped || !whole(s, i, j) {
				i++
				continue
			}
			b.WriteString(s[pos:i])
			b.WriteString(Redacted)
			pos, i = j, j
		}
		if pos > 0 {
			b.WriteString(s[pos:])
			s = b.String()
		}
	}
	return s
}

// matchEscaped reports where sec ends when s[i:] spells it, each
// character either as it is or as a JSON escape, and whether an escape
// was used; -1 when s[i:] does not spell it.
func matchEscaped(s string, i int, sec string) (end int, escaped bool) {
	for _, want := range sec {
		if i >= len(s) {
			return -1, false
		}
		if s[i] != '\\' {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r != want {
				return -1, false
			}
			i += n
			continue
		}
		r, n := unescapeAt(s, i)
		if n == 0 || r != want {
			return -1, false
		}
		i, escaped = i+n, true
	}
	return i, escaped
}

// unescapeAt decodes the JSON escape at s[i] (a backslash): the rune and
// its length, or a length of 0 when there is none. A surrogate pair
// decodes to one rune.
func unescapeAt(s string, i int) (rune, int) {
	if i+1 >= len(s) {
		return 0, 0
	}
	if k := strings.IndexByte(`"\/bfnrt`, s[i+1]); k >= 0 {
		return rune("\"\\/\b\f\n\r\t"[k]), 2
	}
	hex4 := func(at int) (rune, bool) {
		if at+6 > len(s) || s[at] != '\\' || s[at+1] != 'u' {
			return 0, false
		}
		v, err := strconv.ParseUint(s[at+2:at+6], 16, 16)
		return rune(v), err == nil
	}
	r, ok := hex4(i)
	if !ok {
		return 0, 0
	}
	if 0xD800 <= r && r < 0xDC00 {
		if lo, ok := hex4(i + 6); ok && 0xDC00 <= lo && lo < 0xE000 {
			return (r-0xD800)<<10 + (lo - 0xDC00) + 0x10000, 12
		}
	}
	return r, 6
}
