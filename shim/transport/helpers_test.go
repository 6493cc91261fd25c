//go:build !js

package transport

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esshim/esshim/shim"
	"github.com/esshim/esshim/shim/httpfetch"
)

// seen is one request as the test server received it.
type seen struct {
	Method      string // HTTP method
	RPC         string // JSON-RPC method of a POST (first of a batch)
	ID          string // raw JSON id of a POST (first of a batch)
	Session     string
	Version     string
	LastEventID string
	Header      http.Header
	Body        string
	At          time.Time
}

// The tests run real HTTP servers on 127.0.0.1 through net/http (package
// httpfetch), which the js build excludes.

// testServer is a scriptable MCP endpoint on 127.0.0.1 that records every
// request and counts the GET streams open at each moment.
type testServer struct {
	*httptest.Server
	mu         sync.Mutex
	log        []seen
	openGET    int
	maxOpenGET int
	handle     func(w http.ResponseWriter, r *http.Request, q seen)
}

func newServer(t testing.TB, handle func(w http.ResponseWriter, r *http.Request, q seen)) *testServer {
	ts := &testServer{handle: handle}
	ts.Server = httptest.NewServer(http.HandlerFunc(ts.serve))
	t.Cleanup(ts.Close)
	return ts
}

func (ts *testServer) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	q := seen{
		Method: r.Method, Header: r.Header.Clone(), Body: string(body), At: time.Now(),
		Session: r.Header.Get("Mcp-Session-Id"), Version: r.Header.Get("Mcp-Protocol-Version"),
		LastEventID: r.Header.Get("Last-Event-ID"),
	}
	if r.Method == http.MethodPost {
		var one struct {
			Method string          `json:"method"`
			ID     json.RawMessage `json:"id"`
		}
		text := strings.TrimSpace(q.Body)
		if strings.HasPrefix(text, "[") {
			var batch []json.RawMessage
			if json.Unmarshal([]byte(text), &batch) == nil && len(batch) > 0 {
				text = string(batch[0])
			}
		}
		_ = json.Unmarshal([]byte(text), &one)
		q.RPC, q.ID = one.Method, string(one.ID)
	}
	ts.mu.Lock()
	ts.log = append(ts.log, q)
	if r.Method == http.MethodGet {
		ts.openGET++
		ts.maxOpenGET = max(ts.maxOpenGET, ts.openGET)
	}
	ts.mu.Unlock()
	if r.Method == http.MethodGet {
		defer func() {
			ts.mu.Lock()
			ts.openGET--
			ts.mu.Unlock()
		}()
	}
	ts.handle(w, r, q)
}

// requests returns the recorded requests that match.
func (ts *testServer) requests(match func(seen) bool) []seen {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	var out []seen
	for _, q := range ts.log {
		if match == nil || match(q) {
			out = append(out, q)
		}
	}
	return out
}

func (ts *testServer) count(match func(seen) bool) int { return len(ts.requests(match)) }

func isGET(q seen) bool              { return q.Method == http.MethodGet }
func isRPC(m string) func(seen) bool { return func(q seen) bool { return q.RPC == m } }

// recorder collects what a Transport delivers to its Handler.
type recorder struct {
	mu        sync.Mutex
	msgs      []string
	errs      []*shim.Error
	closes    int
	changes   [][2]string
	onMessage func(string)
	onError   func(*shim.Error)
	onClose   func()
	inCall    bool // a callback is running: detects concurrent calls
	overlaps  int
}

func (r *recorder) enter() {
	r.mu.Lock()
	if r.inCall {
		r.overlaps++
	}
	r.inCall = true
	r.mu.Unlock()
}

func (r *recorder) exit() {
	r.mu.Lock()
	r.inCall = false
	r.mu.Unlock()
}

func (r *recorder) handler() Handler {
	return Handler{
		Message: func(m string) {
			r.enter()
			r.mu.Lock()
			r.msgs = append(r.msgs, m)
			f := r.onMessage
			r.mu.Unlock()
			if f != nil {
				f(m)
			}
			r.exit()
		},
		Error: func(err *shim.Error) {
			r.enter()
			r.mu.Lock()
			r.errs = append(r.errs, err)
			f := r.onError
			r.mu.Unlock()
			if f != nil {
				f(err)
			}
			r.exit()
		},
		Close: func() {
			r.enter()
			r.mu.Lock()
			r.closes++
			f := r.onClose
			r.mu.Unlock()
			if f != nil {
				f()
			}
			r.exit()
		},
		SessionChange: func(n, o string) {
			r.enter()
			r.mu.Lock()
			r.changes = append(r.changes, [2]string{n, o})
			r.mu.Unlock()
			r.exit()
		},
	}
}

func (r *recorder) messages() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.msgs...)
}

func (r *recorder) errors() []*shim.Error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*shim.Error(nil), r.errs...)
}

func (r *recorder) errorCodes() []shim.Code {
	var out []shim.Code
	for _, e := range r.errors() {
		out = append(out, e.Code)
	}
	return out
}

func (r *recorder) countCode(c shim.Code) int {
	n := 0
	for _, e := range r.errors() {
		if e.Code == c {
			n++
		}
	}
	return n
}

func (r *recorder) closeCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closes
}

// rpcMsg is a delivered message, decoded for assertions.
type rpcMsg struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Data    struct {
			Reason string `json:"reason"`
		} `json:"data"`
	} `json:"error"`
}

func decode(t testing.TB, m string) rpcMsg {
	var v rpcMsg
	require.NoError(t, json.Unmarshal([]byte(m), &v), m)
	return v
}

// forID returns the delivered messages that are responses with raw id.
func (r *recorder) forID(t testing.TB, id string) []rpcMsg {
	var out []rpcMsg
	for _, m := range r.messages() {
		v := decode(t, m)
		if string(v.ID) == id && (v.Result != nil || v.Error != nil) {
			out = append(out, v)
		}
	}
	return out
}

func (v rpcMsg) reason() string {
	if v.Error == nil {
		return ""
	}
	return v.Error.Data.Reason
}

// Messages the tests send.
func rpcRequest(id int, method string) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":%q,"params":{}}`, id, method)
}

const (
	initializeMsg  = `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	initializedMsg = `{"jsonrpc":"2.0","method":"notifications/initialized"}`
)

func result(id string, text string) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"result":{"content":[{"type":"text","text":%q}]}}`, id, text)
}

// writeJSON answers with one JSON body, setting the session id if given.
func writeJSON(w http.ResponseWriter, session, body string) {
	if session != "" {
		w.Header().Set("Mcp-Session-Id", session)
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, body)
}

// sseWriter writes a text/event-stream response event by event.
type sseWriter struct {
	w http.ResponseWriter
}

func startSSE(w http.ResponseWriter, session string) *sseWriter {
	if session != "" {
		w.Header().Set("Mcp-Session-Id", session)
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	w.(http.Flusher).Flush()
	return &sseWriter{w: w}
}

// event writes one event; empty fields are left out, so event("e1", "", 0)
// is a priming event.
func (s *sseWriter) event(id, data string, retryMS int) {
	var b strings.Builder
	if id != "" {
		fmt.Fprintf(&b, "id: %s\n", id)
	}
	if retryMS > 0 {
		fmt.Fprintf(&b, "retry: %d\n", retryMS)
	}
	if data != "" {
		fmt.Fprintf(&b, "data: %s\n", data)
	} else {
		b.WriteString("data:\n")
	}
	b.WriteString("\n")
	_, _ = io.WriteString(s.w, b.String())
	s.w.(http.Flusher).Flush()
}

// mcp is the happy-path server behaviour the tests build on: initialize
// gets a session, notifications 202, requests a JSON result, GET 405.
func mcp(session string) func(w http.ResponseWriter, r *http.Request, q seen) {
	return func(w http.ResponseWriter, r *http.Request, q seen) {
		switch {
		case q.Method == http.MethodGet:
			w.WriteHeader(http.StatusMethodNotAllowed)
		case q.Method == http.MethodDelete:
			w.WriteHeader(http.StatusOK)
		case q.RPC == "initialize":
			writeJSON(w, session, `{"jsonrpc":"2.0","id":`+q.ID+`,"result":{"protocolVersion":"2025-06-18","capabilities":{},"serverInfo":{"name":"s","version":"1"}}}`)
		case q.ID == "":
			w.WriteHeader(http.StatusAccepted)
		default:
			writeJSON(w, "", result(q.ID, "ok"))
		}
	}
}

// fast is a reconnect policy that keeps the tests quick.
var fast = shim.ReconnectOptions{InitialDelay: 20 * time.Millisecond, MaxDelay: 200 * time.Millisecond, GrowFactor: 1.5, MaxRetries: 2}

// newTransport starts a transport against ts with rec as its handler and
// closes it when the test ends.
func newTransport(t *testing.T, ts *testServer, rec *recorder, opts Options) *Transport {
	t.Helper()
	opts.URL = ts.URL
	opts.Fetcher = httpfetch.New(ts.Client())
	if rec != nil {
		opts.Handler = rec.handler()
	}
	if opts.Reconnect == (shim.ReconnectOptions{}) {
		opts.Reconnect = fast
	}
	tr := New(opts)
	require.NoError(t, tr.Start())
	t.Cleanup(func() { waitDone(t, tr.Close()) })
	return tr
}

// waitDone waits for a Close channel, failing the test on a hang.
func waitDone(t testing.TB, done <-chan struct{}) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not finish")
	}
}

// eventually polls cond; tests use bounds that define correctness, not
// tight timings.
func eventually(t testing.TB, cond func() bool, msg string, args ...any) {
	t.Helper()
	require.Eventuallyf(t, cond, 5*time.Second, 2*time.Millisecond, msg, args...)
}

// connect runs initialize and notifications/initialized.
func connect(t testing.TB, tr *Transport) {
	t.Helper()
	require.NoError(t, tr.Send(t.Context(), initializeMsg, SendOptions{}))
	require.NoError(t, tr.Send(t.Context(), initializedMsg, SendOptions{}))
}

// waitGone waits until the transport's goroutines and timers are all gone.
func waitGone(t testing.TB, tr *Transport) {
	t.Helper()
	eventually(t, func() bool {
		s := tr.Snapshot()
		return s.Goroutines == 0 && s.Timers == 0
	}, "goroutines and timers return to zero: %+v", tr.Snapshot())
}

func newFetcher(ts *testServer) shim.Fetcher { return httpfetch.New(ts.Client()) }

// connectWithStandalone runs the handshake and waits until the server
// accepted the standalone GET, so that a test's next step cannot race it.
func connectWithStandalone(t testing.TB, tr *Transport) {
	t.Helper()
	connect(t, tr)
	eventually(t, func() bool { return standaloneOpen(tr) }, "standalone stream open")
}

// standaloneOpen reports whether the transport's standalone stream is open.
func standaloneOpen(tr *Transport) bool {
	for _, s := range tr.Snapshot().Streams {
		if s.Kind == kindStandalone && s.State == stateOpen {
			return true
		}
	}
	return false
}
