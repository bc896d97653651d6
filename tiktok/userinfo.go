package tiktok

import (
	"context"
	"encoding/json"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x/internal/wire"
)

// User is a TikTok user's profile, as /v2/user/info/ answers it. A field
// that was not asked for, or whose scope the user did not grant, is empty.
type User struct {
	// OpenID is the user's id for this app; UnionID the id across the
	// apps of one developer. DisplayName and Username (user.info.profile)
	// are the names shown.
	OpenID, UnionID, DisplayName, Username string
	// AvatarURL, AvatarURL100 and AvatarLargeURL are the avatar's URLs.
	AvatarURL, AvatarURL100, AvatarLargeURL string
	// BioDescription and ProfileDeepLink need user.info.profile.
	BioDescription, ProfileDeepLink string
	// IsVerified needs user.info.profile.
	IsVerified bool
	// FollowerCount, FollowingCount, LikesCount and VideoCount need
	// user.info.stats.
	FollowerCount, FollowingCount, LikesCount int64
	VideoCount                                int64
	// LogID is the answer's log id, which TikTok's support asks for.
	LogID string
	// Raw is the whole "user" object, for fields this type does not name.
	Raw json.RawMessage
}

// UserInfo fetches fields of t's user ("open_id", "display_name", …; each
// scope allows some); none means open_id, union_id, avatar_url and
// display_name. The token goes in a header, never in the URL. UserInfo
// makes one call and never refreshes t: an access token TikTok calls
// invalid is an [oauth2x.ErrInvalidToken] (TikTok rotates refresh tokens,
// so only the caller's token source can keep a refreshed one). A client
// from [Config.Client] refreshes through its source and retries once on
// such an answer. A nil or empty token is refused before any call with an
// [oauth2x.ErrInvalidRequest].
func (c *Config) UserInfo(ctx context.Context, t *oauth2.Token, fields ...string) (*User, error) {
	if len(fields) == 0 {
		fields = []string{"open_id", "union_id", "avatar_url", "display_name"}
	}
	u, err := platform.UserInfo(ctx, c.app(), t, fields)
	return (*User)(u), err
}

// UserInfoFrom is [Config.UserInfo] with the token of src, a source that
// can be told a token was refused ([Config.TokenSource],
// oauth2x.NewTokenSource, an oauth2x.Tokens source): when TikTok calls the access token invalid, src
// refreshes once (its rotated refresh token stays in src) and UserInfoFrom
// asks again. With another source it makes one call, as UserInfo does.
func (c *Config) UserInfoFrom(ctx context.Context, src oauth2.TokenSource, fields ...string) (*User, error) {
	return wire.FromSource(ctx, src, func(t *oauth2.Token) (*User, error) { return c.UserInfo(ctx, t, fields...) })
}
