package shim

// ValidateHeader checks one header field before it is sent, as fetch would,
// so that a bad field fails its call with INVALID_HEADER instead of making
// fetch throw (or a Headers object drop every field). The name must be an
// HTTP token (RFC 9110 §5.6.2); the value is a ByteString, any bytes but
// NUL, CR and LF. The error names the header and never shows its value,
// which may be a secret.
func ValidateHeader(name, value string) error {
	if !isToken(name) {
		return &Error{Code: CodeInvalidHeader, Message: "invalid header name " + QuoteName(name)}
	}
	for i := 0; i < len(value); i++ {
		if c := value[i]; c == 0 || c == '\r' || c == '\n' {
			return &Error{Code: CodeInvalidHeader, Message: "invalid value for header " + QuoteName(name) + ": it holds a NUL, CR or LF byte"}
		}
	}
	return nil
}

// Validate checks every field of h with ValidateHeader and returns the
// first error.
func (h Header) Validate() error {
	for k, v := range h {
		if err := ValidateHeader(k, v); err != nil {
			return err
		}
	}
	return nil
}

// isToken reports whether s is a non-empty RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '!' || c == '#' || c == '$' || c == '%' || c == '&' || c == '\'' || c == '*' ||
			c == '+' || c == '-' || c == '.' || c == '^' || c == '_' || c == '`' || c == '|' || c == '~':
		default:
			return false
		}
	}
	return true
}

// QuoteName quotes a header name for an error message, with every byte
// outside printable ASCII as \xNN. It stands in for strconv.Quote, whose
// Unicode tables would cost the wasm about 60 KB.
func QuoteName(name string) string {
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(name)+2)
	b = append(b, '"')
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20 || c >= 0x7F:
			b = append(b, '\\', 'x', hex[c>>4], hex[c&0xF])
		default:
			b = append(b, c)
		}
	}
	return string(append(b, '"'))
}
