package bytedance

import (
	"testing"
)

// userSeeds are the user-info answers PROVIDERS.md prints, in both
// editions and both platforms, and their edges.
func userSeeds(f *testing.F) {
	for _, s := range []string{
		`{ "err_msg": "", "log_id": "2025032716200991A1xxxxx30A01C4DF", "data": { "open_id": "qYm3LVbtDQ", "nickname": "李伟", "description": "", "e_account_role": "", "error_code": "0", "avatar": "https://xxx.com/xxx.jpeg", "client_key": "XQSXAWkY9f", "log_id": "2025032716200991A181xxxxx0A01C4DF", "union_id": "eVBXUMlnek" }, "err_no": 0 }`,
		`{"data":{"avatar":"https://example.com/x.jpeg","city":"上海","country":"中国","description":"","e_account_role":"<nil>","error_code":"0","gender":"<nil>","nickname":"张伟","open_id":"0da22181-d833-447f-995f-1beefea5bef3","province":"上海","union_id":"1ad4e099-4a0c-47d1-a410-bffb4f2f64a4"}}`,
		`{"data":{"description":"Parameter error","error_code":2100005},"extra":{"logid":"2020070614111601022506808001045D59","now":1594015876138}}`,
		`{ "err_no": -1, "err_msg": "系统错误", "log_id": "20220919151647010174244209010DE6B6" }`,
		`{"data":{"user":{"avatar_url":"https://p19-sign.tiktokcdn-us.com/a.jpeg","open_id":"723f24d7-e717-40f8-a2b6-cb8464cd23b4","union_id":"c9c60f44-a68e-4f5d-84dd-ce22faeb0ba1"}},"error":{"code":"ok","message":"","log_id":"20220829194722CBE87ED59D524E727021"}}`,
		`{"error":{"code":"access_token_invalid","message":"Access token is invalid, please refresh token and retry","log_id":"20220829194722CBE87ED59D524E727021"}}`,
		`{"data":{"user":null},"error":{"code":"ok"}}`,
		`{"data":{"open_id":"x","gender":"2","error_code":"<nil>"}}`,
		`{"data":{"open_id":"x","gender":1.5}}`, `{"data":{"open_id":"x","gender":"\u003cnil\u003e"}}`,
		`{"data":"x"}`, `null`, ``,
	} {
		for _, status := range []int{200, 401, 500} {
			f.Add(status, []byte(s))
		}
	}
}

// FuzzDecodeUser checks the Douyin/Toutiao user-info decoder: exactly one
// of a user and an error; a user only from a 2xx, with an open id; an
// error for a 2xx always has a kind.
func FuzzDecodeUser(f *testing.F) {
	userSeeds(f)
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		u, e := DecodeUser(status, body)
		switch {
		case (u == nil) == (e == nil):
			t.Fatalf("user %v and error %v", u, e)
		case u != nil && (status < 200 || status > 299 || u.OpenID == ""):
			t.Fatalf("user %+v from HTTP %d", u, status)
		case e != nil && e.Kind == nil && status >= 200 && status <= 299:
			t.Fatalf("error without a kind: %+v", e)
		}
	})
}

// FuzzDecodeTikTokUser checks TikTok's user-info decoder the same way: a
// user only from a 2xx whose error.code is "ok".
func FuzzDecodeTikTokUser(f *testing.F) {
	userSeeds(f)
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		u, e := DecodeTikTokUser(status, body)
		switch {
		case (u == nil) == (e == nil):
			t.Fatalf("user %v and error %v", u, e)
		case u != nil && (status < 200 || status > 299):
			t.Fatalf("user %+v from HTTP %d", u, status)
		case e != nil && e.Kind == nil && status >= 200 && status <= 299:
			t.Fatalf("error without a kind: %+v", e)
		}
	})
}
