package fantem_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/fantem"
	"github.com/oauth2x/oauth2x/fantem/fantemtest"
)

const redirect = "https://app.example/callback"

func setup(t *testing.T) (*fantemtest.Server, *fantem.Config, context.Context) {
	t.Helper()
	fake := fantemtest.NewServer()
	t.Cleanup(fake.Close)
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, fake.Client())
	return fake, fake.Config(redirect, "devices", "scenes"), ctx
}

func login(t *testing.T, fake *fantemtest.Server, conf *fantem.Config, ctx context.Context) *oauth2.Token {
	t.Helper()
	code, state, err := fake.Authorize(ctx, conf.AuthCodeURL("st4te"))
	if err != nil || state != "st4te" {
		t.Fatalf("authorize: code %q state %q err %v", code, state, err)
	}
	tok, err := conf.Exchange(ctx, code)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	return tok
}

func TestEndpoints(t *testing.T) {
	if fantem.Endpoint.AuthURL != "https://openapi.fantem-gateway.com/oauth/authorize" || fantem.Endpoint.TokenURL != "https://openapi.fantem-gateway.com/oauth/token" {
		t.Errorf("Endpoint = %+v", fantem.Endpoint)
	}
	got, err := fantem.EndpointFor("http://gw.example:8080/prefix/")
	want := oauth2.Endpoint{AuthURL: "http://gw.example:8080/prefix/oauth/authorize", TokenURL: "http://gw.example:8080/prefix/oauth/token"}
	if diff := cmp.Diff(want, got); diff != "" || err != nil {
		t.Errorf("EndpointFor (-want +got):\n%s%v", diff, err)
	}
	for _, bad := range []string{"not a url", "", "gw.example", "ftp://gw.example", "https://gw.example/?x=1", "http://user:pw@gw.example"} {
		if e, err := fantem.EndpointFor(bad); err == nil || e != (oauth2.Endpoint{}) || strings.Contains(fmt.Sprint(err), "pw") {
			t.Errorf("EndpointFor(%q) = %+v, %v; want an error", bad, e, err)
		}
	}
}

// TestEndpointRule: an empty Config.Endpoint means the package's Endpoint
// as it is at the time of the call, on every provider.
func TestEndpointRule(t *testing.T) {
	fake := fantemtest.NewServer()
	defer fake.Close()
	saved := fantem.Endpoint
	defer func() { fantem.Endpoint = saved }()
	fantem.Endpoint = fake.Endpoint()
	conf := &fantem.Config{ClientID: fake.ClientID}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, fake.Client())
	if _, err := conf.Exchange(ctx, fake.IssueCode("")); err != nil || fake.Calls(fantemtest.TokenPath) != 1 {
		t.Errorf("reassigned Endpoint not used: %v", err)
	}
}

func TestAuthCodeURL(t *testing.T) {
	conf := &fantem.Config{ClientID: "cid", ClientSecret: "csecret", RedirectURL: redirect, Scopes: []string{"a", "b"}}
	u, err := url.Parse(conf.AuthCodeURL("xyz", oauth2.SetAuthURLParam("extra", "1")))
	if err != nil {
		t.Fatal(err)
	}
	if page := u.Scheme + "://" + u.Host + u.Path; page != fantem.Endpoint.AuthURL {
		t.Errorf("page = %s", page)
	}
	want := url.Values{"client_id": {"cid"}, "response_type": {"code"}, "redirect_uri": {redirect}, "scope": {"a b"}, "state": {"xyz"}, "extra": {"1"}}
	if diff := cmp.Diff(want, u.Query()); diff != "" {
		t.Errorf("query (-want +got):\n%s", diff)
	}
}

// TestWireFormat checks the exact multipart fields of both calls.
func TestWireFormat(t *testing.T) {
	var got []url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseMultipartForm(1 << 16); err != nil {
			t.Errorf("not multipart: %v (%s)", err, r.Header.Get("Content-Type"))
		}
		got = append(got, url.Values(r.MultipartForm.Value))
		w.Write([]byte(`{"access_token":"A1","expires_in":"60"}`))
	}))
	defer srv.Close()
	for _, secret := range []string{"", "sec"} {
		got = nil
		conf := &fantem.Config{ClientID: "cid", ClientSecret: secret, RedirectURL: redirect, Endpoint: oauth2.Endpoint{TokenURL: srv.URL + fantem.TokenPath}}
		tok, err := conf.Exchange(context.Background(), "C1", oauth2.VerifierOption("ver"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conf.Refresh(context.Background(), &oauth2.Token{AccessToken: "old", RefreshToken: "R1"}); err != nil {
			t.Fatal(err)
		}
		want := []url.Values{
			{"grant_type": {"authorization_code"}, "client_id": {"cid"}, "code": {"C1"}, "redirect_uri": {redirect}, "code_verifier": {"ver"}},
			{"grant_type": {"refresh_token"}, "client_id": {"cid"}, "refresh_token": {"R1"}},
		}
		if secret != "" {
			for _, w := range want {
				w.Set("client_secret", secret)
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("secret %q: fields (-want +got):\n%s", secret, diff)
		}
		if tok.ExpiresIn != 60 || tok.Type() != "Bearer" || tok.RefreshToken != "" {
			t.Errorf("token %+v", tok)
		}
	}
}

func TestLoginBothEditions(t *testing.T) {
	for _, str := range []bool{false, true} {
		fake, conf, ctx := setup(t)
		fake.SetStringExpiresIn(str)
		before := time.Now()
		tok := login(t, fake, conf, ctx)
		if tok.ExpiresIn != 36000 || tok.Type() != "Bearer" || tok.TokenType != "" || tok.RefreshToken == "" {
			t.Errorf("string %v: token %+v", str, tok)
		}
		if lo, hi := before.Add(fantemtest.AccessTTL), time.Now().Add(fantemtest.AccessTTL); tok.Expiry.Before(lo) || tok.Expiry.After(hi) {
			t.Errorf("Expiry %v not within [%v, %v]", tok.Expiry, lo, hi)
		}
		if fake.SecretsSeen(fantemtest.TokenPath) != 0 {
			t.Error("a public client sent client_secret")
		}
		var a fantemtest.APIAnswer
		resp, err := conf.Client(ctx, tok).Get(fake.URL + fantemtest.APIPath)
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(resp.Body).Decode(&a)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || a.User != fantemtest.DefaultUser || a.Scope != "devices scenes" {
			t.Errorf("API answered %s %+v (%v) to Config.Client", resp.Status, a, err)
		}
	}
}

func TestRefreshKeepsRefreshToken(t *testing.T) {
	fake, conf, ctx := setup(t)
	tok := login(t, fake, conf, ctx)
	nt, err := conf.Refresh(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if nt.RefreshToken != tok.RefreshToken || nt.AccessToken == tok.AccessToken || nt.ExpiresIn != 36000 {
		t.Errorf("refreshed %+v from %+v", nt, tok)
	}
	if _, err := conf.Refresh(ctx, nt); err != nil {
		t.Errorf("the kept refresh token no longer works: %v", err)
	}
}

func TestClientSecretWhenConfigured(t *testing.T) {
	fake, conf, ctx := setup(t)
	fake.ClientSecret = "gw-secret"
	conf.ClientSecret = "gw-secret"
	tok := login(t, fake, conf, ctx)
	if _, err := conf.Refresh(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if n := fake.SecretsSeen(fantemtest.TokenPath); n != 2 {
		t.Errorf("client_secret sent %d times, want 2", n)
	}
	conf.ClientSecret = "wrong-secret"
	_, err := conf.Exchange(ctx, fake.IssueCode(""))
	assertErr(t, err, oauth2x.ErrInvalidClient, "invalid_client", 400, "wrong-secret")
}

func assertErr(t *testing.T, err error, kind error, code string, status int, secrets ...string) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("err = %v, want %v", err, kind)
	}
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, not a *oauth2.RetrieveError", err)
	}
	if re.ErrorCode != code || re.Response.StatusCode != status {
		t.Errorf("RetrieveError code %q status %d, want %q %d", re.ErrorCode, re.Response.StatusCode, code, status)
	}
	if !strings.HasPrefix(err.Error(), "fantem: ") {
		t.Errorf("error not prefixed: %q", err)
	}
	for _, s := range secrets {
		if strings.Contains(err.Error(), s) || strings.Contains(string(re.Body), s) {
			t.Errorf("%q leaks in %q / %q", s, err, re.Body)
		}
	}
}

func TestErrors(t *testing.T) {
	fake, conf, ctx := setup(t)
	tok := login(t, fake, conf, ctx)

	code := fake.IssueCode("")
	if _, err := conf.Exchange(ctx, code); err != nil {
		t.Fatal(err)
	}
	_, err := conf.Exchange(ctx, code)
	assertErr(t, err, oauth2x.ErrInvalidGrant, "invalid_grant", 400, code)

	// A code from the page is bound to its redirect_uri.
	c2, _, _ := fake.Authorize(ctx, conf.AuthCodeURL("s"))
	other := *conf
	other.RedirectURL = "https://elsewhere.example/cb"
	_, err = other.Exchange(ctx, c2)
	assertErr(t, err, oauth2x.ErrInvalidGrant, "invalid_grant", 400, c2)

	// A 400 that says nothing usable (plain text, a proxy's HTML page)
	// proves no dead grant: it is a bad response, retried later.
	fake.SetPlainErrors(true)
	_, err = conf.Refresh(ctx, &oauth2.Token{RefreshToken: "NOT-A-TOKEN"})
	assertErr(t, err, oauth2x.ErrBadResponse, "server_error", 400, "NOT-A-TOKEN")

	fake.RespondNext(fantemtest.TokenPath, 400, "<html><body>400 Bad Request</body></html>")
	_, err = conf.Refresh(ctx, tok)
	assertErr(t, err, oauth2x.ErrBadResponse, "server_error", 400, tok.RefreshToken, tok.AccessToken)

	fake.RespondNext(fantemtest.TokenPath, 502, "<html>Bad Gateway</html>")
	_, err = conf.Refresh(ctx, tok)
	assertErr(t, err, oauth2x.ErrTemporary, "temporarily_unavailable", 502)

	fake.RespondNext(fantemtest.TokenPath, 200, `{"access_token":"A","expires_in":"soon"}`)
	_, err = conf.Refresh(ctx, tok)
	assertErr(t, err, oauth2x.ErrBadResponse, "server_error", 200)

	_, err = conf.Refresh(ctx, &oauth2.Token{AccessToken: "A"})
	if !errors.Is(err, oauth2x.ErrInvalidGrant) || !strings.HasPrefix(err.Error(), "fantem: ") {
		t.Errorf("no refresh token: %v", err)
	}
}

func TestBridge(t *testing.T) {
	fake, conf, ctx := setup(t)
	plain := &oauth2.Config{ClientID: conf.ClientID, RedirectURL: redirect, Endpoint: fake.Endpoint()}

	// Without the bridge, x/oauth2's form-encoded request is refused.
	code, _, _ := fake.Authorize(ctx, plain.AuthCodeURL("s"))
	_, err := plain.Exchange(ctx, code)
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response.StatusCode != 400 || re.ErrorCode != "invalid_request" {
		t.Fatalf("plain x/oauth2 without the bridge: %v", err)
	}

	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		plain.Endpoint.AuthStyle = style
		bctx := context.WithValue(context.Background(), oauth2.HTTPClient, fantem.Bridge(fake.Endpoint(), fake.Client()))
		code, _, _ := fake.Authorize(bctx, plain.AuthCodeURL("s"))
		tok, err := plain.Exchange(bctx, code)
		if err != nil {
			t.Fatalf("style %d: %v", style, err)
		}
		old := *tok
		old.Expiry = time.Now().Add(-time.Minute)
		nt, err := plain.TokenSource(bctx, &old).Token()
		if err != nil || nt.AccessToken == tok.AccessToken || nt.RefreshToken != tok.RefreshToken {
			t.Errorf("style %d: refresh %+v, %v", style, nt, err)
		}
		_, err = plain.Exchange(bctx, code)
		if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" || !strings.Contains(re.ErrorDescription, "fantem: exchange") {
			t.Errorf("style %d: reused code: %v", style, err)
		}
		if strings.Contains(err.Error(), code) || strings.Contains(string(re.Body), code) {
			t.Errorf("style %d: the code leaks: %v", style, err)
		}
		cc := clientcredentials.Config{ClientID: conf.ClientID, TokenURL: fake.Endpoint().TokenURL}
		if _, err := cc.Token(bctx); !errors.As(err, &re) || re.ErrorCode != "unsupported_grant_type" {
			t.Errorf("style %d: client credentials: %v", style, err)
		}
	}
}

func TestClientHonoursRequestContextDuringRefresh(t *testing.T) {
	fake := fantemtest.NewServer()
	defer fake.Close()
	entered, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	var once sync.Once
	fake.SetHook(func(path string) {
		if path == fantemtest.TokenPath {
			once.Do(func() { close(entered) })
			<-release
		}
	})
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, fake.Client())
	conf := &fantem.Config{ClientID: fake.ClientID, Endpoint: fake.Endpoint()}
	client := conf.Client(ctx, &oauth2.Token{AccessToken: "old", RefreshToken: "rt", Expiry: time.Now().Add(-time.Minute)})
	reqCtx, cancel := context.WithCancel(context.Background())
	go func() { <-entered; cancel() }()
	req, _ := http.NewRequestWithContext(reqCtx, "GET", fake.URL+fantemtest.APIPath, nil)
	_, err := client.Do(req)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Do = %v, want context.Canceled while the refresh is held", err)
	}
}

// TestFakeChecksPKCE: a code whose page got a code_challenge is refused
// without the matching code_verifier, as an RFC 7636 server refuses it, so
// a test that forgets or garbles the verifier fails here too.
func TestFakeChecksPKCE(t *testing.T) {
	fake, conf, ctx := setup(t)
	verifier := oauth2.GenerateVerifier()
	for _, c := range []struct {
		name string
		opts []oauth2.AuthCodeOption
		kind error
	}{
		{"wrong verifier", []oauth2.AuthCodeOption{oauth2.VerifierOption(oauth2.GenerateVerifier())}, oauth2x.ErrInvalidGrant},
		{"no verifier", nil, oauth2x.ErrInvalidRequest},
		{"right verifier", []oauth2.AuthCodeOption{oauth2.VerifierOption(verifier)}, nil},
	} {
		code, _, err := fake.Authorize(ctx, conf.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)))
		if err != nil {
			t.Fatal(err)
		}
		tok, err := conf.Exchange(ctx, code, c.opts...)
		if c.kind == nil && (err != nil || tok.AccessToken == "") {
			t.Errorf("%s: %v", c.name, err)
		}
		if c.kind != nil && oauth2x.KindOf(err) != c.kind {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.kind)
		}
	}
}
