//go:build !js

package transport

import (
	"net/http"
	"strings"
	"testing"

	"github.com/esshim/esshim/shim"
	"github.com/esshim/esshim/shim/httpfetch"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// corsPolicy is what a server's CORS headers allow, applied by
// browserFetcher the way a browser applies them to a cross-origin page.
type corsPolicy struct {
	allowHeaders  []string // Access-Control-Allow-Headers (lower case)
	exposeHeaders []string // Access-Control-Expose-Headers (lower case)
}

// browserFetcher emulates a browser's fetch from a page of another origin:
// a request with a header that needs a preflight and that the policy does
// not allow fails as a network error, without reaching the server; a
// response shows only Content-Type and the exposed headers, and is marked
// CrossOrigin.
func browserFetcher(ts *testServer, policy corsPolicy) shim.Fetcher {
	native := httpfetch.New(ts.Client())
	return shim.FetcherFunc(func(ctx shim.Context, req *shim.Request) (*shim.Response, error) {
		for name, value := range req.Header {
			if !corsSafelisted(name, value) && !contains(policy.allowHeaders, name) {
				return nil, shim.NewError(shim.CodeNetwork, "TypeError: Failed to fetch")
			}
		}
		resp, err := native.Fetch(ctx, req)
		if err != nil {
			return nil, err
		}
		visible := shim.Header{}
		for name, value := range resp.Header {
			if name == "content-type" || contains(policy.exposeHeaders, name) {
				visible[name] = value
			}
		}
		resp.Header, resp.CrossOrigin = visible, true
		return resp, nil
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// strictSession answers like a stateful server: initialize gets session
// s1, a GET without a session id 400, and a POST without one 400 too, or,
// with sessionless (as the go-sdk does), a new session; with wantAuth,
// every request gets 401 with WWW-Authenticate.
func strictSession(wantAuth, sessionless, reset bool) func(w http.ResponseWriter, r *http.Request, q seen) {
	ok := mcp("s1")
	return func(w http.ResponseWriter, r *http.Request, q seen) {
		switch {
		case reset && q.RPC == "tools/list":
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		case sessionless && q.Method == http.MethodPost && q.Session == "":
			w.Header().Set("Mcp-Session-Id", "s2")
			ok(w, r, q)
		case wantAuth:
			w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="http://127.0.0.1/.well-known/oauth-protected-resource"`)
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
		case q.Method == http.MethodGet && q.Session == "":
			http.Error(w, "Bad Request: missing session ID", http.StatusBadRequest)
		case q.RPC != "initialize" && q.Session == "" && q.Method == http.MethodPost:
			http.Error(w, "Bad Request: missing session ID", http.StatusBadRequest)
		default:
			ok(w, r, q)
		}
	}
}

var (
	allProtocolHeaders = []string{"content-type", "mcp-protocol-version", "mcp-session-id", "last-event-id", "authorization"}
	exposed            = []string{"mcp-session-id", "mcp-protocol-version", "www-authenticate"}
)

func without(list []string, drop string) []string {
	var out []string
	for _, x := range list {
		if x != drop {
			out = append(out, x)
		}
	}
	return out
}

// TestCORSDiagnostics: each CORS misconfiguration an MCP server commonly
// has is reported as CORS_BLOCKED naming the header the server must send;
// a correct configuration, a same-origin server and a dead one get none.
func TestCORSDiagnostics(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		policy      corsPolicy
		auth        bool
		sessionless bool // the server makes a new session for a POST without one
		viaGET      bool // the error comes from the standalone GET, to onerror only
		sameOrig    bool
		dead        bool
		reset       bool // the connection of tools/list is reset
		// the error of the first failing Send, "" if the handshake works
		code   shim.Code
		status int
		says   string
	}{
		{name: "session id not exposed", policy: corsPolicy{allProtocolHeaders, without(exposed, "mcp-session-id")},
			code: shim.CodeCORSBlocked, status: 400, says: "Access-Control-Expose-Headers: Mcp-Session-Id"},
		{name: "session id not exposed, sessionless POST accepted", policy: corsPolicy{allProtocolHeaders, without(exposed, "mcp-session-id")},
			sessionless: true, viaGET: true, code: shim.CodeCORSBlocked, status: 400, says: "Access-Control-Expose-Headers: Mcp-Session-Id"},
		{name: "preflight refuses mcp-protocol-version", policy: corsPolicy{without(allProtocolHeaders, "mcp-protocol-version"), exposed},
			code: shim.CodeCORSBlocked, says: "Access-Control-Allow-Headers listing mcp-protocol-version "},
		{name: "preflight refuses mcp-session-id", policy: corsPolicy{without(allProtocolHeaders, "mcp-session-id"), exposed},
			code: shim.CodeCORSBlocked, says: "Access-Control-Allow-Headers listing mcp-session-id "},
		{name: "preflight refuses both", policy: corsPolicy{[]string{"content-type"}, exposed},
			code: shim.CodeCORSBlocked, says: "listing mcp-protocol-version, mcp-session-id "},
		{name: "WWW-Authenticate not exposed", policy: corsPolicy{allProtocolHeaders, without(exposed, "www-authenticate")}, auth: true,
			code: shim.CodeCORSBlocked, status: 401, says: "Access-Control-Expose-Headers: WWW-Authenticate"},
		{name: "401 with WWW-Authenticate exposed", policy: corsPolicy{allProtocolHeaders, exposed}, auth: true,
			code: shim.CodeHTTP, status: 401},
		{name: "correct configuration", policy: corsPolicy{allProtocolHeaders, exposed}},
		{name: "same origin, session id missing", sameOrig: true, policy: corsPolicy{allProtocolHeaders, without(exposed, "mcp-session-id")},
			code: shim.CodeHTTP, status: 400},
		{name: "server down", dead: true, policy: corsPolicy{allProtocolHeaders, exposed}, code: shim.CodeNetwork},
		{name: "connection reset after the handshake", reset: true, policy: corsPolicy{allProtocolHeaders, exposed}, code: shim.CodeNetwork},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := newServer(t, strictSession(tc.auth, tc.sessionless, tc.reset))
			rec := &recorder{}
			opts := Options{URL: ts.URL, Fetcher: browserFetcher(ts, tc.policy), Handler: rec.handler(), Reconnect: fast}
			if tc.sameOrig {
				// What a same-origin page sees: the unexposed header is
				// hidden all the same (as a server that sends none), but
				// the response is not cross-origin.
				cross := opts.Fetcher
				opts.Fetcher = shim.FetcherFunc(func(ctx shim.Context, req *shim.Request) (*shim.Response, error) {
					resp, err := cross.Fetch(ctx, req)
					if resp != nil {
						resp.CrossOrigin = false
					}
					return resp, err
				})
			}
			tr := New(opts)
			require.NoError(t, tr.Start())
			t.Cleanup(func() { waitDone(t, tr.Close()) })
			if tc.dead {
				ts.Close()
			}

			err := tr.Send(t.Context(), initializeMsg, SendOptions{})
			if err == nil {
				tr.SetProtocolVersion("2025-06-18")
				err = tr.Send(t.Context(), initializedMsg, SendOptions{})
			}
			if err == nil {
				err = tr.Send(t.Context(), rpcRequest(1, "tools/list"), SendOptions{})
			}
			if tc.viaGET {
				require.NoError(t, err)
				eventually(t, func() bool { return rec.countCode(tc.code) > 0 }, "the standalone GET reports %s", tc.code)
				e := rec.errors()[0]
				assert.Equal(t, tc.code, e.Code, e.Message)
				assert.Equal(t, tc.status, e.Status)
				assert.Contains(t, e.Message, tc.says)
				return
			}
			if tc.code == "" {
				require.NoError(t, err)
				eventually(t, func() bool { return len(rec.messages()) == 2 }, "initialize and tools/list answered")
				assert.Empty(t, rec.errors())
				return
			}
			require.Error(t, err)
			e := err.(*shim.Error)
			assert.Equal(t, tc.code, e.Code, e.Message)
			assert.Equal(t, tc.status, e.Status)
			assert.Contains(t, e.Message, tc.says)
			if tc.code != shim.CodeCORSBlocked {
				assert.NotContains(t, e.Message, "Access-Control")
			}
			eventually(t, func() bool { return rec.countCode(tc.code) == 1 }, "onerror gets the same error")
			if tc.reset {
				for _, q := range ts.requests(isGET) {
					assert.Equal(t, "s1", q.Session, "only the standalone GET: no probe for headers that passed before")
				}
			}
			if strings.Contains(tc.name, "preflight") {
				// The probes are GETs without a session or a real value.
				for _, q := range ts.requests(isGET) {
					assert.Empty(t, q.Header.Get("Authorization"))
					assert.NotEqual(t, "s1", q.Session)
				}
			}
		})
	}
}
