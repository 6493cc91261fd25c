package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEventSourceShared checks connection sharing between shim.EventSource
// instances with the same URL, method GET, headers and credentials.
func TestEventSourceShared(t *testing.T) {
	t.Parallel()

	t.Run("ten instances share one connection until the last closes", func(t *testing.T) {
		t.Parallel()
		s := newSite(t) // its own origin: Chromium allows 6 connections per host and port
		sc := newESScript(t, esReply{Chunks: []string{"retry: 20\n"}, Hold: true})
		s.mux.Handle("/shared/ten", sc)
		p := newPage(t, s.URL+"/index.html")
		opened := eval[[]int](p, `(async () => {
			const h = await import('/eventsource-harness.js');
			globalThis.h = h;
			globalThis.sources = Array.from({ length: 10 }, () => new shim.EventSource('/shared/ten'));
			globalThis.watches = sources.map((es) => h.watch(es));
			await Promise.all(watches.map((w) => w.until((e) => e.kind === 'open', 5000)));
			return sources.map((es) => es.readyState);
		})()`)
		assert.Equal(t, []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, opened)
		sc.waitUntil("the stream to be held", 5*time.Second, func(s *esScript) bool { return s.heldCount() == 1 })
		assert.Equal(t, 1, sc.count(), "ten instances, one request")

		sc.push("id: 1\ndata: first\n\n")
		got := eval[[]string](p, `(async () => {
			await Promise.all(watches.map((w) => w.until((e) => e.data === 'first', 5000)));
			return watches.map((w) => w.log.filter((e) => e.kind === 'message').map((e) => e.data + '#' + e.lastEventId).join(','));
		})()`)
		assert.Equal(t, repeat("first#1", 10), got, "every instance gets every event")

		// A late instance opens at its next task and gets events from then on.
		late := eval[struct {
			AtConstruction int       `json:"atConstruction"`
			Log            []esEntry `json:"log"`
		}](p, `(async () => {
			const es = new shim.EventSource('/shared/ten');
			const atConstruction = es.readyState;
			const w = h.watch(es);
			sources.push(es);
			watches.push(w);
			await w.until((e) => e.kind === 'open', 5000);
			return { atConstruction, log: w.log };
		})()`)
		assert.Equal(t, 0, late.AtConstruction, "CONNECTING until its next task")
		assert.Equal(t, []esEntry{{Kind: "open", ReadyState: 1}}, esWithoutTimes(late.Log), "then an open event, with readyState OPEN")
		sc.push("data: second\n\n")
		got = eval[[]string](p, `(async () => {
			await Promise.all(watches.map((w) => w.until((e) => e.data === 'second', 5000)));
			return watches.map((w) => w.log.filter((e) => e.kind === 'message').map((e) => e.data + '#' + e.lastEventId).join(','));
		})()`)
		assert.Equal(t, append(repeat("first#1,second#1", 10), "second#1"), got, "the late instance gets events from then on, with the connection's last event ID")
		assert.Equal(t, 1, sc.count(), "still one request")

		// Closing all but one leaves that one running.
		states := eval[[]int](p, `(sources.slice(0, 10).forEach((es) => es.close()), sources.map((es) => es.readyState))`)
		assert.Equal(t, []int{2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1}, states)
		sc.push("data: third\n\n")
		got = eval[[]string](p, `(async () => {
			await watches[10].until((e) => e.data === 'third', 5000);
			await h.sleep(50); // room for events the closed ones must not get
			return watches.map((w) => w.log.filter((e) => e.kind === 'message').map((e) => e.data).join(','));
		})()`)
		assert.Equal(t, append(repeat("first,second", 10), "second,third"), got)
		assert.Equal(t, 0, sc.disconnectCount(), "the connection stays up while one instance is open")

		// The last close aborts the fetch.
		eval[bool](p, `(sources[10].close(), true)`)
		sc.waitUntil("the server to see the disconnect", 2*time.Second, func(s *esScript) bool { return s.disconnectCount() == 1 })
		assert.Equal(t, 1, sc.count())
	})

	t.Run("the shared connection reconnects once for all", func(t *testing.T) {
		t.Parallel()
		s := newSite(t) // its own origin: Chromium allows 6 connections per host and port
		sc := newESScript(t,
			esReply{Chunks: []string{"retry: 20\nid: 1\ndata: a\n\n"}},
			esReply{Chunks: []string{"data: b\n\n"}, Hold: true},
		)
		s.mux.Handle("/shared/reconnect", sc)
		p := newPage(t, s.URL+"/index.html")
		logs := eval[[][]esEntry](p, `(async () => {
			const h = await import('/eventsource-harness.js');
			const sources = Array.from({ length: 3 }, () => new shim.EventSource('/shared/reconnect'));
			const watches = sources.map((es) => h.watch(es));
			await Promise.all(watches.map((w) => w.until((e) => e.data === 'b', 5000)));
			sources.forEach((es) => es.close());
			return watches.map((w) => w.log);
		})()`)
		require.Len(t, logs, 3)
		for i, log := range logs {
			assert.Equal(t, []string{"open", "message:a", "error", "open", "message:b"}, esKinds(log), "instance %d", i)
		}
		reqs := sc.seen()
		require.Len(t, reqs, 2, "one reconnection for all instances")
		assert.False(t, reqs[0].HasLastID)
		assert.Equal(t, "1", reqs[1].LastEventID)
	})

	t.Run("shared:false, different headers and credentials get their own connections", func(t *testing.T) {
		t.Parallel()
		s := newSite(t) // its own origin: Chromium allows 6 connections per host and port
		sc := newESScript(t, esReply{Chunks: []string{"data: hi\n\n"}, Hold: true})
		s.mux.Handle("/shared/separate", sc)
		p := newPage(t, s.URL+"/index.html")
		n := eval[int](p, `(async () => {
			const h = await import('/eventsource-harness.js');
			const sources = [
				new shim.EventSource('/shared/separate', { shared: false }),
				new shim.EventSource('/shared/separate', { shared: false }),
				new shim.EventSource('/shared/separate', { headers: { 'X-Variant': 'a' } }),
				new shim.EventSource('/shared/separate', { headers: { 'X-Variant': 'b' } }),
				new shim.EventSource('/shared/separate', { withCredentials: true }),
			];
			const watches = sources.map((es) => h.watch(es));
			await Promise.all(watches.map((w) => w.until((e) => e.data === 'hi', 5000)));
			sources.forEach((es) => es.close());
			return sources.length;
		})()`)
		assert.Equal(t, 5, n)
		assert.Equal(t, 5, sc.count(), "one connection each")
	})
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}
