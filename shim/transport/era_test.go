//go:build !js

package transport

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	gosdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esshim/esshim/shim"
	"github.com/esshim/esshim/shim/httpfetch"
)

// The era tests run the transport against the go-sdk v1.8.0 server, once
// stateful (a 2025-11-25 server) and once stateless with
// PropagateRequestCancellation (a 2026-07-28 server), and against scripted
// servers for what a real one will not do on demand (cut a stream).

// goServer is a go-sdk server on 127.0.0.1 that logs every HTTP request and
// tells when its slow tool's context ends.
type goServer struct {
	*testServer
	slowStarted   chan struct{}
	slowCancelled chan time.Time
}

func newGoServer(t *testing.T, stateless bool) *goServer {
	gs := &goServer{slowStarted: make(chan struct{}, 8), slowCancelled: make(chan time.Time, 8)}
	server := gosdk.NewServer(&gosdk.Implementation{Name: "era-test", Version: "1"}, nil)
	type echoIn struct {
		Text string `json:"text"`
	}
	gosdk.AddTool(server, &gosdk.Tool{Name: "echo"}, func(_ context.Context, _ *gosdk.CallToolRequest, in echoIn) (*gosdk.CallToolResult, any, error) {
		return &gosdk.CallToolResult{Content: []gosdk.Content{&gosdk.TextContent{Text: in.Text}}}, nil, nil
	})
	gosdk.AddTool(server, &gosdk.Tool{Name: "slow"}, func(ctx context.Context, _ *gosdk.CallToolRequest, _ struct{}) (*gosdk.CallToolResult, any, error) {
		gs.slowStarted <- struct{}{}
		select {
		case <-ctx.Done():
			gs.slowCancelled <- time.Now()
			return nil, nil, ctx.Err()
		case <-time.After(20 * time.Second):
			return &gosdk.CallToolResult{Content: []gosdk.Content{&gosdk.TextContent{Text: "slow"}}}, nil, nil
		}
	})
	handler := gosdk.NewStreamableHTTPHandler(func(*http.Request) *gosdk.Server { return server },
		&gosdk.StreamableHTTPOptions{Stateless: stateless, PropagateRequestCancellation: stateless})
	gs.testServer = newServer(t, func(w http.ResponseWriter, r *http.Request, q seen) {
		r.Body = readerOf(q.Body)
		handler.ServeHTTP(w, r)
	})
	return gs
}

// readerOf gives the logged body back to the handler.
func readerOf(body string) *bodyReader { return &bodyReader{Reader: strings.NewReader(body)} }

type bodyReader struct{ *strings.Reader }

func (*bodyReader) Close() error { return nil }

// modernMeta is the _meta envelope every 2026-07-28 request carries.
const modernMeta = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",` +
	`"io.modelcontextprotocol/clientInfo":{"name":"t","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}`

// modernCall is a 2026-07-28 tools/call.
func modernCall(id int, tool, args string) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":%q,"arguments":%s,%s}}`, id, tool, args, modernMeta)
}

// endRecorder records the SendOptions.OnEnd calls of one request.
type endRecorder struct {
	mu   sync.Mutex
	whys []StreamEnd
}

func (e *endRecorder) on(why StreamEnd) {
	e.mu.Lock()
	e.whys = append(e.whys, why)
	e.mu.Unlock()
}

func (e *endRecorder) get() []StreamEnd {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]StreamEnd(nil), e.whys...)
}

// TestErasAgainstGoSDK runs one script per era against the go-sdk server of
// that era: the requests it sees carry exactly the era's headers, and in
// the stateless era no session, GET or DELETE ever appears.
func TestErasAgainstGoSDK(t *testing.T) {
	tests := []struct {
		name      string
		stateless bool
		setup     func(t *testing.T, tr *Transport)
		call      string
		// what every POST after setup must carry
		wantVersion, wantMethod, wantName string
		wantSession                       bool
	}{
		{
			name: "2025-11-25 stateful server, legacy handshake",
			setup: func(t *testing.T, tr *Transport) {
				require.NoError(t, tr.Send(t.Context(), `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`, SendOptions{}))
				tr.SetProtocolVersion("2025-11-25")
				require.NoError(t, tr.Send(t.Context(), initializedMsg, SendOptions{}))
			},
			call:        `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`,
			wantVersion: "2025-11-25", wantSession: true,
		},
		{
			name: "2026-07-28 stateless server, body claim only", stateless: true,
			call:        modernCall(7, "echo", `{"text":"hi"}`),
			wantVersion: "2026-07-28", wantMethod: "tools/call", wantName: "echo",
		},
		{
			name: "2026-07-28 stateless server, negotiated version set", stateless: true,
			setup:       func(t *testing.T, tr *Transport) { tr.SetProtocolVersion("2026-07-28") },
			call:        modernCall(7, "echo", `{"text":"hi"}`),
			wantVersion: "2026-07-28", wantMethod: "tools/call", wantName: "echo",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gs := newGoServer(t, tc.stateless)
			rec := &recorder{}
			tr := newTransport(t, gs.testServer, rec, Options{})
			if tc.setup != nil {
				tc.setup(t, tr)
			}
			before := len(gs.requests(nil))
			var end endRecorder
			require.NoError(t, tr.Send(t.Context(), tc.call, SendOptions{OnEnd: end.on}))
			eventually(t, func() bool { return len(rec.forID(t, "7")) == 1 }, "the call is answered")
			got := rec.forID(t, "7")[0]
			require.Nil(t, got.Error, "%s", rec.messages())
			assert.Contains(t, string(got.Result), `"hi"`)
			eventually(t, func() bool { return len(end.get()) == 1 }, "OnEnd is called")
			assert.Equal(t, []StreamEnd{EndStream}, end.get())

			post := gs.requests(nil)[before]
			assert.Equal(t, tc.wantVersion, post.Header.Get("Mcp-Protocol-Version"))
			assert.Equal(t, tc.wantMethod, post.Header.Get("Mcp-Method"))
			assert.Equal(t, tc.wantName, post.Header.Get("Mcp-Name"))
			assert.Equal(t, tc.wantSession, post.Session != "", "Mcp-Session-Id sent: %q", post.Session)

			require.NoError(t, tr.TerminateSession(t.Context()))
			waitDone(t, tr.Close())
			if tc.stateless {
				for _, q := range gs.requests(nil) {
					assert.Equal(t, http.MethodPost, q.Method, "only POSTs in the stateless era")
					assert.Empty(t, q.Session, "no session id in the stateless era")
				}
			} else {
				assert.Equal(t, 1, gs.count(func(q seen) bool { return q.Method == http.MethodDelete }), "DELETE ends a 2025 session")
			}
		})
	}
}

// TestStatelessCancellation aborts a slow 2026 tool call through its
// Signal: the POST ends at once, the go-sdk server cancels the tool, the
// request gets no outcome and no error is reported, OnEnd says aborted,
// and the transport keeps working.
func TestStatelessCancellation(t *testing.T) {
	gs := newGoServer(t, true)
	rec := &recorder{}
	tr := newTransport(t, gs.testServer, rec, Options{})
	sig, abort := shim.WithCancel(shim.Background())
	var end endRecorder
	sent := make(chan error, 1)
	go func() {
		sent <- tr.Send(t.Context(), modernCall(1, "slow", `{}`), SendOptions{Signal: sig, OnEnd: end.on})
	}()
	select {
	case <-gs.slowStarted:
	case <-time.After(5 * time.Second):
		t.Fatal("the slow tool did not start")
	}
	aborted := time.Now()
	abort()
	select {
	case at := <-gs.slowCancelled:
		assert.Less(t, at.Sub(aborted), 2*time.Second, "the server sees the disconnect at once")
	case <-time.After(5 * time.Second):
		t.Fatal("the tool's context was never cancelled")
	}
	if err := <-sent; err != nil {
		// The go-sdk sends no response headers before the tool answers.
		assert.Equal(t, shim.CodeAborted, shim.CodeOf(err))
	}
	eventually(t, func() bool { return len(end.get()) == 1 }, "OnEnd is called")
	assert.Equal(t, []StreamEnd{EndAborted}, end.get())
	assert.Empty(t, tr.Snapshot().Inflight)

	require.NoError(t, tr.Send(t.Context(), modernCall(2, "echo", `{"text":"next"}`), SendOptions{}))
	eventually(t, func() bool { return len(rec.forID(t, "2")) == 1 }, "the next call is answered")
	assert.Empty(t, rec.forID(t, "1"), "an aborted request gets no outcome")
	assert.Empty(t, rec.errors(), "an intentional abort is not an error")
}

// TestAbortBeforeResponse aborts a request whose POST has no response yet:
// Send returns ABORTED, nothing is reported, and OnEnd says so once.
func TestAbortBeforeResponse(t *testing.T) {
	release := make(chan struct{})
	ts := newServer(t, func(w http.ResponseWriter, r *http.Request, q seen) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	rec := &recorder{}
	tr := newTransport(t, ts, rec, Options{})
	sig, abort := shim.WithCancel(shim.Background())
	var end endRecorder
	sent := make(chan error, 1)
	go func() {
		sent <- tr.Send(t.Context(), modernCall(1, "echo", `{}`), SendOptions{Signal: sig, OnEnd: end.on})
	}()
	eventually(t, func() bool { return ts.count(nil) == 1 }, "the POST arrives")
	abort()
	select {
	case err := <-sent:
		assert.Equal(t, shim.CodeAborted, shim.CodeOf(err))
	case <-time.After(5 * time.Second):
		t.Fatal("Send did not return")
	}
	eventually(t, func() bool { return len(end.get()) == 1 }, "OnEnd is called")
	assert.Equal(t, EndAborted, end.get()[0])
	assert.Empty(t, rec.errors())
	assert.Empty(t, tr.Snapshot().Inflight)

	// An already aborted signal sends nothing.
	err := tr.Send(t.Context(), modernCall(2, "echo", `{}`), SendOptions{Signal: sig, OnEnd: end.on})
	assert.Equal(t, shim.CodeAborted, shim.CodeOf(err))
	assert.Equal(t, 1, ts.count(nil))
	eventually(t, func() bool { return len(end.get()) == 2 }, "OnEnd is called for the refused Send")
	assert.Equal(t, EndRejected, end.get()[1])
}

// TestStreamCutByEra cuts a request's SSE stream after an event with an id.
// In the session era the stream resumes by GET with that Last-Event-ID;
// in the stateless era the request gets "stream-lost" at once, nothing
// resumes, and OnEnd is called once.
func TestStreamCutByEra(t *testing.T) {
	for _, tc := range []struct {
		name    string
		msg     string
		resumes bool
	}{
		{name: "2025 session era resumes", msg: rpcRequest(1, "tools/call"), resumes: true},
		{name: "2026 stateless era loses the request", msg: modernCall(1, "slow", `{}`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := newServer(t, func(w http.ResponseWriter, r *http.Request, q seen) {
				if q.Method == http.MethodGet {
					s := startSSE(w, "")
					s.event("e2", result("1", "resumed"), 0)
					return
				}
				s := startSSE(w, "")
				s.event("e1", `{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}}`, 0)
				// Return without an answer: the stream is cut.
			})
			rec := &recorder{}
			tr := newTransport(t, ts, rec, Options{})
			var end endRecorder
			cut := time.Now()
			require.NoError(t, tr.Send(t.Context(), tc.msg, SendOptions{OnEnd: end.on}))
			eventually(t, func() bool { return len(rec.forID(t, "1")) == 1 }, "the request gets an outcome")
			got := rec.forID(t, "1")[0]
			eventually(t, func() bool { return len(end.get()) == 1 }, "OnEnd is called")
			assert.Equal(t, []StreamEnd{EndStream}, end.get())
			if tc.resumes {
				assert.Contains(t, string(got.Result), "resumed")
				gets := ts.requests(isGET)
				require.Len(t, gets, 1)
				assert.Equal(t, "e1", gets[0].LastEventID)
			} else {
				assert.Equal(t, "stream-lost", got.reason())
				assert.Less(t, time.Since(cut), 2*time.Second)
				time.Sleep(100 * time.Millisecond) // longer than a reconnect delay of the fast policy
				assert.Zero(t, ts.count(isGET), "nothing resumes in the stateless era")
			}
			waitDone(t, tr.Close())
			assert.Len(t, end.get(), 1, "OnEnd exactly once")
		})
	}
}

// TestStatelessIgnoresSessions: a server that sets Mcp-Session-Id on a 2026
// response does not get it back, a 404 is a plain HTTP error, and
// TerminateSession sends nothing.
func TestStatelessIgnoresSessions(t *testing.T) {
	ts := newServer(t, func(w http.ResponseWriter, r *http.Request, q seen) {
		if q.ID == "2" {
			http.Error(w, "gone", http.StatusNotFound)
			return
		}
		writeJSON(w, "s-1", result(q.ID, "ok"))
	})
	rec := &recorder{}
	tr := newTransport(t, ts, rec, Options{})
	tr.SetProtocolVersion("2026-07-28")
	require.NoError(t, tr.Send(t.Context(), modernCall(1, "echo", `{}`), SendOptions{}))
	assert.Empty(t, tr.SessionID(), "no session is adopted")
	err := tr.Send(t.Context(), modernCall(2, "echo", `{}`), SendOptions{})
	assert.Equal(t, shim.CodeHTTP, shim.CodeOf(err))
	assert.Zero(t, rec.countCode(shim.CodeSessionExpired))
	require.NoError(t, tr.Send(t.Context(), `{"jsonrpc":"2.0","method":"notifications/initialized"}`, SendOptions{}))
	require.NoError(t, tr.TerminateSession(t.Context()))
	for _, q := range ts.requests(nil) {
		assert.Equal(t, http.MethodPost, q.Method)
		assert.Empty(t, q.Session)
	}
	assert.Equal(t, "modern", tr.Snapshot().Era)
}

// TestErrorBodyAnswers: a 400 whose body is the JSON-RPC error of a 2026
// request answers it (Send succeeds, nothing reported); any other 400, or
// one to a 2025 request, is an HTTP_ERROR.
func TestErrorBodyAnswers(t *testing.T) {
	errBody := func(id string) string {
		return `{"jsonrpc":"2.0","id":` + id + `,"error":{"code":-32020,"message":"header mismatch"}}`
	}
	probe := `{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{` + modernMeta + `}}`
	for _, tc := range []struct {
		name     string
		msg      string
		status   int
		body     string
		answered bool
		// the delivered error's code and data.reason, when answered
		code   int
		reason string
	}{
		{name: "2026 request, its error", msg: modernCall(1, "echo", `{}`), body: errBody("1"), answered: true, code: -32020},
		{name: "2026 request, another id", msg: modernCall(1, "echo", `{}`), body: errBody("9")},
		{name: "2026 request, not JSON-RPC", msg: modernCall(1, "echo", `{}`), body: "Bad Request"},
		{name: "2026 request, 404", msg: modernCall(1, "echo", `{}`), status: 404, body: "Not Found"},
		{name: "2025 request, its error", msg: rpcRequest(1, "tools/call"), body: errBody("1")},
		// The probe, as a 2025 server rejects it: the SDK v2 Client falls back on these.
		{name: "probe, a 2025 server's not-initialized error (id null)", msg: probe,
			body:     `{"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: Server not initialized"},"id":null}`,
			answered: true, code: -32000},
		{name: "probe, 404 text", msg: probe, status: 404, body: "404 page not found", answered: true, code: -32000, reason: "http-error"},
		{name: "probe, 405 empty", msg: probe, status: 405, answered: true, code: -32000, reason: "http-error"},
		{name: "probe, 401", msg: probe, status: 401, body: "Unauthorized"},
		{name: "probe, 500", msg: probe, status: 500, body: "Internal Server Error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := newServer(t, func(w http.ResponseWriter, r *http.Request, q seen) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(cmp.Or(tc.status, http.StatusBadRequest))
				_, _ = w.Write([]byte(tc.body))
			})
			rec := &recorder{}
			tr := newTransport(t, ts, rec, Options{})
			var end endRecorder
			err := tr.Send(t.Context(), tc.msg, SendOptions{OnEnd: end.on})
			eventually(t, func() bool { return len(end.get()) == 1 }, "OnEnd is called")
			if tc.answered {
				require.NoError(t, err)
				eventually(t, func() bool { return len(rec.forID(t, "1")) == 1 }, "the error is delivered")
				got := rec.forID(t, "1")[0]
				assert.Equal(t, tc.code, got.Error.Code)
				assert.Equal(t, tc.reason, got.reason())
				assert.Empty(t, rec.errors())
				assert.Equal(t, []StreamEnd{EndStream}, end.get())
			} else {
				require.Error(t, err)
				assert.Equal(t, shim.CodeHTTP, shim.CodeOf(err))
				assert.Equal(t, cmp.Or(tc.status, 400), err.(*shim.Error).Status)
				assert.Contains(t, err.Error(), tc.body)
				assert.Equal(t, []StreamEnd{EndRejected}, end.get())
			}
			assert.Empty(t, tr.Snapshot().Inflight)
		})
	}
}

// TestRequestHeaders checks the headers a message sends: its own (owned
// names ignored) and those derived from a protocol claim, encoded as the
// SDK v2 encodes them.
func TestRequestHeaders(t *testing.T) {
	call := func(method, params string) string {
		return `{"jsonrpc":"2.0","id":1,"method":"` + method + `","params":{` + params + `,` + modernMeta + `}}`
	}
	tests := []struct {
		name string
		msg  string
		own  shim.Header
		want map[string]string // "" means absent
	}{
		{name: "tools/call", msg: call("tools/call", `"name":"echo"`),
			want: map[string]string{"Mcp-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": "echo"}},
		{name: "resources/read names its uri", msg: call("resources/read", `"uri":"file:///a b"`),
			want: map[string]string{"Mcp-Method": "resources/read", "Mcp-Name": "file:///a b"}},
		{name: "tasks/get names its taskId", msg: call("tasks/get", `"taskId":"t1"`),
			want: map[string]string{"Mcp-Name": "t1"}},
		{name: "no name for tools/list", msg: call("tools/list", `"cursor":"c"`),
			want: map[string]string{"Mcp-Method": "tools/list", "Mcp-Name": ""}},
		{name: "non-ASCII name", msg: call("tools/call", `"name":"café"`),
			want: map[string]string{"Mcp-Name": "=?base64?Y2Fmw6k=?="}},
		{name: "escaped name with a control character", msg: call("tools/call", `"name":"a\nb"`),
			want: map[string]string{"Mcp-Name": "=?base64?YQpi?="}},
		{name: "leading space", msg: call("tools/call", `"name":" x"`),
			want: map[string]string{"Mcp-Name": "=?base64?IHg=?="}},
		{name: "looks encoded", msg: call("tools/call", `"name":"=?base64?x?="`),
			want: map[string]string{"Mcp-Name": "=?base64?PT9iYXNlNjQ/eD89?="}},
		{name: "name not a string", msg: call("tools/call", `"name":5`),
			want: map[string]string{"Mcp-Method": "tools/call", "Mcp-Name": ""}},
		{name: "own headers, owned names ignored", msg: call("tools/call", `"name":"echo"`),
			own: shim.Header{"Mcp-Param-Region": "eu", "X-Trace": "1", "Authorization": "Bearer evil",
				"Mcp-Session-Id": "s", "Mcp-Name": "other", "Mcp-Protocol-Version": "1999-01-01", "Content-Type": "text/plain"},
			want: map[string]string{"Mcp-Param-Region": "eu", "X-Trace": "1", "Authorization": "", "Mcp-Session-Id": "",
				"Mcp-Name": "echo", "Mcp-Protocol-Version": "2026-07-28", "Content-Type": "application/json"}},
		{name: "no claim: no derived headers, own headers sent", msg: rpcRequest(1, "tools/call"),
			own:  shim.Header{"Mcp-Param-Region": "eu"},
			want: map[string]string{"Mcp-Method": "", "Mcp-Name": "", "Mcp-Protocol-Version": "", "Mcp-Param-Region": "eu"}},
		{name: "batch: no derived headers", msg: "[" + call("tools/call", `"name":"echo"`) + "]",
			want: map[string]string{"Mcp-Method": "", "Mcp-Name": ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := newServer(t, func(w http.ResponseWriter, r *http.Request, q seen) { writeJSON(w, "", result("1", "ok")) })
			tr := newTransport(t, ts, &recorder{}, Options{})
			require.NoError(t, tr.Send(t.Context(), tc.msg, SendOptions{Header: tc.own}))
			got := ts.requests(nil)[0].Header
			for k, v := range tc.want {
				assert.Equal(t, v, got.Get(k), k)
			}
		})
	}
}

// TestReconnectionScheduler: a custom scheduler replaces the reconnect
// timer, gets the delay and the attempt number, and its cancel is called
// when Close stops a pending reconnect.
func TestReconnectionScheduler(t *testing.T) {
	ts := newServer(t, func(w http.ResponseWriter, r *http.Request, q seen) {
		if q.Method == http.MethodGet {
			w.WriteHeader(http.StatusServiceUnavailable) // no progress: the next attempt counts up
			return
		}
		s := startSSE(w, "")
		s.event("e1", "", 0) // a priming event, then the stream is cut
	})
	type call struct {
		delay   time.Duration
		attempt int
	}
	var mu sync.Mutex
	var calls []call
	cancels := 0
	var pending []func()
	tr := newTransport(t, ts, &recorder{}, Options{
		Scheduler: func(delay time.Duration, attempt int, reconnect func()) func() {
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, call{delay, attempt})
			pending = append(pending, reconnect)
			return func() {
				mu.Lock()
				cancels++
				mu.Unlock()
			}
		},
	})
	require.NoError(t, tr.Send(t.Context(), rpcRequest(1, "tools/call"), SendOptions{}))
	next := func() func() {
		var f func()
		eventually(t, func() bool {
			mu.Lock()
			defer mu.Unlock()
			if len(pending) > 0 {
				f, pending = pending[0], pending[1:]
			}
			return f != nil
		}, "the scheduler is asked")
		return f
	}
	first := next()
	assert.Zero(t, ts.count(isGET), "nothing happens until the scheduler says so")
	first()
	first() // a second call does nothing
	eventually(t, func() bool { return ts.count(isGET) == 1 }, "the reconnect runs")
	next() // the second attempt is scheduled; Close cancels it
	waitDone(t, tr.Close())
	waitGone(t, tr)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, 1, cancels, "Close cancels the pending reconnect")
	require.Len(t, calls, 2)
	assert.Equal(t, 0, calls[0].attempt)
	assert.Equal(t, 1, calls[1].attempt)
	assert.Equal(t, fast.InitialDelay, calls[0].delay)
	assert.Equal(t, 1, ts.count(isGET), "a stopped reconnect never runs")
}

// TestRestartAcrossEras: a lifecycle in one era leaves nothing to the next.
func TestRestartAcrossEras(t *testing.T) {
	gs := newGoServer(t, true)
	rec := &recorder{}
	tr := New(Options{URL: gs.URL, Fetcher: httpfetch.New(gs.Client()), Handler: rec.handler(), Reconnect: fast})
	require.NoError(t, tr.Start())
	tr.SetProtocolVersion("2026-07-28")
	require.NoError(t, tr.Send(t.Context(), modernCall(1, "echo", `{"text":"a"}`), SendOptions{}))
	assert.Equal(t, "modern", tr.Snapshot().Era)
	waitDone(t, tr.Close())
	require.NoError(t, tr.Start())
	assert.Equal(t, "legacy", tr.Snapshot().Era, "a new lifecycle starts without a protocol version")
	require.NoError(t, tr.Send(t.Context(), modernCall(2, "echo", `{"text":"b"}`), SendOptions{}))
	eventually(t, func() bool { return len(rec.forID(t, "2")) == 1 }, "the body claim alone makes a 2026 request")
	waitDone(t, tr.Close())
	waitGone(t, tr)
}

// TestOnEndOnClose: a request whose stream is open when the transport
// closes gets OnEnd(EndClosed), once, and never EndStream.
func TestOnEndOnClose(t *testing.T) {
	ts := newServer(t, func(w http.ResponseWriter, r *http.Request, q seen) {
		s := startSSE(w, "")
		s.event("e1", "", 0)
		<-r.Context().Done()
	})
	tr := newTransport(t, ts, &recorder{}, Options{})
	var end endRecorder
	require.NoError(t, tr.Send(t.Context(), modernCall(1, "slow", `{}`), SendOptions{OnEnd: end.on}))
	waitDone(t, tr.Close())
	eventually(t, func() bool { return len(end.get()) == 1 }, "OnEnd is called")
	time.Sleep(50 * time.Millisecond)
	assert.Equal(t, []StreamEnd{EndClosed}, end.get())
	waitGone(t, tr)
}
