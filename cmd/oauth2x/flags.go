package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/oauth2"
)

// command is a subcommand's flags and help.
type command struct {
	fs       *flag.FlagSet
	synopsis string // "login <provider> [flags]"
	about    string // what it does, a few lines
}

func newCommand(name, synopsis, about string) *command {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported once, by run
	fs.Usage = func() {}
	return &command{fs: fs, synopsis: synopsis, about: about}
}

func (cmd *command) help(w io.Writer) {
	fmt.Fprintf(w, "Usage: oauth2x %s\n\n%s\n", cmd.synopsis, strings.TrimSpace(cmd.about))
	n := 0
	cmd.fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprintln(w, "\nFlags:")
		cmd.fs.SetOutput(w)
		cmd.fs.PrintDefaults()
		cmd.fs.SetOutput(io.Discard)
	}
	fmt.Fprintln(w, "\nExit codes: 0 ok, 1 failure, 2 usage, 3 authorization needed (run oauth2x login <provider>).")
}

// parse parses flags around the provider's name, which may come before
// or after them, and returns the provider.
func (c *cli) parse(cmd *command, args []string) (*provider, error) {
	if err := c.parseFlags(cmd, args); err != nil {
		return nil, err
	}
	rest := cmd.fs.Args()
	if len(rest) == 0 {
		return nil, usageErrorf("%s: name a provider (%s); run `oauth2x %s -h` for help", cmd.fs.Name(), strings.Join(c.providerNames(), ", "), cmd.fs.Name())
	}
	p, err := c.lookup(rest[0])
	if err != nil {
		return nil, err
	}
	if err := c.parseFlags(cmd, rest[1:]); err != nil {
		return nil, err
	}
	if cmd.fs.NArg() > 0 {
		// Not echoed: it may be a secret typed where it does not belong.
		return nil, usageErrorf("%s %s: unexpected argument; the client secret goes in %s or a file named by --client-secret-file, never on the command line",
			cmd.fs.Name(), p.name, p.env("CLIENT_SECRET"))
	}
	return p, nil
}

func (c *cli) parseFlags(cmd *command, args []string) error {
	err := cmd.fs.Parse(args)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		cmd.help(c.stdout)
		return errHelp
	}
	return usageErrorf("%s: %v; run `oauth2x %s -h` for help", cmd.fs.Name(), err, cmd.fs.Name())
}

// appFlags are the flags that say which app and which host.
type appFlags struct {
	clientID, secretFile        string
	endpoint, authURL, tokenURL string
}

// register adds the flags; secret adds --client-secret-file, and fantem
// --client-id (Fantem's name for the client key) for commands that apply
// to a Fantem gateway.
func (f *appFlags) register(fs *flag.FlagSet, secret, fantem bool) {
	fs.StringVar(&f.clientID, "client-key", "", "the app's client key (Douyin, Toutiao, TikTok); default $OAUTH2X_<PROVIDER>_CLIENT_KEY")
	if fantem {
		fs.StringVar(&f.clientID, "client-id", "", "the app's client id (Fantem); default $OAUTH2X_FANTEM_CLIENT_ID")
	}
	if secret {
		fs.StringVar(&f.secretFile, "client-secret-file", "", "read the client secret from this regular file of at most 1 MiB (- for standard input); default $OAUTH2X_<PROVIDER>_CLIENT_SECRET")
	}
	fs.StringVar(&f.endpoint, "endpoint", "", "scheme and host of a sandbox, fake or deployment, keeping the provider's paths; default $OAUTH2X_<PROVIDER>_ENDPOINT, else the one the stored token came from, else production")
	fs.StringVar(&f.authURL, "auth-url", "", "the authorization page's URL, overriding --endpoint")
	fs.StringVar(&f.tokenURL, "token-url", "", "the token endpoint's URL, overriding --endpoint (Douyin and Toutiao call their other token paths on its host)")
}

// app resolves the app from the flags and the environment; needID and
// needSecret make a missing client id or secret a usage error. The
// endpoint is the one the flags or the environment name, else remembered
// (the one saved beside the stored token), else production.
func (f *appFlags) app(c *cli, p *provider, needID, needSecret bool, remembered oauth2.Endpoint) (*app, error) {
	a := &app{ClientID: cmp.Or(f.clientID, c.getenv(p.idEnv())), Scopes: p.scopes}
	if needID && a.ClientID == "" {
		return nil, usageErrorf("%s: no %s: set %s or pass %s", p.name, p.idParam, p.idEnv(), p.idFlag())
	}
	a.ClientSecret = c.getenv(p.env("CLIENT_SECRET"))
	if f.secretFile != "" {
		s, err := c.readSecret(f.secretFile)
		if err != nil {
			return nil, usageErrorf("%s: reading the client secret: %v", p.name, err)
		}
		a.ClientSecret = s
	}
	if needSecret && a.ClientSecret == "" {
		return nil, usageErrorf("%s: no client secret: set %s or pass --client-secret-file", p.name, p.env("CLIENT_SECRET"))
	}
	a.Endpoint = remembered
	if base := cmp.Or(f.endpoint, c.getenv(p.env("ENDPOINT"))); base != "" {
		e, err := p.endpointOn(base)
		if err != nil {
			return nil, err
		}
		a.Endpoint = e
	}
	a.Endpoint.AuthURL = cmp.Or(f.authURL, a.Endpoint.AuthURL)
	a.Endpoint.TokenURL = cmp.Or(f.tokenURL, a.Endpoint.TokenURL)
	return a, nil
}

func (c *cli) readSecret(name string) (string, error) {
	var b []byte
	var err error
	if name == "-" {
		b, err = io.ReadAll(io.LimitReader(c.stdin, 1<<16))
	} else {
		b, err = readFile(name)
	}
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", errors.New("it is empty")
	}
	return s, nil
}

// configDir is where tokens are saved.
func (c *cli) configDir() (string, error) {
	if d := c.getenv("OAUTH2X_CONFIG_DIR"); d != "" {
		return d, nil
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no configuration directory (%v): set OAUTH2X_CONFIG_DIR", err)
	}
	return filepath.Join(d, "oauth2x"), nil
}

// defaultAccount is the account of commands run without --account.
const defaultAccount = "default"

// accountFlag adds --account to fs.
func accountFlag(fs *flag.FlagSet) *string {
	return fs.String("account", defaultAccount, "which of the provider's logged-in users: each account keeps its own token")
}

// checkAccount refuses an account name that would be unreadable in a
// message: empty, longer than 200 bytes, or with control characters.
// Every other name is safe in a file name (see accounts).
func checkAccount(p *provider, account string) error {
	if account == "" || len(account) > 200 || strings.IndexFunc(account, func(r rune) bool { return !unicode.IsPrint(r) || r == utf8.RuneError }) >= 0 {
		return usageErrorf("%s: --account must be 1 to 200 bytes of printable UTF-8", p.name)
	}
	return nil
}

// accountArg is what to add to a command line to name account.
func accountArg(account string) string {
	if account == defaultAccount {
		return ""
	}
	return " --account " + shellQuote(account)
}

// shellQuote quotes s for a POSIX shell when it needs quoting.
func shellQuote(s string) string {
	if strings.IndexFunc(s, func(r rune) bool {
		return !(r == '-' || r == '_' || r == '.' || r == '@' || '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// accounts returns the keyed store of p's user tokens.
func (c *cli) accounts(p *provider) (*accounts, error) {
	dir, err := c.configDir()
	if err != nil {
		return nil, err
	}
	return newAccounts(dir, p.name), nil
}

// clientStore returns the token file of p's app-level client token.
func (c *cli) clientStore(p *provider) (*tokenFile, error) {
	dir, err := c.configDir()
	if err != nil {
		return nil, err
	}
	return openTokenFile(filepath.Join(dir, p.name+"-client.json")), nil
}

// userStore returns the token file of account's token at p.
func (c *cli) userStore(p *provider, account string) (*tokenFile, error) {
	if err := checkAccount(p, account); err != nil {
		return nil, err
	}
	s, err := c.accounts(p)
	if err != nil {
		return nil, err
	}
	return s.file(account), nil
}

// storeAndApp resolves the app with the endpoint remembered in store and
// has store save that endpoint beside every token.
func (c *cli) storeAndApp(f *appFlags, p *provider, store *tokenFile, needID, needSecret bool) (*tokenFile, *app, error) {
	remembered, err := store.Remembered()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: reading %s: %w", p.name, store.Path, err)
	}
	a, err := f.app(c, p, needID, needSecret, remembered)
	if err != nil {
		return nil, nil, err
	}
	store.Endpoint = a.Endpoint
	return store, a, nil
}
