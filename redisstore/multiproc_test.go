//go:build unix

package redisstore_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/douyin"
	"github.com/oauth2x/oauth2x/douyin/douyintest"
	"github.com/oauth2x/oauth2x/redisstore"
)

// The multi-process test: 4 processes × 64 goroutines share a user token
// and a client token through Redis. Time is a clock all of them read from
// one shared memory page, which the parent moves forward in steps; after
// each step the parent waits (on the children's reports, through pipes)
// until every process serves the new tokens, and counts the upstream calls.
const (
	mpProcs      = 4
	mpGoroutines = 64
	// ExpireEarly of the two token sources: the user token (15 days) is
	// refreshed 7 days before expiry, the client token (2 hours) 5 minutes
	// before.
	mpUserEarly   = 7 * 24 * time.Hour
	mpClientEarly = 5 * time.Minute
	mpUserLife    = 15 * 24 * time.Hour
	mpClientLife  = 2 * time.Hour
)

// sharedClock is a clock in a file mapped into every process.
type sharedClock struct{ p *int64 }

func openSharedClock(path string) (*sharedClock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := f.Truncate(8); err != nil {
		return nil, err
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, 8, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil, err
	}
	return &sharedClock{p: (*int64)(unsafe.Pointer(&mem[0]))}, nil
}

func (c *sharedClock) Now() time.Time  { return time.Unix(0, atomic.LoadInt64(c.p)) }
func (c *sharedClock) Set(t time.Time) { atomic.StoreInt64(c.p, t.UnixNano()) }

// restamp counts a new token's expiry from the shared clock: the engines
// stamp expires_in onto the real clock.
func restamp(r oauth2x.Refresher, now func() time.Time) oauth2x.Refresher {
	return oauth2x.RefresherFunc(func(ctx context.Context, t *oauth2.Token) (*oauth2.Token, error) {
		nt, err := r.Refresh(ctx, t)
		if err != nil {
			return nil, err
		}
		in := nt.ExpiresIn
		if f, ok := nt.Extra("expires_in").(float64); ok && in == 0 {
			in = int64(f) // x/oauth2's clientcredentials leaves ExpiresIn out
		}
		if in <= 0 {
			return nil, fmt.Errorf("token without expires_in")
		}
		c := *nt
		c.Expiry = now().Add(time.Duration(in) * time.Second)
		return &c, nil
	})
}

// rfcServer is a plain RFC 6749 token endpoint with rotating refresh
// tokens (each works once), a client-credentials grant, and an API that
// checks the bearer token. It counts calls.
type rfcServer struct {
	*httptest.Server
	now func() time.Time

	mu                  sync.Mutex
	seq                 int
	access              map[string]time.Time // access token → expiry
	liveRefresh         string
	refreshes, fetches  int
	rejected, apiFailed int
}

const rfcClientID, rfcSecret = "mp-client", "mp-secret"

func newRFCServer(now func() time.Time) *rfcServer {
	s := &rfcServer{now: now, access: map[string]time.Time{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", s.token)
	mux.HandleFunc("GET /api", s.api)
	s.Server = httptest.NewServer(mux)
	return s
}

func (s *rfcServer) issueUser() *oauth2.Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueLocked("uat", mpUserLife, true)
}

func (s *rfcServer) issueLocked(prefix string, life time.Duration, refresh bool) *oauth2.Token {
	s.seq++
	t := &oauth2.Token{AccessToken: fmt.Sprintf("%s-%d", prefix, s.seq), TokenType: "Bearer",
		Expiry: s.now().Add(life), ExpiresIn: int64(life / time.Second)}
	s.access[t.AccessToken] = t.Expiry
	if refresh {
		t.RefreshToken = fmt.Sprintf("urt-%d", s.seq)
		s.liveRefresh = t.RefreshToken
	}
	return t
}

func (s *rfcServer) token(w http.ResponseWriter, r *http.Request) {
	if r.PostFormValue("client_id") != rfcClientID || r.PostFormValue("client_secret") != rfcSecret {
		rfcError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var t *oauth2.Token
	switch r.PostFormValue("grant_type") {
	case "refresh_token":
		if r.PostFormValue("refresh_token") != s.liveRefresh {
			s.rejected++
			rfcError(w, http.StatusBadRequest, "invalid_grant")
			return
		}
		s.refreshes++
		t = s.issueLocked("uat", mpUserLife, true)
	case "client_credentials":
		s.fetches++
		t = s.issueLocked("cat", mpClientLife, false)
	default:
		rfcError(w, http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": t.AccessToken, "token_type": "Bearer",
		"refresh_token": t.RefreshToken, "expires_in": t.ExpiresIn})
}

func rfcError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":%q}`, code)
}

func (s *rfcServer) api(w http.ResponseWriter, r *http.Request) {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	exp, ok := s.access[tok]
	ok = ok && s.now().Before(exp)
	if !ok {
		s.apiFailed++
	}
	s.mu.Unlock()
	if !ok {
		http.Error(w, "invalid token", http.StatusUnauthorized)
	}
}

func (s *rfcServer) counts() (refreshes, fetches, rejected int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refreshes, s.fetches, s.rejected
}

// mpFlavor is a provider the multi-process test runs against.
type mpFlavor struct {
	name   string
	url    string
	env    []string // for the children
	seed   func(context.Context) (*oauth2.Token, error)
	counts func() (refreshes, fetches, rejected int)
}

func TestMultiProcessRFC6749(t *testing.T) {
	runMultiProcess(t, func(clk *sharedClock) mpFlavor {
		srv := newRFCServer(clk.Now)
		t.Cleanup(srv.Close)
		return mpFlavor{
			name:   "rfc6749",
			url:    srv.URL,
			seed:   func(context.Context) (*oauth2.Token, error) { return srv.issueUser(), nil },
			counts: srv.counts,
		}
	})
}

func TestMultiProcessDouyin(t *testing.T) {
	runMultiProcess(t, func(clk *sharedClock) mpFlavor {
		fake := douyintest.NewServer()
		t.Cleanup(fake.Close)
		fake.SetNow(clk.Now)
		fake.SetRotate(true) // a refresh token works once
		conf := fake.Config("http://127.0.0.1/callback", "user_info")
		return mpFlavor{
			name: "douyin",
			url:  fake.URL,
			env:  []string{"MP_CLIENT_KEY=" + fake.ClientKey, "MP_CLIENT_SECRET=" + fake.ClientSecret},
			seed: func(ctx context.Context) (*oauth2.Token, error) {
				tok, err := conf.Exchange(ctx, fake.IssueCode("user_info"))
				if err != nil {
					return nil, err
				}
				c := *tok
				c.Expiry = clk.Now().Add(time.Duration(tok.ExpiresIn) * time.Second)
				return &c, nil
			},
			counts: func() (int, int, int) {
				return fake.Calls(douyintest.RefreshTokenPath), fake.Calls(douyintest.ClientTokenPath), 0
			},
		}
	})
}

// mpResult is what a child reports when told to stop.
type mpResult struct {
	TokenCalls, APICalls int64
	Failures             int64 // failed Token calls, expired tokens served, API calls refused
	Straddled            int64 // API calls refused because the clock moved on meanwhile
	BackgroundErrors     int64 // failures reported to Options.OnError
	FirstError           string
}

// mpChild is the parent's view of one child process.
type mpChild struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr bytes.Buffer
	exited chan struct{}
	result chan mpResult
	seen   map[string]string // kind → newest access token reported
}

type mpEvent struct {
	child       int
	kind, token string
}

func runMultiProcess(t *testing.T, newFlavor func(*sharedClock) mpFlavor) {
	rdb, addr := sharedRedis(t)
	ctx := context.Background()
	clockPath := t.TempDir() + "/clock"
	clk, err := openSharedClock(clockPath)
	if err != nil {
		t.Fatal(err)
	}
	clk.Set(time.Now().Truncate(time.Second))
	fl := newFlavor(clk)
	userStore := redisstore.New(rdb, testKey(t, rdb, "user-1"), nil)
	clientStore := redisstore.New(rdb, testKey(t, rdb, ""), nil)

	seed, err := fl.seed(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := userStore.Save(ctx, seed); err != nil {
		t.Fatal(err)
	}

	events := make(chan mpEvent, 1024)
	children := make([]*mpChild, mpProcs)
	for i := range children {
		c := &mpChild{exited: make(chan struct{}), result: make(chan mpResult, 1), seen: map[string]string{}}
		children[i] = c
		c.cmd = exec.Command(os.Args[0], "-test.run=^$")
		c.cmd.Env = append(os.Environ(), fl.env...)
		c.cmd.Env = append(c.cmd.Env, childEnv+"=multiproc", "MP_FLAVOR="+fl.name, "MP_URL="+fl.url,
			"MP_REDIS="+addr, "MP_USER_KEY="+userStore.Key(), "MP_CLIENT_KEY_NAME="+clientStore.Key(),
			"MP_CLOCK="+clockPath, "MP_GOROUTINES="+strconv.Itoa(mpGoroutines))
		c.cmd.Stderr = &c.stderr
		if c.stdin, err = c.cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
		stdout, err := c.cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func(i int) {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				f := strings.Fields(sc.Text())
				switch {
				case len(f) == 3 && f[0] == "seen":
					events <- mpEvent{i, f[1], f[2]}
				case len(f) == 1 && f[0] == "synced":
					events <- mpEvent{child: i, kind: "synced"}
				case len(f) == 2 && f[0] == "result":
					var r mpResult
					if err := json.Unmarshal([]byte(f[1]), &r); err == nil {
						c.result <- r
					}
				}
			}
			io.Copy(io.Discard, stdout)
			c.cmd.Wait()
			close(c.exited)
		}(i)
	}
	defer func() {
		for _, c := range children {
			c.stdin.Close()
			select {
			case <-c.exited:
			case <-time.After(30 * time.Second):
				c.cmd.Process.Kill()
				<-c.exited
			}
			if t.Failed() && c.stderr.Len() > 0 {
				t.Logf("child %d stderr:\n%s", c.cmd.Process.Pid, c.stderr.String())
			}
		}
	}()

	// waitSeen waits until every child has served tokens other than prev
	// for each kind in prev, and returns them; they must all be the same.
	waitSeen := func(prev map[string]string) map[string]string {
		t.Helper()
		timeout := time.After(60 * time.Second)
		for {
			done := true
			for _, c := range children {
				for kind, p := range prev {
					if c.seen[kind] == "" || c.seen[kind] == p {
						done = false
					}
				}
			}
			if done {
				break
			}
			select {
			case e := <-events:
				if e.kind == "synced" {
					t.Fatalf("child %d synced unasked", e.child)
				}
				children[e.child].seen[e.kind] = e.token
			case <-timeout:
				t.Fatalf("not every process served new tokens within 60s: %v", children)
			}
			for i, c := range children {
				select {
				case <-c.exited:
					t.Fatalf("child %d exited: %s", i, c.stderr.String())
				default:
				}
			}
		}
		now := map[string]string{}
		for kind := range prev {
			for i, c := range children {
				if now[kind] == "" {
					now[kind] = c.seen[kind]
				} else if c.seen[kind] != now[kind] {
					t.Fatalf("processes serve different %s tokens: %s (child 0) and %s (child %d); waited for other than %v; all: %v", kind, now[kind], c.seen[kind], i, prev, children)
				}
			}
		}
		return now
	}
	// sync waits until no child has a flight in progress, so that the
	// clock does not move under a flight that already decided what to
	// hand out (its token would be served after the step, expired).
	sync := func() {
		t.Helper()
		for _, c := range children {
			fmt.Fprintln(c.stdin, "sync")
		}
		timeout := time.After(60 * time.Second)
		for n := 0; n < len(children); {
			select {
			case e := <-events:
				if e.kind == "synced" {
					n++
				} else {
					children[e.child].seen[e.kind] = e.token
				}
			case <-timeout:
				t.Fatal("children did not sync within 60s")
			}
		}
	}
	load := func(s *redisstore.Store) *oauth2.Token {
		t.Helper()
		tok, err := s.Load(ctx)
		if err != nil || tok == nil {
			t.Fatalf("Load: %v, %v", tok, err)
		}
		return tok
	}
	checkCounts := func(wantRefreshes, wantFetches int) {
		t.Helper()
		r, f, rej := fl.counts()
		if r != wantRefreshes || f != wantFetches || rej != 0 {
			t.Fatalf("upstream: %d refreshes, %d client-token fetches, %d rejected refreshes; want %d, %d, 0",
				r, f, rej, wantRefreshes, wantFetches)
		}
	}

	// Round 0: every process loads the user token; one fetches the client
	// token, the others load it.
	cur := waitSeen(map[string]string{"user": "", "client": ""})
	if u, c := load(userStore), load(clientStore); cur["user"] != u.AccessToken || cur["client"] != c.AccessToken {
		t.Fatalf("processes serve %v, the store holds %s and %s", cur, u.AccessToken, c.AccessToken)
	}
	checkCounts(0, 1)

	// Each round moves the clock past a token's refresh time. A client
	// round enters the client token's early window; a user round enters
	// the user token's, by when the client token has long expired.
	wantRefreshes, wantFetches := 0, 1
	for _, round := range []string{"client", "user", "client", "user", "client", "user"} {
		u, c := load(userStore), load(clientStore)
		userDue, clientDue := u.Expiry.Add(-mpUserEarly), c.Expiry.Add(-mpClientEarly)
		var to time.Time
		if round == "client" {
			to = clientDue.Add(time.Second)
		} else {
			to = userDue.Add(time.Second)
		}
		sync()
		prev := map[string]string{}
		if !to.Before(userDue) {
			prev["user"] = u.AccessToken
			wantRefreshes++
		}
		if !to.Before(clientDue) {
			prev["client"] = c.AccessToken
			wantFetches++
		}
		clk.Set(to)
		next := waitSeen(prev)
		for kind, tok := range next {
			s := userStore
			if kind == "client" {
				s = clientStore
			}
			if stored := load(s).AccessToken; stored != tok {
				t.Fatalf("%s round: processes serve %s token %s, the store holds %s", round, kind, tok, stored)
			}
		}
		checkCounts(wantRefreshes, wantFetches)
	}

	// Stop the children and collect what they saw.
	var total mpResult
	for i, c := range children {
		c.stdin.Close()
		select {
		case r := <-c.result:
			total.TokenCalls += r.TokenCalls
			total.APICalls += r.APICalls
			total.Failures += r.Failures
			total.Straddled += r.Straddled
			total.BackgroundErrors += r.BackgroundErrors
			if total.FirstError == "" {
				total.FirstError = r.FirstError
			}
		case <-c.exited:
			t.Fatalf("child %d exited without a result: %s", i, c.stderr.String())
		case <-time.After(60 * time.Second):
			t.Fatalf("child %d did not stop within 60s", i)
		}
	}
	checkCounts(wantRefreshes, wantFetches)
	t.Logf("%s: %d processes × %d goroutines: %d Token calls, %d API calls, %d failed, %d background errors; "+
		"user token: %d refreshes for %d refresh times; client token: %d fetches for %d lifetimes (%d API calls raced a clock step)",
		fl.name, mpProcs, mpGoroutines, total.TokenCalls, total.APICalls, total.Failures, total.BackgroundErrors,
		wantRefreshes, wantRefreshes, wantFetches, wantFetches, total.Straddled)
	if total.Failures != 0 || total.BackgroundErrors != 0 {
		t.Fatalf("%d failed calls, %d background errors; first: %s", total.Failures, total.BackgroundErrors, total.FirstError)
	}
}

func (c *mpChild) String() string { return fmt.Sprint(c.seen) }

// flightCounter counts a child's token-source flights between asking for
// the store's lock and releasing it.
type flightCounter struct {
	mu   sync.Mutex
	n    int
	idle *sync.Cond
}

func (c *flightCounter) add(d int) {
	c.mu.Lock()
	c.n += d
	if c.n == 0 {
		c.idle.Broadcast()
	}
	c.mu.Unlock()
}

// wait returns once no flight is between Lock and unlock.
func (c *flightCounter) wait() {
	c.mu.Lock()
	for c.n > 0 {
		c.idle.Wait()
	}
	c.mu.Unlock()
}

// trackingStore counts flights: a token source locks the store first and
// unlocks it last.
type trackingStore struct {
	*redisstore.Store
	flights *flightCounter
}

func (s trackingStore) Lock(ctx context.Context) (func(), error) {
	s.flights.add(1)
	unlock, err := s.Store.Lock(ctx)
	if err != nil {
		s.flights.add(-1)
		return nil, err
	}
	return func() { unlock(); s.flights.add(-1) }, nil
}

// multiProcChild is one process of the multi-process test: goroutines
// that call Token on a user and a client token source sharing the
// parent's Redis, and the fake API with what they get, until stdin closes.
func multiProcChild() int {
	env := os.Getenv
	clk, err := openSharedClock(env("MP_CLOCK"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	n, _ := strconv.Atoi(env("MP_GOROUTINES"))
	url := env("MP_URL")
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, hc)

	var user, client oauth2x.Refresher
	var apiReq func(tok string) *http.Request
	var apiOK func(*http.Response) bool
	switch env("MP_FLAVOR") {
	case "rfc6749":
		ep := oauth2.Endpoint{TokenURL: url + "/token", AuthStyle: oauth2.AuthStyleInParams}
		user = oauth2x.ConfigRefresher(&oauth2.Config{ClientID: rfcClientID, ClientSecret: rfcSecret, Endpoint: ep})
		cc := &clientcredentials.Config{ClientID: rfcClientID, ClientSecret: rfcSecret, TokenURL: ep.TokenURL, AuthStyle: ep.AuthStyle}
		client = oauth2x.RefresherFunc(func(ctx context.Context, _ *oauth2.Token) (*oauth2.Token, error) { return cc.Token(ctx) })
		apiReq = func(tok string) *http.Request {
			r, _ := http.NewRequest("GET", url+"/api", nil)
			r.Header.Set("Authorization", "Bearer "+tok)
			return r
		}
		apiOK = func(r *http.Response) bool { return r.StatusCode == http.StatusOK }
	case "douyin":
		conf := &douyin.Config{ClientKey: env("MP_CLIENT_KEY"), ClientSecret: env("MP_CLIENT_SECRET"),
			Endpoint: oauth2.Endpoint{TokenURL: url + douyintest.AccessTokenPath}}
		user, client = conf, conf.ClientTokenRefresher(false)
		apiReq = func(tok string) *http.Request {
			r, _ := http.NewRequest("GET", url+douyintest.APIPath, nil)
			r.Header.Set("access-token", tok)
			return r
		}
		apiOK = func(r *http.Response) bool {
			var a struct {
				Data struct {
					ErrorCode int `json:"error_code"`
				} `json:"data"`
			}
			return json.NewDecoder(r.Body).Decode(&a) == nil && a.Data.ErrorCode == 0
		}
	default:
		fmt.Fprintln(os.Stderr, "unknown MP_FLAVOR")
		return 2
	}

	var res mpResult
	var mu sync.Mutex // guards res.FirstError, last and stdout
	fail := func(counter *int64, err error) {
		atomic.AddInt64(counter, 1)
		mu.Lock()
		if res.FirstError == "" {
			res.FirstError = strings.ReplaceAll(err.Error(), " ", "_")
		}
		mu.Unlock()
	}
	rdb := redis.NewClient(&redis.Options{Addr: env("MP_REDIS")})
	defer rdb.Close()
	flights := &flightCounter{}
	flights.idle = sync.NewCond(&flights.mu)
	source := func(r oauth2x.Refresher, key string, early time.Duration) *oauth2x.TokenSource {
		return oauth2x.NewTokenSource(ctx, restamp(r, clk.Now), nil, &oauth2x.Options{
			Store:       trackingStore{redisstore.New(rdb, key, nil), flights},
			Now:         clk.Now,
			ExpireEarly: early,
			OnError:     func(err error) { fail(&res.BackgroundErrors, err) },
		})
	}
	sources := map[string]*oauth2x.TokenSource{
		"user":   source(user, env("MP_USER_KEY"), mpUserEarly),
		"client": source(client, env("MP_CLIENT_KEY_NAME"), mpClientEarly),
	}
	last := map[string]time.Time{} // kind → expiry of the newest token reported

	// call gets a token of kind and checks it; every so often it calls
	// the API with it.
	call := func(kind string, api bool) {
		before := clk.Now()
		tok, err := sources[kind].Token()
		atomic.AddInt64(&res.TokenCalls, 1)
		if err != nil {
			fail(&res.Failures, fmt.Errorf("%s Token: %w", kind, err))
			return
		}
		if !tok.Expiry.After(before) && clk.Now().Equal(before) {
			fail(&res.Failures, fmt.Errorf("%s token served after its expiry", kind))
		}
		mu.Lock()
		if tok.Expiry.After(last[kind]) {
			last[kind] = tok.Expiry
			fmt.Printf("seen %s %s\n", kind, tok.AccessToken)
		}
		mu.Unlock()
		if !api {
			return
		}
		atomic.AddInt64(&res.APICalls, 1)
		resp, err := hc.Do(apiReq(tok.AccessToken))
		if err != nil {
			fail(&res.Failures, err)
			return
		}
		ok := apiOK(resp)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		switch {
		case ok:
		case !clk.Now().Equal(before):
			atomic.AddInt64(&res.Straddled, 1) // the token expired on the way: time jumped
		default:
			fail(&res.Failures, fmt.Errorf("API refused the %s token", kind))
		}
	}

	// Commands from the parent: "sync" asks to be told when no flight
	// holds or waits for a lock; end of input means stop.
	stop := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			if sc.Text() == "sync" {
				flights.wait()
				mu.Lock()
				fmt.Println("synced")
				mu.Unlock()
			}
		}
		close(stop)
	}()
	var wg sync.WaitGroup
	for range n {
		goGroup(&wg, func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				call("user", i%8 == 0)
				call("client", i%8 == 4)
				time.Sleep(time.Duration(5+rand.IntN(10)) * time.Millisecond) // pacing
			}
		})
	}
	wg.Wait()
	b, _ := json.Marshal(&res)
	fmt.Printf("result %s\n", b)
	return 0
}
