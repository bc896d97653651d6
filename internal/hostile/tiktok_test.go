package hostile_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/internal/wire"
	"github.com/oauth2x/oauth2x/tiktok"
	"github.com/oauth2x/oauth2x/tiktok/tiktoktest"
)

// TikTok joins the hostile and fault tables (TestHostileAnswers,
// TestContextHonoured, TestHostileTransport) as one more row.
func init() {
	providers = append(providers, provider{
		name: "tiktok",
		fake: func(t *testing.T, sc *scanner, ctx context.Context) *handle {
			f := tiktoktest.NewServer()
			t.Cleanup(f.Close)
			conf := f.Config(redirect, "user.info.basic")
			sc.add(conf.ClientSecret)
			k := kit{endpoint: f.Endpoint(), id: conf.ClientKey, secret: conf.ClientSecret}
			k.code = func() string { c := f.IssueCode(redirect, "user.info.basic"); sc.add(c); return c }
			tok, err := conf.Exchange(ctx, k.code())
			if err != nil {
				t.Fatal(err)
			}
			k.tok = sc.addToken(tok)
			return &handle{k, f.RespondNext, f.SetHook}
		},
		calls: func(k kit) []call {
			conf := &tiktok.Config{ClientKey: k.id, ClientSecret: k.secret, RedirectURL: redirect, Scopes: []string{"user.info.basic"}, Endpoint: k.endpoint}
			return flowCalls(conf, k, tiktoktest.TokenPath, tiktoktest.TokenPath, tiktok.Bridge,
				call{op: "client token", path: tiktoktest.TokenPath, do: conf.ClientToken})
		},
	})
}

// tiktokSetup logs in to a TikTok fake whose clock is clk, through a
// client that sc watches, and returns the fake, the Config, the context
// and the token.
func tiktokSetup(t *testing.T, sc *scanner, clk *clock) (*tiktoktest.Server, *tiktok.Config, context.Context, *oauth2.Token) {
	t.Helper()
	fake := tiktoktest.NewServer()
	t.Cleanup(fake.Close)
	fake.SetNow(clk.now)
	conf := fake.Config(redirect, "user.info.basic")
	sc.add(conf.ClientSecret)
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, sc.client(fake.Client()))
	code := fake.IssueCode(redirect, "user.info.basic")
	sc.add(code)
	tok, err := conf.Exchange(wire.WithClock(ctx, clk.now), code)
	if err != nil {
		t.Fatal(err)
	}
	return fake, conf, ctx, sc.addToken(tok)
}

// TestTikTokFaults: TikTok kills a refresh token the moment it issues the
// next one, so a store that cannot save, a provider that fails, or a grant
// the provider calls dead (with HTTP 200) must never cost the newest
// refresh token or cause a second refresh.
func TestTikTokFaults(t *testing.T) {
	t.Run("save fails while refresh tokens rotate", func(t *testing.T) {
		sc, clk, store, sink := newScanner(), newClock(), newFaultyStore(), make(errSink, 64)
		fake, conf, ctx, tok := tiktokSetup(t, sc, clk)
		store.set(func(s *faultyStore) { s.failSave = true })
		src := oauth2x.NewTokenSource(ctx, conf, tok, &oauth2x.Options{Store: store, Now: clk.now, OnError: sink.report})
		prev := tok
		for round := range 3 {
			if round == 2 {
				store.set(func(s *faultyStore) { s.failSave = false })
			}
			clk.add(tiktoktest.AccessTTL + time.Minute)
			got, err := src.Token()
			if err != nil {
				t.Fatalf("round %d: %v (the rotated refresh token was lost?)", round, err)
			}
			sc.addToken(got)
			if got.RefreshToken == prev.RefreshToken {
				t.Fatalf("round %d: not rotated", round)
			}
			prev = got
		}
		var se *oauth2x.StoreError
		if err := sink.reported(); !errors.As(err, &se) || se.Op != "save" {
			t.Errorf("OnError got %v, want the failed save", err)
		}
		if last := store.last(); last == nil || last.RefreshToken != prev.RefreshToken {
			t.Errorf("store holds %v once saving works, want refresh token %q", last, prev.RefreshToken)
		}
		if n := fake.Calls(tiktoktest.TokenPath); n != 4 { // the exchange and three refreshes
			t.Errorf("token calls = %d, want 4", n)
		}
		sc.checkURLs(t)
	})

	t.Run("500 then back", func(t *testing.T) {
		sc, clk := newScanner(), newClock()
		fake, conf, ctx, tok := tiktokSetup(t, sc, clk)
		src := oauth2x.NewTokenSource(ctx, conf, tok, &oauth2x.Options{Now: clk.now, OnError: func(error) {}})
		clk.add(tiktoktest.AccessTTL + time.Minute)
		fake.RespondNext(tiktoktest.TokenPath, 500, `{"error":"server_error","error_description":"busy","log_id":"L"}`)
		got, err := src.Token()
		if got != nil || !oauth2x.IsTemporary(err) {
			t.Fatalf("500: %v, %v; want a temporary error", got, err)
		}
		sc.check(t, "tiktok 500", err)
		clk.add(time.Hour) // past any backoff
		got, err = src.Token()
		if err != nil || got.RefreshToken == tok.RefreshToken {
			t.Fatalf("after the 500: %v, %v", got, err)
		}
		if n := fake.Calls(tiktoktest.TokenPath); n != 3 {
			t.Errorf("token calls = %d, want the exchange, the 500 and one refresh", n)
		}
	})

	t.Run("dead grant with HTTP 200", func(t *testing.T) {
		sc, clk := newScanner(), newClock()
		fake, conf, ctx, tok := tiktokSetup(t, sc, clk)
		src := oauth2x.NewTokenSource(ctx, conf, tok, &oauth2x.Options{Now: clk.now})
		clk.add(tiktoktest.AccessTTL + time.Minute)
		fake.Revoke()
		for range 2 {
			got, err := src.Token()
			if got != nil || !errors.Is(err, oauth2x.ErrInvalidGrant) {
				t.Fatalf("revoked: %v, %v; want ErrInvalidGrant", got, err)
			}
			sc.check(t, "tiktok dead grant", err)
		}
		if n := fake.Calls(tiktoktest.TokenPath); n != 2 {
			t.Errorf("token calls = %d: a dead grant was sent upstream again", n)
		}
	})
}
