package shim

import "strings"

// Header is a set of HTTP header fields keyed by lower-case name, the way
// the browser's Headers object sees them. Each name has one value: fetch
// joins repeated fields with ", ", and so do we.
type Header map[string]string

// Get returns the value of the named field, matched case-insensitively.
func (h Header) Get(name string) string { return h[strings.ToLower(name)] }

// Set replaces the value of the named field.
func (h Header) Set(name, value string) { h[strings.ToLower(name)] = value }

// Del removes the named field.
func (h Header) Del(name string) { delete(h, strings.ToLower(name)) }

// Add appends a value to the named field, joining with ", " as fetch does.
func (h Header) Add(name, value string) {
	k := strings.ToLower(name)
	if old, ok := h[k]; ok {
		h[k] = old + ", " + value
		return
	}
	h[k] = value
}

// Clone returns a copy that can be changed without touching h.
func (h Header) Clone() Header {
	c := make(Header, len(h))
	for k, v := range h {
		c[k] = v
	}
	return c
}

// MediaType returns the MIME type essence of a Content-Type value: the
// type/subtype, lower-cased, without parameters or white space.
func MediaType(contentType string) string {
	if i := strings.IndexByte(contentType, ';'); i >= 0 {
		contentType = contentType[:i]
	}
	return strings.ToLower(strings.TrimSpace(contentType))
}
