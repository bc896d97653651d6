package wire

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

// FuzzRedactEscaped: a secret written with any mix of JSON \u escapes
// (surrogate pairs included), standing as a word, is redacted; and no
// text makes the escape-aware pass panic.
func FuzzRedactEscaped(f *testing.F) {
	f.Add("rft.Y", uint32(1), "refresh %s; done")
	f.Add("p/w<d&", uint32(0xff), `{"d":"%s"}`)
	f.Add("😀k", uint32(1), "a %s b")
	f.Fuzz(func(t *testing.T, sec string, mask uint32, frame string) {
		redact(frame, []string{sec}) // any text, any secret: no panic
		if !utf8.ValidString(sec) || strings.TrimSpace(sec) == "" || strings.ContainsAny(sec, "\\\"") ||
			strings.Count(frame, "%s") != 1 || strings.Contains(frame, "%!") {
			return
		}
		var b strings.Builder
		i := 0
		for _, r := range sec {
			if r < 0x20 || r == utf8.RuneError {
				return
			}
			if mask>>(i%32)&1 == 1 {
				for _, u := range utf16.Encode([]rune{r}) {
					fmt.Fprintf(&b, `\u%04x`, u)
				}
			} else {
				b.WriteRune(r)
			}
			i++
		}
		spelt := b.String()
		text := strings.Replace(frame, "%s", " "+spelt+" ", 1)
		if got := redact(text, []string{sec}); strings.Contains(got, " "+spelt+" ") {
			t.Fatalf("secret %q spelt %q kept in %q", sec, spelt, got)
		}
	})
}
