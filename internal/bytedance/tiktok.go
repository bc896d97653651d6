package bytedance

import (
	"encoding/json"
	"errors"

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
	OpenID          wire.String `json:"open_id"`
	UnionID         wire.String `json:"union_id"`
	DisplayName     wire.String `json:"display_name"`
	Username        wire.String `json:"username"`
	AvatarURL       wire.String `json:"avatar_url"`
	AvatarURL100    wire.String `json:"avatar_url_100"`
	AvatarLargeURL  wire.String `json:"avatar_large_url"`
	BioDescription  wire.String `json:"bio_description"`
	ProfileDeepLink wire.String `json:"profile_deep_link"`
	IsVerified      bool        `json:"is_verified"`
	FollowerCount   wire.Int    `json:"follower_count"`
	FollowingCount  wire.Int    `json:"following_count"`
	LikesCount      wire.Int    `json:"likes_count"`
	VideoCount      wire.Int    `json:"video_count"`
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
// whatever the status.
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
		if e.Kind = tiktokKinds[e.Code]; e.Kind == nil && success(status) {
			e.Kind = wire.ErrRejected
		}
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
		BioDescription: string(u.BioDescription), ProfileDeepLink: string(u.ProfileDeepLink), IsVerified: u.IsVerified,
		FollowerCount: u.FollowerCount.V, FollowingCount: u.FollowingCount.V, LikesCount: u.LikesCount.V, VideoCount: u.VideoCount.V,
		LogID: e.LogID, Raw: a.Data.User,
	}, nil
}

// TokenURL returns the app's token URL: its Endpoint's, or the platform's.
func (p *Platform) TokenURL(a *App) string { return p.endpoint(a).TokenURL }
