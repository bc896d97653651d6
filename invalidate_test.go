package oauth2x_test

// An access token the provider refuses (the user revoked access, or the
// provider dropped the token early) is no longer served by a long-lived
// source: the provider packages' clients tell the source (Invalidate), which
// loads the store or refreshes once, and the request is sent once more.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/douyin"
	"github.com/oauth2x/oauth2x/douyin/douyintest"
	"github.com/oauth2x/oauth2x/tiktok/tiktoktest"
)

// invWorld is a provider's fake seen through one of its API calls made
// the way an application makes them with a long-lived source.
type invWorld struct {
	*confWorld
	apiPath string
	// refuseNext makes the next API call refuse the access token it carries.
	refuseNext func()
	// failRefreshNext makes the next refresh fail for a while (HTTP 5xx or
	// the provider's system error).
	failRefreshNext func()
	// call makes one API call with src's token; an answer that refuses the
	// token is an error.
	call func(ctx context.Context, src oauth2.TokenSource) error
}

var invRows = []struct {
	name string
	new  func(t *testing.T) *invWorld
}{
	{"douyin", func(t *testing.T) *invWorld {
		fake := douyintest.NewServer()
		t.Cleanup(fake.Close)
		conf := fake.Config(confRedirect, "user_info")
		return &invWorld{
			confWorld: confByteDance(fake, fake.URL, fake.OpenID, fake.ClientSecret, conf, conf, douyin.NewClient),
			apiPath:   douyintest.APIPath,
			refuseNext: func() {
				fake.RespondNext(douyintest.APIPath, 200, fmt.Sprintf(`{"data":{"error_code":%d,"description":"access_token expired"},"message":"error"}`, douyintest.CodeTokenExpired))
			},
			failRefreshNext: func() { fake.FailNext(douyintest.RefreshTokenPath, douyintest.CodeSystemError, "系统繁忙") },
			call: func(ctx context.Context, src oauth2.TokenSource) error {
				resp, err := douyin.NewClient(ctx, src).Get(fake.URL + douyintest.APIPath)
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				var a douyintest.APIAnswer
				if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
					return err
				}
				if a.Data.ErrorCode != 0 || a.Data.OpenID != fake.OpenID {
					return fmt.Errorf("API answered error_code %d", a.Data.ErrorCode)
				}
				return nil
			},
		}
	}},
	{"tiktok", func(t *testing.T) *invWorld {
		fake := tiktoktest.NewServer()
		t.Cleanup(fake.Close)
		conf := fake.Config(confRedirect, "user.info.basic")
		return &invWorld{
			confWorld: &confWorld{
				flow:        conf,
				refresher:   conf,
				ctx:         context.WithValue(context.Background(), oauth2.HTTPClient, fake.Client()),
				authorize:   fake.Authorize,
				refreshPath: tiktoktest.TokenPath,
				calls:       fake.Calls,
				setHook:     fake.SetHook,
				revoke:      fake.Revoke,
			},
			apiPath: tiktoktest.UserInfoPath,
			refuseNext: func() {
				fake.RespondNext(tiktoktest.UserInfoPath, 401, `{"error":{"code":"access_token_invalid","message":"Access token is invalid, please refresh token and retry","log_id":"x"}}`)
			},
			failRefreshNext: func() { fake.RespondNext(tiktoktest.TokenPath, 503, `{"error":"temporarily_unavailable"}`) },
			call: func(ctx context.Context, src oauth2.TokenSource) error {
				_, err := conf.UserInfoFrom(ctx, src, "open_id")
				return err
			},
		}
	}},
}

// invSource is a long-lived source of one user's token and the store
// behind it.
type invSource struct {
	src    oauth2.TokenSource
	stored func(t *testing.T) *oauth2.Token
}

// invOptions are the sources' options: a clock that stands still, so that
// a backoff never ends during a test, however slow the machine.
func invOptions() *oauth2x.Options {
	now := time.Now()
	return &oauth2x.Options{OnError: func(error) {}, Now: func() time.Time { return now }}
}

var invSources = []struct {
	name string
	new  func(t *testing.T, w *invWorld, tok *oauth2.Token) invSource
}{
	{"NewTokenSource", func(t *testing.T, w *invWorld, tok *oauth2.Token) invSource {
		store := oauth2x.NewMemoryStore()
		opts := invOptions()
		opts.Store = store
		src := oauth2x.NewTokenSource(w.ctx, w.refresher, tok, opts)
		return invSource{src, func(t *testing.T) *oauth2.Token {
			got, err := store.Load(w.ctx)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}}
	}},
	{"Tokens", func(t *testing.T, w *invWorld, tok *oauth2.Token) invSource {
		store := oauth2x.NewKeyedFileStore(t.TempDir())
		tokens := oauth2x.NewTokens(w.refresher, store, invOptions())
		if err := tokens.Put(w.ctx, "u1", tok); err != nil {
			t.Fatal(err)
		}
		return invSource{tokens.TokenSource(w.ctx, "u1"), func(t *testing.T) *oauth2.Token {
			got, err := store.Load(w.ctx, "u1")
			if err != nil {
				t.Fatal(err)
			}
			return got
		}}
	}},
}

func TestInvalidate(t *testing.T) {
	cases := []struct {
		name string
		run  func(t *testing.T, w *invWorld, newSrc func(*oauth2.Token) invSource)
	}{
		{"revoked user", invTestRevoked},
		{"refused once", invTestRefusedOnce},
		{"stale report", invTestStale},
		{"16 refused at once", invTestConcurrent},
		{"refresh fails", invTestRefreshFails},
	}
	for _, row := range invRows {
		for _, kind := range invSources {
			for _, c := range cases {
				t.Run(row.name+"/"+kind.name+"/"+c.name, func(t *testing.T) {
					w := row.new(t)
					c.run(t, w, func(tok *oauth2.Token) invSource { return kind.new(t, w, tok) })
				})
			}
		}
	}
}

// invTestRevoked: the user revoked access while the token looks valid for
// days. The API call refreshes once, the dead grant comes back as
// ErrInvalidGrant (send the user to log in), and later calls get it at
// once.
func invTestRevoked(t *testing.T, w *invWorld, newSrc func(*oauth2.Token) invSource) {
	tok, _ := w.login(t)
	s := newSrc(tok)
	if err := w.call(w.ctx, s.src); err != nil {
		t.Fatalf("before revoking: %v", err)
	}
	w.revoke()
	before := w.calls(w.refreshPath)
	err := w.call(w.ctx, s.src)
	if !errors.Is(err, oauth2x.ErrInvalidGrant) || oauth2x.KindOf(err) != oauth2x.ErrInvalidGrant {
		t.Fatalf("revoked: %v, want ErrInvalidGrant", err)
	}
	if w.newClient != nil {
		var ue *url.Error
		if !errors.As(err, &ue) {
			t.Errorf("revoked: %T, want the *url.Error of http.Client", err)
		}
	}
	if got := w.calls(w.refreshPath) - before; got != 1 {
		t.Errorf("refreshes = %d, want 1", got)
	}
	for range 3 {
		if _, err := s.src.Token(); !errors.Is(err, oauth2x.ErrInvalidGrant) {
			t.Fatalf("Token after the dead grant: %v, want ErrInvalidGrant", err)
		}
	}
	if got := w.calls(w.refreshPath) - before; got != 1 {
		t.Errorf("refreshes after later calls = %d, want 1", got)
	}
}

// invTestRefusedOnce: the provider refuses a valid-looking token once. One
// refresh, the request sent again succeeds, and the new token is the one
// stored and served.
func invTestRefusedOnce(t *testing.T, w *invWorld, newSrc func(*oauth2.Token) invSource) {
	tok, _ := w.login(t)
	s := newSrc(tok)
	w.refuseNext()
	before, api := w.calls(w.refreshPath), w.calls(w.apiPath)
	if err := w.call(w.ctx, s.src); err != nil {
		t.Fatalf("refused once: %v, want the retried call to succeed", err)
	}
	if got := w.calls(w.refreshPath) - before; got != 1 {
		t.Errorf("refreshes = %d, want 1", got)
	}
	if got := w.calls(w.apiPath) - api; got != 2 {
		t.Errorf("API calls = %d, want 2 (the refused one, then the retry)", got)
	}
	cur, err := s.src.Token()
	if err != nil {
		t.Fatal(err)
	}
	if cur.AccessToken == tok.AccessToken {
		t.Fatal("the refused access token is still served")
	}
	if stored := s.stored(t); stored == nil || stored.AccessToken != cur.AccessToken || stored.RefreshToken != cur.RefreshToken {
		t.Errorf("store holds %v, want the refreshed token", stored)
	}
}

// invInvalidator is what the provider clients look for in a source.
type invInvalidator interface{ Invalidate(accessToken string) }

// invTestStale: a report about an access token the source no longer
// serves (or never did) causes no refresh.
func invTestStale(t *testing.T, w *invWorld, newSrc func(*oauth2.Token) invSource) {
	tok, _ := w.login(t)
	s := newSrc(tok)
	inv, ok := s.src.(invInvalidator)
	if !ok {
		t.Fatalf("%T has no Invalidate method", s.src)
	}
	w.refuseNext()
	if err := w.call(w.ctx, s.src); err != nil {
		t.Fatal(err)
	}
	cur, err := s.src.Token()
	if err != nil {
		t.Fatal(err)
	}
	before := w.calls(w.refreshPath)
	inv.Invalidate(tok.AccessToken) // the token replaced above: late
	inv.Invalidate("never-served")
	inv.Invalidate("")
	got, err := s.src.Token()
	if err != nil || got.AccessToken != cur.AccessToken {
		t.Fatalf("after stale reports: %v, %v; want the current token", got, err)
	}
	if err := w.call(w.ctx, s.src); err != nil {
		t.Fatal(err)
	}
	if n := w.calls(w.refreshPath) - before; n != 0 {
		t.Errorf("refreshes = %d, want 0", n)
	}
}

// invTestConcurrent: 16 requests carrying a token the provider refuses,
// all refused before any retries: one refresh, and every retry succeeds.
func invTestConcurrent(t *testing.T, w *invWorld, newSrc func(*oauth2.Token) invSource) {
	tok, _ := w.login(t)
	refused := *tok
	refused.AccessToken = "refused-" + tok.AccessToken // unknown to the provider
	refused.Expiry = time.Now().Add(10 * 24 * time.Hour)
	s := newSrc(&refused)
	const n = 16
	// The first n API calls wait for one another: all carry the refused
	// token, and none is retried before all were refused.
	var arrived atomic.Int32
	all := make(chan struct{})
	w.setHook(func(path string) {
		if path != w.apiPath {
			return
		}
		if k := arrived.Add(1); k == n {
			close(all)
		} else if k < n {
			<-all
		}
	})
	before, api := w.calls(w.refreshPath), w.calls(w.apiPath)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = w.call(w.ctx, s.src)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("request %d: %v", i, err)
		}
	}
	if got := w.calls(w.refreshPath) - before; got != 1 {
		t.Errorf("refreshes = %d, want 1", got)
	}
	if got := w.calls(w.apiPath) - api; got != 2*n {
		t.Errorf("API calls = %d, want %d", got, 2*n)
	}
	if stored := s.stored(t); stored == nil || stored.AccessToken == refused.AccessToken {
		t.Errorf("store holds %v, want the refreshed token", stored)
	}
}

// invTestRefreshFails: the refresh after a refusal fails for a while. The
// refused token is not handed out instead; callers within the backoff share
// the failure without calling the provider; after it, one refresh succeeds.
func invTestRefreshFails(t *testing.T, w *invWorld, newSrc func(*oauth2.Token) invSource) {
	tok, _ := w.login(t)
	s := newSrc(tok)
	w.refuseNext()
	w.failRefreshNext()
	before := w.calls(w.refreshPath)
	err := w.call(w.ctx, s.src)
	if !oauth2x.IsTemporary(err) {
		t.Fatalf("refused, refresh failing: %v, want a temporary error", err)
	}
	for range 3 {
		if got, err := s.src.Token(); !oauth2x.IsTemporary(err) {
			t.Fatalf("Token within the backoff: %v, %v; want the shared temporary failure", got, err)
		}
	}
	if got := w.calls(w.refreshPath) - before; got != 1 {
		t.Errorf("refreshes = %d, want 1 (the failure is shared for the backoff)", got)
	}
}

// TestErrNoTokenIsInvalidGrant: a key without a token asks for what a
// dead grant does, a login, and one check covers both.
func TestErrNoTokenIsInvalidGrant(t *testing.T) {
	tokens := oauth2x.NewTokens(oauth2x.RefresherFunc(func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
		t.Error("refresh without a token")
		return nil, errors.New("no")
	}), oauth2x.NewKeyedMemoryStore(), nil)
	_, err := tokens.Token(context.Background(), "nobody")
	if !errors.Is(err, oauth2x.ErrNoToken) {
		t.Fatalf("Token: %v, want ErrNoToken", err)
	}
	if !errors.Is(err, oauth2x.ErrInvalidGrant) || oauth2x.KindOf(err) != oauth2x.ErrInvalidGrant {
		t.Errorf("ErrNoToken: Is ErrInvalidGrant %v, KindOf %v; want ErrInvalidGrant", errors.Is(err, oauth2x.ErrInvalidGrant), oauth2x.KindOf(err))
	}
	if oauth2x.IsTemporary(err) {
		t.Error("ErrNoToken is temporary")
	}
	wrapped := fmt.Errorf("handler: %w", err)
	if !errors.Is(wrapped, oauth2x.ErrNoToken) || oauth2x.KindOf(wrapped) != oauth2x.ErrInvalidGrant {
		t.Errorf("wrapped: %v", wrapped)
	}
	if errors.Is(oauth2x.ErrInvalidGrant, oauth2x.ErrNoToken) {
		t.Error("ErrInvalidGrant matches ErrNoToken: a dead grant is not an absent key")
	}
}

// TestInvalidateLoadsNewerFromStore: two processes share a keyed store.
// The provider refuses the token in one; it refreshes. The other, refused
// the same old token, finds the new one in the store and does not refresh.
func TestInvalidateLoadsNewerFromStore(t *testing.T) {
	w := invRows[0].new(t) // douyin
	tok, _ := w.login(t)
	store := oauth2x.NewKeyedFileStore(t.TempDir())
	a := oauth2x.NewTokens(w.refresher, store, invOptions())
	b := oauth2x.NewTokens(w.refresher, store, invOptions())
	if err := a.Put(w.ctx, "u1", tok); err != nil {
		t.Fatal(err)
	}
	for _, m := range []*oauth2x.Tokens{a, b} {
		if got, err := m.Token(w.ctx, "u1"); err != nil || got.AccessToken != tok.AccessToken {
			t.Fatalf("before: %v, %v", got, err)
		}
	}
	w.refuseNext()
	if err := w.call(w.ctx, a.TokenSource(w.ctx, "u1")); err != nil {
		t.Fatal(err)
	}
	fresh, err := a.Token(w.ctx, "u1")
	if err != nil || fresh.AccessToken == tok.AccessToken {
		t.Fatalf("a after the refusal: %v, %v", fresh, err)
	}
	before := w.calls(w.refreshPath)
	b.Invalidate("u1", tok.AccessToken)
	got, err := b.Token(w.ctx, "u1")
	if err != nil || got.AccessToken != fresh.AccessToken {
		t.Fatalf("b after the refusal: %v, %v; want a's token from the store", got, err)
	}
	if n := w.calls(w.refreshPath) - before; n != 0 {
		t.Errorf("refreshes = %d, want 0", n)
	}
}
