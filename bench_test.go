package oauth2x_test

// Benchmarks of the token lifecycle and the token calls, each beside
// golang.org/x/oauth2 doing the same work in the same run. Sub-benchmarks
// are named impl=x-oauth2 and impl=oauth2x, so that
//
//	go test -run '^$' -bench . -benchmem -count 10 ./... > bench.txt
//	benchstat -col /impl bench.txt
//
// prints the two side by side with the difference (and, for
// BenchmarkExchange, the floor rows impl=floor-rfc and impl=floor-douyin). Endpoints are loopback
// httptest fakes; "net=none" variants answer from a canned round tripper
// instead, so that they measure the client's own work (encoding the
// request, decoding the answer) without the fake server's.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/douyin"
	"github.com/oauth2x/oauth2x/douyin/douyintest"
)

// benchRFC is a minimal RFC 6749 token endpoint at /token: single-use
// codes, a refresh token that stays valid, an optional delay before each
// answer (the slow endpoint of BenchmarkRefreshMoment), and a switch that
// makes it answer 503 temporarily_unavailable. It counts calls.
type benchRFC struct {
	srv   *httptest.Server
	conf  *oauth2.Config
	ctx   context.Context // carries the client that reaches srv
	calls atomic.Int64
	delay atomic.Int64 // time.Duration before each answer
	fail  atomic.Bool

	mu    sync.Mutex // guards codes and seq
	codes map[string]bool
	seq   int
}

const benchRFCRefresh = "rfc-refresh-token"

func benchNewRFC(b *testing.B) *benchRFC {
	s := &benchRFC{codes: map[string]bool{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.token))
	b.Cleanup(s.srv.Close)
	s.conf = &oauth2.Config{
		ClientID:     "rfc-client",
		ClientSecret: "rfc-client-secret",
		RedirectURL:  "https://app.example/callback",
		Endpoint: oauth2.Endpoint{
			AuthURL:   s.srv.URL + "/authorize",
			TokenURL:  s.srv.URL + "/token",
			AuthStyle: oauth2.AuthStyleInParams, // as Douyin takes them
		},
	}
	s.ctx = context.WithValue(context.Background(), oauth2.HTTPClient, s.srv.Client())
	return s
}

// issueCode mints a code, as the authorization page would.
func (s *benchRFC) issueCode() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	code := fmt.Sprintf("rfc-code-%06d", s.seq)
	s.codes[code] = true
	return code
}

func (s *benchRFC) token(w http.ResponseWriter, r *http.Request) {
	s.calls.Add(1)
	time.Sleep(time.Duration(s.delay.Load())) // a slow endpoint; benchmarks only
	w.Header().Set("Content-Type", "application/json")
	if s.fail.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"error":"temporarily_unavailable"}`)
		return
	}
	if r.PostFormValue("client_id") != s.conf.ClientID || r.PostFormValue("client_secret") != s.conf.ClientSecret {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":"invalid_client"}`)
		return
	}
	switch r.PostFormValue("grant_type") {
	case "authorization_code":
		s.mu.Lock()
		ok := s.codes[r.PostFormValue("code")]
		delete(s.codes, r.PostFormValue("code"))
		s.mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"invalid_grant"}`)
			return
		}
	case "refresh_token":
		if r.PostFormValue("refresh_token") != benchRFCRefresh {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"invalid_grant"}`)
			return
		}
	default:
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"unsupported_grant_type"}`)
		return
	}
	io.WriteString(w, benchRFCAnswer)
}

// benchRFCAnswer is a token answer as RFC 6749 section 5.1 shows one.
const benchRFCAnswer = `{"access_token":"rfc-access-token","token_type":"Bearer","refresh_token":"` + benchRFCRefresh + `","expires_in":3600,"scope":"profile"}`

// benchDouyinAnswer is Douyin's documented success answer (current
// edition), as PROVIDERS.md quotes it.
const benchDouyinAnswer = `{"data":{"access_token":"act.f7094fbffab2ecbfc45e9af9c32bc241oYdckvBKe82BPx8T0000","captcha":"","desc_url":"","description":"","error_code":0,"expires_in":1296000,"log_id":"20230525105733ED3ED7AC56A0000","open_id":"b9b71865-7fea-44cc-0000","refresh_expires_in":2592000,"refresh_token":"rft.713900b74edde9f30ec4e246b706da30t0000","scope":"user_info"},"message":"success"}`

// benchCanned is a round tripper that answers every request with body,
// after reading the request as a server would. It makes no network call.
type benchCanned string

func (c benchCanned) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{
		Status:     "200 OK",
		StatusCode: http.StatusOK,
		Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:  http.Header{"Content-Type": {"application/json"}},
		Body:    io.NopCloser(strings.NewReader(string(c))),
		Request: r,
	}, nil
}

// benchNet returns ctx for net=loopback, and for net=none a context whose
// oauth2.HTTPClient answers body without a network.
func benchNet(ctx context.Context, net, body string) context.Context {
	if net == "loopback" {
		return ctx
	}
	return context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: benchCanned(body)})
}

// benchNoRefresh fails the benchmark if a cached read ever refreshes.
type benchNoRefresh struct{ b *testing.B }

func (n benchNoRefresh) Refresh(context.Context, *oauth2.Token) (*oauth2.Token, error) {
	n.b.Error("refresh called during a cached read")
	return nil, errors.New("no refresh expected")
}

func (n benchNoRefresh) Token() (*oauth2.Token, error) { return n.Refresh(context.Background(), nil) }

// BenchmarkCachedToken reads a valid token from a token source under
// RunParallel: x/oauth2's ReuseTokenSource (a mutex around every read)
// against oauth2x.NewTokenSource (one atomic load and a clock read). The
// g=64 cases run 64 goroutines whatever GOMAXPROCS is.
func BenchmarkCachedToken(b *testing.B) {
	for _, g := range []int{0, 64} {
		name := "g=procs"
		if g > 0 {
			name = fmt.Sprintf("g=%d", g)
		}
		for _, impl := range []string{"x-oauth2", "oauth2x"} {
			b.Run(name+"/impl="+impl, func(b *testing.B) {
				tok := &oauth2.Token{AccessToken: "at", RefreshToken: "rt", Expiry: time.Now().Add(time.Hour)}
				var src oauth2.TokenSource
				if impl == "oauth2x" {
					src = oauth2x.NewTokenSource(context.Background(), benchNoRefresh{b}, tok, nil)
				} else {
					src = oauth2.ReuseTokenSource(tok, benchNoRefresh{b})
				}
				if g > 0 {
					procs := runtime.GOMAXPROCS(0)
					b.SetParallelism((g + procs - 1) / procs)
				}
				benchReadParallel(b, src, tok)
			})
		}
	}
}

// BenchmarkCachedTokenRefreshing reads the token inside the ExpireEarly
// window while its background refresh is in flight (held until the
// benchmark ends): readers keep getting the current token. x/oauth2 has no
// counterpart: its readers all wait for the refresh.
func BenchmarkCachedTokenRefreshing(b *testing.B) {
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	r := oauth2x.RefresherFunc(func(ctx context.Context, t *oauth2.Token) (*oauth2.Token, error) {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-release
		return nil, errors.New("refresh held by the benchmark")
	})
	tok := &oauth2.Token{AccessToken: "at", RefreshToken: "rt", Expiry: time.Now().Add(30 * time.Minute)}
	src := oauth2x.NewTokenSource(context.Background(), r, tok, &oauth2x.Options{ExpireEarly: time.Hour, OnError: func(error) {}})
	if _, err := src.Token(); err != nil {
		b.Fatal(err)
	}
	<-entered
	defer close(release)
	benchReadParallel(b, src, tok)
}

// benchReadParallel times src.Token under RunParallel; every read must
// return want.
func benchReadParallel(b *testing.B, src oauth2.TokenSource, want *oauth2.Token) {
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if t, err := src.Token(); err != nil || t != want {
				b.Errorf("Token() = %v, %v", t, err)
				return
			}
		}
	})
}

// BenchmarkRefreshMoment measures what 64 callers of one token source go
// through when its token is due, with a token endpoint that takes 100 ms
// (1 ms with -short): the worst and mean wait of a caller, and how many
// calls reached the endpoint. Both sides refresh with the same
// oauth2.Config against the same endpoint; oauth2x wraps it with
// oauth2x.ConfigRefresher.
//
//   - state=early: the token expires in 30 s, inside oauth2x's ExpireEarly
//     (one minute) and outside x/oauth2's 10 s expiry delta.
//   - state=expired: the token has expired.
//   - state=failing: the token has expired and the endpoint answers 503.
func BenchmarkRefreshMoment(b *testing.B) {
	const callers = 64
	delay := 100 * time.Millisecond
	if testing.Short() {
		delay = time.Millisecond
	}
	for _, state := range []string{"early", "expired", "failing"} {
		for _, impl := range []string{"x-oauth2", "oauth2x"} {
			b.Run("state="+state+"/impl="+impl, func(b *testing.B) {
				rfc := benchNewRFC(b)
				rfc.delay.Store(int64(delay))
				rfc.fail.Store(state == "failing")
				var worst, total time.Duration
				var upstream int64
				for b.Loop() {
					expiry := time.Now().Add(-time.Second)
					if state == "early" {
						expiry = time.Now().Add(30 * time.Second)
					}
					tok := &oauth2.Token{AccessToken: "old-access", TokenType: "Bearer", RefreshToken: benchRFCRefresh, Expiry: expiry}
					before := rfc.calls.Load()
					var src oauth2.TokenSource
					flights := make(chan struct{}, callers)
					if impl == "oauth2x" {
						r := oauth2x.ConfigRefresher(rfc.conf)
						counted := oauth2x.RefresherFunc(func(ctx context.Context, t *oauth2.Token) (*oauth2.Token, error) {
							defer func() { flights <- struct{}{} }()
							return r.Refresh(ctx, t)
						})
						src = oauth2x.NewTokenSource(rfc.ctx, counted, tok, &oauth2x.Options{OnError: func(error) {}})
					} else {
						src = rfc.conf.TokenSource(rfc.ctx, tok)
					}
					waits, err := benchCallers(src, callers, state == "failing")
					if err != nil {
						b.Fatal(err)
					}
					if impl == "oauth2x" && state != "failing" {
						<-flights // the refresh has finished, in the background or not
					}
					upstream += rfc.calls.Load() - before
					w := slices.Max(waits)
					worst = max(worst, w)
					for _, d := range waits {
						total += d
					}
				}
				n := float64(b.N)
				b.ReportMetric(float64(worst)/float64(time.Millisecond), "worst-ms")
				b.ReportMetric(float64(total)/float64(time.Millisecond)/(n*callers), "mean-ms")
				b.ReportMetric(float64(upstream)/n, "upstream-calls")
			})
		}
	}
}

// benchCallers calls src.Token from n goroutines released at once and
// returns how long each waited. wantErr says whether the calls should fail.
func benchCallers(src oauth2.TokenSource, n int, wantErr bool) ([]time.Duration, error) {
	waits := make([]time.Duration, n)
	gate := make(chan struct{})
	var wg sync.WaitGroup
	var bad atomic.Pointer[error]
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			start := time.Now()
			_, err := src.Token()
			waits[i] = time.Since(start)
			if (err != nil) != wantErr {
				e := fmt.Errorf("Token error = %v, want error: %v", err, wantErr)
				bad.Store(&e)
			}
		}()
	}
	close(gate)
	wg.Wait()
	if e := bad.Load(); e != nil {
		return nil, *e
	}
	return waits, nil
}

// BenchmarkClient sends one GET with a valid token: oauth2.NewClient over
// a static token source (Authorization: Bearer) against
// douyin.Config.Client (access-token header, oauth2x token source). With
// net=loopback both call douyintest's API, which answers either (refusing
// the Bearer header, as Douyin does);
// with net=none the base transport answers at once, so the figures are the
// client and token transport's own cost per request.
func BenchmarkClient(b *testing.B) {
	for _, net := range []string{"loopback", "none"} {
		for _, impl := range []string{"x-oauth2", "oauth2x"} {
			b.Run("net="+net+"/impl="+impl, func(b *testing.B) {
				fake, conf, ctx, tok := benchDouyin(b)
				ctx = benchNet(ctx, net, `{"data":{"error_code":0}}`)
				var c *http.Client
				if impl == "oauth2x" {
					c = conf.Client(ctx, tok)
				} else {
					c = oauth2.NewClient(ctx, oauth2.StaticTokenSource(tok))
				}
				url := fake.URL + douyintest.APIPath
				if net == "loopback" {
					// The fake, like Douyin, refuses the Bearer header with
					// an answer of the same size: both sides do one round trip.
					var a douyintest.APIAnswer
					if err := json.Unmarshal(benchGet(b, c, url), &a); err != nil || (impl == "oauth2x" && a.Data.OpenID == "") {
						b.Fatalf("the fake API did not answer: %+v, %v", a, err)
					}
				}
				b.ReportAllocs()
				for b.Loop() {
					benchGet(b, c, url)
				}
			})
		}
	}
}

// benchDouyin starts a fake Douyin and returns it, a Config for it, a
// context whose client reaches it, and a token it issued.
func benchDouyin(b *testing.B) (*douyintest.Server, *douyin.Config, context.Context, *oauth2.Token) {
	fake := douyintest.NewServer()
	b.Cleanup(fake.Close)
	conf := fake.Config("https://app.example/callback", "user_info")
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, fake.Client())
	tok, err := conf.Exchange(ctx, fake.IssueCode("user_info"))
	if err != nil {
		b.Fatal(err)
	}
	return fake, conf, ctx, tok
}

// benchGet GETs url with c and returns the body.
func benchGet(b *testing.B, c *http.Client, url string) []byte {
	resp, err := c.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatal(resp.Status, err)
	}
	return body
}

// benchPost POSTs form to target with c, as a token call does, reads the
// answer and fails unless it is a 200 carrying an access token.
func benchPost(b *testing.B, c *http.Client, target string, form url.Values) {
	resp, err := c.Post(target, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"access_token"`)) {
		b.Fatal(resp.Status, err)
	}
}

// BenchmarkExchange trades a code for a token: oauth2.Config.Exchange
// against an RFC 6749 fake, douyin.Config.Exchange against douyintest.
// Codes are single-use, so one per iteration is minted before the timer
// starts. With net=none both read a canned answer (Douyin's documented
// envelope, an RFC 6749 answer) without a server, which isolates the
// client's own cost.
//
// The floor rows, net=loopback only, are what no client can go below: a
// bare net/http POST of the same form to the same fake and a read of its
// answer, with nothing decoded. impl=floor-rfc is x/oauth2's floor (the
// RFC 6749 fake), impl=floor-douyin ours (douyintest, which does more
// work per call); what each library costs is its time above its floor.
func BenchmarkExchange(b *testing.B) {
	b.Run("net=loopback/impl=floor-rfc", func(b *testing.B) {
		rfc := benchNewRFC(b)
		c := rfc.srv.Client()
		forms := make([]url.Values, b.N)
		for i := range forms {
			forms[i] = url.Values{"grant_type": {"authorization_code"}, "code": {rfc.issueCode()},
				"redirect_uri": {rfc.conf.RedirectURL}, "client_id": {rfc.conf.ClientID}, "client_secret": {rfc.conf.ClientSecret}}
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			benchPost(b, c, rfc.conf.Endpoint.TokenURL, forms[i])
		}
	})
	b.Run("net=loopback/impl=floor-douyin", func(b *testing.B) {
		fake, conf, _, _ := benchDouyin(b)
		c := fake.Client()
		forms := make([]url.Values, b.N)
		for i := range forms {
			forms[i] = url.Values{"client_key": {conf.ClientKey}, "client_secret": {conf.ClientSecret},
				"code": {fake.IssueCode("user_info")}, "grant_type": {"authorization_code"}}
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			benchPost(b, c, conf.Endpoint.TokenURL, forms[i])
		}
	})
	for _, net := range []string{"loopback", "none"} {
		b.Run("net="+net+"/impl=x-oauth2", func(b *testing.B) {
			rfc := benchNewRFC(b)
			ctx := benchNet(rfc.ctx, net, benchRFCAnswer)
			codes := make([]string, b.N)
			for i := range codes {
				codes[i] = rfc.issueCode()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if _, err := rfc.conf.Exchange(ctx, codes[i]); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("net="+net+"/impl=oauth2x", func(b *testing.B) {
			fake, conf, ctx, _ := benchDouyin(b)
			ctx = benchNet(ctx, net, benchDouyinAnswer)
			codes := make([]string, b.N)
			for i := range codes {
				codes[i] = fake.IssueCode("user_info")
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				tok, err := conf.Exchange(ctx, codes[i])
				if err != nil || douyin.OpenID(tok) == "" {
					b.Fatal(tok, err)
				}
			}
		})
	}
}

// BenchmarkRefresh refreshes a token: x/oauth2 the way its users do,
// through Config.TokenSource of an expired token; douyin.Config.Refresh
// against douyintest. net=none as in BenchmarkExchange.
func BenchmarkRefresh(b *testing.B) {
	for _, net := range []string{"loopback", "none"} {
		b.Run("net="+net+"/impl=x-oauth2", func(b *testing.B) {
			rfc := benchNewRFC(b)
			ctx := benchNet(rfc.ctx, net, benchRFCAnswer)
			old := &oauth2.Token{AccessToken: "old", RefreshToken: benchRFCRefresh, Expiry: time.Now().Add(-time.Hour)}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := rfc.conf.TokenSource(ctx, old).Token(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("net="+net+"/impl=oauth2x", func(b *testing.B) {
			_, conf, ctx, old := benchDouyin(b)
			ctx = benchNet(ctx, net, benchDouyinAnswer)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := conf.Refresh(ctx, old); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchStoredToken is a token as a Douyin exchange leaves it, with the
// extras that matter.
func benchStoredToken() *oauth2.Token {
	t := &oauth2.Token{
		AccessToken:  "act.f7094fbffab2ecbfc45e9af9c32bc241oYdckvBKe82BPx8T0000",
		TokenType:    "Bearer",
		RefreshToken: "rft.713900b74edde9f30ec4e246b706da30t0000",
		Expiry:       time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC),
		ExpiresIn:    1296000,
	}
	return t.WithExtra(map[string]any{
		"open_id":              "b9b71865-7fea-44cc-0000",
		"scope":                "user_info",
		"refresh_expires_in":   int64(2592000),
		"refresh_token_expiry": int64(1798286400),
		"log_id":               "20230525105733ED3ED7AC56A0000",
	})
}

// BenchmarkTokenEncoding encodes and decodes a stored token:
// json.Marshal/Unmarshal of *oauth2.Token (which drops Extra) against
// oauth2x.MarshalToken/UnmarshalToken (which keeps it).
func BenchmarkTokenEncoding(b *testing.B) {
	tok := benchStoredToken()
	plain, err := json.Marshal(tok)
	if err != nil {
		b.Fatal(err)
	}
	ours, err := oauth2x.MarshalToken(tok)
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name string
		op   func() error
	}{
		{"op=marshal/impl=x-oauth2", func() error { _, err := json.Marshal(tok); return err }},
		{"op=marshal/impl=oauth2x", func() error { _, err := oauth2x.MarshalToken(tok); return err }},
		{"op=unmarshal/impl=x-oauth2", func() error { var t oauth2.Token; return json.Unmarshal(plain, &t) }},
		{"op=unmarshal/impl=oauth2x", func() error { _, err := oauth2x.UnmarshalToken(ours); return err }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := c.op(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	if bytes.Equal(plain, ours) {
		b.Fatal("MarshalToken wrote what json.Marshal does: extras lost")
	}
}
