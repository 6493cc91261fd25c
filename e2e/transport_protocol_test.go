package e2e

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/esshim/esshim/e2e/faultserver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The protocol basics of the transport issue, in a real browser against the
// fault server on another origin: what every request carries, what a
// response may be, and how errors look to the application.

// TestProtocolHeaders checks the protocol's headers on every POST, GET and
// DELETE: Accept and Content-Type; Mcp-Session-Id from the initialize
// response on, and MCP-Protocol-Version once set; then that
// terminateSession sends DELETE and forgets the id. It also checks the
// sessionId and protocolVersion options, which resume a known session.
func TestProtocolHeaders(t *testing.T) {
	t.Parallel()
	s := startFaultServer(t, faultserver.Config{})
	p := newTransportPage(t, s.URL, `{}`)

	type result struct {
		SessionID      string  `json:"sessionId"`
		Version        string  `json:"version"`
		Echo           outcome `json:"echo"`
		AfterTerminate *string `json:"afterTerminate"`
	}
	got := eval[result](p, `(async () => {
		await h.connect('2025-06-18');
		const echo = await h.callTool('echo', { text: 'hi' });
		while (!h.t.snapshot().streams.some((s) => s.kind === 'standalone' && s.state === 'open')) await sleep(5);
		const sessionId = h.t.sessionId, version = h.t.protocolVersion;
		await h.t.terminateSession();
		return { sessionId, version, echo, afterTerminate: h.t.sessionId ?? null };
	})()`)

	sess := s.Sessions()
	require.Len(t, sess, 1)
	assert.Equal(t, sess[0].ID, got.SessionID, "sessionId is the one the server issued")
	assert.Equal(t, "2025-06-18", got.Version)
	assert.Equal(t, "hi", got.Echo.Message.text())
	assert.Nil(t, got.AfterTerminate, "sessionId is undefined after terminateSession")
	assert.True(t, sess[0].Deleted, "DELETE ended the session on the server")

	reqs := s.Requests()
	var methods []string
	for _, r := range reqs {
		methods = append(methods, r.HTTPMethod+" "+strings.Join(r.RPCMethods, ","))
	}
	// The standalone GET opens on its own once notifications/initialized
	// is accepted, so it and the tools/call may come in either order.
	require.Len(t, methods, 5, "requests: %v", methods)
	assert.Equal(t, []string{"POST initialize", "POST notifications/initialized"}, methods[:2])
	assert.ElementsMatch(t, []string{"GET ", "POST tools/call"}, methods[2:4])
	assert.Equal(t, "DELETE ", methods[4])
	for i, r := range reqs {
		h := r.Header
		switch r.HTTPMethod {
		case http.MethodPost:
			assert.Equal(t, "application/json, text/event-stream", h.Get("Accept"), "request %d", i+1)
			assert.Equal(t, "application/json", h.Get("Content-Type"), "request %d", i+1)
		case http.MethodGet:
			assert.Equal(t, "text/event-stream", h.Get("Accept"), "request %d", i+1)
			assert.Empty(t, h.Get("Content-Type"), "request %d", i+1)
			assert.Empty(t, h.Get("Last-Event-ID"), "request %d", i+1)
		}
		if i == 0 {
			assert.Empty(t, r.SessionID, "initialize carries no session id")
			assert.Empty(t, r.ProtocolVersion, "initialize carries no version unless the application set one")
			continue
		}
		assert.Equal(t, got.SessionID, r.SessionID, "request %d (%s) carries Mcp-Session-Id", i+1, methods[i])
		assert.Equal(t, "2025-06-18", r.ProtocolVersion, "request %d (%s) carries MCP-Protocol-Version", i+1, methods[i])
	}

	// A second transport resumes a known session: sessionId and
	// protocolVersion go out on its first request, with no initialize.
	s2 := startFaultServer(t, faultserver.Config{})
	sessionID := initializeByHand(t, s2)
	got2 := eval[outcome](p, `(async () => {
		const h2 = new Harness(shim, `+jsString(s2.URL)+`, { sessionId: `+jsString(sessionID)+`, protocolVersion: '2025-03-26' });
		await h2.t.start();
		return h2.callTool('echo', { text: 'resumed session' });
	})()`)
	assert.Equal(t, "resumed session", got2.Message.text())
	r := s2.Requests()[len(s2.Requests())-1]
	assert.Equal(t, []string{"tools/call"}, r.RPCMethods)
	assert.Equal(t, sessionID, r.SessionID)
	assert.Equal(t, "2025-03-26", r.ProtocolVersion)
}

// initializeByHand runs the handshake against s from Go and returns the
// session id, for tests that give a transport a known session.
func initializeByHand(t *testing.T, s *faultserver.Server) string {
	t.Helper()
	post := func(body, sessionID string) *http.Response {
		req, err := http.NewRequest(http.MethodPost, s.URL, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if sessionID != "" {
			req.Header.Set("Mcp-Session-Id", sessionID)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		return resp
	}
	resp := post(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"go","version":"0"}}}`, "")
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	id := resp.Header.Get("Mcp-Session-Id")
	require.NotEmpty(t, id)
	resp = post(`{"jsonrpc":"2.0","method":"notifications/initialized"}`, id)
	resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	return id
}

// TestRequestInitAndHeadersHook checks that requestInit's headers and the
// async headers() hook reach every request, POST, GET and DELETE alike;
// that the hook is awaited afresh before each one (a token that changes is
// sent as changed); and that the protocol's own headers win over the
// application's.
func TestRequestInitAndHeadersHook(t *testing.T) {
	t.Parallel()
	s := startFaultServer(t, faultserver.Config{})
	p := newTransportPage(t, s.URL, `(() => {
		let n = 0;
		globalThis.hookCalls = () => n;
		return {
			requestInit: { headers: { 'X-Static': 'from requestInit', 'Accept': 'text/html' }, credentials: 'include', mode: 'cors' },
			headers: async () => {
				const token = 'Bearer token-' + ++n;
				await sleep(5); // a token refresh takes a while
				return { Authorization: token };
			},
		};
	})()`)

	hookCalls := eval[int](p, `(async () => {
		await h.connect();
		await h.callTool('echo', { text: 'authorized' });
		while (!h.t.snapshot().streams.some((s) => s.kind === 'standalone' && s.state === 'open')) await sleep(5);
		await h.t.terminateSession();
		return hookCalls();
	})()`)

	reqs := s.Requests()
	seen := map[string]bool{}
	byMethod := map[string]int{}
	for i, r := range reqs {
		byMethod[r.HTTPMethod]++
		assert.Equal(t, "from requestInit", r.Header.Get("X-Static"), "request %d (%s)", i+1, r.HTTPMethod)
		auth := r.Header.Get("Authorization")
		assert.True(t, strings.HasPrefix(auth, "Bearer token-"), "request %d (%s): Authorization %q", i+1, r.HTTPMethod, auth)
		assert.False(t, seen[auth], "request %d (%s) reuses %q: the hook must run before every request", i+1, r.HTTPMethod, auth)
		seen[auth] = true
		if r.HTTPMethod == http.MethodPost {
			assert.Equal(t, "application/json, text/event-stream", r.Header.Get("Accept"), "protocol headers win")
		}
	}
	assert.Equal(t, map[string]int{"POST": 3, "GET": 1, "DELETE": 1}, byMethod)
	assert.Equal(t, len(reqs), hookCalls, "one hook call per request")
}

// TestStandaloneNotAllowed: a server without a standalone stream answers
// the GET with 405. That is no error and is never retried.
func TestStandaloneNotAllowed(t *testing.T) {
	t.Parallel()
	s := startFaultServer(t, faultserver.Config{GET: faultserver.GETNotAllowed})
	p := newTransportPage(t, s.URL, `{ reconnectionOptions: { initialReconnectionDelay: 50, maxReconnectionDelay: 100, reconnectionDelayGrowFactor: 1.5, maxRetries: 5 } }`)

	type result struct {
		Errors   []jsError `json:"errors"`
		Echo     outcome   `json:"echo"`
		Snapshot snapshot  `json:"snapshot"`
	}
	got := eval[result](p, `(async () => {
		await h.connect();
		await sleep(1000);
		const echo = await h.callTool('echo', { text: 'no stream needed' });
		return { errors: h.errors, echo, snapshot: h.t.snapshot() };
	})()`)

	gets := requestsBy(s, http.MethodGet)
	require.Len(t, gets, 1, "one GET, never retried")
	assert.Equal(t, http.StatusMethodNotAllowed, gets[0].Status)
	assert.Empty(t, codes(got.Errors), "405 is not an error")
	assert.Empty(t, got.Snapshot.Streams)
	assert.Equal(t, "no stream needed", got.Echo.Message.text())
}

// TestSendErrors checks what send() rejects with when the POST gets no
// usable answer: an Error with a string code and, where HTTP was involved,
// the status; the same error goes to onerror, as in the TypeScript SDK;
// and the request gets no other outcome.
func TestSendErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		reply    faultserver.Reply
		code     string
		status   int
		contains string
	}{
		{"500", faultserver.Reply{Status: 500, Header: map[string]string{"Content-Type": "text/plain"}, Body: "boom"}, "HTTP_ERROR", 500, "boom"},
		{"403", faultserver.Reply{Status: 403}, "HTTP_ERROR", 403, ""},
		{"html", faultserver.Reply{Header: map[string]string{"Content-Type": "text/html"}, Body: "<html></html>"}, "UNEXPECTED_CONTENT_TYPE", 200, "text/html"},
		{"octet-stream", faultserver.Reply{Header: map[string]string{"Content-Type": "application/octet-stream"}, Body: "{}"}, "UNEXPECTED_CONTENT_TYPE", 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reply := tc.reply
			s := startFaultServer(t, faultserver.Config{Intercept: func(r faultserver.Request) *faultserver.Reply {
				if slices.Contains(r.RPCMethods, "tools/call") {
					return &reply
				}
				return nil
			}})
			p := newTransportPage(t, s.URL, `{}`)

			type result struct {
				Rejected jsError        `json:"rejected"`
				Errors   []jsError      `json:"errors"`
				Outcomes map[string]int `json:"outcomes"`
				Snapshot snapshot       `json:"snapshot"`
				Echo     outcome        `json:"echo"`
			}
			got := eval[result](p, `(async () => {
				await h.connect();
				let rejected = null;
				try {
					await h.callTool('echo', { text: 'refused' });
				} catch (err) {
					rejected = { code: err.code, status: err.status, message: err.message, isError: err instanceof Error };
				}
				await sleep(200);
				return { rejected, errors: h.errors, outcomes: h.outcomeCounts(), snapshot: h.t.snapshot() };
			})()`)

			assert.True(t, got.Rejected.IsError, "send rejects with an Error")
			assert.Equal(t, tc.code, got.Rejected.Code)
			assert.Equal(t, tc.status, got.Rejected.Status)
			assert.Contains(t, got.Rejected.Message, tc.contains)
			require.Len(t, got.Errors, 1, "onerror")
			assert.Equal(t, got.Rejected.Code, got.Errors[0].Code)
			assert.Equal(t, got.Rejected.Status, got.Errors[0].Status)
			assert.Equal(t, map[string]int{"1": 1}, got.Outcomes, "no made-up outcome on top of the rejection")
			assert.Empty(t, got.Snapshot.Inflight)
			assert.Equal(t, []string{"standalone"}, got.Snapshot.kinds(), "the session goes on")
		})
	}
}

// TestStandaloneErrors: a failure of the optional standalone stream goes
// to onerror as an Error with code and status, and never kills the POST
// channel.
func TestStandaloneErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		reply  faultserver.Reply
		code   string
		status int
	}{
		{"500", faultserver.Reply{Status: 500}, "HTTP_ERROR", 500},
		{"wrong content type", faultserver.Reply{Header: map[string]string{"Content-Type": "text/plain"}, Body: "hello"}, "UNEXPECTED_CONTENT_TYPE", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startFaultServer(t, faultserver.Config{Intercept: faultserver.FailAfter(http.MethodGet, 0, tc.reply)})
			p := newTransportPage(t, s.URL, `{ reconnectionOptions: { initialReconnectionDelay: 50, maxReconnectionDelay: 1000, reconnectionDelayGrowFactor: 1.5, maxRetries: 1 } }`)

			type result struct {
				Errors []jsError `json:"errors"`
				Echo   outcome   `json:"echo"`
			}
			got := eval[result](p, `(async () => {
				await h.connect();
				while (!h.errorCodes().includes('RECONNECT_EXHAUSTED')) await sleep(10);
				const echo = await h.callTool('echo', { text: 'POST still works' });
				return { errors: h.errors, echo };
			})()`)

			require.Len(t, got.Errors, 3, "two failed attempts, then exhaustion: %+v", got.Errors)
			for _, e := range got.Errors[:2] {
				assert.True(t, e.IsError)
				assert.Equal(t, tc.code, e.Code)
				assert.Equal(t, tc.status, e.Status)
			}
			assert.Equal(t, "RECONNECT_EXHAUSTED", got.Errors[2].Code)
			assert.Len(t, requestsBy(s, http.MethodGet), 2)
			assert.Equal(t, "POST still works", got.Echo.Message.text())
		})
	}
}

// TestBatch sends a JSON-RPC batch (two requests and a notification) as one
// POST, answered as one SSE stream or one JSON array: each response reaches
// onmessage on its own, once. A batch of notifications only is accepted
// with 202.
func TestBatch(t *testing.T) {
	t.Parallel()
	for _, mode := range []faultserver.ResponseMode{faultserver.ResponsesSSE, faultserver.ResponsesJSON} {
		t.Run(map[faultserver.ResponseMode]string{faultserver.ResponsesSSE: "SSE", faultserver.ResponsesJSON: "JSON"}[mode], func(t *testing.T) {
			t.Parallel()
			s := startFaultServer(t, faultserver.Config{Responses: mode})
			p := newTransportPage(t, s.URL, `{}`)

			type result struct {
				A        outcome        `json:"a"`
				B        outcome        `json:"b"`
				Outcomes map[string]int `json:"outcomes"`
				Errors   []jsError      `json:"errors"`
				Snapshot snapshot       `json:"snapshot"`
			}
			got := eval[result](p, `(async () => {
				await h.connect();
				await h.t.send([
					{ jsonrpc: '2.0', id: 'a', method: 'tools/call', params: { name: 'echo', arguments: { text: 'first' } } },
					{ jsonrpc: '2.0', method: 'notifications/roots/list_changed' },
					{ jsonrpc: '2.0', id: 'b', method: 'tools/call', params: { name: 'echo', arguments: { text: 'second' } } },
				]);
				const [a, b] = await Promise.all([h.outcomeOf('a'), h.outcomeOf('b')]);
				await h.t.send([{ jsonrpc: '2.0', method: 'notifications/roots/list_changed' }, { jsonrpc: '2.0', method: 'notifications/roots/list_changed' }]);
				await sleep(100);
				return { a, b, outcomes: h.outcomeCounts(), errors: h.errors, snapshot: h.t.snapshot() };
			})()`)

			assert.Equal(t, "first", got.A.Message.text())
			assert.Equal(t, "second", got.B.Message.text())
			assert.Equal(t, map[string]int{"1": 1, `"a"`: 1, `"b"`: 1}, got.Outcomes)
			assert.Empty(t, codes(got.Errors))
			assert.Empty(t, got.Snapshot.Inflight)

			var batches []faultserver.Request
			for _, r := range requestsBy(s, http.MethodPost) {
				if len(r.RPCMethods) > 1 {
					batches = append(batches, r)
				}
			}
			require.Len(t, batches, 2, "each batch is one POST")
			assert.Equal(t, []string{"tools/call", "notifications/roots/list_changed", "tools/call"}, batches[0].RPCMethods)
			assert.Equal(t, []string{`"a"`, `"b"`}, batches[0].RPCIDs)
			assert.Equal(t, http.StatusOK, batches[0].Status)
			assert.Equal(t, http.StatusAccepted, batches[1].Status)
			assert.Equal(t, 1, s.DeliveryCount(1, `"a"`))
			assert.Equal(t, 1, s.DeliveryCount(1, `"b"`))
		})
	}
}

// TestPrimingEventsNotDelivered: every stream opens with a priming event
// (an id, a retry and empty data). Those are not messages: onmessage gets
// the JSON-RPC messages only, and no error comes of them; their ids still
// count as resumption tokens.
func TestPrimingEventsNotDelivered(t *testing.T) {
	t.Parallel()
	s := startFaultServer(t, faultserver.Config{
		POST:       faultserver.StreamPlan{Priming: true, Retry: time.Second},
		Standalone: faultserver.StreamPlan{Priming: true, Retry: time.Second},
	})
	p := newTransportPage(t, s.URL, `{}`)

	type result struct {
		Messages []struct {
			Message map[string]any `json:"message"`
		} `json:"messages"`
		Tokens []string  `json:"tokens"`
		Errors []jsError `json:"errors"`
	}
	got := eval[result](p, `(async () => {
		await h.connect();
		while (!h.t.snapshot().streams.some((s) => s.kind === 'standalone' && s.lastEventId)) await sleep(5);
		const tokens = [];
		await h.request('tools/call', { name: 'progress', arguments: { steps: 2, intervalMs: 10 }, _meta: { progressToken: 'p' } },
			{ onresumptiontoken: (t) => tokens.push(t) });
		await sleep(100);
		return { messages: h.messages, tokens, errors: h.errors };
	})()`)

	var kinds []string
	for _, m := range got.Messages {
		assert.Equal(t, "2.0", m.Message["jsonrpc"], "a JSON-RPC message: %v", m.Message)
		switch {
		case m.Message["method"] != nil:
			kinds = append(kinds, m.Message["method"].(string))
		default:
			kinds = append(kinds, "response")
		}
	}
	assert.Equal(t, []string{"response", "notifications/progress", "notifications/progress", "response"}, kinds)
	assert.Empty(t, codes(got.Errors))

	// The server wrote a priming event first on every stream.
	written := 0
	for _, c := range s.Connections() {
		require.Positive(t, c.Events, "connection %d", c.ID)
		written += c.Events
	}
	primings := len(s.Connections())
	assert.Equal(t, len(got.Messages)+primings, written, "everything written arrived, priming events excepted")
	post, ok := postConnectionFor(s, "2")
	require.True(t, ok)
	require.Len(t, got.Tokens, 4, "priming, two notifications, response")
	assert.True(t, strings.HasSuffix(got.Tokens[0], "-e0"), "the priming event's id is the first token: %v", got.Tokens)
	assert.Equal(t, post.LastEventID, got.Tokens[3])
}

// TestResumptionToken: an application that kept the last event id of a
// request's stream (from onresumptiontoken) resumes that stream in a new
// transport, as after a page reload: send() with resumptionToken GETs with
// that Last-Event-ID instead of POSTing, and the response that the first
// transport never saw arrives, once, through onmessage.
func TestResumptionToken(t *testing.T) {
	t.Parallel()
	s := startFaultServer(t, faultserver.Config{POST: faultserver.StreamPlan{Priming: true}})
	p := newTransportPage(t, s.URL, `{}`)

	type result struct {
		Token    string         `json:"token"`
		Outcome  outcome        `json:"outcome"`
		Outcomes map[string]int `json:"outcomes"`
		Errors   []jsError      `json:"errors"`
		Kinds    []string       `json:"kinds"`
		Tokens   []string       `json:"tokens"`
	}
	got := eval[result](p, `(async () => {
		await h.connect();
		const message = { jsonrpc: '2.0', id: 'slow', method: 'tools/call', params: { name: 'sleep', arguments: { ms: 400 } } };
		let token = '';
		await h.t.send(message, { onresumptiontoken: (t) => { token = t; } });
		while (!token) await sleep(2);
		const sessionId = h.t.sessionId, version = h.t.protocolVersion;
		await h.t.close(); // the page goes away before the answer

		const h2 = new Harness(shim, `+jsString(s.URL)+`, { sessionId, protocolVersion: version });
		await h2.t.start();
		const tokens = [];
		const answer = h2.outcomeOf('slow');
		await h2.t.send(message, { resumptionToken: token, onresumptiontoken: (t) => tokens.push(t) });
		const kinds = h2.t.snapshot().streams.map((s) => s.kind);
		const outcome = { id: 'slow', ...(await answer) };
		await sleep(100);
		return { token, outcome, outcomes: h2.outcomeCounts(), errors: h2.errors, kinds, tokens };
	})()`)

	assert.Equal(t, "slept 400 ms", got.Outcome.Message.text())
	assert.Equal(t, map[string]int{`"slow"`: 1}, got.Outcomes)
	assert.Empty(t, codes(got.Errors))
	assert.Equal(t, []string{"resume"}, got.Kinds, "the resumed stream, right after send()")
	assert.NotEmpty(t, got.Tokens, "onresumptiontoken reports the resumed stream's ids")

	assert.Equal(t, 1, s.Counts().RPC["tools/call"], "resuming does not POST the request again")
	var resumes []faultserver.Request
	for _, r := range requestsBy(s, http.MethodGet) {
		if r.LastEventID != "" {
			resumes = append(resumes, r)
		}
	}
	require.Len(t, resumes, 1)
	assert.Equal(t, got.Token, resumes[0].LastEventID)
	assert.Equal(t, 1, s.DeliveryCount(1, `"slow"`), "the response reached the wire once: on the resume GET")
}
