//go:build !js

package eventsource

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestResponseDecidesOpenOrFail checks the spec's gate: only a 200 whose
// MIME essence is text/event-stream opens; anything else fails the
// connection for good with one error and no reconnection. An opened stream
// that ends reconnects; the server answers that second request with 204, so
// every case ends in a deterministic failure.
func TestResponseDecidesOpenOrFail(t *testing.T) {
	stream := func(contentType string) func(http.ResponseWriter, *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) {
			if contentType == "" {
				w.Header()["Content-Type"] = nil // suppress net/http's sniffing
			} else {
				w.Header().Set("Content-Type", contentType)
			}
			w.WriteHeader(http.StatusOK)
			send(w, "data: hi\n\n")
		}
	}
	status := func(code int) func(http.ResponseWriter, *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(code)
			if code != http.StatusNoContent {
				send(w, "data: never dispatched\n\n")
			}
		}
	}
	opened := []string{"open", "message:hi:", "error:CONNECTING", "error:CLOSED"}
	failed := []string{"error:CLOSED"}

	tests := []struct {
		name     string
		respond  func(http.ResponseWriter, *http.Request)
		redirect bool // serve respond from a second origin behind a 301
		want     []string
		requests int
	}{
		{name: "200 text/event-stream", respond: stream("text/event-stream"), want: opened, requests: 2},
		{name: "charset utf-8", respond: stream("text/event-stream; charset=utf-8"), want: opened, requests: 2},
		{name: "upper case", respond: stream("TEXT/EVENT-STREAM"), want: opened, requests: 2},
		{name: "parameters and spaces", respond: stream(" text/Event-Stream ;charset=iso-8859-1"), want: opened, requests: 2},
		{name: "text/plain", respond: stream("text/plain"), want: failed, requests: 1},
		{name: "missing content type", respond: stream(""), want: failed, requests: 1},
		{name: "near miss", respond: stream("text/event-streams"), want: failed, requests: 1},
		{name: "204", respond: status(http.StatusNoContent), want: failed, requests: 1},
		{name: "404", respond: status(http.StatusNotFound), want: failed, requests: 1},
		{name: "500", respond: status(http.StatusInternalServerError), want: failed, requests: 1},
		{name: "503", respond: status(http.StatusServiceUnavailable), want: failed, requests: 1},
		{name: "301 to 200", respond: stream("text/event-stream"), redirect: true, want: opened, requests: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			script := func(req *seenRequest, w http.ResponseWriter, r *http.Request) {
				if req.n > 1 {
					w.WriteHeader(http.StatusNoContent)
					return
				}
				tt.respond(w, r)
			}
			target := newServer(t, script)
			entry := target
			if tt.redirect {
				entry = newServer(t, func(req *seenRequest, w http.ResponseWriter, r *http.Request) {
					if req.n > 1 {
						w.WriteHeader(http.StatusNoContent)
						return
					}
					http.Redirect(w, r, target.URL+"/moved", http.StatusMovedPermanently)
				})
			}

			rec := &recorder{}
			var stateAtOpen ReadyState = -1
			var src *Source
			ready := make(chan struct{}) // src is set
			rec.onOpen = func() { <-ready; stateAtOpen = src.ReadyState() }
			src = NewPool().Open(Options{URL: entry.URL + "/stream", Fetcher: fetcher(), Reconnect: fast}, rec.listener())
			close(ready)
			c := connOf(src)
			rec.waitFor(t, "error:CLOSED", 1)
			settle(t, c, src)

			assert.Equal(t, tt.want, rec.entries())
			assert.Equal(t, Closed, src.ReadyState())
			assert.Len(t, entry.requests(), tt.requests, "requests to the EventSource URL")
			if tt.want[0] == "open" {
				assert.Equal(t, Open, stateAtOpen, "readyState inside the open callback")
				assert.Equal(t, []string{origin(target.URL)}, rec.originList(), "origin of the final URL")
			}
			if tt.redirect {
				assert.NotEqual(t, origin(entry.URL), origin(target.URL), "the redirect crosses origins")
				assert.Len(t, target.requests(), 2, "the reconnection goes where the redirect led")
			}
		})
	}
}
