//go:build !js

package eventsource

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esshim/esshim/shim"
)

// vectorsPath is the shared test data, relative to this package.
const vectorsPath = "../../../shared/sse-vectors/vectors.json"

type vectorEvent struct {
	Type        string `json:"type"`
	Data        string `json:"data"`
	LastEventID string `json:"lastEventId"`
}

type vectorBody struct {
	InputB64           string   `json:"input_b64"`
	ChunksB64          []string `json:"chunks_b64"`
	ChunkSize          int      `json:"chunk_size"`
	RequestLastEventID string   `json:"request_last_event_id"`
}

type vector struct {
	Name string `json:"name"`
	vectorBody
	Connections         []vectorBody  `json:"connections"`
	Expected            []vectorEvent `json:"expected"`
	ExpectedRetry       *int64        `json:"expected_retry"`
	ExpectedLastEventID string        `json:"expected_last_event_id"`
}

// chunks returns the body as the network chunks the vector asks for.
func (b vectorBody) chunks(t *testing.T) [][]byte {
	decode := func(s string) []byte {
		raw, err := base64.StdEncoding.DecodeString(s)
		require.NoError(t, err)
		return raw
	}
	if len(b.ChunksB64) > 0 {
		var out [][]byte
		for _, c := range b.ChunksB64 {
			out = append(out, decode(c))
		}
		return out
	}
	body := decode(b.InputB64)
	if b.ChunkSize <= 0 {
		return [][]byte{body}
	}
	var out [][]byte
	for len(body) > b.ChunkSize {
		out = append(out, body[:b.ChunkSize])
		body = body[b.ChunkSize:]
	}
	return append(out, body)
}

// TestVectors runs every shared SSE vector through a Source, one vector per
// response (one per connection for multi-connection vectors). The server
// checks each request's Last-Event-ID, then answers the reconnection after
// the last body with 204, which checks the final last event ID and ends the
// Source deterministically. The reconnection also shows that the stream's
// retry value was taken: it never comes sooner.
func TestVectors(t *testing.T) {
	raw, err := os.ReadFile(vectorsPath)
	require.NoError(t, err)
	var file struct {
		Vectors []vector `json:"vectors"`
	}
	require.NoError(t, json.Unmarshal(raw, &file))
	require.NotEmpty(t, file.Vectors)

	const initialDelay = 20 * time.Millisecond
	for _, v := range file.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			t.Parallel()
			bodies := v.Connections
			if len(bodies) == 0 {
				bodies = []vectorBody{v.vectorBody}
			}
			chunks := make([][][]byte, len(bodies))
			for i, b := range bodies {
				chunks[i] = b.chunks(t)
			}
			var mu sync.Mutex
			var sentIDs []string // Last-Event-ID of each request, "" when absent
			srv := newServer(t, func(req *seenRequest, w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				sentIDs = append(sentIDs, r.Header.Get("Last-Event-ID"))
				mu.Unlock()
				if req.n > len(bodies) {
					w.WriteHeader(http.StatusNoContent)
					return
				}
				startStream(w)
				for _, chunk := range chunks[req.n-1] {
					_, _ = w.Write(chunk)
					w.(http.Flusher).Flush()
				}
			})

			pool := NewPool()
			pool.random = func() float64 { return 0 } // wait exactly the reconnection time
			rec := &recorder{}
			reconnect := shim.ReconnectOptions{InitialDelay: initialDelay, MaxRetries: -1}
			f := &countingFetcher{Fetcher: fetcher()}
			src := pool.Open(Options{URL: srv.URL, Fetcher: f, Reconnect: reconnect}, rec.listener())
			c := connOf(src)
			rec.waitFor(t, "error:CLOSED", 1)
			settle(t, c, src)

			var want, got []string
			for _, e := range v.Expected {
				want = append(want, e.Type+":"+e.Data+":"+e.LastEventID)
			}
			for _, e := range rec.entries() {
				switch e {
				case "open", "error:CONNECTING", "error:CLOSED":
				default:
					got = append(got, e)
				}
			}
			assert.Equal(t, want, got, "events")
			assert.Equal(t, len(bodies), rec.count("open"))
			assert.Equal(t, len(bodies), rec.count("error:CONNECTING"))

			mu.Lock()
			defer mu.Unlock()
			var wantIDs []string
			for _, b := range bodies {
				wantIDs = append(wantIDs, b.RequestLastEventID)
			}
			wantIDs = append(wantIDs, v.ExpectedLastEventID)
			var made, trimmed []string
			for i, req := range f.requests() {
				made = append(made, req.Header.Get("last-event-id"))
				// HTTP strips white space around a field value on the
				// wire (so does fetch), hence what the server can see.
				trimmed = append(trimmed, strings.Trim(wantIDs[min(i, len(wantIDs)-1)], " \t"))
			}
			assert.Equal(t, wantIDs, made, "Last-Event-ID of each request made")
			assert.Equal(t, trimmed, sentIDs, "Last-Event-ID of each request received")

			reqs := srv.requests()
			require.Len(t, reqs, len(bodies)+1)
			floor := initialDelay
			if v.ExpectedRetry != nil {
				floor = time.Duration(*v.ExpectedRetry) * time.Millisecond
			}
			gap := reqs[len(bodies)].at.Sub(reqs[len(bodies)-1].ended)
			assert.GreaterOrEqual(t, gap, floor, "reconnection waited the retry value")
		})
	}
}
