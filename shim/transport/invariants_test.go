//go:build !js

package transport

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esshim/esshim/shim"
	"github.com/esshim/esshim/shim/jsonrpc"
)

// standaloneCount counts the standalone streams in a snapshot.
func standaloneCount(s Snapshot) int {
	n := 0
	for _, st := range s.Streams {
		if st.Kind == kindStandalone {
			n++
		}
	}
	return n
}

// sampler records the largest number of standalone streams the transport
// ever shows while the test runs.
func sampler(t *testing.T, tr *Transport) func() int {
	var maxSeen atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
			if n := int64(standaloneCount(tr.Snapshot())); n > maxSeen.Load() {
				maxSeen.Store(n)
			}
		}
	}()
	return func() int {
		close(stop)
		wg.Wait()
		return int(maxSeen.Load())
	}
}

// TestInvariant1OneStandaloneStream: at most one standalone GET exists at
// any moment; opens are coalesced, including those of reconnect timers.
func TestInvariant1OneStandaloneStream(t *testing.T) {
	t.Run("leapfrog", func(t *testing.T) {
		// POST streams prime with an id and retry: 50 and end right after
		// their response; the GET handler kills the session's previous GET.
		base := mcp("s")
		var mu sync.Mutex
		var killPrev func()
		ts := newServer(t, func(w http.ResponseWriter, r *http.Request, q seen) {
			switch {
			case q.Method == http.MethodGet:
				kill := make(chan struct{})
				mu.Lock()
				if killPrev != nil {
					killPrev()
				}
				killPrev = sync.OnceFunc(func() { close(kill) })
				mu.Unlock()
				startSSE(w, "")
				select {
				case <-kill:
				case <-r.Context().Done():
				}
			case q.RPC == "tools/call":
				s := startSSE(w, "")
				s.event("p"+q.ID+"-0", "", 50)
				s.event("p"+q.ID+"-1", result(q.ID, "x"), 0)
			default:
				base(w, r, q)
			}
		})
		rec := &recorder{}
		tr := newTransport(t, ts, rec, Options{})
		maxStandalone := sampler(t, tr)
		connect(t, tr)
		var wg sync.WaitGroup
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				assert.NoError(t, tr.Send(t.Context(), rpcRequest(i+1, "tools/call"), SendOptions{}))
				if i%4 == 0 { // repeated initialized: opens must coalesce
					assert.NoError(t, tr.Send(t.Context(), initializedMsg, SendOptions{}))
				}
			}()
			time.Sleep(10 * time.Millisecond)
		}
		wg.Wait()
		eventually(t, func() bool { return len(rec.messages()) == 41 }, "every call answered")
		time.Sleep(150 * time.Millisecond) // longer than any retry: nothing may reconnect
		assert.Equal(t, 1, ts.count(isGET), "the server sees one GET")
		assert.LessOrEqual(t, ts.maxOpenGET, 1)
		assert.Equal(t, 1, maxStandalone())
		assert.Empty(t, rec.errors())
	})

	t.Run("reconnect timers coalesce with opens", func(t *testing.T) {
		// The standalone stream is cut after every event, so it spends its
		// time waiting on reconnect timers while opens keep coming.
		base := mcp("s")
		var n atomic.Int64
		ts := newServer(t, func(w http.ResponseWriter, r *http.Request, q seen) {
			if q.Method == http.MethodGet {
				startSSE(w, "").event(fmt.Sprint("g-", n.Add(1)), `{"jsonrpc":"2.0","method":"notifications/message"}`, 15)
				return
			}
			base(w, r, q)
		})
		rec := &recorder{}
		tr := newTransport(t, ts, rec, Options{})
		maxStandalone := sampler(t, tr)
		connect(t, tr)
		for range 30 {
			require.NoError(t, tr.Send(t.Context(), initializedMsg, SendOptions{}))
			time.Sleep(5 * time.Millisecond)
		}
		eventually(t, func() bool { return ts.count(isGET) >= 5 }, "the stream keeps coming back")
		assert.Equal(t, 1, maxStandalone())
		assert.LessOrEqual(t, ts.maxOpenGET, 1)
		gets := ts.requests(isGET)
		for i := 1; i < len(gets); i++ {
			assert.Equal(t, fmt.Sprint("g-", i), gets[i].LastEventID, "each reconnect resumes the one stream")
		}
		assert.Empty(t, rec.errors())
	})
}

// TestInvariant2FinishedPOSTStream: a POST stream that delivered all its
// responses is closed and never reconnected, whatever its retry says.
func TestInvariant2FinishedPOSTStream(t *testing.T) {
	for _, serverEnds := range []bool{true, false} {
		t.Run(fmt.Sprint("server ends stream: ", serverEnds), func(t *testing.T) {
			released := make(chan struct{}, 1)
			ts := newServer(t, func(w http.ResponseWriter, r *http.Request, q seen) {
				if q.Method == http.MethodGet {
					http.Error(w, "no GET expected", http.StatusBadRequest)
					return
				}
				s := startSSE(w, "")
				s.event("e-0", "", 10)
				s.event("e-1", result(q.ID, "x"), 10)
				if !serverEnds {
					<-r.Context().Done() // only the client can end it
					released <- struct{}{}
				}
			})
			rec := &recorder{}
			tr := newTransport(t, ts, rec, Options{})
			require.NoError(t, tr.Send(t.Context(), rpcRequest(1, "tools/call"), SendOptions{}))
			eventually(t, func() bool { return len(rec.forID(t, "1")) == 1 }, "answered")
			if !serverEnds {
				select {
				case <-released:
				case <-time.After(2 * time.Second):
					t.Fatal("the finished stream was not closed by the client")
				}
			}
			eventually(t, func() bool { return len(tr.Snapshot().Streams) == 0 }, "stream gone")
			time.Sleep(100 * time.Millisecond) // ten times its retry
			assert.Zero(t, ts.count(isGET), "never reconnected")
			assert.Len(t, rec.forID(t, "1"), 1)
			assert.Empty(t, rec.errors())
		})
	}
}

// TestInvariant3BrokenPOSTStreamResumes: a POST stream that breaks after an
// event id resumes by GET with its own Last-Event-ID, stays the same
// logical stream (kind resume), and is closed once its response arrives.
func TestInvariant3BrokenPOSTStreamResumes(t *testing.T) {
	resumeClosed := make(chan struct{})
	base := mcp("s")
	ts := newServer(t, func(w http.ResponseWriter, r *http.Request, q seen) {
		switch {
		case q.RPC == "tools/call":
			s := startSSE(w, "")
			s.event("call-0", "", 150)
			// dies before the response
		case q.Method == http.MethodGet && q.LastEventID == "call-0":
			s := startSSE(w, "")
			s.event("call-1", `{"jsonrpc":"2.0","method":"notifications/progress","params":{}}`, 0)
			s.event("call-2", result("5", "late"), 0)
			<-r.Context().Done() // the server would go on; the client must close
			close(resumeClosed)
		case q.Method == http.MethodGet:
			http.Error(w, "unexpected GET", http.StatusBadRequest)
		default:
			base(w, r, q)
		}
	})
	rec := &recorder{}
	tr := newTransport(t, ts, rec, Options{})
	require.NoError(t, tr.Send(t.Context(), initializeMsg, SendOptions{}))
	var tokens []string
	var tokMu sync.Mutex
	require.NoError(t, tr.Send(t.Context(), rpcRequest(5, "tools/call"), SendOptions{OnResumptionToken: func(tok string) {
		tokMu.Lock()
		tokens = append(tokens, tok)
		tokMu.Unlock()
	}}))

	eventually(t, func() bool {
		s := tr.Snapshot()
		return len(s.Streams) == 1 && s.Streams[0].State == stateReconnecting
	}, "waiting to resume")
	st := tr.Snapshot().Streams[0]
	assert.Equal(t, kindResume, st.Kind)
	assert.Equal(t, "call-0", st.LastEventID)
	assert.Equal(t, []string{"5"}, tr.Snapshot().Inflight)

	eventually(t, func() bool { return len(rec.forID(t, "5")) == 1 }, "answered via the resumed stream")
	select {
	case <-resumeClosed:
	case <-time.After(2 * time.Second):
		t.Fatal("the resumed stream was not closed after its response")
	}
	gets := ts.requests(isGET)
	require.Len(t, gets, 1)
	assert.Equal(t, "s", gets[0].Session)
	post := ts.requests(isRPC("tools/call"))[0]
	assert.GreaterOrEqual(t, gets[0].At.Sub(post.At), 150*time.Millisecond, "waited the stream's retry")
	time.Sleep(50 * time.Millisecond)
	assert.Len(t, rec.forID(t, "5"), 1, "exactly once")
	assert.Empty(t, tr.Snapshot().Streams)
	tokMu.Lock()
	assert.Equal(t, []string{"call-0", "call-1", "call-2"}, tokens)
	tokMu.Unlock()
	assert.Empty(t, rec.errors())
}

// TestInvariant4StreamLost: a stream that breaks before any event id fails
// every request it carried at once.
func TestInvariant4StreamLost(t *testing.T) {
	tests := []struct {
		name   string
		before func(s *sseWriter)
		ids    []string
		notes  int
	}{
		{name: "dies before any event", before: func(s *sseWriter) {}, ids: []string{"1"}},
		{name: "dies after a notification without id", before: func(s *sseWriter) {
			s.event("", `{"jsonrpc":"2.0","method":"notifications/progress","params":{}}`, 0)
		}, ids: []string{"1"}, notes: 1},
		{name: "batch of two", before: func(s *sseWriter) {}, ids: []string{"1", "2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newServer(t, func(w http.ResponseWriter, r *http.Request, q seen) {
				tt.before(startSSE(w, ""))
			})
			rec := &recorder{}
			tr := newTransport(t, ts, rec, Options{Reconnect: shim.ReconnectOptions{InitialDelay: 3 * time.Second, MaxRetries: 2}})
			msg := rpcRequest(1, "tools/call")
			if len(tt.ids) == 2 {
				msg = "[" + rpcRequest(1, "a") + "," + rpcRequest(2, "b") + "]"
			}
			start := time.Now()
			require.NoError(t, tr.Send(t.Context(), msg, SendOptions{}))
			eventually(t, func() bool { return len(rec.messages()) == len(tt.ids)+tt.notes }, "settled")
			assert.Less(t, time.Since(start), 2*time.Second, "at once, not after the 3s reconnect delay or a timeout")
			for _, id := range tt.ids {
				got := rec.forID(t, id)
				require.Len(t, got, 1)
				assert.Equal(t, jsonrpc.ReasonStreamLost, got[0].reason())
				assert.Equal(t, -32000, got[0].Error.Code)
			}
			assert.Zero(t, ts.count(isGET), "nothing to resume from")
			assert.Empty(t, tr.Snapshot().Streams)
			assert.Empty(t, tr.Snapshot().Inflight)
		})
	}
}

// TestInvariant5BoundedReconnects covers per-stream retry, backoff,
// progress and exhaustion.
func TestInvariant5BoundedReconnects(t *testing.T) {
	t.Run("each stream waits exactly its own retry", func(t *testing.T) {
		var mu sync.Mutex
		died := map[string]time.Time{}
		ts := newServer(t, func(w http.ResponseWriter, r *http.Request, q seen) {
			switch {
			case q.Method == http.MethodPost:
				retry := map[string]int{"1": 60, "2": 600}[q.ID]
				s := startSSE(w, "")
				s.event("s"+q.ID, "", retry)
				mu.Lock()
				died["s"+q.ID] = time.Now()
				mu.Unlock()
			case q.Method == http.MethodGet:
				startSSE(w, "").event(q.LastEventID+"-r", result(q.LastEventID[1:], "x"), 0)
			}
		})
		rec := &recorder{}
		tr := newTransport(t, ts, rec, Options{Reconnect: shim.ReconnectOptions{InitialDelay: 5 * time.Second, MaxRetries: 2}})
		require.NoError(t, tr.Send(t.Context(), rpcRequest(1, "a"), SendOptions{}))
		require.NoError(t, tr.Send(t.Context(), rpcRequest(2, "b"), SendOptions{}))
		eventually(t, func() bool { return len(rec.messages()) == 2 }, "both answered")
		for _, tc := range []struct {
			id    string
			retry time.Duration
			other time.Duration // the delay it would wait if it took another's value
		}{{"s1", 60 * time.Millisecond, 600 * time.Millisecond}, {"s2", 600 * time.Millisecond, 5 * time.Second}} {
			get := ts.requests(func(q seen) bool { return q.LastEventID == tc.id })
			require.Len(t, get, 1)
			mu.Lock()
			waited := get[0].At.Sub(died[tc.id])
			mu.Unlock()
			assert.GreaterOrEqual(t, waited, tc.retry, "%s waited at least its retry", tc.id)
			assert.Less(t, waited, tc.other, "%s waited its own retry, not another's", tc.id)
		}
	})

	t.Run("dead endpoint is backed off then exhausted", func(t *testing.T) {
		base := mcp("s")
		ts := newServer(t, func(w http.ResponseWriter, r *http.Request, q seen) {
			if q.Method == http.MethodGet {
				http.Error(w, "down", http.StatusServiceUnavailable)
				return
			}
			base(w, r, q)
		})
		rec := &recorder{}
		opts := shim.ReconnectOptions{InitialDelay: 40 * time.Millisecond, MaxDelay: time.Second, GrowFactor: 2, MaxRetries: 2}
		tr := newTransport(t, ts, rec, Options{Reconnect: opts})
		connect(t, tr)
		eventually(t, func() bool { return rec.countCode(shim.CodeReconnectExhausted) == 1 }, "exhausted")
		time.Sleep(200 * time.Millisecond)
		gets := ts.requests(isGET)
		require.Len(t, gets, 3, "first open plus MaxRetries attempts")
		assert.GreaterOrEqual(t, gets[1].At.Sub(gets[0].At), 40*time.Millisecond, "first retry waits the initial delay")
		assert.GreaterOrEqual(t, gets[2].At.Sub(gets[1].At), 40*time.Millisecond, "then grows (80ms, jittered to at least half)")
		assert.Equal(t, []shim.Code{shim.CodeHTTP, shim.CodeHTTP, shim.CodeHTTP, shim.CodeReconnectExhausted}, rec.errorCodes())
		assert.Equal(t, 1, rec.countCode(shim.CodeReconnectExhausted))
		assert.Empty(t, tr.Snapshot().Streams)
		require.NoError(t, tr.Send(t.Context(), rpcRequest(1, "tools/call"), SendOptions{}), "POST channel unaffected")
	})

	t.Run("accept and close at once is backed off, not hammered", func(t *testing.T) {
		base := mcp("s")
		ts := newServer(t, func(w http.ResponseWriter, r *http.Request, q seen) {
			if q.Method == http.MethodGet {
				startSSE(w, "") // and end at once, without any event
				return
			}
			base(w, r, q)
		})
		rec := &recorder{}
		// A connection that stays open longer than the delay before it is
		// progress, so the delay must be well above what a loaded machine
		// takes between the headers and the end of an empty body.
		opts := shim.ReconnectOptions{InitialDelay: 150 * time.Millisecond, MaxDelay: 2 * time.Second, GrowFactor: 2, MaxRetries: 3}
		tr := newTransport(t, ts, rec, Options{Reconnect: opts})
		connect(t, tr)
		eventually(t, func() bool { return rec.countCode(shim.CodeReconnectExhausted) == 1 }, "exhausted")
		gets := ts.requests(isGET)
		require.Len(t, gets, 4)
		for i, nominal := range []time.Duration{150, 300, 600} {
			min := nominal * time.Millisecond
			if i > 0 {
				min /= 2 // jitter
			}
			assert.GreaterOrEqual(t, gets[i+1].At.Sub(gets[i].At), min, "attempt %d", i+1)
		}
		assert.Equal(t, []shim.Code{shim.CodeReconnectExhausted}, rec.errorCodes(), "a clean end is not an error")
	})

	t.Run("idle-close: a stream that keeps delivering never gives up", func(t *testing.T) {
		base := mcp("s")
		var n atomic.Int64
		ts := newServer(t, func(w http.ResponseWriter, r *http.Request, q seen) {
			if q.Method == http.MethodGet {
				startSSE(w, "").event(fmt.Sprint("i-", n.Add(1)), `{"jsonrpc":"2.0","method":"notifications/message"}`, 0)
				time.Sleep(30 * time.Millisecond) // the proxy's idle timeout
				return
			}
			base(w, r, q)
		})
		rec := &recorder{}
		tr := newTransport(t, ts, rec, Options{Reconnect: shim.ReconnectOptions{InitialDelay: 10 * time.Millisecond, MaxRetries: 1}})
		connect(t, tr)
		eventually(t, func() bool { return ts.count(isGET) >= 10 }, "keeps coming back")
		assert.Zero(t, rec.countCode(shim.CodeReconnectExhausted))
	})

	t.Run("a quiet connection that stays open is progress", func(t *testing.T) {
		base := mcp("s")
		ts := newServer(t, func(w http.ResponseWriter, r *http.Request, q seen) {
			if q.Method == http.MethodGet {
				startSSE(w, "")
				time.Sleep(40 * time.Millisecond) // longer than the 10ms delay before it
				return
			}
			base(w, r, q)
		})
		rec := &recorder{}
		tr := newTransport(t, ts, rec, Options{Reconnect: shim.ReconnectOptions{InitialDelay: 10 * time.Millisecond, MaxRetries: 1}})
		connect(t, tr)
		eventually(t, func() bool { return ts.count(isGET) >= 8 }, "keeps coming back")
		assert.Zero(t, rec.countCode(shim.CodeReconnectExhausted))
		assert.Empty(t, rec.errors())
	})

	t.Run("a resumed POST stream that cannot reconnect fails its request", func(t *testing.T) {
		ts := newServer(t, func(w http.ResponseWriter, r *http.Request, q seen) {
			if q.Method == http.MethodGet {
				http.Error(w, "down", http.StatusBadGateway)
				return
			}
			startSSE(w, "").event("x-0", "", 0)
		})
		rec := &recorder{}
		tr := newTransport(t, ts, rec, Options{Reconnect: shim.ReconnectOptions{InitialDelay: 10 * time.Millisecond, MaxRetries: 2}})
		require.NoError(t, tr.Send(t.Context(), rpcRequest(1, "tools/call"), SendOptions{}))
		eventually(t, func() bool { return len(rec.forID(t, "1")) == 1 }, "settled")
		assert.Equal(t, jsonrpc.ReasonStreamLost, rec.forID(t, "1")[0].reason())
		assert.Equal(t, 2, ts.count(isGET), "MaxRetries reconnects")
		assert.Equal(t, 1, rec.countCode(shim.CodeReconnectExhausted))
	})
}
