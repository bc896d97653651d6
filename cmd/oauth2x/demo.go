package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
)

const demoAbout = `
Walks through every provider (or the ones named) against its built-in fake
on loopback: opens the fake authorization page, follows its redirect to a
loopback callback that checks the state, exchanges the code, shows that a
used code is refused, calls the fake API with the token, refreshes, and
where the provider has them renews the refresh token and fetches an
app-level token; then logs a second account in beside the first and
serves both through oauth2x.Tokens from the command's per-account token
files. Tokens are printed masked and kept in a temporary
directory that is deleted at the end. Nothing leaves this machine.
`

func (c *cli) demo(ctx context.Context, args []string) error {
	cmd := newCommand("demo", "demo [provider...]", demoAbout)
	if err := c.parseFlags(cmd, args); err != nil {
		return err
	}
	ps := c.providers
	if cmd.fs.NArg() > 0 {
		ps = nil
		for _, name := range cmd.fs.Args() {
			p, err := c.lookup(name)
			if err != nil {
				return err
			}
			ps = append(ps, p)
		}
	}
	dir, err := os.MkdirTemp("", "oauth2x-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	d := &demo{cli: c, dir: dir}
	start := time.Now()
	fmt.Fprintf(c.stdout, "oauth2x walkthrough: %s against built-in fakes on loopback (tokens masked)\n", strings.Join(names(ps), ", "))
	for _, p := range ps {
		if err := d.walk(ctx, p); err != nil {
			return &demoError{err: err}
		}
	}
	plural := "s"
	if len(ps) == 1 {
		plural = ""
	}
	fmt.Fprintf(c.stdout, "\nok: %d provider%s, %d steps passed in %s; nothing left this machine. Next: oauth2x login <provider> (oauth2x -h)\n",
		len(ps), plural, d.steps, time.Since(start).Round(time.Millisecond))
	return nil
}

func names(ps []*provider) []string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.name
	}
	return s
}

// demoError is a failed walkthrough step: the fakes should never fail,
// so there is nothing for the user to fix.
type demoError struct{ err error }

func (e *demoError) Error() string { return "walkthrough failed: " + e.err.Error() }
func (e *demoError) Unwrap() error { return e.err }

// demo is one walkthrough. It is not safe for concurrent use.
type demo struct {
	*cli
	dir   string // where the walkthrough's tokens are saved
	n     int    // steps of the current provider
	steps int    // steps passed in all
}

// step runs one step and prints its outcome.
func (d *demo) step(name string, run func() (string, error)) error {
	d.n++
	msg, err := run()
	if err != nil {
		kind := kindOf(err)
		if kind != "" {
			kind = " [errors.Is " + kind + "]"
		}
		fmt.Fprintf(d.stdout, "  %d. %-12s FAILED: %v%s\n", d.n, name, err, kind)
		return err
	}
	d.steps++
	fmt.Fprintf(d.stdout, "  %d. %-12s %s\n", d.n, name, msg)
	return nil
}

// walk walks through one provider against its fake.
func (d *demo) walk(ctx context.Context, p *provider) error {
	f := p.fake()
	defer f.close()
	e, err := p.endpointOn(f.url)
	if err != nil {
		return err
	}
	a := &app{ClientID: f.clientID, ClientSecret: f.clientSecret, Scopes: p.scopes, Endpoint: e}
	users := newAccounts(d.dir, p.name)
	users.Endpoint = e
	store := users.file(demoAccounts[0])
	fmt.Fprintf(d.stdout, "\n%s: fake %s at %s\n", p.name, p.title, f.url)
	d.n = 0

	var g *grant
	err = d.step("authorize", func() (string, error) {
		var landed string
		var err error
		g, err = d.authorize(ctx, p, a, time.Minute, io.Discard, func(authURL string) error {
			u, err := browse(ctx, authURL)
			if u != nil {
				landed = u.Scheme + "://" + u.Host + u.Path
			}
			return err
		})
		page, _ := url.Parse(a.Endpoint.AuthURL)
		pkce := ""
		if g != nil && g.verifier != "" {
			pkce = "; PKCE challenge sent (S256, hex)"
		}
		return fmt.Sprintf("page %s approved, redirected with a code to the callback %s; state checked%s", page.Path, landed, pkce), err
	})
	if err != nil {
		return err
	}
	conf := g.conf

	var tok *oauth2.Token
	err = d.step("exchange", func() (string, error) {
		var err error
		if tok, err = g.exchange(ctx); err != nil {
			return "", p.failed(err)
		}
		if err := store.Save(ctx, tok); err != nil {
			return "", err
		}
		fi, err := os.Stat(store.Path)
		if err != nil {
			return "", err
		}
		user := ""
		if id := openID(tok); id != "" {
			user = ", user " + id
		}
		return fmt.Sprintf("access %s, refresh %s%s; saved as account %s to %s (mode %#o)",
			describe(tok), describeRefresh(tok), user, demoAccounts[0], relPath(d.dir, store.Path), fi.Mode().Perm()), nil
	})
	if err != nil {
		return err
	}

	err = d.step("replay code", func() (string, error) {
		_, err := g.exchange(ctx)
		switch {
		case err == nil:
			return "", errors.New("the fake accepted a used code")
		case !errors.Is(err, oauth2x.ErrInvalidGrant):
			return "", p.failed(err)
		}
		return fmt.Sprintf("the used code is refused: %s error %s → errors.Is(err, %s)", p.title, errCode(err), kindOf(err)), nil
	})
	if err != nil {
		return err
	}

	if f.api != nil {
		err = d.step("call API", func() (string, error) {
			said, err := f.api(ctx, conf.Client(ctx, tok))
			return "with conf.Client: " + said, err
		})
		if err != nil {
			return err
		}
	}

	err = d.step("refresh", func() (string, error) {
		// Served as if the access token were about to expire: the path of
		// `oauth2x token`, through oauth2x.NewTokenSource and the file store.
		nt, err := serve(ctx, p, store, conf, time.Until(tok.Expiry)+time.Minute, true)
		if err != nil {
			return "", err
		}
		if nt.AccessToken == tok.AccessToken {
			return "", errors.New("the token source did not refresh")
		}
		rt := "kept"
		if nt.RefreshToken != tok.RefreshToken {
			rt = "rotated to " + mask(nt.RefreshToken)
		}
		old := tok
		tok = nt
		return fmt.Sprintf("as if about to expire: access %s replaces %s, refresh token %s; saved before use", describe(nt), mask(old.AccessToken), rt), nil
	})
	if err != nil {
		return err
	}

	if r, ok := conf.(renewer); ok {
		err = d.step("renew", func() (string, error) {
			old, nt, err := rotate(ctx, p, store, r.RenewRefreshToken)
			if err != nil {
				return "", err
			}
			tok = nt
			return fmt.Sprintf("refresh %s replaces %s (now dead); access token kept; saved", describeRefresh(nt), mask(old.RefreshToken)), nil
		})
		if err != nil {
			return err
		}
	}

	if ct, ok := conf.(clientTokener); ok {
		err = d.step("client token", func() (string, error) {
			cs := openTokenFile(filepath.Join(d.dir, p.name+"-client.json"))
			t, err := serve(ctx, p, cs, ct.ClientTokenRefresher(false), 5*time.Minute, false)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("app-level %s, no user; kept in %s for every process to share", describe(t), filepath.Base(cs.Path)), nil
		})
		if err != nil {
			return err
		}
	}

	err = d.step("stored", func() (string, error) {
		st, err := load(ctx, p, store)
		if err != nil {
			return "", err
		}
		if st.AccessToken != tok.AccessToken || st.RefreshToken != tok.RefreshToken {
			return "", fmt.Errorf("%s does not hold the latest token", store.Path)
		}
		return fmt.Sprintf("%s holds the latest token, extras included: what `oauth2x token %s%s` prints", relPath(d.dir, store.Path), p.name, accountArg(demoAccounts[0])), nil
	})
	if err != nil {
		return err
	}

	return d.step("second user", func() (string, error) {
		// Another account logs in; oauth2x.Tokens, over the command's
		// per-account files, serves each account its own token.
		g, err := d.authorize(ctx, p, a, time.Minute, io.Discard, func(authURL string) error {
			_, err := browse(ctx, authURL)
			return err
		})
		if err != nil {
			return "", err
		}
		second, err := g.exchange(ctx)
		if err != nil {
			return "", p.failed(err)
		}
		tokens := oauth2x.NewTokens(g.conf, users, nil)
		if err := tokens.Put(ctx, demoAccounts[1], second); err != nil {
			return "", err
		}
		var got [2]*oauth2.Token
		for i, account := range demoAccounts {
			if got[i], err = tokens.Token(ctx, account); err != nil {
				return "", p.failed(err)
			}
		}
		if got[0].AccessToken != tok.AccessToken || got[1].AccessToken != second.AccessToken {
			return "", errors.New("oauth2x.Tokens did not serve each account its own token")
		}
		return fmt.Sprintf("account %s logged in beside %s: oauth2x.Tokens serves %s %s and %s %s, from %s and %s",
			demoAccounts[1], demoAccounts[0], demoAccounts[0], mask(got[0].AccessToken), demoAccounts[1], mask(got[1].AccessToken),
			relPath(d.dir, users.file(demoAccounts[0]).Path), relPath(d.dir, users.file(demoAccounts[1]).Path)), nil
	})
}

// demoAccounts are the walkthrough's two users.
var demoAccounts = [2]string{"alice", "bob"}

// relPath is path relative to dir, for the walkthrough's output.
func relPath(dir, path string) string {
	if r, err := filepath.Rel(dir, path); err == nil {
		return r
	}
	return path
}

// browse opens u as a browser would, following redirects, and returns the
// address it landed on.
func browse(ctx context.Context, u string) (*url.URL, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if ue := (*url.Error)(nil); errors.As(err, &ue) {
		return nil, fmt.Errorf("opening the authorization page: %w", ue.Err) // its URL may hold the code
	}
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return resp.Request.URL, fmt.Errorf("the browser landed on %s://%s%s: %s", resp.Request.URL.Scheme, resp.Request.URL.Host, resp.Request.URL.Path, resp.Status)
	}
	return resp.Request.URL, nil
}

func errCode(err error) string {
	var e *oauth2x.Error
	if errors.As(err, &e) && e.Code != "" {
		return e.Code
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.ErrorCode != "" {
		return re.ErrorCode
	}
	return "(no code)"
}
