package sse

import "unicode/utf8"

// replacement is U+FFFD REPLACEMENT CHARACTER in UTF-8.
const replacement = "\uFFFD"

// utf8Decoder is the WHATWG Encoding Standard's "UTF-8 decoder" in
// replacement mode. It exists because Go's own decoding (utf8.DecodeRune,
// for range, strings.ToValidUTF8) substitutes a different number of U+FFFD
// for ill-formed input than browsers do: E2 80 41 is one U+FFFD and "A" in a
// browser but two U+FFFD and "A" in Go. An EventSource must give the same
// data as the browser's, so the count matters.
//
// The decoder is streaming: a sequence split across calls to decode is
// completed by the next call, and flush turns a sequence left incomplete at
// the end of the input into one U+FFFD. The zero value is ready to use.
type utf8Decoder struct {
	codePoint rune
	needed    uint8 // continuation bytes the current sequence needs in all
	seen      uint8 // continuation bytes of it read so far
	lower     byte  // smallest acceptable next continuation byte
	upper     byte  // largest acceptable next continuation byte
}

// decode appends the decoding of src to dst. Bytes of a sequence that src
// leaves incomplete are held until the next decode or flush.
func (d *utf8Decoder) decode(dst, src []byte) []byte {
	for len(src) > 0 {
		if d.needed == 0 {
			// Well-formed input is by far the common case: copy it in bulk
			// and only walk the ill-formed or incomplete part byte by byte.
			n := validPrefixLen(src)
			dst = append(dst, src[:n]...)
			src = src[n:]
			if len(src) == 0 {
				break
			}
		}
		var consumed bool
		dst, consumed = d.step(dst, src[0])
		if consumed {
			src = src[1:]
		}
	}
	return dst
}

// flush ends the input: a pending incomplete sequence becomes one U+FFFD.
func (d *utf8Decoder) flush(dst []byte) []byte {
	if d.needed != 0 {
		*d = utf8Decoder{}
		dst = append(dst, replacement...)
	}
	return dst
}

// step runs the decoder's handler on one byte, word for word as the Encoding
// Standard writes it. It reports whether b was consumed; when it was not, the
// standard's "restore byte to ioQueue" applies and b must be stepped again.
func (d *utf8Decoder) step(dst []byte, b byte) ([]byte, bool) {
	if d.needed == 0 {
		d.lower, d.upper = 0x80, 0xBF
		switch {
		case b <= 0x7F:
			return append(dst, b), true
		case b >= 0xC2 && b <= 0xDF:
			d.needed, d.codePoint = 1, rune(b&0x1F)
		case b >= 0xE0 && b <= 0xEF:
			if b == 0xE0 {
				d.lower = 0xA0 // overlong
			} else if b == 0xED {
				d.upper = 0x9F // surrogates
			}
			d.needed, d.codePoint = 2, rune(b&0x0F)
		case b >= 0xF0 && b <= 0xF4:
			if b == 0xF0 {
				d.lower = 0x90 // overlong
			} else if b == 0xF4 {
				d.upper = 0x8F // above U+10FFFF
			}
			d.needed, d.codePoint = 3, rune(b&0x07)
		default:
			return append(dst, replacement...), true
		}
		return dst, true
	}
	if b < d.lower || b > d.upper {
		*d = utf8Decoder{}
		return append(dst, replacement...), false
	}
	d.lower, d.upper = 0x80, 0xBF
	d.codePoint = d.codePoint<<6 | rune(b&0x3F)
	d.seen++
	if d.seen < d.needed {
		return dst, true
	}
	cp := d.codePoint
	*d = utf8Decoder{}
	return utf8.AppendRune(dst, cp), true
}

// validPrefixLen returns the length of the longest prefix of s that is
// well-formed UTF-8 made of complete sequences. Go's notion of well-formed
// (no overlongs, no surrogates, nothing above U+10FFFF) is exactly the one
// the WHATWG decoder accepts, so such a prefix decodes to itself.
func validPrefixLen(s []byte) int {
	if utf8.Valid(s) {
		return len(s)
	}
	i := 0
	for i < len(s) {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return i
}

// appendDecoded appends the decoding of the complete input src to dst.
func appendDecoded(dst, src []byte) []byte {
	if utf8.Valid(src) {
		return append(dst, src...)
	}
	var d utf8Decoder
	return d.flush(d.decode(dst, src))
}

// decodeString returns the decoding of the complete input src.
func decodeString(src []byte) string {
	if utf8.Valid(src) {
		return string(src)
	}
	return string(appendDecoded(make([]byte, 0, len(src)+8), src))
}
