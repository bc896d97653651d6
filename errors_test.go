package oauth2x_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
)

// TestErrorIsDefinedHere: the error type users read fields of is the root
// package's own, not an alias of an internal one, so go doc shows them.
func TestErrorIsDefinedHere(t *testing.T) {
	typ := reflect.TypeFor[oauth2x.Error]()
	if typ.PkgPath() != "github.com/oauth2x/oauth2x" {
		t.Errorf("oauth2x.Error is %s.%s", typ.PkgPath(), typ.Name())
	}
	for _, f := range []string{"Provider", "Op", "Kind", "Code", "Description", "LogID", "Status", "Retrieve", "Cause"} {
		if _, ok := typ.FieldByName(f); !ok {
			t.Errorf("no field %s", f)
		}
	}
}

// TestKindOfPlainXOAuth2: a *oauth2.RetrieveError from a standard server,
// with no oauth2x in the way, classifies as our own errors do.
func TestKindOfPlainXOAuth2(t *testing.T) {
	for _, c := range []struct {
		status int
		body   string
		want   error
	}{
		{400, `{"error":"invalid_grant"}`, oauth2x.ErrInvalidGrant},
		{401, `{"error":"invalid_client"}`, oauth2x.ErrInvalidClient},
		{400, `{"error":"unsupported_grant_type"}`, oauth2x.ErrInvalidRequest},
		{503, `{"error":"temporarily_unavailable"}`, oauth2x.ErrTemporary},
		{429, `slow down`, oauth2x.ErrRateLimited},
		{400, `{"error":"some_vendor_code"}`, oauth2x.ErrRejected},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(c.status)
			w.Write([]byte(c.body))
		}))
		conf := &oauth2.Config{ClientID: "id", Endpoint: oauth2.Endpoint{TokenURL: srv.URL, AuthStyle: oauth2.AuthStyleInParams}}
		_, err := conf.Exchange(context.Background(), "code")
		srv.Close()
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) {
			t.Fatalf("%s: %v", c.body, err)
		}
		if got := oauth2x.KindOf(err); got != c.want {
			t.Errorf("%d %s: KindOf = %v, want %v", c.status, c.body, got, c.want)
		}
	}
	if oauth2x.KindOf(context.Canceled) != nil || oauth2x.IsTemporary(context.Canceled) {
		t.Error("a cancelled context has a kind")
	}
}

func TestSiblingURL(t *testing.T) {
	for _, c := range []struct{ tokenURL, want string }{
		{"https://open.douyin.com/oauth/access_token/", "https://open.douyin.com/oauth/refresh_token/"},
		{"http://h:8080/douyin/oauth/access_token/", "http://h:8080/douyin/oauth/refresh_token/"},
		{"http://h/a/b/oauth/access_token", "http://h/a/b/oauth/refresh_token/"},
		{"http://h/custom-token", "http://h/oauth/refresh_token/"},
		{"http://h/douyin/oauth/access_token/?x=1", "http://h/douyin/oauth/refresh_token/"},
	} {
		got, err := oauth2x.SiblingURL(c.tokenURL, "/oauth/access_token/", "/oauth/refresh_token/")
		if err != nil || got != c.want {
			t.Errorf("SiblingURL(%q) = %q, %v; want %q", c.tokenURL, got, err, c.want)
		}
	}
	for _, bad := range []string{"not a url", "", "/oauth/access_token/", "ftp://h/oauth/access_token/"} {
		if got, err := oauth2x.SiblingURL(bad, "/oauth/access_token/", "/oauth/refresh_token/"); err == nil {
			t.Errorf("SiblingURL(%q) = %q, want an error", bad, got)
		}
	}
	e, err := oauth2x.EndpointAt("http://127.0.0.1:9/p/", oauth2.Endpoint{AuthURL: "https://x.example/a/", TokenURL: "https://x.example/t/"})
	if err != nil || e.AuthURL != "http://127.0.0.1:9/p/a/" || e.TokenURL != "http://127.0.0.1:9/p/t/" {
		t.Errorf("EndpointAt = %+v, %v", e, err)
	}
}
