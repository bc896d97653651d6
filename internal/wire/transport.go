package wire

import (
	"context"
	"errors"
	"net/http"

	"golang.org/x/oauth2"
)

// HeaderTransport sends the access token from Source in the header named
// Header, after Scheme: "access-token: act.…" with no scheme, or
// "Authorization: Bearer …". Unlike oauth2.Transport, it waits for a
// refresh only as long as the request's context allows, when Source is a
// ContextSource. It is safe for concurrent use when Source is.
type HeaderTransport struct {
	Source oauth2.TokenSource
	Base   http.RoundTripper // nil: http.DefaultTransport
	Header string
	Scheme string // "Bearer", or empty for the bare token
}

// RoundTrip implements http.RoundTripper. Per its contract it does not
// modify req; it sends a clone with the header set.
func (t *HeaderTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, err := t.token(req)
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	r2 := req.Clone(req.Context()) // shares req.Body, which base now owns
	if t.Scheme != "" {
		r2.Header.Set(t.Header, t.Scheme+" "+tok.AccessToken)
	} else {
		r2.Header.Set(t.Header, tok.AccessToken)
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(r2)
}

// ContextSource is a token source whose waits can be bounded by a context.
type ContextSource interface {
	TokenContext(ctx context.Context) (*oauth2.Token, error)
}

func (t *HeaderTransport) token(req *http.Request) (*oauth2.Token, error) {
	switch s := t.Source.(type) {
	case nil:
		return nil, errors.New("oauth2x: transport has no token source")
	case ContextSource:
		return s.TokenContext(req.Context())
	default:
		return s.Token()
	}
}
