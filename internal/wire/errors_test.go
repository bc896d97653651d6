package wire

import (
	"errors"
	"net/http"
	"testing"

	"golang.org/x/oauth2"
)

// FuzzRetrieveKind: any answer body and status x/oauth2 hands back
// classifies to exactly one known kind, without panicking.
func FuzzRetrieveKind(f *testing.F) {
	for _, s := range []string{
		`{"error":"invalid_grant","error_kind":"invalid_grant"}`,
		`{"error":"server_error","error_kind":"bad_response"}`,
		`{"error":"invalid_request","error_kind":"rejected"}`,
		`{"error_kind":"nonsense"}`, `{"error":7}`, `<html>`, ``, `null`,
	} {
		f.Add(s, "", 400)
		f.Add(s, "invalid_client", 200)
	}
	f.Fuzz(func(t *testing.T, body, code string, status int) {
		re := &oauth2.RetrieveError{Body: []byte(body), ErrorCode: code, Response: &http.Response{StatusCode: status}}
		k := RetrieveKind(re)
		if KindName(k) == "" {
			t.Fatalf("RetrieveKind(%q, %q, %d) = %v, not a kind", body, code, status, k)
		}
		if got := KindOf(re); got != k {
			t.Fatalf("KindOf = %v, RetrieveKind = %v", got, k)
		}
	})
}

// TestKindRoundTrip: every kind's RFC code and name lead back to it, so an
// error that crosses the bridge keeps its kind.
func TestKindRoundTrip(t *testing.T) {
	for _, k := range kindTable {
		code, status := RFCCode(k.kind)
		body := `{"error":"` + code + `","error_kind":"` + KindName(k.kind) + `"}`
		re := &oauth2.RetrieveError{Body: []byte(body), ErrorCode: code, Response: &http.Response{StatusCode: status}}
		if got := KindOf(re); got != k.kind {
			t.Errorf("%s: back as %v", k.name, got)
		}
		if got := KindOf(Export(&Error{Kind: k.kind})); got != k.kind {
			t.Errorf("%s: KindOf(*Error) = %v", k.name, got)
		}
	}
	if KindOf(errors.New("not about tokens")) != nil || KindOf(nil) != nil {
		t.Error("KindOf gives a kind to an unrelated error")
	}
}
