package jsonrpc

import (
	"errors"
	"strings"
)

// ErrSyntax is returned for text the scanner cannot frame as JSON.
var ErrSyntax = errors.New("jsonrpc: malformed JSON")

// Envelope is the routing part of one JSON-RPC message.
type Envelope struct {
	// ID is the raw JSON text of the id member ("7", "\"a\"", "null"), or
	// "" when the message has none. Raw text is the key the transport
	// matches responses by, so the id's JSON type survives untouched.
	ID string
	// Method is the decoded method name, or "" when there is none.
	Method string
	// HasResult and HasError report whether the members are present.
	HasResult, HasError bool

	idStart, idEnd int // byte offsets of ID in the scanned text
}

// IsResponse reports whether the message answers a request.
func (e Envelope) IsResponse() bool { return e.HasResult || e.HasError }

// IsRequest reports whether the message is a request, which expects a
// response carrying the same id.
func (e Envelope) IsRequest() bool { return e.Method != "" && e.ID != "" && e.ID != "null" }

// Scan reads the envelope of one message, which must be a JSON object.
func Scan(msg string) (Envelope, error) {
	var env Envelope
	err := members(msg, func(key string, start, end int) error {
		val := msg[start:end]
		switch key {
		case "id":
			if !validID(val) {
				return ErrSyntax
			}
			env.ID, env.idStart, env.idEnd = val, start, end
		case "method":
			if val == "null" {
				break // as if absent
			}
			m, ok := String(val)
			if !ok {
				return ErrSyntax
			}
			env.Method = m
		case "result":
			env.HasResult = true
		case "error":
			env.HasError = true
		}
		return nil
	})
	return env, err
}

// Member returns the raw JSON text of the member key of the JSON object
// obj, and whether obj has it. Like JSON.parse, the last of repeated keys
// wins. Text that is not an object has no members.
func Member(obj, key string) (string, bool) {
	var raw string
	var found bool
	err := members(obj, func(k string, start, end int) error {
		if k == key {
			raw, found = obj[start:end], true
		}
		return nil
	})
	if err != nil || !found {
		return "", false
	}
	return raw, true
}

// String decodes raw, the text of a JSON value, if it is a string.
func String(raw string) (string, bool) {
	if raw == "" || raw[0] != '"' {
		return "", false
	}
	return unquote(raw)
}

// members calls f with each member of the JSON object in s: its decoded
// key and the byte range of its raw value. It stops at f's first error.
func members(s string, f func(key string, start, end int) error) error {
	i := skipSpace(s, 0)
	if i >= len(s) || s[i] != '{' {
		return ErrSyntax
	}
	i = skipSpace(s, i+1)
	if i < len(s) && s[i] == '}' {
		return trailing(s, i+1)
	}
	for {
		if i >= len(s) || s[i] != '"' {
			return ErrSyntax
		}
		keyEnd, err := skipString(s, i)
		if err != nil {
			return err
		}
		key, ok := unquote(s[i:keyEnd])
		if !ok {
			return ErrSyntax
		}
		i = skipSpace(s, keyEnd)
		if i >= len(s) || s[i] != ':' {
			return ErrSyntax
		}
		start := skipSpace(s, i+1)
		end, err := skipValue(s, start)
		if err != nil {
			return err
		}
		if err := f(key, start, end); err != nil {
			return err
		}
		i = skipSpace(s, end)
		if i >= len(s) {
			return ErrSyntax
		}
		switch s[i] {
		case ',':
			i = skipSpace(s, i+1)
		case '}':
			return trailing(s, i+1)
		default:
			return ErrSyntax
		}
	}
}

// Split returns the messages in text: the elements of a batch (a JSON
// array), or text itself. Element texts are slices of text, not copies, so
// splitting an 8 MB batch costs one pass and no allocation per byte.
func Split(text string) (msgs []string, batch bool, err error) {
	i := skipSpace(text, 0)
	if i >= len(text) {
		return nil, false, ErrSyntax
	}
	if text[i] != '[' {
		return []string{text}, false, nil
	}
	i = skipSpace(text, i+1)
	if i < len(text) && text[i] == ']' {
		return nil, true, trailing(text, i+1)
	}
	for {
		end, err := skipValue(text, i)
		if err != nil {
			return nil, true, err
		}
		msgs = append(msgs, text[i:end])
		i = skipSpace(text, end)
		if i >= len(text) {
			return nil, true, ErrSyntax
		}
		switch text[i] {
		case ',':
			i = skipSpace(text, i+1)
		case ']':
			return msgs, true, trailing(text, i+1)
		default:
			return nil, true, ErrSyntax
		}
	}
}

// WithID returns msg with its id replaced by rawID. env must come from
// Scan(msg) and carry an id. The transport uses it to hand a response that
// arrived on a resumed stream to the request that resumed it.
func WithID(msg string, env Envelope, rawID string) string {
	if env.ID == "" {
		return msg
	}
	return msg[:env.idStart] + rawID + msg[env.idEnd:]
}

func trailing(s string, i int) error {
	if skipSpace(s, i) != len(s) {
		return ErrSyntax
	}
	return nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

// validID reports whether a raw value may be an id: a string, a number or
// null (JSON-RPC 2.0 allows null in error responses).
func validID(v string) bool {
	switch c := v[0]; {
	case c == '"', c == '-', c >= '0' && c <= '9':
		return true
	default:
		return v == "null"
	}
}

// skipString returns the index just past the string starting at s[i]
// (which is '"'). It jumps from quote to quote with IndexByte, so a long
// string without escapes costs a memchr, not a byte loop.
func skipString(s string, i int) (int, error) {
	j := i + 1
	for {
		k := strings.IndexByte(s[j:], '"')
		if k < 0 {
			return 0, ErrSyntax
		}
		j += k
		// The quote is escaped when an odd number of backslashes precede it.
		n := 0
		for b := j - 1; b > i && s[b] == '\\'; b-- {
			n++
		}
		j++
		if n%2 == 0 {
			return j, nil
		}
	}
}

// skipValue returns the index just past the JSON value starting at s[i].
// Containers are skipped iteratively with a stack of expected closers, so
// deep nesting cannot overflow anything and mismatched brackets are caught.
func skipValue(s string, i int) (int, error) {
	if i >= len(s) {
		return 0, ErrSyntax
	}
	switch c := s[i]; {
	case c == '"':
		return skipString(s, i)
	case c == '{' || c == '[':
		// handled below
	case c == '-' || c >= '0' && c <= '9':
		return skipScalar(s, i, true)
	case c == 't' || c == 'f' || c == 'n':
		return skipScalar(s, i, false)
	default:
		return 0, ErrSyntax
	}
	var small [32]byte
	stack := small[:0]
	for i < len(s) {
		switch c := s[i]; c {
		case '"':
			j, err := skipString(s, i)
			if err != nil {
				return 0, err
			}
			i = j
			continue
		case '{':
			stack = append(stack, '}')
		case '[':
			stack = append(stack, ']')
		case '}', ']':
			if len(stack) == 0 || stack[len(stack)-1] != c {
				return 0, ErrSyntax
			}
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return i + 1, nil
			}
		}
		i++
	}
	return 0, ErrSyntax
}

// skipScalar skips a number or a literal. Numbers are checked for their
// characters only; literals must be spelled right.
func skipScalar(s string, i int, number bool) (int, error) {
	if !number {
		for _, lit := range [...]string{"true", "false", "null"} {
			if strings.HasPrefix(s[i:], lit) {
				return i + len(lit), nil
			}
		}
		return 0, ErrSyntax
	}
	j := i
	for j < len(s) {
		c := s[j]
		if c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			j++
			continue
		}
		break
	}
	if j == i || s[j-1] < '0' || s[j-1] > '9' {
		return 0, ErrSyntax
	}
	return j, nil
}
