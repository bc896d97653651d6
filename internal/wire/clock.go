package wire

import (
	"context"
	"time"
)

// The clock crosses one boundary in a context value: from the token
// source, which has Options.Now, to a Refresher, whose signature
// (Refresh(ctx, t)) is fixed. A provider reads it once, where a call
// enters it, and from there passes the time as a parameter: every decoder
// takes now (DecodeRFC6749At, DecodeFlatAt, TokenFields.Token).

type clockKey struct{}

// WithClock returns a context whose token calls stamp expiries with now
// instead of time.Now. The token source passes its Options.Now this way, so
// that one clock rules both the expiries and the decisions made on them.
func WithClock(ctx context.Context, now func() time.Time) context.Context {
	return context.WithValue(ctx, clockKey{}, now)
}

// Clock returns the current time by ctx's clock (see WithClock).
func Clock(ctx context.Context) time.Time {
	if now, ok := ctx.Value(clockKey{}).(func() time.Time); ok && now != nil {
		return now()
	}
	return time.Now()
}
