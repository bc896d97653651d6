// Command weblogin is a web login you can watch: a page with "Sign in
// with Douyin / Toutiao / TikTok / Fantem" buttons, each of which sends you
// to the provider's authorization page and, once you approve, shows who
// signed in: the name, the avatar, the open id and union id, and when the
// token expires (never the token itself).
//
// By default it starts a fake of each provider in the same process (the
// fakes' pages are plain HTML with an Authorize button), so it runs with no
// account anywhere:
//
//	go run ./examples/weblogin
//	# open http://127.0.0.1:8080/
//
// To sign in with a real provider, set its credentials in the
// environment; the redirect URL to register is printed at start:
//
//	DOUYIN_CLIENT_KEY, DOUYIN_CLIENT_SECRET
//	TOUTIAO_CLIENT_KEY, TOUTIAO_CLIENT_SECRET
//	TIKTOK_CLIENT_KEY, TIKTOK_CLIENT_SECRET
//	FANTEM_CLIENT_ID, FANTEM_HOST (the gateway's base URL)
//	WEBLOGIN_BASE_URL (the public URL of this app; default http://ADDR)
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x"
	"github.com/oauth2x/oauth2x/douyin"
	"github.com/oauth2x/oauth2x/douyin/douyintest"
	"github.com/oauth2x/oauth2x/fantem"
	"github.com/oauth2x/oauth2x/fantem/fantemtest"
	"github.com/oauth2x/oauth2x/tiktok"
	"github.com/oauth2x/oauth2x/tiktok/tiktoktest"
	"github.com/oauth2x/oauth2x/toutiao"
	"github.com/oauth2x/oauth2x/toutiao/toutiaotest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on (port 0: any free port)")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	base := os.Getenv("WEBLOGIN_BASE_URL")
	if base == "" {
		base = "http://" + ln.Addr().String()
	}
	a, closeFakes := newApp(strings.TrimRight(base, "/"), os.Getenv)
	defer closeFakes()
	for _, p := range a.providers {
		fmt.Printf("weblogin: %s (%s): redirect URL %s\n", p.Title, p.mode, a.redirect(p))
	}
	fmt.Printf("weblogin: listening on %s/\n", base)
	srv := &http.Server{Handler: a.handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, os.Interrupt)
		<-stop
		srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

// provider is one "Sign in with" button.
type provider struct {
	Name, Title string
	mode        string // "fake" or "real"
	flow        oauth2x.Flow
	ctx         context.Context // carries the HTTP client that reaches the provider
	profile     func(ctx context.Context, tok *oauth2.Token) (*profile, error)
}

// profile is what the page shows about who signed in.
type profile struct {
	Provider, Name, OpenID, UnionID, Scope string
	Avatar                                 template.URL // see avatarURL
	Expires                                time.Time
}

// avatarURL lets an avatar URL from a provider into the page's img src
// when it is https, http or an inline image, which an img cannot run.
func avatarURL(s string) template.URL {
	for _, prefix := range []string{"https://", "http://", "data:image/png;", "data:image/jpeg;", "data:image/svg+xml;"} {
		if strings.HasPrefix(s, prefix) {
			return template.URL(s)
		}
	}
	return ""
}

// app is the web app. It is safe for concurrent use: it holds no state
// between requests beyond the login cookie in the browser.
type app struct {
	base      string
	providers []*provider
}

func (a *app) redirect(p *provider) string { return a.base + "/callback/" + p.Name }

// newApp builds the app at base, with each provider real when env names
// its credentials and a fake otherwise; the returned function stops the fakes.
func newApp(base string, env func(string) string) (*app, func()) {
	a := &app{base: base}
	var closers []func()
	add := func(p *provider, c *http.Client) {
		p.mode = "real"
		if c != nil {
			p.mode = "fake"
		} else {
			c = &http.Client{Timeout: 30 * time.Second}
		}
		p.ctx = context.WithValue(context.Background(), oauth2.HTTPClient, c)
		a.providers = append(a.providers, p)
	}

	// Douyin and Toutiao: the same platform on two hosts.
	{
		p := &provider{Name: "douyin", Title: "Douyin"}
		c := &douyin.Config{ClientKey: env("DOUYIN_CLIENT_KEY"), ClientSecret: env("DOUYIN_CLIENT_SECRET"), RedirectURL: a.redirect(p), Scopes: []string{"user_info"}}
		var client *http.Client
		if c.ClientKey == "" {
			f := douyintest.NewServer()
			closers, client, c.ClientKey, c.ClientSecret, c.Endpoint = append(closers, f.Close), f.Client(), f.ClientKey, f.ClientSecret, f.Endpoint()
		}
		p.flow = c
		p.profile = func(ctx context.Context, tok *oauth2.Token) (*profile, error) {
			return byteDanceProfile(c.UserInfo(ctx, tok))
		}
		add(p, client)
	}
	{
		p := &provider{Name: "toutiao", Title: "Toutiao"}
		c := &toutiao.Config{ClientKey: env("TOUTIAO_CLIENT_KEY"), ClientSecret: env("TOUTIAO_CLIENT_SECRET"), RedirectURL: a.redirect(p), Scopes: []string{"user_info"}}
		var client *http.Client
		if c.ClientKey == "" {
			f := toutiaotest.NewServer()
			closers, client, c.ClientKey, c.ClientSecret, c.Endpoint = append(closers, f.Close), f.Client(), f.ClientKey, f.ClientSecret, f.Endpoint()
		}
		p.flow = c
		p.profile = func(ctx context.Context, tok *oauth2.Token) (*profile, error) {
			u, err := c.UserInfo(ctx, tok)
			return byteDanceProfile((*douyin.User)(u), err) // the same fields
		}
		add(p, client)
	}

	// TikTok.
	{
		p := &provider{Name: "tiktok", Title: "TikTok"}
		c := &tiktok.Config{ClientKey: env("TIKTOK_CLIENT_KEY"), ClientSecret: env("TIKTOK_CLIENT_SECRET"), RedirectURL: a.redirect(p), Scopes: []string{"user.info.basic"}}
		var client *http.Client
		if c.ClientKey == "" {
			f := tiktoktest.NewServer()
			fc := f.Config(a.redirect(p), c.Scopes...) // registers the redirect URL
			closers, client, c.ClientKey, c.ClientSecret, c.Endpoint = append(closers, f.Close), f.Client(), fc.ClientKey, fc.ClientSecret, fc.Endpoint
		}
		p.flow = c
		p.profile = func(ctx context.Context, tok *oauth2.Token) (*profile, error) {
			u, err := c.UserInfo(ctx, tok, "open_id", "union_id", "avatar_url", "display_name")
			if err != nil {
				return nil, err
			}
			return &profile{Name: u.DisplayName, Avatar: avatarURL(u.AvatarURL), OpenID: u.OpenID, UnionID: u.UnionID}, nil
		}
		add(p, client)
	}

	// Fantem: the gateway documents no profile call; the fake's API says
	// whose token it is.
	{
		p := &provider{Name: "fantem", Title: "Fantem"}
		c := &fantem.Config{ClientID: env("FANTEM_CLIENT_ID"), RedirectURL: a.redirect(p), Scopes: []string{"devices"}}
		var client *http.Client
		apiURL := ""
		if host := env("FANTEM_HOST"); c.ClientID != "" && host != "" {
			e, err := fantem.EndpointFor(host)
			if err != nil {
				log.Fatalf("weblogin: FANTEM_HOST: %v", err)
			}
			c.Endpoint = e
		} else {
			f := fantemtest.NewServer()
			closers, client, c.ClientID, c.Endpoint, apiURL = append(closers, f.Close), f.Client(), f.ClientID, f.Endpoint(), f.URL+fantemtest.APIPath
		}
		p.flow = c
		p.profile = func(ctx context.Context, tok *oauth2.Token) (*profile, error) {
			if apiURL == "" {
				return &profile{Name: "(the gateway has no profile call)"}, nil
			}
			var ans fantemtest.APIAnswer
			if err := getJSON(c.Client(ctx, tok), apiURL, &ans); err != nil {
				return nil, err
			}
			if ans.Error != "" {
				return nil, errors.New("fantem API: " + ans.Error)
			}
			return &profile{Name: ans.User, OpenID: ans.User}, nil
		}
		add(p, client)
	}
	return a, func() {
		for _, c := range closers {
			c()
		}
	}
}

// byteDanceProfile is what Douyin's and Toutiao's user info show.
func byteDanceProfile(u *douyin.User, err error) (*profile, error) {
	if err != nil {
		return nil, err
	}
	return &profile{Name: u.Nickname, Avatar: avatarURL(u.Avatar), OpenID: u.OpenID, UnionID: u.UnionID}, nil
}

func getJSON(c *http.Client, url string, v any) error {
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(v)
}

// handler routes: / lists the providers, /login/{name} starts a login,
// /callback/{name} finishes it and shows the profile.
func (a *app) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("GET /login/{name}", a.login)
	mux.HandleFunc("GET /callback/{name}", a.callback)
	return mux
}

func (a *app) find(name string) *provider {
	for _, p := range a.providers {
		if p.Name == name {
			return p
		}
	}
	return nil
}

func (a *app) home(w http.ResponseWriter, r *http.Request) {
	render(w, http.StatusOK, "home", a.providers)
}

// login sends the browser to the provider's page with a fresh state, kept
// in a cookie to check at the callback.
func (a *app) login(w http.ResponseWriter, r *http.Request) {
	p := a.find(r.PathValue("name"))
	if p == nil {
		http.NotFound(w, r)
		return
	}
	b := make([]byte, 16)
	rand.Read(b)
	state := hex.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: "weblogin_state_" + p.Name, Value: state, Path: "/callback/" + p.Name,
		MaxAge: 600, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: strings.HasPrefix(a.base, "https:")})
	http.Redirect(w, r, p.flow.AuthCodeURL(state), http.StatusFound)
}

// callback checks the state, exchanges the code and shows the profile.
func (a *app) callback(w http.ResponseWriter, r *http.Request) {
	p := a.find(r.PathValue("name"))
	if p == nil {
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	cookie, err := r.Cookie("weblogin_state_" + p.Name)
	switch {
	case q.Get("error") != "":
		render(w, http.StatusForbidden, "error", map[string]string{"Provider": p.Title, "Message": "You did not sign in: " + q.Get("error") + " " + q.Get("error_description")})
		return
	case err != nil || cookie.Value == "" || cookie.Value != q.Get("state"):
		render(w, http.StatusBadRequest, "error", map[string]string{"Provider": p.Title, "Message": "The login expired or did not start here: please sign in again."})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: cookie.Name, Path: "/callback/" + p.Name, MaxAge: -1})
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	tok, err := p.flow.Exchange(ctx, q.Get("code"))
	var prof *profile
	if err == nil {
		prof, err = p.profile(ctx, tok)
	}
	if err != nil {
		// The library's errors carry no secret, code or token.
		render(w, http.StatusBadGateway, "error", map[string]string{"Provider": p.Title, "Message": err.Error()})
		return
	}
	prof.Provider, prof.Expires = p.Title, tok.Expiry
	if s, ok := tok.Extra("scope").(string); ok {
		prof.Scope = s
	}
	render(w, http.StatusOK, "profile", prof)
}

var pages = template.Must(template.New("").Parse(`
{{define "head"}}<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{{.}} – weblogin</title>
<style>body{font-family:sans-serif;max-width:36em;margin:3em auto}a.button{display:inline-block;padding:.5em 1em;margin:.3em;border:1px solid #333;border-radius:6px;text-decoration:none;color:#000}img{border-radius:50%;width:96px;height:96px;object-fit:cover;background:#ddd}dt{font-weight:bold}</style></head><body>{{end}}
{{define "home"}}{{template "head" "Sign in"}}<h1>Sign in</h1>
<p>{{range .}}<a class="button" id="login-{{.Name}}" href="/login/{{.Name}}">Sign in with {{.Title}}</a> {{end}}</p></body></html>{{end}}
{{define "profile"}}{{template "head" "Signed in"}}<h1>Signed in with <span id="provider">{{.Provider}}</span></h1>
{{if .Avatar}}<p><img id="avatar" src="{{.Avatar}}" alt="avatar"></p>{{end}}
<dl><dt>Name</dt><dd id="name">{{.Name}}</dd><dt>Open ID</dt><dd id="open-id">{{.OpenID}}</dd>
{{if .UnionID}}<dt>Union ID</dt><dd id="union-id">{{.UnionID}}</dd>{{end}}
{{if .Scope}}<dt>Scope</dt><dd id="scope">{{.Scope}}</dd>{{end}}
{{if not .Expires.IsZero}}<dt>Token expires</dt><dd id="expires">{{.Expires.Format "2006-01-02 15:04 MST"}}</dd>{{end}}</dl>
<p><a href="/">Sign in again</a></p></body></html>{{end}}
{{define "error"}}{{template "head" "Not signed in"}}<h1>Not signed in with {{.Provider}}</h1><p id="error">{{.Message}}</p><p><a href="/">Back</a></p></body></html>{{end}}
`))

func render(w http.ResponseWriter, status int, page string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, page, data); err != nil {
		log.Print(err)
	}
}
