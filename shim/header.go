package shim

// Header is a set of HTTP header fields keyed by lower-case name, the way
// the browser's Headers object sees them. Each name has one value: fetch
// joins repeated fields with ", ", and so do we.
type Header map[string]string

// Get returns the value of the named field, matched case-insensitively.
func (h Header) Get(name string) string { return h[LowerASCII(name)] }

// Set replaces the value of the named field.
func (h Header) Set(name, value string) { h[LowerASCII(name)] = value }

// Del removes the named field.
func (h Header) Del(name string) { delete(h, LowerASCII(name)) }

// Add appends a value to the named field, joining with ", " as fetch does.
func (h Header) Add(name, value string) {
	k := LowerASCII(name)
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
	for i := 0; i < len(contentType); i++ {
		if contentType[i] == ';' {
			contentType = contentType[:i]
			break
		}
	}
	return LowerASCII(trimSpace(contentType))
}

// LowerASCII is strings.ToLower for ASCII, which is all header names,
// schemes, hosts and MIME types may hold; strings.ToLower would link the
// Unicode tables (about 20 KB of wasm).
func LowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; 'A' <= c && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// trimSpace trims HTTP white space (SP, HTAB, CR, LF).
func trimSpace(s string) string {
	for len(s) > 0 && isHTTPSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isHTTPSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func isHTTPSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
