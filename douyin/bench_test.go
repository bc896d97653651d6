package douyin_test

// Benchmarks of calling Douyin's APIs with a token, beside x/oauth2 doing
// the same in the same run; sub-benchmarks are named impl=x-oauth2 and
// impl=oauth2x for `benchstat -col /impl`.

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x/douyin/douyintest"
	"github.com/oauth2x/oauth2x/internal/bytedancetest"
)

// benchCanned answers every request with a small API answer without a
// network, after reading the request as a server would.
type benchCanned struct{}

func (benchCanned) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{
		Status:     "200 OK",
		StatusCode: http.StatusOK,
		Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:  http.Header{"Content-Type": {"application/json"}},
		Body:    io.NopCloser(strings.NewReader(`{"data":{"error_code":0}}`)),
		Request: r,
	}, nil
}

// BenchmarkClient sends one GET with a valid token: oauth2.NewClient over
// a static token source (Authorization: Bearer) against
// douyin.Config.Client (access-token header, oauth2x token source). With
// net=loopback both call douyintest's API, which accepts either header;
// with net=none the base transport answers at once, so the figures are the
// client and token transport's own cost per request.
func BenchmarkClient(b *testing.B) {
	for _, net := range []string{"loopback", "none"} {
		for _, impl := range []string{"x-oauth2", "oauth2x"} {
			b.Run("net="+net+"/impl="+impl, func(b *testing.B) {
				fake := douyintest.NewServer()
				b.Cleanup(fake.Close)
				conf := fake.Config("https://app.example/callback", "user_info")
				ctx := context.WithValue(context.Background(), oauth2.HTTPClient, fake.Client())
				tok, err := conf.Exchange(ctx, fake.IssueCode("user_info"))
				if err != nil {
					b.Fatal(err)
				}
				if net == "none" {
					ctx = context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: benchCanned{}})
				}
				var c *http.Client
				if impl == "oauth2x" {
					c = conf.Client(ctx, tok)
				} else {
					c = oauth2.NewClient(ctx, oauth2.StaticTokenSource(tok))
				}
				url := fake.URL + douyintest.APIPath
				if net == "loopback" {
					var a bytedancetest.APIAnswer
					if err := json.Unmarshal(benchGet(b, c, url), &a); err != nil || a.Data.OpenID == "" {
						b.Fatalf("the fake API did not accept the token: %+v, %v", a, err)
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
