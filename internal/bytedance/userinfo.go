package bytedance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x/internal/wire"
)

// OpUserInfo names the user-info call in errors.
const OpUserInfo = "user info"

// PathUserInfo is the user-info path on the token host.
const PathUserInfo = "/oauth/userinfo/"

// User is a Douyin or Toutiao user's profile. douyin.User and toutiao.User
// have its fields, in its order, so that they convert to it.
type User struct {
	OpenID, UnionID, Nickname, Avatar string
	Gender                            int
	City, Province, Country           string
	EAccountRole                      string
	EncryptMobile                     string
	ClientKey                         string
	LogID                             string
	Raw                               json.RawMessage
}

// loose is a string that the older edition may print as "<nil>".
type loose string

func (s *loose) UnmarshalJSON(b []byte) error {
	var v wire.String
	if err := v.UnmarshalJSON(b); err != nil {
		return err
	}
	if v == "<nil>" {
		v = ""
	}
	*s = loose(v)
	return nil
}

// looseInt is a number, a string of one, or "<nil>" (zero).
type looseInt struct{ wire.Int }

func (n *looseInt) UnmarshalJSON(b []byte) error {
	var s string
	if b = bytes.TrimSpace(b); len(b) > 0 && b[0] == '"' && json.Unmarshal(b, &s) == nil && s == "<nil>" {
		n.Int = wire.Int{}
		return nil
	}
	return n.Int.UnmarshalJSON(b)
}

// userAnswer is either edition of the user-info answer: the current one
// with err_no, err_msg and log_id above data, the older one with data
// (and perhaps extra) alone.
type userAnswer struct {
	ErrNo   wire.Int        `json:"err_no"`
	ErrMsg  wire.String     `json:"err_msg"`
	LogID   wire.String     `json:"log_id"`
	Message wire.String     `json:"message"`
	Data    json.RawMessage `json:"data"`
	Extra   *struct {
		LogID          wire.String `json:"logid"`
		ErrorCode      wire.Int    `json:"error_code"`
		Description    wire.String `json:"description"`
		SubErrorCode   wire.Int    `json:"sub_error_code"`
		SubDescription wire.String `json:"sub_description"`
	} `json:"extra"`
}

type userData struct {
	OpenID        loose         `json:"open_id"`
	UnionID       lenientString `json:"union_id"`
	Nickname      lenientString `json:"nickname"`
	Avatar        lenientString `json:"avatar"`
	Gender        lenientInt    `json:"gender"`
	City          lenientString `json:"city"`
	Province      lenientString `json:"province"`
	Country       lenientString `json:"country"`
	EAccountRole  lenientString `json:"e_account_role"`
	EncryptMobile loose         `json:"encrypt_mobile"`
	ClientKey     lenientString `json:"client_key"`
	LogID         loose         `json:"log_id"`
	ErrorCode     looseInt      `json:"error_code"`
	Description   loose         `json:"description"`
}

func success(status int) bool { return status >= 200 && status <= 299 }

// DecodeUser decodes a user-info answer in either edition. Errors come
// with HTTP 200; a success needs err_no, data.error_code,
// extra.error_code and extra.sub_error_code to be 0 where present, as the
// token envelope does, and an open_id.
func DecodeUser(status int, body []byte) (*User, *wire.Error) {
	var a userAnswer
	var d userData
	err := wire.Unmarshal(body, &a)
	if err == nil && len(a.Data) > 0 && string(a.Data) != "null" {
		err = wire.Unmarshal(a.Data, &d)
	}
	if err != nil {
		if !success(status) {
			return nil, &wire.Error{}
		}
		return nil, &wire.Error{Kind: wire.ErrBadResponse, Cause: errors.New("answer is not a user-info envelope: " + wire.ScrubJSONError(err).Error())}
	}
	logID := string(a.LogID)
	if a.Extra != nil && a.Extra.LogID != "" {
		logID = string(a.Extra.LogID)
	}
	if logID == "" {
		logID = string(d.LogID)
	}
	fail := func(code int64, desc string) (*User, *wire.Error) {
		return nil, &wire.Error{LogID: logID, Description: desc, Code: strconv.FormatInt(code, 10), Kind: UserInfoKind(code)}
	}
	switch {
	case a.ErrNo.V != 0:
		return fail(a.ErrNo.V, string(a.ErrMsg))
	case d.ErrorCode.V != 0:
		return fail(d.ErrorCode.V, string(d.Description))
	case a.Extra != nil && a.Extra.ErrorCode.V != 0:
		return fail(a.Extra.ErrorCode.V, string(a.Extra.Description))
	case a.Extra != nil && a.Extra.SubErrorCode.V != 0:
		return fail(a.Extra.SubErrorCode.V, string(a.Extra.SubDescription))
	case a.Message == "error" && success(status):
		return nil, &wire.Error{LogID: logID, Description: string(d.Description), Kind: wire.ErrRejected}
	case !success(status):
		return nil, &wire.Error{LogID: logID}
	case d.OpenID == "":
		return nil, &wire.Error{LogID: logID, Kind: wire.ErrBadResponse, Cause: errors.New("answer carries no open_id")}
	}
	return &User{
		OpenID: string(d.OpenID), UnionID: string(d.UnionID), Nickname: string(d.Nickname), Avatar: string(d.Avatar),
		Gender: int(d.Gender), City: string(d.City), Province: string(d.Province), Country: string(d.Country),
		EAccountRole: string(d.EAccountRole), EncryptMobile: string(d.EncryptMobile), ClientKey: string(d.ClientKey),
		LogID: logID, Raw: a.Data,
	}, nil
}

// UserInfoKind classifies a user-info error code: the 28001xxx codes of
// the OpenAPI generation, then the token table's.
func UserInfoKind(code int64) error {
	switch code {
	case 28001003, 28001008:
		return wire.ErrInvalidToken
	case 28001005, 28001006, -1:
		return wire.ErrTemporary
	case 28001007:
		return wire.ErrInvalidRequest
	case 28001016:
		return wire.ErrInvalidClient
	}
	return Kind(OpUserInfo, code)
}

// errNoOpenID is the cause when a token without an open id asks for its user.
var errNoOpenID = errors.New("token carries no open_id: use the token Exchange returned")

// UserInfo fetches the profile of t's user with a form-encoded POST of
// access_token and open_id, the form of the current documents: the token
// travels in the body, never in a URL. It makes one call: an access token
// the answer calls invalid or expired is an ErrInvalidToken, for the
// caller's token source to refresh (the Config's Client does it and
// retries).
func (p *Platform) UserInfo(ctx context.Context, a *App, t *oauth2.Token) (*User, error) {
	if t == nil || t.AccessToken == "" || OpenID(t) == "" {
		return nil, wire.Refused(p.Name, OpUserInfo, wire.ErrInvalidRequest, errNoOpenID)
	}
	var u *User
	r := p.request(OpUserInfo, PathUserInfo, wire.Form, a, []wire.Param{
		{Key: "access_token", Value: t.AccessToken},
		{Key: "open_id", Value: OpenID(t)},
	}, t.AccessToken, t.RefreshToken)
	err := wire.Call(ctx, r, func(status int, body []byte) (e *wire.Error) {
		u, e = DecodeUser(status, body)
		return e
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}
