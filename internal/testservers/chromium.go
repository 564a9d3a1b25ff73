package testservers

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is where Debian's chromium package installs the browser.
const ChromiumPath = "/usr/bin/chromium"

// Chromium returns the path of the headless browser that browser tests
// drive (chromedp), or skips the test when it is not installed (fails
// under INKFORM_REQUIRE_INTEGRATION=1). The tests start it themselves:
// chromedp owns its process and stops it when the test's context ends.
func Chromium(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath(ChromiumPath); err != nil {
		Skip(t, "chromium not installed (apt-get install chromium): %v", err)
	}
	return ChromiumPath
}

// Browser starts headless Chromium driven by chromedp, at the window
// size given, and returns the context to run actions in; it ends (and
// the browser with it) when the test does, or after a minute. It trusts
// any certificate: the pages under test use self-signed or test-CA ones.
func Browser(t testing.TB, width, height int) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(Chromium(t)), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
		chromedp.Flag("ignore-certificate-errors", true),
		chromedp.WindowSize(width, height))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(actx)
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	t.Cleanup(func() { cancel(); cancelBrowser(); cancelAlloc() })
	return ctx
}

// Screenshot is an action that saves the whole page as dir/name.
func Screenshot(dir, name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(90))
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, name), buf, 0o644)
	})
}
