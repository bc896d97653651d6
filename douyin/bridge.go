package douyin

import (
	"net/http"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x/internal/bridge"
	"github.com/oauth2x/oauth2x/internal/bytedance"
)

// Bridge returns an *http.Client that lets a program keep its plain
// *oauth2.Config or clientcredentials.Config and talk to Douyin. Put it in
// the context under oauth2.HTTPClient: x/oauth2's token requests to
// e.TokenURL (or the documented token paths on its host) are answered by a
// [Config] with the client id and secret the request carries, whether in
// the body or in HTTP Basic auth, and Douyin's answers come back as RFC 6749
// JSON. Grant authorization_code calls [Config.Exchange], refresh_token
// [Config.Refresh], client_credentials [Config.ClientToken]. Errors come
// back as {"error":…,"error_description":…} with a 4xx or 5xx status, so
// x/oauth2 returns an *oauth2.RetrieveError: invalid_grant for a dead code
// or refresh token, invalid_client for a wrong key or secret, with Douyin's
// code and log id in the description. Every other request, including
// those a Config makes in Douyin's own dialect, goes to base unchanged.
//
// An empty URL in e means the one in [Endpoint] when Bridge is called; a
// prefix in e.TokenURL is kept for the derived paths. base (nil: a client
// with a 30-second timeout) makes the calls to Douyin. The authorization
// page URL still comes from [Config.AuthCodeURL]: x/oauth2's own names the
// client client_id, which Douyin does not read. Errors keep their kind:
// oauth2x.KindOf gives the same kind as for a direct call.
//
// With AuthStyleAutoDetect, x/oauth2 sends a failed request a second time
// with the credentials in the body; set Endpoint.AuthStyle to avoid that.
func Bridge(e oauth2.Endpoint, base *http.Client) *http.Client {
	return platform.Bridge(e, base, func(a *bytedance.App) bridge.Flow { return (*Config)(a) })
}
