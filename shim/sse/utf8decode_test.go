package sse

import (
	"math/rand/v2"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The expected outputs are what a browser's TextDecoder("utf-8") gives
// (Encoding Standard, replacement mode).
var utf8DecodeTests = []struct {
	name string
	in   string
	want string
}{
	{"empty", "", ""},
	{"ascii", "data: x", "data: x"},
	{"two-byte", "caf\xC3\xA9", "café"},
	{"three-byte", "\xE2\x99\xA5", "♥"},
	{"four-byte", "\xF0\x9F\xA6\x84", "🦄"},
	{"BOM is content here", "\xEF\xBB\xBF", "\uFEFF"},
	{"largest code point", "\xF4\x8F\xBF\xBF", "\U0010FFFF"},
	{"truncated three-byte then ASCII is one U+FFFD", "\xE2\x80A", "\uFFFDA"},
	{"truncated four-byte at end is one U+FFFD", "\xF0\x9F\x98", "\uFFFD"},
	{"truncated two-byte at end", "a\xC3", "a\uFFFD"},
	{"lone continuation byte", "\x80", "\uFFFD"},
	{"continuation bytes each replaced", "\x80\xBF\x80", "\uFFFD\uFFFD\uFFFD"},
	{"FF", "\xFF", "\uFFFD"},
	{"FE", "\xFE", "\uFFFD"},
	{"C0 80 overlong NUL is two", "\xC0\x80", "\uFFFD\uFFFD"},
	{"C1 BF overlong is two", "\xC1\xBF", "\uFFFD\uFFFD"},
	{"E0 80 80 overlong is three", "\xE0\x80\x80", "\uFFFD\uFFFD\uFFFD"},
	{"E0 A0 80 is the smallest three-byte", "\xE0\xA0\x80", "\u0800"},
	{"ED A0 80 surrogate is three", "\xED\xA0\x80", "\uFFFD\uFFFD\uFFFD"},
	{"ED 9F BF is the last before surrogates", "\xED\x9F\xBF", "\uD7FF"},
	{"F0 80 80 80 overlong is four", "\xF0\x80\x80\x80", "\uFFFD\uFFFD\uFFFD\uFFFD"},
	{"F0 90 80 80 is the smallest four-byte", "\xF0\x90\x80\x80", "\U00010000"},
	{"F4 90 80 80 above U+10FFFF is four", "\xF4\x90\x80\x80", "\uFFFD\uFFFD\uFFFD\uFFFD"},
	{"F5 is never a lead byte", "\xF5\x80\x80\x80", "\uFFFD\uFFFD\uFFFD\uFFFD"},
	{"lead byte then lead byte", "\xE2\xE2\x99\xA5", "\uFFFD♥"},
	{"maximal subpart of four-byte then ASCII", "\xF0\x9F\xA6A", "\uFFFDA"},
	{"Unicode Table 3-8 example", "\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64",
		"a\uFFFD\uFFFD\uFFFDb\uFFFDc\uFFFD\uFFFDd"},
	{"replacement in valid text", "x\xFFy\xC3\xA9", "x\uFFFDyé"},
}

func TestUTF8Decoder(t *testing.T) {
	for _, tt := range utf8DecodeTests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, decodeString([]byte(tt.in)), "whole")
			assert.Equal(t, tt.want, string(appendDecoded([]byte("pre"), []byte(tt.in))[3:]), "appended")
			assert.Equal(t, tt.want, referenceDecode([]byte(tt.in)), "reference decoder")
			for _, chunks := range allTwoAndThreeWaySplits([]byte(tt.in)) {
				assert.Equal(t, tt.want, streamDecode(chunks), "split %q", chunks)
			}
		})
	}
}

// TestUTF8DecoderMatchesReference compares the streaming decoder, on random
// splits of random bytes, with an independent implementation of the same
// rule from its Unicode definition.
func TestUTF8DecoderMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	alphabet := []byte{'a', '\n', 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xE1, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF}
	for range 20000 {
		in := make([]byte, r.IntN(12))
		for i := range in {
			in[i] = alphabet[r.IntN(len(alphabet))]
		}
		want := referenceDecode(in)
		require.Equal(t, want, decodeString(in), "%x", in)
		require.Equal(t, want, streamDecode(randomChunks(in, 3, r)), "%x", in)
	}
}

// FuzzUTF8Decoder checks the decoder against the reference, whole and
// streamed, and that it turns anything into well-formed UTF-8.
func FuzzUTF8Decoder(f *testing.F) {
	for _, tt := range utf8DecodeTests {
		f.Add([]byte(tt.in), uint64(len(tt.in)))
	}
	f.Fuzz(func(t *testing.T, in []byte, seed uint64) {
		got := decodeString(in)
		require.True(t, utf8.ValidString(got))
		require.Equal(t, referenceDecode(in), got)
		r := rand.New(rand.NewPCG(seed, 0))
		require.Equal(t, got, streamDecode(randomChunks(in, 4, r)))
		if utf8.Valid(in) {
			require.Equal(t, string(in), got)
		}
	})
}

// streamDecode runs the streaming decoder over chunks.
func streamDecode(chunks [][]byte) string {
	var d utf8Decoder
	var out []byte
	for _, c := range chunks {
		out = d.decode(out, c)
	}
	return string(d.flush(out))
}

func allTwoAndThreeWaySplits(b []byte) [][][]byte {
	var out [][][]byte
	for i := 0; i <= len(b); i++ {
		out = append(out, [][]byte{b[:i], b[i:]})
		for j := i; j <= len(b); j++ {
			out = append(out, [][]byte{b[:i], b[i:j], b[j:]})
		}
	}
	return out
}

// referenceDecode decodes by Unicode's "U+FFFD substitution of maximal
// subparts" (Unicode §3.9, the practice the Encoding Standard adopts):
// at each ill-formed position, the longest prefix of a well-formed sequence
// (at least one byte) becomes one U+FFFD. It shares no code with the
// state machine under test.
func referenceDecode(s []byte) string {
	var out []byte
	for len(s) > 0 {
		if r, size := utf8.DecodeRune(s); r != utf8.RuneError || size > 1 {
			out = append(out, s[:size]...)
			s = s[size:]
			continue
		}
		n := 1
		for k := 2; k <= min(3, len(s)); k++ {
			if isWellFormedPrefix(s[:k]) {
				n = k
			}
		}
		out = append(out, "\uFFFD"...)
		s = s[n:]
	}
	return string(out)
}

// isWellFormedPrefix reports whether p is a proper prefix of some
// well-formed sequence, per Unicode Table 3-7.
func isWellFormedPrefix(p []byte) bool {
	if len(p) < 2 {
		return false
	}
	lead, second := p[0], p[1]
	var lo, hi byte = 0x80, 0xBF
	var length int
	switch {
	case lead >= 0xC2 && lead <= 0xDF:
		length = 2
	case lead == 0xE0:
		length, lo = 3, 0xA0
	case lead >= 0xE1 && lead <= 0xEC, lead == 0xEE, lead == 0xEF:
		length = 3
	case lead == 0xED:
		length, hi = 3, 0x9F
	case lead == 0xF0:
		length, lo = 4, 0x90
	case lead >= 0xF1 && lead <= 0xF3:
		length = 4
	case lead == 0xF4:
		length, hi = 4, 0x8F
	default:
		return false
	}
	if len(p) >= length || second < lo || second > hi {
		return false
	}
	for _, c := range p[2:] {
		if c < 0x80 || c > 0xBF {
			return false
		}
	}
	return true
}
