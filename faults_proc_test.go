package oauth2x

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// fullDisk is a FileStore whose Save fails while the file Path+".full"
// exists: a disk that is full until the test frees it.
type fullDisk struct{ *FileStore }

func (f fullDisk) Save(ctx context.Context, t *oauth2.Token) error {
	if _, err := os.Stat(f.Path + ".full"); err == nil {
		return errDiskFull
	}
	return f.FileStore.Save(ctx, t)
}

// TestStaleRefreshAcrossProcesses runs 4 processes (the test binary, as
// children) on one FileStore whose disk is full when the token expires.
// The provider rotates the refresh token on every refresh and refuses an
// old one. The process that refreshes keeps the store's lock until its
// save succeeds, so no other process refreshes with the refresh token it
// used up: stale refreshes across processes are 0.
func TestStaleRefreshAcrossProcesses(t *testing.T) {
	if os.Getenv("OAUTH2X_CHILD_STALE") != "" {
		return
	}
	var mu sync.Mutex
	live, refreshes, stale := "rt-0", 0, 0
	first := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		mu.Lock()
		defer mu.Unlock()
		if r.Form.Get("refresh_token") != live {
			stale++
			w.WriteHeader(400)
			fmt.Fprint(w, `{"error":"invalid_grant"}`)
			return
		}
		refreshes++
		if refreshes == 1 {
			close(first)
		}
		live = fmt.Sprintf("rt-%d", refreshes)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"at-%d","refresh_token":"%s","token_type":"bearer","expires_in":3600}`, refreshes, live)
	}))
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "token.json")
	if err := NewFileStore(path).Save(context.Background(), &oauth2.Token{AccessToken: "at-0", RefreshToken: "rt-0", Expiry: time.Now().Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".full", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	const procs = 4
	wait := startChildren(t, procs, "TestStaleRefreshChild", "OAUTH2X_CHILD_STALE="+path, "OAUTH2X_CHILD_URL="+srv.URL)
	<-first
	// The disk stays full while the others try (each waits its 300ms
	// RefreshTimeout for the lock); then space is freed.
	time.Sleep(time.Second)
	os.Remove(path + ".full")
	outs := wait()
	mu.Lock()
	defer mu.Unlock()
	t.Logf("FAULT 7 stale-across-processes: %d stale refreshes, %d refreshes across %d processes with a full disk", stale, refreshes, procs)
	if stale != 0 {
		t.Errorf("stale refreshes = %d, want 0", stale)
	}
	for i, out := range outs {
		if !strings.Contains(out, "TOKEN "+live+"\n") {
			t.Errorf("child %d ended with %q, want the live %s", i, out, live)
		}
	}
}

func TestStaleRefreshChild(t *testing.T) {
	path := os.Getenv("OAUTH2X_CHILD_STALE")
	if path == "" {
		t.Skip("run by TestStaleRefreshAcrossProcesses as a child process")
	}
	conf := &oauth2.Config{ClientID: "id", Endpoint: oauth2.Endpoint{TokenURL: os.Getenv("OAUTH2X_CHILD_URL"), AuthStyle: oauth2.AuthStyleInParams}}
	src := NewTokenSource(context.Background(), ConfigRefresher(conf), nil, &Options{
		Store: fullDisk{NewFileStore(path)}, RefreshTimeout: 300 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, OnError: func(error) {}})
	// Until the token served is the one in the store (saved): at most 10s.
	for range 500 {
		tok, err := src.Token()
		if err == nil {
			if stored, _ := NewFileStore(path).Load(context.Background()); stored != nil && stored.RefreshToken == tok.RefreshToken {
				fmt.Printf("TOKEN %s\n", tok.RefreshToken)
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no saved token within 10s")
}
