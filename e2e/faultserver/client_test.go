package faultserver

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testClient is a deliberately plain MCP client over net/http: it does only
// what each test tells it to, so that the tests see the server's behaviour
// and nothing a real client would add (no reconnects, no resumption).
type testClient struct {
	t         *testing.T
	url       string
	sessionID string
	nextID    int
	http      *http.Client
}

// newTestClient returns a client for s. It opens a connection per request:
// net/http silently retries an idempotent request whose reused connection
// was reset, which would blur the server's request counts.
func newTestClient(t *testing.T, s *Server) *testClient {
	tr := &http.Transport{DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &testClient{t: t, url: s.URL, http: &http.Client{Transport: tr}}
}

// do sends one request with the session id (if any) and extra headers.
func (c *testClient) do(ctx context.Context, method, body string, header map[string]string) (*http.Response, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url, rd)
	require.NoError(c.t, err)
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
	} else if method == http.MethodGet {
		req.Header.Set("Accept", "text/event-stream")
	}
	if c.sessionID != "" {
		req.Header.Set("Mcp-Session-Id", c.sessionID)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return c.http.Do(req)
}

// post sends body and returns the response, failing the test on a network
// error.
func (c *testClient) post(body string) *http.Response {
	c.t.Helper()
	resp, err := c.do(context.Background(), http.MethodPost, body, nil)
	require.NoError(c.t, err)
	return resp
}

// get opens a GET with the given Last-Event-ID ("" for none).
func (c *testClient) get(ctx context.Context, lastEventID string) *http.Response {
	c.t.Helper()
	h := map[string]string{}
	if lastEventID != "" {
		h["Last-Event-ID"] = lastEventID
	}
	resp, err := c.do(ctx, http.MethodGet, "", h)
	require.NoError(c.t, err)
	return resp
}

// request encodes a JSON-RPC request with the next id.
func (c *testClient) request(method string, params any) (string, int) {
	c.nextID++
	m := map[string]any{"jsonrpc": "2.0", "id": c.nextID, "method": method}
	if params != nil {
		m["params"] = params
	}
	b, err := json.Marshal(m)
	require.NoError(c.t, err)
	return string(b), c.nextID
}

// callTool encodes a tools/call request.
func (c *testClient) callTool(name string, args map[string]any) (string, int) {
	return c.request("tools/call", map[string]any{"name": name, "arguments": args})
}

// initialize runs the handshake (initialize, then notifications/initialized)
// and keeps the session id.
func (c *testClient) initialize() {
	c.t.Helper()
	body, _ := c.request("initialize", map[string]any{
		"protocolVersion": "2025-06-18",
		"capabilities":    map[string]any{},
		"clientInfo":      map[string]any{"name": "test", "version": "0"},
	})
	resp := c.post(body)
	require.Equal(c.t, http.StatusOK, resp.StatusCode)
	c.sessionID = resp.Header.Get("Mcp-Session-Id")
	require.NotEmpty(c.t, c.sessionID)
	msgs := readMessages(c.t, resp)
	require.Len(c.t, msgs, 1)
	require.Equal(c.t, "2025-06-18", msgs[0].Result["protocolVersion"])

	resp = c.post(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	resp.Body.Close()
	require.Equal(c.t, http.StatusAccepted, resp.StatusCode)
}

// sseEvent is one parsed SSE event.
type sseEvent struct {
	ID    string
	Retry int // ms, -1 if absent
	Data  string
}

// sseReader reads events from a response body one at a time.
type sseReader struct {
	sc *bufio.Scanner
}

func newSSEReader(t *testing.T, resp *http.Response) *sseReader {
	t.Helper()
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	return &sseReader{sc: bufio.NewScanner(resp.Body)}
}

// next returns the next event, or false and the read error (nil for a
// clean end, non-nil for a reset) when the body ends first.
func (r *sseReader) next() (sseEvent, bool, error) {
	ev, sawField := sseEvent{Retry: -1}, false
	for r.sc.Scan() {
		line := r.sc.Text()
		if line == "" {
			if sawField {
				return ev, true, nil
			}
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		sawField = true
		switch field {
		case "id":
			ev.ID = value
		case "retry":
			ev.Retry, _ = strconv.Atoi(value)
		case "data":
			if ev.Data != "" {
				ev.Data += "\n"
			}
			ev.Data += value
		}
	}
	return sseEvent{}, false, r.sc.Err()
}

// readSSE reads events until the body ends, and returns them with the read
// error (nil for a clean end, non-nil for a reset).
func readSSE(t *testing.T, resp *http.Response) ([]sseEvent, error) {
	t.Helper()
	defer resp.Body.Close()
	r := newSSEReader(t, resp)
	var events []sseEvent
	for {
		ev, ok, err := r.next()
		if !ok {
			return events, err
		}
		events = append(events, ev)
	}
}

// readN reads exactly n events from a stream that stays open, then closes
// it.
func readN(t *testing.T, resp *http.Response, n int) []sseEvent {
	t.Helper()
	defer resp.Body.Close()
	r := newSSEReader(t, resp)
	events := make([]sseEvent, 0, n)
	for range n {
		ev, ok, err := r.next()
		require.True(t, ok, "stream ended after %d events: %v", len(events), err)
		events = append(events, ev)
	}
	return events
}

// rpcMessage is a decoded JSON-RPC message, for assertions.
type rpcMessage struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params map[string]any  `json:"params"`
	Result map[string]any  `json:"result"`
	Error  map[string]any  `json:"error"`
}

// decode parses the data of every non-priming event.
func decode(t *testing.T, events []sseEvent) []rpcMessage {
	t.Helper()
	var out []rpcMessage
	for _, ev := range events {
		if ev.Data == "" {
			continue
		}
		var m rpcMessage
		require.NoError(t, json.Unmarshal([]byte(ev.Data), &m), ev.Data)
		out = append(out, m)
	}
	return out
}

// readMessages reads every message of a JSON or SSE answer.
func readMessages(t *testing.T, resp *http.Response) []rpcMessage {
	t.Helper()
	if resp.Header.Get("Content-Type") == "application/json" {
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		var msgs []rpcMessage
		if strings.HasPrefix(string(body), "[") {
			require.NoError(t, json.Unmarshal(body, &msgs))
		} else {
			var m rpcMessage
			require.NoError(t, json.Unmarshal(body, &m))
			msgs = []rpcMessage{m}
		}
		return msgs
	}
	events, err := readSSE(t, resp)
	require.NoError(t, err)
	return decode(t, events)
}

// text is the text of the first content block of a tools/call result.
func text(t *testing.T, m rpcMessage) string {
	t.Helper()
	require.Nil(t, m.Error)
	content, ok := m.Result["content"].([]any)
	require.True(t, ok, "result has content: %v", m.Result)
	return content[0].(map[string]any)["text"].(string)
}

// startServer starts a Server and closes it when the test ends.
func startServer(t *testing.T, cfg Config) *Server {
	s := Start(cfg)
	t.Cleanup(s.Close)
	return s
}

// waitFor waits until cond holds, failing the test after a generous bound.
func waitFor(t *testing.T, s *Server, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Wait(ctx, cond); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// isReset reports whether a body read failed rather than ending cleanly.
func isReset(err error) bool {
	return err != nil && !errors.Is(err, io.EOF)
}
