package eventsource

import (
	"strconv"

	"github.com/esshim/esshim/shim"
)

// shareKey returns the key under which a Source may share a physical
// connection with others, and false when it must have its own.
//
// Only a plain GET can be shared: a body or a method other than GET makes
// every request an action of its own. Everything else that shapes the
// request or the connection's behaviour is part of the key, so that sharing
// is never observable except through the connection count. Init is opaque
// (a JS RequestInit in the browser), so a Source that sets it is never
// shared. The Fetcher is compared separately, by identity.
func shareKey(o *Options) (string, bool) {
	if o.Exclusive || o.Body != nil || o.Init != nil {
		return "", false
	}
	if o.Method != "" && shim.LowerASCII(o.Method) != "get" {
		return "", false
	}
	// Built by hand rather than with strings.Builder, slices.Sort and
	// Duration.String: each of those links code every wasm user downloads.
	var b []byte
	part := func(s string) {
		// Length-prefixed, so no value can forge a separator.
		b = strconv.AppendInt(b, int64(len(s)), 10)
		b = append(b, ':')
		b = append(b, s...)
	}
	number := func(n int64) { b = strconv.AppendInt(append(b, '#'), n, 10) }
	part(o.URL)
	part(strconv.FormatBool(o.WithCredentials))
	part(o.Mode)
	r := o.reconnectOptions()
	number(int64(r.InitialDelay))
	number(int64(r.MaxDelay))
	number(int64(r.GrowFactor * 1e9))
	number(int64(r.MaxRetries))
	number(int64(o.maxEventSize()))
	h := requestHeader(o.Header)
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	sortStrings(names)
	for _, name := range names {
		part(name)
		part(h[name])
	}
	return string(b), true
}

// sortStrings is an insertion sort: a request has a handful of headers,
// and slices.Sort would link about 20 KB of generic sorting code.
func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// sameFetcher reports whether a and b are the same Fetcher. Fetchers that
// are not comparable (a FetcherFunc, say) make == panic; they are never the
// same, so Sources using them never share.
func sameFetcher(a, b shim.Fetcher) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}

// requestHeader returns the headers every request of a Source carries:
// the caller's, with names lower-cased, and Accept defaulting to
// text/event-stream as the spec lets a user agent set it.
func requestHeader(user shim.Header) shim.Header {
	h := make(shim.Header, len(user)+1)
	for name, value := range user {
		h.Set(name, value)
	}
	if _, ok := h["accept"]; !ok {
		h["accept"] = "text/event-stream"
	}
	return h
}
