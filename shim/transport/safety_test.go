//go:build !js

package transport

import (
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esshim/esshim/shim"
)

// redirecting returns a handler that sends every request of the given HTTP
// method to target with a 307, and serves the rest with mcp("s1").
func redirecting(method, target string) func(w http.ResponseWriter, r *http.Request, q seen) {
	return func(w http.ResponseWriter, r *http.Request, q seen) {
		if q.Method == method {
			http.Redirect(w, r, target, http.StatusTemporaryRedirect)
			return
		}
		if q.Method == http.MethodGet {
			startSSE(w, "")
			<-r.Context().Done()
			return
		}
		mcp("s1")(w, r, q)
	}
}

// Under both policies, no request that carries the session id, a
// Last-Event-ID or the application's headers reaches another origin; under
// 'same-origin' nothing does. Each is refused with REDIRECT_BLOCKED.
func TestRedirectsNeverCarryTheSessionToAnotherOrigin(t *testing.T) {
	for _, policy := range []shim.RedirectPolicy{shim.RedirectSameOrigin, shim.RedirectFollow} {
		for _, kind := range []string{"POST", "resume", "DELETE"} {
			t.Run(policy.String()+"/"+kind, func(t *testing.T) {
				other := newServer(t, mcp("s2"))
				method := kind
				if kind == "resume" {
					method = http.MethodGet
				}
				ts := newServer(t, redirecting(method, other.URL))
				rec := &recorder{}
				tr := newTransport(t, ts, rec, Options{Redirect: policy, SessionID: "s1",
					Header: shim.Header{"Authorization": "Bearer X"}})
				var err error
				switch kind {
				case "POST":
					err = tr.Send(t.Context(), rpcRequest(2, "tools/list"), SendOptions{})
				case "resume":
					require.NoError(t, tr.Send(t.Context(), rpcRequest(2, "tools/list"), SendOptions{ResumptionToken: "e1"}))
					eventually(t, func() bool { return rec.countCode(shim.CodeRedirectBlocked) > 0 }, "the resume GET is refused")
				case "DELETE":
					err = tr.TerminateSession(t.Context())
				}
				if kind != "resume" {
					require.Error(t, err)
					assert.Equal(t, shim.CodeRedirectBlocked, shim.CodeOf(err))
					assert.Equal(t, http.StatusTemporaryRedirect, err.(*shim.Error).Status)
				}
				assert.Zero(t, other.count(nil), "requests that reached the other origin")
			})
		}
	}
}

// Under 'follow', a request without origin-bound state follows a redirect
// to another origin; the transport keeps its endpoint.
func TestRedirectFollowWithoutState(t *testing.T) {
	other := newServer(t, mcp("s2"))
	ts := newServer(t, redirecting(http.MethodPost, other.URL))
	tr := newTransport(t, ts, &recorder{}, Options{Redirect: shim.RedirectFollow})
	require.NoError(t, tr.Send(t.Context(), initializeMsg, SendOptions{}))
	assert.Equal(t, 1, other.count(nil))
	assert.Equal(t, "s2", tr.SessionID())
	// Now the request carries a session id: it stays with the endpoint.
	err := tr.Send(t.Context(), rpcRequest(2, "tools/list"), SendOptions{})
	assert.Equal(t, shim.CodeRedirectBlocked, shim.CodeOf(err))
	assert.Equal(t, 1, other.count(nil))
}

// An invalid header from any source fails the call with INVALID_HEADER,
// naming the header and not its value, and no request goes out.
func TestInvalidHeadersFailClosed(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"static header value", Options{Header: shim.Header{"Authorization": "Bearer good", "X-Evil": "a\r\nb"}}},
		{"static header name", Options{Header: shim.Header{"Authorization": "Bearer good", "X Evil": "b"}}},
		{"hook value", Options{HeaderHook: func(shim.Context) (shim.Header, error) {
			return shim.Header{"Authorization": "Bearer good", "X-Evil": "a\r\nb"}, nil
		}}},
		{"session id", Options{SessionID: "s\n1"}},
		{"protocol version", Options{ProtocolVersion: "2025-06-18\r\nX: y"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newServer(t, mcp("s1"))
			rec := &recorder{}
			tr := newTransport(t, ts, rec, tt.opts)
			err := tr.Send(t.Context(), initializeMsg, SendOptions{})
			require.Error(t, err)
			assert.Equal(t, shim.CodeInvalidHeader, shim.CodeOf(err))
			assert.NotContains(t, err.Error(), "\n")
			assert.NotContains(t, err.Error(), "Bearer")
			assert.Zero(t, ts.count(nil), "no request goes out")
			eventually(t, func() bool { return rec.countCode(shim.CodeInvalidHeader) == 1 }, "reported to onerror as the SDK does")
		})
	}
}

// A failing headers hook has its own code: no request went out, so it is
// no network error.
func TestHeadersHookFailure(t *testing.T) {
	ts := newServer(t, mcp("s1"))
	tr := newTransport(t, ts, &recorder{}, Options{HeaderHook: func(shim.Context) (shim.Header, error) {
		return nil, errors.New("token refresh failed")
	}})
	err := tr.Send(t.Context(), initializeMsg, SendOptions{})
	assert.Equal(t, shim.CodeHeadersHook, shim.CodeOf(err))
	assert.Contains(t, err.Error(), "token refresh failed")
	assert.Zero(t, ts.count(nil))
}

// A session id is sent back byte for byte as received, whatever its bytes.
func TestSessionIDBytesExact(t *testing.T) {
	const id = "caf\xe9-\xff"
	ts := newServer(t, mcp(id))
	tr := newTransport(t, ts, &recorder{}, Options{})
	connect(t, tr)
	require.NoError(t, tr.Send(t.Context(), rpcRequest(2, "tools/list"), SendOptions{}))
	got := ts.requests(isRPC("tools/list"))
	require.Len(t, got, 1)
	assert.Equal(t, id, got[0].Session)
}

// A server's invalid JSON is INVALID_MESSAGE, not INTERNAL_ERROR, which
// is kept for contained panics.
func TestInvalidJSONFromServer(t *testing.T) {
	ts := newServer(t, func(w http.ResponseWriter, r *http.Request, q seen) {
		if q.RPC == "tools/list" {
			writeJSON(w, "", `{"jsonrpc":"2.0","id":2,"result":`)
			return
		}
		mcp("s1")(w, r, q)
	})
	rec := &recorder{}
	tr := newTransport(t, ts, rec, Options{})
	connect(t, tr)
	require.NoError(t, tr.Send(t.Context(), rpcRequest(2, "tools/list"), SendOptions{}))
	eventually(t, func() bool { return rec.countCode(shim.CodeInvalidMessage) == 1 }, "INVALID_MESSAGE reported: %v", rec.errorCodes())
	assert.Zero(t, rec.countCode(shim.CodeInternal))
}
