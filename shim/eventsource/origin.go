package eventsource

import (
	"strings"

	"github.com/esshim/esshim/shim"
)

// defaultPorts are the ports an origin serialization leaves out.
var defaultPorts = map[string]string{"http": "80", "https": "443", "ws": "80", "wss": "443", "ftp": "21"}

// origin serializes the origin of an absolute URL, the value of every
// MessageEvent's origin. It is done here rather than in JS so that a shared
// connection computes it once per connection, and so that it can be tested
// natively. The browser hands us response.url already normalized (lower-case
// host, punycode, no default port), so string slicing is exact there; for
// other inputs it also lower-cases and drops userinfo and default ports.
// Schemes without a tuple origin (data:, file:, ...) give "null"; a blob:
// URL has the origin of the HTTP(S) URL inside it.
func origin(rawURL string) string {
	if len(rawURL) > 5 && shim.LowerASCII(rawURL[:5]) == "blob:" {
		// A blob URL has the origin of the URL inside it, when that is
		// an HTTP(S) one.
		inner := rawURL[5:]
		if o := origin(inner); strings.HasPrefix(o, "http://") || strings.HasPrefix(o, "https://") {
			return o
		}
		return "null"
	}
	i := strings.Index(rawURL, "://")
	if i <= 0 {
		return "null"
	}
	scheme := shim.LowerASCII(rawURL[:i])
	defPort, ok := defaultPorts[scheme]
	if !ok {
		return "null"
	}
	host := rawURL[i+3:]
	if end := strings.IndexAny(host, "/?#"); end >= 0 {
		host = host[:end]
	}
	if at := strings.LastIndexByte(host, '@'); at >= 0 {
		host = host[at+1:]
	}
	host = shim.LowerASCII(host)
	// The port follows the last colon, unless that colon is inside an
	// IPv6 literal.
	if c := strings.LastIndexByte(host, ':'); c >= 0 && c > strings.LastIndexByte(host, ']') {
		if port := host[c+1:]; port == "" || port == defPort {
			host = host[:c]
		}
	}
	if host == "" {
		return "null"
	}
	return scheme + "://" + host
}

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
