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

// notFoundBodies are the 404 bodies servers send for an unknown session.
// The body never decides: each must behave the same.
var notFoundBodies = []struct {
	name, contentType, body string
}{
	{"plain text", "text/plain", "Session not found"},
	{"JSON-RPC -32001", "application/json", `{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Session not found"}}`},
	{"JSON-RPC -32002", "application/json", `{"jsonrpc":"2.0","id":"server-error","error":{"code":-32002,"message":"Unknown session"}}`},
	{"HTML", "text/html", "<!doctype html><title>404</title><h1>Not Found</h1>"},
	{"empty", "", ""},
}

func write404(w http.ResponseWriter, contentType, body string) {
	if contentType != "" {
		w.Header().Set("Content-Type", contentType)
	}
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write([]byte(body))
}

// TestSessionExpiry: a 404 to a POST, the standalone GET or a resume GET
// that carried the session id ends the session, whatever the body.
func TestSessionExpiry(t *testing.T) {
	for _, trigger := range []string{"POST", "standalone GET", "resume GET"} {
		for _, body := range notFoundBodies {
			t.Run(trigger+"/"+body.name, func(t *testing.T) {
				expireNow := make(chan struct{})
				var expired atomic.Bool
				aborted := make(chan string, 4)
				base := mcp("s-1")
				ts := newServer(t, func(w http.ResponseWriter, r *http.Request, q seen) {
					if q.Session == "s-1" && expired.Load() {
						write404(w, body.contentType, body.body)
						return
					}
					switch {
					case q.Method == http.MethodGet:
						s := startSSE(w, "")
						s.event("g-0", "", 10)
						select {
						case <-expireNow:
							if trigger == "standalone GET" {
								return // cut: the reconnect meets the 404
							}
							<-r.Context().Done()
						case <-r.Context().Done():
						}
						aborted <- "standalone"
					case q.RPC == "tools/call" && q.ID == "10":
						s := startSSE(w, "")
						s.event("a-0", "", 10)
						select {
						case <-expireNow:
							if trigger == "resume GET" {
								return // cut: the resume meets the 404
							}
							<-r.Context().Done()
						case <-r.Context().Done():
						}
						aborted <- "post"
					default:
						base(w, r, q)
					}
				})
				rec := &recorder{}
				tr := newTransport(t, ts, rec, Options{})
				connect(t, tr)
				require.NoError(t, tr.Send(t.Context(), rpcRequest(10, "tools/call"), SendOptions{}))
				eventually(t, func() bool {
					st := tr.Snapshot().Streams
					return len(st) == 2 && st[0].State == stateOpen && st[1].State == stateOpen
				}, "streams open")

				expired.Store(true)
				close(expireNow)
				wantExpired := []string{"10"}
				if trigger == "POST" {
					require.NoError(t, tr.Send(t.Context(), rpcRequest(11, "tools/call"), SendOptions{}),
						"the POST that got the 404 settles through a message, not an error")
					wantExpired = append(wantExpired, "11")
				}
				eventually(t, func() bool { return rec.countCode(shim.CodeSessionExpired) == 1 }, "SESSION_EXPIRED reported")
				e := rec.errors()[len(rec.errors())-1]
				assert.Equal(t, 404, e.Status)
				assert.Empty(t, tr.SessionID())
				for _, id := range wantExpired {
					eventually(t, func() bool { return len(rec.forID(t, id)) == 1 }, "request %s settled", id)
					got := rec.forID(t, id)[0]
					assert.Equal(t, jsonrpc.ReasonSessionExpired, got.reason())
					assert.Equal(t, -32000, got.Error.Code)
				}
				eventually(t, func() bool { return len(aborted) >= 1 }, "the session's streams are aborted")
				s := tr.Snapshot()
				assert.Empty(t, s.Streams)
				assert.Empty(t, s.Inflight)
				assert.Empty(t, s.SessionID)
				assert.Equal(t, 1, rec.countCode(shim.CodeSessionExpired))
				assert.Zero(t, rec.countCode(shim.CodeHTTP), "a 404 with a session is not an HTTP error")

				// The next request goes without the dead session id.
				before := len(ts.requests(nil))
				require.NoError(t, tr.Send(t.Context(), initializeMsg, SendOptions{}))
				assert.Empty(t, ts.requests(nil)[before].Session)
				assert.Equal(t, "s-1", tr.SessionID())
			})
		}
	}
}

// TestExpiryRaces: racing requests never clear a newer session.
func TestExpiryRaces(t *testing.T) {
	t.Run("late 404 of the old session after a new one exists", func(t *testing.T) {
		var mu sync.Mutex
		valid := map[string]bool{}
		n := 0
		holdA := make(chan struct{})
		ts := newServer(t, func(w http.ResponseWriter, r *http.Request, q seen) {
			mu.Lock()
			ok := valid[q.Session]
			mu.Unlock()
			switch {
			case q.RPC == "initialize":
				mu.Lock()
				n++
				id := fmt.Sprint("s-", n)
				valid[id] = true
				mu.Unlock()
				mcp(id)(w, r, q)
			case q.ID == "1":
				<-holdA // answered after the server restarted
				write404(w, "text/plain", "gone")
			case !ok:
				write404(w, "text/plain", "gone")
			default:
				mcp("")(w, r, q)
			}
		})
		rec := &recorder{}
		tr := newTransport(t, ts, rec, Options{})
		require.NoError(t, tr.Send(t.Context(), initializeMsg, SendOptions{}))
		sendA := make(chan error, 1)
		go func() { sendA <- tr.Send(t.Context(), rpcRequest(1, "tools/call"), SendOptions{}) }()
		eventually(t, func() bool { return ts.count(func(q seen) bool { return q.ID == "1" }) == 1 }, "A sent")

		mu.Lock()
		valid = map[string]bool{} // the server restarts
		mu.Unlock()
		require.NoError(t, tr.Send(t.Context(), rpcRequest(2, "tools/call"), SendOptions{}))
		eventually(t, func() bool { return rec.countCode(shim.CodeSessionExpired) == 1 }, "expired")
		require.NoError(t, tr.Send(t.Context(), initializeMsg, SendOptions{}))
		require.Equal(t, "s-2", tr.SessionID())

		close(holdA)
		require.NoError(t, <-sendA)
		eventually(t, func() bool { return len(rec.forID(t, "1")) == 1 }, "A settled")
		assert.Equal(t, jsonrpc.ReasonSessionExpired, rec.forID(t, "1")[0].reason())
		assert.Equal(t, "s-2", tr.SessionID(), "the new session survives the late 404")
		time.Sleep(20 * time.Millisecond)
		assert.Equal(t, 1, rec.countCode(shim.CodeSessionExpired), "one expiry, reported once")
	})

	t.Run("404 without a session while initialize establishes one", func(t *testing.T) {
		holdInit := make(chan struct{})
		ts := newServer(t, func(w http.ResponseWriter, r *http.Request, q seen) {
			if q.RPC == "initialize" {
				<-holdInit
				mcp("s-1")(w, r, q)
				return
			}
			w.Header().Set("Mcp-Session-Id", "bogus")
			write404(w, "text/plain", "no session")
		})
		rec := &recorder{}
		tr := newTransport(t, ts, rec, Options{})
		initErr := make(chan error, 1)
		go func() { initErr <- tr.Send(t.Context(), initializeMsg, SendOptions{}) }()
		eventually(t, func() bool { return ts.count(isRPC("initialize")) == 1 }, "initialize sent")
		err := tr.Send(t.Context(), rpcRequest(1, "tools/list"), SendOptions{})
		var e *shim.Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, shim.CodeHTTP, e.Code)
		assert.Equal(t, 404, e.Status)
		close(holdInit)
		require.NoError(t, <-initErr)
		assert.Equal(t, "s-1", tr.SessionID())
		assert.Zero(t, rec.countCode(shim.CodeSessionExpired))
	})
}

// reinitServer is an MCP server with real sessions: initialize creates
// one; any request carrying an unknown session gets 404.
type reinitServer struct {
	*testServer
	mu      sync.Mutex
	valid   map[string]bool
	n       int
	initFn  func(n int) int // status for the n-th initialize (0 = answer it)
	get404  bool            // every GET gets 404
	onCall  func(w http.ResponseWriter, r *http.Request, q seen) bool
	calls   atomic.Int64
	expires chan struct{}
}

func newReinitServer(t *testing.T) *reinitServer {
	rs := &reinitServer{valid: map[string]bool{}, expires: make(chan struct{}, 10)}
	rs.testServer = newServer(t, rs.handle)
	return rs
}

func (rs *reinitServer) expireAll() {
	rs.mu.Lock()
	rs.valid = map[string]bool{}
	rs.mu.Unlock()
}

func (rs *reinitServer) handle(w http.ResponseWriter, r *http.Request, q seen) {
	rs.mu.Lock()
	ok := rs.valid[q.Session]
	get404 := rs.get404
	rs.mu.Unlock()
	if q.RPC == "initialize" {
		rs.mu.Lock()
		rs.n++
		n := rs.n
		rs.mu.Unlock()
		if rs.initFn != nil {
			if status := rs.initFn(n); status != 0 {
				http.Error(w, "init failed", status)
				return
			}
		}
		id := fmt.Sprint("s-", n)
		rs.mu.Lock()
		rs.valid[id] = true
		rs.mu.Unlock()
		mcp(id)(w, r, q)
		return
	}
	if !ok || (get404 && q.Method == http.MethodGet) {
		write404(w, "application/json", `{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Session not found"}}`)
		return
	}
	switch {
	case q.Method == http.MethodGet:
		startSSE(w, "")
		<-r.Context().Done()
	case rs.onCall != nil && rs.onCall(w, r, q):
	default:
		mcp("")(w, r, q)
	}
}

// TestExpiryReinitialize covers sessionExpiry: 'reinitialize'.
func TestExpiryReinitialize(t *testing.T) {
	t.Run("replays the request that got the 404", func(t *testing.T) {
		rs := newReinitServer(t)
		held := make(chan struct{}, 1)
		rs.onCall = func(w http.ResponseWriter, r *http.Request, q seen) bool {
			if q.ID != "4" {
				return false
			}
			startSSE(w, "").event("", `{"jsonrpc":"2.0","method":"notifications/progress","params":{}}`, 0)
			held <- struct{}{}
			<-r.Context().Done() // may have been processed: cannot be replayed
			return true
		}
		rec := &recorder{}
		tr := newTransport(t, rs.testServer, rec, Options{SessionExpiry: ExpiryReinitialize})
		connectWithStandalone(t, tr)
		tr.SetProtocolVersion("2025-06-18")
		require.NoError(t, tr.Send(t.Context(), rpcRequest(1, "tools/list"), SendOptions{}))
		require.NoError(t, tr.Send(t.Context(), rpcRequest(4, "tools/call"), SendOptions{}))
		<-held

		rs.expireAll()
		require.NoError(t, tr.Send(t.Context(), rpcRequest(5, "tools/call"), SendOptions{}))
		eventually(t, func() bool { return len(rec.forID(t, "5")) == 1 }, "the replayed request gets a real result")
		assert.NotNil(t, rec.forID(t, "5")[0].Result)
		eventually(t, func() bool { return len(rec.forID(t, "4")) == 1 }, "the other in-flight request fails")
		assert.Equal(t, jsonrpc.ReasonSessionExpired, rec.forID(t, "4")[0].reason())
		assert.Len(t, rec.forID(t, "0"), 1, "the new initialize result is not delivered")
		assert.Equal(t, "s-2", tr.SessionID())
		rec.mu.Lock()
		assert.Equal(t, [][2]string{{"s-2", "s-1"}}, rec.changes)
		rec.mu.Unlock()
		assert.Equal(t, 1, rec.countCode(shim.CodeSessionExpired))

		inits := rs.requests(isRPC("initialize"))
		require.Len(t, inits, 2)
		assert.Equal(t, inits[0].Body, inits[1].Body, "the application's own initialize is replayed")
		assert.Empty(t, inits[1].Session)
		notifs := rs.requests(isRPC("notifications/initialized"))
		require.Len(t, notifs, 2)
		assert.Equal(t, "s-2", notifs[1].Session)
		eventually(t, func() bool { return rs.count(func(q seen) bool { return isGET(q) && q.Session == "s-2" }) == 1 }, "standalone reopened")
		replays := rs.requests(func(q seen) bool { return q.ID == "5" })
		require.Len(t, replays, 2)
		assert.Equal(t, "s-1", replays[0].Session)
		assert.Equal(t, "s-2", replays[1].Session)
		assert.Equal(t, "2025-06-18", replays[1].Version)

		// The new session works, and a later expiry reinitializes again.
		require.NoError(t, tr.Send(t.Context(), rpcRequest(6, "tools/list"), SendOptions{}))
		eventually(t, func() bool { return len(rec.forID(t, "6")) == 1 }, "works")
		rs.expireAll()
		require.NoError(t, tr.Send(t.Context(), rpcRequest(7, "tools/list"), SendOptions{}))
		eventually(t, func() bool { return len(rec.forID(t, "7")) == 1 && tr.SessionID() == "s-3" }, "second expiry recovered")
		assert.NotNil(t, rec.forID(t, "7")[0].Result)
	})

	failures := []struct {
		name    string
		setup   func(rs *reinitServer)
		wantErr shim.Code
		inits   int
	}{
		{name: "handshake fails", setup: func(rs *reinitServer) {
			rs.initFn = func(n int) int { return map[bool]int{true: 500}[n > 1] }
		}, wantErr: shim.CodeHTTP, inits: 2},
		{name: "handshake 404s", setup: func(rs *reinitServer) {
			rs.initFn = func(n int) int { return map[bool]int{true: 404}[n > 1] }
		}, wantErr: shim.CodeHTTP, inits: 2},
		{name: "replay 404s", setup: func(rs *reinitServer) {
			rs.onCall = func(w http.ResponseWriter, r *http.Request, q seen) bool {
				if q.ID == "5" {
					rs.expireAll() // the new session dies at once
					write404(w, "text/plain", "gone")
					return true
				}
				return false
			}
		}, wantErr: shim.CodeSessionExpired, inits: 2},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			rs := newReinitServer(t)
			tt.setup(rs)
			rec := &recorder{}
			tr := newTransport(t, rs.testServer, rec, Options{SessionExpiry: ExpiryReinitialize})
			connectWithStandalone(t, tr)
			rs.expireAll()
			require.NoError(t, tr.Send(t.Context(), rpcRequest(5, "tools/call"), SendOptions{}))
			eventually(t, func() bool { return len(rec.forID(t, "5")) == 1 }, "settled")
			assert.Equal(t, jsonrpc.ReasonSessionExpired, rec.forID(t, "5")[0].reason())
			time.Sleep(150 * time.Millisecond)
			assert.Equal(t, tt.inits, rs.count(isRPC("initialize")), "no loop")
			assert.Len(t, rec.forID(t, "5"), 1)
			assert.GreaterOrEqual(t, rec.countCode(tt.wantErr), 1, "%v", rec.errorCodes())
			assert.Empty(t, tr.SessionID())
			assert.Empty(t, tr.Snapshot().Inflight)
		})
	}

	t.Run("standalone 404 in every new session: no loop", func(t *testing.T) {
		rs := newReinitServer(t)
		rec := &recorder{}
		tr := newTransport(t, rs.testServer, rec, Options{SessionExpiry: ExpiryReinitialize})
		require.NoError(t, tr.Send(t.Context(), initializeMsg, SendOptions{}))
		rs.mu.Lock()
		rs.get404 = true
		rs.mu.Unlock()
		require.NoError(t, tr.Send(t.Context(), initializedMsg, SendOptions{}))
		time.Sleep(300 * time.Millisecond)
		assert.LessOrEqual(t, rs.count(isRPC("initialize")), 2, "at most one automatic round")
		assert.Empty(t, tr.SessionID())
	})

	t.Run("without a forwarded initialize it is a plain expiry", func(t *testing.T) {
		rs := newReinitServer(t)
		rec := &recorder{}
		tr := newTransport(t, rs.testServer, rec, Options{SessionExpiry: ExpiryReinitialize, SessionID: "s-old"})
		require.NoError(t, tr.Send(t.Context(), rpcRequest(1, "tools/list"), SendOptions{}))
		eventually(t, func() bool { return len(rec.forID(t, "1")) == 1 }, "settled")
		assert.Equal(t, jsonrpc.ReasonSessionExpired, rec.forID(t, "1")[0].reason())
		assert.Zero(t, rs.count(isRPC("initialize")))
	})
}

// TestTerminateSession: DELETE with the id; 200/204/404/405 clear it,
// anything else keeps it for a retry.
func TestTerminateSession(t *testing.T) {
	tests := []struct {
		status  int
		cleared bool
	}{{200, true}, {204, true}, {404, true}, {405, true}, {500, false}, {403, false}}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			base := mcp("s-1")
			ts := newServer(t, func(w http.ResponseWriter, r *http.Request, q seen) {
				if q.Method == http.MethodDelete {
					w.WriteHeader(tt.status)
					return
				}
				base(w, r, q)
			})
			rec := &recorder{}
			tr := newTransport(t, ts, rec, Options{})
			require.NoError(t, tr.TerminateSession(t.Context()), "no session: nothing to do")
			assert.Zero(t, ts.count(func(q seen) bool { return q.Method == http.MethodDelete }))
			require.NoError(t, tr.Send(t.Context(), initializeMsg, SendOptions{}))
			err := tr.TerminateSession(t.Context())
			dels := ts.requests(func(q seen) bool { return q.Method == http.MethodDelete })
			require.Len(t, dels, 1)
			assert.Equal(t, "s-1", dels[0].Session)
			if tt.cleared {
				require.NoError(t, err)
				assert.Empty(t, tr.SessionID())
				return
			}
			var e *shim.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, shim.CodeHTTP, e.Code)
			assert.Equal(t, tt.status, e.Status)
			assert.Equal(t, "s-1", tr.SessionID(), "kept for a retry")
		})
	}

	t.Run("in-flight requests and streams end with the session", func(t *testing.T) {
		base := mcp("s-1")
		ts := newServer(t, func(w http.ResponseWriter, r *http.Request, q seen) {
			if q.RPC == "tools/call" {
				startSSE(w, "").event("x-0", "", 0)
				<-r.Context().Done()
				return
			}
			base(w, r, q)
		})
		rec := &recorder{}
		tr := newTransport(t, ts, rec, Options{})
		require.NoError(t, tr.Send(t.Context(), initializeMsg, SendOptions{}))
		require.NoError(t, tr.Send(t.Context(), rpcRequest(3, "tools/call"), SendOptions{}))
		require.NoError(t, tr.TerminateSession(t.Context()))
		eventually(t, func() bool { return len(rec.forID(t, "3")) == 1 }, "settled")
		assert.Equal(t, jsonrpc.ReasonSessionTerminated, rec.forID(t, "3")[0].reason())
		assert.Empty(t, tr.Snapshot().Streams)
	})
}
