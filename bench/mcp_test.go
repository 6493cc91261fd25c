package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/esshim/esshim/shim/sse"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// post sends one JSON-RPC message and returns the response.
func post(t *testing.T, url, session, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if session != "" {
		req.Header.Set("Mcp-Session-Id", session)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// messages reads a response's JSON-RPC messages, from JSON or from SSE.
func messages(t *testing.T, resp *http.Response) []map[string]any {
	t.Helper()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out []map[string]any
	if resp.Header.Get("Content-Type") == "application/json" {
		var m map[string]any
		require.NoError(t, json.Unmarshal(body, &m))
		return append(out, m)
	}
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	p := sse.NewParser(sse.ParserOptions{})
	require.NoError(t, p.Feed(body, func(e sse.Event) {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(e.Data), &m))
		out = append(out, m)
	}))
	return out
}

func initialize(t *testing.T, url string) string {
	t.Helper()
	resp := post(t, url, "", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18"}}`)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	session := resp.Header.Get("Mcp-Session-Id")
	require.NotEmpty(t, session)
	msgs := messages(t, resp)
	require.Len(t, msgs, 1)
	assert.Equal(t, "2025-06-18", msgs[0]["result"].(map[string]any)["protocolVersion"], "a supported version is echoed")
	return session
}

func TestMCPServerTools(t *testing.T) {
	for _, jsonResponses := range []bool{false, true} {
		srv := newMCPServer(jsonResponses)
		ts := httptest.NewServer(srv)
		t.Cleanup(ts.Close)
		session := initialize(t, ts.URL)

		resp := post(t, ts.URL, session, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
		assert.Equal(t, http.StatusAccepted, resp.StatusCode)

		msgs := messages(t, post(t, ts.URL, session, `{"jsonrpc":"2.0","id":"e","method":"tools/call","params":{"name":"echo","arguments":{"text":"hé \"x\""}}}`))
		require.Len(t, msgs, 1)
		assert.Equal(t, "e", msgs[0]["id"])
		assert.Equal(t, `hé "x"`, msgs[0]["result"].(map[string]any)["content"].([]any)[0].(map[string]any)["text"])

		msgs = messages(t, post(t, ts.URL, session, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"flood","arguments":{"count":7}}}`))
		if jsonResponses {
			require.Len(t, msgs, 1, "a JSON response carries no notifications")
		} else {
			require.Len(t, msgs, 8, "7 notifications, then the result")
			for _, m := range msgs[:7] {
				assert.Equal(t, "notifications/message", m["method"])
			}
		}
		assert.Equal(t, 2.0, msgs[len(msgs)-1]["id"])

		msgs = messages(t, post(t, ts.URL, session, `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"big","arguments":{"bytes":5000}}}`))
		require.Len(t, msgs, 1)
		assert.Equal(t, 3.0, msgs[0]["id"], "the cached result gets this request's id")
		result := msgs[0]["result"].(map[string]any)
		assert.NotEmpty(t, result["content"].([]any)[0].(map[string]any)["text"])

		msgs = messages(t, post(t, ts.URL, session, `{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"nope"}}`))
		assert.Contains(t, msgs[0], "error")
	}
}

func TestMCPServerSessions(t *testing.T) {
	srv := newMCPServer(false)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)

	resp := post(t, ts.URL, "", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}}`)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "no session")

	session := initialize(t, ts.URL)
	assert.Equal(t, 1, srv.sessionCount())

	// The standalone stream stays open until the session ends.
	req, err := http.NewRequest(http.MethodGet, ts.URL, nil)
	require.NoError(t, err)
	req.Header.Set("Mcp-Session-Id", session)
	get, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer get.Body.Close()
	assert.Equal(t, "text/event-stream", get.Header.Get("Content-Type"))
	ended := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(get.Body)
		ended <- b
	}()

	req, err = http.NewRequest(http.MethodDelete, ts.URL, nil)
	require.NoError(t, err)
	req.Header.Set("Mcp-Session-Id", session)
	del, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	del.Body.Close()
	assert.Equal(t, http.StatusOK, del.StatusCode)
	assert.True(t, bytes.HasPrefix(<-ended, []byte(": standalone")), "DELETE ended the standalone stream")
	assert.Equal(t, 0, srv.sessionCount())

	resp = post(t, ts.URL, session, `{"jsonrpc":"2.0","id":2,"method":"ping"}`)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "the session is gone")
}
