package oauthtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x/internal/wire"
)

// Rotating is an RFC 6749 token endpoint for many users' tokens that
// rotates every refresh token, as Douyin does: each refresh answers a new
// refresh token and kills the one it was given. It counts refreshes per
// key, and counts as reused every refresh that presents a refresh token
// that is no longer live (a rotated token was lost, or two refreshes raced)
// and answers it invalid_grant. A key's tokens are "at.<key>.<n>" and
// "rt.<key>.<n>". Keys in Revoked answer invalid_grant. It is safe for
// concurrent use.
type Rotating struct {
	// Life is the lifetime of issued access tokens. Zero means one hour.
	Life time.Duration

	mu        sync.Mutex // guards the fields below
	live      map[string]int
	refreshes map[string]int
	reused    int
	revoked   map[string]bool
}

// NewRotating returns an empty Rotating endpoint.
func NewRotating() *Rotating {
	return &Rotating{live: map[string]int{}, refreshes: map[string]int{}, revoked: map[string]bool{}}
}

// Grant makes key a user of the endpoint and returns its first token
// (generation 0), expiring at expiry.
func (r *Rotating) Grant(key string, expiry time.Time) *oauth2.Token {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.live[key] = 0
	return &oauth2.Token{AccessToken: "at." + key + ".0", RefreshToken: "rt." + key + ".0", TokenType: "Bearer", Expiry: expiry}
}

// Revoke makes key's grant dead: its refreshes answer invalid_grant.
func (r *Rotating) Revoke(key string) { r.mu.Lock(); r.revoked[key] = true; r.mu.Unlock() }

// Refreshes returns how many refreshes of key succeeded.
func (r *Rotating) Refreshes(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.refreshes[key]
}

// Reused returns how many refreshes presented a refresh token that was
// not live.
func (r *Rotating) Reused() int { r.mu.Lock(); defer r.mu.Unlock(); return r.reused }

// Live returns key's live refresh token.
func (r *Rotating) Live(key string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return "rt." + key + "." + strconv.Itoa(r.live[key])
}

// Refresh is the endpoint as a function, for tests without HTTP: it takes
// a token and returns the next one, or an error that is invalid_grant.
func (r *Rotating) Refresh(_ context.Context, t *oauth2.Token) (*oauth2.Token, error) {
	key, n, err := r.rotate(t.RefreshToken)
	if err != nil {
		return nil, err
	}
	return &oauth2.Token{AccessToken: "at." + key + "." + n, RefreshToken: "rt." + key + "." + n, TokenType: "Bearer", Expiry: time.Now().Add(r.life()), ExpiresIn: int64(r.life() / time.Second)}, nil
}

// ErrDeadGrant is the error of a refresh that Rotating refuses: a dead
// grant (errors.Is with the root package's ErrInvalidGrant holds).
var ErrDeadGrant error = &wire.Error{Provider: "rotating", Op: "refresh", Kind: wire.ErrInvalidGrant, Code: "invalid_grant"}

func (r *Rotating) life() time.Duration {
	if r.Life > 0 {
		return r.Life
	}
	return time.Hour
}

// rotate checks rt and moves its key on one generation.
func (r *Rotating) rotate(rt string) (key, next string, err error) {
	rest, ok := strings.CutPrefix(rt, "rt.")
	i := strings.LastIndexByte(rest, '.')
	if !ok || i < 0 {
		return "", "", ErrDeadGrant
	}
	key = rest[:i]
	n, err := strconv.Atoi(rest[i+1:])
	r.mu.Lock()
	defer r.mu.Unlock()
	live, known := r.live[key]
	switch {
	case err != nil || !known:
		return "", "", ErrDeadGrant
	case r.revoked[key]:
		return "", "", ErrDeadGrant
	case n != live:
		r.reused++
		return "", "", ErrDeadGrant
	}
	r.live[key] = n + 1
	r.refreshes[key]++
	return key, strconv.Itoa(n + 1), nil
}

// ServeHTTP answers the refresh_token grant.
func (r *Rotating) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if err := req.ParseForm(); err != nil || req.Form.Get("grant_type") != "refresh_token" {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"unsupported_grant_type"}`)
		return
	}
	key, n, err := r.rotate(req.Form.Get("refresh_token"))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"invalid_grant","error_description":"refresh token is not live"}`)
		return
	}
	json.NewEncoder(w).Encode(map[string]any{
		"access_token": "at." + key + "." + n, "refresh_token": "rt." + key + "." + n,
		"token_type": "Bearer", "expires_in": int64(r.life() / time.Second),
	})
}

// CallAll calls get for every key from each of workers goroutines, each
// starting at a different key, and returns how many calls there were and
// the errors they returned.
func CallAll(ctx context.Context, get func(ctx context.Context, key string) error, keys []string, workers int) (calls int, errs []error) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range keys {
				err := get(ctx, keys[(i+w*len(keys)/workers)%len(keys)])
				mu.Lock()
				calls++
				if err != nil {
					errs = append(errs, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return calls, errs
}
