package wire

import (
	"time"

	"golang.org/x/oauth2"
)

// TokenFields is what a decoder found in a successful answer.
type TokenFields struct {
	AccessToken  string
	TokenType    string
	RefreshToken string
	ExpiresIn    time.Duration // 0: no expiry given
	RefreshIn    time.Duration // 0: unknown
	Extra        map[string]any
}

// Token builds an *oauth2.Token from f, stamping expiries relative to now.
func (f *TokenFields) Token(now time.Time) *oauth2.Token {
	t := &oauth2.Token{
		AccessToken:  f.AccessToken,
		TokenType:    f.TokenType,
		RefreshToken: f.RefreshToken,
	}
	if f.ExpiresIn > 0 {
		t.ExpiresIn = int64(f.ExpiresIn / time.Second)
		t.Expiry = now.Add(f.ExpiresIn).Round(0)
	}
	extra := f.Extra
	if f.RefreshIn > 0 {
		if extra == nil {
			extra = map[string]any{}
		}
		extra[ExtraRefreshExpiry] = float64(now.Add(f.RefreshIn).Unix()) // as JSON gives numbers back
	}
	if extra != nil {
		t = t.WithExtra(extra)
	}
	return t
}
