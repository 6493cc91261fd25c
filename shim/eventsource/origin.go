package eventsource

import (
	"strings"

	"github.com/esshim/esshim/shim"
)

// origin serializes the origin of an absolute URL (see shim.Origin).
func origin(rawURL string) string { return shim.Origin(rawURL) }

// fetchable reports whether an EventSource can fetch rawURL at all. Fetch
// knows only these schemes (about:blank gives an HTML document), so for any
// other a reconnection is known to be futile: the connection fails at once
// with one error, as Chromium's native EventSource does for ftp:,
// javascript:, mailto: and about:blank, instead of retrying for ever.
// Redirects lead only to http(s), so the URL given is the one to check.
func fetchable(rawURL string) bool {
	i := strings.IndexByte(rawURL, ':')
	if i <= 0 {
		return false
	}
	switch shim.LowerASCII(rawURL[:i]) {
	case "http", "https", "data", "blob":
		return true
	}
	return false
}
