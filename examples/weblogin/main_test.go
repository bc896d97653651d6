package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestLoginEveryProvider signs in with each provider's fake as a browser
// without JavaScript would: open the login link, get the provider's page,
// submit its Authorize form, follow the redirect to the callback and read
// the profile. A forged state and a Cancel are refused.
func TestLoginEveryProvider(t *testing.T) {
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	defer srv.Close()
	a, closeFakes := newApp(srv.URL, func(string) string { return "" })
	defer closeFakes()
	h = a.handler()

	want := map[string]string{"douyin": "测试用户", "toutiao": "测试用户", "tiktok": "Tik Tester", "fantem": "fake-fantem-user"}
	for _, p := range a.providers {
		t.Run(p.Name, func(t *testing.T) {
			jar, _ := cookiejar.New(nil)
			c := &http.Client{Jar: jar}
			page, pageURL := browse(t, c, http.MethodGet, srv.URL+"/login/"+p.Name, nil)
			if !strings.Contains(page, `id="approve"`) || !strings.Contains(page, "<h1>"+p.Title+"</h1>") {
				t.Fatalf("no authorization page at %s:\n%s", pageURL, page)
			}
			form := pageURL.Query()
			form.Set("consent", "approve")
			prof, at := browse(t, c, http.MethodPost, pageURL.Scheme+"://"+pageURL.Host+pageURL.Path, form)
			if !strings.HasPrefix(at.String(), srv.URL+"/callback/"+p.Name) || !strings.Contains(prof, `<span id="provider">`+p.Title+`</span>`) ||
				!strings.Contains(prof, `<dd id="name">`+want[p.Name]+`</dd>`) {
				t.Fatalf("profile at %s:\n%s", at, prof)
			}
			if p.Name != "fantem" && !strings.Contains(prof, `<img id="avatar" src="data:image/svg`) {
				t.Errorf("no avatar on the profile:\n%s", prof)
			}
			if strings.Contains(prof, "act.") || strings.Contains(prof, "rft.") || strings.Contains(prof, "code") {
				t.Errorf("the page shows a token or code:\n%s", prof)
			}

			// A callback whose state this browser did not start.
			page, _ = browse(t, c, http.MethodGet, srv.URL+"/callback/"+p.Name+"?code=x&state=forged", nil)
			if !strings.Contains(page, `id="error"`) {
				t.Errorf("forged state accepted:\n%s", page)
			}
			// Cancel on the provider's page.
			_, pageURL = browse(t, c, http.MethodGet, srv.URL+"/login/"+p.Name, nil)
			form = pageURL.Query()
			form.Set("consent", "deny")
			page, _ = browse(t, c, http.MethodPost, pageURL.Scheme+"://"+pageURL.Host+pageURL.Path, form)
			if !strings.Contains(page, "access_denied") {
				t.Errorf("cancel not shown:\n%s", page)
			}
		})
	}
}

// browse sends a request as a browser does (accepting HTML, following
// redirects) and returns the final page and its URL.
func browse(t *testing.T, c *http.Client, method, u string, form url.Values) (string, *url.URL) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b), resp.Request.URL
}
