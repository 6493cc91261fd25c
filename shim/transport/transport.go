package transport

import (
	"sync"
	"time"

	"github.com/esshim/esshim/shim"
)

// ExpiryMode says what the transport does when the server expires the
// session (a 404 to a request that carried the session id).
type ExpiryMode int

const (
	// ExpiryError fails every in-flight request with a "session-expired"
	// error response and reports SESSION_EXPIRED; the application starts a
	// new session, which the SDK's Client does on its next connect.
	ExpiryError ExpiryMode = iota
	// ExpiryReinitialize also re-runs the handshake with the last
	// initialize request the application sent, replays the request that
	// got the 404 (the server never processed it) and reports the new
	// session through Handler.SessionChange.
	ExpiryReinitialize
)

// Options configures a Transport. Fields mirror the TypeScript SDK's
// StreamableHTTPClientTransportOptions.
type Options struct {
	URL     string
	Fetcher shim.Fetcher
	// Header holds the static headers of requestInit, sent on every
	// request (POST, GET, DELETE). The protocol's own headers (Accept,
	// Content-Type, Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID)
	// belong to the transport: the application's values for them, here or
	// from HeaderHook, are dropped (seed a session with SessionID).
	Header shim.Header
	// Credentials, Mode and Init are copied into every shim.Request.
	Credentials, Mode string
	Init              any
	// Redirect is the SDK's redirectPolicy: RedirectSameOrigin (the zero
	// value) or RedirectFollow. Either way, a request never carries the
	// session id, Last-Event-ID or the application's headers to another
	// origin (see shim.RedirectPolicy).
	Redirect shim.RedirectPolicy
	// HeaderHook is the JS headers() hook: awaited before every request and
	// merged over Header. It may be slow (a token refresh); it must return
	// once ctx is done, because Close waits for requests being prepared.
	// Its error fails the request with HEADERS_HOOK_FAILED (INVALID_HEADER
	// errors pass as they are).
	HeaderHook func(ctx shim.Context) (shim.Header, error)
	// SessionID and ProtocolVersion seed the first lifecycle only: a
	// restarted transport starts from a clean state.
	SessionID       string
	ProtocolVersion string
	// Reconnect is the reconnect policy of every stream. The zero value
	// means shim.DefaultReconnectOptions (the TypeScript SDK's defaults);
	// otherwise zero delays and factor take the defaults and MaxRetries is
	// used as given.
	Reconnect     shim.ReconnectOptions
	SessionExpiry ExpiryMode
	// MaxEventSize bounds one SSE event and one JSON response body, in
	// bytes; zero means sse.DefaultMaxEventSize.
	MaxEventSize int
	// Scheduler, when set, replaces the reconnect timer (the SDK v2's
	// reconnectionScheduler): it must arrange for reconnect to be called
	// after about delay, and may return a function that cancels that.
	// attempt counts the stream's attempts since its last progress, from
	// 0. It is called without a lock. reconnect may be called at most once
	// and from anywhere; after a cancel, or after Close, it does nothing.
	Scheduler func(delay time.Duration, attempt int, reconnect func()) (cancel func())
	// Authorize, when set, answers a 401 or a 403 insufficient_scope to an
	// application's POST or to a GET stream (see AuthChallenge): it runs
	// the authorization flow, which the binding delegates to the SDK's
	// authProvider and auth(), and the request is sent again. The
	// transport decides when it is called and how often: each 401 once (a
	// second 401 is an HTTP_ERROR), step-ups up to MaxStepUpRetries. It is
	// called without a lock and must return once ctx is done. Without it,
	// 401 and 403 are plain HTTP_ERRORs.
	Authorize func(ctx shim.Context, c *AuthChallenge) error
	// StepUp is the SDK v2's onInsufficientScope.
	StepUp StepUpMode
	// MaxStepUpRetries bounds the step-up re-authorizations of one
	// request: 0 means the SDK v2's default, 1; a negative value, none.
	MaxStepUpRetries int
	Handler          Handler
}

// Handler receives what the transport delivers. All fields are optional.
// The functions are never called concurrently nor under a lock, always in
// order, and may call any Transport method synchronously.
type Handler struct {
	// Message receives one JSON-RPC message as JSON text; batches are split.
	Message func(json string)
	// Messages, when set, receives runs of consecutive messages instead of
	// Message: one call per run, so that a binding pays its boundary
	// crossing once per batch rather than once per message.
	Messages func(json []string)
	// Error receives errors that no call returns: failed streams, session
	// expiry, exhausted reconnects. Errors that Send or TerminateSession
	// return are reported here too, as the TypeScript SDK does.
	Error func(err *shim.Error)
	// Close is called once per lifecycle, after Close.
	Close func()
	// SessionChange is called when ExpiryReinitialize replaced an expired
	// session by a new one, so that the application can re-subscribe.
	SessionChange func(newID, oldID string)
}

// SendOptions are the options of the TypeScript SDK's send.
type SendOptions struct {
	// ResumptionToken resumes a stream by GET with this Last-Event-ID
	// instead of POSTing the message; a response on that stream answers the
	// request in the message, whatever id the server gives it.
	ResumptionToken string
	// OnResumptionToken is called with each new event id of the stream
	// that carries the message's responses.
	OnResumptionToken func(token string)
	// RelatedRequestID is accepted for API parity; client transports do
	// not use it (the TypeScript SDK's does not either).
	RelatedRequestID string
	// Header holds this message's own headers (the SDK v2's per-request
	// headers, such as Mcp-Param-*), sent over the transport's. Names the
	// transport owns (see ownedRequestHeaders) are ignored, as the SDK
	// ignores them.
	Header shim.Header
	// Signal aborts this request alone (the SDK v2's requestSignal): its
	// POST and its response stream end at once, and the server sees the
	// disconnect, which in the stateless era cancels the request. Its
	// requests are withdrawn without an outcome (the caller abandoned
	// them), Send returns ABORTED if it has not returned yet, and nothing
	// reaches Handler.Error. The transport stays usable.
	Signal shim.Context
	// OnEnd is called exactly once per Send, through the callback queue
	// (after the messages of the request's stream), when the transport is
	// done with the request; see StreamEnd for why. It is called even
	// after Close, with EndClosed, so that a binding can free what it
	// attached to the request.
	OnEnd func(StreamEnd)
}

// StreamEnd says why a request's stream ended, for SendOptions.OnEnd.
type StreamEnd uint8

const (
	// EndStream: Send returned nil and the request's response stream has
	// ended: the server closed it (or answered with JSON or 202), the
	// network dropped it, its reconnects ran out, or its session ended.
	// This is the SDK v2's onRequestStreamEnd.
	EndStream StreamEnd = iota
	// EndAborted: SendOptions.Signal ended the request.
	EndAborted
	// EndClosed: the lifecycle was closed first.
	EndClosed
	// EndRejected: Send returned an error.
	EndRejected
)

// Transport is the connection manager of one MCP endpoint. It can be
// started and closed any number of times; each start begins a new
// lifecycle with clean state.
type Transport struct {
	opts Options

	mu   sync.Mutex
	cond *sync.Cond // wakes the dispatcher; guarded by mu

	cur    *lifecycle // the started lifecycle, nil while closed
	last   *lifecycle // the most recent lifecycle, for Close's idempotence
	starts int        // lifecycles begun, the number of the current one

	// seed holds what the next lifecycle starts from: the options at
	// first, then only what SetProtocolVersion set while closed.
	seedSession, seedVersion string

	dispatcher

	goroutines int // live goroutines of all lifecycles, plus the dispatcher
	timers     int // pending timers of all lifecycles

	// preflightPassed holds the request header names that a cross-origin
	// response has shown the server's CORS allows; nil until the server
	// first answered cross-origin. It only spares probes
	// (see cors.go), like the browser's own preflight cache, and decides
	// nothing that is sent, so it outlives lifecycles.
	preflightPassed map[string]bool
}

// New returns a transport that is not started yet.
func New(opts Options) *Transport {
	if opts.Reconnect == (shim.ReconnectOptions{}) {
		opts.Reconnect = shim.DefaultReconnectOptions
	}
	// Normalize to the lower-case keys shim.Header promises, so that the
	// hook's fields and the protocol's replace static ones of any case.
	h := make(shim.Header, len(opts.Header))
	for k, v := range opts.Header {
		h.Set(k, v)
	}
	opts.Header = h
	switch {
	case opts.MaxStepUpRetries == 0:
		opts.MaxStepUpRetries = 1
	case opts.MaxStepUpRetries < 0:
		opts.MaxStepUpRetries = 0
	}
	t := &Transport{opts: opts, seedSession: opts.SessionID, seedVersion: opts.ProtocolVersion}
	t.cond = sync.NewCond(&t.mu)
	return t
}

// Start begins a new lifecycle. Like the TypeScript SDK's start it only
// changes state: the first request goes out with the first Send. It fails
// with ALREADY_STARTED while a lifecycle is running.
func (t *Transport) Start() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cur != nil {
		return shim.ErrAlreadyStarted
	}
	t.starts++
	t.cur = newLifecycle(t, t.seedSession, t.seedVersion)
	t.seedSession, t.seedVersion = "", ""
	return nil
}

// Close ends the running lifecycle at once: its fetches are aborted, its
// timers stopped, its session forgotten, so Start may follow immediately.
// The returned channel is closed once every fetch, goroutine and timer of
// that lifecycle is gone; it never waits for a Handler callback. Close is
// idempotent: called again it returns the same channel.
//
// In-flight requests get no made-up responses: as with the TypeScript
// SDK, the Client's onclose handling settles them.
func (t *Transport) Close() <-chan struct{} {
	t.mu.Lock()
	lc := t.cur
	if lc == nil {
		done := closedChan
		if t.last != nil {
			done = t.last.done
		}
		t.mu.Unlock()
		return done
	}
	t.cur, t.last = nil, lc
	lc.shutdownLocked()
	t.deliverClose(lc) // unlocks
	return lc.done
}

// SessionID returns the session id of the running lifecycle, or of the
// next one while closed (empty unless Options.SessionID seeds the first).
func (t *Transport) SessionID() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cur != nil {
		return t.cur.sess.id
	}
	return t.seedSession
}

// ProtocolVersion returns the MCP-Protocol-Version header value in use.
func (t *Transport) ProtocolVersion() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cur != nil {
		return t.cur.protocolVersion
	}
	return t.seedVersion
}

// SetProtocolVersion sets the MCP-Protocol-Version header of later
// requests. While closed it seeds the next lifecycle.
func (t *Transport) SetProtocolVersion(v string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cur != nil {
		t.cur.protocolVersion = v
		return
	}
	t.seedVersion = v
}

var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()
