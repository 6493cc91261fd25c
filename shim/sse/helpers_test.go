package sse

import (
	"encoding/base64"
	"encoding/json"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/esshim/esshim/shim"
)

// vectorsPath is the shared test vectors file, relative to this package's
// directory (the project root's ../shared/sse-vectors/vectors.json).
const vectorsPath = "../../../shared/sse-vectors/vectors.json"

type vectorFile struct {
	Vectors []vector `json:"vectors"`
}

type vector struct {
	Name                string             `json:"name"`
	Description         string             `json:"description"`
	InputB64            string             `json:"input_b64"`
	ChunksB64           []string           `json:"chunks_b64"`
	ChunkSize           int                `json:"chunk_size"`
	Connections         []vectorConnection `json:"connections"`
	Expected            []vectorEvent      `json:"expected"`
	ExpectedRetry       *int64             `json:"expected_retry"`
	ExpectedLastEventID string             `json:"expected_last_event_id"`
}

type vectorConnection struct {
	InputB64           string `json:"input_b64"`
	RequestLastEventID string `json:"request_last_event_id"`
}

type vectorEvent struct {
	Type        string `json:"type"`
	Data        string `json:"data"`
	LastEventID string `json:"lastEventId"`
}

// loadVectors reads the shared vectors. A missing file fails the test: a
// suite that silently checks nothing would pass for any parser.
func loadVectors(tb testing.TB) []vector {
	tb.Helper()
	raw, err := os.ReadFile(vectorsPath)
	require.NoError(tb, err, "the shared SSE vectors must be present")
	var f vectorFile
	require.NoError(tb, json.Unmarshal(raw, &f))
	require.NotEmpty(tb, f.Vectors)
	return f.Vectors
}

func mustB64(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	require.NoError(tb, err)
	return b
}

// bodies returns the vector's response bodies, one per connection.
func (v vector) bodies(tb testing.TB) [][]byte {
	if len(v.Connections) == 0 {
		return [][]byte{mustB64(tb, v.InputB64)}
	}
	var out [][]byte
	for _, c := range v.Connections {
		out = append(out, mustB64(tb, c.InputB64))
	}
	return out
}

// networkChunks returns the vector's bodies split as the vector says the
// network split them.
func (v vector) networkChunks(tb testing.TB) [][][]byte {
	switch {
	case len(v.ChunksB64) > 0:
		var chunks [][]byte
		for _, c := range v.ChunksB64 {
			chunks = append(chunks, mustB64(tb, c))
		}
		return [][][]byte{chunks}
	case v.ChunkSize > 0:
		return [][][]byte{fixedChunks(mustB64(tb, v.InputB64), v.ChunkSize)}
	}
	var out [][][]byte
	for _, b := range v.bodies(tb) {
		out = append(out, [][]byte{b})
	}
	return out
}

func (v vector) expectedEvents() []Event {
	out := []Event{}
	for _, e := range v.Expected {
		out = append(out, Event{Type: e.Type, Data: e.Data, LastEventID: e.LastEventID})
	}
	return out
}

// outcome is everything a stream's parse yields that callers can observe.
type outcome struct {
	Events []Event
	// LastEventIDAtConnect is LastEventID() before each connection's body,
	// i.e. the Last-Event-ID that connection's request would send.
	LastEventIDAtConnect []string
	LastEventID          string
	Retry                int64
	RetrySet             bool
	Err                  shim.Code // "" when the stream parsed without error
}

// parse feeds one chunked body per connection to a fresh parser, calling
// End after each body and Reconnect between bodies, and stops at the first
// error.
func parse(opts ParserOptions, connections [][][]byte) outcome {
	p := NewParser(opts)
	out := outcome{Events: []Event{}}
	collect := func(e Event) { out.Events = append(out.Events, e) }
	for i, chunks := range connections {
		out.LastEventIDAtConnect = append(out.LastEventIDAtConnect, p.LastEventID())
		if i > 0 {
			p.Reconnect()
		}
		for _, c := range chunks {
			if err := feedOwned(p, c, collect); err != nil {
				out.Err = shim.CodeOf(err)
				break
			}
		}
		p.End()
		if out.Err != "" {
			break
		}
	}
	out.LastEventID = p.LastEventID()
	out.Retry, out.RetrySet = p.Retry()
	return out
}

// whole is every body in one chunk.
func whole(bodies [][]byte) [][][]byte {
	out := make([][][]byte, len(bodies))
	for i, b := range bodies {
		out[i] = [][]byte{b}
	}
	return out
}

// fixedChunks splits b into chunks of size bytes (the last may be shorter).
func fixedChunks(b []byte, size int) [][]byte {
	var out [][]byte
	for len(b) > size {
		out = append(out, b[:size])
		b = b[size:]
	}
	return append(out, b)
}

// randomChunks splits b at random points into chunks of 1 to maxSize bytes,
// with an occasional empty chunk, which must change nothing either.
func randomChunks(b []byte, maxSize int, r *rand.Rand) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		if r.IntN(16) == 0 {
			out = append(out, []byte{})
		}
		n := min(len(b), 1+r.IntN(maxSize))
		out = append(out, b[:n])
		b = b[n:]
	}
	return out
}

// feedOwned gives the chunk its own backing array and scribbles over it
// after use, which catches a parser that keeps a reference to a chunk.
func feedOwned(p *Parser, chunk []byte, dispatch func(Event)) error {
	own := append([]byte(nil), chunk...)
	err := p.Feed(own, dispatch)
	for i := range own {
		own[i] = 'X'
	}
	return err
}
