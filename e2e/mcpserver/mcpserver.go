// Package mcpserver is an example MCP server built with the official Go SDK
// (github.com/modelcontextprotocol/go-sdk). It is the real server of
// esshim's drop-in browser test, where the TypeScript SDK's Client talks to
// it through esshim's transport, and the server behind `make run`.
//
// It offers a few tools that exercise each direction of the protocol:
//
//   - echo {text}: answers text.
//   - add {a, b}: answers the sum, as structured content {"sum": …}.
//   - progress {steps, intervalMs}: sends one notifications/progress per
//     step for the request's progress token (none without a token), then
//     answers.
//   - ask {question}: asks the client through elicitation/create for an
//     object {"answer": string} and answers "<action>: <answer>".
//   - sample {prompt}: asks the client through sampling/createMessage and
//     answers the text it got back.
//   - notify {text}: sends text as a log message on the session's
//     standalone stream, then answers.
//
// With WithStateless it is a 2026-07-28 server (go-sdk's stateless mode,
// which still answers 2025 clients, without sessions). It has no ask,
// sample or notify, which need a session, and three more tools for the
// protocol-generation tests:
//
//   - slow {ms}: sleeps ms (30 s by default), or until its context is
//     cancelled, which it records in the request log.
//   - region {region, text}: answers "region=<region> text=<text>"; its
//     input schema marks region `x-mcp-header: Region`, so a 2026 client
//     sends it as the Mcp-Param-Region header, which the server checks.
//   - cut {afterMs}: after afterMs (50 by default) breaks its own
//     request's stream: the response head and an SSE comment are sent,
//     then the connection closes mid-body, as a network failure would.
//
// Every request (OPTIONS excluded) is recorded; Requests returns the log.
//
// Server-initiated notifications are logging messages (notifications/message)
// sent outside any request, so they travel on the standalone GET stream:
// from the tick loop (WithTicker), from [Handler.Notify], and from the
// notify tool. The go-sdk sends log messages only to a client that has set
// a level, so a client must call logging/setLevel first (in the TypeScript
// SDK: await client.setLoggingLevel('info')).
package mcpserver

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// The protocol revisions esshim targets. The go-sdk also speaks newer
// drafts; pinning these keeps the example on the revisions under test.
// A stateful server speaks the 2025 revisions only (the go-sdk serves
// 2026-07-28 only statelessly); a stateless one adds 2026-07-28.
var (
	protocolVersions          = []string{"2025-11-25", "2025-06-18", "2025-03-26"}
	statelessProtocolVersions = append([]string{"2026-07-28"}, protocolVersions...)
)

// Handler serves the example server over Streamable HTTP. Create it with
// NewHandler and stop its ticker with Close.
type Handler struct {
	server *mcp.Server
	http   http.Handler
	origin string
	ticks  atomic.Int64
	// listening holds the sessions whose client set a log level: the
	// go-sdk silently drops log messages to the others, and Notify must
	// not count those as sent.
	mu        sync.Mutex
	listening map[*mcp.ServerSession]bool
	stop      chan struct{}
	stopped   sync.Once
	ticking   sync.WaitGroup
	log       requestLog
}

type options struct {
	ticker       time.Duration
	origin       string
	jsonResponse bool
	noEventStore bool
	stateless    bool
	logger       *slog.Logger
}

// Option configures NewHandler.
type Option func(*options)

// WithTicker sends a log message "tick N" to every session every d, on the
// standalone stream, so a demo page always has server-initiated traffic to
// show.
func WithTicker(d time.Duration) Option { return func(o *options) { o.ticker = d } }

// WithAllowedOrigin lets pages from origin (or any origin, for "*") call
// the server from a browser, with CORS. Without it, only same-origin pages
// can: a local demo server should not be callable by every site the user
// visits.
func WithAllowedOrigin(origin string) Option { return func(o *options) { o.origin = origin } }

// WithJSONResponse answers POSTs with application/json instead of an SSE
// stream. Notifications sent during a request then go to the standalone
// stream.
func WithJSONResponse() Option { return func(o *options) { o.jsonResponse = true } }

// WithoutEventStore turns off the in-memory event store. With it (the
// default) streams carry event ids and priming events and can be resumed by
// Last-Event-ID, and notifications sent while no standalone GET is open are
// kept for the next one.
func WithoutEventStore() Option { return func(o *options) { o.noEventStore = true } }

// WithStateless makes a 2026-07-28 server: the go-sdk's stateless mode
// (no Mcp-Session-Id, no GET or DELETE: 405), where closing a request's
// POST cancels its handler's context (PropagateRequestCancellation). It
// still answers the 2025 revisions, each request on its own session; its
// tools are echo, add, progress, slow, region and cut.
func WithStateless() Option { return func(o *options) { o.stateless = true } }

// WithLogger logs the go-sdk's server activity to l.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// NewHandler returns the example server.
func NewHandler(opts ...Option) *Handler {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	versions := protocolVersions
	if o.stateless {
		versions = statelessProtocolVersions
	}
	server := mcp.NewServer(&mcp.Implementation{Name: "esshim-example", Version: "1.0.0"}, &mcp.ServerOptions{
		Logger:                    o.logger,
		SupportedProtocolVersions: versions,
	})
	addTools(server)
	if !o.stateless {
		addSessionTools(server)
	}

	httpOpts := &mcp.StreamableHTTPOptions{JSONResponse: o.jsonResponse, Logger: o.logger}
	if o.stateless {
		// A 2026 server resumes nothing: no event store.
		httpOpts.Stateless = true
		httpOpts.PropagateRequestCancellation = true
	} else if !o.noEventStore {
		httpOpts.EventStore = mcp.NewMemoryEventStore(nil)
	}
	h := &Handler{
		server:    server,
		http:      mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, httpOpts),
		origin:    o.origin,
		listening: map[*mcp.ServerSession]bool{},
		stop:      make(chan struct{}),
	}
	if o.stateless {
		h.addStatelessTools(server)
	}
	server.AddReceivingMiddleware(h.noteLogLevel)
	if o.ticker > 0 {
		h.ticking.Add(1)
		go h.tick(o.ticker)
	}
	return h
}

// Server returns the underlying go-sdk server, for adding features.
func (h *Handler) Server() *mcp.Server { return h.server }

// ServeHTTP serves the MCP endpoint, on any path.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.origin != "" {
		if origin := r.Header.Get("Origin"); origin != "" && (h.origin == "*" || h.origin == origin) {
			header := w.Header()
			header.Set("Access-Control-Allow-Origin", origin)
			header.Set("Access-Control-Allow-Credentials", "true")
			header.Set("Access-Control-Expose-Headers", "Mcp-Session-Id, Mcp-Protocol-Version, WWW-Authenticate")
			header.Add("Vary", "Origin")
			if r.Method == http.MethodOptions {
				header.Set("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")
				header.Set("Access-Control-Allow-Headers", r.Header.Get("Access-Control-Request-Headers"))
				header.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
	}
	cw := &cuttableWriter{w: w}
	entry := h.log.begin(r, cw)
	served := make(chan struct{})
	go func() {
		select {
		case <-r.Context().Done():
			h.log.clientClosed(entry)
		case <-served:
		}
	}()
	h.http.ServeHTTP(cw, r)
	// Ended is set before the request's context ends with ServeHTTP, so
	// that ending is not taken for the client's.
	h.log.end(entry, cw.status, r.Context().Err())
	close(served)
}

// Requests returns the request log, oldest first.
func (h *Handler) Requests() []Request { return h.log.snapshot() }

// Notify sends text as an info log message to every session, on its
// standalone stream, and returns how many sessions it was sent to. A
// session whose client set no log level does not get it, and does not
// count; nor does one whose message could not be delivered or stored.
func (h *Handler) Notify(text string) int {
	live := map[*mcp.ServerSession]bool{}
	for ss := range h.server.Sessions() {
		live[ss] = true
	}
	h.mu.Lock()
	var targets []*mcp.ServerSession
	for ss := range h.listening {
		if live[ss] {
			targets = append(targets, ss)
		} else {
			delete(h.listening, ss) // the session ended
		}
	}
	h.mu.Unlock()

	n := 0
	for _, ss := range targets {
		// A context unrelated to any request sends it on the standalone stream.
		err := ss.Log(context.Background(), &mcp.LoggingMessageParams{Level: "info", Logger: "esshim-example", Data: text})
		if err == nil {
			n++
		}
	}
	return n
}

// noteLogLevel is receiving middleware that remembers which sessions set a
// log level.
func (h *Handler) noteLogLevel(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		res, err := next(ctx, method, req)
		if method == "logging/setLevel" && err == nil {
			if ss, ok := req.GetSession().(*mcp.ServerSession); ok {
				h.mu.Lock()
				h.listening[ss] = true
				h.mu.Unlock()
			}
		}
		return res, err
	}
}

// Ticks is the number of ticks sent so far.
func (h *Handler) Ticks() int64 { return h.ticks.Load() }

// Close stops the ticker. It does not end sessions: the HTTP server that
// serves the handler owns the connections.
func (h *Handler) Close() {
	h.stopped.Do(func() { close(h.stop) })
	h.ticking.Wait()
}

func (h *Handler) tick(every time.Duration) {
	defer h.ticking.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			h.Notify(fmt.Sprintf("tick %d", h.ticks.Add(1)))
		case <-h.stop:
			return
		}
	}
}
