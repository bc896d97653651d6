package douyin_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauth2x/oauth2x/douyin"
	"github.com/oauth2x/oauth2x/douyin/douyintest"
)

// records is a slog.Handler that keeps what it is given.
type records struct {
	mu  sync.Mutex
	got []slog.Record
}

func (h *records) Enabled(context.Context, slog.Level) bool { return true }
func (h *records) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.got = append(h.got, r)
	h.mu.Unlock()
	return nil
}
func (h *records) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *records) WithGroup(string) slog.Handler      { return h }

// TestRenewingLogsOnceAtWarning: with no OnError, a failed renewal is a
// slog warning whose text does not stack a prefix on the error's own
// ("oauth2x: douyin: …").
func TestRenewingLogsOnceAtWarning(t *testing.T) {
	h := &records{}
	saved := slog.Default()
	slog.SetDefault(slog.New(h))
	defer slog.SetDefault(saved)

	fake, conf, ctx, clk, tok := clockedLogin(t)
	clk.Add(27 * 24 * time.Hour)
	fake.FailNext(douyintest.RenewRefreshTokenPath, douyintest.CodeSystemError, "系统繁忙")
	r := &douyin.Renewing{Config: conf, Now: clk.Now}
	if _, err := r.Refresh(ctx, tok); err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.got) != 1 {
		t.Fatalf("%d log records, want 1", len(h.got))
	}
	rec := h.got[0]
	var text strings.Builder
	text.WriteString(rec.Message)
	rec.Attrs(func(a slog.Attr) bool { text.WriteString(" " + a.Value.String()); return true })
	if rec.Level != slog.LevelWarn || strings.Contains(text.String(), "oauth2x: douyin:") || !strings.Contains(text.String(), "douyin: renew refresh token") {
		t.Errorf("logged %v %q", rec.Level, text.String())
	}
}
