package main

import (
	"errors"
	"fmt"

	"github.com/oauth2x/oauth2x"
)

// usageError is a mistake on the command line: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// errHelp is returned after -h printed a command's help.
var errHelp = errors.New("help shown")

// errNotLoggedIn: no token is stored for the provider.
var errNotLoggedIn = errors.New("not logged in")

// opError is a failed call to a provider; it names the provider so that
// the hint can say what to run.
type opError struct {
	p       *provider
	account string // the account whose token it was, when not the default
	err     error
}

func (e *opError) Error() string { return e.err.Error() }
func (e *opError) Unwrap() error { return e.err }

// failed wraps err, if any, as an error of p.
func (p *provider) failed(err error) error {
	if err == nil {
		return nil
	}
	return &opError{p: p, err: err}
}

// exitCode maps an error to the command's exit code.
func exitCode(err error) int {
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		return exitUsage
	case errors.Is(err, errNotLoggedIn), errors.Is(err, oauth2x.ErrInvalidGrant):
		return exitReauth
	}
	return exitFailure
}

// kinds names the error kinds of the library, for the walkthrough.
var kinds = []struct {
	err  error
	name string
}{
	{oauth2x.ErrInvalidGrant, "oauth2x.ErrInvalidGrant"},
	{oauth2x.ErrInvalidClient, "oauth2x.ErrInvalidClient"},
	{oauth2x.ErrInvalidRequest, "oauth2x.ErrInvalidRequest"},
	{oauth2x.ErrInsufficientScope, "oauth2x.ErrInsufficientScope"},
	{oauth2x.ErrInvalidToken, "oauth2x.ErrInvalidToken"},
	{oauth2x.ErrRateLimited, "oauth2x.ErrRateLimited"},
	{oauth2x.ErrTemporary, "oauth2x.ErrTemporary"},
	{oauth2x.ErrBadResponse, "oauth2x.ErrBadResponse"},
	{oauth2x.ErrRejected, "oauth2x.ErrRejected"},
}

// kindOf names the library's error kind err matches, or "".
func kindOf(err error) string {
	for _, k := range kinds {
		if errors.Is(err, k.err) {
			return k.name
		}
	}
	return ""
}

// hint says what to do about err, naming the provider when it is known.
func hint(err error) string {
	name, secretEnv, idEnv := "<provider>", "OAUTH2X_<PROVIDER>_CLIENT_SECRET", "OAUTH2X_<PROVIDER>_CLIENT_KEY"
	var de *demoError
	if errors.As(err, &de) {
		return "the walkthrough runs against built-in fakes only, so this is a bug in oauth2x: please report it with the output above"
	}
	var oe *opError
	if errors.As(err, &oe) {
		name, secretEnv, idEnv = oe.p.name, oe.p.env("CLIENT_SECRET"), oe.p.idEnv()
		if oe.account != "" {
			name += accountArg(oe.account)
		}
	}
	switch {
	case errors.Is(err, errNotLoggedIn), errors.Is(err, oauth2x.ErrInvalidGrant):
		return "authorization needed: run `oauth2x login " + name + "`"
	case errors.Is(err, oauth2x.ErrInvalidClient):
		return "check the client credentials (" + idEnv + ", " + secretEnv + "), the redirect URL registered for the app, and --endpoint"
	case errors.Is(err, oauth2x.ErrInsufficientScope):
		return "the app lacks the permission: apply for it in the provider's developer console, then run `oauth2x login " + name + "` with --scope"
	case errors.Is(err, oauth2x.ErrInvalidToken):
		return "the access token is no longer accepted: run `oauth2x token " + name + " --refresh`"
	case errors.Is(err, oauth2x.ErrRateLimited):
		return "too many calls: wait a few minutes and try again"
	case errors.Is(err, oauth2x.ErrTemporary):
		return "the provider or the network failed: try again later"
	case errors.Is(err, oauth2x.ErrBadResponse):
		return "the answer was not the provider's: check --endpoint, or try again later"
	case errors.Is(err, oauth2x.ErrInvalidRequest):
		return "the provider found a parameter missing or malformed: check the flags (`oauth2x <command> -h`)"
	}
	return ""
}
