package oauth2x_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/douyin"
	"github.com/oauth2x/oauth2x/douyin/douyintest"
)

// A web service holding many Douyin users' tokens: the login callback
// Puts each user's token under their id, and a handler calls Douyin's API
// for the signed-in user with tokens.TokenSource(ctx, userID). Tokens are
// refreshed once per expiry and every rotated refresh token is saved (here
// in a directory, one file per user; sqlstore keeps them in the app's
// database).
func ExampleTokens() {
	fake := douyintest.NewServer()
	defer fake.Close()
	fake.SetRotate(true)
	now := &fakeNow{t: time.Now()}
	fake.SetNow(now.Now)
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, fake.Client())
	conf := fake.Config("https://app.example/callback", "user_info")

	dir, _ := os.MkdirTemp("", "tokens")
	defer os.RemoveAll(dir)
	tokens := oauth2x.NewTokens(conf, oauth2x.NewKeyedFileStore(dir), &oauth2x.Options{Now: now.Now})

	mux := http.NewServeMux()
	mux.HandleFunc("/callback", func(w http.ResponseWriter, r *http.Request) {
		tok, err := conf.Exchange(r.Context(), r.FormValue("code"))
		if err != nil {
			http.Error(w, "login failed", http.StatusForbidden)
			return
		}
		userID := douyin.OpenID(tok)
		if err := tokens.Put(r.Context(), userID, tok); err != nil {
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "signed in as", userID) // and set the session cookie
	})
	mux.HandleFunc("/me", func(w http.ResponseWriter, r *http.Request) {
		userID := r.Header.Get("X-User") // from the session
		tok, err := tokens.TokenSource(r.Context(), userID).Token()
		if errors.Is(err, oauth2x.ErrNoToken) || errors.Is(err, oauth2x.ErrInvalidGrant) {
			http.Redirect(w, r, "/login", http.StatusFound)
			return
		}
		if err != nil {
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, fake.URL+douyintest.APIPath, nil)
		req.Header.Set("access-token", tok.AccessToken) // as Douyin's OpenAPI reads it
		resp, err := fake.Client().Do(req)
		if err != nil {
			http.Error(w, "try again", http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		var api douyinAnswer
		json.NewDecoder(resp.Body).Decode(&api)
		fmt.Fprintln(w, "douyin says you are", api.Data.OpenID)
	})
	get := func(path, user string) {
		r := httptest.NewRequest(http.MethodGet, path, nil).WithContext(ctx)
		r.Header.Set("X-User", user)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		if w.Code == http.StatusFound {
			fmt.Println(w.Code, "to", w.Header().Get("Location"))
			return
		}
		fmt.Print(w.Code, " ", w.Body.String())
	}

	get("/callback?code="+fake.IssueCode("user_info"), "")
	get("/me", "fake-open-id")
	now.Add(douyintest.AccessTTL) // the access token expires
	get("/me", "fake-open-id")    // refreshed on the way
	get("/me", "someone-else")    // never signed in
	fmt.Println("refreshes:", fake.Calls(douyintest.RefreshTokenPath))
	// Output:
	// 200 signed in as fake-open-id
	// 200 douyin says you are fake-open-id
	// 200 douyin says you are fake-open-id
	// 302 to /login
	// refreshes: 1
}

type douyinAnswer struct {
	Data struct {
		OpenID string `json:"open_id"`
	} `json:"data"`
}

// fakeNow is a clock the example moves forward.
type fakeNow struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeNow) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeNow) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
