package faultserver

import "time"

// Config scripts the server's behaviour. The zero value is a well-behaved
// server: SSE answers without priming events, several standalone GETs
// allowed, no faults. A Config may be changed while the server runs with
// [Server.Configure]; each request reads it once, when it arrives.
type Config struct {
	// Responses chooses between application/json and text/event-stream for
	// POSTs that carry requests. ResponsesMixed draws from the seeded RNG,
	// for tests that need both kinds in flight at once.
	Responses ResponseMode

	// Seed seeds the RNG behind ResponsesMixed and DropRate, so that a
	// failing run can be replayed with the same sequence of choices.
	Seed uint64

	// POST, Standalone and Resume are the default plans for the three kinds
	// of SSE connection: the answer to a POST, a standalone GET, and a GET
	// that resumes a POST's stream by Last-Event-ID.
	POST       StreamPlan
	Standalone StreamPlan
	Resume     StreamPlan

	// Plan, if set, decides the plan of each connection, given the default
	// one above. It runs on the request's goroutine and must not call back
	// into the Server's accounting (it is called with no lock held, but a
	// slow Plan delays the answer).
	Plan PlanFunc

	// DropRate is the probability in [0, 1] that a POST or resume
	// connection whose plan has no Cut is cut at a random point instead
	// (at once, after its priming event, or just before its response;
	// cleanly or by reset). A JSON answer that is dropped is a reset.
	DropRate float64

	// GET decides what a standalone GET does while another standalone GET
	// of the same session is open.
	GET GETPolicy

	// ToolDelay is added before every tools/call is answered, on top of
	// what the tool itself does.
	ToolDelay time.Duration

	// ExpireAfter, if positive, expires a session once it has served that
	// many requests carrying its id: request ExpireAfter+1 gets the 404.
	ExpireAfter int

	// ExpiredBody is the body of the 404 sent for an expired or unknown
	// session id. Clients must judge expiry by the status alone, so tests
	// try every kind.
	ExpiredBody ExpiredBody

	// ExpiredDelay holds back each 404 for an expired session, so that a
	// test can race it against a new session being established.
	ExpiredDelay time.Duration

	// KeepStreamsOnExpiry leaves a session's open connections running when
	// it expires. By default they are reset, as a server restart would.
	KeepStreamsOnExpiry bool

	// DeleteStatus is the status DELETE answers for a known session; 0
	// means 200. Any 2xx ends the session; other statuses leave it alive.
	DeleteStatus int

	// ProtocolVersion, if set, is the version every initialize answers.
	// Otherwise the server echoes the client's version when it supports it
	// and answers its newest one when it does not.
	ProtocolVersion string

	// Intercept, if set, sees every request (but not CORS preflights)
	// before the MCP logic does. A non-nil Reply answers the request
	// instead; nil lets it through. The request is recorded either way.
	Intercept func(Request) *Reply
}

// PlanFunc decides the plan of one connection, given the default one. See
// CutToolCalls, CutFirst and Chain for the common cases.
type PlanFunc func(info ConnInfo, plan StreamPlan) StreamPlan

// ResponseMode is the content type of answers to POSTs carrying requests.
type ResponseMode int

const (
	ResponsesSSE   ResponseMode = iota // text/event-stream
	ResponsesJSON                      // application/json
	ResponsesMixed                     // either, drawn from the seeded RNG
)

// GETPolicy is what a standalone GET does while another standalone GET of
// the same session is still open.
type GETPolicy int

const (
	// GETAllow keeps both open, as a lenient server does. The accounting's
	// MaxOpenStandalone shows that a client opened two.
	GETAllow GETPolicy = iota
	// GETReplace ends the older connection, as servers did before they
	// added shadow channels. This is the leapfrog scenario's policy.
	GETReplace
	// GETReject answers the new GET with 409 Conflict, as the go-sdk does.
	GETReject
	// GETNotAllowed answers every standalone GET with 405: the server
	// offers no standalone stream. Resume GETs still work.
	GETNotAllowed
)

// StreamPlan scripts one SSE connection.
type StreamPlan struct {
	// JSON answers a POST with application/json instead of a stream. Only
	// POST plans use it; Config.Responses sets it before Plan is called.
	JSON bool

	// Priming starts the connection with an event that carries only an id
	// (and Retry, if set) and empty data, as 2025-11-25 servers do, so that
	// the client can resume even before the first real event.
	Priming bool

	// Retry, if positive, is sent as the priming event's retry field, in
	// whole milliseconds. It has no effect without Priming.
	Retry time.Duration

	// Cut breaks the connection at a chosen point.
	Cut Cut

	// IdleClose, if positive, ends the connection cleanly once that long
	// has passed without an event written to it, as proxies and idle
	// timeouts do.
	IdleClose time.Duration
}

// Cut says where and how the server breaks one connection. The stream
// itself survives: its later events stay in the log for a resume GET.
type Cut struct {
	At CutPoint
	// Events is the number of events written before the cut, for
	// CutAfterEvents. The priming event counts.
	Events int
	// Abort resets the TCP connection, so the client sees a network error
	// mid-body. Otherwise the response ends cleanly, so the client sees an
	// ordinary end of stream that came too early.
	Abort bool
}

// CutPoint is where a connection is broken.
type CutPoint int

const (
	NoCut CutPoint = iota
	// CutAtOnce ends the connection after the 200 and its headers, before
	// any event: the client has no event id to resume from. On a
	// standalone GET this is a server that accepts and closes at once.
	CutAtOnce
	// CutAfterPriming ends the connection right after its priming event.
	CutAfterPriming
	// CutAfterEvents ends the connection after Cut.Events events.
	CutAfterEvents
	// CutBeforeResponse ends the connection just before it would write its
	// first response: notifications (and their ids) arrive, the answer does
	// not.
	CutBeforeResponse
)

// ExpiredBody is the body of a 404 for an expired or unknown session.
type ExpiredBody int

const (
	ExpiredText         ExpiredBody = iota // text/plain "session not found"
	ExpiredJSONRPC32001                    // JSON-RPC error -32001, as the TypeScript SDK's server sends
	ExpiredJSONRPC32002                    // JSON-RPC error -32002
	ExpiredHTML                            // an HTML error page, as a proxy sends
	ExpiredEmpty                           // no body and no Content-Type
)

// Reply is a hand-made answer returned by Config.Intercept.
type Reply struct {
	Status int               // 0 means 200
	Header map[string]string // set on the response; CORS headers are added
	Body   string
	Delay  time.Duration // wait before answering
	// Reset closes the TCP connection without any answer, instead of
	// everything above but Delay.
	Reset bool
}
