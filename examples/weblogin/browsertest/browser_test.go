// Package browsertest signs in to examples/weblogin in a real browser:
// headless Chromium, driven with chromedp, clicks through each provider's
// authorization page, follows the redirect to the callback and reads the
// profile off the rendered page. Screenshots go to a temporary directory
// (or $WEBLOGIN_SCREENSHOTS), whose path the test logs.
package browsertest

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds the browser: $CHROMIUM, or Debian's chromium.
func chromium() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// startWebLogin builds and starts the example on a free loopback port
// and returns its base URL.
func startWebLogin(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "weblogin")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = ".." // examples/weblogin, in the oauth2x module
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		t.Log(lines.Text())
		if base, ok := strings.CutPrefix(lines.Text(), "weblogin: listening on "); ok {
			go func() {
				for lines.Scan() {
				}
			}()
			return strings.TrimRight(base, "/")
		}
	}
	t.Fatal("weblogin exited without listening")
	return ""
}

func TestSignInWithEveryProvider(t *testing.T) {
	exe := chromium()
	if exe == "" {
		if os.Getenv("WEBLOGIN_REQUIRE_BROWSER") != "" {
			t.Fatal("no chromium found; install Debian's chromium package")
		}
		t.Skip("no chromium found (set CHROMIUM or install Debian's chromium package)")
	}
	shots := os.Getenv("WEBLOGIN_SCREENSHOTS")
	if shots == "" {
		var err error
		if shots, err = os.MkdirTemp("", "weblogin-screenshots-"); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", shots)
	base := startWebLogin(t)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-sandbox", os.Geteuid() == 0), // Chromium's sandbox refuses root
		// No request may leave the loopback.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"),
		chromedp.WindowSize(900, 700),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	bctx, cancel = context.WithTimeout(bctx, 2*time.Minute)
	defer cancel()

	for _, p := range []struct{ name, title, user string }{
		{"douyin", "Douyin", "测试用户"},
		{"toutiao", "Toutiao", "测试用户"},
		{"tiktok", "TikTok", "Tik Tester"},
		{"fantem", "Fantem", "fake-fantem-user"},
	} {
		// The person's clicks: the button on the app's page, then
		// Authorize on the provider's.
		if err := chromedp.Do(bctx,
			chromedp.Navigate(base+"/"),
			chromedp.Click(chromedp.ID("login-"+p.name)),
			chromedp.WaitVisible(chromedp.ID("approve")),
		); err != nil {
			t.Fatalf("%s: to the authorization page: %v", p.name, err)
		}
		consentURL := run(t, bctx, chromedp.Location())
		scopes := run(t, bctx, chromedp.Text(chromedp.ID("scopes")))
		app := run(t, bctx, chromedp.Text(chromedp.ID("app")))
		consent := run(t, bctx, chromedp.CaptureScreenshot())
		if err := chromedp.Do(bctx,
			chromedp.Click(chromedp.ID("approve")),
			chromedp.WaitVisible(chromedp.ID("provider")),
		); err != nil {
			t.Fatalf("%s: approving: %v", p.name, err)
		}
		profileURL := run(t, bctx, chromedp.Location())
		provider := run(t, bctx, chromedp.Text(chromedp.ID("provider")))
		name := run(t, bctx, chromedp.Text(chromedp.ID("name")))
		openID := run(t, bctx, chromedp.Text(chromedp.ID("open-id")))
		at := run(t, bctx, chromedp.FullScreenshot(100))
		for file, img := range map[string][]byte{p.name + "-1-authorize.png": consent, p.name + "-2-profile.png": at} {
			if err := os.WriteFile(filepath.Join(shots, file), img, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("%s: page %s: %q asked for %q; profile at %s: provider %q, name %q, open id %q",
			p.name, stripQuery(consentURL), app, strings.TrimSpace(scopes), stripQuery(profileURL), provider, name, openID)
		if !strings.HasPrefix(profileURL, base+"/callback/"+p.name+"?") {
			t.Errorf("%s: ended at %s, not the callback", p.name, profileURL)
		}
		if provider != p.title || name != p.user || openID == "" || app == "" || scopes == "" {
			t.Errorf("%s: page shows provider %q, name %q, open id %q; want %q, %q", p.name, provider, name, openID, p.title, p.user)
		}
	}
}

func stripQuery(u string) string {
	s, _, _ := strings.Cut(u, "?")
	return s
}

// run runs one action in the browser and returns its value.
func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
