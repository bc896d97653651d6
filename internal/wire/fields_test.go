package wire

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/oauth2x/oauth2x/internal/hostile"
)

// nestedAnswer has an envelope's shape: objects inside the answer.
type nestedAnswer struct {
	Data    *rfcAnswer `json:"data"`
	Message String     `json:"message"`
	Code    Int        `json:"code"`
	Extra   *rfcAnswer `json:"extra"`
}

// storedShape has the shape of a stored token: plain strings, an int64, a
// time and a map of extras.
type storedShape struct {
	AccessToken string         `json:"access_token"`
	TokenType   string         `json:"token_type,omitempty"`
	Expiry      time.Time      `json:"expiry,omitzero"`
	ExpiresIn   int64          `json:"expires_in,omitempty"`
	Extra       map[string]any `json:"extra,omitempty"`
}

// decodeJSONAgrees fails t unless DecodeJSON decodes body into a
// storedShape as json.Unmarshal does, and returns whether the fast path
// did it.
func decodeJSONAgrees(t *testing.T, body []byte) (fast bool) {
	t.Helper()
	var viaFast, viaJSON, viaDecode storedShape
	fast = utf8.Valid(body) && decodeFields(body, &viaFast)
	jsonErr := json.Unmarshal(body, &viaJSON)
	want, _ := json.Marshal(viaJSON) // times compare by value, not by *time.Location
	if got, _ := json.Marshal(viaFast); fast && (jsonErr != nil || !bytes.Equal(got, want)) {
		t.Fatalf("fast path decoded %q as %s; encoding/json: %s, %v", body, got, want, jsonErr)
	}
	err := DecodeJSON(body, &viaDecode)
	if got, _ := json.Marshal(viaDecode); (err == nil) != (jsonErr == nil) || err == nil && !bytes.Equal(got, want) {
		t.Fatalf("DecodeJSON(%q) = %s, %v; want %s, %v", body, got, err, want, jsonErr)
	}
	return fast
}

// slowUnmarshal is Unmarshal without its fast path: what the fast path
// must agree with.
func slowUnmarshal(body []byte, v any) error {
	if !utf8.Valid(body) {
		return ErrInvalidUTF8
	}
	if err := json.Unmarshal(body, v); err != nil {
		return err
	}
	if dup, ok := dupKey(body); ok {
		return &DuplicateKeyError{Key: dup}
	}
	return nil
}

// fieldsAgree fails t unless the fast path, whenever it decodes body into
// a fresh T, decodes it as encoding/json does, and unless Unmarshal
// returns what slowUnmarshal does.
func fieldsAgree[T any](t *testing.T, body []byte) (fast bool) {
	t.Helper()
	var viaFast, viaSlow, viaUnmarshal T
	fast = utf8.Valid(body) && decodeFields(body, &viaFast)
	slowErr := slowUnmarshal(body, &viaSlow)
	if fast && (slowErr != nil || !reflect.DeepEqual(viaFast, viaSlow)) {
		t.Fatalf("fast path decoded %q as %+v; encoding/json: %+v, %v", body, viaFast, viaSlow, slowErr)
	}
	err := Unmarshal(body, &viaUnmarshal)
	if (err == nil) != (slowErr == nil) || err != nil && err.Error() != slowErr.Error() {
		t.Fatalf("Unmarshal(%q) = %v, want %v", body, err, slowErr)
	}
	if err == nil && !reflect.DeepEqual(viaUnmarshal, viaSlow) {
		t.Fatalf("Unmarshal(%q) gave %+v, want %+v", body, viaUnmarshal, viaSlow)
	}
	return fast
}

func TestFieldsFastPath(t *testing.T) {
	cases := []struct {
		body   string
		nested bool // decode into a nestedAnswer, not an rfcAnswer
		fast   bool
	}{
		{`{"access_token":"a","expires_in":3600,"scope":"s","x":[1]}`, false, false},
		{` {"Access_Token" : "a" , "EXPIRES_IN":"36", "n":null, "b":true, "f":-1.5e3} `, false, true},
		{`{"data":{"access_token":"a","expires_in":1296000},"message":"success","extra":{"error":"x"}}`, true, true},
		{`{"data":null}`, true, false},
		{`{"data":"x"}`, true, false},
		{`{"access_token":"a","ACCESS_TOKEN":"b"}`, false, false},
		{`{"access_token":"a\u0062"}`, false, false},
		{`{"acceſs_token":"a"}`, false, false},
		{`{"access_token":"a",}`, false, false},
		{`{"access_token":"a"} x`, false, false},
		{`{"expires_in":1.5}`, false, false},
		{`{"expires_in":01}`, false, false},
		{`{"unknown":{"a":1}}`, false, false},
		{`null`, false, false},
		{`{}`, true, true},
	}
	for _, c := range []struct {
		body string
		fast bool
	}{
		{`{"access_token":"a","Token_Type":"b","expiry":"2026-12-07T12:00:00.5+08:00","expires_in":60,"extra":{"open_id":"o","n":1.5,"b":true,"z":null,"é":"x"}}`, true},
		{`{"access_token":"a","extra":{}}`, true},
		{`{"access_token":"a","extra":{"a":1,"a":2}}`, false},
		{`{"access_token":"a","extra":{"a":1 "b":2}}`, false},
		{`{"access_token":"a","extra":{"a":1,}}`, false},
		{`{"access_token":"a","extra":{"a":[1]}}`, false},
		{`{"access_token":"a","extra":null}`, false},
		{`{"access_token":null,"expires_in":null}`, true},
		{`{"access_token":1}`, false},
		{`{"expires_in":1.0}`, false},
		{`{"expires_in":"1"}`, false},
		{`{"expiry":"yesterday"}`, false},
		{"{\"access_token\":\"\xff\"}", false},
	} {
		if fast := decodeJSONAgrees(t, []byte(c.body)); fast != c.fast {
			t.Errorf("%s: fast path taken = %v, want %v", c.body, fast, c.fast)
		}
	}
	for _, c := range cases {
		fast := fieldsAgree[rfcAnswer](t, []byte(c.body))
		if c.nested {
			fast = fieldsAgree[nestedAnswer](t, []byte(c.body))
		}
		if fast != c.fast {
			t.Errorf("%s: fast path taken = %v, want %v", c.body, fast, c.fast)
		}
	}
}

// FuzzFieldsMatchJSON holds the fast path of Unmarshal to encoding/json's
// answers: whatever it decodes, it decodes as encoding/json does, and
// Unmarshal returns the same value or error either way.
func FuzzFieldsMatchJSON(f *testing.F) {
	fuzzSeeds(f)
	for _, s := range hostile.Documented {
		f.Add(0, []byte(`{"data":`+s.Body+`,"message":"success"}`))
	}
	f.Add(0, []byte(`{"access_token":"a","expiry":"2026-12-07T12:00:00Z","expires_in":60,"extra":{"open_id":"o","n":1.5,"b":true,"z":null}}`))
	f.Fuzz(func(t *testing.T, _ int, body []byte) {
		fieldsAgree[rfcAnswer](t, body)
		fieldsAgree[nestedAnswer](t, body)
		decodeJSONAgrees(t, body)
	})
}
