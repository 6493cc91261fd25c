//go:build !js

package eventsource

import (
	"cmp"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esshim/esshim/shim"
)

// TestReconnectSendsLastEventID: a stream that ends, cleanly or by a network
// drop, reconnects after an error with readyState CONNECTING, and the new
// request carries the last event ID as raw UTF-8, only when it is not empty.
func TestReconnectSendsLastEventID(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		drop   bool
		wantID string // "" = no header
		events []string
	}{
		{name: "clean end, ASCII id", body: "id: 42\ndata: a\n\n", wantID: "42", events: []string{"message:a:42"}},
		{name: "network drop, ASCII id", body: "id: 42\ndata: a\n\n", drop: true, wantID: "42", events: []string{"message:a:42"}},
		{name: "non-ASCII id", body: "id: ünï €😀\ndata: a\n\n", wantID: "ünï €😀", events: []string{"message:a:ünï €😀"}},
		{name: "non-ASCII id, network drop", body: "id: 日本\ndata: a\n\n", drop: true, wantID: "日本", events: []string{"message:a:日本"}},
		{name: "id without data still counts", body: "id: 9\n\n", wantID: "9"},
		{name: "no id, no header", body: "data: a\n\n", events: []string{"message:a:"}},
		{name: "id reset to empty, no header", body: "id: 1\ndata: a\n\nid\ndata: b\n\n", events: []string{"message:a:1", "message:b:"}},
		{name: "unterminated event dropped at drop", body: "id: 3\ndata: a\n\nid: 4\ndata: b\n", drop: true, wantID: "3", events: []string{"message:a:3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, func(req *seenRequest, w http.ResponseWriter, r *http.Request) {
				if req.n > 1 {
					w.WriteHeader(http.StatusNoContent)
					return
				}
				startStream(w)
				send(w, tt.body)
				if tt.drop {
					drop()
				}
			})
			rec := &recorder{}
			src := NewPool().Open(Options{URL: srv.URL, Fetcher: fetcher(), Reconnect: fast}, rec.listener())
			c := connOf(src)
			rec.waitFor(t, "error:CLOSED", 1)
			settle(t, c, src)

			want := append([]string{"open"}, tt.events...)
			want = append(want, "error:CONNECTING", "error:CLOSED")
			assert.Equal(t, want, rec.entries())
			reqs := srv.requests()
			require.Len(t, reqs, 2)
			assert.NotContains(t, reqs[0].header, "Last-Event-Id", "first request")
			if tt.wantID == "" {
				assert.NotContains(t, reqs[1].header, "Last-Event-Id", "reconnection")
			} else {
				assert.Equal(t, []string{tt.wantID}, reqs[1].header["Last-Event-Id"], "reconnection")
			}
		})
	}
}

// TestRetryHonoured: the stream's retry value replaces the 3 s default, and
// jitter only ever adds to it.
func TestRetryHonoured(t *testing.T) {
	srv := newServer(t, func(req *seenRequest, w http.ResponseWriter, r *http.Request) {
		if req.n > 1 {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		startStream(w)
		send(w, "retry: 150\ndata: a\n\n")
	})
	rec := &recorder{}
	src := NewPool().Open(Options{URL: srv.URL, Fetcher: fetcher()}, rec.listener())
	c := connOf(src)
	rec.waitFor(t, "error:CLOSED", 1)
	settle(t, c, src)

	reqs := srv.requests()
	require.Len(t, reqs, 2)
	gap := reqs[1].at.Sub(reqs[0].ended)
	assert.GreaterOrEqual(t, gap, 150*time.Millisecond, "never sooner than retry")
	assert.Less(t, gap, DefaultReconnectOptions.InitialDelay, "retry replaced the default")
}

// TestBackoffGrowsWithoutProgress: a stream that opens and ends at once, with
// no event, is not progress, so each reconnection waits longer, from the
// retry value (or InitialDelay) up, the first one waiting exactly that; MaxRetries then fails the connection
// with a single error.
func TestBackoffGrowsWithoutProgress(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		floor time.Duration
	}{
		{name: "from InitialDelay", body: ": nothing\n\n", floor: 50 * time.Millisecond},
		{name: "from retry", body: "retry: 60\n\n", floor: 60 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, func(req *seenRequest, w http.ResponseWriter, r *http.Request) {
				startStream(w)
				send(w, tt.body)
			})
			pool := NewPool()
			pool.random = func() float64 { return 0.999 } // the top of each jitter window
			reconnect := shim.ReconnectOptions{InitialDelay: 50 * time.Millisecond, MaxDelay: 10 * time.Second, GrowFactor: 2, MaxRetries: 3}
			rec := &recorder{}
			src := pool.Open(Options{URL: srv.URL, Fetcher: fetcher(), Reconnect: reconnect}, rec.listener())
			c := connOf(src)
			rec.waitFor(t, "error:CLOSED", 1)
			settle(t, c, src)

			assert.Equal(t, []string{
				"open", "error:CONNECTING", "open", "error:CONNECTING", "open", "error:CONNECTING", "open", "error:CLOSED",
			}, rec.entries())
			reqs := srv.requests()
			require.Len(t, reqs, 4, "the first request and MaxRetries reconnections")
			for i := 1; i < len(reqs); i++ {
				// Exactly the floor first, then the top of each window:
				// floor·2^(i-1).
				nominal := tt.floor << (i - 1)
				gap := reqs[i].at.Sub(reqs[i-1].ended)
				assert.GreaterOrEqual(t, gap, nominal*999/1000, "delay before reconnection %d", i)
			}
		})
	}
}

// TestProgressResetsRetries: MaxRetries counts reconnections without
// progress only. With MaxRetries 1, a stream that makes progress on every
// connection reconnects indefinitely; one that does not fails after one
// reconnection.
func TestProgressResetsRetries(t *testing.T) {
	const connections = 5 // then the server answers 204
	tests := []struct {
		name     string
		initial  time.Duration // InitialDelay; 10 ms when zero
		respond  func(n int, w http.ResponseWriter)
		requests int
	}{
		{name: "an event", requests: connections + 1, respond: func(n int, w http.ResponseWriter) {
			send(w, "data: x\n\n")
		}},
		{name: "a new id without event", requests: connections + 1, respond: func(n int, w http.ResponseWriter) {
			send(w, "id: "+strings.Repeat("i", n)+"\n\n")
		}},
		{name: "a connection open longer than the reconnection time", requests: connections + 1, respond: func(n int, w http.ResponseWriter) {
			time.Sleep(60 * time.Millisecond) // InitialDelay is 10 ms
		}},
		{name: "no progress", requests: 2, respond: func(n int, w http.ResponseWriter) {
			// A retry far above the connection's lifetime, so that the
			// lifetime rule cannot count as progress either.
			send(w, "retry: 300\n: comments are no progress\n\n")
		}},
		{name: "retry 0 is no progress either", initial: 300 * time.Millisecond, requests: 2, respond: func(n int, w http.ResponseWriter) {
			send(w, "retry: 0\n\n")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, func(req *seenRequest, w http.ResponseWriter, r *http.Request) {
				if req.n > connections {
					w.WriteHeader(http.StatusNoContent)
					return
				}
				startStream(w)
				tt.respond(req.n, w)
			})
			rec := &recorder{}
			reconnect := shim.ReconnectOptions{InitialDelay: cmp.Or(tt.initial, 10*time.Millisecond), MaxRetries: 1}
			src := NewPool().Open(Options{URL: srv.URL, Fetcher: fetcher(), Reconnect: reconnect}, rec.listener())
			c := connOf(src)
			rec.waitFor(t, "error:CLOSED", 1)
			settle(t, c, src)

			assert.Len(t, srv.requests(), tt.requests)
			assert.Equal(t, tt.requests-1, rec.count("error:CONNECTING"))
			assert.Equal(t, 1, rec.count("error:CLOSED"))
		})
	}
}

// TestDeadServer: a network error before any response reestablishes the
// connection (error with CONNECTING, no open) until MaxRetries.
func TestDeadServer(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()

	rec := &recorder{}
	reconnect := shim.ReconnectOptions{InitialDelay: 5 * time.Millisecond, MaxRetries: 3}
	src := NewPool().Open(Options{URL: url, Fetcher: fetcher(), Reconnect: reconnect}, rec.listener())
	c := connOf(src)
	rec.waitFor(t, "error:CLOSED", 1)
	settle(t, c, src)
	assert.Equal(t, []string{"error:CONNECTING", "error:CONNECTING", "error:CONNECTING", "error:CLOSED"}, rec.entries())
	assert.Equal(t, Closed, src.ReadyState())
}

// TestEventTooLargeFails: an event beyond MaxEventSize fails the connection
// for good, after delivering the events before it.
func TestEventTooLargeFails(t *testing.T) {
	srv := newServer(t, func(req *seenRequest, w http.ResponseWriter, r *http.Request) {
		startStream(w)
		send(w, "data: small\n\n")
		send(w, "data: "+strings.Repeat("x", 4096)+"\n\n")
		hold(r)
	})
	rec := &recorder{}
	src := NewPool().Open(Options{URL: srv.URL, Fetcher: fetcher(), Reconnect: fast, MaxEventSize: 256}, rec.listener())
	c := connOf(src)
	rec.waitFor(t, "error:CLOSED", 1)
	settle(t, c, src)
	assert.Equal(t, []string{"open", "message:small:", "error:CLOSED"}, rec.entries())
	reqs := srv.requests()
	require.Len(t, reqs, 1, "no reconnection")
	waitClosed(t, reqs[0].gone, "server to see the disconnect")
}
