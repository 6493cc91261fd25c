//go:build !js

// The tests run real HTTP servers through net/http (package httpfetch),
// which the js/wasm build excludes.

package eventsource

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esshim/esshim/shim"
	"github.com/esshim/esshim/shim/httpfetch"
	"github.com/esshim/esshim/shim/sse"
)

// waitTimeout bounds every wait for something that should happen promptly;
// it only matters when a test is failing.
const waitTimeout = 5 * time.Second

// recorder is a Listener that logs its callbacks as strings, and flags any
// callback that starts after the test declared the Source closed.
type recorder struct {
	mu      sync.Mutex
	log     []string
	origins []string

	closed    atomic.Bool // set by the test once Close has returned
	violation atomic.Bool // a callback started after closed was set

	// Optional hooks, run after logging, for callbacks that act.
	onOpen   func()
	onEvents func([]sse.Event)
	onError  func(ReadyState)
}

func (r *recorder) add(entry string) {
	if r.closed.Load() {
		r.violation.Store(true)
	}
	r.mu.Lock()
	r.log = append(r.log, entry)
	r.mu.Unlock()
}

func (r *recorder) listener() Listener {
	return Listener{
		Open: func(origin string) {
			r.mu.Lock()
			r.origins = append(r.origins, origin)
			r.mu.Unlock()
			r.add("open")
			if r.onOpen != nil {
				r.onOpen()
			}
		},
		Events: func(events []sse.Event) {
			for _, e := range events {
				r.add(eventString(e))
			}
			if r.onEvents != nil {
				r.onEvents(events)
			}
		},
		Error: func(state ReadyState) {
			r.add("error:" + state.String())
			if r.onError != nil {
				r.onError(state)
			}
		},
	}
}

func eventString(e sse.Event) string {
	return fmt.Sprintf("%s:%s:%s", e.Type, e.Data, e.LastEventID)
}

func (r *recorder) entries() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.log...)
}

func (r *recorder) originList() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.origins...)
}

func (r *recorder) count(entry string) int {
	n := 0
	for _, e := range r.entries() {
		if e == entry {
			n++
		}
	}
	return n
}

// waitFor waits until entry has been logged at least n times.
func (r *recorder) waitFor(t *testing.T, entry string, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return r.count(entry) >= n },
		waitTimeout, time.Millisecond, "waiting for %d× %q; log: %q", n, entry, r.entries())
}

// seenRequest is one request as the test server saw it.
type seenRequest struct {
	n      int // 1-based arrival order
	method string
	header http.Header
	body   string
	at     time.Time     // when it arrived
	ended  time.Time     // when its handler returned; read only after gone is closed
	gone   chan struct{} // closed when the handler returned (client gone or script done)
}

// server is an httptest server on 127.0.0.1 that records every request and
// runs handle for it.
type server struct {
	*httptest.Server
	mu      sync.Mutex
	reqs    []*seenRequest
	arrived chan *seenRequest
}

type handlerFunc func(req *seenRequest, w http.ResponseWriter, r *http.Request)

func newServer(t *testing.T, handle handlerFunc) *server {
	t.Helper()
	s := &server{arrived: make(chan *seenRequest, 1000)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		req := &seenRequest{n: len(s.reqs) + 1, method: r.Method, header: r.Header.Clone(),
			body: string(body), at: time.Now(), gone: make(chan struct{})}
		s.reqs = append(s.reqs, req)
		s.mu.Unlock()
		defer func() {
			req.ended = time.Now()
			close(req.gone)
		}()
		s.arrived <- req
		handle(req, w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) requests() []*seenRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*seenRequest(nil), s.reqs...)
}

// next waits for the next request to arrive.
func (s *server) next(t *testing.T) *seenRequest {
	t.Helper()
	select {
	case req := <-s.arrived:
		return req
	case <-time.After(waitTimeout):
		t.Fatalf("no request arrived")
		return nil
	}
}

// startStream sends the headers of an event stream.
func startStream(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	w.(http.Flusher).Flush()
}

func send(w http.ResponseWriter, s string) {
	_, _ = io.WriteString(w, s)
	w.(http.Flusher).Flush()
}

// hold keeps the response open until the client goes away.
func hold(r *http.Request) { <-r.Context().Done() }

// drop cuts the connection without ending the body: a network error.
func drop() { panic(http.ErrAbortHandler) }

func fetcher() *httpfetch.Fetcher { return httpfetch.New(&http.Client{}) }

// fast is a reconnect policy for tests: short delays, unlimited retries.
var fast = shimReconnect(5*time.Millisecond, -1)

func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(waitTimeout):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// connOf returns the connection a Source is on.
func connOf(s *Source) *conn {
	s.pool.mu.Lock()
	defer s.pool.mu.Unlock()
	return s.conn
}

// settle waits until c's goroutine has returned and s has run every
// callback queued before now, so that what the recorder logged is final.
func settle(t *testing.T, c *conn, s *Source) {
	t.Helper()
	waitClosed(t, c.exited, "connection goroutine to exit")
	flushed := make(chan struct{})
	s.queue.push(func() { close(flushed) })
	waitClosed(t, flushed, "source queue to drain")
}

func shimReconnect(initial time.Duration, maxRetries int) shim.ReconnectOptions {
	return shim.ReconnectOptions{InitialDelay: initial, MaxDelay: time.Second, GrowFactor: 2, MaxRetries: maxRetries}
}

// countingFetcher counts the fetches a connection starts, including those
// aborted before the server saw them, and keeps their requests.
type countingFetcher struct {
	shim.Fetcher
	calls atomic.Int32
	mu    sync.Mutex
	reqs  []shim.Request
}

func (f *countingFetcher) Fetch(ctx shim.Context, req *shim.Request) (*shim.Response, error) {
	f.calls.Add(1)
	f.mu.Lock()
	f.reqs = append(f.reqs, *req)
	f.mu.Unlock()
	return f.Fetcher.Fetch(ctx, req)
}

func (f *countingFetcher) requests() []shim.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]shim.Request(nil), f.reqs...)
}
