package bytedance

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x/internal/hostile"
	"github.com/oauth2x/oauth2x/internal/wire"
)

var fuzzOps = []string{OpExchange, OpRefresh, OpRenew, OpClientToken}

func fuzzSeeds(f *testing.F) {
	for i, s := range append(append([]hostile.Sample{}, hostile.Documented...), hostile.Answers...) {
		if len(s.Body) <= hostile.MaxSeed {
			f.Add(uint8(i), s.Status, []byte(s.Body))
		}
	}
	f.Add(uint8(0), 200, []byte(`{"data":{"error_code":0},"extra":{"sub_error_code":"10004"}}`))
	f.Add(uint8(3), 200, []byte(`{"data":{"error_code":"10020","description":"limit"},"message":"error"}`))
}

// FuzzDecode checks the envelope decoder in both editions and its error
// forms: exactly one of an answer and an error; an answer only from a 2xx
// whose lifetimes are in range; an error for a 2xx always has a kind. An
// envelope wire.Unmarshal accepts is the one encoding/json reads.
func FuzzDecode(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, op uint8, status int, body []byte) {
		var got, want envelope
		if wire.Unmarshal(body, &got) == nil {
			if err := json.Unmarshal(body, &want); err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("wire.Unmarshal read %+v; encoding/json %+v, %v", got, want, err)
			}
		}
		a, e := Decode(fuzzOps[int(op)%len(fuzzOps)], status, body)
		switch {
		case a == nil && e == nil:
			t.Fatal("neither an answer nor an error")
		case a != nil && e != nil:
			t.Fatalf("both an answer and an error: %v", e)
		case a != nil:
			if status < 200 || status > 299 {
				t.Fatalf("answer from HTTP %d", status)
			}
			for _, d := range []time.Duration{a.ExpiresIn, a.RefreshExpiresIn} {
				if d < 0 || d > wire.MaxLifetime {
					t.Fatalf("lifetime %v out of range", d)
				}
			}
			if a.AccessToken != "" && a.ExpiresIn == 0 {
				t.Fatal("access token without a lifetime")
			}
		default:
			if status >= 200 && status <= 299 && e.Kind == nil {
				t.Fatalf("error for HTTP %d without a kind: %+v", status, e)
			}
		}
	})
}

// FuzzTokenDecoder checks the decoder the engine runs for exchange,
// refresh and client token: exactly one of a token and an error, and a
// token always has an access token and a lifetime.
func FuzzTokenDecoder(f *testing.F) {
	fuzzSeeds(f)
	prev := (&oauth2.Token{AccessToken: "act.old", RefreshToken: "rft.old"}).WithExtra(map[string]any{
		ExtraOpenID: "oid", wire.ExtraRefreshExpiry: int64(1900000000),
	})
	f.Fuzz(func(t *testing.T, op uint8, status int, body []byte) {
		var p *oauth2.Token
		if op&0x80 != 0 {
			p = prev
		}
		tok, e := TokenDecoderAt(fuzzOps[int(op)%len(fuzzOps)], p, time.Now())(status, body)
		if broken := hostile.Broken(tok, e != nil); broken != "" {
			t.Fatalf("%s: %v", broken, e)
		}
		if tok != nil {
			if tok.Expiry.IsZero() || tok.ExpiresIn <= 0 {
				t.Fatalf("token without expiry: %+v", tok)
			}
			if p != nil && tok.RefreshToken == "" {
				t.Fatal("refresh dropped the refresh token")
			}
		}
	})
}
