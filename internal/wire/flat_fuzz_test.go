package wire

import (
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// flatSeeds are TikTok's documented token answers (PROVIDERS.md) and
// the edges of its extras.
func flatSeeds(f *testing.F) {
	fuzzSeeds(f)
	f.Add(200, []byte(`{"access_token":"act.example12345Example12345Example","expires_in":86400,"open_id":"afd97af1-b87b-48b9-ac98-410aghda5344","refresh_expires_in":31536000,"refresh_token":"rft.example12345Example12345Example","scope":"user.info.basic,video.list","token_type":"Bearer"}`))
	f.Add(200, []byte(`{"error":"invalid_request","error_description":"Redirect_uri is not matched with the uri when requesting code.","log_id":"202206221854370101130062072500FFA2"}`))
	f.Add(200, []byte(`{"access_token":"a","expires_in":7200,"refresh_expires_in":-1}`))
	f.Add(200, []byte(`{"access_token":"a","expires_in":7200,"open_id":7,"log_id":{"x":1}}`))
	f.Add(200, []byte(`{}`))
	f.Add(200, []byte(``))
}

// FuzzDecodeFlat checks TikTok's token decoder: exactly one of a token
// and an error; a token only from a 2xx without "error", with lifetimes in
// range; the previous token's refresh token kept when the answer has none.
func FuzzDecodeFlat(f *testing.F) {
	flatSeeds(f)
	now := time.Unix(1_800_000_000, 0)
	prev := (&oauth2.Token{RefreshToken: "rft.prev"}).WithExtra(map[string]any{"open_id": "prev-open-id"})
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		tok, e := DecodeFlatAt(now, prev)(status, body)
		switch {
		case (tok == nil) == (e == nil):
			t.Fatalf("token %v and error %v", tok, e)
		case tok != nil:
			if status < 200 || status > 299 || tok.AccessToken == "" || tok.RefreshToken == "" {
				t.Fatalf("token %+v from HTTP %d", tok, status)
			}
			if r := RefreshExpiry(tok); !r.IsZero() && (r.Before(now) || r.Sub(now) > MaxLifetime) {
				t.Fatalf("refresh expiry %v out of range", r)
			}
		case status >= 200 && status <= 299 && e.Kind == nil:
			t.Fatalf("error without a kind for HTTP %d: %v", status, e)
		}
	})
}

// FuzzDecodeAck checks the decoder of answers that carry nothing on
// success: an error for every non-2xx and every body carrying "error";
// never a panic.
func FuzzDecodeAck(f *testing.F) {
	flatSeeds(f)
	f.Add(200, []byte(`{}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := DecodeAck(status, body)
		if e == nil && (status < 200 || status > 299) {
			t.Fatalf("success from HTTP %d", status)
		}
		if e != nil && e.Kind == nil && status >= 200 && status <= 299 {
			t.Fatalf("error without a kind: %+v", e)
		}
	})
}
