package douyin_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/douyin"
	"github.com/oauth2x/oauth2x/douyin/douyintest"
)

// prefixed puts the fake behind a proxy at /douyin, as a gateway in front
// of a sandbox would: only paths under the prefix reach it.
func prefixed(t *testing.T, fake *douyintest.Server) (base string) {
	t.Helper()
	target, _ := url.Parse(fake.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	mux := http.NewServeMux()
	mux.Handle("/douyin/", http.StripPrefix("/douyin", proxy))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/douyin"
}

// TestPathPrefixIsKeptForEveryCall: a TokenURL with a path prefix sends
// refresh, renew and client-token calls under the same prefix, directly
// and through the bridge.
func TestPathPrefixIsKeptForEveryCall(t *testing.T) {
	fake := douyintest.NewServer()
	defer fake.Close()
	base := prefixed(t, fake)
	e, err := oauth2x.EndpointAt(base, douyin.Endpoint)
	if err != nil || e.TokenURL != base+"/oauth/access_token/" {
		t.Fatalf("EndpointAt = %+v, %v", e, err)
	}
	conf := &douyin.Config{ClientKey: fake.ClientKey, ClientSecret: fake.ClientSecret, RedirectURL: redirect, Endpoint: e}
	ctx := context.Background()
	tok, err := conf.Exchange(ctx, fake.IssueCode("user_info"))
	if err != nil {
		t.Fatal(err)
	}
	if tok, err = conf.Refresh(ctx, tok); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if _, err = conf.RenewRefreshToken(ctx, tok); err != nil {
		t.Fatalf("RenewRefreshToken: %v", err)
	}
	if _, err = conf.ClientToken(ctx); err != nil {
		t.Fatalf("ClientToken: %v", err)
	}
	if _, err = conf.StableClientToken(ctx); err != nil {
		t.Fatalf("StableClientToken: %v", err)
	}
	if got := conf.SilentAuthCodeURL("s"); !strings.HasPrefix(got, base+"/oauth/authorize/v2/?") {
		t.Errorf("SilentAuthCodeURL = %s", got)
	}
	plain := &oauth2.Config{ClientID: fake.ClientKey, ClientSecret: fake.ClientSecret, Endpoint: e}
	bctx := context.WithValue(ctx, oauth2.HTTPClient, douyin.Bridge(e, nil))
	bt, err := plain.Exchange(bctx, fake.IssueCode("user_info"))
	if err != nil {
		t.Fatal(err)
	}
	bt.Expiry = bt.Expiry.Add(-douyintest.AccessTTL)
	if _, err := plain.TokenSource(bctx, bt).Token(); err != nil {
		t.Errorf("bridged refresh: %v", err)
	}
	for _, p := range []string{douyintest.RefreshTokenPath, douyintest.RenewRefreshTokenPath, douyintest.ClientTokenPath, douyintest.StableClientTokenPath} {
		if fake.Calls(p) == 0 {
			t.Errorf("no call reached %s", p)
		}
	}
}

// TestEndpointReassignment: an empty Config.Endpoint means douyin.Endpoint
// as it is at the time of the call, as on every provider.
func TestEndpointReassignment(t *testing.T) {
	fake := douyintest.NewServer()
	defer fake.Close()
	saved := douyin.Endpoint
	defer func() { douyin.Endpoint = saved }()
	douyin.Endpoint = fake.Endpoint()
	conf := &douyin.Config{ClientKey: fake.ClientKey, ClientSecret: fake.ClientSecret, RedirectURL: redirect}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, fake.Client())
	tok, err := conf.Exchange(ctx, fake.IssueCode("user_info"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conf.Refresh(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(conf.AuthCodeURL("s"), fake.URL) {
		t.Errorf("AuthCodeURL = %s", conf.AuthCodeURL("s"))
	}
}

// TestExchangeOptionReplaces: an option naming a parameter replaces it,
// as on Fantem; it is never sent twice.
func TestExchangeOptionReplaces(t *testing.T) {
	var codes []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		codes = r.PostForm["code"]
		w.Write([]byte(`{"data":{"access_token":"act.1","expires_in":60,"error_code":0},"message":"success"}`))
	}))
	defer srv.Close()
	conf := &douyin.Config{ClientKey: "k", ClientSecret: "s", Endpoint: oauth2.Endpoint{TokenURL: srv.URL + "/oauth/access_token/"}}
	if _, err := conf.Exchange(context.Background(), "C1", oauth2.SetAuthURLParam("code", "C2")); err != nil {
		t.Fatal(err)
	}
	if len(codes) != 1 || codes[0] != "C2" {
		t.Errorf("code sent as %q, want [C2]", codes)
	}
}
