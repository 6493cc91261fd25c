package e2e

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAuthProvider is the OAuth story of a web client, against a TypeScript
// SDK server that answers 401 without a Bearer token (npm/tsserver.mjs
// --bearer). The SDK's authProvider option is given to esshim's transport:
// with no tokens yet, connect fails with HTTP_ERROR 401 (esshim does not run
// the OAuth flow itself); once the application's flow has stored tokens, the
// client connects again, and every request, the standalone GET and DELETE
// included, carries the token.
func TestAuthProvider(t *testing.T) {
	t.Parallel()
	const token = "secret-token-1"
	srv := startTSServer(t, nodeBinary(t), "--bearer="+token)
	site := newSite(t)
	p := newPage(t, site.URL+"/dropin.html")

	type failure struct {
		Code    string `json:"code"`
		Status  int    `json:"status"`
		Message string `json:"message"`
	}
	type result struct {
		First     failure  `json:"first"`
		Tools     []string `json:"tools"`
		Echo      string   `json:"echo"`
		SessionID string   `json:"sessionId"`
		Asked     int      `json:"asked"`
		Errors    []string `json:"errors"`
		Failed    string   `json:"failed"`
	}
	got := eval[result](p, `(async () => {
	const out = { errors: [], asked: 0 };
	let tokens;
	const authProvider = { tokens: async () => { out.asked++; return tokens; } };
	const url = new URL(`+jsString(srv.mcpURL)+`);
	let transport = new shim.StreamableHTTPClientTransport(url, { authProvider });
	const client = new sdk.Client({ name: 'esshim-auth', version: '0.0.0' });
	try {
		await client.connect(transport);
		out.first = { code: 'connected' };
	} catch (err) {
		out.first = { code: err.code, status: err.status, message: err.message };
	}
	await transport.close();
	// The application's OAuth flow (the SDK's auth()) has stored tokens,
	// and it connects again with a new transport, as the SDK's OAuth
	// example does: the SDK's Client chains a transport's earlier
	// onmessage, so reusing one would deliver every message twice.
	tokens = { access_token: `+jsString(token)+`, token_type: 'Bearer' };
	client.onerror = (err) => out.errors.push((err.code || '') + ' ' + err.message);
	transport = new shim.StreamableHTTPClientTransport(url, { authProvider });
	try {
		await client.connect(transport);
		out.sessionId = transport.sessionId;
		out.tools = (await client.listTools()).tools.map((t) => t.name);
		out.echo = (await client.callTool({ name: 'echo', arguments: { text: 'with a token' } })).content[0].text;
		const until = Date.now() + 5000;
		while (!transport.snapshot().streams.some((s) => s.kind === 'standalone' && s.state === 'open')) {
			if (Date.now() > until) throw new Error('no standalone stream');
			await new Promise((r) => setTimeout(r, 10));
		}
		await transport.terminateSession();
		await client.close();
	} catch (err) {
		out.failed = (err.code || '') + ' ' + err.message;
	}
	return out;
})()`)

	assert.Equal(t, failure{Code: "HTTP_ERROR", Status: 401, Message: got.First.Message}, got.First, "connect without tokens")
	require.Empty(t, got.Failed, "connect with tokens")
	assert.Equal(t, []string{"echo", "progress", "notify", "poll"}, got.Tools)
	assert.Equal(t, "with a token", got.Echo)
	assert.Empty(t, got.Errors, "client.onerror")
	assert.Greater(t, got.Asked, 1, "tokens() is asked before every request")

	// The server's view: one 401 for the initialize without a token, then
	// every request of the session carries it and succeeds.
	state := srv.state(t)
	require.NotEmpty(t, state.Requests)
	first := state.Requests[0]
	assert.Equal(t, tsRequest{Method: "POST", Status: 401}, tsRequest{Method: first.Method, Status: first.Status, Authorization: first.Authorization}, "the first request")
	methods := map[string]int{}
	for _, r := range state.Requests[1:] {
		assert.Equal(t, "Bearer "+token, r.Authorization, "%s %s", r.Method, r.RPC)
		assert.Contains(t, []int{200, 202}, r.Status, "%s %s", r.Method, r.RPC)
		if r.SessionID == got.SessionID {
			methods[r.Method]++
		}
	}
	assert.Equal(t, 1, methods["GET"], "standalone GET with the token")
	assert.Equal(t, 1, methods["DELETE"], "DELETE with the token")
	assert.Empty(t, state.Errors)
}
