package shim

import "strconv"

// ValidateHeader checks one header field before it is sent, as fetch would,
// so that a bad field fails its call with INVALID_HEADER instead of making
// fetch throw (or a Headers object drop every field). The name must be an
// HTTP token (RFC 9110 §5.6.2); the value is a ByteString, any bytes but
// NUL, CR and LF. The error names the header and never shows its value,
// which may be a secret.
func ValidateHeader(name, value string) error {
	if !isToken(name) {
		return &Error{Code: CodeInvalidHeader, Message: "invalid header name " + strconv.Quote(name)}
	}
	for i := 0; i < len(value); i++ {
		if c := value[i]; c == 0 || c == '\r' || c == '\n' {
			return &Error{Code: CodeInvalidHeader, Message: "invalid value for header " + strconv.Quote(name) + ": it holds a NUL, CR or LF byte"}
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
