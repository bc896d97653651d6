package toutiao_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/toutiao"
	"github.com/oauth2x/oauth2x/toutiao/toutiaotest"
)

const redirect = "https://app.example/callback"

func setup(t *testing.T) (*toutiaotest.Server, *toutiao.Config, context.Context) {
	t.Helper()
	fake := toutiaotest.NewServer()
	t.Cleanup(fake.Close)
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, fake.Client())
	return fake, fake.Config(redirect, "user_info", "video.list"), ctx
}

func TestAuthCodeURL(t *testing.T) {
	conf := &toutiao.Config{ClientKey: "ck", ClientSecret: "s3cret", RedirectURL: redirect, Scopes: []string{"user_info", "video.list"}}
	u, err := url.Parse(conf.AuthCodeURL("xyz"))
	if err != nil {
		t.Fatal(err)
	}
	if page := u.Scheme + "://" + u.Host + u.Path; page != "https://open.snssdk.com/oauth/authorize/" {
		t.Errorf("page = %s", page)
	}
	want := url.Values{"client_key": {"ck"}, "response_type": {"code"}, "scope": {"user_info,video.list"}, "redirect_uri": {redirect}, "state": {"xyz"}}
	if diff := cmp.Diff(want, u.Query()); diff != "" {
		t.Errorf("query (-want +got):\n%s", diff)
	}
}

func TestLoginRefreshAndAPI(t *testing.T) {
	fake, conf, ctx := setup(t)
	code, state, err := fake.Authorize(ctx, conf.AuthCodeURL("st"))
	if err != nil || state != "st" {
		t.Fatalf("authorize: %q %q %v", code, state, err)
	}
	tok, err := conf.Exchange(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok.AccessToken, "act.toutiao") || toutiao.OpenID(tok) != toutiaotest.DefaultOpenID || tok.ExpiresIn != 1296000 {
		t.Errorf("token %+v open_id %q", tok, toutiao.OpenID(tok))
	}
	if toutiao.OpenID(nil) != "" {
		t.Error("OpenID(nil) not empty")
	}
	nt, err := conf.Refresh(ctx, tok)
	if err != nil || nt.AccessToken == tok.AccessToken || toutiao.OpenID(nt) != toutiao.OpenID(tok) {
		t.Fatalf("refresh %+v, %v", nt, err)
	}
	if fake.Calls(toutiaotest.RefreshTokenPath) != 1 || fake.SecretsSeen(toutiaotest.RefreshTokenPath) != 0 {
		t.Error("refresh did not go to Toutiao's refresh path without the secret")
	}
	resp, err := conf.Client(ctx, nt).Get(fake.URL + toutiaotest.APIPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if fake.Calls(toutiaotest.APIPath) != 1 {
		t.Error("API not called")
	}

	_, err = conf.Exchange(ctx, code)
	if !errors.Is(err, oauth2x.ErrInvalidGrant) || !strings.HasPrefix(err.Error(), "toutiao: exchange: error 10007") || strings.Contains(err.Error(), code) {
		t.Errorf("reused code: %v", err)
	}
}

// Toutiao has no silent page and no renew call; the fake answers 404 as a
// host without them would.
func TestNoRenewNoSilentPage(t *testing.T) {
	fake, _, _ := setup(t)
	for _, path := range []string{"/oauth/renew_refresh_token/", "/oauth/authorize/v2/"} {
		resp, err := fake.Client().Post(fake.URL+path, "application/x-www-form-urlencoded", strings.NewReader("client_key=x"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %s, want 404", path, resp.Status)
		}
	}
}

func TestClientTokens(t *testing.T) {
	fake, conf, ctx := setup(t)
	tok, err := conf.ClientToken(ctx)
	if err != nil || !strings.HasPrefix(tok.AccessToken, "clt.toutiao") || tok.ExpiresIn != 7200 {
		t.Fatalf("client token %+v, %v", tok, err)
	}
	s1, err1 := conf.StableClientToken(ctx)
	s2, err2 := conf.StableClientToken(ctx)
	if err1 != nil || err2 != nil || s1.AccessToken != s2.AccessToken {
		t.Errorf("stable tokens %v %v (%v %v)", s1, s2, err1, err2)
	}
	src := conf.ClientTokenSource(ctx)
	a, _ := src.Token()
	b, _ := src.Token()
	if a == nil || a != b || fake.Calls(toutiaotest.ClientTokenPath) != 2 {
		t.Errorf("client token source fetched %d times", fake.Calls(toutiaotest.ClientTokenPath))
	}

	// Through the bridge, x/oauth2's clientcredentials gets the same.
	bctx := context.WithValue(context.Background(), oauth2.HTTPClient, toutiao.Bridge(fake.Endpoint(), fake.Client()))
	cc := &clientcredentials.Config{ClientID: conf.ClientKey, ClientSecret: conf.ClientSecret, TokenURL: fake.URL + toutiaotest.ClientTokenPath}
	ct, err := cc.Token(bctx)
	if err != nil || !strings.HasPrefix(ct.AccessToken, "clt.toutiao") || fake.Calls(toutiaotest.ClientTokenPath) != 3 {
		t.Errorf("bridged client token %+v, %v", ct, err)
	}
	cc.ClientSecret = "wrong-secret"
	_, err = cc.Token(bctx)
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_client" || !strings.Contains(re.ErrorDescription, "10013") || strings.Contains(err.Error(), "wrong-secret") {
		t.Errorf("bridged wrong secret: %v", err)
	}
}
