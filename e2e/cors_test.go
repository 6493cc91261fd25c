package e2e

import (
	"net/http"
	"testing"

	"github.com/esshim/esshim/e2e/mcpserver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// corsServer is the go-sdk example server behind CORS headers a test
// chooses, so that each common misconfiguration can be served exactly.
type corsServer struct {
	allowHeaders  string // Access-Control-Allow-Headers of a preflight
	exposeHeaders string // Access-Control-Expose-Headers ("" sends none)
	unauthorized  bool   // every request but a preflight gets 401 with WWW-Authenticate
}

const (
	goodAllowHeaders  = "Content-Type, Accept, Authorization, Mcp-Protocol-Version, Mcp-Session-Id, Last-Event-ID"
	goodExposeHeaders = "Mcp-Session-Id, Mcp-Protocol-Version, WWW-Authenticate"
)

func (c corsServer) start(t *testing.T) string {
	t.Helper()
	mcp := mcpserver.NewHandler() // no CORS of its own
	t.Cleanup(mcp.Close)
	return newLocalServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
		h.Set("Vary", "Origin")
		if c.exposeHeaders != "" {
			h.Set("Access-Control-Expose-Headers", c.exposeHeaders)
		}
		if r.Method == http.MethodOptions {
			h.Set("Access-Control-Allow-Methods", "GET, POST, DELETE")
			h.Set("Access-Control-Allow-Headers", c.allowHeaders)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if c.unauthorized {
			h.Set("WWW-Authenticate", `Bearer resource_metadata="`+"http://"+r.Host+`/.well-known/oauth-protected-resource"`)
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		mcp.ServeHTTP(w, r)
	})).URL + "/mcp"
}

// TestCORSDiagnostics connects the SDK's Client over esshim, from a page
// of another origin, to servers misconfigured for browsers in exactly the
// ways MCP servers commonly are. Each must be reported, to the caller or
// to onerror, as CORS_BLOCKED with a message that names the header the
// server must send, instead of a bare "Failed to fetch" or a baffling
// later failure; a correctly configured server works with no diagnostic.
//
// With the session id hidden, the go-sdk server makes a new session for
// each POST that comes without one, so connect() succeeds and tools/call
// fails with a JSON-RPC error; what it refuses is the standalone GET
// (400, "GET requires an Mcp-Session-Id header"), whose CORS_BLOCKED goes
// to onerror.
func TestCORSDiagnostics(t *testing.T) {
	t.Parallel()
	type coded struct {
		Code    string `json:"code"`
		Status  int    `json:"status"`
		Message string `json:"message"`
	}
	type outcome struct {
		Echo   string  `json:"echo"`
		Thrown *coded  `json:"thrown"`
		Errors []coded `json:"errors"` // what onerror got
	}
	for _, tc := range []struct {
		name   string
		server corsServer
		status int    // of the CORS_BLOCKED error; 0 for a correct server
		says   string // in its message
	}{
		{"correct", corsServer{allowHeaders: goodAllowHeaders, exposeHeaders: goodExposeHeaders}, 0, ""},
		{"session id not exposed", corsServer{allowHeaders: goodAllowHeaders, exposeHeaders: "Mcp-Protocol-Version, WWW-Authenticate"},
			400, "the server must send Access-Control-Expose-Headers: Mcp-Session-Id"},
		{"preflight refuses mcp-protocol-version", corsServer{allowHeaders: "Content-Type, Mcp-Session-Id", exposeHeaders: goodExposeHeaders},
			0, "the server must send Access-Control-Allow-Headers listing mcp-protocol-version "},
		{"preflight refuses mcp-session-id", corsServer{allowHeaders: "Content-Type, Mcp-Protocol-Version", exposeHeaders: goodExposeHeaders},
			0, "the server must send Access-Control-Allow-Headers listing mcp-session-id "},
		{"WWW-Authenticate not exposed", corsServer{allowHeaders: goodAllowHeaders, exposeHeaders: "Mcp-Session-Id", unauthorized: true},
			401, "the server must send Access-Control-Expose-Headers: WWW-Authenticate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			endpoint := tc.server.start(t)
			p := newPage(t, newSite(t).URL+"/dropin.html")
			got := eval[outcome](p, `(async () => {
				const client = new sdk.Client({ name: 'esshim-cors', version: '0.0.0' });
				const transport = new shim.StreamableHTTPClientTransport(`+jsString(endpoint)+`);
				const coded = (err) => ({ code: String(err.code), status: err.status ?? 0, message: err.message });
				const errors = [];
				client.onerror = (err) => errors.push(coded(err));
				try {
					await client.connect(transport);
					const echo = (await client.callTool({ name: 'echo', arguments: { text: 'cross-origin' } })).content[0].text;
					// Time for the standalone GET to fail, if it were to.
					await new Promise((r) => setTimeout(r, 300));
					await client.close();
					return { echo, errors };
				} catch (err) {
					// onerror may still be on its way (from the standalone GET).
					for (let i = 0; i < 100 && !errors.some((e) => e.code === 'CORS_BLOCKED'); i++) await new Promise((r) => setTimeout(r, 50));
					await client.close();
					return { thrown: coded(err), errors };
				}
			})()`)
			if tc.says == "" {
				assert.Equal(t, "cross-origin", got.Echo)
				assert.Nil(t, got.Thrown)
				assert.Empty(t, got.Errors)
				return
			}
			require.NotNil(t, got.Thrown, "the connect or the tool call fails")
			var diagnosed []coded
			for _, e := range append([]coded{*got.Thrown}, got.Errors...) {
				if e.Code == "CORS_BLOCKED" {
					diagnosed = append(diagnosed, e)
				} else {
					assert.NotContains(t, e.Message, "Access-Control", "only CORS_BLOCKED errors talk about CORS")
				}
			}
			require.NotEmpty(t, diagnosed, "thrown %+v, onerror %+v", got.Thrown, got.Errors)
			for _, e := range diagnosed {
				t.Logf("CORS_BLOCKED (HTTP %d): %s", e.Status, e.Message)
				assert.Equal(t, tc.status, e.Status)
				assert.Contains(t, e.Message, tc.says)
			}
			if tc.name != "session id not exposed" {
				assert.Equal(t, "CORS_BLOCKED", got.Thrown.Code, "connect() itself rejects with the diagnosis")
			}
		})
	}
}
