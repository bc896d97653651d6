package oauthtest_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/oauth2x/oauth2x/douyin/douyintest"
	"github.com/oauth2x/oauth2x/fantem/fantemtest"
	"github.com/oauth2x/oauth2x/internal/oauthtest"
	"github.com/oauth2x/oauth2x/tiktok/tiktoktest"
	"github.com/oauth2x/oauth2x/toutiao/toutiaotest"
)

// TestConsentPages opens every fake's authorization page as a browser
// does: HTML naming the provider, the app and the scopes, with an
// Authorize button whose POST redirects with a code, and a Cancel button
// whose POST redirects with access_denied.
func TestConsentPages(t *testing.T) {
	const redirect = "http://127.0.0.1:9/callback"
	dy, tt, fm, tk := douyintest.NewServer(), toutiaotest.NewServer(), fantemtest.NewServer(), tiktoktest.NewServer()
	for _, c := range []interface{ Close() }{dy, tt, fm, tk} {
		defer c.Close()
	}
	for _, p := range []struct {
		name, url, scope string
		client           *http.Client
	}{
		{"Douyin", dy.Config(redirect, "user_info").AuthCodeURL("st"), "user_info", dy.Client()},
		{"Toutiao", tt.Config(redirect, "user_info").AuthCodeURL("st"), "user_info", tt.Client()},
		{"Fantem", fm.Config(redirect, "devices").AuthCodeURL("st"), "devices", fm.Client()},
		{"TikTok", tk.Config(redirect, "user.info.basic").AuthCodeURL("st"), "user.info.basic", tk.Client()},
	} {
		req, _ := http.NewRequest(http.MethodGet, p.url, nil)
		req.Header.Set("Accept", "text/html,application/xhtml+xml")
		resp, err := p.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range []string{"<h1>" + p.name + "</h1>", `id="app"`, "<li>" + p.scope + "</li>", `id="approve"`, `id="deny"`} {
			if !strings.Contains(string(page), want) {
				t.Errorf("%s page lacks %q:\n%s", p.name, want, page)
			}
		}
		code, state, err := oauthtest.Approve(context.Background(), p.client, p.url)
		if err != nil || code == "" || state != "st" {
			t.Errorf("%s: approve gave %q %q %v", p.name, code, state, err)
		}
	}
}
