package toutiao

import (
	"context"
	"encoding/json"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x/internal/wire"
)

// User is a Toutiao user's profile, as /oauth/userinfo/ answers it in either
// edition. Values the older edition prints as "<nil>" are empty.
type User struct {
	// OpenID is the user's id for this app; UnionID the id across the apps
	// of one developer account (empty when the app is not bound to one).
	// Nickname and Avatar are the display name and the avatar's URL.
	OpenID, UnionID, Nickname, Avatar string
	// Gender is 0 (unknown), 1 (male) or 2 (female); older editions only.
	Gender int
	// City, Province and Country are given by older editions only.
	City, Province, Country string
	// EAccountRole is the enterprise account type: "EAccountM" ordinary,
	// "EAccountS" certified, "EAccountK" brand, or empty.
	EAccountRole string
	// EncryptMobile is the phone number, encrypted, when the user granted
	// mobile_alert. Decrypt it with douyin.DecryptMobile.
	EncryptMobile string
	// ClientKey is the app's key, as the current edition echoes it.
	ClientKey string
	// LogID is the answer's log id, which support asks for.
	LogID string
	// Raw is the whole "data" object, for fields this type does not name.
	Raw json.RawMessage
}

// UserInfo fetches the profile of t's user (scope user_info), sending
// access_token and open_id in a form-encoded POST body, never in a URL.
// Errors come with HTTP 200 and are classified: an invalid or expired
// access token (28001003, 28001008) is an [oauth2x.ErrInvalidToken].
// UserInfo makes that one call and never refreshes t itself: a refresh
// may rotate the refresh token, and only the caller's token source can
// keep the new one. A client from [Config.Client] or [NewClient] refreshes
// through its source and retries once when an API answer calls the token
// invalid. A nil token, or one without an open_id, is refused before any
// call with an [oauth2x.ErrInvalidRequest].
func (c *Config) UserInfo(ctx context.Context, t *oauth2.Token) (*User, error) {
	u, err := platform.UserInfo(ctx, c.app(), t)
	return (*User)(u), err
}

// UserInfoFrom is [Config.UserInfo] with the token of src, a source that
// can be told a token was refused ([Config.TokenSource],
// oauth2x.NewTokenSource, an oauth2x.Tokens source): when the answer calls the access token invalid or
// expired, src refreshes once (the new token stays in src) and
// UserInfoFrom asks again. With another source it makes one call, as
// UserInfo does.
func (c *Config) UserInfoFrom(ctx context.Context, src oauth2.TokenSource) (*User, error) {
	return wire.FromSource(ctx, src, func(t *oauth2.Token) (*User, error) { return c.UserInfo(ctx, t) })
}
