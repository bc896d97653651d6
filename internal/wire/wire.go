package wire

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// MaxBody caps how much of a token endpoint's answer is read. Real answers
// are well under 4 KiB; a larger one is an error, never a truncated parse.
const MaxBody = 1 << 20

// Encoding says how a request's parameters travel.
type Encoding int

const (
	Form      Encoding = iota // POST application/x-www-form-urlencoded
	JSON                      // POST application/json, every value a string
	Multipart                 // POST multipart/form-data
)

// Param is one request parameter; order is kept so requests are reproducible.
type Param struct{ Key, Value string }

// Request is one token call, described by a provider package.
type Request struct {
	Provider string // names the provider in errors: "douyin"
	Op       string // names the call in errors: "refresh"
	URL      string // the token endpoint
	Encoding Encoding
	Params   []Param
	// Secrets are values that must never appear in an error: the client
	// secret, the code, the tokens. Empty strings are ignored. The values
	// of Params whose keys name a secret ([Sensitive]: the code_verifier
	// of PKCE among them) count as secrets whether listed here or not.
	Secrets []string
	// NoAccessToken allows an answer without an access token (Douyin's
	// renew answers carry only a refresh token; its decoder keeps the old
	// access token).
	NoAccessToken bool
	// Method is "GET" or, when empty, "POST". A GET sends Params in the
	// query, so they must hold no secret.
	Method string
	// Header is added to the request: an API's "Authorization".
	Header http.Header
	// BasicID and BasicSecret, when BasicID is set, go in an HTTP Basic
	// Authorization header, query-escaped first as RFC 6749 2.3.1 (and
	// x/oauth2) do. BasicSecret counts as a secret.
	BasicID, BasicSecret string
}

// Decoder turns an answer into a token or a classified error. It sees the
// whole (capped) body; it fills in Kind, Code, Description and LogID of the
// error, and the engine fills in the rest.
type Decoder func(status int, body []byte) (*oauth2.Token, *Error)

// DefaultClient is used when the context carries no oauth2.HTTPClient. It
// has a timeout, unlike http.DefaultClient.
var DefaultClient = &http.Client{Timeout: 30 * time.Second}

// ContextClient returns the *http.Client under oauth2.HTTPClient in ctx, or
// DefaultClient.
func ContextClient(ctx context.Context) *http.Client {
	if ctx != nil {
		if c, ok := ctx.Value(oauth2.HTTPClient).(*http.Client); ok && c != nil {
			return c
		}
	}
	return DefaultClient
}

// noRedirect is the client's redirect policy for token calls: a token
// endpoint never redirects, and following a 307 would re-send the client
// secret in the body to wherever it points.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// formEncode writes params as url.Values.Encode does (keys sorted, each
// key's values in their order, query-escaped), without building the
// url.Values map: 1 allocation instead of 9.
func formEncode(params []Param) []byte {
	var sorted [8]Param
	ps := append(sorted[:0], params...)
	slices.SortStableFunc(ps, func(a, b Param) int { return strings.Compare(a.Key, b.Key) })
	n := 0
	for _, p := range ps {
		n += len(p.Key) + len(p.Value) + 2
	}
	b := make([]byte, 0, n+n/2)
	for i, p := range ps {
		if i > 0 {
			b = append(b, '&')
		}
		b = append(b, url.QueryEscape(p.Key)...)
		b = append(b, '=')
		b = append(b, url.QueryEscape(p.Value)...)
	}
	return b
}

// Encode builds the body and content type of r.
func (r *Request) Encode() (body []byte, contentType string, err error) {
	switch r.Encoding {
	case Form:
		return formEncode(r.Params), "application/x-www-form-urlencoded", nil
	case JSON:
		m := make(map[string]string, len(r.Params))
		for _, p := range r.Params {
			m[p.Key] = p.Value
		}
		b, err := json.Marshal(m)
		return b, "application/json", err
	case Multipart:
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		for _, p := range r.Params {
			if err := w.WriteField(p.Key, p.Value); err != nil {
				return nil, "", err
			}
		}
		if err := w.Close(); err != nil {
			return nil, "", err
		}
		return buf.Bytes(), w.FormDataContentType(), nil
	}
	return nil, "", fmt.Errorf("unknown encoding %d", r.Encoding)
}

// Do performs r and decodes the answer with decode. It returns a token
// with a non-empty access token, or an *Error passed through [Export];
// never both, never neither. Every token it returns is of RFC 6750 syntax
// (see [CheckToken]).
func Do(ctx context.Context, r *Request, decode Decoder) (*oauth2.Token, error) {
	t, e := do(ctx, r, decode)
	if e != nil {
		if e.Retrieve != nil {
			e.Retrieve.ErrorCode, e.Retrieve.ErrorDescription = e.retrieveCode(), e.Detail()
		}
		return nil, Export(e)
	}
	return t, nil
}

func do(ctx context.Context, r *Request, decode Decoder) (*oauth2.Token, *Error) {
	// The secrets are gathered only for an error: a call that succeeds
	// needs none (5 of a refresh's 72 allocations).
	fail := func(kind error, status int, cause error) *Error {
		return &Error{Provider: r.Provider, Op: r.Op, Kind: kind, Status: status, Cause: redactErr(cause, r.secrets())}
	}
	body, ctype, err := r.Encode()
	if err != nil {
		return nil, fail(ErrInvalidRequest, 0, err)
	}
	client, reqCtx, cancel := SafeClient(ctx)
	defer cancel()
	method, target, reqBody := http.MethodPost, r.URL, io.Reader(bytes.NewReader(body))
	if r.Method == http.MethodGet {
		method, target, reqBody = r.Method, r.URL+"?"+string(body), nil
	}
	req, err := http.NewRequestWithContext(reqCtx, method, target, reqBody)
	if err != nil {
		return nil, fail(ErrInvalidClient, 0, errors.New("bad token URL: "+redact(err.Error(), r.secrets())))
	}
	maps.Copy(req.Header, r.Header)
	if reqBody != nil {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept", "application/json")
	if r.BasicID != "" {
		req.SetBasicAuth(url.QueryEscape(r.BasicID), url.QueryEscape(r.BasicSecret))
	}

	resp, err := client.Do(req)
	if err != nil {
		return nil, fail(transportKind(ctx, err), 0, err)
	}
	defer resp.Body.Close()
	data, err := ReadCapped(resp.Body, MaxBody)
	if err != nil {
		kind := transportKind(ctx, err)
		if errors.Is(err, ErrTooLarge) {
			kind = ErrBadResponse
		}
		return nil, answered(fail(kind, resp.StatusCode, err), resp)
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return nil, answered(fail(ErrBadResponse, resp.StatusCode, fmt.Errorf("endpoint redirected to %q; not followed", redactURL(resp.Header.Get("Location"), r.secrets()))), resp)
	}
	tok, e := decode(resp.StatusCode, data)
	if e == nil && (tok == nil || (tok.AccessToken == "" && !r.NoAccessToken)) {
		e = &Error{Kind: ErrBadResponse, Cause: errors.New("answer carries no access token")}
	}
	if e == nil {
		e = CheckToken(tok)
	}
	if e != nil {
		e.Provider, e.Op, e.Status = r.Provider, r.Op, resp.StatusCode
		if e.Kind == nil {
			e.Kind = kindForStatus(resp.StatusCode)
		}
		// A malformed answer may still carry tokens: they are secrets too.
		e.clean(resp, data, r.secrets())
		return nil, e
	}
	return tok, nil
}

// secrets are r's Secrets and the values of its parameters that name a
// secret (see [Sensitive]): whatever a provider package listed, the
// verifier, code, tokens and client secret a request carries never reach
// an error.
func (r *Request) secrets() []string {
	s := append(slices.Clone(r.Secrets), r.BasicSecret)
	for _, p := range r.Params {
		if Sensitive(p.Key) {
			s = append(s, p.Value)
		}
	}
	return s
}

// SafeClient returns the client for a token call under ctx (see
// [ContextClient]) made safe for it, without changing the caller's: a copy
// that follows no redirect, and a context bounded by DefaultClient's
// timeout when neither ctx nor the client bounds the call. cancel releases
// the context's timer.
func SafeClient(ctx context.Context) (client *http.Client, callCtx context.Context, cancel context.CancelFunc) {
	c := *ContextClient(ctx)
	c.CheckRedirect = noRedirect
	if _, ok := ctx.Deadline(); !ok && c.Timeout == 0 {
		// Neither the caller nor the client bounds the call: a token
		// endpoint that drips its answer must not hang the caller forever.
		callCtx, cancel = context.WithTimeout(ctx, DefaultClient.Timeout)
		return &c, callCtx, cancel
	}
	return &c, ctx, func() {}
}

// transportKind classifies an error that happened before a full answer
// arrived: the caller's own cancellation has no kind, anything else is
// temporary.
func transportKind(ctx context.Context, err error) error {
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return nil
	}
	return ErrTemporary
}

// kindForStatus classifies an answer whose body said nothing usable.
func kindForStatus(status int) error {
	switch {
	case status == http.StatusTooManyRequests:
		return ErrRateLimited
	case status >= 500:
		return ErrTemporary
	case status == http.StatusUnauthorized:
		return ErrInvalidClient
	default:
		return ErrBadResponse
	}
}

// answered attaches the response to an error about an answer whose body
// could not be used (too large, cut short, a redirect), so that errors.As
// with *oauth2.RetrieveError still gives the status; its Body is empty.
func answered(e *Error, resp *http.Response) *Error {
	e.Retrieve = &oauth2.RetrieveError{Response: SafeResponse(resp)}
	return e
}

// ErrTooLarge is the cause when an answer exceeds MaxBody.
var ErrTooLarge = fmt.Errorf("answer larger than %d bytes", MaxBody)

// ReadCapped reads all of r, failing with ErrTooLarge past limit bytes.
func ReadCapped(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, ErrTooLarge
	}
	return data, nil
}

// SafeResponse returns a copy of resp fit to travel in an error: its body
// is drained, and its request keeps method and URL (query dropped) but no
// body, no way to replay one, and no headers (Authorization carries the
// client secret in HTTP Basic).
func SafeResponse(resp *http.Response) *http.Response {
	if resp == nil {
		return nil
	}
	safe := *resp
	safe.Body = http.NoBody
	if req := resp.Request; req != nil {
		r := &http.Request{Method: req.Method, Proto: req.Proto, ProtoMajor: req.ProtoMajor, ProtoMinor: req.ProtoMinor, Header: http.Header{}, Host: req.Host, Body: http.NoBody}
		if req.URL != nil {
			u := *req.URL
			u.RawQuery, u.Fragment, u.User = "", "", nil
			r.URL = &u
		}
		safe.Request = r
	}
	return &safe
}
