package oauth2x_test

// User info on each ByteDance provider: both envelopes, every documented
// error code in each, the token only in a POST body, the one refresh and
// retry, and the encrypted mobile number.

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
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
				if u.OpenID != fake.OpenID || u.Nickname != bytedancetest.DefaultName || u.Avatar != bytedancetest.DefaultAvatar || len(u.Raw) == 0 {
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
			// extra.sub_error_code fails the call, as in the token envelope.
			fake.RespondNext(bytedancetest.UserInfoPath, 200, `{"data":{"open_id":"o","error_code":0},"extra":{"error_code":0,"sub_error_code":2190008,"sub_description":"过期","logid":"L0GID"}}`)
			if _, err := userInfo(ctx, noRefresh); !errors.Is(err, oauth2x.ErrInvalidToken) {
				t.Errorf("extra.sub_error_code: %v, want ErrInvalidToken", err)
			}
			// A profile field of an odd type does not fail the call.
			fake.RespondNext(bytedancetest.UserInfoPath, 200, `{"data":{"open_id":"o","nickname":"n","gender":"male","city":{"x":1},"error_code":0}}`)
			if u, err := userInfo(ctx, noRefresh); err != nil || u.OpenID != "o" || u.Nickname != "n" || u.Gender != 0 || u.City != "" {
				t.Errorf("odd profile fields: %+v, %v", u, err)
			}
			// Refused before any call, with the public error type.
			calls := fake.Calls(bytedancetest.UserInfoPath)
			for _, tok := range []*oauth2.Token{nil, {}, {AccessToken: "act.x"}} {
				_, err := userInfo(ctx, tok)
				var e *oauth2x.Error
				if !errors.Is(err, oauth2x.ErrInvalidRequest) || !errors.As(err, &e) {
					t.Errorf("token %+v: %T %v, want an *oauth2x.Error of ErrInvalidRequest", tok, err, err)
				}
			}
			if fake.Calls(bytedancetest.UserInfoPath) != calls {
				t.Errorf("a refused call reached the provider")
			}
		})
	}
}

// uiSource is the Config's TokenSource, UserInfoFrom and Client of flow.
func uiSource(flow oauth2x.Flow) (func(context.Context, *oauth2.Token) oauth2.TokenSource, func(context.Context, oauth2.TokenSource) (*douyin.User, error), func(context.Context, *oauth2.Token) *http.Client) {
	switch c := flow.(type) {
	case *douyin.Config:
		return c.TokenSource, c.UserInfoFrom, c.Client
	case *toutiao.Config:
		return c.TokenSource, func(ctx context.Context, src oauth2.TokenSource) (*douyin.User, error) {
			u, err := c.UserInfoFrom(ctx, src)
			return (*douyin.User)(u), err
		}, c.Client
	}
	panic("no such flow")
}

// TestUserInfoRefreshAndRetry: the access token expired at the provider
// (its own clock) while the token's Expiry still says valid. UserInfo
// makes one call and says ErrInvalidToken, refreshing nothing: a refresh
// it could not hand to a store would rotate the grant away from the
// caller's source. UserInfoFrom with the Config's TokenSource refreshes
// once through the source, retries once, and the new token stays in the
// source, whose next refresh works.
func TestUserInfoRefreshAndRetry(t *testing.T) {
	for _, row := range uiRows {
		t.Run(row.name, func(t *testing.T) {
			fake, flow, userInfo := row.start(t, "")
			source, from, _ := uiSource(flow)
			ctx := context.WithValue(context.Background(), oauth2.HTTPClient, fake.Client())
			tok := uiLogin(t, fake, flow, ctx, "user_info")
			fake.SetNow(func() time.Time { return time.Now().Add(bytedancetest.AccessTTL + time.Hour) })
			refreshes, calls := fake.Calls(douyintest.RefreshTokenPath), fake.Calls(bytedancetest.UserInfoPath)
			if _, err := userInfo(ctx, tok); !errors.Is(err, oauth2x.ErrInvalidToken) ||
				fake.Calls(douyintest.RefreshTokenPath) != refreshes || fake.Calls(bytedancetest.UserInfoPath) != calls+1 {
				t.Fatalf("UserInfo: %v after %d refreshes; want ErrInvalidToken, one call, no refresh", err, fake.Calls(douyintest.RefreshTokenPath)-refreshes)
			}
			src := source(ctx, tok)
			refreshes, calls = fake.Calls(douyintest.RefreshTokenPath), fake.Calls(bytedancetest.UserInfoPath)
			u, err := from(ctx, src)
			if err != nil {
				t.Fatal(err)
			}
			if fake.Calls(douyintest.RefreshTokenPath)-refreshes != 1 || fake.Calls(bytedancetest.UserInfoPath)-calls != 2 || u.OpenID != fake.OpenID {
				t.Errorf("refreshes %d, user-info calls %d; want 1 and 2",
					fake.Calls(douyintest.RefreshTokenPath)-refreshes, fake.Calls(bytedancetest.UserInfoPath)-calls)
			}
			nt, err := src.Token()
			if err != nil || nt.AccessToken == tok.AccessToken {
				t.Fatalf("the source does not hold the new token: %v", err)
			}
			if _, err := from(ctx, src); err != nil || fake.Calls(douyintest.RefreshTokenPath)-refreshes != 1 {
				t.Errorf("again: %v after %d refreshes, want the kept token used", err, fake.Calls(douyintest.RefreshTokenPath)-refreshes)
			}
			// A token whose grant is dead: one refresh attempt, its error.
			fake.Revoke(fake.OpenID)
			if _, err := from(ctx, source(ctx, tok)); !errors.Is(err, oauth2x.ErrInvalidGrant) {
				t.Errorf("revoked: %v, want ErrInvalidGrant from the refresh", err)
			}
		})
	}
}

// TestClientRetriesOnInvalidToken: an API answers "access token expired"
// (2190008, HTTP 200) to the token the Config's Client sent; the client
// refreshes once through its source and resends; the API sees the new
// token, and the next request uses it with no further refresh.
func TestClientRetriesOnInvalidToken(t *testing.T) {
	for _, row := range uiRows {
		t.Run(row.name, func(t *testing.T) {
			fake, flow, _ := row.start(t, "")
			_, _, client := uiSource(flow)
			ctx := context.WithValue(context.Background(), oauth2.HTTPClient, fake.Client())
			tok := uiLogin(t, fake, flow, ctx, "user_info")
			var mu sync.Mutex
			var seen []string
			api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				seen = append(seen, r.Header.Get("access-token")+" "+string(b))
				mu.Unlock()
				if r.Header.Get("access-token") == tok.AccessToken {
					io.WriteString(w, `{"data":{"description":"access_token expired","error_code":2190008},"extra":{"error_code":2190008,"logid":"L"}}`)
					return
				}
				io.WriteString(w, `{"data":{"error_code":0,"list":[]},"extra":{"error_code":0}}`)
			}))
			defer api.Close()
			hc := client(ctx, tok)
			refreshes := fake.Calls(douyintest.RefreshTokenPath)
			for i := range 2 {
				resp, err := hc.Post(api.URL+"/api/list/", "application/json", strings.NewReader(`{"cursor":0}`))
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if !strings.Contains(string(b), `"list"`) {
					t.Errorf("request %d: answer %s, want the API's success", i, b)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if got := fake.Calls(douyintest.RefreshTokenPath) - refreshes; got != 1 || len(seen) != 3 ||
				seen[1] == seen[0] || seen[2] != seen[1] || !strings.HasSuffix(seen[1], ` {"cursor":0}`) {
				t.Errorf("refreshes %d, API saw %q; want 1 refresh, the old token once, then the new one with the body resent", got, seen)
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

// TestNoRefreshTokenIsInvalidGrantEverywhere: refreshing no token, or one
// without a refresh token, is a dead grant of the public error type that
// also carries an invalid_grant RetrieveError, on every path: a Config's
// Refresh, its Client, and ConfigRefresher.
func TestNoRefreshTokenIsInvalidGrantEverywhere(t *testing.T) {
	ctx := context.Background()
	dy := &douyin.Config{ClientKey: "k", ClientSecret: "s", Endpoint: oauth2.Endpoint{TokenURL: "http://127.0.0.1:1/oauth/access_token/"}}
	tt := &toutiao.Config{ClientKey: "k", ClientSecret: "s", Endpoint: oauth2.Endpoint{TokenURL: "http://127.0.0.1:1/oauth/access_token/"}}
	plain := oauth2x.ConfigRefresher(&oauth2.Config{ClientID: "k", Endpoint: oauth2.Endpoint{TokenURL: "http://127.0.0.1:1/token"}})
	get := func(c *http.Client) error {
		_, err := c.Get("http://127.0.0.1:1/api")
		return err
	}
	for name, err := range map[string]error{
		"douyin refresh nil":    func() error { _, err := dy.Refresh(ctx, nil); return err }(),
		"douyin client nil":     get(dy.Client(ctx, nil)),
		"toutiao refresh no rt": func() error { _, err := tt.Refresh(ctx, &oauth2.Token{AccessToken: "a"}); return err }(),
		"toutiao client nil":    get(tt.Client(ctx, nil)),
		"ConfigRefresher nil":   func() error { _, err := plain.Refresh(ctx, nil); return err }(),
		"ConfigRefresher no rt": func() error { _, err := plain.Refresh(ctx, &oauth2.Token{AccessToken: "a"}); return err }(),
	} {
		var e *oauth2x.Error
		var re *oauth2.RetrieveError
		if !errors.Is(err, oauth2x.ErrInvalidGrant) || !errors.As(err, &e) || !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
			t.Errorf("%s: %T %v, want an *oauth2x.Error of ErrInvalidGrant with an invalid_grant RetrieveError", name, err, err)
		}
	}
}
