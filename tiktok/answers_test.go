package tiktok_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/tiktok"
	"github.com/oauth2x/oauth2x/tiktok/tiktoktest"
)

// TestFakeErrorStatus: the fake's errors come with HTTP 200 (TikTok's
// documents) or, set with SetErrorStatus, 400; every call classifies them
// the same way.
func TestFakeErrorStatus(t *testing.T) {
	for _, status := range []int{200, 400} {
		fake, conf, ctx, _ := setup(t, "user.info.basic")
		fake.SetErrorStatus(status)
		tok := login(t, fake, conf, ctx)
		if _, err := conf.Exchange(ctx, "code*v2!unknown"); !errors.Is(err, oauth2x.ErrInvalidGrant) {
			t.Errorf("HTTP %d: dead code: %v, want ErrInvalidGrant", status, err)
		}
		if _, err := conf.Refresh(ctx, &oauth2.Token{RefreshToken: "rft.dead"}); !errors.Is(err, oauth2x.ErrInvalidGrant) {
			t.Errorf("HTTP %d: dead refresh token: %v, want ErrInvalidGrant", status, err)
		}
		bad := *conf
		bad.ClientSecret = "wrong"
		if _, err := bad.Refresh(ctx, tok); !errors.Is(err, oauth2x.ErrInvalidClient) {
			t.Errorf("HTTP %d: wrong secret: %v, want ErrInvalidClient", status, err)
		}
		if err := conf.Revoke(ctx, &oauth2.Token{AccessToken: "act.unknown"}); !errors.Is(err, oauth2x.ErrInvalidRequest) {
			t.Errorf("HTTP %d: revoke of an unknown token: %v, want ErrInvalidRequest", status, err)
		}
		var e *oauth2x.Error
		_, err := conf.Refresh(ctx, &oauth2.Token{RefreshToken: "rft.dead"})
		if !errors.As(err, &e) || e.Status != status {
			t.Errorf("HTTP %d: the error says status %v", status, err)
		}
	}
}

// TestPrefixKeptForRevokeAndUserInfo: behind a gateway that serves TikTok
// under a prefix, revoke and user info go under the same prefix as the
// token URL, not to the host's root.
func TestPrefixKeptForRevokeAndUserInfo(t *testing.T) {
	fake := tiktoktest.NewServerAt("/gw/tiktok")
	defer fake.Close()
	conf := fake.Config(redirect, "user.info.basic")
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, fake.Client())
	if !strings.HasSuffix(conf.Endpoint.TokenURL, "/gw/tiktok"+tiktok.TokenPath) {
		t.Fatalf("token URL %s", conf.Endpoint.TokenURL)
	}
	tok := login(t, fake, conf, ctx)
	if u, err := conf.UserInfo(ctx, tok); err != nil || u.OpenID == "" {
		t.Errorf("user info under the prefix: %v", err)
	}
	if err := conf.Revoke(ctx, tok); err != nil {
		t.Errorf("revoke under the prefix: %v", err)
	}
	if fake.Calls(tiktoktest.UserInfoPath) != 1 || fake.Calls(tiktoktest.RevokePath) != 1 {
		t.Errorf("user-info calls %d, revokes %d; want 1 and 1", fake.Calls(tiktoktest.UserInfoPath), fake.Calls(tiktoktest.RevokePath))
	}
}

// TestRevokeClientTokenKeepsUsers: revoking an app's client token ends
// that token only; the users' grants live on.
func TestRevokeClientTokenKeepsUsers(t *testing.T) {
	fake, conf, ctx, _ := setup(t, "user.info.basic")
	tok := login(t, fake, conf, ctx)
	ct, err := conf.ClientToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := conf.Revoke(ctx, ct); err != nil {
		t.Fatal(err)
	}
	if _, err := conf.UserInfo(ctx, tok); err != nil {
		t.Errorf("user token after revoking the client token: %v", err)
	}
	if err := conf.Revoke(ctx, ct); !errors.Is(err, oauth2x.ErrInvalidRequest) {
		t.Errorf("the client token lives on after its revoke: %v", err)
	}
}

// TestNoTokenIsRefusedLocally: no token, or one without what the call
// needs, fails before any request with the public error type; the
// refresh cases are dead grants with an invalid_grant RetrieveError, as
// a check written for x/oauth2 expects.
func TestNoTokenIsRefusedLocally(t *testing.T) {
	fake, conf, ctx, _ := setup(t, "user.info.basic")
	isPublic := func(name string, err, kind error) {
		t.Helper()
		var e *oauth2x.Error
		if !errors.Is(err, kind) || !errors.As(err, &e) {
			t.Errorf("%s: %T %v, want an *oauth2x.Error of kind %v", name, err, err, kind)
		}
	}
	deadGrant := func(name string, err error) {
		t.Helper()
		isPublic(name, err, oauth2x.ErrInvalidGrant)
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
			t.Errorf("%s: %v carries no invalid_grant RetrieveError", name, err)
		}
	}
	_, err := conf.UserInfo(ctx, nil)
	isPublic("user info, nil token", err, oauth2x.ErrInvalidRequest)
	_, err = conf.UserInfo(ctx, &oauth2.Token{})
	isPublic("user info, empty token", err, oauth2x.ErrInvalidRequest)
	isPublic("revoke, nil token", conf.Revoke(ctx, nil), oauth2x.ErrInvalidRequest)
	isPublic("revoke, empty token", conf.Revoke(ctx, &oauth2.Token{}), oauth2x.ErrInvalidRequest)
	_, err = conf.Refresh(ctx, nil)
	deadGrant("refresh, nil token", err)
	_, err = conf.Refresh(ctx, &oauth2.Token{AccessToken: "act.x"})
	deadGrant("refresh, no refresh token", err)
	_, err = conf.Client(ctx, nil).Get(fake.URL + tiktoktest.UserInfoPath + "?fields=open_id")
	deadGrant("client, nil token", err)
	for _, p := range []string{tiktoktest.UserInfoPath, tiktoktest.RevokePath, tiktoktest.TokenPath} {
		if n := fake.Calls(p); n != 0 {
			t.Errorf("%d calls reached %s", n, p)
		}
	}
}

// TestUserInfoCodeIsKeptAndDecides: TikTok's error.code is the API's
// code, not an authorization code: it is kept as sent, and it decides the
// kind whatever the status.
func TestUserInfoCodeIsKeptAndDecides(t *testing.T) {
	fake, conf, ctx, _ := setup(t, "user.info.basic")
	tok := &oauth2.Token{AccessToken: "act.x"}
	for _, c := range []struct {
		status int
		body   string
		kind   error
		code   string
	}{
		{401, `{"data":{},"error":{"code":"scope_not_authorized","message":"not ok","log_id":"L"}}`, oauth2x.ErrInsufficientScope, "scope_not_authorized"},
		{401, `{"data":{},"error":{"code":"some_new_code","message":"x","log_id":"L"}}`, oauth2x.ErrRejected, "some_new_code"},
		{403, `{"data":{},"error":{"code":"some_new_code","message":"x","log_id":"L"}}`, oauth2x.ErrRejected, "some_new_code"},
		{401, `{"data":{"user":{"open_id":"o"}},"error":{"code":"ok","message":"","log_id":"L"}}`, oauth2x.ErrBadResponse, "ok"},
		{503, `{"data":{},"error":{"code":"some_new_code","message":"x","log_id":"L"}}`, oauth2x.ErrTemporary, "some_new_code"},
	} {
		fake.RespondNext(tiktoktest.UserInfoPath, c.status, c.body)
		_, err := conf.UserInfo(ctx, tok)
		var e *oauth2x.Error
		if !errors.Is(err, c.kind) || !errors.As(err, &e) || e.Code != c.code || strings.Contains(string(e.Retrieve.Body), "[redacted]") {
			t.Errorf("HTTP %d %s: %v (body %s), want %v with code %q", c.status, c.body, err, e.Retrieve.Body, c.kind, c.code)
		}
		if strings.Contains(err.Error(), "token endpoint") {
			t.Errorf("user info error speaks of the token endpoint: %v", err)
		}
	}
}

// TestUserInfoReadsProfileLoosely: a profile field of an unexpected type
// (a bool as a string, a count as a float or a string) does not fail the
// call; what cannot be read is left empty.
func TestUserInfoReadsProfileLoosely(t *testing.T) {
	fake, conf, ctx, _ := setup(t, "user.info.basic")
	fake.RespondNext(tiktoktest.UserInfoPath, 200, `{"data":{"user":{"open_id":"o","is_verified":"true","follower_count":1.5,"likes_count":"12","video_count":{"n":1}}},"error":{"code":"ok","message":"","log_id":"L"}}`)
	u, err := conf.UserInfo(ctx, &oauth2.Token{AccessToken: "act.x"})
	if err != nil {
		t.Fatal(err)
	}
	if u.OpenID != "o" || !u.IsVerified || u.FollowerCount != 1 || u.LikesCount != 12 || u.VideoCount != 0 {
		t.Errorf("user %+v", u)
	}
}

// TestCancelledCallerKeepsRotatedToken: a request's context ends while
// the Config's client refreshes a token with a slow answer. The caller
// stops waiting at once; the refresh goes on, and the rotated token it
// brings is kept and used by the next request, with no second refresh
// (which would present the refresh token TikTok already killed).
func TestCancelledCallerKeepsRotatedToken(t *testing.T) {
	fake, conf, ctx, _ := setup(t, "user.info.basic")
	tok := login(t, fake, conf, ctx)
	tok.Expiry = time.Now().Add(-time.Minute)
	entered, release := make(chan struct{}), make(chan struct{})
	fake.SetHook(func(path string) {
		if path == tiktoktest.TokenPath {
			close(entered)
			<-release
		}
	})
	hc := conf.Client(ctx, tok)
	info := fake.URL + tiktoktest.UserInfoPath + "?fields=open_id"
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(rctx, http.MethodGet, info, nil)
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	<-entered
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled request: %v, want context.Canceled", err)
	}
	fake.SetHook(nil)
	close(release)
	resp, err := hc.Get(info)
	if err != nil {
		t.Fatalf("next request: %v (the rotated token was lost)", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || fake.Calls(tiktoktest.TokenPath) != 2 { // the login's exchange and one refresh
		t.Errorf("HTTP %d after %d token calls; want 200 after the exchange and one refresh", resp.StatusCode, fake.Calls(tiktoktest.TokenPath))
	}
}
