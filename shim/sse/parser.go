package sse

// Package sse is a streaming WHATWG "event stream interpretation": the
// parser behind both the MCP transport and the EventSource.

// DefaultMaxEventSize bounds the memory one event may take (its data buffer
// plus the line being read) when ParserOptions.MaxEventSize is zero.
const DefaultMaxEventSize = 16 << 20

// Event is one dispatched server-sent event, as a MessageEvent would carry it.
type Event struct {
	Type        string // "message" unless the stream named it
	Data        string
	LastEventID string
}

// ParserOptions configures a Parser.
type ParserOptions struct {
	// MaxEventSize bounds an event's data plus its current line, in bytes.
	// Zero means DefaultMaxEventSize.
	MaxEventSize int
}

// Parser is a streaming WHATWG event-stream interpreter. STUB: the real one
// is being written; this file only fixes the API.
type Parser struct{}

// NewParser returns a parser at the start of a connection.
func NewParser(opts ParserOptions) *Parser { return &Parser{} }

// Feed consumes one chunk of the response body and calls dispatch for every
// event it completes, in order. It returns an EVENT_TOO_LARGE *Error when an
// event outgrows MaxEventSize; the parser is then unusable until Reconnect.
func (p *Parser) Feed(chunk []byte, dispatch func(Event)) error { panic("TODO") }

// End marks the end of the stream: a trailing unterminated event is dropped.
func (p *Parser) End() { panic("TODO") }

// Reconnect prepares the parser for the body of a new connection: the BOM
// may appear again and all buffers are cleared, but the last event ID and
// the retry value persist.
func (p *Parser) Reconnect() { panic("TODO") }

// LastEventID returns the last event ID string: what a reconnection sends
// as Last-Event-ID.
func (p *Parser) LastEventID() string { panic("TODO") }

// Retry returns the reconnection time in milliseconds set by the stream,
// and whether the stream set one at all.
func (p *Parser) Retry() (ms int64, ok bool) { panic("TODO") }
