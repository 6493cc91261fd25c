//go:build !js

package transport

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esshim/esshim/shim"
)

// countingMCP is mcp with a new session id per initialize: "s-1", "s-2"…
func countingMCP() func(w http.ResponseWriter, r *http.Request, q seen) {
	var n atomic.Int64
	return func(w http.ResponseWriter, r *http.Request, q seen) {
		if q.RPC == "initialize" {
			mcp(fmt.Sprint("s-", n.Add(1)))(w, r, q)
			return
		}
		mcp("")(w, r, q)
	}
}

func TestStartCloseContract(t *testing.T) {
	ts := newServer(t, mcp("s"))
	rec := &recorder{}
	tr := New(Options{URL: ts.URL, Handler: rec.handler()})

	select {
	case <-tr.Close():
	default:
		t.Fatal("Close before Start must be done at once")
	}
	assert.Zero(t, rec.closeCount(), "no lifecycle, no onclose")

	for cycle := 1; cycle <= 3; cycle++ {
		require.NoError(t, tr.Start())
		assert.ErrorIs(t, tr.Start(), shim.ErrAlreadyStarted)
		assert.Equal(t, cycle, tr.Snapshot().Lifecycle)
		done := tr.Close()
		assert.Equal(t, done, tr.Close(), "idempotent: the same channel")
		waitDone(t, done)
		assert.Equal(t, cycle, rec.closeCount(), "onclose once per lifecycle")
		assert.ErrorIs(t, tr.Send(t.Context(), rpcRequest(1, "x"), SendOptions{}), shim.ErrNotStarted)
	}
	time.Sleep(20 * time.Millisecond)
	assert.Equal(t, 3, rec.closeCount())
	waitGone(t, tr)
}

// TestRestartStartsClean: nothing of a lifecycle carries over to the next.
func TestRestartStartsClean(t *testing.T) {
	base := countingMCP()
	ts := newServer(t, func(w http.ResponseWriter, r *http.Request, q seen) {
		switch {
		case q.RPC == "tools/call":
			startSSE(w, "").event("old-0", "", 1000) // resumable, then dies
		case q.Method == http.MethodGet && q.LastEventID == "":
			startSSE(w, "").event("g-0", "", 0)
			<-r.Context().Done()
		default:
			base(w, r, q)
		}
	})
	rec := &recorder{}
	tr := newTransport(t, ts, rec, Options{SessionID: "seeded", ProtocolVersion: "2025-03-26"})
	assert.Equal(t, "seeded", tr.SessionID())
	assert.Equal(t, "2025-03-26", tr.ProtocolVersion())
	connect(t, tr)
	tr.SetProtocolVersion("2025-06-18")
	require.NoError(t, tr.Send(t.Context(), rpcRequest(7, "tools/call"), SendOptions{}))
	eventually(t, func() bool {
		s := tr.Snapshot()
		return len(s.Streams) == 2 && len(s.Inflight) == 1 && s.Timers == 1
	}, "a standalone stream, a stream waiting to resume, a request in flight")
	assert.Equal(t, "seeded", ts.requests(nil)[0].Session, "the seed is used by the first lifecycle")

	waitDone(t, tr.Close())
	assert.Empty(t, tr.SessionID())
	assert.Empty(t, tr.ProtocolVersion())
	require.NoError(t, tr.Start())
	s := tr.Snapshot()
	assert.Equal(t, 2, s.Lifecycle)
	assert.Empty(t, s.SessionID)
	assert.Empty(t, s.Streams)
	assert.Empty(t, s.Inflight)
	assert.Zero(t, s.Timers)

	before := len(ts.requests(nil))
	require.NoError(t, tr.Send(t.Context(), rpcRequest(8, "tools/list"), SendOptions{}))
	q := ts.requests(nil)[before]
	assert.Empty(t, q.Session, "no session id carried over")
	assert.Empty(t, q.Version, "no protocol version carried over")
	time.Sleep(1100 * time.Millisecond) // past the old stream's retry
	for _, q := range ts.requests(nil)[before:] {
		assert.NotEqual(t, "old-0", q.LastEventID, "no old Last-Event-ID")
	}
	assert.Empty(t, rec.forID(t, "7"), "Close settles nothing: the SDK's onclose does")

	waitDone(t, tr.Close())
	tr.SetProtocolVersion("v-next")
	require.NoError(t, tr.Start())
	assert.Equal(t, "v-next", tr.ProtocolVersion(), "set while closed, it seeds the next lifecycle")
}

// TestGhostTimer: a reconnect is scheduled, then close and start. The old
// timer never fires into the new lifecycle.
func TestGhostTimer(t *testing.T) {
	base := countingMCP()
	ts := newServer(t, func(w http.ResponseWriter, r *http.Request, q seen) {
		if q.Method == http.MethodGet {
			startSSE(w, "").event("g-1", "", 100) // then ends: reconnect in 100ms
			return
		}
		base(w, r, q)
	})
	rec := &recorder{}
	tr := newTransport(t, ts, rec, Options{})
	connect(t, tr)
	eventually(t, func() bool { return tr.Snapshot().Timers == 1 }, "reconnect scheduled")
	waitDone(t, tr.Close())
	require.NoError(t, tr.Start())
	restart := time.Now()
	assert.Zero(t, tr.Snapshot().Timers, "the timer was stopped by Close")
	require.NoError(t, tr.Send(t.Context(), initializeMsg, SendOptions{}))
	time.Sleep(250 * time.Millisecond)
	for _, q := range ts.requests(func(q seen) bool { return q.At.After(restart) }) {
		assert.NotEqual(t, "s-1", q.Session, "old session after restart: %s %s", q.Method, q.RPC)
		assert.NotEqual(t, "g-1", q.LastEventID, "old Last-Event-ID after restart")
	}
	assert.Equal(t, 1, ts.count(isGET))
	assert.Equal(t, "s-2", tr.SessionID())
}

// TestGhostAwait: close and start happen while the headers hook of an
// old-lifecycle request is still pending (a slow token refresh). That
// request is never sent, even if the hook resolves afterwards.
func TestGhostAwait(t *testing.T) {
	for _, which := range []string{"reconnect GET", "POST"} {
		t.Run(which, func(t *testing.T) {
			base := mcp("s")
			ts := newServer(t, func(w http.ResponseWriter, r *http.Request, q seen) {
				if q.Method == http.MethodGet {
					startSSE(w, "").event("g-1", "", 10)
					return
				}
				base(w, r, q)
			})
			var slow atomic.Bool
			entered := make(chan struct{}, 1)
			release := make(chan struct{})
			rec := &recorder{}
			tr := newTransport(t, ts, rec, Options{
				HeaderHook: func(ctx shim.Context) (shim.Header, error) {
					if slow.Load() {
						entered <- struct{}{}
						<-release // resolves late, ignoring ctx, like a JS promise
					}
					return shim.Header{"authorization": "Bearer x"}, nil
				},
			})
			connect(t, tr)
			eventually(t, func() bool { return ts.count(isGET) >= 1 }, "standalone opened")
			var sendErr chan error
			if which == "POST" {
				slow.Store(true)
				sendErr = make(chan error, 1)
				go func() { sendErr <- tr.Send(context.Background(), rpcRequest(9, "tools/call"), SendOptions{}) }()
			} else {
				slow.Store(true) // the reconnect, 10ms after the GET ended, waits in the hook
			}
			<-entered
			before := len(ts.requests(nil))
			done := tr.Close()
			require.NoError(t, tr.Start())
			slow.Store(false)
			close(release)
			waitDone(t, done)
			if sendErr != nil {
				assert.Equal(t, shim.CodeClosed, shim.CodeOf(<-sendErr))
			}
			time.Sleep(100 * time.Millisecond)
			assert.Len(t, ts.requests(nil), before, "the old lifecycle's request was never sent")
		})
	}
}

// TestGhostOnError: close() and start() called synchronously inside
// onerror while a failed reconnect is being handled. No old-lifecycle
// reconnect happens afterwards.
func TestGhostOnError(t *testing.T) {
	base := mcp("s")
	ts := newServer(t, func(w http.ResponseWriter, r *http.Request, q seen) {
		if q.Method == http.MethodGet {
			if q.LastEventID == "" {
				startSSE(w, "").event("g-1", "", 10)
				return
			}
			http.Error(w, "down", http.StatusBadGateway) // the reconnect fails
			return
		}
		base(w, r, q)
	})
	rec := &recorder{}
	var tr *Transport
	var once sync.Once
	var restarted atomic.Int64
	var order []string
	var orderMu sync.Mutex
	note := func(s string) {
		orderMu.Lock()
		order = append(order, s)
		orderMu.Unlock()
	}
	rec.onError = func(err *shim.Error) {
		once.Do(func() {
			note("onerror")
			tr.Close()
			assert.NoError(t, tr.Start())
			restarted.Store(time.Now().UnixNano())
			note("onerror returns")
		})
	}
	rec.onClose = func() { note("onclose") }
	tr = newTransport(t, ts, rec, Options{Reconnect: shim.ReconnectOptions{InitialDelay: 10 * time.Millisecond, MaxRetries: 5}})
	connect(t, tr)
	eventually(t, func() bool { return restarted.Load() != 0 }, "onerror ran")
	time.Sleep(200 * time.Millisecond) // twenty reconnect delays
	at := time.Unix(0, restarted.Load())
	assert.Empty(t, ts.requests(func(q seen) bool { return q.At.After(at) }), "no old-lifecycle reconnect")
	assert.Zero(t, tr.Snapshot().Timers)
	assert.Equal(t, 2, tr.Snapshot().Lifecycle)
	orderMu.Lock()
	assert.Equal(t, []string{"onerror", "onerror returns", "onclose"}, order, "onclose right after the running callback")
	orderMu.Unlock()
	assert.Zero(t, rec.overlaps)
}

// TestCallbackReentrancy: callbacks may call every method synchronously,
// even wait for Close's channel, without deadlock; callbacks never overlap.
func TestCallbackReentrancy(t *testing.T) {
	ts := newServer(t, mcp("s"))
	rec := &recorder{}
	var tr *Transport
	finished := make(chan struct{})
	var calls atomic.Int64
	rec.onMessage = func(m string) {
		if calls.Add(1) != 1 {
			return
		}
		_ = tr.Snapshot()
		assert.Equal(t, "s", tr.SessionID())
		_ = tr.ProtocolVersion()
		assert.ErrorIs(t, tr.Start(), shim.ErrAlreadyStarted)
		<-tr.Close() // must not wait for this very callback
		assert.NoError(t, tr.Start())
		assert.NoError(t, tr.Send(context.Background(), initializeMsg, SendOptions{}))
		close(finished)
	}
	tr = newTransport(t, ts, rec, Options{})
	require.NoError(t, tr.Send(t.Context(), initializeMsg, SendOptions{}))
	select {
	case <-finished:
	case <-time.After(5 * time.Second):
		t.Fatal("deadlock in a re-entrant callback")
	}
	eventually(t, func() bool { return len(rec.messages()) == 2 && rec.closeCount() == 1 }, "the new lifecycle delivers")
	assert.Zero(t, rec.overlaps)

	// Close from another goroutine while a callback runs: onclose follows
	// the running callback, never overlaps it.
	inside := make(chan struct{})
	rec.onMessage = func(string) {
		close(inside)
		time.Sleep(50 * time.Millisecond)
	}
	require.NoError(t, tr.Send(t.Context(), rpcRequest(1, "tools/list"), SendOptions{}))
	<-inside
	waitDone(t, tr.Close())
	eventually(t, func() bool { return rec.closeCount() == 2 }, "onclose delivered")
	assert.Zero(t, rec.overlaps)
}

// TestCloseAbortsEverything: Close's channel closes only after the
// lifecycle's fetches are aborted, and aborts them at once.
func TestCloseAbortsEverything(t *testing.T) {
	aborted := make(chan string, 4)
	base := mcp("s")
	ts := newServer(t, func(w http.ResponseWriter, r *http.Request, q seen) {
		switch {
		case q.RPC == "tools/call" && q.ID == "1":
			<-r.Context().Done() // no answer: Send is blocked in the fetch
			aborted <- "post"
		case q.RPC == "tools/call":
			startSSE(w, "").event("", `{"jsonrpc":"2.0","method":"notifications/progress"}`, 0)
			<-r.Context().Done()
			aborted <- "sse"
		case q.Method == http.MethodGet:
			startSSE(w, "")
			<-r.Context().Done()
			aborted <- "get"
		default:
			base(w, r, q)
		}
	})
	rec := &recorder{}
	tr := newTransport(t, ts, rec, Options{})
	connect(t, tr)
	require.NoError(t, tr.Send(t.Context(), rpcRequest(2, "tools/call"), SendOptions{}))
	sendErr := make(chan error, 1)
	go func() { sendErr <- tr.Send(context.Background(), rpcRequest(1, "tools/call"), SendOptions{}) }()
	eventually(t, func() bool { return ts.count(isRPC("tools/call")) == 2 && ts.count(isGET) == 1 }, "all open")
	start := time.Now()
	waitDone(t, tr.Close())
	assert.Less(t, time.Since(start), 2*time.Second, "aborted, not waited for")
	assert.Equal(t, shim.CodeClosed, shim.CodeOf(<-sendErr))
	got := map[string]bool{}
	for range 3 {
		select {
		case s := <-aborted:
			got[s] = true
		case <-time.After(2 * time.Second):
			t.Fatalf("not every fetch was aborted: %v", got)
		}
	}
	assert.Len(t, got, 3)
	waitGone(t, tr)
}

// TestCycles: 1,000 start/close cycles with traffic; goroutines and timers
// return to their baseline.
func TestCycles(t *testing.T) {
	base := countingMCP()
	ts := newServer(t, func(w http.ResponseWriter, r *http.Request, q seen) {
		switch {
		case q.Method == http.MethodGet:
			// Cut after one event: a reconnect timer is often pending at Close.
			startSSE(w, "").event("g", `{"jsonrpc":"2.0","method":"notifications/message"}`, 30)
		case q.RPC == "tools/call":
			s := startSSE(w, "")
			s.event("c-0", "", 0)
			s.event("c-1", result(q.ID, "x"), 0)
		default:
			base(w, r, q)
		}
	})
	rec := &recorder{}
	tr := New(Options{URL: ts.URL, Fetcher: newFetcher(ts), Handler: rec.handler(), Reconnect: fast})
	baseline := runtime.NumGoroutine()
	const cycles = 1000
	for i := range cycles {
		require.NoError(t, tr.Start())
		require.NoError(t, tr.Send(t.Context(), initializeMsg, SendOptions{}))
		switch i % 10 {
		case 0:
			require.NoError(t, tr.Send(t.Context(), initializedMsg, SendOptions{}))
		case 1:
			require.NoError(t, tr.Send(t.Context(), rpcRequest(1, "tools/call"), SendOptions{}))
		}
		waitDone(t, tr.Close())
	}
	waitGone(t, tr)
	assert.Equal(t, cycles, rec.closeCount())
	assert.Equal(t, cycles, tr.Snapshot().Lifecycle)
	ts.Client().CloseIdleConnections()
	eventually(t, func() bool { return runtime.NumGoroutine() <= baseline+2 }, "process goroutines back to baseline %d: %d", baseline, runtime.NumGoroutine())
}
