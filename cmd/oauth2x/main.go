// Command oauth2x logs in to Douyin, Toutiao, TikTok or a Fantem gateway, holds the
// tokens and prints them, so that a developer has a token in hand to try
// the APIs with curl. Run with no arguments, it walks through every
// provider against built-in fakes on loopback, so a new user sees the
// library work before writing a line.
//
// Usage:
//
//	oauth2x                              walk through every provider against built-in fakes
//	oauth2x demo [provider...]           the same, for some providers
//	oauth2x login <provider> [flags]     authorize in a browser, save the token
//	oauth2x token <provider> [flags]     print a valid access token, refreshing if needed
//	oauth2x client-token <provider>      print an app-level token (no user)
//	oauth2x renew douyin                 renew the refresh token (30 days again)
//	oauth2x logout <provider>            delete the stored token
//	... --account alice                  login, token, renew, logout: which user (default "default")
//	oauth2x <command> -h                 the command's flags
//	oauth2x --version                    the command's version
//
// For example:
//
//	export OAUTH2X_DOUYIN_CLIENT_KEY=aw…  OAUTH2X_DOUYIN_CLIENT_SECRET=…
//	oauth2x login douyin --scope user_info,video.list
//	curl -H "access-token: $(oauth2x token douyin)" https://open.douyin.com/…
//	oauth2x login douyin --account bob   # a second user beside the first
//	oauth2x token douyin --account bob
//
// The walkthrough starts each provider's fake (the douyintest, toutiaotest
// and fantemtest packages) on loopback, opens its authorization page,
// follows the redirect to its own loopback callback, exchanges the code,
// shows that a used code is refused with a typed error, calls the fake API
// with the token, refreshes it, and where the provider has them renews the
// refresh token and fetches a client token, then logs a second account in
// and serves both accounts through oauth2x.Tokens, printing each step with
// the tokens masked (act.f709…0000). It exits 0 when every step passed.
// TikTok logins send a PKCE code challenge (S256, hex-encoded, as TikTok's
// desktop apps must) and exchange the code with its verifier.
//
// login starts a callback server on 127.0.0.1 (or on the loopback address
// of --redirect-url), prints the authorization page's URL and counts down
// the code's 10 minutes until the page redirects back. A request for
// another Host (a page rebinding its name to loopback) or with a state
// that is not the one sent (a stale tab, a forged link) is answered HTTP
// 400, nothing is exchanged, and the login goes on waiting for the right
// one; text from the provider is printed with control characters escaped.
// When the app's registered redirect URL is on another host, pass it as
// --redirect-url and paste the address the browser lands on; if standard
// input closes before that, the login ends at once.
//
// Credentials come from flags or the environment: the client key (or id)
// from --client-key / --client-id or OAUTH2X_<PROVIDER>_CLIENT_KEY
// (Fantem: OAUTH2X_FANTEM_CLIENT_ID), the client secret from
// OAUTH2X_<PROVIDER>_CLIENT_SECRET or --client-secret-file, never from the
// command line itself, where every user of the machine could read it.
// --endpoint (or OAUTH2X_<PROVIDER>_ENDPOINT) points the command at a
// sandbox, a fake or a Fantem deployment's host; login saves it beside the
// token, so later commands for that token reach the same host without it.
// Secret files are read only when they are regular files of at most 1 MiB.
//
// Tokens are saved with mode 0600 in the directory oauth2x under the user's
// configuration directory (on Linux ~/.config/oauth2x), or in
// $OAUTH2X_CONFIG_DIR, shared by every process that runs the command: one
// token per provider and account (--account, default "default") in
// <provider>/k-<account>.json — the layout of oauth2x.KeyedFileStore, so a
// service can read them with oauth2x.NewKeyedFileStore(dir + "/douyin") —
// and <provider>-client.json for the app's client token. A token file of
// the command's single-token days, <provider>.json, is read through: it
// stays the default account's file, read and written in place, until
// logout deletes it. logout deletes one account's token, and the client
// token with the last account's. The command reads only regular files of
// at most 1 MiB there. A token file that is a symbolic link is written
// through: the link stays and the file it names is replaced, so whatever
// else reads that file sees the new refresh token.
//
// Exit codes:
//
//	0  success
//	1  failure: the provider refused, the network failed, the login was refused or timed out
//	2  usage: unknown command, provider or flag, a missing credential
//	3  authorization needed: no token stored, or the grant is dead (code used,
//	   refresh token expired or revoked, renew limit reached): run oauth2x login <provider>
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
)

// Exit codes; see the package documentation.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
	exitReauth  = 3
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := (&cli{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin, getenv: os.Getenv}).run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// cli is one run of the command: where it writes and reads, and its
// environment. It is not safe for concurrent use.
type cli struct {
	stdout, stderr io.Writer
	stdin          io.Reader
	getenv         func(string) string
	// providers is the table of providers; nil means the built-in one.
	providers []*provider
}

// commands maps each subcommand to its implementation.
var commands = map[string]func(c *cli, ctx context.Context, args []string) error{
	"demo":         (*cli).demo,
	"login":        (*cli).login,
	"token":        (*cli).token,
	"client-token": (*cli).clientToken,
	"renew":        (*cli).renew,
	"logout":       (*cli).logout,
}

const usage = `oauth2x logs in to Douyin, Toutiao, TikTok or a Fantem gateway, holds the tokens and
prints them. With no arguments it walks through every provider against
built-in fakes on loopback.

Usage:
  oauth2x                              walk through every provider against built-in fakes
  oauth2x demo [provider...]           the same, for some providers
  oauth2x login <provider> [flags]     authorize in a browser, save the token
  oauth2x token <provider> [flags]     print a valid access token, refreshing if needed
  oauth2x client-token <provider>      print an app-level token (no user)
  oauth2x renew douyin                 renew the refresh token (30 days again)
  oauth2x logout <provider>            delete the stored token
  oauth2x <command> -h                 the command's flags
  oauth2x --version                    the command's version

login, token, renew and logout take --account <name>: which user (default "default").

Providers: %s

Credentials: OAUTH2X_<PROVIDER>_CLIENT_KEY (Fantem: _CLIENT_ID) or --client-key,
and OAUTH2X_<PROVIDER>_CLIENT_SECRET or --client-secret-file; never a secret
on the command line. OAUTH2X_<PROVIDER>_ENDPOINT or --endpoint: a sandbox or fake.
Tokens: %s/<provider>/k-<account>.json (mode 0600; OAUTH2X_CONFIG_DIR moves it).

Example:
  oauth2x login douyin --scope user_info
  curl -H "access-token: $(oauth2x token douyin)" https://open.douyin.com/...
  oauth2x login douyin --account bob && oauth2x token douyin --account bob

Exit codes: 0 ok, 1 failure, 2 usage, 3 authorization needed (run oauth2x login <provider>).
`

func (c *cli) printUsage(w io.Writer) {
	dir, err := c.configDir()
	if err != nil {
		dir = "<config dir>/oauth2x"
	}
	fmt.Fprintf(w, usage, strings.Join(c.providerNames(), ", "), dir)
}

// run runs the command with args (without the program name) and returns
// the exit code.
func (c *cli) run(ctx context.Context, args []string) int {
	if c.providers == nil {
		c.providers = providers
	}
	name := "demo"
	if len(args) > 0 {
		name, args = args[0], args[1:]
	}
	switch name {
	case "-h", "-help", "--help", "help":
		c.printUsage(c.stdout)
		return exitOK
	case "-version", "--version", "version":
		fmt.Fprintln(c.stdout, version())
		return exitOK
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(c.stderr, "oauth2x: unknown command %q\n\n", name)
		c.printUsage(c.stderr)
		return exitUsage
	}
	err := cmd(c, ctx, args)
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errHelp):
		return exitOK
	}
	fmt.Fprintf(c.stderr, "oauth2x: %v\n", err)
	if h := hint(err); h != "" {
		fmt.Fprintf(c.stderr, "oauth2x: %s\n", h)
	}
	return exitCode(err)
}

// version says which build of the command this is: the module's version
// (or "(devel)" for a build from a checkout), the commit when the build
// recorded one, and the Go release.
func version() string {
	v, rev, dirty := "(unknown)", "", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		v = bi.Main.Version
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "+modified"
				}
			}
		}
	}
	out := "oauth2x " + v
	if rev != "" {
		out += " (commit " + rev[:min(12, len(rev))] + dirty + ")"
	}
	return out + " " + runtime.Version()
}
