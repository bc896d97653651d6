package bytedancetest

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/oauth2x/oauth2x/internal/bytedance"
)

// The profile of the fake's user, as /oauth/userinfo/ answers it.
const (
	UserInfoPath   = "/oauth/userinfo/"
	DefaultUnionID = "fake-union-id"
	DefaultName    = "测试用户"
	// DefaultAvatar is an inline image, so that a browser showing it
	// makes no request beyond the loopback.
	DefaultAvatar = "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHdpZHRoPSI5NiIgaGVpZ2h0PSI5NiI+PGNpcmNsZSBjeD0iNDgiIGN5PSI0OCIgcj0iNDgiIGZpbGw9IiNmZTJjNTUiLz48dGV4dCB4PSI0OCIgeT0iNjAiIGZvbnQtc2l6ZT0iMzYiIHRleHQtYW5jaG9yPSJtaWRkbGUiIGZpbGw9IiNmZmYiIGZvbnQtZmFtaWx5PSJzYW5zLXNlcmlmIj5EWTwvdGV4dD48L3N2Zz4="
	// DefaultMobile is the phone number the fake encrypts into
	// encrypt_mobile when the user granted mobile_alert and the client
	// secret is an AES key (16, 24 or 32 bytes).
	DefaultMobile = "12345678910"
	// The user-info error codes the fake answers with.
	CodeUserTokenInvalid = 28001003
	CodeUserTokenExpired = 28001008
	CodeUserBadParam     = 28001007
)

// userInfo is POST /oauth/userinfo/ with access_token and open_id in a
// form-encoded body, as the current documents and SDKs send it. It answers
// the current edition ({"err_no":0,…,"data":{…,"error_code":"0"}}) or,
// with SetStringNumbers, the older one ({"data":{…}} with "<nil>" for
// missing values, city and gender); errors come with HTTP 200. Toutiao
// answers only the open id, nickname and avatar.
func (f *Fake) userInfo(w http.ResponseWriter, r *http.Request) {
	f.count(UserInfoPath)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	logID := fmt.Sprintf("2026113007%06d%s", f.seq, strings.ToUpper(f.Name))
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // "<nil>" as the platform prints it
	fail := func(code int, desc string) {
		if f.stringNumbers {
			enc.Encode(map[string]any{"data": map[string]any{"description": desc, "error_code": code},
				"extra": map[string]any{"logid": logID, "now": f.now().UnixMilli()}})
			return
		}
		enc.Encode(map[string]any{"err_no": code, "err_msg": desc, "log_id": logID})
	}
	if c, ok := f.TakeAnswer(UserInfoPath); ok {
		if c.Body == "" && c.Status == 0 {
			fail(c.Code, c.Desc)
			return
		}
		w.WriteHeader(max(c.Status, http.StatusOK))
		fmt.Fprint(w, c.Body)
		return
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if r.Method != http.MethodPost || ct != "application/x-www-form-urlencoded" || r.ParseForm() != nil || r.URL.RawQuery != "" {
		fail(CodeUserBadParam, "请求须为 POST application/x-www-form-urlencoded，参数在请求体中")
		return
	}
	g := f.access[r.PostForm.Get("access_token")]
	switch {
	case r.PostForm.Get("access_token") == "" || r.PostForm.Get("open_id") == "":
		fail(CodeUserBadParam, "缺少参数 access_token 或 open_id")
		return
	case g == nil || g.client:
		fail(CodeUserTokenInvalid, "access_token 无效")
		return
	case !f.now().Before(g.expiry):
		fail(CodeUserTokenExpired, "access_token 已过期")
		return
	case g.openID != r.PostForm.Get("open_id"):
		fail(CodeUserBadParam, "open_id 与 access_token 不匹配")
		return
	case !slices.Contains(strings.Split(g.scope, ","), "user_info"):
		fail(10004, "权限不足 user_info")
		return
	}
	nilOr := func(v any) any {
		if f.stringNumbers {
			return "<nil>"
		}
		return v
	}
	d := map[string]any{"open_id": g.openID, "nickname": DefaultName, "avatar": DefaultAvatar,
		"description": "", "error_code": "0"}
	if f.Name != "toutiao" {
		d["union_id"] = DefaultUnionID
		d["e_account_role"] = nilOr("")
	}
	if f.stringNumbers && f.Name != "toutiao" {
		d["gender"], d["city"], d["province"], d["country"] = "<nil>", "上海", "上海", "中国"
	}
	if slices.Contains(strings.Split(g.scope, ","), "mobile_alert") {
		if m, err := bytedance.EncryptMobile(f.ClientSecret, DefaultMobile); err == nil {
			d["encrypt_mobile"] = m
		}
	}
	if f.stringNumbers {
		enc.Encode(map[string]any{"data": d})
		return
	}
	d["client_key"], d["log_id"] = f.ClientKey, logID
	enc.Encode(map[string]any{"err_no": 0, "err_msg": "", "log_id": logID, "data": d})
}
