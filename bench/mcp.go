package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/esshim/esshim/bench/payload"
)

// mcpServer is a minimal, fast MCP server for Streamable HTTP. It is not
// the example server of e2e/mcpserver: the go-sdk spends more time per
// request than either client transport does, and a benchmark of
// transports must not be a benchmark of the server. It does the least the
// protocol asks (sessions, initialize, tools/call, the standalone GET
// stream, DELETE) and precomputes every large body, so that what the
// figures measure is the browser side.
//
// Tools:
//   - echo {text}: answers text.
//   - flood {count}: sends count notifications/message on the request's
//     stream, then answers. On a JSON-response server it answers at once.
//   - big {bytes}: answers a text content of about that many bytes of JSON
//     (quotes, tabs and non-ASCII included, so the string has escapes),
//     with _meta.chars, the text's length in UTF-16 code units, so the page
//     can check that it got it whole.
type mcpServer struct {
	// jsonResponses answers requests with application/json instead of an
	// SSE stream.
	jsonResponses bool

	nextSession atomic.Int64
	mu          sync.Mutex
	sessions    map[string]chan struct{} // closed when the session is deleted

	floods payload.Cache
	bigs   payload.Cache
}

func newMCPServer(jsonResponses bool) *mcpServer {
	return &mcpServer{jsonResponses: jsonResponses, sessions: map[string]chan struct{}{}}
}

// rpcMessage is the part of a JSON-RPC message the server looks at.
type rpcMessage struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params struct {
		ProtocolVersion string `json:"protocolVersion"`
		Name            string `json:"name"`
		Arguments       struct {
			Text  string `json:"text"`
			Count int    `json:"count"`
			Bytes int    `json:"bytes"`
		} `json:"arguments"`
	} `json:"params"`
}

const latestProtocolVersion = "2025-11-25"

var supportedProtocolVersions = map[string]bool{"2025-11-25": true, "2025-06-18": true, "2025-03-26": true}

func (s *mcpServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		s.servePOST(w, r)
	case http.MethodGet:
		s.serveGET(w, r)
	case http.MethodDelete:
		s.endSession(r.Header.Get("Mcp-Session-Id"))
		w.WriteHeader(http.StatusOK)
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func (s *mcpServer) servePOST(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return
	}
	var m rpcMessage
	if err := json.Unmarshal(body, &m); err != nil {
		http.Error(w, "bench server: expected one JSON-RPC message: "+err.Error(), http.StatusBadRequest)
		return
	}
	if m.Method == "initialize" {
		s.initialize(w, m)
		return
	}
	if _, ok := s.session(r.Header.Get("Mcp-Session-Id")); !ok {
		http.Error(w, "unknown session", http.StatusNotFound)
		return
	}
	if len(m.ID) == 0 || m.Method == "" {
		// A notification, or the client's response to a request.
		w.WriteHeader(http.StatusAccepted)
		return
	}
	switch m.Method {
	case "ping":
		s.answer(w, nil, resultMessage(m.ID, `{}`))
	case "tools/list":
		s.answer(w, nil, resultMessage(m.ID, toolList))
	case "tools/call":
		s.callTool(w, m)
	default:
		s.answer(w, nil, []byte(`{"jsonrpc":"2.0","id":`+string(m.ID)+`,"error":{"code":-32601,"message":"method not found"}}`))
	}
}

func (s *mcpServer) initialize(w http.ResponseWriter, m rpcMessage) {
	version := m.Params.ProtocolVersion
	if !supportedProtocolVersions[version] {
		version = latestProtocolVersion
	}
	id := "bench-" + strconv.FormatInt(s.nextSession.Add(1), 10)
	s.mu.Lock()
	s.sessions[id] = make(chan struct{})
	s.mu.Unlock()
	w.Header().Set("Mcp-Session-Id", id)
	s.answer(w, nil, resultMessage(m.ID, `{"protocolVersion":"`+version+`","capabilities":{"tools":{},"logging":{}},"serverInfo":{"name":"esshim-bench","version":"1.0.0"}}`))
}

func (s *mcpServer) callTool(w http.ResponseWriter, m rpcMessage) {
	args := m.Params.Arguments
	switch m.Params.Name {
	case "echo":
		text, _ := json.Marshal(args.Text)
		s.answer(w, nil, resultMessage(m.ID, `{"content":[{"type":"text","text":`+string(text)+`}]}`))
	case "flood":
		var notes []byte
		if !s.jsonResponses {
			notes = s.floods.Get(args.Count, payload.FloodEvents)
		}
		s.answer(w, notes, resultMessage(m.ID, `{"content":[{"type":"text","text":"sent `+strconv.Itoa(args.Count)+` notifications"}]}`))
	case "big":
		// The 8 MB result is built once; only its id changes.
		s.answer(w, nil, []byte(`{"jsonrpc":"2.0","id":`), m.ID, []byte(`,"result":`), s.bigs.Get(args.Bytes, payload.BigResult), []byte(`}`))
	default:
		s.answer(w, nil, []byte(`{"jsonrpc":"2.0","id":`+string(m.ID)+`,"error":{"code":-32602,"message":"unknown tool"}}`))
	}
}

// answer sends one message, the concatenation of parts, as a JSON body or
// as an SSE stream that starts with the events in before. The parts are
// written as they are, so a large precomputed body is never copied.
func (s *mcpServer) answer(w http.ResponseWriter, before []byte, parts ...[]byte) {
	size := 0
	for _, p := range parts {
		size += len(p)
	}
	if s.jsonResponses {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(size))
		for _, p := range parts {
			_, _ = w.Write(p)
		}
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(before)
	_, _ = w.Write([]byte("event: message\ndata: "))
	for _, p := range parts {
		_, _ = w.Write(p)
	}
	_, _ = w.Write([]byte("\n\n"))
}

// serveGET holds the session's standalone stream open until the client
// goes away or the session ends. It never sends anything: the figures do
// not use it, but a real client opens it, so each one pays for it.
func (s *mcpServer) serveGET(w http.ResponseWriter, r *http.Request) {
	done, ok := s.session(r.Header.Get("Mcp-Session-Id"))
	if !ok {
		http.Error(w, "unknown session", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(": standalone\n\n"))
	w.(http.Flusher).Flush()
	select {
	case <-r.Context().Done():
	case <-done:
	}
}

func (s *mcpServer) session(id string) (chan struct{}, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	done, ok := s.sessions[id]
	return done, ok
}

func (s *mcpServer) endSession(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if done, ok := s.sessions[id]; ok {
		close(done)
		delete(s.sessions, id)
	}
}

// sessionCount reports the live sessions, so a figure can check that its
// clients ended theirs.
func (s *mcpServer) sessionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// close ends every session, so that no standalone stream outlives the run.
func (s *mcpServer) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, done := range s.sessions {
		close(done)
		delete(s.sessions, id)
	}
}

const toolList = `{"tools":[` +
	`{"name":"echo","inputSchema":{"type":"object","properties":{"text":{"type":"string"}}}},` +
	`{"name":"flood","inputSchema":{"type":"object","properties":{"count":{"type":"integer"}}}},` +
	`{"name":"big","inputSchema":{"type":"object","properties":{"bytes":{"type":"integer"}}}}]}`

func resultMessage(id json.RawMessage, result string) []byte {
	return []byte(`{"jsonrpc":"2.0","id":` + string(id) + `,"result":` + result + `}`)
}
