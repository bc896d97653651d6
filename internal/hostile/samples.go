// Package hostile holds the answers the providers' documents print and the
// hostile ones a token endpoint may send instead (a gateway's HTML, a body
// cut short, numbers out of range, duplicate keys). The fuzz targets of the
// decoders start from them, and this package's tests send each to every
// provider's fake and check that none gives a token, every error is typed
// and bounded in time, and no secret leaks. It holds only data; it is safe
// for concurrent use because nothing in it is ever written.
package hostile

import (
	"fmt"
	"strings"

	"golang.org/x/oauth2"
)

// Sample is one answer a token endpoint may send.
type Sample struct {
	Name   string
	Status int
	Body   string
}

// Documented lists every answer printed in the providers' documents (see
// PROVIDERS.md), verbatim.
var Documented = []Sample{
	{"bytedance success, numbers", 200, `{"data":{"access_token":"act.f7094fbffab2ecbfc45e9af9c32bc241oYdckvBKe82BPx8T0000","captcha":"","desc_url":"","description":"","error_code":0,"expires_in":1296000,"log_id":"20230525105733ED3ED7AC56A0000","open_id":"b9b71865-7fea-44cc-0000","refresh_expires_in":2592000,"refresh_token":"rft.713900b74edde9f30ec4e246b706da30t0000","scope":"user_info"},"message":"success"}`},
	{"bytedance success, strings", 200, `{"data":{"access_token":"access_token","description":"","error_code":"0","expires_in":"86400","open_id":"aaa-bbb-ccc","refresh_expires_in":"86400","refresh_token":"refresh_token","scope":"user_info"},"message":"<nil>"}`},
	{"bytedance renew", 200, `{"data":{"description":"","error_code":0,"expires_in":"86400","refresh_token":"rft.713900b74edde9f30ec4e246b706da30t0001"},"message":"success"}`},
	{"bytedance client token", 200, `{"data":{"access_token":"clt.f7094fbffab2ecbfc45e9af9c32bc241oYdckvBKe82BPx8T0000","description":"","error_code":0,"expires_in":7200},"message":"success"}`},
	{"bytedance error", 200, `{"data":{"captcha":"","desc_url":"","description":"缺少参数","error_code":10005},"message":"error"}`},
	{"bytedance error with extra", 200, `{"data":{"description":"Parameter error","error_code":2100005},"extra":{"logid":"2020070614111601022506808001045D59","now":1594015876138}}`},
	{"fantem code", 200, `{"access_token":"294D412BD5A20464043F2381EC3EB6C7","refresh_token":"567030884C7EA513FB843843859A58C3","expires_in":36000}`},
	{"fantem refresh", 200, `{"access_token":"294D412BD5A20464043F2381EC3EB6C7","expires_in":36000}`},
	{"fantem refresh, string number", 200, `{"access_token":"294D412BD5A20464043F2381EC3EB6C7","expires_in":"36000"}`},
	{"rfc error", 400, `{"error":"invalid_grant","error_description":"refresh token unknown"}`},
}

// Planted is the access token and refresh token planted in hostile answers
// that carry one: whatever the answer's fault, neither may reach an error's
// text or RetrieveError.Body.
const (
	PlantedAccess  = "act.planted0hostile0access0token0000"
	PlantedRefresh = "rft.planted0hostile0refresh0token000"
)

// MaxSeed is the size above which a sample is too large to seed a fuzz
// target with.
const MaxSeed = 4 << 10

// Answers lists hostile answers. None may give a token: each must give a
// typed error. They are written in both dialects where the dialect
// matters; a ByteDance envelope sent to an RFC 6749 decoder (or the other
// way round) must fail too, because it carries no token where that decoder
// looks.
var Answers = []Sample{
	{"html 502", 502, "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"},
	{"html 200", 200, "<!DOCTYPE html><html><body>Please log in</body></html>"},
	{"empty 200", 200, ""},
	{"empty 500", 500, ""},
	{"whitespace", 200, " \n\t "},
	{"truncated bytedance", 200, `{"data":{"access_token":"` + PlantedAccess + `","expires_in":1296000,"refresh_token":"` + PlantedRefresh[:10]},
	{"truncated rfc", 200, `{"access_token":"` + PlantedAccess + `","expires_in":36`},
	{"json null", 200, `null`},
	{"json array", 200, `[{"access_token":"` + PlantedAccess + `"}]`},
	{"json string", 200, `"{\"access_token\":\"` + PlantedAccess + `\",\"expires_in\":10,\"data\":{\"access_token\":\"` + PlantedAccess + `\",\"expires_in\":10}}"`},
	{"trailing garbage", 200, `{"access_token":"` + PlantedAccess + `","expires_in":10,"data":{"access_token":"` + PlantedAccess + `","expires_in":10,"error_code":0}} x`},
	{"data string", 200, `{"data":"{\"access_token\":\"` + PlantedAccess + `\",\"expires_in\":1296000,\"error_code\":0}","message":"success"}`},
	{"data null", 200, `{"data":null,"message":"success"}`},
	{"data array", 200, `{"data":[],"message":"success"}`},
	{"access token object", 200, `{"access_token":{"v":"x"},"expires_in":10,"data":{"access_token":{"v":"x"},"expires_in":10,"error_code":0}}`},
	{"expires_in out of range", 200, `{"access_token":"` + PlantedAccess + `","expires_in":99999999999999999999999,"data":{"access_token":"` + PlantedAccess + `","expires_in":99999999999999999999999,"error_code":0}}`},
	{"error_code out of range", 200, `{"data":{"access_token":"` + PlantedAccess + `","expires_in":10,"error_code":1e400}}`},
	{"expires_in zero", 200, `{"access_token":"` + PlantedAccess + `","expires_in":0,"data":{"access_token":"` + PlantedAccess + `","expires_in":0,"error_code":0}}`},
	{"expires_in negative", 200, `{"access_token":"` + PlantedAccess + `","expires_in":-86400,"data":{"access_token":"` + PlantedAccess + `","expires_in":-86400,"error_code":0}}`},
	{"expires_in negative string", 200, `{"access_token":"` + PlantedAccess + `","expires_in":"-1","data":{"access_token":"` + PlantedAccess + `","expires_in":"-1","error_code":"0"}}`},
	{"expires_in huge", 200, `{"access_token":"` + PlantedAccess + `","expires_in":9223372036854775807,"data":{"access_token":"` + PlantedAccess + `","expires_in":9223372036854775807,"error_code":0}}`},
	{"expires_in eleven years", 200, `{"access_token":"` + PlantedAccess + `","expires_in":346896000,"data":{"access_token":"` + PlantedAccess + `","expires_in":346896000,"error_code":0}}`},
	{"expires_in fraction", 200, `{"access_token":"` + PlantedAccess + `","expires_in":3600.5,"data":{"access_token":"` + PlantedAccess + `","expires_in":3600.5,"error_code":0}}`},
	{"error_code float", 200, `{"error":1.5,"data":{"access_token":"` + PlantedAccess + `","expires_in":10,"error_code":10007.5}}`},
	{"error_code float whole", 200, `{"error":"invalid_grant","data":{"access_token":"` + PlantedAccess + `","expires_in":10,"error_code":10007.0},"message":"error"}`},
	{"error_code string float", 200, `{"error":"server_error","data":{"access_token":"` + PlantedAccess + `","expires_in":10,"error_code":"0.5"}}`},
	{"duplicate access_token", 200, `{"access_token":"` + PlantedAccess + `","access_token":"act.second","expires_in":10,"data":{"access_token":"` + PlantedAccess + `","access_token":"act.second","expires_in":10,"error_code":0}}`},
	{"duplicate in other case", 200, `{"access_token":"` + PlantedAccess + `","ACCESS_TOKEN":"act.second","expires_in":10,"data":{"access_token":"` + PlantedAccess + `","Access_Token":"act.second","expires_in":10,"error_code":0}}`},
	{"duplicate by unicode folding", 200, `{"access_token":"` + PlantedAccess + `","acceſs_token":"act.second","expires_in":10,"data":{"access_token":"` + PlantedAccess + `","acceſs_token":"act.second","expires_in":10,"error_code":0}}`},
	{"duplicate by escape", 200, `{"access_token":"` + PlantedAccess + `","acc\u0065ss_token":"act.second","expires_in":10,"data":{"access_token":"` + PlantedAccess + `","acc\u0065ss_token":"act.second","expires_in":10,"error_code":0}}`},
	{"duplicate error_code hides error", 200, `{"error":"invalid_grant","error":"","access_token":"` + PlantedAccess + `","expires_in":10,"data":{"access_token":"` + PlantedAccess + `","expires_in":10,"error_code":10010,"error_code":0}}`},
	{"duplicate data", 200, `{"data":{"error_code":10010},"data":{"access_token":"` + PlantedAccess + `","expires_in":10,"error_code":0},"access_token":"` + PlantedAccess + `","expires_in":10,"access_token":"` + PlantedAccess + `"}`},
	{"no access token", 200, `{"refresh_token":"` + PlantedRefresh + `","expires_in":10,"data":{"refresh_token":"` + PlantedRefresh + `","error_code":0,"expires_in":10},"message":"success"}`},
	{"empty access token", 200, `{"access_token":"","expires_in":10,"data":{"access_token":"","expires_in":10,"error_code":0},"message":"success"}`},
	{"message error", 200, `{"error":"access_denied","data":{"access_token":"` + PlantedAccess + `","expires_in":10,"error_code":0},"message":"error"}`},
	{"extra error", 200, `{"error":"invalid_request","data":{"access_token":"` + PlantedAccess + `","expires_in":10},"extra":{"logid":"L1","error_code":2100005,"description":"Parameter error"}}`},
	{"error with token 400", 400, `{"error":"invalid_grant","access_token":"` + PlantedAccess + `","refresh_token":"` + PlantedRefresh + `","data":{"error_code":10010,"access_token":"` + PlantedAccess + `"}}`},
	{"success body 500", 500, `{"access_token":"` + PlantedAccess + `","expires_in":10,"data":{"access_token":"` + PlantedAccess + `","expires_in":10,"error_code":0},"message":"success"}`},
	{"form encoded 400", 400, "access_token=" + PlantedAccess + "&refresh_token=" + PlantedRefresh + "&expires_in=10"},
	{"form encoded 200", 200, "access_token=" + PlantedAccess + "&refresh_token=" + PlantedRefresh + "&expires_in=10"},
	{"plain text 429", 429, "Too Many Requests"},
	{"deep nesting", 200, strings.Repeat("[", 10001) + strings.Repeat("]", 10001)}, // encoding/json stops at 10000
	{"invalid utf-8", 200, "{\"access_token\":\"\xff\xfe\",\"data\":{\"access_token\":\"\xff\xfe\",\"expires_in\":10,\"error_code\":0}}"},
	// A 400 that is not the provider's (a proxy's or a WAF's page) proves
	// nothing about the grant.
	{"html 400", 400, "<html><head><title>400 Bad Request</title></head><body><center>400 Bad Request</center><hr><center>nginx</center></body></html>"},
	{"plain text 400", 400, "Bad Request"},
	// Tokens that cannot travel in a header (RFC 6750 b64token), and token
	// types that would change the header.
	{"access token space", 200, tokenAnswer(`" "`, `"`+PlantedRefresh+`"`, `"Bearer"`)},
	{"access token tab newline", 200, tokenAnswer(`"\t\n"`, `"`+PlantedRefresh+`"`, `"Bearer"`)},
	{"access token NUL", 200, tokenAnswer(`"act.a\u0000b"`, `"`+PlantedRefresh+`"`, `"Bearer"`)},
	{"access token CRLF", 200, tokenAnswer(`"act.a\r\nX-Injected: 1"`, `"`+PlantedRefresh+`"`, `"Bearer"`)},
	{"access token terminal escape", 200, tokenAnswer(`"act.\u001b]0;owned\u0007\u001b[2J"`, `"`+PlantedRefresh+`"`, `"Bearer"`)},
	{"access token padding inside", 200, tokenAnswer(`"act.a=b"`, `"`+PlantedRefresh+`"`, `"Bearer"`)},
	{"refresh token CRLF", 200, tokenAnswer(`"`+PlantedAccess+`"`, `"rft.a\r\nb"`, `"Bearer"`)},
	{"refresh token space", 200, tokenAnswer(`"`+PlantedAccess+`"`, `"rft.a b"`, `"Bearer"`)},
	// token_type is read only by the RFC 6749 dialect (ByteDance tokens
	// are always sent as the library says); these are top-level answers,
	// which a ByteDance envelope does not read either.
	{"token_type mac", 200, `{"access_token":"` + PlantedAccess + `","token_type":"mac","expires_in":10}`},
	{"token_type CRLF", 200, `{"access_token":"` + PlantedAccess + `","token_type":"Bearer\r\nX-Injected: 1","expires_in":10}`},
}

// tokenAnswer is a success answer in both dialects with the given JSON
// values for the access token, refresh token and token type.
func tokenAnswer(access, refresh, typ string) string {
	return `{"access_token":` + access + `,"refresh_token":` + refresh + `,"token_type":` + typ + `,"expires_in":10,` +
		`"data":{"access_token":` + access + `,"refresh_token":` + refresh + `,"expires_in":10,"error_code":0},"message":"success"}`
}

// DeepBrackets is a body just under the engine's 1 MiB cap of nothing but
// "[": cleaning it once cost 121 MB.
func DeepBrackets() string { return strings.Repeat("[", MaxBodyHere-1) }

// LongDescription is an error answer in both dialects whose description
// fills most of the 1 MiB cap: the error's text keeps at most 200 bytes of
// it.
func LongDescription() string {
	desc := strings.Repeat("x", MaxBodyHere/2-200)
	return `{"error":"invalid_request","error_description":"` + desc + `","data":{"error_code":10005,"description":"` + desc + `"}}`
}

// MaxBodyHere is the engine's cap on an answer (wire.MaxBody), which this
// package cannot import.
const MaxBodyHere = 1 << 20

// ManyTokens is a body under the cap that names 40,000 distinct codes:
// redacting each one through the body would take minutes.
func ManyTokens() string {
	var b strings.Builder
	b.WriteString(`{"data":{"error_code":10007,"description":"`)
	b.WriteString(PlantedAccess)
	b.WriteString(`"},"codes":[`)
	for i := range 40000 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"code":"c%07d"}`, i)
	}
	b.WriteString(`],"access_token":"` + PlantedAccess + `","error":"invalid_grant"}`)
	return b.String()
}

// Oversized is a body past the engine's 1 MiB cap: 10 MiB of one valid
// answer padded with spaces, so only the cap can refuse it.
func Oversized() string {
	const n = 10 << 20
	head := `{"access_token":"` + PlantedAccess + `","expires_in":10,"data":{"access_token":"` + PlantedAccess + `","expires_in":10,"error_code":0},"message":"success"`
	return head + strings.Repeat(" ", n-len(head)-1) + "}"
}

// Broken returns what breaks the contract every token decoder keeps —
// exactly one of a token and an error, and a token with an access token —
// or "" when nothing does.
func Broken(tok *oauth2.Token, failed bool) string {
	switch {
	case tok == nil && !failed:
		return "neither a token nor an error"
	case tok != nil && failed:
		return "both a token and an error"
	case tok != nil && tok.AccessToken == "":
		return "a token with an empty access token"
	}
	return ""
}
