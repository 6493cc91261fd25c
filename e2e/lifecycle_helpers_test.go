package e2e

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/esshim/esshim/e2e/faultserver"
)

// The lifecycle tests (issue 4) drive testdata/lifecycle-page.html, which
// holds esshim, the official TypeScript SDK and the Recorder of
// testdata/lifecycle-harness.js, against the fault-injection server on its
// own origin. They share startFaultServer, waitServer and jsString with the
// transport tests.

// newLifecyclePage opens the lifecycle test page and creates globalThis.r,
// a Recorder around a transport for url with options, a JS object literal
// (which may refer to page globals).
func newLifecyclePage(t *testing.T, url, options string) *page {
	return newRecorderPage(t, url, options, `{}`)
}

// newLoggedPage is newLifecyclePage with the Recorder logging every fetch,
// for Recorder.fetchGhosts.
func newLoggedPage(t *testing.T, url, options string) *page {
	return newRecorderPage(t, url, options, `{ logFetches: true }`)
}

func newRecorderPage(t *testing.T, url, options, recorderOptions string) *page {
	t.Helper()
	site := newSite(t)
	p := newPage(t, site.URL+"/lifecycle-page.html")
	eval[bool](p, `(globalThis.r = new Recorder(shim, `+jsString(url)+`, `+options+`, `+recorderOptions+`), true)`)
	return p
}

// fetchGhost is an entry of Recorder.fetchGhosts: a fetch the transport
// made while closed, or with another lifecycle's session id.
type fetchGhost struct {
	Why         string `json:"why"`
	At          int64  `json:"at"`
	Method      string `json:"method"`
	SessionID   string `json:"sessionId"`
	LastEventID string `json:"lastEventId"`
	Lifecycle   int    `json:"lifecycle"`
}

// fetchGhosts returns the page's Recorder.fetchGhosts(), and how many
// fetches it logged.
func fetchGhosts(p *page) ([]fetchGhost, int) {
	type result struct {
		Ghosts  []fetchGhost `json:"ghosts"`
		Fetches int          `json:"fetches"`
	}
	r := eval[result](p, `({ ghosts: r.fetchGhosts(), fetches: r.fetches.length })`)
	return r.Ghosts, r.Fetches
}

// lcError is an error as the Recorder records it from onerror, or as
// Recorder.settle records a rejected send.
type lcError struct {
	At      int64  `json:"at"`
	Code    string `json:"code"`
	Status  int    `json:"status"`
	Message string `json:"message"`
	IsError bool   `json:"isError"`
}

func (e lcError) String() string {
	if e.Status != 0 {
		return fmt.Sprintf("%s %d", e.Code, e.Status)
	}
	return e.Code
}

// lcErrorList renders errors as "CODE status" strings, for compact
// assertions.
func lcErrorList(errs []lcError) []string {
	out := []string{}
	for _, e := range errs {
		out = append(out, e.String())
	}
	return out
}

// lcMessage is a JSON-RPC message as onmessage got it: the transport
// tests' rpcMessage, with the lifecycle tests' helpers.
type lcMessage = rpcMessage

// reason is data.reason of a made-up error response, "" for anything
// else. Made-up errors always carry code -32000, which it checks too.
func (m lcMessage) reason() string {
	if m.Error == nil {
		return ""
	}
	if m.Error.Code != -32000 {
		return fmt.Sprintf("code %d: %s", m.Error.Code, m.Error.Message)
	}
	return m.Error.Data.Reason
}

// describe summarizes an outcome message for failure output.
func (m lcMessage) describe() string {
	switch {
	case m.Error != nil:
		return fmt.Sprintf("error %d %q reason %q", m.Error.Code, m.Error.Message, m.Error.Data.Reason)
	case m.Result != nil:
		return fmt.Sprintf("result %q", m.text())
	}
	return "not a response"
}

// lcOutcome is what Recorder.settle resolves with.
type lcOutcome struct {
	ID        json.RawMessage `json:"id"`
	SentAt    int64           `json:"sentAt"`
	At        int64           `json:"at"`
	Message   *lcMessage      `json:"message"`
	SendError *lcError        `json:"sendError"`
}

func (o lcOutcome) Time() time.Time { return time.UnixMilli(o.At) }

// kind classifies the outcome: "result", the made-up error's reason,
// "send:CODE" for a rejected send, or "error:..." for a server's error.
func (o lcOutcome) kind() string {
	switch {
	case o.SendError != nil:
		return "send:" + o.SendError.Code
	case o.Message == nil:
		return "none"
	case o.Message.Error != nil:
		return o.Message.reason()
	}
	return "result"
}

// lcSnapshot is the transport's snapshot() with the leak counters.
type lcSnapshot = snapshot

// streamKinds lists the kinds of the snapshot's streams, sorted.
func (s lcSnapshot) streamKinds() []string {
	k := []string{}
	for _, st := range s.Streams {
		k = append(k, st.Kind)
	}
	slices.Sort(k)
	return k
}

// lcCounts maps outcome kinds to how many outcomes had them.
func lcCounts(outcomes []lcOutcome) map[string]int {
	m := map[string]int{}
	for _, o := range outcomes {
		m[o.kind()]++
	}
	return m
}

// requestsWith returns the recorded requests that satisfy keep.
func requestsWith(s *faultserver.Server, keep func(faultserver.Request) bool) []faultserver.Request {
	var out []faultserver.Request
	for _, r := range s.Requests() {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

// carriesRPC reports whether r carried the JSON-RPC method and, if id is
// not "", the request with that JSON id. (The lifecycle tests never batch.)
func carriesRPC(r faultserver.Request, method, id string) bool {
	return slices.Contains(r.RPCMethods, method) && (id == "" || slices.Contains(r.RPCIDs, id))
}

// rpcCount counts the requests that carried method, with id if id != "".
func rpcCount(s *faultserver.Server, method, id string) int {
	return len(requestsWith(s, func(r faultserver.Request) bool { return carriesRPC(r, method, id) }))
}

// ghosts returns the requests that arrived after the moment after and
// carried the session id or a Last-Event-ID of session generation gen:
// after a restart, a request of the old lifecycle.
func ghosts(s *faultserver.Server, gen int, after time.Time) []string {
	var out []string
	for _, r := range s.Requests() {
		if r.Time.Before(after) {
			continue
		}
		if r.SessionGeneration == gen || r.LastEventGeneration == gen {
			out = append(out, describeRequest(r))
		}
	}
	return out
}

// describeRequest renders a recorded request for failure output.
func describeRequest(r faultserver.Request) string {
	return fmt.Sprintf("#%d %s %v ids %v session g%d last-event-id %q status %d at %s",
		r.Seq, r.HTTPMethod, r.RPCMethods, r.RPCIDs, r.SessionGeneration, r.LastEventID, r.Status, r.Time.Format("15:04:05.000"))
}

// describeRequests renders every recorded request, one a line.
func describeRequests(s *faultserver.Server) string {
	var b strings.Builder
	for _, r := range s.Requests() {
		b.WriteString(describeRequest(r))
		b.WriteByte('\n')
	}
	return b.String()
}

// settleStats summarizes settle times as "n=…, max …, p95 …, median …".
func settleStats(d []time.Duration) string {
	if len(d) == 0 {
		return "n=0"
	}
	s := slices.Clone(d)
	slices.Sort(s)
	pct := func(p float64) time.Duration {
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return s[max(0, min(i, len(s)-1))]
	}
	return fmt.Sprintf("n=%d, max %v, p95 %v, median %v", len(s), s[len(s)-1], pct(0.95), pct(0.5))
}

// since is the time from cause to the browser's Date.now() stamp at (ms).
// The browser stamps whole milliseconds, so a value up to 1 ms below the
// server's stamp of the same moment reads as zero.
func since(cause time.Time, at int64) time.Duration {
	return max(0, time.UnixMilli(at).Sub(cause.Truncate(time.Millisecond)))
}
