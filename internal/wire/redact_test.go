package wire

import (
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

func TestRedactWholeValues(t *testing.T) {
	for _, tc := range []struct {
		name    string
		text    string
		secrets []string
		want    string
	}{
		{"one-character code inside words", "code c refused at /oauth/access_token/", []string{"c"}, "code [redacted] refused at /oauth/access_token/"},
		{"form value", "client_secret=s3cr3t&code=abc", []string{"s3cr3t", "abc"}, "client_secret=[redacted]&code=[redacted]"},
		{"query-escaped value", "client_secret=a%2Fb%2Bc&x=1", []string{"a/b+c"}, "client_secret=[redacted]&x=1"},
		{"JSON string", `{"refresh_token":"rft.a/b"}`, []string{"rft.a/b"}, `{"refresh_token":"[redacted]"}`},
		{"JSON with escaped slash", `{"t":"rft.a\/b"}`, []string{"rft.a/b"}, `{"t":"[redacted]"}`},
		{"JSON with HTML escapes", `{"s":"a\u0026b\u003c"}`, []string{"a&b<"}, `{"s":"[redacted]"}`},
		{"JSON in JSON", `{"d":"{\"s\":\"a\\u0026b\"}"}`, []string{"a&b"}, `{"d":"{\"s\":\"[redacted]\"}"}`},
		{"word in a sentence", "invalid refresh_token rft.xyz.", []string{"rft.xyz"}, "invalid refresh_token [redacted]."},
		{"header value", "Authorization: Bearer act.123", []string{"act.123"}, "Authorization: Bearer [redacted]"},
		{"after a percent escape", "grant_type%3Drefresh_token%26refresh_token%3Drft.q%26", []string{"rft.q"}, "grant_type%3Drefresh_token%26refresh_token%3D[redacted]%26"},
		{"a longer token is another token", "act.1234 and act.12345", []string{"act.1234"}, "[redacted] and act.12345"},
		{"two secrets, one inside the other", "abc abcdef", []string{"abc", "abcdef"}, "[redacted] [redacted]"},
		{"white space is no secret", "a b\tc", []string{" ", "\t"}, "a b\tc"},
		{"form-encoded sentence", "invalid+refresh_token+rft.xyz.+try+again", []string{"rft.xyz"}, "invalid+refresh_token+[redacted].+try+again"},
		{"path segment", "GET /tokens/rft.xyz/revoke failed", []string{"rft.xyz"}, "GET /tokens/[redacted]/revoke failed"},
		{"escaped slash with HTML escapes", `{"d":"secret p\/w\u003cd\u0026 wrong"}`, []string{"p/w<d&"}, `{"d":"secret [redacted] wrong"}`},
		{"any letter escaped", `{"d":"refresh \u0072ft.Y; access act\u002eX"}`, []string{"rft.Y", "act.X"}, `{"d":"refresh [redacted]; access [redacted]"}`},
		{"escaped, inside a longer word", `{"d":"x\u0072ft.Yz"}`, []string{"rft.Y"}, `{"d":"x\u0072ft.Yz"}`},
		{"surrogate pair", `{"d":"k \ud83d\ude00k"}`, []string{"😀k"}, `{"d":"k [redacted]"}`},
		{"an answer's code is no secret", `{"error":{"code":"scope_not_authorized"}}`, nil, `{"error":{"code":"scope_not_authorized"}}`},
		{"no secret", "plain", nil, "plain"},
	} {
		if got := redact(tc.text, tc.secrets); got != tc.want {
			t.Errorf("%s: redact(%q) = %q, want %q", tc.name, tc.text, got, tc.want)
		}
		if got, _, _ := Scrub([]byte(tc.text), tc.secrets); strings.HasPrefix(tc.text, "{") && got != tc.want {
			t.Errorf("%s: Scrub(%q) = %q, want %q", tc.name, tc.text, got, tc.want)
		}
	}
}

// TestDescriptionCapped: a provider's description is kept to
// MaxDescription bytes in the error, and whole on the RetrieveError.
func TestDescriptionCapped(t *testing.T) {
	long := strings.Repeat("é", 600)
	body := []byte(`{"error":"invalid_request","error_description":"` + long + `"}`)
	e := &Error{Provider: "p", Op: "refresh", Kind: ErrInvalidRequest, Code: "invalid_request", Description: long}
	e.clean(&http.Response{StatusCode: 400}, body, nil)
	if len(e.Description) > MaxDescription+len("…") || !strings.HasSuffix(e.Description, "…") {
		t.Errorf("description of %d bytes: %q", len(e.Description), e.Description)
	}
	if len(e.Error()) > 2*MaxDescription {
		t.Errorf("Error() of %d bytes", len(e.Error()))
	}
	if string(e.Retrieve.Body) != string(body) {
		t.Errorf("RetrieveError.Body is not the whole answer")
	}
}

func TestValidToken(t *testing.T) {
	// Every token printed in PROVIDERS.md and the fakes' shapes.
	for _, s := range []string{
		"act.f7094fbffab2ecbfc45e9af9c32bc241oYdckvBKe82BPx8T0000", "rft.713900b74edde9f30ec4e246b706da30t0000",
		"clt.f7094fbffab2ecbfc45e9af9c32bc241oYdckvBKe82BPx8T0000", "294D412BD5A20464043F2381EC3EB6C7",
		"act.example12345Example12345Example", "rft.example12345Example12345Example",
		"access_token", "ya29.a0AfH6SMB-x_y~z+w/v==", "a=",
	} {
		if !ValidToken(s) {
			t.Errorf("%q refused", s)
		}
	}
	for _, s := range []string{"", " ", "\t\n", "a b", "act.a\x00b", "act.a\r\nX: 1", "act.\x1b[2J", "=abc", "a=b", "a%20b", "tök"} {
		if ValidToken(s) {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestCheckTokenType(t *testing.T) {
	for _, tc := range []struct {
		typ, want string
		ok        bool
	}{
		{"", "", true}, {"Bearer", "Bearer", true}, {"bearer", "Bearer", true}, {"BEARER", "Bearer", true},
		{"mac", "", false}, {"Basic", "", false}, {"Bearer\r\nX: 1", "", false}, {"Bearer ", "", false},
	} {
		tok := &oauth2.Token{AccessToken: "a", TokenType: tc.typ}
		e := CheckToken(tok)
		if (e == nil) != tc.ok || (tc.ok && tok.TokenType != tc.want) {
			t.Errorf("token_type %q: error %v, type %q", tc.typ, e, tok.TokenType)
		}
		if e != nil && e.Kind != ErrBadResponse {
			t.Errorf("token_type %q: kind %v", tc.typ, e.Kind)
		}
	}
}
