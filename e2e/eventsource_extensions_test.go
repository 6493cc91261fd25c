package e2e

import (
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEventSourceExtensions covers what shim.EventSource adds to the
// standard: method, headers and body; close() that cancels the fetch and
// the reconnect timer from anywhere; exponential backoff; maxRetries.
func TestEventSourceExtensions(t *testing.T) {
	t.Parallel()

	t.Run("POST with body and headers, on every reconnection", func(t *testing.T) {
		t.Parallel()
		s := newSite(t)
		sc := newESScript(t, stream("retry: 10\nid: 5\ndata: one\n\n"), stream("data: two\n\n"), failWith204)
		s.mux.Handle("/ext/post", sc)
		bin := newESScript(t, stream("retry: 10\ndata: binary body\n\n"), failWith204)
		s.mux.Handle("/ext/put", bin)
		p := newPage(t, s.URL+"/index.html")
		logs := eval[[][]esEntry](p, `(async () => {
			const h = await import('/eventsource-harness.js');
			const post = new shim.EventSource('/ext/post', {
				method: 'POST',
				headers: { 'X-Token': 'abc', 'Content-Type': 'application/json' },
				body: '{"q":1}',
				reconnectionOptions: { initialReconnectionDelay: 10 },
			});
			const put = new shim.EventSource('/ext/put', {
				method: 'PUT',
				headers: new Headers([['X-Token', 'xyz']]),
				body: new TextEncoder().encode('bytes\u0000here'),
			});
			const watches = [h.watch(post), h.watch(put)];
			await Promise.all(watches.map((w) => w.until(h.failed, 5000)));
			return watches.map((w) => w.log);
		})()`)
		assert.Equal(t, []string{"open", "message:one", "error", "open", "message:two", "error", "error"}, esKinds(logs[0]))
		reqs := sc.seen()
		require.Len(t, reqs, 3)
		for i, r := range reqs {
			assert.Equal(t, "POST", r.Method, "request %d", i)
			assert.Equal(t, `{"q":1}`, r.Body, "request %d", i)
			assert.Equal(t, "abc", r.Header.Get("X-Token"), "request %d", i)
			assert.Equal(t, "application/json", r.Header.Get("Content-Type"), "request %d", i)
			assert.Equal(t, "text/event-stream", r.Accept, "request %d", i)
		}
		assert.False(t, reqs[0].HasLastID)
		assert.Equal(t, []string{"5", "5"}, []string{reqs[1].LastEventID, reqs[2].LastEventID})

		assert.Equal(t, []string{"open", "message:binary body", "error", "error"}, esKinds(logs[1]))
		put := bin.seen()[0]
		assert.Equal(t, "PUT", put.Method)
		assert.Equal(t, "bytes\x00here", put.Body)
		assert.Equal(t, "xyz", put.Header.Get("X-Token"))
	})

	t.Run("close() inside onmessage stops the batch and cancels the fetch", func(t *testing.T) {
		t.Parallel()
		s := newSite(t)
		sc := newESScript(t, esReply{Chunks: []string{"retry: 10\ndata: 1\n\ndata: 2\n\ndata: 3\n\n"}, Hold: true})
		s.mux.Handle("/ext/close-in-handler", sc)
		p := newPage(t, s.URL+"/index.html")
		got := eval[map[string]any](p, `(async () => {
			const h = await import('/eventsource-harness.js');
			const es = new shim.EventSource('/ext/close-in-handler');
			const seen = [];
			es.onmessage = (e) => { seen.push(e.data); es.close(); };
			const w = h.watch(es);
			await w.until((e) => e.kind === 'message', 5000);
			await h.sleep(100); // room for events that must not come
			return { seen, readyState: es.readyState, errors: w.log.filter((e) => e.kind === 'error').length };
		})()`)
		assert.Equal(t, []any{"1"}, got["seen"], "no event after close(), not even from the same chunk")
		assert.EqualValues(t, 2, got["readyState"])
		assert.EqualValues(t, 0, got["errors"], "close() fires no error event")
		sc.waitUntil("the server to see the disconnect", 2*time.Second, func(s *esScript) bool { return s.disconnectCount() == 1 })
		assert.Equal(t, 1, sc.count())
	})

	t.Run("close() while the reconnect timer is pending sends no request", func(t *testing.T) {
		t.Parallel()
		s := newSite(t)
		timer := newESScript(t, stream("retry: 300\ndata: a\n\n"), stream("data: b\n\n"))
		s.mux.Handle("/ext/close-in-timer", timer)
		// retry: 0 reconnects at once: only the wait for the error task
		// keeps the request from leaving before the handler closes.
		inHandler := newESScript(t, stream("retry: 0\ndata: a\n\n"), stream("data: b\n\n"))
		s.mux.Handle("/ext/close-in-onerror", inHandler)
		p := newPage(t, s.URL+"/index.html")
		got := eval[[]string](p, `(async () => {
			const h = await import('/eventsource-harness.js');
			const timed = new shim.EventSource('/ext/close-in-timer');
			timed.onerror = () => setTimeout(() => timed.close(), 50);
			const direct = new shim.EventSource('/ext/close-in-onerror');
			direct.onerror = () => direct.close();
			const watches = [h.watch(timed), h.watch(direct)];
			await Promise.all(watches.map((w) => w.until((e) => e.kind === 'error', 5000)));
			await h.sleep(700); // beyond the 300 ms timer and its jitter
			return [timed.readyState, direct.readyState].map(String).concat(watches.map((w) => w.log.map((e) => e.kind).join(',')));
		})()`)
		assert.Equal(t, []string{"2", "2", "open,message,error", "open,message,error"}, got)
		assert.Equal(t, 1, timer.count(), "close() cancelled the timer")
		assert.Equal(t, 1, inHandler.count(), "close() in onerror prevented the reconnection")
	})

	t.Run("backoff: a dead server gets far fewer requests than from native", func(t *testing.T) {
		t.Parallel()
		s := newSite(t)
		// One good stream that sets retry: 50, then a server that accepts
		// and ends every request at once, without an event.
		replies := []esReply{stream("retry: 50\ndata: hi\n\n"), stream()}
		native, shimmed := newESScript(t, replies...), newESScript(t, replies...)
		s.mux.Handle("/ext/dead/native", native)
		s.mux.Handle("/ext/dead/shim", shimmed)
		p := newPage(t, s.URL+"/index.html")
		states := eval[[]int](p, `(async () => {
			const h = await import('/eventsource-harness.js');
			const sources = [new EventSource('/ext/dead/native'), new shim.EventSource('/ext/dead/shim')];
			await h.sleep(2000);
			const states = sources.map((es) => es.readyState);
			sources.forEach((es) => es.close());
			return states;
		})()`)
		n, m := native.count(), shimmed.count()
		t.Logf("requests in 2 s against a dead server with retry: 50: native %d, esshim %d", n, m)
		assert.NotEqual(t, 2, states[1], "esshim keeps trying: maxRetries is unlimited by default")
		// Full jitter over a window growing 1.5x per attempt: on average
		// about 8 requests in 2 s; 15 would take an astronomically unlucky
		// draw. Native Chromium retries every 50 ms.
		assert.LessOrEqual(t, m, 15, "esshim backs off exponentially")
		assert.GreaterOrEqual(t, n, 2*m, "native does not back off")
	})

	t.Run("maxRetries bounds reconnection, then the connection fails", func(t *testing.T) {
		t.Parallel()
		s := newSite(t)
		dead := newESScript(t, stream()) // accepts and ends at once, for ever
		s.mux.Handle("/ext/retries", dead)
		refused := closedPortURL(t)
		p := newPage(t, s.URL+"/index.html")
		logs := eval[[][]esEntry](p, `(async () => {
			const h = await import('/eventsource-harness.js');
			// A stream that stays open for initialReconnectionDelay counts as
			// progress; 200 ms keeps a loaded machine's slow empty responses
			// from looking like that.
			const opts = { reconnectionOptions: { maxRetries: 2, initialReconnectionDelay: 200, maxReconnectionDelay: 300 } };
			const sources = [new shim.EventSource('/ext/retries', opts), new shim.EventSource('`+refused+`', opts)];
			const watches = sources.map((es) => h.watch(es));
			await Promise.all(watches.map((w) => w.until(h.failed, 5000)));
			return watches.map((w) => w.log);
		})()`)
		assert.Equal(t, []string{"open", "error", "open", "error", "open", "error"}, esKinds(logs[0]), "served and ended")
		assert.Equal(t, []int{1, 0, 1, 0, 1, 2}, esStates(logs[0]))
		assert.Equal(t, 3, dead.count(), "the first request and maxRetries reconnections")
		assert.Equal(t, []int{0, 0, 2}, esStates(logs[1]), "connection refused")
	})
}

// closedPortURL returns a URL on 127.0.0.1 where nothing listens.
func closedPortURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return "http://" + addr + "/refused"
}

// esStates returns the readyState of every entry.
func esStates(log []esEntry) []int {
	out := []int{}
	for _, e := range log {
		out = append(out, e.ReadyState)
	}
	return out
}
