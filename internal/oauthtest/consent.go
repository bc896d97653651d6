package oauthtest

import (
	"context"
	"errors"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// consentPage is the authorization page a person sees: which app asks,
// for which scopes, and buttons to approve or deny. The form posts the
// page's own parameters back to the page.
var consentPage = template.Must(template.New("consent").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Authorize {{.App}} – {{.Provider}}</title>
<style>body{font-family:sans-serif;max-width:28em;margin:3em auto}button{font-size:1.1em;padding:.4em 1.2em;margin-right:.5em}</style></head>
<body><h1>{{.Provider}}</h1>
<p><strong id="app">{{.App}}</strong> would like to access your {{.Provider}} account.</p>
<p>It asks for:</p><ul id="scopes">{{range .Scopes}}<li>{{.}}</li>{{else}}<li>your public profile</li>{{end}}</ul>
<form method="post" action="{{.Action}}">{{range $k, $vs := .Params}}{{range $vs}}<input type="hidden" name="{{$k}}" value="{{.}}">{{end}}{{end}}
<button id="approve" type="submit" name="consent" value="approve">Authorize</button>
<button id="deny" type="submit" name="consent" value="deny">Cancel</button>
</form></body></html>
`))

// ShowConsent answers the consent page to a browser's GET (one that
// accepts text/html), or to every GET when always is set, and returns true.
// Call it once the page's parameters have been checked.
func ShowConsent(w http.ResponseWriter, r *http.Request, provider, app string, always bool) bool {
	if r.Method != http.MethodGet || !(always || strings.Contains(r.Header.Get("Accept"), "text/html")) {
		return false
	}
	q := r.URL.Query()
	var scopes []string
	for s := range strings.FieldsFuncSeq(q.Get("scope"), func(r rune) bool { return r == ',' || r == ' ' }) {
		scopes = append(scopes, s)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	consentPage.Execute(w, map[string]any{"Provider": provider, "App": app, "Scopes": scopes, "Params": q, "Action": r.URL.Path})
	return true
}

// TakeConsent reads a POST from the consent page, the person's answer.
// Cancel redirects to the redirect_uri with error=access_denied and
// returns true. Authorize puts the page's parameters in r.URL's query and
// returns false, so the caller checks them and goes on as if the page had
// been opened with them and approved. Other requests pass (false).
func TakeConsent(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodPost {
		return false
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return true
	}
	p := r.PostForm
	answer := p.Get("consent")
	p.Del("consent")
	if answer == "deny" {
		back := url.Values{"error": {"access_denied"}, "error_description": {"The user denied the request."}}
		if s := p.Get("state"); s != "" {
			back.Set("state", s)
		}
		http.Redirect(w, r, p.Get("redirect_uri")+"?"+back.Encode(), http.StatusFound)
		return true
	}
	r.URL.RawQuery = p.Encode()
	return false
}

// Approve opens authURL with client as a person's browser does, finds the
// consent page's form and submits it with the approve button, and returns
// the code and state the page redirects back with, without following the
// redirect.
func Approve(ctx context.Context, client *http.Client, authURL string) (code, state string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return "", "", err
	}
	req.Header.Set("Accept", "text/html")
	resp, err := client.Do(req)
	if err != nil {
		return "", "", err
	}
	page, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), `id="approve"`) {
		return "", "", errors.New("authorization page refused: " + resp.Status + ": " + strings.TrimSpace(string(page)))
	}
	u, err := url.Parse(authURL)
	if err != nil {
		return "", "", err
	}
	form := u.Query()
	form.Set("consent", "approve")
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err = http.NewRequestWithContext(ctx, http.MethodPost, u.Scheme+"://"+u.Host+u.Path, strings.NewReader(form.Encode()))
	if err != nil {
		return "", "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = c.Do(req)
	if err != nil {
		return "", "", err
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		return "", "", errors.New("authorization page refused the approval: " + resp.Status)
	}
	if e := loc.Query().Get("error"); e != "" {
		return "", "", errors.New("authorization page answered " + e + ": " + loc.Query().Get("error_description"))
	}
	return loc.Query().Get("code"), loc.Query().Get("state"), nil
}

// Title is a provider's name as a page shows it: "douyin" → "Douyin".
func Title(name string) string {
	if name == "" {
		return name
	}
	return strings.ToUpper(name[:1]) + name[1:]
}
