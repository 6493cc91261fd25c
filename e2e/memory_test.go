package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// maxEventSize is the default bound of one event (sse.DefaultMaxEventSize).
const maxEventSize = 16 << 20

// TestMaximalEventMemory: a 20 MiB data line without a newline fails with
// EVENT_TOO_LARGE, and on its way the wasm linear memory, which never
// shrinks, grows by at most 3× maxEventSize; so does the largest event that
// fits, delivered. Each reader runs in a page of its own, so that each
// starts from a fresh memory.
func TestMaximalEventMemory(t *testing.T) {
	t.Parallel()
	chunk := strings.Repeat("x", 64<<10)
	huge := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte("data: "))
		if r.URL.Query().Get("complete") != "" {
			// The largest event that fits: maxEventSize bytes of data.
			for n := 0; n < maxEventSize; n += len(chunk) {
				_, _ = w.Write([]byte(chunk))
			}
			_, _ = w.Write([]byte("\n\n"))
			return
		}
		for n := 0; n < 20<<20; n += len(chunk) {
			if _, err := w.Write([]byte(chunk)); err != nil {
				return
			}
		}
	}
	readers := map[string]string{
		"openEventStream": `shim.openEventStream('/huge').done.then((r) => 'ended: ' + r.reason, (e) => e.code)`,
		"EventSource": `new Promise((resolve) => {
			const es = new shim.EventSource('/huge');
			es.onerror = () => { if (es.readyState === 2) resolve('failed'); else { es.close(); resolve('reconnecting'); } };
		})`,
	}
	readers["openEventStream, complete"] = `(async () => {
		let size = 0;
		const r = await shim.openEventStream('/huge?complete=1', { onevent: (e) => { size = e.data.length; } }).done;
		return r.reason + ' ' + size;
	})()`
	readers["EventSource, complete"] = `new Promise((resolve) => {
		const es = new shim.EventSource('/huge?complete=1');
		es.onmessage = (e) => { es.close(); resolve('message ' + e.data.length); };
	})`
	want := map[string]string{
		"openEventStream": "EVENT_TOO_LARGE", "EventSource": "failed",
		"openEventStream, complete": "end 16777216", "EventSource, complete": "message 16777216",
	}
	for name, expr := range readers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := newSite(t)
			s.handle("/huge", huge)
			p := newPage(t, s.URL+"/index.html")
			type result struct {
				Outcome string `json:"outcome"`
				Before  int    `json:"before"`
				After   int    `json:"after"`
			}
			got := eval[result](p, `(async () => {
				const before = shim.debug.stats().wasmMemory;
				const outcome = await `+expr+`;
				return { outcome, before, after: shim.debug.stats().wasmMemory };
			})()`)
			growth := got.After - got.Before
			t.Logf("%s: wasm memory %d → %d bytes, +%.1f MiB for a maximal event of %d MiB", name, got.Before, got.After, float64(growth)/(1<<20), maxEventSize>>20)
			assert.Equal(t, want[name], got.Outcome)
			assert.LessOrEqual(t, growth, 3*maxEventSize, "wasm memory growth")
		})
	}
}
