// Package oauthtest holds what the fakes of every provider share.
package oauthtest

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync"
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

// Recorder is what every fake keeps about the requests it gets: calls and
// client secrets seen per path, a test's hook, and answers queued by the
// test. Fakes embed it. It is safe for concurrent use; the zero value is
// ready.
type Recorder struct {
	mu      sync.Mutex // guards the fields below
	hook    func(path string)
	calls   map[string]int
	secrets map[string]int
	canned  map[string][]Canned
}

// Canned is an answer queued for a path: Status and Body verbatim, or,
// when Body and Status are empty, a provider error Code with Desc.
type Canned struct {
	Status int
	Body   string
	Code   int
	Desc   string
}

// SetHook sets a function called at the start of every request with its
// path, outside the fake's lock; a test can block in it to hold a call.
func (r *Recorder) SetHook(h func(path string)) { r.mu.Lock(); r.hook = h; r.mu.Unlock() }

// Calls returns how many requests reached path.
func (r *Recorder) Calls(path string) int { r.mu.Lock(); defer r.mu.Unlock(); return r.calls[path] }

// SecretsSeen returns how many requests to path carried client_secret.
func (r *Recorder) SecretsSeen(path string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.secrets[path]
}

// RespondNext makes the next call to path answer status and body verbatim.
func (r *Recorder) RespondNext(path string, status int, body string) {
	r.QueueAnswer(path, Canned{Status: status, Body: body})
}

// QueueAnswer queues c as the answer to the next call to path.
func (r *Recorder) QueueAnswer(path string, c Canned) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.canned == nil {
		r.canned = map[string][]Canned{}
	}
	r.canned[path] = append(r.canned[path], c)
}

// CountCall counts a request to path and runs the hook, outside any lock.
func (r *Recorder) CountCall(path string) {
	r.mu.Lock()
	if r.calls == nil {
		r.calls = map[string]int{}
	}
	r.calls[path]++
	h := r.hook
	r.mu.Unlock()
	if h != nil {
		h(path)
	}
}

// CountSecret counts a request to path that carried client_secret.
func (r *Recorder) CountSecret(path string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.secrets == nil {
		r.secrets = map[string]int{}
	}
	r.secrets[path]++
}

// TakeAnswer returns and removes the answer queued for path, if any.
func (r *Recorder) TakeAnswer(path string) (Canned, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	q := r.canned[path]
	if len(q) == 0 {
		return Canned{}, false
	}
	r.canned[path] = q[1:]
	return q[0], true
}

// DeleteWhere deletes from each map the entries whose value matches, as a
// fake does when a user revokes access.
func DeleteWhere[G any](match func(G) bool, maps ...map[string]G) {
	for _, m := range maps {
		for k, g := range m {
			if match(g) {
				delete(m, k)
			}
		}
	}
}

// Gate holds the first request to one path until n callers have said they
// have started, so that they pile up on one refresh. Later requests pass at
// once: a second refresh, if a regression makes one, is counted by the
// test instead of hanging it.
type Gate struct {
	path    string
	n       int
	started chan struct{}
	once    sync.Once
}

// NewGate returns a Gate for n callers on path.
func NewGate(path string, n int) *Gate {
	return &Gate{path: path, n: n, started: make(chan struct{}, n)}
}

// Started is called by each caller just before it asks for a token.
func (g *Gate) Started() { g.started <- struct{}{} }

// Hook is the fake's hook (SetHook).
func (g *Gate) Hook(path string) {
	if path != g.path {
		return
	}
	g.once.Do(func() {
		for range g.n {
			<-g.started
		}
	})
}
