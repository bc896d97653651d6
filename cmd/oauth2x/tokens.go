package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/internal/wire"
)

const tokenAbout = `
Prints a valid access token of the user logged in with oauth2x login
(--account: which user, when several are logged in). When
the stored one has less than --valid-for left it is refreshed first, and the
new one (with a rotated refresh token, if the provider sent one) is saved
before it is printed. Several processes running it at once cause one
refresh between them.

  curl -H "access-token: $(oauth2x token douyin)" https://open.douyin.com/...
  oauth2x token douyin --account alice
`

func (c *cli) token(ctx context.Context, args []string) error {
	cmd := newCommand("token", "token <provider> [flags]", tokenAbout)
	var f appFlags
	f.register(cmd.fs, false, true)
	asJSON := cmd.fs.Bool("json", false, "print the whole token as JSON, with its extras (open_id, scope, expiries)")
	force := cmd.fs.Bool("refresh", false, "refresh now, even if the access token is still valid")
	validFor := cmd.fs.Duration("valid-for", 5*time.Minute, "refresh first when the access token has less than this left")
	account := accountFlag(cmd.fs)
	p, err := c.parse(cmd, args)
	if err != nil {
		return err
	}
	store, a, err := c.userStoreAndApp(&f, p, *account, false, false)
	if err != nil {
		return err
	}
	r := needID(p, a, p.newFlow(a))
	var tok *oauth2.Token
	if *force {
		_, tok, err = rotate(ctx, p, store, r.Refresh)
	} else {
		tok, err = serve(ctx, p, store, r, *validFor, true)
	}
	if err != nil {
		return forAccount(err, *account)
	}
	return c.print(tok, *asJSON)
}

const clientTokenAbout = `
Prints an app-level token (client token: no user, 2 hours on Douyin). It is
kept in <provider>-client.json and reused until it has less than
--valid-for left: each new client token invalidates all but the newest two,
so processes must share one rather than each fetch their own.
`

func (c *cli) clientToken(ctx context.Context, args []string) error {
	cmd := newCommand("client-token", "client-token <provider> [flags]", clientTokenAbout)
	var f appFlags
	f.register(cmd.fs, true, false)
	asJSON := cmd.fs.Bool("json", false, "print the whole token as JSON")
	stable := cmd.fs.Bool("stable", false, "use the stable endpoint, which returns the same token while it lives")
	validFor := cmd.fs.Duration("valid-for", 5*time.Minute, "fetch a new one when the stored one has less than this left")
	p, err := c.parse(cmd, args)
	if err != nil {
		return err
	}
	if _, ok := p.newFlow(&app{}).(clientTokener); !ok {
		return usageErrorf("%s has no app-level tokens", p.name)
	}
	cs, err := c.clientStore(p)
	if err != nil {
		return err
	}
	store, a, err := c.storeAndApp(&f, p, cs, true, true)
	if err != nil {
		return err
	}
	tok, err := serve(ctx, p, store, p.newFlow(a).(clientTokener).ClientTokenRefresher(*stable), *validFor, false)
	if err != nil {
		return err
	}
	return c.print(tok, *asJSON)
}

const renewAbout = `
Renews the stored refresh token (of --account's user): the provider issues a new one with a fresh
lifetime (Douyin: 30 days) and the old one dies at once; the access token
is kept. Douyin allows five renewals per authorization, then answers that
the user must authorize again. The app needs the renew_refresh_token
permission.
`

func (c *cli) renew(ctx context.Context, args []string) error {
	cmd := newCommand("renew", "renew <provider> [flags]", renewAbout)
	var f appFlags
	f.register(cmd.fs, false, false)
	asJSON := cmd.fs.Bool("json", false, "print the whole renewed token as JSON")
	account := accountFlag(cmd.fs)
	p, err := c.parse(cmd, args)
	if err != nil {
		return err
	}
	if _, ok := p.newFlow(&app{}).(renewer); !ok {
		return usageErrorf("%s has no renew endpoint: when its refresh token expires, run `oauth2x login %s%s`", p.name, p.name, accountArg(*account))
	}
	store, a, err := c.userStoreAndApp(&f, p, *account, true, false)
	if err != nil {
		return err
	}
	old, tok, err := rotate(ctx, p, store, p.newFlow(a).(renewer).RenewRefreshToken)
	if err != nil {
		return forAccount(err, *account)
	}
	if *asJSON {
		return c.print(tok, true)
	}
	fmt.Fprintf(c.stdout, "%s: refresh token renewed: %s replaces %s (now dead); saved to %s\n", p.name, describeRefresh(tok), mask(old.RefreshToken), store.Path)
	return nil
}

const logoutAbout = `
Deletes the stored token of --account's user. When no other account is
left logged in at the provider, the app's client token is deleted too. The
provider is not told: the user can revoke access in the provider's app.
`

func (c *cli) logout(_ context.Context, args []string) error {
	cmd := newCommand("logout", "logout <provider> [--account name]", logoutAbout)
	account := accountFlag(cmd.fs)
	p, err := c.parse(cmd, args)
	if err != nil {
		return err
	}
	if err := checkAccount(p, *account); err != nil {
		return err
	}
	users, err := c.accounts(p)
	if err != nil {
		return err
	}
	var deleted []string
	del := func(store *tokenFile) error {
		if _, err := os.Stat(store.Path); err == nil {
			deleted = append(deleted, store.Path)
		}
		if err := store.Delete(); err != nil {
			return fmt.Errorf("%s: deleting %s: %w", p.name, store.Path, err)
		}
		return nil
	}
	if err := del(users.file(*account)); err != nil {
		return err
	}
	if !users.any() { // the last account: the app's client token goes too
		cs, err := c.clientStore(p)
		if err != nil {
			return err
		}
		if err := del(cs); err != nil {
			return err
		}
	}
	if len(deleted) == 0 {
		fmt.Fprintf(c.stdout, "%s: no token was stored for account %q\n", p.name, *account)
		return nil
	}
	fmt.Fprintf(c.stdout, "%s: logged out account %q: deleted %s\n", p.name, *account, strings.Join(deleted, " and "))
	return nil
}

// userStoreAndApp opens account's token file at p and resolves the app,
// with the endpoint remembered in the file.
func (c *cli) userStoreAndApp(f *appFlags, p *provider, account string, needID, needSecret bool) (*tokenFile, *app, error) {
	store, err := c.userStore(p, account)
	if err != nil {
		return nil, nil, err
	}
	return c.storeAndApp(f, p, store, needID, needSecret)
}

// forAccount has the hint of err name account.
func forAccount(err error, account string) error {
	var oe *opError
	if errors.As(err, &oe) {
		oe.account = account
	}
	return err
}

// needID makes a refresh without a client id a usage error instead of a
// call the provider refuses.
func needID(p *provider, a *app, r oauth2x.Refresher) oauth2x.Refresher {
	return oauth2x.RefresherFunc(func(ctx context.Context, t *oauth2.Token) (*oauth2.Token, error) {
		if a.ClientID == "" {
			return nil, usageErrorf("%s: the token needs refreshing, which needs the %s: set %s or pass %s", p.name, p.idParam, p.idEnv(), p.idFlag())
		}
		return r.Refresh(ctx, t)
	})
}

// load reads the stored token; none is errNotLoggedIn.
func load(ctx context.Context, p *provider, store *tokenFile) (*oauth2.Token, error) {
	t, err := store.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: reading %s: %w", p.name, store.Path, err)
	}
	if t == nil {
		return nil, p.failed(fmt.Errorf("%s: %w (no token in %s)", p.name, errNotLoggedIn, store.Path))
	}
	return t, nil
}

// serve returns the token in store, refreshed with r through
// oauth2x.NewTokenSource when it has less than validFor left; the new token
// is saved before it is returned. An empty store is errNotLoggedIn when
// stored is set; otherwise r fetches the first token.
func serve(ctx context.Context, p *provider, store *tokenFile, r oauth2x.Refresher, validFor time.Duration, stored bool) (*oauth2.Token, error) {
	var t *oauth2.Token
	if stored {
		var err error
		if t, err = load(ctx, p, store); err != nil {
			return nil, err
		}
	}
	var mu sync.Mutex
	var unsaved error // failures the token source reports instead of returning
	src := oauth2x.NewTokenSource(ctx, r, t, &oauth2x.Options{
		Store: store,
		// A token with less than validFor left is refreshed in the
		// foreground (no early background refresh): the process exits as
		// soon as it has printed.
		MinValid:    validFor,
		ExpireEarly: validFor,
		OnError: func(err error) {
			mu.Lock()
			unsaved = errors.Join(unsaved, err)
			mu.Unlock()
		},
	})
	tok, err := src.Token()
	if err != nil {
		return nil, p.failed(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if unsaved != nil {
		return nil, fmt.Errorf("%s: the token was refreshed but not saved to %s (%v); if the provider rotated the refresh token, run `oauth2x login %s`", p.name, store.Path, unsaved, p.name)
	}
	return tok, nil
}

// rotate replaces the stored token with what op makes of it, holding the
// store's lock so that no other process refreshes meanwhile. It returns
// the old token and the new one.
func rotate(ctx context.Context, p *provider, store *tokenFile, op func(context.Context, *oauth2.Token) (*oauth2.Token, error)) (old, tok *oauth2.Token, err error) {
	unlock, err := store.Lock(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: locking %s: %w", p.name, store.Path, err)
	}
	defer unlock()
	if old, err = load(ctx, p, store); err != nil {
		return nil, nil, err
	}
	if tok, err = op(ctx, old); err != nil {
		return nil, nil, p.failed(err)
	}
	if err := store.Save(ctx, tok); err != nil {
		// The old refresh token may be dead already: keep the new one
		// somewhere before giving up.
		if b, merr := oauth2x.MarshalToken(tok); merr == nil {
			spare := store.Path + ".unsaved"
			if werr := os.WriteFile(spare, b, 0o600); werr == nil {
				return nil, nil, fmt.Errorf("%s: saving the new token to %s: %w; it was written to %s instead: move it over %s", p.name, store.Path, err, spare, store.Path)
			}
		}
		return nil, nil, fmt.Errorf("%s: saving the new token to %s: %w; if the provider rotated the refresh token, run `oauth2x login %s`", p.name, store.Path, err, p.name)
	}
	return old, tok, nil
}

// print writes the access token, or the whole token as JSON. A token
// outside RFC 6750 syntax (one put in the file by hand: the library
// accepts no other) is refused rather than written to a terminal.
func (c *cli) print(t *oauth2.Token, asJSON bool) error {
	if !wire.ValidToken(t.AccessToken) {
		return errors.New("the stored access token is not of RFC 6750 token syntax, so it was not printed: run oauth2x login again")
	}
	if !asJSON {
		_, err := fmt.Fprintln(c.stdout, t.AccessToken)
		return err
	}
	b, err := oauth2x.MarshalToken(t)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	json.Indent(&out, b, "", "  ")
	out.WriteByte('\n')
	_, err = c.stdout.Write(out.Bytes())
	return err
}

// mask shows enough of a token to tell tokens apart and no more: the
// first 8 characters and the last 4.
func mask(s string) string {
	r := []rune(s)
	switch {
	case len(r) == 0:
		return "(none)"
	case len(r) < 16:
		return string(r[:len(r)/4]) + "…"
	}
	return string(r[:8]) + "…" + string(r[len(r)-4:])
}

// describe says what the access token is and how long it lives.
func describe(t *oauth2.Token) string {
	if t.Expiry.IsZero() {
		return mask(t.AccessToken)
	}
	return mask(t.AccessToken) + " (valid " + life(time.Until(t.Expiry)) + ")"
}

// describeRefresh says what the refresh token is and how long it lives.
func describeRefresh(t *oauth2.Token) string {
	if t.RefreshToken == "" {
		return "(none)"
	}
	if exp := oauth2x.RefreshExpiry(t); !exp.IsZero() {
		return mask(t.RefreshToken) + " (valid " + life(time.Until(exp)) + ")"
	}
	return mask(t.RefreshToken)
}

// life formats a lifetime the way the providers document them: in whole
// days, hours or minutes when there are at least two of them.
func life(d time.Duration) string {
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{24 * time.Hour, "days"}, {time.Hour, "hours"}, {time.Minute, "minutes"}} {
		if n := (d + u.unit/2) / u.unit; n >= 2 {
			return fmt.Sprintf("%d %s", n, u.name)
		}
	}
	return max(d, 0).Round(time.Second).String()
}
