package bytedance

import (
	"net/http"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x/internal/bridge"
)

// Bridge returns the client that lets plain x/oauth2 flows talk to the
// platform at e (zero: the platform's Endpoint). It translates requests to
// the token URL and to the documented token paths on its host; flow turns
// the app a request describes into the provider's Config.
func (p *Platform) Bridge(e oauth2.Endpoint, base *http.Client, flow func(*App) bridge.Flow) *http.Client {
	e = p.endpoint(&App{Endpoint: e}) // the package's Endpoint as it is now
	a := &App{Endpoint: e}
	urls := []string{e.TokenURL}
	for _, path := range []string{PathAccessToken, PathRefreshToken, PathClientToken, PathStableClientToken} {
		urls = append(urls, p.URL(a, path))
	}
	return bridge.Client(base, &bridge.Provider{
		Name:      p.Name,
		TokenURLs: urls,
		For: func(id, secret string) bridge.Flow {
			return flow(&App{ClientKey: id, ClientSecret: secret, Endpoint: e})
		},
	})
}

// OpenID returns the open_id a token answer carried, or "".
func OpenID(t *oauth2.Token) string {
	if t == nil {
		return ""
	}
	s, _ := t.Extra(ExtraOpenID).(string)
	return s
}
