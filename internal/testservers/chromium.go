package testservers

import (
	"os/exec"
	"testing"
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
