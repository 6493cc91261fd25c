package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/esshim/esshim/e2e/mcpserver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// generationKinds are the transports the generation tests run: the SDK's
// own v2 transport (the control) and esshim's.
var generationKinds = []string{"sdk", "esshim"}

// cutTimeoutMs is the request timeout of the cut call. A transport that
// does not settle a lost request waits for it; esshim must settle the call
// well before (within 2 s).
const cutTimeoutMs = 3000

// TestGenerations runs the SDK v2 Client (@modelcontextprotocol/client
// 2.4.0) in a page, over the SDK's own v2 transport (the control) and then
// over esshim's, against 2026-07-28 servers (go-sdk stateless and the
// TypeScript SDK 2.4.0's createMcpHandler) in each negotiation mode, and
// against a stateful go-sdk server (2025 only), from which 'auto' falls
// back to 2025-11-25. Each run lists and calls tools, calls the
// x-mcp-header tool, aborts a slow call through the Client's signal, and
// loses a call's stream to the server's cut; the server's request log shows
// what went on the wire.
//
// The same servers also serve the worker runs (generationsWorker) and the
// SDK v1 runs (generationsSDK1).
func TestGenerations(t *testing.T) {
	t.Parallel()
	goStateless := startGoEraServer(t, true)
	goStateful := startGoEraServer(t, false)
	ts2 := startTS2Server(t)
	for _, server := range []*eraServer{goStateless, ts2} {
		t.Run("worker/"+server.name, func(t *testing.T) {
			t.Parallel()
			generationsWorker(t, server)
		})
		t.Run("sdk1/"+server.name, func(t *testing.T) {
			t.Parallel()
			generationsSDK1(t, server)
		})
	}
	full := []string{"tools", "region", "cancel", "cut"}
	for _, c := range []struct {
		server *eraServer
		mode   string
		steps  []string
	}{
		{goStateless, "legacy", full},
		{goStateless, "auto", full},
		{goStateless, "pin", full},
		{ts2, "legacy", full},
		{ts2, "auto", full},
		{ts2, "pin", full},
		{goStateful, "auto", []string{"tools"}},
	} {
		t.Run(c.server.name+"/"+c.mode, func(t *testing.T) {
			t.Parallel()
			p := newPage(t, newSite(t).URL+"/generations.html")
			for _, kind := range generationKinds {
				who := map[string]string{"sdk": "the SDK's own v2 transport (control)", "esshim": "esshim's transport"}[kind]
				run := strings.NewReplacer(" ", "-", ".", "").Replace(c.server.name) + "-" + c.mode + "-" + kind
				got := eval[genRun](p, `runGeneration(`+jsonString(map[string]any{
					"kind": kind, "mode": c.mode, "url": c.server.mcpURL, "stateURL": c.server.stateURL,
					"run": run, "steps": c.steps, "cutTimeoutMs": cutTimeoutMs,
				})+`)`)
				// Requests may still be closing on the server: let them end.
				time.Sleep(200 * time.Millisecond)
				log := c.server.requests(t, run)
				reportRun(t, who, got, log)
				checkRun(t, who, c.server, got, log)
			}
		})
	}
}

// reportRun logs one run: the facts the README's table of tested
// combinations comes from.
func reportRun(t *testing.T, who string, got genRun, log []mcpserver.Request) {
	t.Helper()
	counts := map[string]int{}
	for _, r := range log {
		counts[r.Method]++
	}
	t.Logf("%s, mode %s: era %s, protocol %s, session %q; onerror %q", who, got.Mode, got.Era, got.ProtocolVersion, got.SessionID, got.Errors)
	if got.Failed != "" {
		t.Logf("%s: FAILED at %s; snapshot %s", who, got.Failed, jsonString(got.Snapshot))
	}
	t.Logf("%s: region without caller headers: %s; with: %s", who, got.Region, got.RegionCallerHeaders)
	t.Logf("%s: cancel: %s; cut: %s", who, got.Cancel, got.Cut)
	t.Logf("%s: the server saw %s", who, sortedCounts(counts))
	for _, r := range log {
		t.Logf("  %s %s %s v=%q m=%q n=%q params=%v session=%q status=%d closed=%v cancelled=%v cut=%v",
			r.Method, r.RPC, r.Tool, r.ProtocolVersion, r.McpMethod, r.McpName, r.Params, r.SessionID, r.Status,
			!r.ClientClosed.IsZero(), !r.ToolCancelled.IsZero(), r.Cut)
	}
}

// checkRun checks one run against what the protocol era it negotiated
// requires.
func checkRun(t *testing.T, who string, server *eraServer, got genRun, log []mcpserver.Request) {
	t.Helper()
	require.Empty(t, got.Failed, "%s", who)
	modern := server.stateless && got.Mode != "legacy"
	if modern {
		assert.Equal(t, "modern", got.Era, "%s: era", who)
		assert.Equal(t, "2026-07-28", got.ProtocolVersion, "%s: negotiated version", who)
	} else {
		assert.Equal(t, "legacy", got.Era, "%s: era", who)
		assert.Equal(t, "2025-11-25", got.ProtocolVersion, "%s: negotiated version", who)
	}
	assert.Equal(t, "hello", got.Echo, "%s: echo", who)
	if !server.stateless {
		assert.NotEmpty(t, got.SessionID, "%s: the stateful server's session", who)
		require.NotEmpty(t, log, "%s: requests", who)
		assert.Equal(t, "server/discover", log[0].RPC, "%s: 'auto' probes first", who)
		assert.Equal(t, "2026-07-28", log[0].BodyVersion, "%s: the probe claims 2026-07-28", who)
		assert.True(t, hasRPC(log, "initialize"), "%s: then falls back to the initialize handshake", who)
		return
	}

	// The x-mcp-header tool. In a page the Client derives no Mcp-Param-*
	// header: a 2026 server rejects the bare call (400, -32020, delivered
	// as the call's JSON-RPC error); the caller's headers make it pass.
	require.NotNil(t, got.RegionCallerHeaders, "%s", who)
	assert.Equal(t, "region=Zürich text=grüezi", got.RegionCallerHeaders.Text, "%s: region with the caller's Mcp-Param-Region", who)
	if modern {
		assert.True(t, got.Region.Error, "%s: region without Mcp-Param-Region is rejected: %s", who, got.Region)
		assert.EqualValues(t, -32020, got.Region.Code, "%s: HEADER_MISMATCH: %s", who, got.Region)
	} else {
		assert.Equal(t, "region=Zürich text=bare", got.Region.Text, "%s: a 2025 request needs no Mcp-Param-*", who)
	}

	// Cancellation through the Client's signal.
	require.NotNil(t, got.Cancel, "%s", who)
	assert.True(t, got.Cancel.Error, "%s: the aborted call rejects", who)
	assert.Less(t, got.Cancel.MS, 2000.0, "%s: the aborted call rejects promptly", who)
	assert.Equal(t, "after cancel", got.AfterCancel, "%s: the next call works", who)
	if modern {
		slow := findTool(log, "slow")
		if assert.NotNil(t, slow, "%s: the slow call reached the server", who) {
			if assert.False(t, slow.ClientClosed.IsZero(), "%s: the server saw the slow call's POST closed", who) {
				delay := slow.ClientClosed.Sub(got.AbortAt)
				t.Logf("%s: the server saw the POST closed %v after the abort", who, delay.Round(time.Millisecond))
				// The bound, for esshim; the control's delay is
				// recorded only (it is the SDK's, not under test here).
				if got.Kind == "esshim" {
					assert.LessOrEqual(t, delay, 500*time.Millisecond, "%s: POST closed within 500 ms of the abort", who)
				}
			}
			assert.False(t, slow.ToolCancelled.IsZero(), "%s: the slow tool's context was cancelled", who)
		}
	}

	// Stream loss: the server cuts the call's stream.
	require.NotNil(t, got.Cut, "%s", who)
	assert.True(t, got.Cut.Error, "%s: the cut call fails: %s", who, got.Cut)
	cut := findTool(log, "cut")
	require.NotNil(t, cut, "%s: the cut call reached the server", who)
	require.True(t, cut.Cut, "%s: the server cut the stream", who)
	t.Logf("%s: the cut call settled %v after the server cut its stream", who, got.Cut.settledAt().Sub(cut.CutAt).Round(time.Millisecond))
	if got.Kind == "esshim" {
		assert.LessOrEqual(t, got.Cut.settledAt().Sub(cut.CutAt), 2*time.Second, "%s: the cut call settles within 2 s: %s", who, got.Cut)
	} else {
		// The SDK 2.4.0 Client wires onRequestStreamEnd only for listen():
		// over its own transport a lost tools/call waits for its timeout.
		assert.Equal(t, "REQUEST_TIMEOUT", got.Cut.Code, "%s: the cut call waits for its timeout: %s", who, got.Cut)
	}
	assert.Equal(t, "after cut", got.AfterCut, "%s: the next call works", who)

	for _, r := range log {
		assert.Empty(t, r.SessionID, "%s: %s %s carried Mcp-Session-Id", who, r.Method, r.RPC)
	}
	if modern {
		checkModernWire(t, who, log)
		assert.True(t, hasParam(log, "Mcp-Param-Region", encodedZurich), "%s: a region call carried Mcp-Param-Region: %s", who, encodedZurich)
	}
	if got.Kind == "esshim" && got.Closed != nil {
		assert.Empty(t, got.Closed.Streams, "%s: streams after close", who)
		assert.Empty(t, got.Closed.Inflight, "%s: requests in flight after close", who)
		assert.Zero(t, got.Closed.Timers, "%s: timers after close", who)
	}
}

// checkModernWire checks what a 2026-07-28 client put on the wire: POSTs
// only (no GET, no DELETE, even after close()), none with a session id,
// each with MCP-Protocol-Version and its Mcp-Method, a tools/call with its
// Mcp-Name.
func checkModernWire(t *testing.T, who string, log []mcpserver.Request) {
	t.Helper()
	require.NotEmpty(t, log, "%s: requests", who)
	for _, r := range log {
		assert.Empty(t, r.SessionID, "%s: %s %s carried Mcp-Session-Id", who, r.Method, r.RPC)
		assert.Equal(t, http.MethodPost, r.Method, "%s: a 2026 client only POSTs, even after close()", who)
		assert.Equal(t, "2026-07-28", r.ProtocolVersion, "%s: %s carried MCP-Protocol-Version", who, r.RPC)
		if r.RPC != "response" {
			assert.Equal(t, r.RPC, r.McpMethod, "%s: Mcp-Method of %s", who, r.RPC)
		}
		if r.RPC == "tools/call" {
			assert.Equal(t, r.Tool, r.McpName, "%s: Mcp-Name of tools/call %s", who, r.Tool)
		}
	}
}

func findTool(log []mcpserver.Request, tool string) *mcpserver.Request {
	for i := range log {
		if log[i].RPC == "tools/call" && log[i].Tool == tool {
			return &log[i]
		}
	}
	return nil
}

func hasRPC(log []mcpserver.Request, rpc string) bool {
	for _, r := range log {
		if r.RPC == rpc {
			return true
		}
	}
	return false
}

func hasParam(log []mcpserver.Request, name, value string) bool {
	for _, r := range log {
		if r.Params[name] == value {
			return true
		}
	}
	return false
}

// generationsWorker runs the SDK v2 Client in a dedicated module
// worker, where there is no window and no document, so the 2.4.0 Client
// derives a tools/call's Mcp-Param-* headers from the tool's input schema
// itself (in a page they come from the caller, see TestGenerations). Every
// call of the x-mcp-header tool, with no headers from the caller, must
// carry Mcp-Param-Region, its non-ASCII value encoded. (The Client reads
// the schema from its tools/list cache, so the run lists the tools first;
// without, its first call goes bare, is rejected with -32020, and is
// retried with the header after a fresh tools/list.)
func generationsWorker(t *testing.T, server *eraServer) {
	p := newPage(t, newSite(t).URL+"/generations.html")
	for _, kind := range generationKinds {
		who := map[string]string{"sdk": "the SDK's own v2 transport (control)", "esshim": "esshim's transport"}[kind] + " in a worker"
		run := strings.NewReplacer(" ", "-", ".", "").Replace(server.name) + "-worker-" + kind
		got := eval[genRun](p, `runInWorker(`+jsonString(map[string]any{
			"kind": kind, "mode": "auto", "url": server.mcpURL, "stateURL": server.stateURL,
			"run": run, "steps": []string{"tools", "region"}, "cutTimeoutMs": cutTimeoutMs,
		})+`)`)
		time.Sleep(200 * time.Millisecond)
		log := server.requests(t, run)
		reportRun(t, who, got, log)
		require.Empty(t, got.Failed, "%s", who)
		assert.False(t, got.HasWindow, "%s: no window, no document", who)
		assert.Equal(t, "2026-07-28", got.ProtocolVersion, "%s", who)
		assert.Equal(t, "region=Zürich text=bare", got.Region.Text, "%s: the Client sent Mcp-Param-Region itself: %s", who, got.Region)
		assert.Equal(t, "region=Zürich text=grüezi", got.RegionCallerHeaders.Text, "%s: %s", who, got.RegionCallerHeaders)
		checkModernWire(t, who, log)
		calls := 0
		for _, r := range log {
			if r.Tool == "region" {
				calls++
				assert.Equal(t, encodedZurich, r.Params["Mcp-Param-Region"], "%s: Mcp-Param-Region of a region call", who)
			}
		}
		assert.Equal(t, 2, calls, "%s: region calls", who)
	}
}

// generationsSDK1 is the regression: a 2026 server still accepts 2025
// clients, so the SDK v1 Client (@modelcontextprotocol/sdk 1.32.2) over
// esshim works against the stateless servers, as over its own transport.
func generationsSDK1(t *testing.T, server *eraServer) {
	type result struct {
		Failed          string   `json:"failed"`
		ProtocolVersion string   `json:"protocolVersion"`
		SessionID       string   `json:"sessionId"`
		Tools           []string `json:"tools"`
		Echo            string   `json:"echo"`
		Region          string   `json:"region"`
		Errors          []string `json:"errors"`
	}
	p := newPage(t, newSite(t).URL+"/generations.html")
	for _, transport := range []string{"sdk.StreamableHTTPClientTransport", "shim.StreamableHTTPClientTransport"} {
		got := eval[result](p, `(async () => {
			const out = { errors: [] };
			const client = new sdk.Client({ name: 'esshim-sdk1', version: '0.0.0' });
			client.onerror = (err) => out.errors.push(String(err.message));
			const transport = new `+transport+`(new URL(`+jsString(server.mcpURL)+`));
			try {
				await client.connect(transport);
				out.protocolVersion = transport.protocolVersion;
				out.sessionId = transport.sessionId ?? '';
				out.tools = (await client.listTools()).tools.map((t) => t.name);
				out.echo = (await client.callTool({ name: 'echo', arguments: { text: 'hello' } })).content[0].text;
				out.region = (await client.callTool({ name: 'region', arguments: { region: 'Zürich' } })).content[0].text;
				await client.close();
			} catch (err) {
				out.failed = String(err && err.message || err);
			}
			return out;
		})()`)
		t.Logf("SDK v1 Client over %s: %+v", transport, got)
		require.Empty(t, got.Failed, "%s", transport)
		assert.Equal(t, "2025-11-25", got.ProtocolVersion, "%s", transport)
		assert.Empty(t, got.SessionID, "%s: a stateless server has no sessions", transport)
		assert.Subset(t, got.Tools, []string{"echo", "slow", "region", "cut"}, "%s", transport)
		assert.Equal(t, "hello", got.Echo, "%s", transport)
		assert.Equal(t, "region=Zürich text=", got.Region, "%s", transport)
	}
}
