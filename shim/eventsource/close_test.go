//go:build !js

package eventsource

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esshim/esshim/shim"
	"github.com/esshim/esshim/shim/sse"
)

// TestClose: Close cancels the pending reconnect timer and the in-flight
// fetch, works from inside every callback, and no callback starts after it.
func TestClose(t *testing.T) {
	slow := shim.ReconnectOptions{InitialDelay: time.Minute, MaxRetries: -1}

	tests := []struct {
		name      string
		reconnect shim.ReconnectOptions
		respond   func(w http.ResponseWriter, r *http.Request)
		// arm sets the recorder up to close the source from a callback; nil
		// means the test closes it after waitFor.
		arm      func(rec *recorder, src func() *Source)
		waitFor  string // entry after which the test closes (when arm is nil)
		want     []string
		requests int
	}{
		{
			name:      "during the pending reconnect timer",
			reconnect: slow, // settle would time out if the timer were not cancelled
			respond:   func(w http.ResponseWriter, r *http.Request) { startStream(w); send(w, "data: a\n\n") },
			waitFor:   "error:CONNECTING",
			want:      []string{"open", "message:a:", "error:CONNECTING"},
			requests:  1,
		},
		{
			name:      "during the in-flight fetch",
			reconnect: fast,
			respond:   func(w http.ResponseWriter, r *http.Request) { hold(r) }, // no headers yet
			want:      nil,
			requests:  1,
		},
		{
			name:      "while the stream is open",
			reconnect: fast,
			respond:   func(w http.ResponseWriter, r *http.Request) { startStream(w); send(w, "data: a\n\n"); hold(r) },
			waitFor:   "message:a:",
			want:      []string{"open", "message:a:"},
			requests:  1,
		},
		{
			name:      "inside the open callback",
			reconnect: fast,
			respond: func(w http.ResponseWriter, r *http.Request) {
				startStream(w)
				send(w, "data: a\n\n")
				hold(r)
			},
			arm: func(rec *recorder, src func() *Source) {
				rec.onOpen = func() { src().Close(); rec.closed.Store(true) }
			},
			want:     []string{"open"},
			requests: 1,
		},
		{
			name:      "inside the events callback",
			reconnect: fast,
			respond: func(w http.ResponseWriter, r *http.Request) {
				startStream(w)
				send(w, "data: a\n\n")
				time.Sleep(20 * time.Millisecond)
				send(w, "data: b\n\n") // may fail: the client has gone
				hold(r)
			},
			arm: func(rec *recorder, src func() *Source) {
				rec.onEvents = func([]sse.Event) { src().Close(); rec.closed.Store(true) }
			},
			want:     []string{"open", "message:a:"},
			requests: 1,
		},
		{
			name:      "inside the error callback, with retry 0",
			reconnect: fast,
			// retry 0 reconnects at once: only waiting for the error task
			// before fetching keeps the second request from being sent.
			respond: func(w http.ResponseWriter, r *http.Request) { startStream(w); send(w, "retry: 0\ndata: a\n\n") },
			arm: func(rec *recorder, src func() *Source) {
				rec.onError = func(ReadyState) { src().Close(); rec.closed.Store(true) }
			},
			want:     []string{"open", "message:a:", "error:CONNECTING"},
			requests: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, func(req *seenRequest, w http.ResponseWriter, r *http.Request) { tt.respond(w, r) })
			rec := &recorder{}
			var src *Source
			ready := make(chan struct{})
			if tt.arm != nil {
				tt.arm(rec, func() *Source { <-ready; return src })
			}
			counter := &countingFetcher{Fetcher: fetcher()}
			src = NewPool().Open(Options{URL: srv.URL, Fetcher: counter, Reconnect: tt.reconnect}, rec.listener())
			c := connOf(src)
			close(ready)

			first := srv.next(t)
			switch {
			case tt.arm != nil:
				require.Eventually(t, rec.closed.Load, waitTimeout, time.Millisecond, "callback closes the source")
			case tt.waitFor != "":
				rec.waitFor(t, tt.waitFor, 1)
				fallthrough
			default:
				src.Close()
				rec.closed.Store(true)
			}
			assert.Equal(t, Closed, src.ReadyState(), "readyState right after Close")

			settle(t, c, src)
			waitClosed(t, first.gone, "server to see the disconnect")
			assert.Equal(t, tt.want, rec.entries())
			assert.False(t, rec.violation.Load(), "a callback ran after Close")
			assert.Len(t, srv.requests(), tt.requests)
			assert.Equal(t, int32(tt.requests), counter.calls.Load(), "fetches started")
			src.Close() // a second Close does nothing
			assert.Equal(t, Closed, src.ReadyState())
		})
	}
}
