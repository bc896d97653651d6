package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/douyin"
	"github.com/oauth2x/oauth2x/douyin/douyintest"
	"github.com/oauth2x/oauth2x/fantem"
	"github.com/oauth2x/oauth2x/fantem/fantemtest"
	"github.com/oauth2x/oauth2x/toutiao"
	"github.com/oauth2x/oauth2x/toutiao/toutiaotest"
)

// A provider is one row of the table below: what the command needs to
// know to log in to a provider, hold its tokens and walk through it
// against its fake. Rows are not modified once built.
type provider struct {
	name       string          // on the command line, in file names and environment variables: "douyin"
	title      string          // "Douyin"
	idParam    string          // what the provider calls the client id: "client_key"
	needSecret bool            // the code exchange needs a client secret
	scopes     []string        // asked for when --scope is not given
	endpoint   oauth2.Endpoint // production URLs; --endpoint keeps their paths
	page       string          // what to do on the authorization page
	// challenge, when set, is the PKCE code challenge option the
	// authorization page is sent for a verifier (TikTok's desktop flow).
	challenge func(verifier string) oauth2.AuthCodeOption
	// newFlow builds the provider's Config for a.
	newFlow func(a *app) flow
	// fake starts the provider's fake for the walkthrough.
	fake func() *fake
}

// app is what the command knows of the user's app at the provider.
type app struct {
	ClientID     string
	ClientSecret string
	RedirectURL  string
	Scopes       []string
	Endpoint     oauth2.Endpoint
}

// flow is what every provider's Config offers.
type flow interface {
	oauth2x.Flow
	oauth2x.Refresher
}

// renewer is a provider Config that renews refresh tokens (Douyin).
type renewer interface {
	RenewRefreshToken(ctx context.Context, t *oauth2.Token) (*oauth2.Token, error)
}

// clientTokener is a provider Config that issues app-level tokens.
type clientTokener interface {
	ClientTokenRefresher(stable bool) oauth2x.Refresher
}

// fake is a running fake provider for the walkthrough.
type fake struct {
	url                    string // scheme and host the fake serves the provider's paths on
	clientID, clientSecret string // the app it knows
	close                  func()
	// api calls the fake's API with a client that sends the user's token
	// the way the provider reads it, and says what the API answered.
	api func(ctx context.Context, c *http.Client) (string, error)
}

// providers is the table of providers the command knows.
var providers = []*provider{
	{
		name:       "douyin",
		title:      "Douyin",
		idParam:    "client_key",
		needSecret: true,
		scopes:     []string{"user_info"},
		endpoint:   douyin.Endpoint,
		page:       "Douyin shows a QR code: scan it with the Douyin app and approve",
		newFlow: func(a *app) flow {
			return &douyin.Config{ClientKey: a.ClientID, ClientSecret: a.ClientSecret, RedirectURL: a.RedirectURL, Scopes: a.Scopes, Endpoint: a.Endpoint}
		},
		fake: func() *fake {
			s := douyintest.NewServer()
			return bytedanceFake(s.URL, s.ClientKey, s.ClientSecret, s.Close, douyintest.APIPath)
		},
	},
	{
		name:       "toutiao",
		title:      "Toutiao",
		idParam:    "client_key",
		needSecret: true,
		scopes:     []string{"user_info"},
		endpoint:   toutiao.Endpoint,
		page:       "Toutiao shows a QR code: scan it with the Toutiao app and approve",
		newFlow: func(a *app) flow {
			return &toutiao.Config{ClientKey: a.ClientID, ClientSecret: a.ClientSecret, RedirectURL: a.RedirectURL, Scopes: a.Scopes, Endpoint: a.Endpoint}
		},
		fake: func() *fake {
			s := toutiaotest.NewServer()
			return bytedanceFake(s.URL, s.ClientKey, s.ClientSecret, s.Close, toutiaotest.APIPath)
		},
	},
	{
		name:     "fantem",
		title:    "Fantem gateway",
		idParam:  "client_id",
		endpoint: fantem.Endpoint,
		page:     "sign in to the gateway and allow access",
		newFlow: func(a *app) flow {
			return &fantem.Config{ClientID: a.ClientID, ClientSecret: a.ClientSecret, RedirectURL: a.RedirectURL, Scopes: a.Scopes, Endpoint: a.Endpoint}
		},
		fake: func() *fake {
			s := fantemtest.NewServer()
			return &fake{url: s.URL, clientID: s.ClientID, clientSecret: s.ClientSecret, close: s.Close, api: fantemAPI(s.URL + fantemtest.APIPath)}
		},
	},
}

func (c *cli) providerNames() []string {
	names := make([]string, len(c.providers))
	for i, p := range c.providers {
		names[i] = p.name
	}
	return names
}

func (c *cli) lookup(name string) (*provider, error) {
	for _, p := range c.providers {
		if p.name == name {
			return p, nil
		}
	}
	return nil, usageErrorf("unknown provider %q: use one of %s", name, strings.Join(c.providerNames(), ", "))
}

// env returns the name of the provider's environment variable for what
// ("CLIENT_SECRET").
func (p *provider) env(what string) string {
	return "OAUTH2X_" + strings.ToUpper(p.name) + "_" + what
}

// idEnv is the environment variable of the client id.
func (p *provider) idEnv() string { return p.env(strings.ToUpper(p.idParam)) }

// idFlag is the flag that names the client id, as the provider calls it.
func (p *provider) idFlag() string { return "--" + strings.ReplaceAll(p.idParam, "_", "-") }

// endpointOn returns the provider's endpoint with its paths on base
// (scheme, host and an optional path prefix).
func (p *provider) endpointOn(base string) (oauth2.Endpoint, error) {
	b, err := url.Parse(base)
	if err != nil || (b.Scheme != "http" && b.Scheme != "https") || b.Host == "" || b.RawQuery != "" {
		return oauth2.Endpoint{}, usageErrorf("%s: the endpoint must be an http:// or https:// URL of a host, such as https://sandbox.example", p.name)
	}
	on := func(prod string) string {
		u, _ := url.Parse(prod)
		return strings.TrimRight(b.String(), "/") + u.Path
	}
	return oauth2.Endpoint{AuthURL: on(p.endpoint.AuthURL), TokenURL: on(p.endpoint.TokenURL)}, nil
}

// bytedanceFake describes a running fake of the ByteDance platform at
// base, whose API is at apiPath.
func bytedanceFake(base, key, secret string, close func(), apiPath string) *fake {
	return &fake{url: base, clientID: key, clientSecret: secret, close: close, api: bytedanceAPI(base + apiPath)}
}

// bytedanceAPI calls the API of a ByteDance platform fake, which answers
// whose token it was sent and in which header.
func bytedanceAPI(apiURL string) func(ctx context.Context, c *http.Client) (string, error) {
	return func(ctx context.Context, c *http.Client) (string, error) {
		var a douyintest.APIAnswer // Toutiao's is the same
		if err := getJSON(ctx, c, apiURL, &a); err != nil {
			return "", err
		}
		if a.Data.ErrorCode != 0 {
			return "", fmt.Errorf("API refused the token: error %d %q", a.Data.ErrorCode, a.Data.Description)
		}
		return fmt.Sprintf("token accepted from the %s header, user %s", a.Data.Header, a.Data.OpenID), nil
	}
}

// fantemAPI calls the API of a fake Fantem gateway, which answers whose
// bearer token it was sent.
func fantemAPI(apiURL string) func(ctx context.Context, c *http.Client) (string, error) {
	return func(ctx context.Context, c *http.Client) (string, error) {
		var a fantemtest.APIAnswer
		if err := getJSON(ctx, c, apiURL, &a); err != nil {
			return "", err
		}
		if a.Error != "" || a.User == "" {
			return "", fmt.Errorf("API refused the token: %q", a.Error)
		}
		return "bearer token accepted, user " + a.User, nil
	}
}

// getJSON GETs u with c and decodes the JSON answer into v.
func getJSON(ctx context.Context, c *http.Client, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return errors.New("API answered " + resp.Status)
	}
	return json.Unmarshal(body, v)
}
