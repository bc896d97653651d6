package oauth2x

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// FuzzUnmarshalToken checks the stored-token decoder on any bytes (a store
// is a file or a shared cache that anything may have written): exactly one
// of a token and an error; a token has an access or refresh token; and
// what it reads survives MarshalToken and UnmarshalToken unchanged.
func FuzzUnmarshalToken(f *testing.F) {
	for _, tok := range fzTokens() {
		b, err := MarshalToken(tok)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`{"access_token":"a","token_type":"Bearer","refresh_token":"r","expiry":"2026-01-02T03:04:05.123456789+08:00"}`,
		`{"access_token":"a","expiry":"0001-01-01T00:00:00Z"}`,
		`{"refresh_token":"r","extra":{"open_id":7,"refresh_token_expiry":"1900000000"}}`,
		`{"access_token":"a","extra":null}`, `{"access_token":"a","extra":[]}`, `{}`, `null`, `[]`, ``,
		`{"access_token":"a","expiry":"9999-12-31T23:59:59Z"}`, `{"access_token":"a","expires_in":-1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var viaJSON storedToken
		if json.Unmarshal(b, &viaJSON) == nil && (viaJSON.AccessToken != "" || viaJSON.RefreshToken != "") {
			tok, err := UnmarshalToken(b)
			if err != nil {
				t.Fatalf("UnmarshalToken(%q) = %v; encoding/json reads it", b, err)
			}
			if got, want := jsonMarshalToken(tok), jsonMarshalToken(storedAsToken(viaJSON)); !bytes.Equal(got, want) {
				t.Fatalf("UnmarshalToken(%q) read %s; encoding/json %s", b, got, want)
			}
		}
		tok, err := UnmarshalToken(b)
		switch {
		case tok == nil && err == nil:
			t.Fatal("neither a token nor an error")
		case tok != nil && err != nil:
			t.Fatalf("both a token and an error: %v", err)
		case err != nil:
			return
		}
		if tok.AccessToken == "" && tok.RefreshToken == "" {
			t.Fatal("token with neither access nor refresh token")
		}
		_ = RefreshExpiry(tok) // any extra's type is tolerated
		again, err := MarshalToken(tok)
		if err != nil {
			t.Fatalf("read %q but cannot write it back: %v", b, err)
		}
		if want := jsonMarshalToken(tok); !bytes.Equal(again, want) {
			t.Fatalf("MarshalToken wrote %s; json.Marshal %s", again, want)
		}
		back, err := UnmarshalToken(again)
		if err != nil {
			t.Fatalf("cannot read back %q: %v", again, err)
		}
		fzSameToken(t, tok, back)
	})
}

// fzTokens are tokens as the providers' adapters make them.
func fzTokens() []*oauth2.Token {
	exp := time.Date(2026, 5, 25, 10, 57, 33, 123456789, time.UTC)
	return []*oauth2.Token{
		(&oauth2.Token{AccessToken: "act.x", TokenType: "Bearer", RefreshToken: "rft.y", Expiry: exp, ExpiresIn: 1296000}).WithExtra(map[string]any{
			"open_id": "b9b71865-7fea-44cc-0000", "scope": "user_info", "refresh_expires_in": int64(2592000),
			"refresh_token_expiry": exp.Add(30 * 24 * time.Hour).Unix(), "log_id": "20230525105733ED3ED7AC56A0000",
		}),
		{AccessToken: "294D412BD5A20464043F2381EC3EB6C7", RefreshToken: "567030884C7EA513FB843843859A58C3", Expiry: exp},
		{AccessToken: "clt.z", TokenType: "Bearer", Expiry: exp.In(time.FixedZone("CST", 8*3600))},
		{RefreshToken: "rft.only"},
	}
}

// fzSameToken fails t unless a and b agree on every field and kept extra.
func fzSameToken(t *testing.T, a, b *oauth2.Token) {
	t.Helper()
	if a.AccessToken != b.AccessToken || a.TokenType != b.TokenType || a.RefreshToken != b.RefreshToken ||
		!a.Expiry.Equal(b.Expiry) || a.ExpiresIn != b.ExpiresIn {
		t.Fatalf("round trip changed the token:\n%+v\n%+v", a, b)
	}
	for _, k := range extraKeys {
		if !reflect.DeepEqual(a.Extra(k), b.Extra(k)) {
			t.Fatalf("round trip changed extra %q: %#v -> %#v", k, a.Extra(k), b.Extra(k))
		}
	}
}

func TestFuzzSeedTokensRoundTrip(t *testing.T) {
	for _, tok := range fzTokens() {
		b, err := MarshalToken(tok)
		if err != nil {
			t.Fatal(err)
		}
		back, err := UnmarshalToken(b)
		if err != nil {
			t.Fatal(err)
		}
		if !back.Expiry.Equal(tok.Expiry) || back.AccessToken != tok.AccessToken || back.RefreshToken != tok.RefreshToken {
			t.Errorf("round trip: %+v -> %+v", tok, back)
		}
		if RefreshExpiry(back).Unix() != RefreshExpiry(tok).Unix() {
			t.Errorf("refresh expiry %v -> %v", RefreshExpiry(tok), RefreshExpiry(back))
		}
		if got, want := back.Extra("open_id"), tok.Extra("open_id"); got != want {
			t.Errorf("open_id %v -> %v", want, got)
		}
	}
}

// jsonMarshalToken is what MarshalToken wrote before its fast path:
// json.Marshal of the storedToken. MarshalToken must write the same bytes.
func jsonMarshalToken(t *oauth2.Token) []byte {
	s := storedToken{AccessToken: t.AccessToken, TokenType: t.TokenType, RefreshToken: t.RefreshToken, Expiry: t.Expiry, ExpiresIn: t.ExpiresIn}
	for _, k := range extraKeys {
		if v := t.Extra(k); v != nil {
			if s.Extra == nil {
				s.Extra = map[string]any{}
			}
			s.Extra[k] = v
		}
	}
	b, err := json.Marshal(&s)
	if err != nil {
		return []byte("error: " + err.Error())
	}
	return b
}

// storedAsToken is the token UnmarshalToken makes of s.
func storedAsToken(s storedToken) *oauth2.Token {
	t := &oauth2.Token{AccessToken: s.AccessToken, TokenType: s.TokenType, RefreshToken: s.RefreshToken, Expiry: s.Expiry, ExpiresIn: s.ExpiresIn}
	if len(s.Extra) > 0 {
		t = t.WithExtra(s.Extra)
	}
	return t
}

// TestMarshalTokenIsJSON: MarshalToken writes, byte for byte, what
// json.Marshal writes for the stored form, whatever the extras hold,
// whether or not its fast path writes it.
func TestMarshalTokenIsJSON(t *testing.T) {
	tokens := fzTokens()
	odd := []any{"plain", "<&>", "quote\"", "tab\t", "é", "\u2028", float64(1296000), 1.5, 1e21, 1e-7, math.Copysign(0, -1), math.Inf(1),
		int64(-7), 7, true, false, int32(3), json.Number("12"), map[string]any{"a": 1}, []any{1}}
	for _, v := range odd {
		tok := &oauth2.Token{AccessToken: "a<b", RefreshToken: "r", Expiry: time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("", 8*3600))}
		tokens = append(tokens, tok.WithExtra(map[string]any{"open_id": v, "scope": "s", "log_id": v}))
		tokens = append(tokens, (&oauth2.Token{AccessToken: "a", TokenType: "Bearer", ExpiresIn: -1}).WithExtra(map[string]any{"refresh_expires_in": v}))
	}
	tokens = append(tokens, &oauth2.Token{AccessToken: "a", Expiry: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
	for _, tok := range tokens {
		got, err := MarshalToken(tok)
		want := jsonMarshalToken(tok)
		if err != nil {
			got = []byte("error: " + err.Error())
		}
		if !bytes.Equal(got, want) {
			t.Errorf("MarshalToken = %s\nwant          %s", got, want)
		}
	}
}
