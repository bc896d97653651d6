package oauth2x_test

// User info on each ByteDance provider: both envelopes, every documented
// error code in each, the token only in a POST body, the one refresh and
// retry, and the encrypted mobile number.

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/douyin"
	"github.com/oauth2x/oauth2x/douyin/douyintest"
	"github.com/oauth2x/oauth2x/internal/bytedancetest"
	"github.com/oauth2x/oauth2x/toutiao"
	"github.com/oauth2x/oauth2x/toutiao/toutiaotest"
)

// uiInfo is a provider's UserInfo; toutiao.User converts to douyin.User.
type uiInfo func(context.Context, *oauth2.Token) (*douyin.User, error)

type uiRow struct {
	name string
	// start starts the fake with secret ("": its own) and returns it, a
	// Config for scopes, and its UserInfo.
	start func(t *testing.T, secret string) (*bytedancetest.Fake, oauth2x.Flow, uiInfo)
}

var uiRows = []uiRow{
	{"douyin", func(t *testing.T, secret string) (*bytedancetest.Fake, oauth2x.Flow, uiInfo) {
		fake := uiFake(t, "douyin", douyintest.AuthPath, bytedancetest.Site{Silent: true, Renew: true}, secret)
		conf := &douyin.Config{ClientKey: fake.ClientKey, ClientSecret: fake.ClientSecret, RedirectURL: confRedirect,
			Endpoint: oauth2.Endpoint{AuthURL: fake.URL + douyintest.AuthPath, TokenURL: fake.URL + douyintest.AccessTokenPath}}
		return fake, conf, conf.UserInfo
	}},
	{"toutiao", func(t *testing.T, secret string) (*bytedancetest.Fake, oauth2x.Flow, uiInfo) {
		fake := uiFake(t, "toutiao", toutiaotest.AuthPath, bytedancetest.Site{}, secret)
		conf := &toutiao.Config{ClientKey: fake.ClientKey, ClientSecret: fake.ClientSecret, RedirectURL: confRedirect,
			Endpoint: oauth2.Endpoint{AuthURL: fake.URL + toutiaotest.AuthPath, TokenURL: fake.URL + toutiaotest.AccessTokenPath}}
		return fake, conf, func(ctx context.Context, tok *oauth2.Token) (*douyin.User, error) {
			u, err := conf.UserInfo(ctx, tok)
			return (*douyin.User)(u), err
		}
	}},
}

// uiFake starts the platform's fake as the provider's own fake package
// does, with its client secret set to secret when that is not "".
func uiFake(t *testing.T, name, authPath string, site bytedancetest.Site, secret string) *bytedancetest.Fake {
	fake := bytedancetest.NewSite(name, authPath, site)
	t.Cleanup(fake.Close)
	if secret != "" {
		fake.ClientSecret = secret
	}
	return fake
}

// uiSeen records every request's URL and body.
type uiSeen struct {
	mu   sync.Mutex
	urls []string
	base http.RoundTripper
}

func (s *uiSeen) RoundTrip(r *http.Request) (*http.Response, error) {
	s.mu.Lock()
	s.urls = append(s.urls, r.Method+" "+r.URL.String()+" "+r.Header.Get("Content-Type"))
	s.mu.Unlock()
	return s.base.RoundTrip(r)
}

func uiLogin(t *testing.T, fake *bytedancetest.Fake, flow oauth2x.Flow, ctx context.Context, scope string) *oauth2.Token {
	t.Helper()
	tok, err := flow.Exchange(ctx, fake.IssueCode(scope))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestUserInfoBothEditions(t *testing.T) {
	for _, row := range uiRows {
		for _, older := range []bool{false, true} {
			t.Run(row.name+"/older="+strconv.FormatBool(older), func(t *testing.T) {
				fake, flow, userInfo := row.start(t, "")
				seen := &uiSeen{base: fake.Client().Transport}
				ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: seen})
				fake.SetStringNumbers(older)
				tok := uiLogin(t, fake, flow, ctx, "user_info")
				u, err := userInfo(ctx, tok)
				if err != nil {
					t.Fatal(err)
				}
				if u.OpenID != fake.OpenID || u.Nickname != bytedancetest.DefaultName || u.Avatar != bytedancetest.DefaultAvatar || u.Token != nil || len(u.Raw) == 0 {
					t.Errorf("user %+v", u)
				}
				if row.name == "douyin" && (u.UnionID != bytedancetest.DefaultUnionID || u.EAccountRole != "" || u.Gender != 0) {
					t.Errorf("douyin fields: %+v (\"<nil>\" must read as empty)", u)
				}
				if older && row.name == "douyin" && u.City != "上海" {
					t.Errorf("older edition's city: %q", u.City)
				}
				if !older && u.LogID == "" {
					t.Error("no log id from the current edition")
				}
				for _, s := range seen.urls {
					if strings.Contains(s, tok.AccessToken) {
						t.Errorf("access token in a URL: %s", s)
					}
					if strings.Contains(s, bytedancetest.UserInfoPath) && !strings.HasPrefix(s, "POST ") {
						t.Errorf("user info sent as %s", s)
					}
				}
			})
		}
	}
}

// TestUserInfoErrorCodes: every documented code, in the current envelope
// (err_no) and the older one (data.error_code with extra), gives its kind
// and keeps the log id; HTTP 200 throughout, as the platform answers.
func TestUserInfoErrorCodes(t *testing.T) {
	codes := []struct {
		code int
		kind error
	}{
		{28001003, oauth2x.ErrInvalidToken}, {28001008, oauth2x.ErrInvalidToken},
		{28001005, oauth2x.ErrTemporary}, {28001006, oauth2x.ErrTemporary}, {-1, oauth2x.ErrTemporary},
		{28001016, oauth2x.ErrInvalidClient}, {28001007, oauth2x.ErrInvalidRequest}, {2100005, oauth2x.ErrInvalidRequest},
		{10008, oauth2x.ErrInvalidToken}, {2190008, oauth2x.ErrInvalidToken}, {2190002, oauth2x.ErrInvalidToken},
		{10004, oauth2x.ErrInsufficientScope}, {99999999, oauth2x.ErrRejected},
	}
	for _, row := range uiRows {
		t.Run(row.name, func(t *testing.T) {
			fake, flow, userInfo := row.start(t, "")
			ctx := context.WithValue(context.Background(), oauth2.HTTPClient, fake.Client())
			tok := uiLogin(t, fake, flow, ctx, "user_info")
			noRefresh := &oauth2.Token{AccessToken: tok.AccessToken, Expiry: tok.Expiry}
			noRefresh = noRefresh.WithExtra(map[string]any{"open_id": fake.OpenID})
			for _, c := range codes {
				n := strconv.Itoa(c.code)
				for _, body := range []string{
					`{"err_no":` + n + `,"err_msg":"描述","log_id":"L0GID"}`,
					`{"data":{"description":"描述","error_code":"` + n + `"},"extra":{"logid":"L0GID","now":1594015876138}}`,
				} {
					fake.RespondNext(bytedancetest.UserInfoPath, 200, body)
					_, err := userInfo(ctx, noRefresh)
					var e *oauth2x.Error
					if !errors.Is(err, c.kind) || !errors.As(err, &e) || e.Code != n || e.LogID != "L0GID" || !strings.HasPrefix(err.Error(), row.name+": user info") {
						t.Errorf("%s: %v, want %v with code and log id", body, err, c.kind)
					}
				}
			}
			// A success with no open id, and a body that is not JSON.
			fake.RespondNext(bytedancetest.UserInfoPath, 200, `{"err_no":0,"data":{"error_code":0}}`)
			if _, err := userInfo(ctx, noRefresh); !errors.Is(err, oauth2x.ErrBadResponse) {
				t.Errorf("no open id: %v", err)
			}
			fake.RespondNext(bytedancetest.UserInfoPath, 502, `<html>bad gateway</html>`)
			if _, err := userInfo(ctx, noRefresh); !errors.Is(err, oauth2x.ErrTemporary) {
				t.Errorf("502: %v", err)
			}
			if _, err := userInfo(ctx, &oauth2.Token{AccessToken: "act.x"}); !errors.Is(err, oauth2x.ErrInvalidRequest) {
				t.Errorf("token without open_id: %v", err)
			}
		})
	}
}

// TestUserInfoRefreshAndRetry: the access token expired at the provider
// (its own clock) while the token's Expiry still says valid. UserInfo
// refreshes once, retries once, and hands the new token back.
func TestUserInfoRefreshAndRetry(t *testing.T) {
	for _, row := range uiRows {
		t.Run(row.name, func(t *testing.T) {
			fake, flow, userInfo := row.start(t, "")
			ctx := context.WithValue(context.Background(), oauth2.HTTPClient, fake.Client())
			tok := uiLogin(t, fake, flow, ctx, "user_info")
			fake.SetNow(func() time.Time { return time.Now().Add(bytedancetest.AccessTTL + time.Hour) })
			refreshes, calls := fake.Calls(douyintest.RefreshTokenPath), fake.Calls(bytedancetest.UserInfoPath)
			u, err := userInfo(ctx, tok)
			if err != nil {
				t.Fatal(err)
			}
			if fake.Calls(douyintest.RefreshTokenPath)-refreshes != 1 || fake.Calls(bytedancetest.UserInfoPath)-calls != 2 {
				t.Errorf("refreshes %d, user-info calls %d; want 1 and 2",
					fake.Calls(douyintest.RefreshTokenPath)-refreshes, fake.Calls(bytedancetest.UserInfoPath)-calls)
			}
			if u.Token == nil || u.Token.AccessToken == tok.AccessToken || u.OpenID != fake.OpenID {
				t.Errorf("no new token handed back: %+v", u)
			}
			// A token whose grant is dead: one refresh attempt, its error.
			fake.Revoke(fake.OpenID)
			if _, err := userInfo(ctx, tok); !errors.Is(err, oauth2x.ErrInvalidGrant) {
				t.Errorf("revoked: %v, want ErrInvalidGrant from the refresh", err)
			}
		})
	}
}

func TestUserInfoMobile(t *testing.T) {
	const secret = "0123456789abcdef0123456789abcdef"
	fake, flow, userInfo := uiRows[0].start(t, secret)
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, fake.Client())
	u, err := userInfo(ctx, uiLogin(t, fake, flow, ctx, "user_info,mobile_alert"))
	if err != nil || u.EncryptMobile == "" {
		t.Fatalf("%+v, %v", u, err)
	}
	m, err := douyin.DecryptMobile(secret, u.EncryptMobile)
	if err != nil || m != bytedancetest.DefaultMobile {
		t.Errorf("DecryptMobile = %q, %v", m, err)
	}
	if _, err := douyin.DecryptMobile("fedcba9876543210fedcba9876543210", u.EncryptMobile); err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("wrong secret: %v", err)
	}
	u, _ = userInfo(ctx, uiLogin(t, fake, flow, ctx, "user_info"))
	if u.EncryptMobile != "" {
		t.Error("encrypt_mobile without mobile_alert")
	}
}
