// Package oauthtest holds what the fakes of every provider share.
package oauthtest

import (
	"context"
	"errors"
	"net/http"
	"net/url"
)

// Authorize opens authURL with client as a browser would and returns the
// code and state that the authorization page redirects back with, without
// following the redirect.
func Authorize(ctx context.Context, client *http.Client, authURL string) (code, state string, err error) {
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return "", "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", "", err
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		return "", "", errors.New("authorization page refused: " + resp.Status)
	}
	q := loc.Query()
	return q.Get("code"), q.Get("state"), nil
}
