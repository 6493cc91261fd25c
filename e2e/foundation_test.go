package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadInPage(t *testing.T) {
	s := newSite(t)
	p := newPage(t, s.URL+"/index.html")
	got := eval[map[string]any](p, `(async () => {
		const { load } = await import('/dist/esshim.js');
		const again = await load();
		return { version: shim.version, same: again === shim, frozen: Object.isFrozen(shim), globalGo: typeof globalThis.Go };
	})()`)
	assert.NotEmpty(t, got["version"])
	assert.Equal(t, true, got["same"], "load() twice returns the same instance")
	assert.Equal(t, "undefined", got["globalGo"], "the bundled wasm_exec.js leaves no global Go behind")
}

func TestLoadInDedicatedWorker(t *testing.T) {
	s := newSite(t)
	s.handle("/stream", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "id: 7\ndata: from worker\n\n")
	})
	p := newPage(t, s.URL+"/index.html")
	got := eval[map[string]any](p, `new Promise((resolve, reject) => {
		const w = new Worker('/worker.js', { type: 'module' });
		w.onmessage = (m) => resolve(m.data);
		w.onerror = (e) => reject(new Error('worker error: ' + e.message));
		w.postMessage({ streamURL: '/stream' });
	})`)
	require.Nil(t, got["error"])
	assert.NotEmpty(t, got["version"])
	assert.Equal(t, true, got["same"])
	assert.Equal(t, false, got["hasWindow"])
	assert.Equal(t, []any{map[string]any{"type": "message", "data": "from worker", "lastEventId": "7"}}, got["events"])
}

func TestLoadFromBytesAndModule(t *testing.T) {
	s := newSite(t)
	// A fresh module instance per variant: load() caches per module.
	for _, variant := range []string{
		`await (await fetch('/dist/esshim.wasm')).arrayBuffer()`,
		`new Uint8Array(await (await fetch('/dist/esshim.wasm')).arrayBuffer())`,
		`await WebAssembly.compileStreaming(fetch('/dist/esshim.wasm'))`,
		`await fetch('/dist/esshim.wasm')`,
		`new URL('/dist/esshim.wasm', location.href)`,
		`'/dist/esshim.wasm'`,
	} {
		t.Run(variant, func(t *testing.T) {
			p := newPage(t, s.URL+"/index.html")
			v := eval[string](p, `(async () => {
				const { load } = await import('/dist/esshim.js?fresh=' + Math.random());
				return (await load({ wasm: `+variant+` })).version;
			})()`)
			assert.NotEmpty(t, v)
		})
	}
}

// TestVectorsThroughBridge serves every shared vector from a Go SSE server
// with random chunk boundaries and checks what the page receives through
// the fetch bridge and the Go parser.
func TestVectorsThroughBridge(t *testing.T) {
	vectors := loadVectors(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("chunking seed %d", seed)
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(seed, 1))
	var lastEventIDs sync.Map // "vector/conn" -> Last-Event-ID header seen

	s := newSite(t)
	s.handle("/vector", func(w http.ResponseWriter, r *http.Request) {
		i, _ := strconv.Atoi(r.URL.Query().Get("i"))
		c, _ := strconv.Atoi(r.URL.Query().Get("conn"))
		lastEventIDs.Store(fmt.Sprintf("%d/%d", i, c), r.Header.Get("Last-Event-ID"))
		body := vectors[i].bodies(t)[c]
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		for len(body) > 0 {
			mu.Lock()
			n := 1 + rng.IntN(min(len(body), 64))
			pause := rng.IntN(4) == 0
			mu.Unlock()
			w.Write(body[:n])
			w.(http.Flusher).Flush()
			if pause {
				time.Sleep(time.Millisecond)
			}
			body = body[n:]
		}
	})
	p := newPage(t, s.URL+"/index.html")

	conns := make([]int, len(vectors))
	for i, v := range vectors {
		conns[i] = len(v.bodies(t))
	}
	type result struct {
		Events      []vectorEvent `json:"events"`
		LastEventID string        `json:"lastEventId"`
		Retry       *int64        `json:"retry"`
		Error       string        `json:"error"`
	}
	connsJSON, _ := json.Marshal(conns)
	results := eval[[]result](p, `(async () => {
		const conns = `+string(connsJSON)+`;
		const out = [];
		for (let i = 0; i < conns.length; i++) {
			const events = [];
			let lastEventId = '', retry = null, error = '';
			try {
				for (let c = 0; c < conns[i]; c++) {
					const h = shim.openEventStream('/vector?i=' + i + '&conn=' + c, { lastEventId, onevent: (e) => events.push(e) });
					const r = await h.done;
					lastEventId = r.lastEventId;
					if (r.retry !== null) retry = r.retry;
				}
			} catch (e) { error = e.code + ': ' + e.message; }
			out.push({ events, lastEventId, retry, error });
		}
		return out;
	})()`)
	require.Len(t, results, len(vectors))
	passed := 0
	for i, v := range vectors {
		r := results[i]
		ok := assert.Empty(t, r.Error, v.Name) &&
			assert.Equal(t, nonNil(v.Expected), nonNil(r.Events), v.Name) &&
			assert.Equal(t, v.LastEventID, r.LastEventID, v.Name+": last event ID") &&
			assert.Equal(t, v.Retry, r.Retry, v.Name+": retry")
		for c, conn := range v.Connections {
			got, _ := lastEventIDs.Load(fmt.Sprintf("%d/%d", i, c))
			ok = assert.Equal(t, conn.RequestLastEventID, got, "%s: Last-Event-ID of connection %d", v.Name, c) && ok
		}
		if ok {
			passed++
		}
	}
	t.Logf("%d of %d vectors passed through the bridge", passed, len(vectors))
}

func nonNil(e []vectorEvent) []vectorEvent {
	if e == nil {
		return []vectorEvent{}
	}
	return e
}

// TestCancelReachesServer closes a stream from JS and checks that the
// server sees the disconnect within 200 ms.
func TestCancelReachesServer(t *testing.T) {
	gone := make(chan time.Time, 1)
	s := newSite(t)
	s.handle("/hold", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: hello\n\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		gone <- time.Now()
	})
	p := newPage(t, s.URL+"/index.html")
	eval[bool](p, `new Promise((resolve) => {
		globalThis.held = shim.openEventStream('/hold', { onevent: () => resolve(true) });
	})`)
	closedAt := time.Now()
	reason := eval[string](p, `(globalThis.held.close(), globalThis.held.done.then((r) => r.reason))`)
	assert.Equal(t, "closed", reason)
	select {
	case at := <-gone:
		d := at.Sub(closedAt)
		t.Logf("server saw the disconnect %v after close()", d)
		assert.Less(t, d, 200*time.Millisecond)
	case <-time.After(2 * time.Second):
		t.Fatal("the server never saw the disconnect")
	}
}

// TestPanicDoesNotKillTheProgram triggers internal panics on a sync and an
// async entry point, then checks that esshim still works.
func TestPanicDoesNotKillTheProgram(t *testing.T) {
	s := newSite(t)
	s.handle("/one", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: still alive\n\n")
	})
	p := newPage(t, s.URL+"/index.html")
	got := eval[map[string]any](p, `(async () => {
		const out = {};
		try { shim.debug.panic(); out.sync = 'no throw'; } catch (e) { out.sync = e.code; out.syncIsError = e instanceof Error; out.syncMessage = e.message; }
		try { await shim.debug.panicAsync(); out.async = 'no reject'; } catch (e) { out.async = e.code; }
		const events = [];
		const h = shim.openEventStream('/one', { onevent: (e) => events.push(e.data) });
		out.after = (await h.done).reason;
		out.events = events;
		out.version = shim.version;
		return out;
	})()`)
	assert.Equal(t, "INTERNAL_ERROR", got["sync"])
	assert.Equal(t, true, got["syncIsError"])
	assert.Contains(t, got["syncMessage"], "deliberate panic")
	assert.Equal(t, "INTERNAL_ERROR", got["async"])
	assert.Equal(t, "end", got["after"])
	assert.Equal(t, []any{"still alive"}, got["events"])
}
