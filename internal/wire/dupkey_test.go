package wire

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

func FuzzDupKeySame(f *testing.F) {
	for _, s := range []string{`{"a":1,"A":2}`, `{"a":{"b":1},"b":2}`, `{"acceſs_token":"x","ACCESS_TOKEN":"y"}`, `{"\u0061":1,"a":2}`, `[{"a":1},{"a":2}]`, `{"k":1,"\u212a":2}`, `{"é":1,"É":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var v any
		if !utf8.Valid(body) || json.Unmarshal(body, &v) != nil {
			return
		}
		oldDup, oldHas := refDupKey(body)
		dup, has := dupKey(body)
		if has != oldHas || dup != oldDup {
			t.Fatalf("%q: dupKey = %q %v, reference = %q %v", body, dup, has, oldDup, oldHas)
		}
	})
}

func BenchmarkDup(b *testing.B) {
	body := []byte(`{"data":{"access_token":"act.f7094fbffab2ecbfc45e9af9c32bc241oYdckvBKe82BPx8T0000","captcha":"","desc_url":"","description":"","error_code":0,"expires_in":1296000,"log_id":"20230525105733ED3ED7AC56A0000","open_id":"b9b71865-7fea-44cc-0000","refresh_expires_in":2592000,"refresh_token":"rft.713900b74edde9f30ec4e246b706da30t0000","scope":"user_info"},"message":"success"}`)
	b.Run("scanJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			scanJSON(body, 0)
		}
	})
	b.Run("dupKey", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			dupKey(body)
		}
	})
}

func TestDupKeyLarge(t *testing.T) {
	for _, dup := range []string{"", "K7", "\\u006b3", "ſ1"} {
		b := []byte(`{"o":{`)
		for i := range 40 {
			b = append(b, []byte(`"k`+string(rune('0'+i%10))+string(rune('a'+i/10))+`":1,`)...)
		}
		b = append(b, []byte(`"k3":2,"k7":{"s1":1}`)...)
		if dup != "" {
			b = append(b, []byte(`,"`+dup+`":3`)...)
		}
		b = append(b, []byte(`}}`)...)
		oldDup, oldHas := refDupKey(b)
		d, has := dupKey(b)
		if has != oldHas || d != oldDup {
			t.Errorf("%s: dupKey = %q %v, reference = %q %v", b, d, has, oldDup, oldHas)
		}
	}
}

// refDupKey is the plain reference dupKey is checked against: a walk with
// encoding/json's tokenizer and a map of folded keys per object.
func refDupKey(body []byte) (string, bool) {
	type frame struct {
		obj, wantKey bool
		keys         map[string]bool
	}
	var stack []*frame
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].obj {
			stack[n-1].wantKey = true
		}
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		switch v := tok.(type) {
		case json.Delim:
			if v == '{' || v == '[' {
				stack = append(stack, &frame{obj: v == '{', wantKey: v == '{', keys: map[string]bool{}})
				continue
			}
			stack = stack[:len(stack)-1]
			valueDone()
		case string:
			if n := len(stack); n > 0 && stack[n-1].obj && stack[n-1].wantKey {
				top := stack[n-1]
				if top.keys[foldKey(v)] {
					return v, true
				}
				top.keys[foldKey(v)], top.wantKey = true, false
				continue
			}
			valueDone()
		default:
			valueDone()
		}
	}
}
