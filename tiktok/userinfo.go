package tiktok

import (
	"encoding/json"
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
