package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/esshim/esshim/e2e/faultserver"
)

// startFaultServer runs a fault server scripted by cfg on its own
// 127.0.0.1 port. That port is its own origin: the test page reaches it
// cross-origin, through CORS, as a web MCP client reaches a real server,
// and its connections never share Chromium's six-per-origin pool with
// another test's. Start it before the page, so that the tab closes first.
func startFaultServer(t *testing.T, cfg faultserver.Config) *faultserver.Server {
	t.Helper()
	s := faultserver.Start(cfg)
	t.Cleanup(s.Close)
	return s
}

// newTransportPage opens the transport test page and creates globalThis.h,
// a Harness (testdata/transport-harness.js) around a transport for url with
// options, a JS object literal.
func newTransportPage(t *testing.T, url, options string) *page {
	t.Helper()
	site := newSite(t)
	p := newPage(t, site.URL+"/transport.html")
	eval[bool](p, `(globalThis.h = new Harness(shim, `+jsString(url)+`, `+options+`), true)`)
	return p
}

// jsString quotes s as a JS string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// waitServer waits until cond holds on the fault server's records, and
// fails the test with what if it does not within timeout.
func waitServer(t *testing.T, s *faultserver.Server, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := s.Wait(ctx, cond); err != nil {
		t.Fatalf("waiting %v for %s: %v", timeout, what, err)
	}
}

// jsError is an error as the harness records it from onerror.
type jsError struct {
	At      int64  `json:"at"` // Date.now()
	Code    string `json:"code"`
	Status  int    `json:"status"`
	Message string `json:"message"`
	IsError bool   `json:"isError"` // instanceof Error
}

// codes lists the errors' codes, for compact assertions and messages.
func codes(errs []jsError) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Code)
	}
	return out
}

func (e jsError) Time() time.Time { return time.UnixMilli(e.At) }

// rpcMessage is a JSON-RPC message as delivered to onmessage.
type rpcMessage struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result *struct {
		ProtocolVersion string `json:"protocolVersion"`
		Content         []struct {
			Text string `json:"text"`
		} `json:"content"`
	} `json:"result"`
	Error *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Data    struct {
			Reason string `json:"reason"`
		} `json:"data"`
	} `json:"error"`
}

// text is the text of a tools/call result, "" if there is none.
func (m rpcMessage) text() string {
	if m.Result == nil || len(m.Result.Content) == 0 {
		return ""
	}
	return m.Result.Content[0].Text
}

// outcome is what Harness.request resolves with.
type outcome struct {
	ID      json.RawMessage `json:"id"`
	SentAt  int64           `json:"sentAt"`
	At      int64           `json:"at"`
	Message rpcMessage      `json:"message"`
}

func (o outcome) Time() time.Time { return time.UnixMilli(o.At) }

// notOnce lists the ids of outcomeCounts() whose count is not 1, with
// their counts.
func notOnce(outcomes map[string]int) []string {
	var out []string
	for id, n := range outcomes {
		if n != 1 {
			out = append(out, fmt.Sprintf("%s: %d", id, n))
		}
	}
	slices.Sort(out)
	return out
}

// snapshot is the transport's snapshot(), as JSON.
type snapshot struct {
	At        int64  `json:"at"`
	Lifecycle int    `json:"lifecycle"`
	SessionID string `json:"sessionId"`
	Streams   []struct {
		ID          int    `json:"id"`
		Kind        string `json:"kind"`
		State       string `json:"state"`
		LastEventID string `json:"lastEventId"`
		Reconnects  int    `json:"reconnects"`
		Events      int    `json:"events"`
	} `json:"streams"`
	Inflight            []json.RawMessage `json:"inflight"`
	Timers              int               `json:"timers"`
	TransportGoroutines int               `json:"transportGoroutines"`
	Goroutines          int               `json:"goroutines"`
	Funcs               int               `json:"funcs"`
	Awaits              int               `json:"awaits"`
}

// kinds lists the kinds of the snapshot's streams, sorted.
func (s snapshot) kinds() []string {
	var k []string
	for _, st := range s.Streams {
		k = append(k, st.Kind)
	}
	slices.Sort(k)
	return k
}

// requestsBy returns the recorded requests with the given HTTP method.
func requestsBy(s *faultserver.Server, httpMethod string) []faultserver.Request {
	var out []faultserver.Request
	for _, r := range s.Requests() {
		if r.HTTPMethod == httpMethod {
			out = append(out, r)
		}
	}
	return out
}

// connectionsOf returns the recorded connections of the given kind.
func connectionsOf(s *faultserver.Server, kind faultserver.ConnKind) []faultserver.Connection {
	var out []faultserver.Connection
	for _, c := range s.Connections() {
		if c.Kind == kind {
			out = append(out, c)
		}
	}
	return out
}

// postConnectionFor returns the POST connection that answered the request
// with the given JSON-RPC id, and false if there is none.
func postConnectionFor(s *faultserver.Server, rpcID string) (faultserver.Connection, bool) {
	reqs := s.Requests()
	for _, c := range s.Connections() {
		if c.Kind == faultserver.ConnPOST && slices.Contains(reqs[c.Request-1].RPCIDs, rpcID) {
			return c, true
		}
	}
	return faultserver.Connection{}, false
}

// countsSummary renders the server's totals in a stable order, for the
// test log (and the leapfrog closing note).
func countsSummary(s *faultserver.Server) string {
	c := s.Counts()
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP %s; JSON-RPC %s; status %s; CORS preflights %d", sortedCounts(c.HTTP), sortedCounts(c.RPC), sortedCounts(c.Status), c.Preflights)
	byKind := map[string]int{}
	for _, conn := range s.Connections() {
		kind := conn.Kind.String()
		if conn.JSON {
			kind = "post-json"
		}
		byKind[kind+"/"+conn.End.String()]++
	}
	fmt.Fprintf(&b, "; connections (kind/end) %s; max open standalone %d", sortedCounts(byKind), s.MaxOpenStandalone())
	return b.String()
}

func sortedCounts[K comparable](m map[K]int) string {
	parts := make([]string, 0, len(m))
	for k, v := range m {
		parts = append(parts, fmt.Sprintf("%v=%d", k, v))
	}
	sort.Strings(parts)
	return "{" + strings.Join(parts, ", ") + "}"
}

// gaps returns the time between consecutive requests.
func gaps(reqs []faultserver.Request) []time.Duration {
	var out []time.Duration
	for i := 1; i < len(reqs); i++ {
		out = append(out, reqs[i].Time.Sub(reqs[i-1].Time))
	}
	return out
}

// browserResendWindow is how close a request may follow the one before
// it and still be the browser's own resend of the same fetch: Chromium
// transparently resends a request once when the reused keep-alive
// connection it went out on is reset before any answer. The transport's
// own reconnect delays are all far longer.
const browserResendWindow = 30 * time.Millisecond

// attempts collapses each request that followed the one before it within
// browserResendWindow into that one, leaving one request per fetch the
// transport made.
func attempts(reqs []faultserver.Request) []faultserver.Request {
	var out []faultserver.Request
	for i, r := range reqs {
		if i > 0 && r.Time.Sub(reqs[i-1].Time) < browserResendWindow {
			continue
		}
		out = append(out, r)
	}
	return out
}
