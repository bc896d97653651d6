package bytedance

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/oauth2x/oauth2x/internal/wire"
)

// TikTokUser is a TikTok user's profile. tiktok.User has its fields, in
// its order, so that it converts to it.
type TikTokUser struct {
	OpenID, UnionID, DisplayName, Username    string
	AvatarURL, AvatarURL100, AvatarLargeURL   string
	BioDescription, ProfileDeepLink           string
	IsVerified                                bool
	FollowerCount, FollowingCount, LikesCount int64
	VideoCount                                int64
	LogID                                     string
	Raw                                       json.RawMessage
}

type tiktokAnswer struct {
	Data *struct {
		User json.RawMessage `json:"user"`
	} `json:"data"`
	Error *struct {
		Code    wire.String `json:"code"`
		Message wire.String `json:"message"`
		LogID   wire.String `json:"log_id"`
	} `json:"error"`
}

type tiktokUser struct {
	OpenID          wire.String   `json:"open_id"`
	UnionID         lenientString `json:"union_id"`
	DisplayName     lenientString `json:"display_name"`
	Username        lenientString `json:"username"`
	AvatarURL       lenientString `json:"avatar_url"`
	AvatarURL100    lenientString `json:"avatar_url_100"`
	AvatarLargeURL  lenientString `json:"avatar_large_url"`
	BioDescription  lenientString `json:"bio_description"`
	ProfileDeepLink lenientString `json:"profile_deep_link"`
	IsVerified      lenientBool   `json:"is_verified"`
	FollowerCount   lenientInt    `json:"follower_count"`
	FollowingCount  lenientInt    `json:"following_count"`
	LikesCount      lenientInt    `json:"likes_count"`
	VideoCount      lenientInt    `json:"video_count"`
}

// tiktokKinds classifies TikTok's API error codes.
var tiktokKinds = map[string]error{
	"access_token_invalid":    wire.ErrInvalidToken,
	"scope_not_authorized":    wire.ErrInsufficientScope,
	"scope_permission_missed": wire.ErrInsufficientScope,
	"invalid_params":          wire.ErrInvalidRequest,
	"rate_limit_exceeded":     wire.ErrRateLimited,
	"internal_error":          wire.ErrTemporary,
}

// DecodeTikTokUser decodes TikTok's /v2/user/info/ answer. A success
// still carries "error", with code "ok"; any other code is a failure
// whatever the status, classified by the code (an unknown one is
// ErrRejected unless the status is 429 or 5xx).
func DecodeTikTokUser(status int, body []byte) (*TikTokUser, *wire.Error) {
	var a tiktokAnswer
	var u tiktokUser
	err := wire.Unmarshal(body, &a)
	if err == nil && a.Data != nil && len(a.Data.User) > 0 {
		err = wire.Unmarshal(a.Data.User, &u)
	}
	if err != nil || a.Error == nil {
		if !success(status) {
			return nil, &wire.Error{}
		}
		if err == nil {
			err = errors.New("no error object")
		}
		return nil, &wire.Error{Kind: wire.ErrBadResponse, Cause: errors.New("answer is not a TikTok API answer: " + wire.ScrubJSONError(err).Error())}
	}
	e := &wire.Error{LogID: string(a.Error.LogID), Code: string(a.Error.Code), Description: string(a.Error.Message)}
	switch {
	case a.Error.Code != "ok":
		// The code decides, whatever the status; one the library does not
		// know is the API's refusal, unless the status says busy.
		if e.Kind = tiktokKinds[e.Code]; e.Kind == nil && status < 500 && status != http.StatusTooManyRequests {
			e.Kind = wire.ErrRejected
		}
		return nil, e
	case !success(status) && status < 500 && status != http.StatusTooManyRequests:
		// "ok" with a failing status: the answer contradicts itself.
		e.Kind, e.Cause = wire.ErrBadResponse, errors.New("code ok with a failing status")
		return nil, e
	case !success(status):
		return nil, e
	case a.Data == nil || len(a.Data.User) == 0 || string(a.Data.User) == "null":
		e.Kind, e.Cause = wire.ErrBadResponse, errors.New("answer carries no user")
		return nil, e
	}
	return &TikTokUser{
		OpenID: string(u.OpenID), UnionID: string(u.UnionID), DisplayName: string(u.DisplayName), Username: string(u.Username),
		AvatarURL: string(u.AvatarURL), AvatarURL100: string(u.AvatarURL100), AvatarLargeURL: string(u.AvatarLargeURL),
		BioDescription: string(u.BioDescription), ProfileDeepLink: string(u.ProfileDeepLink), IsVerified: bool(u.IsVerified),
		FollowerCount: int64(u.FollowerCount), FollowingCount: int64(u.FollowingCount), LikesCount: int64(u.LikesCount), VideoCount: int64(u.VideoCount),
		LogID: e.LogID, Raw: a.Data.User,
	}, nil
}

// TokenURL returns the app's token URL: its Endpoint's, or the platform's.
func (p *Platform) TokenURL(a *App) string { return p.endpoint(a).TokenURL }
