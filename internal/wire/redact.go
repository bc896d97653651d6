package wire

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"golang.org/x/oauth2"
)

// Redaction works on whole values. A secret is replaced by "[redacted]"
// wherever it stands as a whole value: as a form or query parameter's
// value, a JSON string, a header value, a path segment, or a word of a
// provider's text ("invalid refresh_token rft.…", or the same sentence
// form-encoded, its spaces turned to "+"). A whole value is one not glued
// to letters, digits or "-._~" on either side; "/", "+", "=" and every
// other character separate, a %XX or \uXXXX escape next to it counts as
// a separator, and so does a full stop that ends a sentence. So an answer
// that echoes the request URL-encoded or JSON-escaped is caught too. Each
// secret is looked for as it is, as x/oauth2 and browsers query-escape and
// path-escape it, and as JSON escapes it once or twice (with and without
// HTML escaping, and with "\/"). A secret inside another word
// ("/oauth/access_token/" holding the one-character code "c") is not
// touched, so short secrets never garble the text.

// Redacted replaces a secret in any text the library hands back.
const Redacted = "[redacted]"

// MaxDescription caps a provider's description kept in an error's text.
// The whole answer, scrubbed, stays on the error's *oauth2.RetrieveError.
const MaxDescription = 200

// glued reports whether c, next to a secret, makes it part of a longer
// word: a letter, a digit, one of "-._~", or a "%" that starts no escape.
func glued(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~' || c == '%'
}

func hexByte(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// escapeAt reports whether s[i:] starts with a %XX escape, and
// escapeBefore whether s[:i] ends with a %XX or a JSON escape.
func escapeAt(s string, i int) bool {
	return i+2 < len(s) && s[i] == '%' && hexByte(s[i+1]) && hexByte(s[i+2])
}

func escapeBefore(s string, i int) bool {
	switch {
	case i >= 3 && escapeAt(s, i-3):
		return true
	case i >= 2 && s[i-2] == '\\' && strings.IndexByte(`"\/bfnrt`, s[i-1]) >= 0:
		return true
	case i >= 6 && s[i-6] == '\\' && s[i-5] == 'u' && hexByte(s[i-4]) && hexByte(s[i-3]) && hexByte(s[i-2]) && hexByte(s[i-1]):
		return true
	}
	return false
}

// whole reports whether s[i:j] stands as a whole value.
func whole(s string, i, j int) bool {
	before := i == 0 || !glued(s[i-1]) || escapeBefore(s, i)
	after := j == len(s) || !glued(s[j]) || escapeAt(s, j) ||
		(s[j] == '.' && (j+1 == len(s) || !glued(s[j+1]) || escapeAt(s, j+1))) // a sentence's full stop
	return before && after
}

// spellings returns the ways sec may be written in a text: as it is,
// query- and path-escaped, and JSON-escaped.
func spellings(sec string) []string {
	out := []string{sec}
	add := func(v string) {
		for _, o := range out {
			if o == v {
				return
			}
		}
		out = append(out, v)
	}
	add(url.QueryEscape(sec))
	add(url.PathEscape(sec))
	for _, v := range []string{sec, jsonEscape(sec, true)} {
		// JSON inside JSON (a description quoting a JSON request) escapes twice.
		add(jsonEscape(v, true))
		add(jsonEscape(v, false))
		add(strings.ReplaceAll(jsonEscape(v, false), "/", `\/`))
	}
	return out
}

// jsonEscape returns s as a JSON string holds it, without the quotes,
// with or without encoding/json's escaping of <, > and &.
func jsonEscape(s string, html bool) string {
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(html)
	if enc.Encode(s) != nil {
		return s
	}
	v := strings.TrimSuffix(sb.String(), "\n")
	return v[1 : len(v)-1]
}

// needles are the spellings of secrets worth looking for: a secret that is
// empty or only white space (an unusable token an answer carried) is not
// one, or redacting it would garble every space of the text.
func needles(secrets []string) []string {
	var ns []string
	for _, sec := range secrets {
		if strings.TrimSpace(sec) == "" {
			continue
		}
		for _, sp := range spellings(sec) {
			dup := false
			for _, n := range ns {
				if n == sp {
					dup = true
					break
				}
			}
			if !dup {
				ns = append(ns, sp)
			}
		}
	}
	return ns
}

// redact replaces every secret standing as a whole value in s (see the
// top of this file) with [Redacted]. It reads s once per spelling of each
// secret and builds at most one new string, of at most the size of s plus
// the markers: its memory is bounded by the size of s, however many
// secrets and matches there are.
func redact(s string, secrets []string) string {
	ns := needles(secrets)
	if len(ns) == 0 || s == "" {
		return s
	}
	// next[k] is where needle k next stands as a whole value at or after
	// from[k], or -1 when it never does again.
	next := make([]int, len(ns))
	find := func(k, from int) int {
		for from <= len(s)-len(ns[k]) {
			i := strings.Index(s[from:], ns[k])
			if i < 0 {
				return -1
			}
			i += from
			if whole(s, i, i+len(ns[k])) {
				return i
			}
			from = i + 1
		}
		return -1
	}
	for k := range ns {
		next[k] = find(k, 0)
	}
	var b strings.Builder
	pos := 0
	for {
		best, end := -1, -1
		for k, i := range next {
			if i < 0 {
				continue
			}
			if i < pos {
				if next[k] = find(k, pos); next[k] < 0 {
					continue
				}
				i = next[k]
			}
			if best < 0 || i < best || (i == best && i+len(ns[k]) > end) {
				best, end = i, i+len(ns[k])
			}
		}
		if best < 0 {
			break
		}
		if b.Cap() == 0 {
			b.Grow(len(s))
		}
		b.WriteString(s[pos:best])
		b.WriteString(Redacted)
		pos = end
	}
	if pos == 0 {
		return redactEscaped(s, secrets)
	}
	b.WriteString(s[pos:])
	return redactEscaped(b.String(), secrets)
}

// capText keeps at most max bytes of s, cut at a character boundary and
// marked with "…" when cut.
func capText(s string, max int) string {
	if len(s) <= max {
		return s
	}
	i := max
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// redactURL drops a URL's query, fragment and user, and redacts what is left.
func redactURL(raw string, secrets []string) string {
	if u, err := url.Parse(raw); err == nil {
		u.RawQuery, u.Fragment, u.User = "", "", nil
		raw = u.String()
	}
	return redact(raw, secrets)
}

// redactedError keeps the chain of err for errors.Is while its text is redacted.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

func redactErr(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		msg = strings.Replace(msg, ue.URL, redactURL(ue.URL, nil), 1)
	}
	if r := redact(msg, secrets); r != err.Error() {
		return &redactedError{msg: r, err: err}
	}
	return err
}

// answerSecret reports whether an answer's key, folded, holds a secret: a
// token or the client secret. "code" does not there: in an answer it is
// an error code (TikTok's error.code, "scope_not_authorized"), and the
// authorization code a request carried is redacted by its value wherever
// an answer echoes it.
func answerSecret(folded string) bool {
	return sensitiveKeys[folded] && folded != foldKey("code")
}

// Withheld replaces a body, or a text taken from one, that carries too
// many token values to redact them one by one.
const Withheld = "[withheld: the answer carries more than 16 token values]"

// Scrub returns body with every secret and every value of a
// token-bearing key (access_token, refresh_token, id_token, client_secret,
// code_verifier; see answerSecret) replaced by [Redacted] where it stands as a whole
// value, whether the body is JSON, JSON cut short, JSON inside a JSON
// string, or form-encoded. A body that breaks off inside such a value is
// cut there; one nested deeper than encoding/json reads is cut where it
// gets too deep. It also returns the values it found, for redacting other
// texts taken from the same body; when there are more than 16 it returns
// [Withheld] and many is set, and those texts must be withheld too. Its
// time is linear in the size of body (times the number of secrets) and
// its memory a small multiple of it.
func Scrub(body []byte, secrets []string) (scrubbed string, values []string, many bool) {
	found := scanJSON(body, 0)
	s := string(body)
	if found.cut >= 0 {
		s = s[:found.cut] + Redacted
	}
	if t := strings.TrimSpace(s); t != "" && t[0] != '{' && t[0] != '[' && t[0] != '<' {
		if q, err := url.ParseQuery(t); err == nil {
			for k, vs := range q {
				if answerSecret(foldKey(k)) {
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

// clean makes e fit to hand back after an answer arrived: it redacts the
// secrets the request carried and the token values the answer did from
// every text of e, caps the description at [MaxDescription] bytes, keeps
// code and log id fit for a log line, and attaches an *oauth2.RetrieveError
// with resp (made safe) and the scrubbed body.
func (e *Error) clean(resp *http.Response, body []byte, secrets []string) {
	scrubbed, found, many := Scrub(body, secrets)
	if many {
		e.Description, e.LogID = "", ""
	}
	all := append(found, secrets...)
	e.Description = capText(redact(e.Description, all), MaxDescription)
	e.LogID = token(redact(e.LogID, all), 64)
	e.Code = token(redact(e.Code, all), 64)
	e.Cause = redactErr(e.Cause, all)
	e.Retrieve = &oauth2.RetrieveError{
		Response:         SafeResponse(resp),
		Body:             []byte(scrubbed),
		ErrorCode:        e.Code,
		ErrorDescription: e.Description,
	}
}

// token keeps an identifier from an answer fit to print unquoted in a log
// line: printable ASCII without spaces, at most max bytes.
func token(s string, max int) string {
	b := make([]byte, 0, min(len(s), max))
	for i := 0; i < len(s) && len(b) < max; i++ {
		if c := s[i]; c > ' ' && c < 0x7f {
			b = append(b, c)
		}
	}
	return string(b)
}
