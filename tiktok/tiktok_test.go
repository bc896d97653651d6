package tiktok_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/internal/oauthtest"
	"github.com/oauth2x/oauth2x/tiktok"
	"github.com/oauth2x/oauth2x/tiktok/tiktoktest"
)

const redirect = "https://app.example/callback"

// clock is a settable clock shared by the fake and the library.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// recorder remembers every URL and Authorization header the library sent.
type recorder struct {
	mu   sync.Mutex
	urls []string
	auth []string
	base http.RoundTripper
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.urls = append(r.urls, req.URL.String())
	r.auth = append(r.auth, req.Header.Get("Authorization"))
	r.mu.Unlock()
	return r.base.RoundTrip(req)
}

func setup(t *testing.T, scopes ...string) (*tiktoktest.Server, *tiktok.Config, context.Context, *recorder) {
	t.Helper()
	fake := tiktoktest.NewServer()
	t.Cleanup(fake.Close)
	rec := &recorder{base: fake.Client().Transport}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: rec})
	return fake, fake.Config(redirect, scopes...), ctx, rec
}

func login(t *testing.T, fake *tiktoktest.Server, conf *tiktok.Config, ctx context.Context, opts ...oauth2.AuthCodeOption) *oauth2.Token {
	t.Helper()
	code, state, err := fake.Authorize(ctx, conf.AuthCodeURL("st", opts...))
	if err != nil || state != "st" {
		t.Fatalf("Authorize: %v (state %q)", err, state)
	}
	var xo []oauth2.AuthCodeOption
	if len(opts) > 1 {
		xo = opts[1:] // the verifier option
	}
	tok, err := conf.Exchange(ctx, code, xo...)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	return tok
}

func TestAuthCodeURL(t *testing.T) {
	conf := &tiktok.Config{ClientKey: "ck", RedirectURL: redirect, Scopes: []string{"user.info.basic", "video.list"}}
	u, err := url.Parse(conf.AuthCodeURL("xyz"))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme+"://"+u.Host+u.Path != tiktok.Endpoint.AuthURL || q.Get("client_key") != "ck" || q.Has("client_id") ||
		q.Get("scope") != "user.info.basic,video.list" || q.Get("response_type") != "code" || q.Get("state") != "xyz" ||
		q.Has("code_challenge_method") {
		t.Errorf("AuthCodeURL = %s", u)
	}
}

// TestHexChallenge checks the PROVIDERS.md vector and that the fake
// refuses RFC 7636's base64url challenge and a missing verifier.
func TestHexChallenge(t *testing.T) {
	const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	conf := &tiktok.Config{ClientKey: "ck", RedirectURL: redirect}
	q, _ := url.Parse(conf.AuthCodeURL("s", tiktok.HexS256ChallengeOption(verifier)))
	if got := q.Query().Get("code_challenge"); got != "13d31e961a1ad8ec2f16b10c4c982e0876a878ad6df144566ee1894acb70f9c3" {
		t.Errorf("challenge %q", got)
	}
	if q.Query().Get("code_challenge_method") != "S256" {
		t.Errorf("no S256 method: %s", q)
	}

	fake, conf2, ctx, _ := setup(t, "user.info.basic")
	v := oauth2.GenerateVerifier()
	tok := login(t, fake, conf2, ctx, tiktok.HexS256ChallengeOption(v), oauth2.VerifierOption(v))
	if tok.AccessToken == "" {
		t.Fatal("no token")
	}
	for name, opts := range map[string][2]oauth2.AuthCodeOption{
		"base64url challenge": {oauth2.S256ChallengeOption(v), oauth2.VerifierOption(v)},
		"wrong verifier":      {tiktok.HexS256ChallengeOption(v), oauth2.VerifierOption(oauth2.GenerateVerifier())},
		"no verifier":         {tiktok.HexS256ChallengeOption(v), oauth2.SetAuthURLParam("x", "y")},
	} {
		code, _, err := fake.Authorize(ctx, conf2.AuthCodeURL("s", opts[0]))
		if err != nil {
			t.Fatal(err)
		}
		_, err = conf2.Exchange(ctx, code, opts[1])
		var e *oauth2x.Error
		if !errors.As(err, &e) || e.Code != "invalid_request" || !errors.Is(err, oauth2x.ErrInvalidRequest) || e.LogID == "" {
			t.Errorf("%s: %v, want invalid_request with a log id", name, err)
		}
	}
}

func TestExchangeAndTokenFields(t *testing.T) {
	fake, conf, ctx, rec := setup(t, "user.info.basic")
	before := time.Now()
	tok := login(t, fake, conf, ctx)
	if !strings.HasPrefix(tok.AccessToken, "act.") || !strings.HasPrefix(tok.RefreshToken, "rft.") || tok.TokenType != "Bearer" {
		t.Errorf("token %+v", tok)
	}
	if tiktok.OpenID(tok) != fake.User().OpenID || tok.Extra("scope") != "user.info.basic" {
		t.Errorf("extras: open_id %q scope %v", tiktok.OpenID(tok), tok.Extra("scope"))
	}
	if d := tok.Expiry.Sub(before); d < tiktoktest.AccessTTL-time.Minute || d > tiktoktest.AccessTTL+time.Minute {
		t.Errorf("expiry in %v, want about 2h", d)
	}
	if d := oauth2x.RefreshExpiry(tok).Sub(before); d < tiktoktest.RefreshTTL-time.Minute || d > tiktoktest.RefreshTTL+time.Minute {
		t.Errorf("refresh expiry in %v, want about 180 days", d)
	}
	for _, u := range rec.urls {
		if strings.Contains(u, "code") && strings.Contains(u, tiktoktest.TokenPath) {
			t.Errorf("code in a URL: %s", u)
		}
	}
	// A redirect_uri other than the code's is refused, as TikTok does.
	code := fake.IssueCode(redirect, "user.info.basic")
	other := *conf
	other.RedirectURL = "https://app.example/other"
	if _, err := other.Exchange(ctx, code); !errors.Is(err, oauth2x.ErrInvalidRequest) {
		t.Errorf("mismatched redirect_uri: %v", err)
	}
	// A code works once.
	if _, err := conf.Exchange(ctx, code); err != nil {
		t.Fatal(err)
	}
	if _, err := conf.Exchange(ctx, code); !errors.Is(err, oauth2x.ErrInvalidGrant) {
		t.Errorf("reused code: %v, want ErrInvalidGrant", err)
	}
}

func TestRefreshRotates(t *testing.T) {
	fake, conf, ctx, _ := setup(t, "user.info.basic")
	tok0 := login(t, fake, conf, ctx)
	tok1, err := conf.Refresh(ctx, tok0)
	if err != nil {
		t.Fatal(err)
	}
	if tok1.RefreshToken == tok0.RefreshToken || tok1.AccessToken == tok0.AccessToken || tiktok.OpenID(tok1) != tiktok.OpenID(tok0) {
		t.Fatalf("refresh gave %+v", tok1)
	}
	if _, err := conf.Refresh(ctx, tok0); !errors.Is(err, oauth2x.ErrInvalidGrant) {
		t.Errorf("rotated-out refresh token: %v, want ErrInvalidGrant", err)
	}
	// The secret is required on refresh.
	noSecret := *conf
	noSecret.ClientSecret = ""
	if _, err := noSecret.Refresh(ctx, tok1); !errors.Is(err, oauth2x.ErrInvalidClient) {
		t.Errorf("refresh without secret: %v, want ErrInvalidClient", err)
	}
}

// TestLifecycleKeepsNewest refreshes through NewTokenSource across
// several expiries: each refresh must use the newest refresh token (the
// fake kills the old one at once), and the store must hold it; concurrent
// callers on an expired token cause one upstream refresh.
func TestLifecycleKeepsNewest(t *testing.T) {
	fake, conf, ctx, _ := setup(t, "user.info.basic")
	clk := &clock{t: time.Now()}
	fake.SetNow(clk.now)
	tok := login(t, fake, conf, ctx)
	store := oauth2x.NewMemoryStore()
	src := oauth2x.NewTokenSource(ctx, conf, tok, &oauth2x.Options{Store: store, Now: clk.now})
	seen := map[string]bool{tok.RefreshToken: true}
	for round := range 3 {
		clk.add(tiktoktest.AccessTTL + time.Second)
		const n = 16
		gate := oauthtest.NewGate(tiktoktest.TokenPath, n)
		fake.SetHook(gate.Hook)
		before := fake.Calls(tiktoktest.TokenPath)
		toks := make([]*oauth2.Token, n)
		errs := make([]error, n)
		gate.Together(func(i int) { toks[i], errs[i] = src.Token() })
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("round %d caller %d: %v", round, i, errs[i])
			}
			if toks[i].AccessToken != toks[0].AccessToken {
				t.Fatalf("round %d: callers got different tokens", round)
			}
		}
		if got := fake.Calls(tiktoktest.TokenPath) - before; got != 1 {
			t.Errorf("round %d: %d upstream refreshes, want 1", round, got)
		}
		stored, _ := store.Load(ctx)
		if seen[toks[0].RefreshToken] || stored.RefreshToken != toks[0].RefreshToken {
			t.Fatalf("round %d: refresh token %q not new or not stored (store %q)", round, toks[0].RefreshToken, stored.RefreshToken)
		}
		seen[toks[0].RefreshToken] = true
	}
}

func TestClientToken(t *testing.T) {
	_, conf, ctx, _ := setup(t)
	tok, err := conf.ClientToken(ctx)
	if err != nil || !strings.HasPrefix(tok.AccessToken, "clt.") || tok.RefreshToken != "" || tok.Expiry.IsZero() {
		t.Fatalf("ClientToken: %+v, %v", tok, err)
	}
	tok2, err := conf.ClientTokenSource(ctx).Token()
	if err != nil || tok2.AccessToken == "" {
		t.Fatalf("ClientTokenSource: %+v, %v", tok2, err)
	}
	bad := *conf
	bad.ClientSecret = "wrong"
	if _, err := bad.ClientToken(ctx); !errors.Is(err, oauth2x.ErrInvalidClient) {
		t.Errorf("wrong secret: %v", err)
	}
}

// TestErrorsWhateverStatus sends every documented OAuth error with HTTP
// 200 and with 400: each is a failure of the RFC code's kind, with the
// log id kept and the status never mistaken for a token.
func TestErrorsWhateverStatus(t *testing.T) {
	fake, conf, ctx, _ := setup(t, "user.info.basic")
	tok := login(t, fake, conf, ctx)
	kinds := map[string]error{
		"invalid_grant": oauth2x.ErrInvalidGrant, "invalid_client": oauth2x.ErrInvalidClient,
		"unauthorized_client": oauth2x.ErrInvalidClient, "invalid_request": oauth2x.ErrInvalidRequest,
		// PROVIDERS.md: a scope or response type TikTok does not take is a
		// call to fix; access_denied means stop and tell the user.
		"unsupported_grant_type": oauth2x.ErrInvalidRequest, "invalid_scope": oauth2x.ErrInvalidRequest,
		"unsupported_response_type": oauth2x.ErrInvalidRequest, "access_denied": oauth2x.ErrRejected,
		"server_error": oauth2x.ErrTemporary, "temporarily_unavailable": oauth2x.ErrTemporary,
	}
	for code, kind := range kinds {
		for _, status := range []int{200, 400} {
			body := `{"error":"` + code + `","error_description":"described","log_id":"202206221854370101130062072500FFA2"}`
			fake.RespondNext(tiktoktest.TokenPath, status, body)
			_, err := conf.Refresh(ctx, tok)
			var e *oauth2x.Error
			if !errors.Is(err, kind) || !errors.As(err, &e) || e.LogID != "202206221854370101130062072500FFA2" || e.Code != code {
				t.Errorf("%s HTTP %d: %v, want %v with the log id", code, status, err, kind)
			}
		}
	}
}

func TestRevoke(t *testing.T) {
	fake, conf, ctx, _ := setup(t, "user.info.basic")
	tok := login(t, fake, conf, ctx)
	if err := conf.Revoke(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if _, err := conf.UserInfo(ctx, &oauth2.Token{AccessToken: tok.AccessToken}); !errors.Is(err, oauth2x.ErrInvalidToken) {
		t.Errorf("user info after revoke: %v, want ErrInvalidToken", err)
	}
	if _, err := conf.Refresh(ctx, tok); !errors.Is(err, oauth2x.ErrInvalidGrant) {
		t.Errorf("refresh after revoke: %v, want ErrInvalidGrant", err)
	}
	if err := conf.Revoke(ctx, tok); !errors.Is(err, oauth2x.ErrInvalidRequest) {
		t.Errorf("second revoke: %v, want the fake's invalid_request", err)
	}
	fake.RespondNext(tiktoktest.RevokePath, 200, "")
	if err := conf.Revoke(ctx, tok); err != nil {
		t.Errorf("empty 200 answer: %v, want success", err)
	}
}

func TestUserInfo(t *testing.T) {
	fake, conf, ctx, rec := setup(t, "user.info.basic", "user.info.profile", "user.info.stats")
	tok := login(t, fake, conf, ctx)
	want := fake.User()
	u, err := conf.UserInfo(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if u.OpenID != want.OpenID || u.UnionID != want.UnionID || u.AvatarURL != want.AvatarURL || u.DisplayName != want.DisplayName || u.LogID == "" {
		t.Errorf("default fields: %+v", u)
	}
	u, err = conf.UserInfo(ctx, tok, "open_id", "username", "is_verified", "follower_count", "video_count")
	if err != nil || u.Username != want.Username || !u.IsVerified || u.FollowerCount != want.FollowerCount || u.VideoCount != want.VideoCount || u.DisplayName != "" {
		t.Errorf("chosen fields: %+v, %v", u, err)
	}
	for i, s := range rec.urls {
		if strings.Contains(s, tok.AccessToken) {
			t.Errorf("access token in URL %s", s)
		}
		if strings.Contains(s, tiktoktest.UserInfoPath) && rec.auth[i] != "Bearer "+tok.AccessToken {
			t.Errorf("user info sent Authorization %q", rec.auth[i])
		}
	}

	// A field of a scope not granted.
	fake2, conf2, ctx2, _ := setup(t, "user.info.basic")
	tok2 := login(t, fake2, conf2, ctx2)
	if _, err := conf2.UserInfo(ctx2, tok2, "follower_count"); !errors.Is(err, oauth2x.ErrInsufficientScope) {
		t.Errorf("field without its scope: %v, want ErrInsufficientScope", err)
	}
}

// TestUserInfoRefreshesOnce: TikTok calls the access token invalid (it
// expired at the fake, which the token's own Expiry did not show).
// UserInfo makes one call and says ErrInvalidToken, refreshing nothing
// (TikTok rotates refresh tokens: a refresh UserInfo could not persist
// would kill the caller's grant). UserInfoFrom with the Config's
// TokenSource, and the Config's Client, refresh once through the source,
// retry once, and the rotated token stays in the source.
func TestUserInfoRefreshesOnce(t *testing.T) {
	fake, conf, ctx, _ := setup(t, "user.info.basic")
	clk := &clock{t: time.Now()}
	fake.SetNow(clk.now)
	tok := login(t, fake, conf, ctx)
	clk.add(tiktoktest.AccessTTL + time.Second)
	before, calls := fake.Calls(tiktoktest.TokenPath), fake.Calls(tiktoktest.UserInfoPath)
	if _, err := conf.UserInfo(ctx, tok); !errors.Is(err, oauth2x.ErrInvalidToken) ||
		fake.Calls(tiktoktest.TokenPath) != before || fake.Calls(tiktoktest.UserInfoPath) != calls+1 {
		t.Fatalf("UserInfo: %v; want ErrInvalidToken after one call and no refresh", err)
	}

	src := conf.TokenSource(ctx, tok)
	before, calls = fake.Calls(tiktoktest.TokenPath), fake.Calls(tiktoktest.UserInfoPath)
	u, err := conf.UserInfoFrom(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	if got := fake.Calls(tiktoktest.TokenPath) - before; got != 1 || fake.Calls(tiktoktest.UserInfoPath)-calls != 2 || u.OpenID != fake.User().OpenID {
		t.Errorf("refreshes %d, user-info calls %d; want 1 and 2", got, fake.Calls(tiktoktest.UserInfoPath)-calls)
	}
	nt, err := src.Token()
	if err != nil || nt.RefreshToken == tok.RefreshToken {
		t.Fatalf("the source does not hold the rotated token: %v", err)
	}
	if _, err := conf.Refresh(ctx, nt); err != nil {
		t.Errorf("the source's refresh token is dead: %v", err)
	}

	// The Config's Client: a GET the API refuses is refreshed and resent once.
	tok2 := login(t, fake, conf, ctx, oauth2.SetAuthURLParam("scope", "user.info.basic"))
	clk.add(tiktoktest.AccessTTL + time.Second)
	hc := conf.Client(ctx, tok2)
	before, calls = fake.Calls(tiktoktest.TokenPath), fake.Calls(tiktoktest.UserInfoPath)
	for i := range 2 {
		resp, err := hc.Get(fake.Endpoint().TokenURL[:strings.Index(fake.Endpoint().TokenURL, tiktoktest.TokenPath)] + tiktoktest.UserInfoPath + "?fields=open_id")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("client request %d: HTTP %d", i, resp.StatusCode)
		}
	}
	if got := fake.Calls(tiktoktest.TokenPath) - before; got != 1 || fake.Calls(tiktoktest.UserInfoPath)-calls != 3 {
		t.Errorf("client: refreshes %d, calls %d; want 1 and 3", got, fake.Calls(tiktoktest.UserInfoPath)-calls)
	}

	// Invalid twice: one refresh, one retry, then the error.
	tok3 := login(t, fake, conf, ctx)
	body := `{"error":{"code":"access_token_invalid","message":"Access token is invalid, please refresh token and retry","log_id":"20220829194722CBE87ED59D524E727021"}}`
	fake.RespondNext(tiktoktest.UserInfoPath, 401, body)
	fake.RespondNext(tiktoktest.UserInfoPath, 401, body)
	before = fake.Calls(tiktoktest.TokenPath)
	if _, err = conf.UserInfoFrom(ctx, conf.TokenSource(ctx, tok3)); !errors.Is(err, oauth2x.ErrInvalidToken) || fake.Calls(tiktoktest.TokenPath) != before+1 {
		t.Errorf("invalid twice: %v; want the error after one refresh", err)
	}
}

// TestUserInfoErrors: every documented error.code, at its documented
// status and at 200, gives its kind; the log id is kept.
func TestUserInfoErrors(t *testing.T) {
	fake, conf, ctx, _ := setup(t, "user.info.basic")
	tok := &oauth2.Token{AccessToken: "act.x"} // no refresh token: no retry
	for _, c := range []struct {
		code   string
		status int
		kind   error
	}{
		{"access_token_invalid", 401, oauth2x.ErrInvalidToken},
		{"scope_not_authorized", 401, oauth2x.ErrInsufficientScope},
		{"scope_permission_missed", 400, oauth2x.ErrInsufficientScope},
		{"invalid_params", 400, oauth2x.ErrInvalidRequest},
		{"rate_limit_exceeded", 429, oauth2x.ErrRateLimited},
		{"internal_error", 500, oauth2x.ErrTemporary},
		{"something_new", 200, oauth2x.ErrRejected},
	} {
		for _, status := range []int{c.status, 200} {
			fake.RespondNext(tiktoktest.UserInfoPath, status, `{"error":{"code":"`+c.code+`","message":"m","log_id":"L0G"}}`)
			_, err := conf.UserInfo(ctx, tok)
			var e *oauth2x.Error
			if !errors.Is(err, c.kind) || !errors.As(err, &e) || e.LogID != "L0G" {
				t.Errorf("%s HTTP %d: %v, want %v", c.code, status, err, c.kind)
			}
		}
	}
	fake.RespondNext(tiktoktest.UserInfoPath, 200, `{"data":{"user":{"open_id":"x"}}}`)
	if _, err := conf.UserInfo(ctx, tok); !errors.Is(err, oauth2x.ErrBadResponse) {
		t.Errorf("no error object: %v, want ErrBadResponse", err)
	}
}

func TestBridge(t *testing.T) {
	fake, conf, ctx, _ := setup(t, "user.info.basic")
	oc := &oauth2.Config{ClientID: conf.ClientKey, ClientSecret: conf.ClientSecret, RedirectURL: redirect, Endpoint: fake.Endpoint()}
	bctx := context.WithValue(ctx, oauth2.HTTPClient, tiktok.Bridge(fake.Endpoint(), fake.Client()))
	tok, err := oc.Exchange(bctx, fake.IssueCode(redirect, "user.info.basic"))
	if err != nil || tiktok.OpenID(tok) == "" {
		t.Fatalf("bridged exchange: %+v %v", tok, err)
	}
	nt, err := oc.TokenSource(bctx, &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Unix(1, 0)}).Token()
	if err != nil || nt.RefreshToken == tok.RefreshToken {
		t.Fatalf("bridged refresh: %+v %v", nt, err)
	}
	_, err = oc.Exchange(bctx, "code*v2!unknown")
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Errorf("bridged dead code: %v", err)
	}
}
