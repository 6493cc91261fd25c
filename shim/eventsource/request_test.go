//go:build !js

package eventsource

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esshim/esshim/shim"
)

// TestRequestShape: method, body and headers go out on the first request
// and on every reconnection, Accept defaults to text/event-stream, and the
// stream's last event ID replaces any Last-Event-ID the caller set.
func TestRequestShape(t *testing.T) {
	type sent struct {
		method string
		body   string
		header map[string]string // expected values; "" = absent
	}
	tests := []struct {
		name   string
		opts   Options
		stream string // body of the first response
		first  sent
		second sent
	}{
		{
			name:   "plain GET",
			opts:   Options{},
			stream: "id: 7\ndata: a\n\n",
			first:  sent{method: "GET", header: map[string]string{"Accept": "text/event-stream", "Last-Event-Id": ""}},
			second: sent{method: "GET", header: map[string]string{"Accept": "text/event-stream", "Last-Event-Id": "7"}},
		},
		{
			name: "POST with body and headers",
			opts: Options{Method: "POST", Body: []byte(`{"q":1}`),
				Header: shim.Header{"authorization": "Bearer t", "content-type": "application/json", "x-custom": "ü"}},
			stream: "id: 7\ndata: a\n\n",
			first: sent{method: "POST", body: `{"q":1}`, header: map[string]string{
				"Accept": "text/event-stream", "Authorization": "Bearer t", "Content-Type": "application/json", "X-Custom": "ü", "Last-Event-Id": ""}},
			second: sent{method: "POST", body: `{"q":1}`, header: map[string]string{
				"Accept": "text/event-stream", "Authorization": "Bearer t", "Content-Type": "application/json", "X-Custom": "ü", "Last-Event-Id": "7"}},
		},
		{
			name:   "caller's Accept wins, header names in any case",
			opts:   Options{Method: "PUT", Header: shim.Header{"ACCEPT": "application/json, text/event-stream"}},
			stream: "data: a\n\n",
			first:  sent{method: "PUT", header: map[string]string{"Accept": "application/json, text/event-stream"}},
			second: sent{method: "PUT", header: map[string]string{"Accept": "application/json, text/event-stream"}},
		},
		{
			name:   "caller's Last-Event-ID on the first request, stream's after",
			opts:   Options{Header: shim.Header{"last-event-id": "seed"}},
			stream: "id: 8\ndata: a\n\n",
			first:  sent{method: "GET", header: map[string]string{"Last-Event-Id": "seed"}},
			second: sent{method: "GET", header: map[string]string{"Last-Event-Id": "8"}},
		},
		{
			name:   "caller's Last-Event-ID not repeated when the stream has none",
			opts:   Options{Header: shim.Header{"last-event-id": "seed"}},
			stream: "data: a\n\n",
			first:  sent{method: "GET", header: map[string]string{"Last-Event-Id": "seed"}},
			second: sent{method: "GET", header: map[string]string{"Last-Event-Id": ""}},
		},
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
				send(w, tt.stream)
			})
			opts := tt.opts
			opts.URL, opts.Fetcher, opts.Reconnect = srv.URL, fetcher(), fast
			rec := &recorder{}
			src := NewPool().Open(opts, rec.listener())
			c := connOf(src)
			rec.waitFor(t, "error:CLOSED", 1)
			settle(t, c, src)

			reqs := srv.requests()
			require.Len(t, reqs, 2)
			for i, want := range []sent{tt.first, tt.second} {
				got := reqs[i]
				assert.Equal(t, want.method, got.method, "request %d", i+1)
				assert.Equal(t, want.body, got.body, "request %d", i+1)
				for name, value := range want.header {
					if value == "" {
						assert.NotContains(t, got.header, name, "request %d", i+1)
					} else {
						assert.Equal(t, []string{value}, got.header[name], "request %d: %s", i+1, name)
					}
				}
			}
		})
	}
}

// TestRequestFetchOptions: credentials follow withCredentials as the spec's
// CORS settings do, and Mode and Init reach the Fetcher untouched.
func TestRequestFetchOptions(t *testing.T) {
	type initValue struct{ cache string }
	tests := []struct {
		name string
		opts Options
		want shim.Request
	}{
		{name: "defaults", opts: Options{URL: "http://127.0.0.1:1/a"},
			want: shim.Request{Method: "GET", URL: "http://127.0.0.1:1/a", Credentials: "same-origin",
				Header: shim.Header{"accept": "text/event-stream"}}},
		{name: "withCredentials, mode, init", opts: Options{URL: "http://127.0.0.1:1/b", WithCredentials: true,
			Mode: "cors", Init: &initValue{cache: "no-store"}, Header: shim.Header{"X-A": "1"}},
			want: shim.Request{Method: "GET", URL: "http://127.0.0.1:1/b", Credentials: "include", Mode: "cors",
				Init: &initValue{cache: "no-store"}, Header: shim.Header{"accept": "text/event-stream", "x-a": "1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var got []*shim.Request
			opts := tt.opts
			opts.Reconnect = shim.ReconnectOptions{InitialDelay: time.Millisecond, MaxRetries: 0}
			opts.Fetcher = shim.FetcherFunc(func(ctx shim.Context, req *shim.Request) (*shim.Response, error) {
				mu.Lock()
				got = append(got, req)
				mu.Unlock()
				return nil, shim.NewError(shim.CodeNetwork, "unreachable")
			})
			rec := &recorder{}
			src := NewPool().Open(opts, rec.listener())
			c := connOf(src)
			rec.waitFor(t, "error:CLOSED", 1)
			settle(t, c, src)

			assert.Equal(t, []string{"error:CLOSED"}, rec.entries(), "MaxRetries 0: no reconnection")
			mu.Lock()
			defer mu.Unlock()
			require.Len(t, got, 1)
			assert.Equal(t, tt.want, *got[0])
		})
	}
}

// TestNilFetcherFails: a Source without a Fetcher cannot connect at all; it
// fails like an unreachable server, asynchronously.
func TestNilFetcherFails(t *testing.T) {
	rec := &recorder{}
	src := NewPool().Open(Options{URL: "http://127.0.0.1:1/"}, rec.listener())
	c := connOf(src)
	rec.waitFor(t, "error:CLOSED", 1)
	settle(t, c, src)
	assert.Equal(t, []string{"error:CLOSED"}, rec.entries())
	assert.Equal(t, Closed, src.ReadyState())
}
