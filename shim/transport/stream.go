package transport

import (
	"io"
	"time"

	"github.com/esshim/esshim/shim"
	"github.com/esshim/esshim/shim/jsonrpc"
	"github.com/esshim/esshim/shim/sse"
)

// Stream kinds, as Snapshot reports them.
const (
	kindPost       = "post"       // the SSE response to a POST
	kindStandalone = "standalone" // the GET stream for server-initiated messages
	kindResume     = "resume"     // a POST stream continued by GET with its Last-Event-ID
)

// Stream states, as Snapshot reports them.
const (
	stateConnecting   = "connecting"
	stateOpen         = "open"
	stateReconnecting = "reconnecting" // waiting for its reconnect timer
)

// stream is one logical SSE stream. It keeps its identity across
// reconnects: a broken POST stream resumes as itself (kind "resume"),
// never as a second standalone stream, and its parser (Last-Event-ID,
// retry) and backoff are its own, never shared with another stream.
type stream struct {
	lc   *lifecycle
	sess *session // the session it was opened in
	id   int

	// ctx spans the stream's whole life; removing the stream cancels it,
	// which aborts its fetch and body reads.
	ctx    shim.Context
	cancel shim.CancelFunc

	// Guarded by Transport.mu.
	kind        string
	state       string
	done        bool                // removed: it must never act again
	pending     map[string]struct{} // requests whose responses it carries
	lastEventID string              // what a reconnect sends as Last-Event-ID
	sawID       bool                // an event id was seen, so it can be resumed
	events      int
	reconnects  int
	timer       *timer
	onToken     func(string)
	era         era // of the request it carries; the session era for GET streams
	// onEnd is the carried request's SendOptions.OnEnd, owed once when
	// the stream is removed; aborted and rejected say why it was.
	onEnd      func(StreamEnd)
	aborted    bool        // by the request's SendOptions.Signal
	rejected   bool        // its Send returned an error
	stopSignal func() bool // stops watching that signal
	auth       authTries   // the GET's authorization history, until it opens

	// Set at creation, read-only afterwards.
	replayID string     // set by SendOptions.ResumptionToken: responses here answer this id
	hs       *handshake // set for the reinitialization's initialize POST

	// Owned by whichever goroutine serves the stream; there is one at a
	// time, handed on through the reconnect timer.
	parser    *sse.Parser
	backoff   *shim.Backoff
	seenID    string        // the last event id noticed
	retryBase time.Duration // the stream's own retry value, 0 if it set none
	onEvent   func(sse.Event)
}

// newStreamLocked creates a stream of lc in sess and lists it.
func (lc *lifecycle) newStreamLocked(kind string, sess *session) *stream {
	lc.nextStream++
	ctx, cancel := shim.WithCancel(lc.ctx)
	s := &stream{
		lc: lc, sess: sess, id: lc.nextStream, ctx: ctx, cancel: cancel,
		kind: kind, state: stateConnecting, pending: map[string]struct{}{},
		parser:  sse.NewParser(sse.ParserOptions{MaxEventSize: lc.t.opts.MaxEventSize}),
		backoff: shim.NewBackoff(lc.t.opts.Reconnect),
	}
	s.onEvent = s.event
	lc.streams[s.id] = s
	return s
}

// removeStreamLocked ends s for good: its fetch is aborted, its timer
// stopped. The requests it carries are the caller's to settle.
func (lc *lifecycle) removeStreamLocked(s *stream) {
	if s.done {
		return
	}
	s.done = true
	s.cancel()
	lc.cancelTimerLocked(s.timer)
	s.timer = nil
	delete(lc.streams, s.id)
	if lc.standalone == s {
		lc.standalone = nil
	}
	if s.hs != nil {
		s.hs.finishLocked(false, nil)
	}
	if s.stopSignal != nil {
		s.stopSignal()
		s.stopSignal = nil
	}
	if s.onEnd != nil {
		why := EndStream
		switch {
		case s.aborted:
			why = EndAborted
		case lc.closed:
			why = EndClosed
		case s.rejected:
			why = EndRejected
		}
		lc.t.endLocked(lc, s.onEnd, why)
		s.onEnd = nil
	}
}

// serve reads one connection's body to its end, then decides the stream's
// fate. delay is the wait that preceded this connection: a connection that
// stays open longer than that counts as progress.
func (s *stream) serve(body io.ReadCloser, delay time.Duration) {
	opened := time.Now()
	err := s.read(body)
	body.Close()
	if ms, ok := s.parser.Retry(); ok {
		s.retryBase = shim.RetryDelay(ms)
	}
	s.ended(err, time.Since(opened) > delay)
}

// read feeds the body to the parser until it ends. io.EOF is a clean end
// (nil); anything else is returned.
func (s *stream) read(body io.Reader) error {
	buf := make([]byte, 32<<10)
	for {
		n, err := body.Read(buf)
		if n > 0 {
			if ferr := s.parser.Feed(buf[:n], s.onEvent); ferr != nil {
				return ferr
			}
			// Events without data (priming events) are not dispatched, but
			// their id still becomes the last event id.
			if id := s.parser.LastEventID(); id != "" && id != s.seenID {
				s.noteID(id)
			}
		}
		if err != nil {
			if err == io.EOF {
				s.parser.End()
				return nil
			}
			return err
		}
	}
}

// event handles one dispatched event: progress, its id, its messages.
// Parsing happens before the lock is taken; the lock is taken once per
// event, however many messages a batch holds.
func (s *stream) event(ev sse.Event) {
	s.backoff.Progress()
	newID := ev.LastEventID != "" && ev.LastEventID != s.seenID
	if newID {
		s.seenID = ev.LastEventID
	}
	var msgs []string
	var envs []jsonrpc.Envelope
	var perr error
	// Events without data (priming events, keep-alives) carry no message.
	if ev.Type == "message" && ev.Data != "" {
		msgs, envs, _, perr = parseMessages(ev.Data)
	}
	lc := s.lc
	lc.t.mu.Lock()
	defer lc.t.mu.Unlock()
	if s.done || lc.closed {
		return
	}
	s.events++
	if newID {
		s.idLocked(ev.LastEventID)
	}
	if perr != nil {
		lc.errorLocked(invalidMessage(perr))
		return
	}
	for i := range msgs {
		s.deliverLocked(msgs[i], envs[i])
	}
}

// noteID records an id that arrived without a dispatched event.
func (s *stream) noteID(id string) {
	s.seenID = id
	s.backoff.Progress()
	s.lc.t.mu.Lock()
	if !s.done && !s.lc.closed {
		s.idLocked(id)
	}
	s.lc.t.mu.Unlock()
}

func (s *stream) idLocked(id string) {
	s.lastEventID = id
	s.sawID = true
	if s.onToken != nil {
		s.lc.t.queueLocked(callback{lc: s.lc, kind: cbToken, text: id, token: s.onToken})
	}
}

// deliverLocked routes one message that arrived on s.
func (s *stream) deliverLocked(msg string, env jsonrpc.Envelope) {
	lc := s.lc
	if env.IsResponse() {
		if s.hs != nil && env.ID == s.hs.id {
			// The reinitialization's own initialize result: the
			// application's Client already has one.
			s.hs.finishLocked(!env.HasError, nil)
			lc.removeStreamLocked(s)
			return
		}
		id := env.ID
		if s.replayID != "" {
			msg, id = jsonrpc.WithID(msg, env, s.replayID), s.replayID
		}
		if !lc.settleLocked(id) {
			return
		}
	}
	lc.messageLocked(msg)
}

// ended decides what follows the end of a connection.
func (s *stream) ended(err error, stayedOpen bool) {
	lc := s.lc
	lc.t.mu.Lock()
	defer lc.t.mu.Unlock()
	if s.done || lc.closed {
		return // ended by us: whoever removed it settled its requests
	}
	if stayedOpen {
		s.backoff.Progress()
	}
	if err != nil && shim.CodeOf(err) == shim.CodeEventTooLarge {
		lc.errorLocked(asError(err, shim.CodeEventTooLarge))
		if s.kind != kindStandalone {
			// Resuming would replay the same event.
			lc.failStreamLocked(s, jsonrpc.ReasonStreamLost)
			lc.removeStreamLocked(s)
			return
		}
		s.scheduleLocked()
		return
	}
	if s.kind != kindStandalone {
		switch {
		case len(s.pending) == 0:
			// Nothing waits on it (all its responses arrived, or it never
			// carried a request): finished streams stay finished, whatever
			// their retry says.
			lc.removeStreamLocked(s)
			return
		case !s.sawID || !s.era.resumes():
			// No event id, or an era without resumption: there is
			// nothing to resume from, so its requests fail now rather
			// than at their timeout (in the stateless era the request is
			// lost, and the client re-issues it).
			lc.failStreamLocked(s, jsonrpc.ReasonStreamLost)
			lc.removeStreamLocked(s)
			return
		}
		s.kind = kindResume
	}
	s.scheduleLocked()
}

// parseMessages splits a JSON-RPC message or batch and scans each element.
func parseMessages(text string) (msgs []string, envs []jsonrpc.Envelope, batch bool, err error) {
	msgs, batch, err = jsonrpc.Split(text)
	if err != nil {
		return nil, nil, false, err
	}
	envs = make([]jsonrpc.Envelope, len(msgs))
	for i, m := range msgs {
		if envs[i], err = jsonrpc.Scan(m); err != nil {
			return nil, nil, false, err
		}
	}
	return msgs, envs, batch, nil
}

// invalidMessage is the error for server data that is not JSON-RPC.
func invalidMessage(err error) *shim.Error {
	return &shim.Error{Code: shim.CodeInvalidMessage, Message: "invalid JSON-RPC message from server: " + err.Error(), Err: err}
}
