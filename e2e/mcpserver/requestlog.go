package mcpserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Request is what the server saw of one HTTP request (OPTIONS excluded):
// the headers a client derives from the message body, the session header,
// and how the exchange ended. The browser tests read it to check what a
// transport put on the wire, which the page itself cannot see.
type Request struct {
	ID     int    `json:"id"`
	Method string `json:"method"` // the HTTP method
	URL    string `json:"url"`    // the request target: path and query
	// RPC is the JSON-RPC method of a POST's body ("tools/call"), or
	// "response" for a response the client posted; for a batch, the
	// methods joined by commas.
	RPC string `json:"rpc"`
	// Tool is params.name of a tools/call.
	Tool string `json:"tool,omitempty"`
	// BodyVersion is the protocol version the body's _meta claims
	// (io.modelcontextprotocol/protocolVersion), the 2026-07-28 envelope.
	BodyVersion string `json:"bodyVersion,omitempty"`

	ProtocolVersion string `json:"protocolVersion"` // MCP-Protocol-Version
	McpMethod       string `json:"mcpMethod"`       // Mcp-Method
	McpName         string `json:"mcpName"`         // Mcp-Name
	SessionID       string `json:"sessionId"`       // Mcp-Session-Id
	LastEventID     string `json:"lastEventId"`     // Last-Event-ID
	// Params holds the Mcp-Param-* headers, by canonical name
	// ("Mcp-Param-Region"), with their values as sent.
	Params map[string]string `json:"params,omitempty"`

	Status int       `json:"status"`
	Start  time.Time `json:"start"`
	// Ended is when the server finished with the request.
	Ended time.Time `json:"ended"`
	// ClientClosed is when the request's context ended while the server
	// was still serving it: the client closed the connection (aborted the
	// fetch). Zero if the server finished first.
	ClientClosed time.Time `json:"clientClosed"`
	// ToolStarted is when the slow tool began serving this request.
	ToolStarted time.Time `json:"toolStarted"`
	// ToolCancelled is when the slow tool serving this request saw its
	// context cancelled. Zero if it never was.
	ToolCancelled time.Time `json:"toolCancelled"`
	// Cut is set when the cut tool broke this request's stream, at CutAt.
	Cut   bool      `json:"cut"`
	CutAt time.Time `json:"cutAt"`
}

// maxLogged bounds the request log: `make run` serves for as long as the
// user likes.
const maxLogged = 2000

// requestIDHeader carries the log entry's id from ServeHTTP to the tools of
// that request (a tool sees its request's headers, not its connection).
const requestIDHeader = "X-Mcpserver-Request"

// requestLog is the server's record of requests, and the place tools find
// the stream of their own request.
type requestLog struct {
	mu      sync.Mutex
	next    int
	entries []*Request
	streams map[int]*cuttableWriter
}

func (l *requestLog) begin(r *http.Request, w *cuttableWriter) *Request {
	e := &Request{
		Method:          r.Method,
		URL:             r.URL.RequestURI(),
		ProtocolVersion: r.Header.Get("Mcp-Protocol-Version"),
		McpMethod:       r.Header.Get("Mcp-Method"),
		McpName:         r.Header.Get("Mcp-Name"),
		SessionID:       r.Header.Get("Mcp-Session-Id"),
		LastEventID:     r.Header.Get("Last-Event-Id"),
		Start:           time.Now(),
	}
	for name, values := range r.Header {
		if strings.HasPrefix(name, "Mcp-Param-") {
			if e.Params == nil {
				e.Params = map[string]string{}
			}
			e.Params[name] = strings.Join(values, ", ")
		}
	}
	if r.Method == http.MethodPost && r.Body != nil {
		body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
		r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err == nil {
			e.RPC, e.Tool, e.BodyVersion = describeBody(body)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.next++
	e.ID = l.next
	l.entries = append(l.entries, e)
	if len(l.entries) > maxLogged {
		l.entries = l.entries[len(l.entries)-maxLogged:]
	}
	if l.streams == nil {
		l.streams = map[int]*cuttableWriter{}
	}
	l.streams[e.ID] = w
	r.Header.Set(requestIDHeader, strconv.Itoa(e.ID))
	return e
}

// clientClosed notes that e's context ended while the server served it.
func (l *requestLog) clientClosed(e *Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e.Ended.IsZero() && e.ClientClosed.IsZero() {
		e.ClientClosed = time.Now()
	}
}

// end records the end of e. ctxErr is its context's error as the server
// finished: set, the client had closed the request first, though the
// watcher of clientClosed may not have run yet.
func (l *requestLog) end(e *Request, status int, ctxErr error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e.Status = status
	e.Ended = time.Now()
	if ctxErr != nil && e.ClientClosed.IsZero() {
		e.ClientClosed = e.Ended
	}
	delete(l.streams, e.ID)
}

// update changes the entry of the request whose headers h are.
func (l *requestLog) update(h http.Header, change func(*Request, *cuttableWriter)) {
	id, err := strconv.Atoi(h.Get(requestIDHeader))
	if err != nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.entries {
		if e.ID == id {
			change(e, l.streams[id])
			return
		}
	}
}

func (l *requestLog) snapshot() []Request {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Request, len(l.entries))
	for i, e := range l.entries {
		out[i] = *e
	}
	return out
}

// describeBody names the JSON-RPC method(s), the tool, and the envelope's
// protocol version of a POST body.
func describeBody(body []byte) (rpc, tool, version string) {
	type message struct {
		Method string          `json:"method"`
		ID     json.RawMessage `json:"id"`
		Params struct {
			Name string         `json:"name"`
			Meta map[string]any `json:"_meta"`
		} `json:"params"`
	}
	var batch []message
	if err := json.Unmarshal(body, &batch); err != nil {
		var one message
		if json.Unmarshal(body, &one) != nil {
			return "", "", ""
		}
		batch = []message{one}
	}
	var methods []string
	for _, m := range batch {
		method := m.Method
		if method == "" {
			method = "response"
		}
		methods = append(methods, method)
		if m.Method == "tools/call" && tool == "" {
			tool = m.Params.Name
		}
		if v, ok := m.Params.Meta["io.modelcontextprotocol/protocolVersion"].(string); ok && version == "" {
			version = v
		}
	}
	return strings.Join(methods, ","), tool, version
}

// errStreamCut is what a write to a cut stream returns.
var errStreamCut = errors.New("mcpserver: the cut tool broke this stream")

// cuttableWriter is the ResponseWriter the go-sdk writes a request's
// response to. It serializes the writes so that the cut tool can break the
// connection under it at any moment, as a network failure would.
type cuttableWriter struct {
	mu     sync.Mutex
	w      http.ResponseWriter
	status int
	cut    bool
}

func (c *cuttableWriter) Header() http.Header { return c.w.Header() }

func (c *cuttableWriter) WriteHeader(status int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cut || c.status != 0 {
		return
	}
	c.status = status
	c.w.WriteHeader(status)
}

func (c *cuttableWriter) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cut {
		return 0, errStreamCut
	}
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c.w.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (c *cuttableWriter) Unwrap() http.ResponseWriter { return c.w }

func (c *cuttableWriter) Flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.cut {
		_ = http.NewResponseController(c.w).Flush()
	}
}

// breakStream sends the response's head and an SSE comment if nothing was
// sent yet, so the client has an open event stream, then closes the
// connection without ending the chunked body: the client's read fails
// mid-stream.
func (c *cuttableWriter) breakStream() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cut {
		return nil
	}
	rc := http.NewResponseController(c.w)
	if c.status == 0 {
		c.w.Header().Set("Content-Type", "text/event-stream")
		c.status = http.StatusOK
		c.w.WriteHeader(http.StatusOK)
	}
	if _, err := io.WriteString(c.w, ": the server cuts this stream\n\n"); err != nil {
		return err
	}
	if err := rc.Flush(); err != nil {
		return err
	}
	conn, _, err := rc.Hijack()
	if err != nil {
		return err
	}
	c.cut = true
	return conn.Close()
}
