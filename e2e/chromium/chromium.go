//go:build !js

// Package chromium holds the one way esshim's browser tests and benchmarks
// start headless Chromium: Debian's build, with the flags this network-less
// workplace needs (without the background-networking ones, Chromium's own
// connections fail by the dozen and slow every start).
package chromium

import (
	"os"

	"github.com/chromedp/chromedp"
)

// Path returns the Chromium binary: $CHROMIUM, or Debian's /usr/bin/chromium.
func Path() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// Options returns the allocator options for a headless Chromium at path
// with a fresh profile in userDataDir, followed by extra.
func Options(path, userDataDir string, extra ...chromedp.ExecAllocatorOption) []chromedp.ExecAllocatorOption {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", "new"), // the new headless mode also runs extensions
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// Containers often have a small /dev/shm.
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(userDataDir),
	}
	return append(opts, extra...)
}
