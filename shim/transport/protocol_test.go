//go:build !js

package transport

import (
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

// TestHandshakeHeaders follows a whole connect: the headers of every
// request, session adoption, the protocol version, the standalone GET and
// the 405 that means "no standalone stream".
func TestHandshakeHeaders(t *testing.T) {
	ts := newServer(t, mcp("sess-1"))
	rec := &recorder{}
	var hookCalls atomic.Int64
	tr := newTransport(t, ts, rec, Options{
		Header: shim.Header{"x-static": "static"},
		HeaderHook: func(ctx shim.Context) (shim.Header, error) {
			hookCalls.Add(1)
			return shim.Header{"Authorization": "Bearer t", "x-static": "hooked"}, nil
		},
	})

	require.NoError(t, tr.Send(t.Context(), initializeMsg, SendOptions{}))
	assert.Equal(t, "sess-1", tr.SessionID())
	tr.SetProtocolVersion("2025-06-18")
	assert.Equal(t, "2025-06-18", tr.ProtocolVersion())
	require.NoError(t, tr.Send(t.Context(), initializedMsg, SendOptions{}))
	eventually(t, func() bool { return ts.count(isGET) == 1 }, "standalone GET opened")
	require.NoError(t, tr.Send(t.Context(), rpcRequest(1, "tools/list"), SendOptions{}))
	require.NoError(t, tr.TerminateSession(t.Context()))

	log := ts.requests(nil)
	require.Len(t, log, 5)
	for _, q := range log {
		assert.Equal(t, "Bearer t", q.Header.Get("Authorization"), "%s %s: hook headers on every request", q.Method, q.RPC)
		assert.Equal(t, "hooked", q.Header.Get("X-Static"), "the hook's headers win over static ones")
	}
	assert.EqualValues(t, 5, hookCalls.Load(), "the hook is awaited before every request")

	init, notif, get, list, del := log[0], log[1], log[2], log[3], log[4]
	for _, q := range []seen{init, notif, list} {
		assert.Equal(t, http.MethodPost, q.Method)
		assert.Equal(t, "application/json, text/event-stream", q.Header.Get("Accept"))
		assert.Equal(t, "application/json", q.Header.Get("Content-Type"))
	}
	assert.Empty(t, init.Session, "initialize carries no session")
	assert.Empty(t, init.Version)
	assert.Equal(t, "sess-1", notif.Session)
	assert.Equal(t, "2025-06-18", notif.Version)
	assert.Equal(t, http.MethodGet, get.Method)
	assert.Equal(t, "text/event-stream", get.Header.Get("Accept"))
	assert.Equal(t, "sess-1", get.Session)
	assert.Equal(t, "2025-06-18", get.Version)
	assert.Equal(t, "sess-1", list.Session)
	assert.Equal(t, http.MethodDelete, del.Method)
	assert.Equal(t, "sess-1", del.Session)

	time.Sleep(100 * time.Millisecond)
	assert.Equal(t, 1, ts.count(isGET), "405 is not retried")
	assert.Empty(t, rec.errors(), "405 is not an error")
	assert.Len(t, rec.forID(t, "0"), 1)
	assert.Len(t, rec.forID(t, "1"), 1)
	assert.Empty(t, tr.SessionID(), "terminated")
}

// TestPOSTResponses covers the answers a POST can get.
func TestPOSTResponses(t *testing.T) {
	tests := []struct {
		name    string
		message string
		handle  func(w http.ResponseWriter, r *http.Request, q seen)
		wantErr shim.Code // returned by Send and reported
		status  int
		want    map[string]string // id → "result" or a made-up error's reason
		notes   int               // notifications delivered
	}{
		{
			name: "JSON result", message: rpcRequest(1, "tools/call"),
			handle: func(w http.ResponseWriter, r *http.Request, q seen) { writeJSON(w, "", result(q.ID, "x")) },
			want:   map[string]string{"1": "result"},
		},
		{
			name: "JSON batch is split", message: "[" + rpcRequest(1, "a") + "," + rpcRequest(2, "b") + "]",
			handle: func(w http.ResponseWriter, r *http.Request, q seen) {
				writeJSON(w, "", "["+result("1", "x")+","+result("2", "y")+"]")
			},
			want: map[string]string{"1": "result", "2": "result"},
		},
		{
			name: "SSE with priming event, notification, result", message: rpcRequest(3, "tools/call"),
			handle: func(w http.ResponseWriter, r *http.Request, q seen) {
				s := startSSE(w, "")
				s.event("p-0", "", 1000)
				s.event("p-1", `{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}}`, 0)
				s.event("p-2", result(q.ID, "x"), 0)
			},
			want: map[string]string{"3": "result"}, notes: 1,
		},
		{
			name: "SSE batch event is split", message: "[" + rpcRequest(1, "a") + "," + rpcRequest(2, "b") + "]",
			handle: func(w http.ResponseWriter, r *http.Request, q seen) {
				startSSE(w, "").event("", "["+result("1", "x")+","+result("2", "y")+"]", 0)
			},
			want: map[string]string{"1": "result", "2": "result"},
		},
		{
			name: "JSON without one of the responses", message: "[" + rpcRequest(1, "a") + "," + rpcRequest(2, "b") + "]",
			handle: func(w http.ResponseWriter, r *http.Request, q seen) { writeJSON(w, "", result("1", "x")) },
			want:   map[string]string{"1": "result", "2": jsonrpc.ReasonStreamLost},
		},
		{
			name: "202 to a request", message: rpcRequest(4, "tools/call"),
			handle: func(w http.ResponseWriter, r *http.Request, q seen) { w.WriteHeader(http.StatusAccepted) },
			want:   map[string]string{"4": jsonrpc.ReasonStreamLost},
		},
		{
			name: "202 to a notification", message: `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{}}`,
			handle: func(w http.ResponseWriter, r *http.Request, q seen) { w.WriteHeader(http.StatusAccepted) },
			want:   map[string]string{},
		},
		{
			name: "unexpected content type", message: rpcRequest(5, "tools/call"),
			handle: func(w http.ResponseWriter, r *http.Request, q seen) {
				w.Header().Set("Content-Type", "text/plain")
				_, _ = w.Write([]byte("hello"))
			},
			wantErr: shim.CodeUnexpectedContentType, status: 200,
		},
		{
			name: "HTTP error", message: rpcRequest(6, "tools/call"),
			handle: func(w http.ResponseWriter, r *http.Request, q seen) {
				http.Error(w, "boom", http.StatusInternalServerError)
			},
			wantErr: shim.CodeHTTP, status: 500,
		},
		{
			name: "404 without a session is an HTTP error", message: rpcRequest(7, "tools/call"),
			handle: func(w http.ResponseWriter, r *http.Request, q seen) {
				w.Header().Set("Mcp-Session-Id", "not-adopted")
				http.NotFound(w, r)
			},
			wantErr: shim.CodeHTTP, status: 404,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newServer(t, tt.handle)
			rec := &recorder{}
			tr := newTransport(t, ts, rec, Options{})
			err := tr.Send(t.Context(), tt.message, SendOptions{})
			if tt.wantErr != "" {
				require.Error(t, err)
				var e *shim.Error
				require.ErrorAs(t, err, &e)
				assert.Equal(t, tt.wantErr, e.Code)
				assert.Equal(t, tt.status, e.Status)
				eventually(t, func() bool { return len(rec.errors()) == 1 }, "the error is reported too")
				assert.Equal(t, tt.wantErr, rec.errors()[0].Code)
				time.Sleep(20 * time.Millisecond)
				assert.Empty(t, rec.messages(), "a request whose Send failed gets no other outcome")
				assert.Empty(t, tr.Snapshot().Inflight)
				assert.Empty(t, tr.SessionID())
				return
			}
			require.NoError(t, err)
			eventually(t, func() bool { return len(rec.messages()) == len(tt.want)+tt.notes }, "all messages delivered")
			for id, want := range tt.want {
				got := rec.forID(t, id)
				require.Len(t, got, 1, "id %s settles once", id)
				if want == "result" {
					assert.NotNil(t, got[0].Result)
				} else {
					assert.Equal(t, want, got[0].reason())
					assert.Equal(t, jsonrpc.CodeConnectionLost, got[0].Error.Code)
				}
			}
			eventually(t, func() bool { return len(tr.Snapshot().Streams) == 0 }, "finished streams are gone")
			assert.Empty(t, tr.Snapshot().Inflight)
			assert.Empty(t, rec.errors())
		})
	}
}

// TestStandaloneFailureKeepsPOST: the optional GET stream failing is
// reported, and the POST channel goes on working.
func TestStandaloneFailureKeepsPOST(t *testing.T) {
	ok := mcp("s")
	ts := newServer(t, func(w http.ResponseWriter, r *http.Request, q seen) {
		if q.Method == http.MethodGet {
			http.Error(w, "no", http.StatusInternalServerError)
			return
		}
		ok(w, r, q)
	})
	rec := &recorder{}
	tr := newTransport(t, ts, rec, Options{})
	connect(t, tr)
	eventually(t, func() bool { return rec.countCode(shim.CodeHTTP) >= 1 }, "GET failure reported")
	assert.Equal(t, 500, rec.errors()[0].Status)
	require.NoError(t, tr.Send(t.Context(), rpcRequest(1, "tools/call"), SendOptions{}))
	eventually(t, func() bool { return len(rec.forID(t, "1")) == 1 }, "POST still works")
}

// TestStandaloneMessages: server-initiated requests and notifications
// arrive on the standalone stream; the client's response goes out by POST.
func TestStandaloneMessages(t *testing.T) {
	ok := mcp("s")
	answered := make(chan string, 1)
	ts := newServer(t, func(w http.ResponseWriter, r *http.Request, q seen) {
		switch {
		case q.Method == http.MethodGet:
			s := startSSE(w, "")
			s.event("g-1", `{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}`, 0)
			s.event("g-2", `{"jsonrpc":"2.0","id":"srv-1","method":"elicitation/create","params":{}}`, 0)
			<-r.Context().Done()
		case q.Method == http.MethodPost && q.RPC == "" && q.ID != "":
			answered <- q.Body
			w.WriteHeader(http.StatusAccepted)
		default:
			ok(w, r, q)
		}
	})
	rec := &recorder{}
	tr := newTransport(t, ts, rec, Options{})
	connect(t, tr)
	eventually(t, func() bool { return len(rec.messages()) == 3 }, "init result + 2 server messages")
	m := decode(t, rec.messages()[2])
	assert.Equal(t, "elicitation/create", m.Method)
	require.NoError(t, tr.Send(t.Context(), `{"jsonrpc":"2.0","id":"srv-1","result":{"action":"accept"}}`, SendOptions{}))
	assert.Contains(t, <-answered, `"srv-1"`)
	st := tr.Snapshot().Streams
	require.Len(t, st, 1)
	assert.Equal(t, StreamInfo{ID: st[0].ID, Kind: "standalone", State: "open", LastEventID: "g-2", Events: 2}, st[0])
	assert.Empty(t, rec.errors())
}

// TestResumptionToken: send with a resumption token resumes by GET with
// that Last-Event-ID instead of POSTing, hands the response to the request
// and reports each new event id.
func TestResumptionToken(t *testing.T) {
	ts := newServer(t, func(w http.ResponseWriter, r *http.Request, q seen) {
		if q.Method != http.MethodGet || q.LastEventID != "tok-3" {
			http.Error(w, "unexpected", http.StatusBadRequest)
			return
		}
		s := startSSE(w, "")
		s.event("tok-4", `{"jsonrpc":"2.0","method":"notifications/progress","params":{}}`, 0)
		s.event("tok-5", result("7", "resumed"), 0) // answered under the original id
		<-r.Context().Done()
	})
	rec := &recorder{}
	tr := newTransport(t, ts, rec, Options{})
	tokens := make(chan string, 10)
	require.NoError(t, tr.Send(t.Context(), rpcRequest(9, "tools/call"), SendOptions{
		ResumptionToken:   "tok-3",
		OnResumptionToken: func(tok string) { tokens <- tok },
	}))
	eventually(t, func() bool { return len(rec.forID(t, "9")) == 1 }, "response delivered under the new id")
	assert.Empty(t, rec.forID(t, "7"))
	assert.Equal(t, "tok-4", <-tokens)
	assert.Equal(t, "tok-5", <-tokens)
	assert.Zero(t, ts.count(func(q seen) bool { return q.Method == http.MethodPost }), "the message is not POSTed")
	eventually(t, func() bool { return len(tr.Snapshot().Streams) == 0 }, "stream closed once answered")
	assert.Empty(t, rec.errors())
}

// TestEventTooLarge: an oversized event is reported and its request fails
// instead of waiting.
func TestEventTooLarge(t *testing.T) {
	big := make([]byte, 4096)
	for i := range big {
		big[i] = 'a'
	}
	ts := newServer(t, func(w http.ResponseWriter, r *http.Request, q seen) {
		s := startSSE(w, "")
		s.event("e-1", result(q.ID, string(big)), 0)
		<-r.Context().Done()
	})
	rec := &recorder{}
	tr := newTransport(t, ts, rec, Options{MaxEventSize: 1024})
	require.NoError(t, tr.Send(t.Context(), rpcRequest(1, "tools/call"), SendOptions{}))
	eventually(t, func() bool { return len(rec.forID(t, "1")) == 1 }, "request settled")
	assert.Equal(t, jsonrpc.ReasonStreamLost, rec.forID(t, "1")[0].reason())
	assert.Equal(t, []shim.Code{shim.CodeEventTooLarge}, rec.errorCodes())
	assert.Zero(t, ts.count(isGET), "not resumed: it would replay the same event")
}

// TestSendArguments: state and argument errors are returned only.
func TestSendArguments(t *testing.T) {
	ts := newServer(t, mcp("s"))
	rec := &recorder{}
	tr := New(Options{URL: ts.URL, Handler: rec.handler()})
	assert.ErrorIs(t, tr.Send(t.Context(), rpcRequest(1, "x"), SendOptions{}), shim.ErrNotStarted)
	require.NoError(t, tr.Start())
	defer tr.Close()
	err := tr.Send(t.Context(), `{"id":`, SendOptions{})
	assert.Equal(t, shim.CodeInvalidArgument, shim.CodeOf(err))
	assert.Empty(t, rec.errors())
}

// TestRequestOptions: requestInit's fetch options reach every request,
// and the protocol's headers win over the application's.
func TestRequestOptions(t *testing.T) {
	ts := newServer(t, mcp("s"))
	var mu sync.Mutex
	var reqs []*shim.Request
	inner := newFetcher(ts)
	init := &struct{ cache string }{"no-store"}
	tr := New(Options{
		URL: ts.URL, Credentials: "include", Mode: "cors", Init: init,
		Header: shim.Header{"X-Static": "1", "Accept": "text/html", "Mcp-Session-Id": "forged"},
		Fetcher: shim.FetcherFunc(func(ctx shim.Context, r *shim.Request) (*shim.Response, error) {
			mu.Lock()
			reqs = append(reqs, r)
			mu.Unlock()
			return inner.Fetch(ctx, r)
		}),
		Reconnect: fast,
	})
	require.NoError(t, tr.Start())
	defer func() { waitDone(t, tr.Close()) }()
	require.NoError(t, tr.Send(t.Context(), initializeMsg, SendOptions{}))
	require.NoError(t, tr.Send(t.Context(), initializedMsg, SendOptions{}))
	// The standalone GET starts after initialized is accepted; wait for it,
	// or the DELETE may end the session before it is sent.
	eventually(t, func() bool { return ts.count(nil) == 3 }, "POST, POST, GET")
	require.NoError(t, tr.TerminateSession(t.Context()))
	eventually(t, func() bool { return ts.count(nil) == 4 }, "POST, POST, GET, DELETE")
	mu.Lock()
	defer mu.Unlock()
	methods := map[string]bool{}
	for _, r := range reqs {
		methods[r.Method] = true
		assert.Equal(t, "include", r.Credentials)
		assert.Equal(t, "cors", r.Mode)
		assert.Same(t, init, r.Init)
		assert.Equal(t, ts.URL, r.URL)
		assert.Equal(t, "1", r.Header["x-static"])
		assert.NotEqual(t, "text/html", r.Header["accept"], "%s: Accept is the protocol's", r.Method)
	}
	assert.Len(t, methods, 3)
	assert.NotContains(t, reqs[0].Header, "mcp-session-id", "the session id is the transport's")
	assert.Equal(t, "s", reqs[1].Header["mcp-session-id"])
}
