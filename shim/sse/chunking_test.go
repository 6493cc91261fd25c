package sse

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// maxAllSplitsLen is the body length up to which every 2-way split is
// tried. Longer bodies (one vector is 256 KiB) get a sample of split
// points, or the test would parse tens of gigabytes.
const maxAllSplitsLen = 4096

// chunkings returns many chunkings of the bodies: every 2-way split of each
// body (sampled for long ones), 1-byte chunks, and seeded random multi-way
// chunkings with small and large chunks.
func chunkings(bodies [][]byte, r *rand.Rand) map[string][][][]byte {
	out := map[string][][][]byte{}
	for i, b := range bodies {
		splits := make([]int, 0, len(b))
		if len(b) <= maxAllSplitsLen {
			for at := 1; at < len(b); at++ {
				splits = append(splits, at)
			}
		} else {
			for at := 1; at < 64; at++ {
				splits = append(splits, at, len(b)-at)
			}
			for range 128 {
				splits = append(splits, 1+r.IntN(len(b)-1))
			}
		}
		for _, at := range splits {
			c := whole(bodies)
			c[i] = [][]byte{b[:at], b[at:]}
			out[fmt.Sprintf("body %d split at %d", i, at)] = c
		}
	}
	bytewise := make([][][]byte, len(bodies))
	for i, b := range bodies {
		bytewise[i] = fixedChunks(b, 1)
	}
	out["1-byte chunks"] = bytewise
	for n := range 40 {
		maxSize := []int{2, 3, 5, 17, 300}[n%5]
		c := make([][][]byte, len(bodies))
		for i, b := range bodies {
			c[i] = randomChunks(b, maxSize, r)
		}
		out[fmt.Sprintf("random %d (chunks up to %d bytes)", n, maxSize)] = c
	}
	return out
}

// TestChunkingDoesNotMatterForVectors is the property the spec demands of
// a streaming parser, on the vectors: every chunking gives their expected
// outcome.
func TestChunkingDoesNotMatterForVectors(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			for name, c := range chunkings(v.bodies(t), r) {
				got := parse(ParserOptions{}, c)
				if !t.Run(name, func(t *testing.T) { assertVectorOutcome(t, v, got) }) {
					return // one failing chunking says enough
				}
			}
		})
	}
}

// TestChunkingDoesNotMatterForRandomStreams checks the same property on
// generated streams that mix every construct the parser knows, including
// ill-formed UTF-8, BOMs, stray CRs and events over a small size limit.
func TestChunkingDoesNotMatterForRandomStreams(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for n := range 300 {
		bodies := [][]byte{randomStream(r)}
		if n%3 == 0 {
			bodies = append(bodies, randomStream(r))
		}
		opts := ParserOptions{}
		if n%4 == 0 {
			opts.MaxEventSize = 8 + r.IntN(40)
		}
		want := parse(opts, whole(bodies))
		for name, c := range chunkings(bodies, r) {
			got := parse(opts, c)
			require.Equal(t, want, got, "stream %d %q, %s, %+v", n, bodies, name, opts)
		}
	}
}

// randomStream generates an event stream from fragments chosen to meet
// each other at every boundary: line ends of every kind, partial fields,
// BOMs, multi-byte and ill-formed UTF-8.
func randomStream(r *rand.Rand) []byte {
	fragments := []string{
		"data", "data:", "data: ", "data:x", "data: hello", "event", "event:", "event: tick",
		"id", "id:", "id: 7", "id: a\x00b", "retry", "retry:", "retry: 250", "retry: 1x",
		":", ": comment", "unknown: v", "dat", "a", " ", ":", "x",
		"\n", "\n", "\n", "\r", "\r", "\r\n", "\r\n", "\n\n", "\r\r",
		"\xEF\xBB\xBF", "\xEF\xBB", "\xEF",
		"\xC3\xA9", "\xE2\x99\xA5", "\xF0\x9F\xA6\x84", "\xE2\x80", "\xF0\x9F", "\xFF", "\xC0\x80", "\xED\xA0\x80",
	}
	var b []byte
	if r.IntN(3) == 0 {
		b = append(b, "\xEF\xBB\xBF"...)
	}
	for range r.IntN(60) {
		b = append(b, fragments[r.IntN(len(fragments))]...)
	}
	return b
}
