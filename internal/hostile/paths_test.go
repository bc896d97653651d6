package hostile_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/internal/hostile"
)

// cannedTransport answers every request in memory with status and body,
// and records whether each request's context had a deadline.
type cannedTransport struct {
	status int
	body   string
	mu     sync.Mutex // guards the fields below
	seen   int
	bound  int // requests whose context had a deadline
}

func (c *cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	c.mu.Lock()
	c.seen++
	if _, ok := r.Context().Deadline(); ok {
		c.bound++
	}
	c.mu.Unlock()
	return &http.Response{
		Status: fmt.Sprint(c.status), StatusCode: c.status, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(c.body)),
		ContentLength: -1, Request: r,
	}, nil
}

// offlineKit is a kit whose calls never leave the process: its endpoint
// is only a name, and the context's client answers.
func offlineKit() kit {
	return kit{
		endpoint: oauth2.Endpoint{AuthURL: "http://hostile.invalid/oauth/authorize", TokenURL: "http://hostile.invalid/oauth/access_token/"},
		id:       "ck", secret: "offline-client-secret",
		code: func() string { return "offline-code" },
		tok:  &oauth2.Token{AccessToken: "act.offline", RefreshToken: "rft.offline", Expiry: time.Now().Add(time.Hour)},
	}
}

// TestEveryCallIsBounded gives every call of every path a context without
// a deadline and a client without a timeout: the request still goes out
// under a deadline (the default client's 30 seconds), so a token endpoint
// that never answers cannot hang the caller.
func TestEveryCallIsBounded(t *testing.T) {
	for _, p := range providers {
		ct := &cannedTransport{status: 200, body: `{"access_token":"act.fine","expires_in":10,"data":{"access_token":"act.fine","expires_in":10,"error_code":0}}`}
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: ct})
		for _, c := range p.calls(offlineKit()) {
			before := ct.seen
			c.do(ctx)
			ct.mu.Lock()
			seen, bound := ct.seen-before, ct.bound
			ct.mu.Unlock()
			if seen == 0 {
				t.Errorf("%s %s: no request went out", p.name, c.op)
			}
			if bound != ct.seen {
				t.Errorf("%s %s: a request went out with no deadline, under a client with no timeout", p.name, c.op)
			}
		}
	}
}

// maxCleaning bounds what one call may allocate on a hostile answer: a
// small multiple of the answer, plus a fixed allowance for the call itself.
func maxCleaning(body int) uint64 { return 8*uint64(body) + 512<<10 }

// TestHostileMemory measures what one call of every path allocates on
// every hostile answer, answered in memory so that only the call is
// counted: cleaning an answer (decoding, scrubbing, redacting, keeping
// its description) must cost a small multiple of its size.
func TestHostileMemory(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's own allocations would be counted")
	}
	answers := append(append([]hostile.Sample{}, hostile.Answers...),
		hostile.Sample{Name: "many token values", Status: 200, Body: hostile.ManyTokens()},
		hostile.Sample{Name: "deep brackets", Status: 400, Body: hostile.DeepBrackets()},
		hostile.Sample{Name: "long description", Status: 400, Body: hostile.LongDescription()})
	for _, p := range providers {
		var peak uint64
		var peakAt string
		for _, c := range p.calls(offlineKit()) {
			for _, a := range answers {
				ct := &cannedTransport{status: a.Status, body: a.Body}
				ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: ct})
				var ms runtime.MemStats
				least := ^uint64(0)
				for range 2 {
					runtime.ReadMemStats(&ms)
					before := ms.TotalAlloc
					c.do(ctx)
					runtime.ReadMemStats(&ms)
					least = min(least, ms.TotalAlloc-before)
				}
				if least > maxCleaning(len(a.Body)) {
					t.Errorf("%s %s %q: %d bytes allocated for a %d-byte answer, more than %d", p.name, c.op, a.Name, least, len(a.Body), maxCleaning(len(a.Body)))
				}
				if least > peak {
					peak, peakAt = least, fmt.Sprintf("%s %q (%d-byte answer)", c.op, a.Name, len(a.Body))
				}
			}
		}
		t.Logf("%s: peak %d bytes allocated by one call, at %s", p.name, peak, peakAt)
	}
}

// TestNonJSON400GrantStaysAlive puts a proxy's HTML 400 page, then a healthy
// endpoint, in front of every refreshing path, through a token source
// with no store: the 400 is a bad response, not a dead grant, so once the
// endpoint is healthy the next call after the backoff refreshes upstream
// and succeeds.
func TestNonJSON400GrantStaysAlive(t *testing.T) {
	for _, p := range providers {
		for _, body := range []string{"<html><body><center>400 Bad Request</center><hr><center>nginx</center></body></html>", "Bad Request"} {
			t.Run(p.name+"/"+body[:5], func(t *testing.T) {
				sc := newScanner()
				base := context.WithValue(context.Background(), oauth2.HTTPClient, sc.client(&http.Client{}))
				h := p.fake(t, sc, base)
				var refresh *call
				for _, c := range p.calls(h.kit) {
					if c.op == "refresh" {
						refresh = &c
						break
					}
				}
				var upstream atomic.Int32
				h.hook(func(path string) {
					if path == refresh.path {
						upstream.Add(1)
					}
				})
				clk := newClock()
				expired := *h.tok
				expired.Expiry = clk.now().Add(-time.Minute)
				src := oauth2x.NewTokenSource(base, oauth2x.RefresherFunc(func(ctx context.Context, _ *oauth2.Token) (*oauth2.Token, error) {
					return refresh.do(ctx)
				}), &expired, &oauth2x.Options{Now: clk.now, OnError: func(error) {}})

				h.inject(refresh.path, http.StatusBadRequest, body)
				_, err := src.Token()
				if errors.Is(err, oauth2x.ErrInvalidGrant) || !errors.Is(err, oauth2x.ErrBadResponse) {
					t.Fatalf("a 400 without a code: %v; want a bad response, not a dead grant", err)
				}
				sc.check(t, "400 page", err)
				clk.add(time.Hour) // past any backoff
				before := upstream.Load()
				tok, err := src.Token()
				if err != nil {
					t.Fatalf("endpoint healthy again: %v", err)
				}
				if upstream.Load() == before {
					t.Errorf("no upstream refresh after the endpoint recovered")
				}
				sc.addToken(tok)
			})
		}
	}
}
