package sse

import (
	"math/rand/v2"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// FuzzParser checks that chunking never changes what a stream yields, and
// that no input makes the parser panic or emit ill-formed UTF-8. The body
// is parsed whole, in 1-byte chunks and in seeded random chunks, with a
// size limit from the fuzzer (0 means the default) so that the
// EVENT_TOO_LARGE path is explored too.
//
//	go test -run='^$' -fuzz=FuzzParser -fuzztime=10s ./shim/sse
func FuzzParser(f *testing.F) {
	const maxFuzzSeedLen = 16 << 10
	for i, v := range loadVectors(f) {
		for _, b := range v.bodies(f) {
			if len(b) > maxFuzzSeedLen {
				continue // the 256 KiB long-line vector would make each run slow
			}
			f.Add(b, uint64(i), uint16(0))
			f.Add(b, uint64(i), uint16(8+i%32))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, seed uint64, limit uint16) {
		opts := ParserOptions{MaxEventSize: int(limit)}
		want := parse(opts, [][][]byte{{body}})
		for _, e := range want.Events {
			require.NotEmpty(t, e.Type)
			require.True(t, utf8.ValidString(e.Type) && utf8.ValidString(e.Data) && utf8.ValidString(e.LastEventID))
		}
		require.True(t, utf8.ValidString(want.LastEventID))
		if want.Err == "" && limit > 0 {
			for _, e := range want.Events {
				require.LessOrEqual(t, len(e.Data), int(limit))
			}
		}

		require.Equal(t, want, parse(opts, [][][]byte{fixedChunks(body, 1)}), "1-byte chunks")
		r := rand.New(rand.NewPCG(seed, seed^0x9E3779B97F4A7C15))
		for _, maxSize := range []int{2, 5, 64} {
			require.Equal(t, want, parse(opts, [][][]byte{randomChunks(body, maxSize, r)}), "random chunks")
		}
		if len(body) > 1 {
			at := 1 + int(seed%uint64(len(body)-1))
			require.Equal(t, want, parse(opts, [][][]byte{{body[:at], body[at:]}}), "split at %d", at)
		}
	})
}
