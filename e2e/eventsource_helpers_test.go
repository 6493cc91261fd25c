package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// esNoContentType makes a reply send no Content-Type header at all.
const esNoContentType = "-"

// esReply is one scripted answer of an SSE test server.
type esReply struct {
	Status      int               // 0 means 200
	ContentType string            // "" means text/event-stream; esNoContentType sends none
	Header      map[string]string // extra response headers (Location, CORS, ...)
	Chunks      []string          // body, written and flushed one at a time
	Pause       time.Duration     // between chunks, so that they arrive as separate reads
	Drop        bool              // cut the TCP connection after the chunks: a network error
	DropAfter   time.Duration     // how long to wait before the cut; 0 cuts at once
	Hold        bool              // keep the response open, writing what push sends, until the client leaves
}

// esRequest is what the server saw of one request.
type esRequest struct {
	Method      string
	URL         string // path and query
	LastEventID string
	HasLastID   bool
	Accept      string
	Body        string
	Header      http.Header
	At          time.Time
}

// esScript serves its replies in order, one per request, repeating the last
// one once they run out, and records every request. It is an http.Handler.
type esScript struct {
	t       *testing.T
	replies []esReply
	quit    chan struct{}
	// cors, when set, is the Access-Control-Allow-Origin of every reply
	// ("*" or "echo" for the request's Origin with credentials allowed);
	// preflights are then answered without using up a reply.
	cors string

	mu          sync.Mutex
	requests    []esRequest
	preflights  []esRequest
	ended       []time.Time // when each reply finished, by request index
	held        map[chan string]struct{}
	disconnects int
	changed     chan struct{} // closed and replaced on every change
}

// newESScript returns a script whose held responses end when the test does.
func newESScript(t *testing.T, replies ...esReply) *esScript {
	s := &esScript{t: t, replies: replies, quit: make(chan struct{}), held: map[chan string]struct{}{}, changed: make(chan struct{})}
	t.Cleanup(func() { close(s.quit) })
	return s
}

func (s *esScript) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *esScript) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.cors != "" {
		h := w.Header()
		if s.cors == "echo" {
			h.Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
			h.Set("Access-Control-Allow-Credentials", "true")
		} else {
			h.Set("Access-Control-Allow-Origin", s.cors)
		}
	}
	body, _ := io.ReadAll(r.Body)
	id, hasID := r.Header["Last-Event-Id"]
	seen := esRequest{
		Method: r.Method, URL: r.URL.RequestURI(), HasLastID: hasID, Accept: r.Header.Get("Accept"),
		Body: string(body), Header: r.Header.Clone(), At: time.Now(),
	}
	if hasID {
		seen.LastEventID = id[0]
	}
	if s.cors != "" && r.Method == http.MethodOptions {
		s.mu.Lock()
		s.preflights = append(s.preflights, seen)
		s.notifyLocked()
		s.mu.Unlock()
		w.Header().Set("Access-Control-Allow-Headers", r.Header.Get("Access-Control-Request-Headers"))
		w.Header().Set("Access-Control-Allow-Methods", r.Header.Get("Access-Control-Request-Method"))
		w.WriteHeader(http.StatusNoContent)
		return
	}
	s.mu.Lock()
	n := len(s.requests)
	s.requests = append(s.requests, seen)
	s.ended = append(s.ended, time.Time{})
	s.notifyLocked()
	s.mu.Unlock()

	rp := s.replies[min(n, len(s.replies)-1)]
	s.serve(w, r, rp)

	s.mu.Lock()
	s.ended[n] = time.Now()
	s.notifyLocked()
	s.mu.Unlock()
}

func (s *esScript) serve(w http.ResponseWriter, r *http.Request, rp esReply) {
	status := rp.Status
	if status == 0 {
		status = 200
	}
	contentType := rp.ContentType
	if contentType == "" {
		contentType = "text/event-stream"
	}
	if rp.Drop {
		s.serveAndDrop(w, status, contentType, rp)
		return
	}
	h := w.Header()
	for k, v := range rp.Header {
		h.Set(k, v)
	}
	if contentType == esNoContentType {
		h["Content-Type"] = nil // no header, and no sniffing either
	} else {
		h.Set("Content-Type", contentType)
	}
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store")
	}
	w.WriteHeader(status)
	flusher := w.(http.Flusher)
	flusher.Flush()
	for i, c := range rp.Chunks {
		if i > 0 && rp.Pause > 0 {
			time.Sleep(rp.Pause)
		}
		_, _ = io.WriteString(w, c)
		flusher.Flush()
	}
	if !rp.Hold {
		return
	}
	ch := make(chan string, 16)
	s.mu.Lock()
	s.held[ch] = struct{}{}
	s.notifyLocked()
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.held, ch)
		s.disconnects++
		s.notifyLocked()
		s.mu.Unlock()
	}()
	for {
		select {
		case text := <-ch:
			_, _ = io.WriteString(w, text)
			flusher.Flush()
		case <-r.Context().Done():
			return
		case <-s.quit:
			return
		}
	}
}

// serveAndDrop writes a chunked response by hand and closes the TCP
// connection without the final chunk: the browser sees a network error
// after the data.
func (s *esScript) serveAndDrop(w http.ResponseWriter, status int, contentType string, rp esReply) {
	header := w.Header().Clone() // CORS headers set before
	for k, v := range rp.Header {
		header.Set(k, v)
	}
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		s.t.Errorf("hijack: %v", err)
		return
	}
	defer conn.Close()
	fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nCache-Control: no-store\r\nTransfer-Encoding: chunked\r\n", status, http.StatusText(status), contentType)
	_ = header.Write(buf)
	buf.WriteString("\r\n")
	_ = buf.Flush()
	for i, c := range rp.Chunks {
		if i > 0 && rp.Pause > 0 {
			time.Sleep(rp.Pause)
		}
		esWriteChunk(buf, c)
	}
	time.Sleep(rp.DropAfter)
}

func esWriteChunk(buf *bufio.ReadWriter, c string) {
	if c == "" {
		return // an empty chunk would end the body
	}
	fmt.Fprintf(buf, "%x\r\n%s\r\n", len(c), c)
	_ = buf.Flush()
}

// push writes text to every response currently held open.
func (s *esScript) push(text string) {
	s.mu.Lock()
	var targets []chan string
	for ch := range s.held {
		targets = append(targets, ch)
	}
	s.mu.Unlock()
	for _, ch := range targets {
		select {
		case ch <- text:
		case <-s.quit:
		}
	}
}

// seen returns a copy of the requests so far.
func (s *esScript) seen() []esRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]esRequest(nil), s.requests...)
}

// seenPreflights returns a copy of the CORS preflights so far.
func (s *esScript) seenPreflights() []esRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]esRequest(nil), s.preflights...)
}

// count returns the number of requests so far.
func (s *esScript) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// endedAt returns when the esReply to request i finished (zero if not yet).
func (s *esScript) endedAt(i int) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i >= len(s.ended) {
		return time.Time{}
	}
	return s.ended[i]
}

// waitUntil waits until cond, checked under the script's lock after every
// change, holds; it fails the test after timeout.
func (s *esScript) waitUntil(what string, timeout time.Duration, cond func(s *esScript) bool) {
	s.t.Helper()
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		ok := cond(s)
		ch := s.changed
		s.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			s.t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
	}
}

// heldCount and disconnectCount are for waitUntil conditions (lock held).
func (s *esScript) heldCount() int       { return len(s.held) }
func (s *esScript) disconnectCount() int { return s.disconnects }

// esEntry is one entry of the harness log (testdata/eventsource-harness.js).
type esEntry struct {
	Kind        string `json:"kind"` // open, error or message
	Type        string `json:"type,omitempty"`
	Data        string `json:"data,omitempty"`
	LastEventID string
	Origin      string `json:"origin,omitempty"`
	ReadyState  int    `json:"readyState"`
	At          int
}

// esWithoutTimes returns the entries with their timestamps cleared, for
// comparisons.
func esWithoutTimes(log []esEntry) []esEntry {
	out := make([]esEntry, len(log))
	for i, e := range log {
		e.At = 0
		out[i] = e
	}
	return out
}

// esJSON renders v as a JS literal.
func esJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}
