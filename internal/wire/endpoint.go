package wire

import (
	"errors"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/oauth2"
)

// Sibling returns the URL of path, a documented path such as
// "/oauth/refresh_token/", next to tokenURL: on its scheme and host, after
// the prefix that tokenURL's path has in front of tokenPath (its own
// documented path; trailing slashes aside). When tokenURL's path does not
// end in tokenPath, there is no prefix. tokenURL must be an absolute
// http or https URL.
func Sibling(tokenURL, tokenPath, path string) (string, error) {
	u, err := parseEndpoint(tokenURL, false)
	if err != nil {
		return "", err
	}
	prefix := ""
	if p := strings.TrimSuffix(u.Path, "/"); strings.HasSuffix(p, strings.TrimSuffix(tokenPath, "/")) {
		prefix = strings.TrimSuffix(p, strings.TrimSuffix(tokenPath, "/"))
	}
	return u.Scheme + "://" + u.Host + prefix + path, nil
}

// At returns prod's URLs moved to base: the same paths, on base's scheme
// and host, after base's path as a prefix. base must be an absolute http
// or https URL without a query.
func At(base string, prod oauth2.Endpoint) (oauth2.Endpoint, error) {
	u, err := parseEndpoint(base, true)
	if err != nil {
		return oauth2.Endpoint{}, err
	}
	on := func(raw string) string {
		p, err := url.Parse(raw)
		if err != nil || raw == "" {
			return ""
		}
		return u.Scheme + "://" + u.Host + strings.TrimSuffix(u.Path, "/") + p.Path
	}
	e := prod
	e.AuthURL, e.TokenURL, e.DeviceAuthURL = on(prod.AuthURL), on(prod.TokenURL), on(prod.DeviceAuthURL)
	return e, nil
}

// parseEndpoint parses an endpoint URL: absolute, http or https, with a
// host and no user; a base URL (forBase) also has no query or fragment.
// The error quotes the URL without its query or user.
func parseEndpoint(raw string, forBase bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil, u.Scheme != "http" && u.Scheme != "https", u.Host == "", u.User != nil:
		return nil, errors.New("endpoint " + strconv.Quote(redactURL(raw, nil)) + " is not an absolute http:// or https:// URL with a host")
	case forBase && (u.RawQuery != "" || u.Fragment != ""):
		return nil, errors.New("endpoint base " + strconv.Quote(redactURL(raw, nil)) + " has a query or fragment")
	}
	return u, nil
}

// EndpointOr returns e with each empty URL taken from def.
func EndpointOr(e, def oauth2.Endpoint) oauth2.Endpoint {
	if e.AuthURL == "" {
		e.AuthURL = def.AuthURL
	}
	if e.TokenURL == "" {
		e.TokenURL = def.TokenURL
	}
	return e
}
