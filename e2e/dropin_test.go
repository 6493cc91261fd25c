package e2e

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/esshim/esshim/e2e/mcpserver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDropIn is the drop-in proof with real parts: the official MCP
// TypeScript SDK's Client, bundled from npm (dist/test/sdk.js), talks
// through esshim's transport, swapped in for the SDK's own with nothing
// else changed, to a server built on the official Go SDK, on another
// origin. It lists and calls tools, receives progress notifications,
// answers the server's elicitation and sampling requests, receives log
// messages on the standalone stream (pushed from Go, and sent by a tool),
// and terminates the session with DELETE.
func TestDropIn(t *testing.T) {
	t.Parallel()
	handler := mcpserver.NewHandler(mcpserver.WithAllowedOrigin("*"))
	t.Cleanup(handler.Close)
	var mu sync.Mutex
	var seen []seenRequest
	srv := newLocalServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodOptions {
			mu.Lock()
			seen = append(seen, seenRequest{method: r.Method, sessionID: r.Header.Get("Mcp-Session-Id"), lastEventID: r.Header.Get("Last-Event-ID")})
			mu.Unlock()
		}
		handler.ServeHTTP(w, r)
	}))
	url := srv.URL + "/mcp"

	site := newSite(t)
	p := newPage(t, site.URL+"/dropin.html")

	type result struct {
		sdkSession
		Add     map[string]any `json:"add"`
		Ask     string         `json:"ask"`
		Asked   []string       `json:"asked"`
		Sample  string         `json:"sample"`
		Sampled []string       `json:"sampled"`
		Errors  []string       `json:"errors"`
	}
	got := eval[result](p, `(async () => {
		const { Client, ElicitRequestSchema, CreateMessageRequestSchema, LoggingMessageNotificationSchema, SDK_VERSION } = sdk;
		const client = new Client({ name: 'esshim-dropin', version: '0.0.0' }, { capabilities: { elicitation: {}, sampling: {} } });
		const asked = [], sampled = [];
		client.setRequestHandler(ElicitRequestSchema, async (req) => {
			asked.push(req.params.message);
			return { action: 'accept', content: { answer: 'forty-two' } };
		});
		client.setRequestHandler(CreateMessageRequestSchema, async (req) => {
			const prompt = req.params.messages[0].content.text;
			sampled.push(prompt);
			return { model: 'e2e', role: 'assistant', content: { type: 'text', text: 'sampled: ' + prompt } };
		});
		globalThis.logs = [];
		client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => logs.push(n.params.data));
		globalThis.errors = [];
		client.onerror = (err) => errors.push(String(err.code) + ': ' + err.message);

		// The one line an application changes.
		const transport = new shim.StreamableHTTPClientTransport(new URL(`+jsString(url)+`));
		Object.assign(globalThis, { client, transport });
		await client.connect(transport);

		const out = { sdk: SDK_VERSION, sessionId: transport.sessionId, protocolVersion: transport.protocolVersion, server: client.getServerVersion() };
		out.tools = (await client.listTools()).tools.map((t) => t.name);
		out.echo = (await client.callTool({ name: 'echo', arguments: { text: 'hello' } })).content[0].text;
		out.add = (await client.callTool({ name: 'add', arguments: { a: 2, b: 40 } })).structuredContent;
		const notes = [];
		const progress = await client.callTool({ name: 'progress', arguments: { steps: 3, intervalMs: 20 } }, undefined, {
			onprogress: (p) => notes.push(p),
		});
		out.progress = progress.content[0].text;
		out.progressNotes = notes;
		out.ask = (await client.callTool({ name: 'ask', arguments: { question: 'What is the answer?' } })).content[0].text;
		out.sample = (await client.callTool({ name: 'sample', arguments: { prompt: 'say hi' } })).content[0].text;
		Object.assign(out, { asked, sampled });
		await client.setLoggingLevel('info');
		out.errors = errors;
		return out;
	})()`)

	t.Logf("SDK %s, protocol %s, server %v", got.SDK, got.ProtocolVersion, got.Server)
	require.NotEmpty(t, got.SessionID, "connect established a session")
	assert.NotEmpty(t, got.ProtocolVersion, "the Client set the negotiated version on the transport")
	assert.Equal(t, "esshim-example", got.Server["name"])
	assert.ElementsMatch(t, []string{"echo", "add", "progress", "ask", "sample", "notify"}, got.Tools)
	assert.Equal(t, "hello", got.Echo)
	assert.Equal(t, map[string]any{"sum": 42.0}, got.Add)
	assert.Equal(t, "done after 3 steps", got.Progress)
	assert.Len(t, got.ProgressNotes, 3, "progress notifications")
	for i, n := range got.ProgressNotes {
		assert.Equal(t, float64(i+1), n.Progress)
		assert.Equal(t, 3.0, n.Total)
	}
	assert.Equal(t, []string{"What is the answer?"}, got.Asked, "the elicitation request reached the page")
	assert.Equal(t, "accept: forty-two", got.Ask, "the page's answer reached the server")
	assert.Equal(t, []string{"say hi"}, got.Sampled, "the sampling request reached the page")
	assert.Equal(t, "sampled: say hi", got.Sample)
	assert.Empty(t, got.Errors, "client.onerror")

	// A log message pushed from Go travels on the standalone stream.
	p.waitFor(`transport.snapshot().streams.some((s) => s.kind === 'standalone' && s.state === 'open')`, 5*time.Second)
	require.Equal(t, 1, handler.Notify("hello from Go"), "sessions that got the message")
	p.waitFor(`logs.includes('hello from Go')`, 5*time.Second)
	// And one that a tool sends outside its request.
	eval[bool](p, `client.callTool({ name: 'notify', arguments: { text: 'hello from a tool' } }).then(() => true)`)
	p.waitFor(`logs.includes('hello from a tool')`, 5*time.Second)

	type ending struct {
		Logs             []string `json:"logs"`
		StandaloneEvents int      `json:"standaloneEvents"`
		After            *string  `json:"after"`
		Errors           []string `json:"errors"`
	}
	end := eval[ending](p, `(async () => {
		const standalone = transport.snapshot().streams.find((s) => s.kind === 'standalone');
		const standaloneEvents = standalone ? standalone.events : 0;
		await transport.terminateSession();
		const after = transport.sessionId ?? null;
		await client.close();
		return { logs, standaloneEvents, after, errors };
	})()`)
	assert.Equal(t, []string{"hello from Go", "hello from a tool"}, end.Logs, "each log message once")
	assert.GreaterOrEqual(t, end.StandaloneEvents, 2, "the log messages came on the standalone stream")
	assert.Nil(t, end.After, "terminateSession clears the session id")
	assert.Empty(t, end.Errors, "client.onerror")

	// The server saw the DELETE for the session, and forgot the session.
	mu.Lock()
	requests := append([]seenRequest(nil), seen...)
	mu.Unlock()
	counts := map[string]int{}
	deleted := false
	for _, r := range requests {
		counts[r.method]++
		if r.method == http.MethodDelete {
			deleted = r.sessionID == got.SessionID
		}
	}
	t.Logf("the go-sdk server saw %s", sortedCounts(counts))
	assert.Equal(t, 1, counts[http.MethodGet], "GETs: the standalone stream, opened once")
	assert.True(t, deleted, "DELETE with the session id")
	deadline := time.Now().Add(2 * time.Second)
	live := -1
	for time.Now().Before(deadline) {
		live = 0
		for range handler.Server().Sessions() {
			live++
		}
		if live == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	assert.Zero(t, live, "live sessions on the server after terminateSession")
}

// TestDropInProgressBeforeResponse: a tool's last progress notifications
// and its response often arrive in one read. The SDK's Client handles a
// notification one microtask after onmessage returns, but a response at
// once, and a response removes the request's progress handler; so a
// transport must not deliver two messages within one synchronous run, or
// the Client loses the notifications (and reports "Received a progress
// notification for an unknown token" to onerror). The SDK's own transport,
// which awaits a stream read between messages, is the control: the same
// calls must come out the same through esshim's.
func TestDropInProgressBeforeResponse(t *testing.T) {
	t.Parallel()
	handler := mcpserver.NewHandler(mcpserver.WithAllowedOrigin("*"))
	t.Cleanup(handler.Close)
	srv := newLocalServer(t, handler)
	site := newSite(t)
	p := newPage(t, site.URL+"/dropin.html")

	type result struct {
		Calls  []string `json:"calls"`
		Errors []string `json:"errors"`
	}
	run := func(transport string) result {
		return eval[result](p, `(async () => {
			const client = new sdk.Client({ name: 'esshim-progress', version: '0.0.0' });
			const errors = [];
			client.onerror = (err) => errors.push(err.message);
			await client.connect((`+transport+`)(new URL(`+jsString(srv.URL+"/mcp")+`)));
			const calls = [];
			for (let i = 0; i < 5; i++) {
				const seen = [];
				await client.callTool({ name: 'progress', arguments: { steps: 3, intervalMs: 5 } }, undefined, {
					onprogress: (p) => seen.push(p.progress),
				});
				calls.push(seen.join(','));
			}
			await sleep(50);
			await client.close();
			return { calls, errors };
		})()`)
	}
	eval[bool](p, `(globalThis.sleep = (ms) => new Promise((r) => setTimeout(r, ms)), true)`)
	want := []string{"1,2,3", "1,2,3", "1,2,3", "1,2,3", "1,2,3"}

	control := run(`(url) => new sdk.StreamableHTTPClientTransport(url)`)
	require.Equal(t, want, control.Calls, "the SDK's own transport (control)")
	require.Empty(t, control.Errors, "the SDK's own transport (control)")

	got := run(`(url) => new shim.StreamableHTTPClientTransport(url)`)
	assert.Equal(t, want, got.Calls, "progress notifications per call through esshim's transport")
	assert.Empty(t, got.Errors, "client.onerror through esshim's transport")
}

type seenRequest struct {
	method, sessionID, lastEventID string
}

// sdkSession is what the drop-in tests read back from every session of the
// SDK's Client: the handshake, the tools, an echo and a progress call.
type sdkSession struct {
	SDK             string         `json:"sdk"`
	SessionID       string         `json:"sessionId"`
	ProtocolVersion string         `json:"protocolVersion"`
	Server          map[string]any `json:"server"`
	Tools           []string       `json:"tools"`
	Echo            string         `json:"echo"`
	Progress        string         `json:"progress"`
	ProgressNotes   []struct {
		Progress float64 `json:"progress"`
		Total    float64 `json:"total"`
		Message  string  `json:"message"`
	} `json:"progressNotes"`
}
