package e2e

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The browser tests of issue 10's transport findings: redirects keep
// origin-bound state home (2), headers fail closed (3) and go out byte for
// byte (4), close() is bounded whatever a custom fetch does (6), and every
// error has a code from the one table (7).

// originServer is an origin of its own (a 127.0.0.1 port) that records
// every request that reaches it, preflights included, and answers with
// its handler. It allows the test page through CORS.
type originServer struct {
	URL  string
	mu   sync.Mutex
	seen []originRequest
}

type originRequest struct {
	Method string
	Header http.Header
}

func newOriginServer(t *testing.T, handle http.HandlerFunc) *originServer {
	t.Helper()
	o := &originServer{}
	s := newLocalServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.seen = append(o.seen, originRequest{Method: r.Method, Header: r.Header.Clone()})
		o.mu.Unlock()
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Expose-Headers", "Mcp-Session-Id")
		if r.Method == http.MethodOptions {
			h.Set("Access-Control-Allow-Methods", "GET, POST, DELETE")
			h.Set("Access-Control-Allow-Headers", r.Header.Get("Access-Control-Request-Headers"))
			w.WriteHeader(http.StatusNoContent)
			return
		}
		handle(w, r)
	}))
	o.URL = s.URL
	return o
}

func (o *originServer) requests() []originRequest {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]originRequest(nil), o.seen...)
}

// nonPreflight returns the recorded requests other than CORS preflights.
func (o *originServer) nonPreflight() []originRequest {
	var out []originRequest
	for _, r := range o.requests() {
		if r.Method != http.MethodOptions {
			out = append(out, r)
		}
	}
	return out
}

// mcpJSON is a minimal MCP endpoint: initialize gets session (if any),
// notifications 202, requests an empty result, GET 405, DELETE 200.
func mcpJSON(session string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		case http.MethodDelete:
			w.WriteHeader(http.StatusOK)
			return
		}
		b, _ := io.ReadAll(r.Body)
		body := string(b)
		if !strings.Contains(body, `"id"`) {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		if session != "" && strings.Contains(body, `"initialize"`) {
			w.Header().Set("Mcp-Session-Id", session)
		}
		w.Header().Set("Content-Type", "application/json")
		id := body[strings.Index(body, `"id":`)+5:]
		id = id[:strings.IndexAny(id, ",}")]
		_, _ = w.Write([]byte(`{"jsonrpc":"2.0","id":` + id + `,"result":{"protocolVersion":"2025-06-18","capabilities":{},"serverInfo":{"name":"s","version":"1"}}}`))
	}
}

// redirectAll answers every request with a 307 to target.
func redirectAll(target string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", target)
		w.WriteHeader(http.StatusTemporaryRedirect)
	}
}

// codeResult is what the pages report of one call: its outcome and the
// errors onerror got.
type codeResult struct {
	Code    string   `json:"code"`
	Message string   `json:"message"`
	Status  int      `json:"status"`
	Errors  []string `json:"errors"`
}

// jsOutcome defines outcome(errors, f) in a page: it runs f and returns
// its code ('resolved', or the code it threw or rejected with) and the
// codes onerror pushed to errors meanwhile.
const jsOutcome = `const outcome = async (errors, f) => {
			errors.length = 0;
			try { await f(); return { code: 'resolved', errors: [...errors] }; }
			catch (e) { return { code: e.code, message: e.message, status: e.status || 0, errors: [...errors] }; }
		};
		// settleResume sends a message with a resumption token and waits for
		// onerror to report its GET.
		const settleResume = async (t, errors, id) => {
			await t.send({ jsonrpc: '2.0', id, method: 'tools/list' }, { resumptionToken: 'e1' });
			const t0 = Date.now();
			while (!errors.length && Date.now() - t0 < 10000) await sleep(10);
		};`

// TestSafetyRedirectSameOrigin (finding 2): with the default
// redirectPolicy, a POST, a resume GET and a DELETE redirected to another
// origin are refused with REDIRECT_BLOCKED, and nothing at all reaches that
// origin, neither the session id, nor Last-Event-ID, nor Authorization.
func TestSafetyRedirectSameOrigin(t *testing.T) {
	other := newOriginServer(t, mcpJSON("other"))
	endpoint := newOriginServer(t, redirectAll(other.URL+"/mcp"))
	site := newSite(t)
	p := newPage(t, site.URL+"/transport.html")
	got := eval[map[string]codeResult](p, `(async () => {
		const t = new shim.StreamableHTTPClientTransport(`+jsString(endpoint.URL+"/mcp")+`, {
			sessionId: 's1', requestInit: { headers: { Authorization: 'Bearer X' } } });
		const errors = [];
		t.onerror = (e) => errors.push(e.code);
		`+jsOutcome+`
		await t.start();
		const out = {};
		out.post = await outcome(errors, () => t.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' }));
		out.resume = await outcome(errors, () => settleResume(t, errors, 2));
		out.delete = await outcome(errors, () => t.terminateSession());
		await t.close();
		return out;
	})()`)
	t.Logf("outcomes: %+v", got)
	assert.Equal(t, "REDIRECT_BLOCKED", got["post"].Code, "POST")
	assert.Contains(t, got["post"].Errors, "REDIRECT_BLOCKED", "POST reported to onerror")
	assert.Equal(t, "resolved", got["resume"].Code, "a resume send() resolves at once")
	assert.Contains(t, got["resume"].Errors, "REDIRECT_BLOCKED", "the resume GET")
	assert.Equal(t, "REDIRECT_BLOCKED", got["delete"].Code, "DELETE")
	assert.NotContains(t, got["post"].Message, other.URL, "the error does not name the hidden target")
	assert.Empty(t, other.requests(), "requests that reached the other origin")
	assert.NotEmpty(t, endpoint.nonPreflight(), "the endpoint got the requests")
}

// TestSafetyRedirectFollow (finding 2): with redirectPolicy 'follow', a
// request without origin-bound state follows a redirect to another origin,
// but the session id, Last-Event-ID and the application's headers never
// reach it: such requests are refused with REDIRECT_BLOCKED.
func TestSafetyRedirectFollow(t *testing.T) {
	other := newOriginServer(t, mcpJSON("other-session"))
	endpoint := newOriginServer(t, redirectAll(other.URL+"/mcp"))
	site := newSite(t)
	p := newPage(t, site.URL+"/transport.html")
	got := eval[map[string]codeResult](p, `(async () => {
		`+jsOutcome+`
		const url = `+jsString(endpoint.URL+"/mcp")+`;
		const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '0' } } };
		const out = {};
		{
			const t = new shim.StreamableHTTPClientTransport(url, { redirectPolicy: 'follow' });
			const errors = [];
			t.onerror = (e) => errors.push(e.code);
			await t.start();
			out.plain = await outcome(errors, () => t.send(init));
			out.session = { code: String(t.sessionId) };
			out.post = await outcome(errors, () => t.send({ jsonrpc: '2.0', id: 2, method: 'tools/list' }));
			out.resume = await outcome(errors, () => settleResume(t, errors, 3));
			out.delete = await outcome(errors, () => t.terminateSession());
			await t.close();
		}
		{
			const t = new shim.StreamableHTTPClientTransport(url, { redirectPolicy: 'follow', headers: async () => ({ Authorization: 'Bearer X' }) });
			const errors = [];
			t.onerror = (e) => errors.push(e.code);
			await t.start();
			out.auth = await outcome(errors, () => t.send(init));
			await t.close();
		}
		return out;
	})()`)
	t.Logf("outcomes: %+v", got)
	assert.Equal(t, "resolved", got["plain"].Code, "a request without origin-bound state follows the redirect")
	assert.Equal(t, "other-session", got["session"].Code)
	assert.Equal(t, "REDIRECT_BLOCKED", got["post"].Code, "a POST with the session id")
	assert.Contains(t, got["resume"].Errors, "REDIRECT_BLOCKED", "a GET with Last-Event-ID")
	assert.Equal(t, "REDIRECT_BLOCKED", got["delete"].Code, "a DELETE with the session id")
	assert.Equal(t, "REDIRECT_BLOCKED", got["auth"].Code, "a request with the application's Authorization")
	reqs := other.nonPreflight()
	assert.Len(t, reqs, 1, "only the request without state reached the other origin")
	for _, r := range other.requests() {
		assert.Empty(t, r.Header.Get("Mcp-Session-Id"), "session id at the other origin")
		assert.Empty(t, r.Header.Get("Last-Event-ID"), "Last-Event-ID at the other origin")
		assert.Empty(t, r.Header.Get("Authorization"), "Authorization at the other origin")
		assert.NotContains(t, strings.ToLower(r.Header.Get("Access-Control-Request-Headers")), "authorization")
	}
}

// TestSafetyInvalidHeadersFailClosed (finding 3): an invalid header name or
// value from any source fails the call with INVALID_HEADER, naming the
// header and never showing its value, and no request goes out.
func TestSafetyInvalidHeadersFailClosed(t *testing.T) {
	server := newOriginServer(t, mcpJSON("s1"))
	site := newSite(t)
	p := newPage(t, site.URL+"/transport.html")
	got := eval[map[string]codeResult](p, `(async () => {
		const url = `+jsString(server.URL+"/mcp")+`;
		const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '0' } } };
		const attempt = async (f) => {
			try { await f(); return { code: 'resolved' }; }
			catch (e) { return { code: e.code, message: e.message }; }
		};
		const send = (options) => attempt(async () => {
			const t = new shim.StreamableHTTPClientTransport(url, options);
			await t.start();
			try { await t.send(init); } finally { await t.close(); }
		});
		const out = {};
		out.hookValue = await send({ headers: async () => ({ Authorization: 'Bearer good', 'X-Evil': 'secret\r\nInjected: 1' }) });
		out.hookName = await send({ headers: () => ({ Authorization: 'Bearer good', 'X Evil': 'secret' }) });
		out.hookWide = await send({ headers: () => ({ Authorization: 'Bearer good', 'X-Wide': 'secret\u20ac' }) });
		out.initValue = await send({ requestInit: { headers: { Authorization: 'Bearer good', 'X-Evil': 'secret\nx' } } });
		out.initPairs = await send({ requestInit: { headers: [['Authorization', 'Bearer good'], ['X-Evil:', 'secret']] } });
		out.sessionId = await send({ sessionId: 'secret\r\n' });
		out.protocolVersion = await send({ protocolVersion: 'secret\u0100' });
		out.setProtocolVersion = await attempt(() => new shim.StreamableHTTPClientTransport(url).setProtocolVersion('secret\n'));
		out.eventSource = await attempt(() => new shim.EventSource(url, { headers: { Authorization: 'Bearer good', 'X-Evil': 'secret\r\nb' } }).close());
		return out;
	})()`)
	t.Logf("outcomes: %+v", got)
	for name, r := range got {
		assert.Equal(t, "INVALID_HEADER", r.Code, name)
		assert.NotContains(t, r.Message, "secret", "%s: the error never shows the value", name)
	}
	assert.Contains(t, got["hookValue"].Message, "X-Evil", "the error names the header")
	assert.Len(t, got, 9)
	time.Sleep(200 * time.Millisecond) // a request sent anyway would have arrived
	assert.Empty(t, server.requests(), "no request goes out")
}

// TestSafetyHeaderBytesExact (finding 4): header values are ByteStrings. A
// session id with the Latin-1 bytes caf\xE9-\xFF goes back exactly as
// received, and a header value given as the JS string 'caf\u00e9' goes out
// as the four bytes caf\xE9.
func TestSafetyHeaderBytesExact(t *testing.T) {
	const id = "caf\xe9-\xff"
	server := newOriginServer(t, mcpJSON(id))
	site := newSite(t)
	p := newPage(t, site.URL+"/transport.html")
	sessionID := eval[[]int](p, `(async () => {
		const t = new shim.StreamableHTTPClientTransport(`+jsString(server.URL+"/mcp")+`, { headers: () => ({ 'X-Name': 'caf\u00e9' }) });
		await t.start();
		await t.send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '0' } } });
		await t.send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
		const id = t.sessionId;
		await t.close();
		return [...id].map((c) => c.charCodeAt(0));
	})()`)
	assert.Equal(t, []int{'c', 'a', 'f', 0xE9, '-', 0xFF}, sessionID, "transport.sessionId as fetch's Headers shows it")
	reqs := server.nonPreflight()
	require.Len(t, reqs, 2)
	assert.Equal(t, "caf\xe9", reqs[0].Header.Get("X-Name"), "an application header, byte for byte")
	assert.Equal(t, id, reqs[1].Header.Get("Mcp-Session-Id"), "the session id goes back byte for byte")
}

// TestSafetyCloseBounded (finding 6): with a custom fetch that ignores its
// signal and a server that never answers, close() resolves promptly, the
// pending send() settles, and goroutines, js.Funcs and promise waits return
// to their baseline; for the EventSource too.
func TestSafetyCloseBounded(t *testing.T) {
	release := make(chan struct{})
	server := newOriginServer(t, func(w http.ResponseWriter, r *http.Request) {
		<-release // never answers while the test runs
	})
	t.Cleanup(func() { close(release) }) // before the server's own cleanup, which waits for its handlers
	site := newSite(t)
	p := newPage(t, site.URL+"/transport.html")
	type result struct {
		CloseMs    float64        `json:"closeMs"`
		Send       string         `json:"send"`
		ESCloseMs  float64        `json:"esCloseMs"`
		Baseline   map[string]int `json:"baseline"`
		Final      map[string]int `json:"final"`
		Busy       map[string]int `json:"busy"`
		ServerSeen int            `json:"serverSeen"`
	}
	got := eval[result](p, `(async () => {
		const url = `+jsString(server.URL+"/mcp")+`;
		const ignoring = (u, i) => fetch(u, { method: i.method, headers: i.headers, body: i.body });
		const stats = () => shim.debug.stats();
		await sleep(100);
		const baseline = stats();
		const t = new shim.StreamableHTTPClientTransport(url, { fetch: ignoring });
		await t.start();
		let settled = 'pending';
		t.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' }).then(() => { settled = 'resolved'; }, (e) => { settled = e.code; });
		const sources = [];
		for (let i = 0; i < 3; i++) sources.push(new shim.EventSource(url + '?es=' + i, { fetch: ignoring }));
		await sleep(300); // the requests are out and unanswered
		const busy = stats();
		const c0 = performance.now();
		await t.close();
		const closeMs = performance.now() - c0;
		const e0 = performance.now();
		for (const es of sources) es.close();
		let final = stats();
		while ((final.goroutines > baseline.goroutines || final.funcs > baseline.funcs || final.awaits > baseline.awaits) && performance.now() - e0 < 5000) {
			await sleep(20);
			final = stats();
		}
		const esCloseMs = performance.now() - e0;
		await sleep(50);
		return { closeMs, send: settled, esCloseMs, baseline, busy, final: stats() };
	})()`)
	t.Logf("close() %.0f ms, EventSources back to baseline in %.0f ms; stats baseline %v, busy %v, final %v", got.CloseMs, got.ESCloseMs, got.Baseline, got.Busy, got.Final)
	assert.Less(t, got.CloseMs, 2000.0, "close() resolves promptly")
	assert.Equal(t, "CLOSED", got.Send, "the pending send() settles")
	assert.Greater(t, got.Busy["awaits"], got.Baseline["awaits"], "the fetches were pending")
	for _, k := range []string{"goroutines", "funcs", "awaits"} {
		assert.LessOrEqual(t, got.Final[k], got.Baseline[k], "%s back to the baseline", k)
	}
	assert.GreaterOrEqual(t, len(server.nonPreflight()), 4, "the requests reached the server")
}

// TestSafetyCodedErrors (finding 7): every error has a code from the one
// table: send() of a cyclic object or a BigInt, a constructor with an
// invalid URL, a server's invalid JSON, a headers hook that throws.
func TestSafetyCodedErrors(t *testing.T) {
	server := newOriginServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"jsonrpc":"2.0","id":1,"result":`))
	})
	site := newSite(t)
	p := newPage(t, site.URL+"/transport.html")
	got := eval[map[string]codeResult](p, `(async () => {
		const url = `+jsString(server.URL+"/mcp")+`;
		const attempt = async (f) => {
			try { await f(); return { code: 'resolved' }; }
			catch (e) { return { code: e.code === undefined ? 'none: ' + e : e.code, message: e.message }; }
		};
		const out = {};
		const t = new shim.StreamableHTTPClientTransport(url);
		await t.start();
		const cyclic = { jsonrpc: '2.0', id: 1, method: 'x', params: {} };
		cyclic.params.self = cyclic;
		out.cyclic = await attempt(() => t.send(cyclic));
		out.bigint = await attempt(() => t.send({ jsonrpc: '2.0', id: 1, method: 'x', params: { n: 1n } }));
		out.url = await attempt(() => new shim.StreamableHTTPClientTransport('http://[bad'));
		out.policy = await attempt(() => new shim.StreamableHTTPClientTransport(url, { redirectPolicy: 'sometimes' }));
		const errors = [];
		t.onerror = (e) => errors.push(e.code);
		await t.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
		const t0 = Date.now();
		while (!errors.length && Date.now() - t0 < 5000) await sleep(10);
		out.invalidJSON = { code: errors[0] };
		await t.close();
		const h = new shim.StreamableHTTPClientTransport(url, { headers: () => { throw new Error('token refresh failed'); } });
		await h.start();
		out.hookThrows = await attempt(() => h.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' }));
		await h.close();
		const a = new shim.StreamableHTTPClientTransport(url, { authProvider: { tokens: async () => { throw new Error('no tokens'); } } });
		await a.start();
		out.authProviderThrows = await attempt(() => a.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' }));
		await a.close();
		out.table = { code: Object.keys(shim.codes).join(',') };
		return out;
	})()`)
	t.Logf("outcomes: %+v", got)
	assert.Equal(t, "INVALID_ARGUMENT", got["cyclic"].Code, "send() of a cyclic object")
	assert.Equal(t, "INVALID_ARGUMENT", got["bigint"].Code, "send() of a BigInt")
	assert.Equal(t, "INVALID_ARGUMENT", got["url"].Code, "constructor with an invalid URL")
	assert.Equal(t, "INVALID_ARGUMENT", got["policy"].Code, "an unknown redirectPolicy")
	assert.Equal(t, "INVALID_MESSAGE", got["invalidJSON"].Code, "a server's invalid JSON")
	assert.Equal(t, "HEADERS_HOOK_FAILED", got["hookThrows"].Code, "a headers hook that throws")
	assert.Contains(t, got["hookThrows"].Message, "token refresh failed")
	assert.Equal(t, "HEADERS_HOOK_FAILED", got["authProviderThrows"].Code, "an authProvider whose tokens() throws")
	assert.Contains(t, got["table"].Code, "REDIRECT_BLOCKED")
}
