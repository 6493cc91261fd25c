package eventsource

import (
	"time"

	"github.com/esshim/esshim/shim"
	"github.com/esshim/esshim/shim/sse"
)

// ReadyState is the EventSource readyState, with the spec's numbers so that
// the JS layer can expose it unchanged.
type ReadyState int

// The three states of an EventSource.
const (
	Connecting ReadyState = 0
	Open       ReadyState = 1
	Closed     ReadyState = 2
)

func (s ReadyState) String() string {
	switch s {
	case Connecting:
		return "CONNECTING"
	case Open:
		return "OPEN"
	case Closed:
		return "CLOSED"
	}
	return "ReadyState(?)"
}

// DefaultReconnectOptions is the policy a Source uses when Options.Reconnect
// is left zero. The 3 s reconnection time is Chromium's default; MaxRetries
// is unlimited because the spec never gives up on a stream that can be
// reestablished.
var DefaultReconnectOptions = shim.ReconnectOptions{
	InitialDelay: 3 * time.Second,
	MaxDelay:     30 * time.Second,
	GrowFactor:   1.5,
	MaxRetries:   -1,
}

// Options describes one EventSource. The JS constructor fills it from its
// url and init dictionary.
type Options struct {
	// URL is the absolute URL of the stream; the JS layer has already
	// resolved it against the document or worker base URL.
	URL string
	// Method is the HTTP method; empty means GET. An extension: the native
	// EventSource can only GET.
	Method string
	// Header holds extra request headers (an extension). Accept defaults to
	// text/event-stream. A Last-Event-ID given here goes out on the first
	// request only: reconnections send the stream's own last event ID, as
	// the spec requires.
	Header shim.Header
	// Body is the request body (an extension); nil means none.
	Body []byte
	// WithCredentials selects the fetch credentials mode "include" instead
	// of the spec's default "same-origin".
	WithCredentials bool
	// Mode and Init are copied into every shim.Request unchanged.
	Mode string
	Init any
	// Fetcher performs the requests. A nil Fetcher fails the connection.
	Fetcher shim.Fetcher
	// Reconnect bounds reconnection. Its zero value means
	// DefaultReconnectOptions. Otherwise zero delays and factor take the
	// defaults, while MaxRetries is taken literally: the number of
	// reconnections allowed without progress, 0 for none, < 0 for no limit.
	//
	// The delays are shim's one policy (see shim.Backoff): the first
	// reconnection after progress waits exactly the stream's retry value (or
	// InitialDelay), as the native EventSource does; each further attempt
	// without progress grows by GrowFactor with jitter, up to MaxDelay, and
	// never below the retry value, however large. Progress is a dispatched event, a changed last event ID, or
	// a connection that stayed open at least the reconnection time (and at
	// least InitialDelay).
	Reconnect shim.ReconnectOptions
	// Exclusive opts out of connection sharing (JS `shared: false`). By
	// default Sources with the same URL, method GET, no body, no Init, the
	// same headers, credentials, mode, reconnect policy, MaxEventSize and the
	// same comparable Fetcher value share one physical connection.
	Exclusive bool
	// MaxEventSize bounds one event in bytes; zero means
	// sse.DefaultMaxEventSize. An event beyond it fails the connection.
	MaxEventSize int
}

// Listener receives what the JS layer turns into DOM events. Calls for one
// Source are serialized and in order, run on a goroutine of this package
// (never inside Pool.Open or Close), and never under a lock, so a callback
// may call any method, Close included. After Close returns, no callback for
// that Source starts. Nil fields are skipped.
type Listener struct {
	// Open announces the connection: readyState is now Open. origin is the
	// serialized origin of the response URL after redirects, which every
	// MessageEvent of this connection carries.
	Open func(origin string)
	// Events delivers the events parsed from one network chunk, in order.
	// The slice is shared between the Sources of a shared connection and
	// must not be modified. Since a handler may close the source midway,
	// the JS layer should stop dispatching the rest of a batch once
	// ReadyState reports Closed, as the spec's per-event task does.
	Events func(events []sse.Event)
	// Error is the 'error' event. state is the readyState to expose with
	// it: Connecting when a reconnection follows, Closed when the connection
	// failed for good.
	Error func(state ReadyState)
}

// reconnectOptions resolves the policy documented on Options.Reconnect.
func (o *Options) reconnectOptions() shim.ReconnectOptions {
	r := o.Reconnect
	if r == (shim.ReconnectOptions{}) {
		return DefaultReconnectOptions
	}
	return r.WithDefaults(DefaultReconnectOptions)
}

func (o *Options) maxEventSize() int {
	if o.MaxEventSize <= 0 {
		return sse.DefaultMaxEventSize
	}
	return o.MaxEventSize
}
