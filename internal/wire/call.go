package wire

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"golang.org/x/oauth2"
)

// Call performs r, a call of a provider's API made with a user's token
// (user info, revoke) rather than a token call, and decodes the answer
// with decode. It returns nil or an *Error, classified, redacted and
// bounded exactly as a token call's.
func Call(ctx context.Context, r *Request, decode func(status int, body []byte) *Error) error {
	rr := *r
	rr.NoAccessToken = true
	_, err := Do(ctx, &rr, func(status int, body []byte) (*oauth2.Token, *Error) {
		if e := decode(status, body); e != nil {
			return nil, e
		}
		return &oauth2.Token{}, nil
	})
	return err
}

// Invalidator is a token source that can be told the provider refused one
// of its access tokens, so that its next Token refreshes. ReuseSource's
// sources are.
type Invalidator interface {
	Invalidate(accessToken string)
}

// MaxPeek is how much of an API answer RetryTransport reads to tell
// whether it refuses the access token; error answers are far smaller.
const MaxPeek = 64 << 10

// RetryTransport is a HeaderTransport that, when an answer says the
// access token is invalid or expired (Invalid, given the status and up to
// [MaxPeek] bytes of the body), tells its Source (an [Invalidator]) and
// sends the request once more with the token the Source refreshes. The
// refreshed token, rotated refresh token included, stays in the Source.
// A Source that is no Invalidator, or a request whose body cannot be sent
// twice (no GetBody), gets no retry: the answer is handed back as it came.
type RetryTransport struct {
	HeaderTransport
	Invalid func(status int, body []byte) bool
}

// RoundTrip implements http.RoundTripper.
func (t *RetryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	inv, ok := t.Source.(Invalidator)
	if !ok || t.Invalid == nil || (req.Body != nil && req.Body != http.NoBody && req.GetBody == nil) {
		return t.HeaderTransport.RoundTrip(req)
	}
	tok, err := t.token(req)
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	once := t.HeaderTransport
	once.Source = oauth2.StaticTokenSource(tok)
	resp, err := once.RoundTrip(req)
	if err != nil || !t.Invalid(resp.StatusCode, peek(resp)) {
		return resp, err
	}
	retry := req.Clone(req.Context())
	if req.GetBody != nil {
		if retry.Body, err = req.GetBody(); err != nil {
			return resp, nil
		}
	}
	resp.Body.Close()
	inv.Invalidate(tok.AccessToken)
	return t.HeaderTransport.RoundTrip(retry)
}

// peek returns up to MaxPeek bytes of resp's body and leaves the body
// whole for the caller. A body longer than that, or one that is neither
// JSON nor text (a video, an image), is no token error: nil, and nothing
// is read, so large and streamed answers pass through untouched.
func peek(resp *http.Response) []byte {
	if resp.ContentLength > MaxPeek || !textual(resp.Header.Get("Content-Type")) {
		return nil
	}
	head, err := io.ReadAll(io.LimitReader(resp.Body, MaxPeek+1))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	if err != nil || len(head) > MaxPeek {
		return nil
	}
	return head
}

// FromSource calls call with src's token. When call fails with
// ErrInvalidToken and src is an [Invalidator], it tells src, and calls
// once more with the token src then refreshes, which stays in src.
func FromSource[U any](ctx context.Context, src oauth2.TokenSource, call func(*oauth2.Token) (U, error)) (U, error) {
	var zero U
	token := func() (*oauth2.Token, error) {
		if cs, ok := src.(ContextSource); ok {
			return cs.TokenContext(ctx)
		}
		return src.Token()
	}
	t, err := token()
	if err != nil {
		return zero, err
	}
	u, err := call(t)
	inv, ok := src.(Invalidator)
	if !ok || !errors.Is(err, ErrInvalidToken) {
		return u, err
	}
	inv.Invalidate(t.AccessToken)
	if t, err = token(); err != nil {
		return zero, err
	}
	return call(t)
}

// textual reports whether an answer of content type ct may be a token
// error: JSON, text, or unlabelled.
func textual(ct string) bool {
	mt, _, _ := mime.ParseMediaType(ct)
	return ct == "" || strings.HasPrefix(mt, "text/") || strings.HasSuffix(mt, "json")
}
