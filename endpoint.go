package oauth2x

import (
	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x/internal/wire"
)

// This file holds what every provider's endpoints have in common; the
// rules are in the package documentation, under Endpoints.

// SiblingURL returns the URL of path, one of a provider's documented
// paths (such as "/oauth/refresh_token/"), next to tokenURL, whose own
// documented path is tokenPath (such as "/oauth/access_token/"): on
// tokenURL's scheme and host, after the prefix that tokenURL's path has in
// front of tokenPath, trailing slashes aside. When tokenURL's path does
// not end in tokenPath, there is no prefix. It fails when tokenURL is not
// an absolute http:// or https:// URL.
//
//	SiblingURL("http://h/douyin/oauth/access_token/", "/oauth/access_token/", "/oauth/refresh_token/")
//	// "http://h/douyin/oauth/refresh_token/"
func SiblingURL(tokenURL, tokenPath, path string) (string, error) {
	return wire.Sibling(tokenURL, tokenPath, path)
}

// EndpointAt returns prod (a provider's production Endpoint) moved to
// base: the same paths on base's scheme and host, after base's path as a
// prefix. base is an absolute http:// or https:// URL without a query,
// such as "http://127.0.0.1:8080" or "https://proxy.example/douyin".
//
//	EndpointAt("https://proxy.example/douyin", douyin.Endpoint)
//	// AuthURL  https://proxy.example/douyin/platform/oauth/connect/
//	// TokenURL https://proxy.example/douyin/oauth/access_token/
func EndpointAt(base string, prod oauth2.Endpoint) (oauth2.Endpoint, error) {
	return wire.At(base, prod)
}
