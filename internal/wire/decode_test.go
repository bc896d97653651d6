package wire

import (
	"errors"
	"testing"
	"time"
)

func TestDecodeRFC6749Kinds(t *testing.T) {
	cases := []struct {
		status int
		body   string
		kind   error
	}{
		{400, `{"error":"invalid_grant"}`, ErrInvalidGrant},
		{200, `{"error":"invalid_client","error_description":"bad secret"}`, ErrInvalidClient},
		{401, `{"error":"invalid_token"}`, ErrInvalidToken},
		{400, `{"error":"account_locked"}`, ErrRejected},
		{503, `{"error":"account_locked"}`, ErrTemporary},
		{429, `{"error":"account_locked"}`, ErrRateLimited},
		{200, `{"error":1.5}`, ErrBadResponse},
		{400, `Bad Request`, ErrBadResponse},
		{400, `<html>no such code</html>`, ErrBadResponse},
		{502, `<html>Bad Gateway</html>`, ErrTemporary},
		{401, ``, ErrInvalidClient},
		{200, `{"access_token":"a","expires_in":-1}`, ErrBadResponse},
		{200, `{"token_type":"bearer"}`, ErrBadResponse},
	}
	for _, c := range cases {
		tok, e := DecodeRFC6749At(time.Now())(c.status, []byte(c.body))
		if tok != nil || e == nil {
			t.Errorf("%d %s: got token %v, error %v", c.status, c.body, tok, e)
			continue
		}
		if !errors.Is(e.Kind, c.kind) {
			t.Errorf("%d %s: kind %v, want %v", c.status, c.body, e.Kind, c.kind)
		}
	}
	tok, e := DecodeRFC6749At(time.Now())(200, []byte(`{"access_token":"a","expires_in":"36000"}`))
	if e != nil || tok.AccessToken != "a" || tok.ExpiresIn != 36000 || tok.Type() != "Bearer" {
		t.Errorf("string expires_in: %v, %v", tok, e)
	}
}

func TestLogIDAndCodeFitForALogLine(t *testing.T) {
	if got := token("2020\n07061411\x1b[31m160102", 64); got != "202007061411[31m160102" {
		t.Errorf("token = %q", got)
	}
	long := token("abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz", 64)
	if len(long) != 64 {
		t.Errorf("len = %d, want 64", len(long))
	}
}
