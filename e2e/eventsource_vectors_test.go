package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEventSourceVectors serves every shared SSE vector as HTTP responses,
// one per connection, and checks what shim.EventSource dispatches in
// Chromium: the MessageEvents (type, data, lastEventId, origin, readyState),
// the open/error skeleton of the connections, the Last-Event-ID of every
// request (including one more after the stream, which carries the final
// last event ID), and that the reconnection waits at least the stream's
// retry value. Every vector ends with a 204 on the extra request, which
// fails the connection for good, so each EventSource ends by itself.
func TestEventSourceVectors(t *testing.T) {
	t.Parallel()
	vectors := loadVectors(t)
	chunkSizes := loadESVectorChunkSizes(t)
	s := newSite(t)
	scripts := make([]*esScript, len(vectors))
	types := map[string]bool{}
	for i, v := range vectors {
		var replies []esReply
		for c, body := range v.bodies(t) {
			rp := esReply{Chunks: []string{string(body)}}
			switch {
			case c == 0 && len(v.ChunksB64) > 0:
				rp.Chunks = nil
				for _, chunk := range v.ChunksB64 {
					rp.Chunks = append(rp.Chunks, string(mustB64(t, chunk)))
				}
				rp.Pause = 5 * time.Millisecond
			case c == 0 && chunkSizes[v.Name] > 0:
				rp.Chunks = esSplitEvery(string(body), chunkSizes[v.Name])
				rp.Pause = time.Millisecond
			}
			replies = append(replies, rp)
		}
		replies = append(replies, esReply{Status: 204})
		scripts[i] = newESScript(t, replies...)
		s.mux.Handle(fmt.Sprintf("/esv/%d", i), scripts[i])
		for _, e := range v.Expected {
			types[e.Type] = true
		}
	}
	var typeList []string
	for ty := range types {
		typeList = append(typeList, ty)
	}

	p := newPage(t, s.URL+"/index.html")
	type result struct {
		Log      []esEntry `json:"log"`
		TimedOut bool      `json:"timedOut"`
	}
	results := eval[[]result](p, `(async () => {
		const h = await import('/eventsource-harness.js');
		const types = `+esJSON(t, typeList)+`;
		return Promise.all(Array.from({ length: `+fmt.Sprint(len(vectors))+` }, async (_, i) => {
			const es = new shim.EventSource('/esv/' + i, { reconnectionOptions: { initialReconnectionDelay: 10, maxReconnectionDelay: 3000 } });
			const w = h.watch(es, types);
			const ended = await w.until(h.failed, 20000);
			es.close();
			return { log: w.log, timedOut: !ended };
		}));
	})()`)
	require.Len(t, results, len(vectors))

	passed := 0
	for i, v := range vectors {
		if checkESVector(t, v, s.URL, results[i].Log, results[i].TimedOut, scripts[i]) {
			passed++
		}
	}
	t.Logf("%d of %d vectors passed through shim.EventSource", passed, len(vectors))
	assert.Equal(t, len(vectors), passed)
}

// checkESVector checks one vector's outcome and reports whether it passed.
func checkESVector(t *testing.T, v vector, origin string, log []esEntry, timedOut bool, sc *esScript) bool {
	t.Helper()
	ok := assert.False(t, timedOut, "%s: the EventSource never failed on the final 204", v.Name)

	var messages []vectorEvent
	var skeleton []esEntry
	for _, e := range log {
		if e.Kind != "message" {
			skeleton = append(skeleton, esEntry{Kind: e.Kind, ReadyState: e.ReadyState})
			continue
		}
		messages = append(messages, vectorEvent{Type: e.Type, Data: e.Data, LastEventID: e.LastEventID})
		ok = assert.Equal(t, 1, e.ReadyState, "%s: readyState during a message", v.Name) && ok
		ok = assert.Equal(t, origin, e.Origin, "%s: origin", v.Name) && ok
	}
	ok = assert.Equal(t, nonNil(v.Expected), nonNil(messages), "%s: events", v.Name) && ok

	conns := len(v.bodies(t))
	var want []esEntry
	for range conns {
		want = append(want, esEntry{Kind: "open", ReadyState: 1}, esEntry{Kind: "error", ReadyState: 0})
	}
	want = append(want, esEntry{Kind: "error", ReadyState: 2})
	ok = assert.Equal(t, want, skeleton, "%s: open/error sequence", v.Name) && ok

	requests := sc.seen()
	if !assert.Len(t, requests, conns+1, "%s: requests", v.Name) {
		return false
	}
	wantIDs := make([]string, conns+1)
	for c, conn := range v.Connections {
		wantIDs[c] = conn.RequestLastEventID
	}
	wantIDs[conns] = v.LastEventID
	for c, r := range requests {
		// HTTP field values cannot carry leading or trailing spaces and
		// tabs: fetch's Headers and every HTTP parser strip them, so the
		// server can only ever see the trimmed ID.
		wantIDs[c] = strings.Trim(wantIDs[c], " \t")
		ok = assert.Equal(t, wantIDs[c] != "", r.HasLastID, "%s: request %d has Last-Event-ID", v.Name, c) && ok
		ok = assert.Equal(t, wantIDs[c], r.LastEventID, "%s: Last-Event-ID of request %d", v.Name, c) && ok
	}
	if v.Retry != nil {
		// The spec's lower bound: wait at least the reconnection time.
		// The server finished its esReply before the client saw the end, so
		// the gap it measures can only be longer than the client's wait.
		gap := requests[conns].At.Sub(sc.endedAt(conns - 1))
		ok = assert.GreaterOrEqual(t, gap, time.Duration(*v.Retry)*time.Millisecond, "%s: reconnection delay", v.Name) && ok
	}
	return ok
}

// loadESVectorChunkSizes reads the chunk_size field, which the shared vector
// type does not decode: vectors that give it are served in chunks of that
// many bytes.
func loadESVectorChunkSizes(t *testing.T) map[string]int {
	t.Helper()
	raw, err := os.ReadFile("../../shared/sse-vectors/vectors.json")
	require.NoError(t, err)
	var file struct {
		Vectors []struct {
			Name      string `json:"name"`
			ChunkSize int    `json:"chunk_size"`
		} `json:"vectors"`
	}
	require.NoError(t, json.Unmarshal(raw, &file))
	out := map[string]int{}
	for _, v := range file.Vectors {
		if v.ChunkSize > 0 {
			out[v.Name] = v.ChunkSize
		}
	}
	return out
}

func esSplitEvery(s string, n int) []string {
	var out []string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	return append(out, s)
}
