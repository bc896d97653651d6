package main

import (
	"bufio"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// codeLife is how long an authorization code lives, and the default wait.
const codeLife = 10 * time.Minute

const loginAbout = `
Opens an authorization session: starts a callback server on loopback,
prints the provider's authorization page, waits (with a countdown) until
the page redirects back with a code, checks the state, exchanges the code
and saves the token with mode 0600 as --account's token (default
"default"): several users can be logged in at one provider at once.
TikTok logins send a PKCE code challenge (S256, hex-encoded, as TikTok's
desktop flow requires) and exchange the code with its verifier.

With --redirect-url on another host (the one registered for the app), the
page redirects there instead: paste the address the browser lands on.
`

func (c *cli) login(ctx context.Context, args []string) error {
	cmd := newCommand("login", "login <provider> [flags]", loginAbout)
	var f appFlags
	f.register(cmd.fs, true, true)
	scope := cmd.fs.String("scope", "", "permissions to ask for, comma-separated (default: the provider's basic one, e.g. user_info)")
	redirect := cmd.fs.String("redirect-url", "", "the redirect URL registered for the app (default: a loopback callback, http://127.0.0.1:<free port>/callback)")
	timeout := cmd.fs.Duration("timeout", codeLife, "how long to wait for the authorization")
	account := accountFlag(cmd.fs)
	p, err := c.parse(cmd, args)
	if err != nil {
		return err
	}
	store, err := c.userStore(p, *account)
	if err != nil {
		return err
	}
	a, err := f.app(c, p, true, p.needSecret, oauth2.Endpoint{})
	if err != nil {
		return err
	}
	if *scope != "" {
		a.Scopes = strings.FieldsFunc(*scope, func(r rune) bool { return r == ',' || r == ' ' })
	}
	a.RedirectURL = *redirect
	store.Endpoint = a.Endpoint // remembered, so that later commands need no --endpoint
	g, err := c.authorize(ctx, p, a, *timeout, c.stderr, func(authURL string) error {
		fmt.Fprintf(c.stdout, "Open this page in a browser (%s):\n\n  %s\n\n", p.page, authURL)
		return nil
	})
	if err != nil {
		return err
	}
	tok, err := g.exchange(ctx)
	if err != nil {
		return forAccount(p.failed(err), *account)
	}
	if err := store.Save(ctx, tok); err != nil {
		return fmt.Errorf("%s: saving the token to %s: %w", p.name, store.Path, err)
	}
	as := ""
	if id := openID(tok); id != "" {
		as = " as open_id " + id
	}
	fmt.Fprintf(c.stdout, "%s: logged in%s; access token %s, refresh token %s.\nSaved to %s (mode 0600). Print it with: oauth2x token %s%s\n",
		p.name, as, describe(tok), describeRefresh(tok), store.Path, p.name, accountArg(*account))
	return nil
}

// grant is what the authorization page's round trip gave: a code, the
// provider's Config with the redirect URL the code was issued for, and
// the PKCE verifier when the page was sent a challenge.
type grant struct {
	conf     flow
	code     string
	verifier string
}

// exchange trades the code for a token, with the verifier if any.
func (g *grant) exchange(ctx context.Context) (*oauth2.Token, error) {
	if g.verifier == "" {
		return g.conf.Exchange(ctx, g.code)
	}
	return g.conf.Exchange(ctx, g.code, oauth2.VerifierOption(g.verifier))
}

// authorize runs the authorization page's round trip: it starts the
// callback (a loopback server, or a prompt for the pasted address when the
// redirect URL is elsewhere), calls open with the page's URL (with a PKCE
// challenge when the provider takes one), and waits up to timeout for the
// code. The countdown goes to progress.
func (c *cli) authorize(ctx context.Context, p *provider, a *app, timeout time.Duration, progress io.Writer, open func(authURL string) error) (*grant, error) {
	cb, err := newCallback(a.RedirectURL)
	if err != nil {
		return nil, err
	}
	defer cb.close()
	a.RedirectURL = cb.redirect
	g := &grant{conf: p.newFlow(a)}
	var opts []oauth2.AuthCodeOption
	if p.challenge != nil {
		g.verifier = oauth2.GenerateVerifier()
		opts = append(opts, p.challenge(g.verifier))
	}
	authURL := g.conf.AuthCodeURL(cb.state, opts...)
	cb.warn = c.stderr
	if cb.srv == nil {
		fmt.Fprintf(c.stderr, "After approving, the browser lands on %s?code=…: paste that whole address here and press Enter.\n", cb.redirect)
		go cb.readPasted(c.stdin)
	}
	if err := open(authURL); err != nil {
		select {
		case r := <-cb.done: // the callback's reason, if it refused
			if r.err != nil {
				err = r.err
			}
		default:
		}
		return nil, fmt.Errorf("%s: login: %w", p.name, err)
	}
	if g.code, err = wait(ctx, cb.done, timeout, progress); err != nil {
		return nil, fmt.Errorf("%s: login: %w", p.name, err)
	}
	return g, nil
}

// errStateMismatch: an answer arrived whose state is not the one sent. It
// is refused and the login goes on waiting for the right one.
var errStateMismatch = errors.New("refused an answer whose state does not match the one sent (a stale or forged redirect); nothing was exchanged, still waiting for the right one")

// errStdinClosed: the address to paste can no longer come.
var errStdinClosed = errors.New("standard input closed before the address was pasted: run login where you can paste it, or with a loopback --redirect-url")

// callback receives the authorization page's answer once: on a loopback
// server, or pasted. Requests to another Host or path, and answers whose
// state is not the one sent, are refused (HTTP 400 or 404) and the
// callback goes on waiting. It is safe for concurrent use.
type callback struct {
	state    string
	redirect string       // the redirect URL sent to the page
	path     string       // the path the answer comes to
	hosts    []string     // the Host values the server answers to
	srv      *http.Server // nil when the answer is pasted
	warn     io.Writer    // told of refused answers; nil: not told
	mu       sync.Mutex   // guards warn's writes
	once     sync.Once
	done     chan result // receives the first answer
}

type result struct {
	code string
	err  error
}

// newCallback prepares to receive the answer at redirect: a server on a
// free loopback port when redirect is empty, on the given port when it is
// on loopback, and nothing (the answer is pasted) when it is elsewhere.
func newCallback(redirect string) (*callback, error) {
	var b [16]byte
	rand.Read(b[:])
	cb := &callback{state: hex.EncodeToString(b[:]), done: make(chan result, 1)}
	addr, path := "127.0.0.1:0", "/callback"
	if redirect != "" {
		u, err := url.Parse(redirect)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			return nil, usageErrorf("--redirect-url must be an http:// or https:// URL without a query")
		}
		if !loopback(u.Hostname()) {
			cb.redirect, cb.path = redirect, u.Path
			return cb, nil
		}
		if u.Scheme != "http" {
			return nil, usageErrorf("--redirect-url on this machine must be http:// (the callback server does not serve TLS)")
		}
		addr, path = u.Host, cmp.Or(u.Path, "/")
		if u.Port() == "" {
			addr = net.JoinHostPort(u.Hostname(), "80")
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("starting the callback server: %w", err)
	}
	cb.path = path
	cb.redirect = (&url.URL{Scheme: "http", Host: ln.Addr().String(), Path: path}).String()
	cb.hosts = []string{ln.Addr().String()}
	if redirect != "" {
		cb.redirect = redirect
		u, _ := url.Parse(redirect)
		cb.hosts = append(cb.hosts, u.Host)
		if u.Port() == "" {
			cb.hosts = append(cb.hosts, net.JoinHostPort(u.Hostname(), "80"))
		}
	}
	cb.srv = &http.Server{Handler: cb, ReadHeaderTimeout: 10 * time.Second}
	go cb.srv.Serve(ln)
	return cb, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// close stops the server, letting the browser get its page.
func (cb *callback) close() {
	if cb.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if cb.srv.Shutdown(ctx) != nil {
		cb.srv.Close()
	}
}

// answer checks an answer's query. One whose state is not the one sent
// is refused with errStateMismatch and changes nothing; the first with the
// right state is delivered, and its outcome returned.
func (cb *callback) answer(q url.Values) error {
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(cb.state)) != 1 {
		cb.warnf("oauth2x: %v", errStateMismatch)
		return errStateMismatch
	}
	var r result
	switch {
	case q.Get("error") != "":
		r.err = fmt.Errorf("the authorization page answered %q: %s", printable(q.Get("error")), printable(q.Get("error_description")))
	case q.Get("code") == "":
		r.err = errors.New("the redirect carries no code")
	default:
		r.code = q.Get("code")
	}
	if !cb.deliver(r) {
		return errors.New("this login is already over")
	}
	return r.err
}

// deliver ends the wait with r, if nothing ended it before.
func (cb *callback) deliver(r result) bool {
	delivered := false
	cb.once.Do(func() { cb.done <- r; delivered = true })
	return delivered
}

func (cb *callback) warnf(format string, args ...any) {
	if cb.warn == nil {
		return
	}
	cb.mu.Lock()
	defer cb.mu.Unlock()
	fmt.Fprintf(cb.warn, "\r"+format+"\n", args...)
}

// ServeHTTP receives the redirect from the authorization page.
func (cb *callback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if !slices.ContainsFunc(cb.hosts, func(h string) bool { return strings.EqualFold(h, r.Host) }) {
		// A page elsewhere that rebinds its name to this address.
		cb.warnf("oauth2x: refused a request for Host %q; the callback answers only %s", printable(r.Host), cb.hosts[0])
		http.Error(w, "oauth2x: wrong Host: this callback answers only "+cb.hosts[0], http.StatusBadRequest)
		return
	}
	if r.URL.Path != cb.path {
		http.NotFound(w, r)
		return
	}
	if err := cb.answer(r.URL.Query()); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, "oauth2x: %v\n", err)
		return
	}
	io.WriteString(w, "oauth2x: authorized. You can close this window and go back to the terminal.\n")
}

// readPasted reads addresses the user pastes until one is an answer with
// the right state; when in ends first, the login ends at once.
func (cb *callback) readPasted(in io.Reader) {
	s := bufio.NewScanner(in)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if line == "" {
			continue
		}
		u, err := url.Parse(line)
		if err != nil {
			continue
		}
		if cb.answer(u.Query()) != errStateMismatch {
			return
		}
	}
	cb.deliver(result{err: errStdinClosed})
}

// printable returns provider text fit for a terminal: control characters
// (escape sequences, CR, LF) escaped as Go does, cut at 200 bytes.
func printable(s string) string {
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

// wait waits for the answer, showing how long is left: a countdown that
// rewrites one line on a terminal, a line a minute otherwise.
func wait(ctx context.Context, done <-chan result, timeout time.Duration, w io.Writer) (string, error) {
	deadline := time.Now().Add(timeout)
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	tty := isTerminal(w)
	show := func(left time.Duration) {
		if tty {
			fmt.Fprintf(w, "\rWaiting for the authorization: %s left (Ctrl-C to stop) ", clock(left))
		} else {
			fmt.Fprintf(w, "Waiting for the authorization: %s left\n", clock(left))
		}
	}
	show(timeout)
	defer func() {
		if tty {
			fmt.Fprint(w, "\r\033[K")
		}
	}()
	shown := timeout
	for {
		select {
		case r := <-done:
			return r.code, r.err
		case <-ctx.Done():
			return "", fmt.Errorf("stopped before the authorization arrived: %w", ctx.Err())
		case <-timer.C:
			return "", fmt.Errorf("no authorization arrived within %s: run the command again and approve on the page sooner", timeout)
		case now := <-tick.C:
			left := deadline.Sub(now).Round(time.Second)
			if tty || shown-left >= time.Minute {
				show(left)
				shown = left
			}
		}
	}
}

// clock formats d as m:ss.
func clock(d time.Duration) string {
	d = max(d, 0).Round(time.Second)
	return fmt.Sprintf("%d:%02d", int(d/time.Minute), int(d%time.Minute/time.Second))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// openID returns the user's open_id, when the provider said.
func openID(t *oauth2.Token) string {
	id, _ := t.Extra("open_id").(string)
	return id
}
