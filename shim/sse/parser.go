package sse

import (
	"bytes"
	"strconv"

	"github.com/esshim/esshim/shim"
)

// DefaultMaxEventSize bounds the memory one event may take (its data buffer
// plus the line being read) when ParserOptions.MaxEventSize is zero.
const DefaultMaxEventSize = 16 << 20

// retainedBufferCap is the largest buffer a Parser keeps for reuse after an
// event. Reuse spares an allocation per event in the common case, while one
// huge event must not pin its memory for the rest of a long-lived stream.
const retainedBufferCap = 1 << 20

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
	//
	// Precisely: the data buffer (the data lines' values so far, joined by
	// LF, after UTF-8 replacement) may not exceed it, nor may the data buffer
	// plus an "event", "id" or "retry" line being read. Comments and unknown
	// fields are skipped without being buffered, so they do not count.
	MaxEventSize int

	// LastEventID seeds the last event ID string, for a stream that resumes
	// one seen before (it is what the request sent as Last-Event-ID). Events
	// carry it until the stream sets another.
	LastEventID string
}

// Parser is a streaming WHATWG event-stream interpreter for one stream,
// which may span several connections (see Reconnect).
//
// A Parser is not safe for concurrent use. It never blocks and holds no lock,
// so dispatch may do anything except call Feed on the same Parser; if it
// calls End or Reconnect, Feed drops the rest of the chunk it was parsing,
// because those bytes belong to the connection just given up.
type Parser struct {
	maxEventSize int

	// Per connection: the leading BOM and line splitting.
	bomDone bool // the first three bytes have been checked for a BOM
	bomHeld int  // bytes of a possible BOM held until it is complete
	skipLF  bool // the last line ended with CR, so an LF next is part of it

	// The current line, when it started in an earlier chunk. Lines that fit
	// in one chunk are parsed in place and never touch these.
	inLine      bool
	lineKind    lineKind
	lineBuf     []byte      // the line so far (see lineKind for which part)
	dataDecoder utf8Decoder // decodes a data line streamed across chunks

	// The event being built: the spec's data, event type and last event ID
	// buffers.
	data      []byte
	eventType string
	idBuffer  string

	// State that outlives events and connections.
	lastEventID string
	retry       int64
	retrySet    bool
	typeCache   string // the last event type decoded, reused when it repeats

	err        error  // sticky EVENT_TOO_LARGE, cleared by Reconnect
	generation uint64 // bumped by End and Reconnect, so Feed sees a dispatch call them
}

// lineKind is what is known about a line that spans chunks. It is decided
// from the line's first few bytes so that the rest can go straight where it
// belongs instead of being buffered: a data value into the data buffer, a
// comment or unknown field nowhere.
type lineKind uint8

const (
	// lineUndecided: lineBuf holds the line's first bytes, at most
	// maxUndecidedLen of them, too few to know the field yet.
	lineUndecided lineKind = iota
	// lineIgnored: a comment or an unknown field; the rest is skipped.
	lineIgnored
	// lineData: a data field; its value is streamed into the data buffer
	// through dataDecoder, and lineBuf is empty.
	lineData
	// lineBuffered: an event, id or retry field; lineBuf holds the whole
	// line so far, which is parsed when it ends.
	lineBuffered
)

// maxUndecidedLen is how many bytes always suffice to decide a lineKind:
// "retry:" is the longest known name plus colon, and "data:" plus the byte
// that shows whether a space must be stripped is as long.
const maxUndecidedLen = len("retry:")

// NewParser returns a parser at the start of a connection.
func NewParser(opts ParserOptions) *Parser {
	limit := opts.MaxEventSize
	if limit <= 0 {
		limit = DefaultMaxEventSize
	}
	return &Parser{maxEventSize: limit, lastEventID: opts.LastEventID, idBuffer: opts.LastEventID}
}

// Feed consumes one chunk of the response body and calls dispatch for every
// event it completes, in order. It returns an EVENT_TOO_LARGE *Error when an
// event outgrows MaxEventSize; the parser is then unusable until Reconnect.
//
// Feed keeps no reference to chunk after it returns.
func (p *Parser) Feed(chunk []byte, dispatch func(Event)) error {
	if p.err != nil {
		return p.err
	}
	if p.bomDone {
		return p.feed(chunk, dispatch)
	}
	// The UTF-8 decode algorithm drops the first three bytes of the body if
	// they are a BOM, however the network split them. Anything else, even a
	// BOM's first two bytes, is ordinary (here: ill-formed) content.
	for len(chunk) > 0 && p.bomHeld < len(bom) {
		if chunk[0] != bom[p.bomHeld] {
			held := bom[:p.bomHeld]
			p.bomDone, p.bomHeld = true, 0
			// The held bytes hold no line end, so they can dispatch nothing.
			if err := p.feed(held, dispatch); err != nil {
				return err
			}
			return p.feed(chunk, dispatch)
		}
		p.bomHeld++
		chunk = chunk[1:]
	}
	if p.bomHeld == len(bom) {
		p.bomDone, p.bomHeld = true, 0
	}
	return p.feed(chunk, dispatch)
}

// bom is the UTF-8 byte order mark.
var bom = []byte{0xEF, 0xBB, 0xBF}

// feed splits chunk into lines. Lines are found with bytes.IndexByte, which
// is vectorised, rather than with a byte loop or bytes.IndexAny; the next CR
// and LF positions are remembered so that a stream without CRs is not
// rescanned for one at every line.
func (p *Parser) feed(chunk []byte, dispatch func(Event)) error {
	if len(chunk) == 0 {
		return nil
	}
	generation := p.generation
	pos := 0
	if p.skipLF {
		p.skipLF = false
		if chunk[0] == '\n' {
			pos = 1
		}
	}
	nextCR, nextLF := -1, -1
	for pos < len(chunk) {
		if nextCR < pos {
			nextCR = indexFrom(chunk, pos, '\r')
		}
		if nextLF < pos {
			nextLF = indexFrom(chunk, pos, '\n')
		}
		end := min(nextCR, nextLF)
		if end == len(chunk) {
			if err := p.continueLine(chunk[pos:]); err != nil {
				return p.fail(err)
			}
			return nil
		}
		line := chunk[pos:end]
		pos = end + 1
		if chunk[end] == '\r' {
			if pos == len(chunk) {
				// The line ends here, now: waiting to see whether an LF
				// follows would lose a final "\r" at the end of the stream.
				p.skipLF = true
			} else if chunk[pos] == '\n' {
				pos++
			}
		}
		var err error
		if p.inLine {
			err = p.finishLine(line, dispatch)
		} else {
			err = p.processLine(line, dispatch)
		}
		if err != nil {
			return p.fail(err)
		}
		if p.generation != generation {
			return nil
		}
	}
	return nil
}

// indexFrom returns the index of the first c in s at or after from, or
// len(s) when there is none.
func indexFrom(s []byte, from int, c byte) int {
	if i := bytes.IndexByte(s[from:], c); i >= 0 {
		return from + i
	}
	return len(s)
}

// End marks the end of the stream: a trailing unterminated event is dropped.
// So is an "id" line of that event: the last event ID only changes when an
// event block ends. Call Reconnect before feeding the next body.
func (p *Parser) End() {
	p.discardPending()
	p.generation++
}

// Reconnect prepares the parser for the body of a new connection: the BOM
// may appear again and all buffers are cleared, but the last event ID and
// the retry value persist. The new connection's last event ID buffer starts
// from the last event ID, as browsers do, so an event without an "id" field
// reports the ID the reconnection sent.
func (p *Parser) Reconnect() {
	p.discardPending()
	p.bomDone, p.bomHeld = false, 0
	p.err = nil
	p.generation++
}

// LastEventID returns the last event ID string: what a reconnection sends
// as Last-Event-ID.
func (p *Parser) LastEventID() string { return p.lastEventID }

// Retry returns the reconnection time in milliseconds set by the stream,
// and whether the stream set one at all.
func (p *Parser) Retry() (ms int64, ok bool) { return p.retry, p.retrySet }

// discardPending drops the line and the event being read.
func (p *Parser) discardPending() {
	p.skipLF = false
	p.resetLine()
	p.dataDecoder = utf8Decoder{}
	p.resetEvent()
	p.idBuffer = p.lastEventID
}

// fail makes err sticky and frees what the oversized event had taken.
func (p *Parser) fail(err error) error {
	p.err = err
	p.discardPending()
	p.data, p.lineBuf = nil, nil
	return err
}

// errEventTooLarge returns the EVENT_TOO_LARGE error for this parser.
func (p *Parser) errEventTooLarge() error {
	return shim.NewError(shim.CodeEventTooLarge,
		"server-sent event larger than "+strconv.Itoa(p.maxEventSize)+" bytes")
}
