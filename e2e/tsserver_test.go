package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTypeScriptServer is the drop-in proof against the most common MCP
// server: one built on the official TypeScript SDK (McpServer and its
// StreamableHTTPServerTransport, stateful, on Node's http module:
// npm/tsserver.mjs), as TestDropIn is against the Go SDK's. The SDK's own
// Client, bundled from npm, talks to it from another origin, first through
// the SDK's own transport (the control: the same script must come out the
// same) and then through esshim's. It lists and calls tools, receives
// progress notifications on a POST stream and a log message on the
// standalone GET stream, and terminates the session with DELETE.
//
// The server runs twice: plain, and with the SDK's InMemoryEventStore,
// which servers enable for resumability. With the store every event has an
// id, every POST stream begins with a priming event (an id, `retry: 50` and
// empty data) that the client must skip, and the `poll` tool closes its own
// SSE stream mid-call (the SDK's polling pattern), so the rest of its
// progress and its result come only by resuming that stream with GET and
// Last-Event-ID.
func TestTypeScriptServer(t *testing.T) {
	t.Parallel()
	node := nodeBinary(t)
	for _, v := range []struct {
		name       string
		eventStore bool
		args       []string
	}{
		{name: "plain"},
		{name: "eventstore", eventStore: true, args: []string{"--event-store", "--retry=50"}},
	} {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			srv := startTSServer(t, node, v.args...)
			site := newSite(t)
			p := newPage(t, site.URL+"/dropin.html")
			eval[bool](p, `(globalThis.runTS = `+tsServerScript+`, true)`)
			run := func(kind string) tsRun {
				t.Helper()
				return eval[tsRun](p, `runTS(`+jsString(kind)+`, `+jsString(srv.mcpURL)+`, `+jsString(srv.stateURL)+`, `+boolJS(v.eventStore)+`)`)
			}

			control := run("sdk")
			require.Empty(t, control.Failed, "the SDK's own transport (control) failed; the server or the test is wrong")
			checkTSRun(t, "the SDK's own transport (control)", control, v.eventStore)

			got := run("esshim")
			t.Logf("SDK %s, protocol %s, server %v; esshim's transport: %d ms", got.SDK, got.ProtocolVersion, got.Server, got.Ms)
			if got.Failed != "" {
				t.Logf("esshim snapshot at the failure: %s", got.Snapshot)
			}
			require.Empty(t, got.Failed, "esshim's transport")
			t.Logf("esshim snapshot before terminateSession: %s; after close: %s", got.BeforeTerminate, got.Closed)
			checkTSRun(t, "esshim's transport", got, v.eventStore)
			assert.Contains(t, got.StandaloneKinds, "standalone:open", "esshim had its standalone stream open")
			assert.GreaterOrEqual(t, got.StandaloneEvents, 1, "esshim's standalone stream counted the log message")
			if v.eventStore {
				assert.Contains(t, got.PollKinds, "resume", "esshim resumed the poll call's stream (kind resume)")
				t.Logf("poll call (stream closed by the server, resumed after retry: 50): %d ms with the SDK's transport, %d ms with esshim's", control.PollMs, got.PollMs)
			}
			var closed tsSnapshot
			require.NoError(t, json.Unmarshal([]byte(got.Closed), &closed), "snapshot after close: %s", got.Closed)
			assert.Empty(t, closed.Streams, "streams after terminateSession and close")
			assert.Empty(t, closed.Inflight, "requests in flight after close")
			assert.Zero(t, closed.Timers, "timers after close")

			// What the server saw, per session.
			state := srv.state(t)
			assert.Empty(t, state.Errors, "errors the server's transports reported")
			assert.Zero(t, state.Sessions, "live sessions on the server after terminateSession")
			checkTSRequests(t, "the SDK's own transport (control)", state.Requests, control.SessionID, v.eventStore)
			checkTSRequests(t, "esshim's transport", state.Requests, got.SessionID, v.eventStore)
			t.Logf("%s: %v in all", v.name, time.Since(start).Round(time.Millisecond))
		})
	}
}

// tsServerScript runs the whole session in the page with one transport,
// "sdk" (the SDK's own) or "esshim". A step that throws or times out ends
// the run with failed set to the step and the error, and the transport's
// snapshot, rather than a bare exception.
const tsServerScript = `async (kind, url, stateURL, eventStore) => {
	const { Client, LoggingMessageNotificationSchema, SDK_VERSION } = sdk;
	const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
	const until = async (cond, ms, what) => {
		const deadline = Date.now() + ms;
		while (!(await cond())) {
			if (Date.now() > deadline) throw new Error('timed out waiting for ' + what);
			await sleep(10);
		}
	};
	const t0 = performance.now();
	const client = new Client({ name: 'esshim-tsserver', version: '0.0.0' });
	const errors = [], logs = [];
	client.onerror = (err) => errors.push((err && err.code ? err.code + ': ' : '') + (err && err.message));
	client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => logs.push(n.params.data));
	const transport = kind === 'esshim'
		? new shim.StreamableHTTPClientTransport(new URL(url))
		: new sdk.StreamableHTTPClientTransport(new URL(url));
	const snap = () => (transport.snapshot ? JSON.stringify(transport.snapshot()) : '');
	const opts = { timeout: 5000 };
	const out = { kind, sdk: SDK_VERSION, errors, logs, standaloneKinds: [], pollKinds: [] };
	let step = 'connect';
	try {
		await client.connect(transport);
		Object.assign(out, { sessionId: transport.sessionId, protocolVersion: transport.protocolVersion, server: client.getServerVersion() });
		step = 'tools/list';
		out.tools = (await client.listTools(undefined, opts)).tools.map((t) => t.name);
		step = 'echo';
		out.echo = (await client.callTool({ name: 'echo', arguments: { text: 'hello from the browser' } }, undefined, opts)).content[0].text;
		step = 'progress';
		const notes = [];
		const progress = await client.callTool({ name: 'progress', arguments: { steps: 3, intervalMs: 20 } }, undefined, {
			...opts, onprogress: (p) => notes.push(p),
		});
		out.progress = progress.content[0].text;
		out.progressNotes = notes;

		// The server drops a message for the standalone stream while no GET
		// is open (and, with its event store, replays it only to a GET with
		// a Last-Event-ID): wait until the server has answered the GET.
		step = 'standalone GET';
		const sid = transport.sessionId;
		await until(async () => {
			const st = await (await fetch(stateURL)).json();
			return st.requests.some((r) => r.method === 'GET' && r.sessionId === sid && !r.lastEventId && r.status === 200);
		}, 5000, 'the server to answer the standalone GET');
		if (transport.snapshot) {
			await until(() => transport.snapshot().streams.some((s) => s.kind === 'standalone' && s.state === 'open'), 5000, 'esshim to open its standalone stream');
			out.standaloneKinds = transport.snapshot().streams.map((s) => s.kind + ':' + s.state);
		}
		step = 'notify';
		out.notify = (await client.callTool({ name: 'notify', arguments: { text: 'hello on the standalone stream' } }, undefined, opts)).content[0].text;
		await until(() => logs.length > 0, 5000, 'the log message on the standalone stream');

		if (eventStore) {
			step = 'poll';
			const pollNotes = [], kinds = new Set();
			const watch = transport.snapshot && setInterval(() => transport.snapshot().streams.forEach((s) => kinds.add(s.kind)), 2);
			const p0 = performance.now();
			try {
				const poll = await client.callTool({ name: 'poll', arguments: { steps: 4 } }, undefined, {
					...opts, onprogress: (p) => pollNotes.push(p.progress),
				});
				out.poll = poll.content[0].text;
				out.pollMs = Math.round(performance.now() - p0);
			} finally {
				if (watch) clearInterval(watch);
			}
			out.pollNotes = pollNotes;
			out.pollKinds = [...kinds];
		}
		await sleep(50); // let any late message or error arrive before the checks
		if (transport.snapshot) {
			const standalone = transport.snapshot().streams.find((s) => s.kind === 'standalone');
			out.standaloneEvents = standalone ? standalone.events : -1;
		}
		out.beforeTerminate = snap();
		step = 'terminateSession';
		await transport.terminateSession();
		out.sessionAfter = transport.sessionId ?? null;
		step = 'close';
		await client.close();
		out.closed = snap();
	} catch (err) {
		out.failed = step + ': ' + (err && err.code ? err.code + ': ' : '') + String(err && err.message || err);
		out.snapshot = snap();
		try { await client.close(); } catch {}
	}
	out.ms = Math.round(performance.now() - t0);
	return out;
}`

type tsRun struct {
	sdkSession
	Kind             string    `json:"kind"`
	Notify           string    `json:"notify"`
	Logs             []string  `json:"logs"`
	StandaloneKinds  []string  `json:"standaloneKinds"`
	StandaloneEvents int       `json:"standaloneEvents"`
	Poll             string    `json:"poll"`
	PollNotes        []float64 `json:"pollNotes"`
	PollKinds        []string  `json:"pollKinds"`
	PollMs           int       `json:"pollMs"`
	SessionAfter     *string   `json:"sessionAfter"`
	BeforeTerminate  string    `json:"beforeTerminate"`
	Closed           string    `json:"closed"`
	Errors           []string  `json:"errors"`
	Failed           string    `json:"failed"`
	Snapshot         string    `json:"snapshot"`
	Ms               int       `json:"ms"`
}

type tsSnapshot struct {
	Streams  []any `json:"streams"`
	Inflight []any `json:"inflight"`
	Timers   int   `json:"timers"`
}

func checkTSRun(t *testing.T, who string, got tsRun, eventStore bool) {
	t.Helper()
	require.NotEmpty(t, got.SessionID, "%s: connect established a session", who)
	assert.Equal(t, "2025-11-25", got.ProtocolVersion, "%s: negotiated protocol version", who)
	assert.Equal(t, map[string]any{"name": "esshim-ts-server", "version": "1.0.0"}, got.Server, who)
	assert.Equal(t, []string{"echo", "progress", "notify", "poll"}, got.Tools, who)
	assert.Equal(t, "hello from the browser", got.Echo, who)
	assert.Equal(t, "done after 3 steps", got.Progress, who)
	if assert.Len(t, got.ProgressNotes, 3, "%s: progress notifications", who) {
		for i, n := range got.ProgressNotes {
			assert.Equal(t, float64(i+1), n.Progress, who)
			assert.Equal(t, 3.0, n.Total, who)
			assert.Equal(t, "step "+string(rune('1'+i)), n.Message, who)
		}
	}
	assert.Equal(t, "sent", got.Notify, who)
	assert.Equal(t, []string{"hello on the standalone stream"}, got.Logs, "%s: the log message, once", who)
	if eventStore {
		assert.Equal(t, "polled 4 steps", got.Poll, "%s: the poll call's result, after resuming", who)
		assert.Equal(t, []float64{1, 2, 3, 4}, got.PollNotes, "%s: the poll call's progress, before and after resuming", who)
	}
	assert.Nil(t, got.SessionAfter, "%s: terminateSession clears the session id", who)
	assert.Empty(t, got.Errors, "%s: client.onerror", who)
}

// checkTSRequests checks the HTTP requests of one session as the server saw
// them: every one succeeded, the standalone GET was opened once, the only
// other GETs resumed the poll call's stream (with the event store), and the
// session ended with DELETE.
func checkTSRequests(t *testing.T, who string, all []tsRequest, sessionID string, eventStore bool) {
	t.Helper()
	var mine []tsRequest
	for _, r := range all {
		if r.SessionID == sessionID {
			mine = append(mine, r)
		}
	}
	counts := map[string]int{}
	var resumes []string
	for _, r := range mine {
		key := r.Method
		if r.RPC != "" {
			key += " " + r.RPC
		}
		if r.LastEventID != "" {
			key += " (Last-Event-ID)"
			resumes = append(resumes, r.LastEventID)
		}
		counts[key]++
		assert.Contains(t, []int{200, 202}, r.Status, "%s: status of %s %s", who, r.Method, r.RPC)
		assert.Equal(t, "2025-11-25", r.ProtocolVersion, "%s: MCP-Protocol-Version of %s %s", who, r.Method, r.RPC)
	}
	t.Logf("%s: the TypeScript server saw %s", who, sortedCounts(counts))
	assert.Equal(t, 1, counts["GET"], "%s: standalone GETs", who)
	assert.Equal(t, 1, counts["DELETE"], "%s: DELETEs", who)
	if eventStore {
		// Event ids of the SDK's InMemoryEventStore start with their stream
		// id: the standalone stream's is "_GET_stream", a POST stream's a UUID.
		if assert.Len(t, resumes, 1, "%s: GETs with Last-Event-ID (the poll call's stream resumed once)", who) {
			assert.False(t, strings.HasPrefix(resumes[0], "_GET_stream"), "%s: the resume GET names a POST stream's event, not %q", who, resumes[0])
		}
	} else {
		assert.Empty(t, resumes, "%s: GETs with Last-Event-ID", who)
	}
}

type tsRequest struct {
	Method          string `json:"method"`
	SessionID       string `json:"sessionId"`
	LastEventID     string `json:"lastEventId"`
	ProtocolVersion string `json:"protocolVersion"`
	Status          int    `json:"status"`
	RPC             string `json:"rpc"`
	Authorization   string `json:"authorization"`
}

type tsState struct {
	Requests []tsRequest `json:"requests"`
	Errors   []string    `json:"errors"`
	Sessions int         `json:"sessions"`
}

type tsServer struct {
	mcpURL, stateURL string
}

func (s *tsServer) state(t *testing.T) tsState {
	t.Helper()
	resp, err := http.Get(s.stateURL)
	require.NoError(t, err)
	defer resp.Body.Close()
	var st tsState
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
	return st
}

// nodeBinary finds node. It is a prerequisite of make test (npm ci and the
// SDK bundles need it too), so its absence fails the test.
func nodeBinary(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node not found (%v): the TypeScript SDK server and the Node test need Node 20 or later", err)
	}
	return path
}

// startTSServer runs npm/tsserver.mjs on 127.0.0.1 and stops it when the
// test ends.
func startTSServer(t *testing.T, node string, args ...string) *tsServer {
	t.Helper()
	u := startNodeServer(t, node, "npm/tsserver.mjs", args...)
	return &tsServer{mcpURL: u, stateURL: strings.TrimSuffix(u, "/mcp") + "/_state"}
}

// startNodeServer runs a Node MCP server script of npm/ on 127.0.0.1 and
// stops it when the test ends; it returns the URL the script prints once
// listening. Its stderr (tsserver.mjs: one line per request it serves) goes
// to the test log. The script also exits by itself when its stdin closes,
// so it never outlives the test binary.
func startNodeServer(t *testing.T, node, script string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, node, append([]string{script, "--port=0"}, args...)...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 3 * time.Second
	var mu sync.Mutex
	ended := false
	logf := func(format string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		if !ended {
			t.Logf(format, a...)
		}
	}
	listening := make(chan string, 1)
	cmd.Stdout = &lineWriter{line: func(s string) {
		if u, ok := strings.CutPrefix(s, "listening "); ok {
			select {
			case listening <- u:
			default:
			}
			return
		}
		logf("%s stdout: %s", script, s)
	}}
	cmd.Stderr = &lineWriter{line: func(s string) { logf("%s", s) }}
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start(), "start node %s", script)
	var waitErr error
	exited := make(chan struct{})
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		stdin.Close()
		cancel()
		<-exited
		mu.Lock()
		ended = true
		mu.Unlock()
	})
	select {
	case u := <-listening:
		return u
	case <-exited:
		t.Fatalf("%s exited before listening: %v", script, waitErr)
	case <-time.After(30 * time.Second):
		// Loading the SDK takes Node a second when idle, many under load.
		t.Fatalf("%s did not start listening within 30 s", script)
	}
	return ""
}

// lineWriter calls line for every complete line written to it.
type lineWriter struct {
	buf  []byte
	line func(string)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.line(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
}

func boolJS(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
