// Package bridge lets programs that use a plain *oauth2.Config (or
// clientcredentials.Config) talk to a provider whose token API is not RFC
// 6749. It is an *http.Client for the context key oauth2.HTTPClient: x/oauth2's
// token requests to the provider's token URLs are answered by the
// provider's own Config methods, which speak its dialect, and the answers
// go back to x/oauth2 as RFC 6749 JSON. Every other request passes through
// untouched.
package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/internal/wire"
)

// Flow is what a provider's Config does for the bridge.
type Flow interface {
	Exchange(ctx context.Context, code string, opts ...oauth2.AuthCodeOption) (*oauth2.Token, error)
	Refresh(ctx context.Context, t *oauth2.Token) (*oauth2.Token, error)
}

// ClientTokener is a [Flow] that also answers the client_credentials grant.
type ClientTokener interface {
	ClientToken(ctx context.Context) (*oauth2.Token, error)
}

// Provider describes one provider to the bridge.
type Provider struct {
	// Name prefixes errors: "douyin".
	Name string
	// TokenURLs are the URLs whose RFC 6749 token requests are translated.
	// Only scheme, host and path are compared.
	TokenURLs []string
	// For returns the provider's Config for the client id and secret that
	// a request carries.
	For func(clientID, clientSecret string) Flow
}

// maxRequest caps how much of a token request is read.
const maxRequest = 64 << 10

// Client returns a copy of base (nil: wire.DefaultClient) whose transport
// answers p's token requests and passes every other request to base's
// transport. Provider calls are made with base itself. The client is safe
// for concurrent use.
func Client(base *http.Client, p *Provider) *http.Client {
	if base == nil {
		base = wire.DefaultClient
	}
	t := &transport{p: p, base: base, urls: make(map[string]bool, len(p.TokenURLs))}
	for _, raw := range p.TokenURLs {
		if u, err := url.Parse(raw); err == nil {
			t.urls[key(u)] = true
		}
	}
	c := *base
	c.Transport = t
	return &c
}

// transport is the bridge's http.RoundTripper. It is safe for concurrent
// use; it holds no mutable state.
type transport struct {
	p    *Provider
	base *http.Client
	urls map[string]bool // key() of each token URL
}

func key(u *url.URL) string {
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host) + u.Path
}

// RoundTrip answers an x/oauth2 token request to one of the provider's
// token URLs, and passes everything else on.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ct, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if req.Method != http.MethodPost || ct != "application/x-www-form-urlencoded" || req.Body == nil || !t.urls[key(req.URL)] {
		return t.pass(req)
	}
	body, err := wire.ReadCapped(req.Body, maxRequest)
	req.Body.Close()
	if err != nil {
		return nil, errors.New(t.p.Name + ": bridge: reading the token request: " + err.Error())
	}
	form, err := url.ParseQuery(string(body))
	id, secret := credentials(req, form)
	if err != nil || form.Get("grant_type") == "" || id == "" {
		// Not x/oauth2's: the provider's own dialect (a Config with this
		// client in its context) goes through as it is.
		r2 := req.Clone(req.Context())
		r2.Body = io.NopCloser(bytes.NewReader(body))
		r2.ContentLength = int64(len(body))
		return t.pass(r2)
	}
	ctx := context.WithValue(req.Context(), oauth2.HTTPClient, t.base)
	tok, err := t.grant(ctx, t.p.For(id, secret), form)
	if err != nil {
		var e *oauth2x.Error
		if req.Context().Err() != nil || (errors.As(err, &e) && e.Status == 0 && (e.Kind == nil || e.Kind == wire.ErrTemporary)) {
			return nil, err // no answer came: as if the network failed
		}
		return errorResponse(req, err), nil
	}
	return tokenResponse(req, tok), nil
}

func (t *transport) pass(req *http.Request) (*http.Response, error) {
	base := t.base.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(req)
}

// credentials reads the client id and secret from HTTP Basic auth, where
// x/oauth2 query-escapes them, or from the form.
func credentials(req *http.Request, form url.Values) (id, secret string) {
	if u, p, ok := req.BasicAuth(); ok {
		id, err1 := url.QueryUnescape(u)
		secret, err2 := url.QueryUnescape(p)
		if err1 == nil && err2 == nil {
			return id, secret
		}
		return u, p
	}
	return form.Get("client_id"), form.Get("client_secret")
}

// errUnsupported is the cause for a grant type the provider does not have.
var errUnsupported = errors.New("grant type not supported by the provider")

func (t *transport) grant(ctx context.Context, f Flow, form url.Values) (*oauth2.Token, error) {
	switch gt := form.Get("grant_type"); gt {
	case "authorization_code":
		var opts []oauth2.AuthCodeOption
		for k, vs := range form {
			switch k {
			case "grant_type", "code", "client_id", "client_secret":
			default:
				opts = append(opts, oauth2.SetAuthURLParam(k, vs[0]))
			}
		}
		return f.Exchange(ctx, form.Get("code"), opts...)
	case "refresh_token":
		return f.Refresh(ctx, &oauth2.Token{RefreshToken: form.Get("refresh_token")})
	case "client_credentials":
		if c, ok := f.(ClientTokener); ok {
			return c.ClientToken(ctx)
		}
		fallthrough
	default:
		return nil, &oauth2x.Error{Provider: t.p.Name, Op: "bridge", Kind: wire.ErrInvalidRequest, Code: "unsupported_grant_type",
			Cause: errors.New(strconv.Quote(gt) + ": " + errUnsupported.Error())}
	}
}

// errorResponse turns err into an RFC 6749 error answer: the code and
// status of its kind (wire.RFCCode), the kind itself in "error_kind" so that
// oauth2x.KindOf gives back exactly the kind a direct call would have (an
// unclassified refusal or a malformed answer has no RFC code of its own),
// and as description the error's own text, redacted, with the provider's
// code and log id, less the kind's advice.
func errorResponse(req *http.Request, err error) *http.Response {
	kind := wire.KindOf(err)
	code, status := wire.RFCCode(kind)
	body := map[string]any{"error": code, "error_description": err.Error()}
	if name := wire.KindName(kind); name != "" {
		body["error_kind"] = name
	}
	var e *oauth2x.Error
	if errors.As(err, &e) {
		d := *e
		d.Kind = nil
		body["error_description"] = d.Error()
		if e.Code == "unsupported_grant_type" {
			body["error"] = e.Code
		} else if e.Code != "" && e.Code != code {
			body["provider_code"] = e.Code
		}
		if e.LogID != "" {
			body["log_id"] = e.LogID
		}
	}
	return jsonResponse(req, status, body)
}

// tokenResponse turns t into an RFC 6749 token answer, with its extras.
func tokenResponse(req *http.Request, t *oauth2.Token) *http.Response {
	body := map[string]any{"access_token": t.AccessToken, "token_type": t.Type()}
	for _, k := range wire.ExtraKeys {
		if v := t.Extra(k); v != nil {
			body[k] = v
		}
	}
	if t.RefreshToken != "" {
		body["refresh_token"] = t.RefreshToken
	}
	if !t.Expiry.IsZero() {
		secs := t.ExpiresIn
		if secs <= 0 {
			secs = int64(time.Until(t.Expiry) / time.Second)
		}
		body["expires_in"] = max(secs, 1)
	}
	return jsonResponse(req, http.StatusOK, body)
}

func jsonResponse(req *http.Request, status int, v any) *http.Response {
	b, _ := json.Marshal(v) // maps of strings and numbers always encode
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	return &http.Response{
		Status:        strconv.Itoa(status) + " " + http.StatusText(status),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(b)),
		ContentLength: int64(len(b)),
		Request:       req,
	}
}
