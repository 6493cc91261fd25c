package faultserver

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// stream is one logical SSE stream: the events answering one POST, or a
// session's standalone stream. It is a log that outlives its connections: a
// cut connection leaves later events here for a resume GET to replay, which
// is what lets a test prove that a response arrived exactly once, through
// the right GET.
type stream struct {
	id           string // "g<generation>-s<number>"; the number keys Server.streams
	session      *session
	isStandalone bool
	// json marks a POST answered with application/json: it cannot carry
	// notifications, so they go to the session's standalone stream.
	json    bool
	methods []string // of the requests it answers
	events  []event  // append-only; elements never change once appended
	pending int      // requests not yet answered
	// undelivered is the index of the first event no connection has
	// written yet: where a fresh standalone GET starts, so that a
	// notification sent while no GET was open is not lost.
	undelivered int
	// changed is closed and replaced whenever an event is appended.
	changed chan struct{}
}

// event is one SSE event in a stream's log.
type event struct {
	index      int
	id         string
	priming    bool          // id (and retry) only, empty data
	retry      time.Duration // priming events only
	data       []byte        // one JSON-RPC message
	responseTo string        // JSON text of the request id, if data is a response
}

// newStreamLocked creates a stream of ss answering the given methods. The
// caller holds s.mu.
func (s *Server) newStreamLocked(ss *session, methods []string, pending int) *stream {
	num := len(s.streams) + 1
	st := &stream{
		id:      fmt.Sprintf("g%d-s%d", ss.info.Generation, num),
		session: ss,
		methods: methods,
		pending: pending,
		changed: make(chan struct{}),
	}
	s.streams[num] = st
	return st
}

// appendLocked numbers ev and appends it to st, waking its connections. A
// notification for a JSON-answered POST goes to the standalone stream
// instead. The caller holds s.mu.
func (s *Server) appendLocked(st *stream, ev event) {
	if st.json && ev.responseTo == "" && !ev.priming {
		st = st.session.standalone
	}
	ev.index = len(st.events)
	ev.id = fmt.Sprintf("%s-e%d", st.id, ev.index)
	st.events = append(st.events, ev)
	if ev.responseTo != "" {
		st.pending--
	}
	close(st.changed)
	st.changed = make(chan struct{})
}

// emit appends one message to st.
func (s *Server) emit(st *stream, data []byte, responseTo string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.appendLocked(st, event{data: data, responseTo: responseTo})
}

// parseEventID splits an id of the form g<generation>-s<stream>-e<index>.
// Anything else, including ids from other servers, is not ok.
func parseEventID(id string) (gen, num, index int, ok bool) {
	n, _ := fmt.Sscanf(id, "g%d-s%d-e%d", &gen, &num, &index)
	ok = n == 3 && gen > 0 && num > 0 && index >= 0 && id == fmt.Sprintf("g%d-s%d-e%d", gen, num, index)
	return gen, num, index, ok
}

// conn is one open connection: an HTTP response writing a stream's events
// (or a JSON answer).
type conn struct {
	id      int // Connection.ID
	seq     int // Request.Seq of the HTTP request it answers
	session *session
	kind    ConnKind
	// stop closes kill once; reason and abort are set before, so a reader
	// of kill sees them.
	kill     chan struct{}
	stopOnce sync.Once
	reason   EndReason
	abort    bool
}

// stop ends the connection from the server side. It never blocks, so it
// may be called with s.mu held.
func (c *conn) stop(reason EndReason, abort bool) {
	c.stopOnce.Do(func() {
		c.reason, c.abort = reason, abort
		close(c.kill)
	})
}

// openConnLocked registers a connection of ss, and for a standalone GET
// counts it as open (before any replacement, so that a second standalone
// stream always shows). The caller holds s.mu.
func (s *Server) openConnLocked(ss *session, rec Connection) *conn {
	rec.ID = len(s.acct.connections) + 1
	rec.Opened = time.Now()
	s.acct.connections = append(s.acct.connections, rec)
	c := &conn{id: rec.ID, seq: rec.Request, session: ss, kind: rec.Kind, kill: make(chan struct{})}
	ss.conns[c] = struct{}{}
	if rec.Kind == ConnStandalone {
		ss.info.OpenStandalone++
		ss.info.MaxOpenStandalone = max(ss.info.MaxOpenStandalone, ss.info.OpenStandalone)
	}
	if !ss.alive() {
		// The session ended between the request's check and now: the
		// connection dies with it, as those open at the time did.
		c.stop(EndKilled, true)
	}
	s.acct.notifyLocked()
	return c
}

// closeConn records how c ended.
func (s *Server) closeConn(c *conn, reason EndReason) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := &s.acct.connections[c.id-1]
	rec.Closed = time.Now()
	rec.End = reason
	delete(c.session.conns, c)
	if c.kind == ConnStandalone {
		c.session.info.OpenStandalone--
	}
	s.acct.notifyLocked()
}

// noteWritten records that ev reached the wire on c.
func (s *Server) noteWritten(c *conn, st *stream, ev event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := &s.acct.connections[c.id-1]
	rec.Events++
	rec.LastEventID = ev.id
	if ev.responseTo != "" {
		s.acct.deliveries = append(s.acct.deliveries, Delivery{
			Generation: st.session.info.Generation, RPCID: ev.responseTo, Connection: c.id, Time: time.Now(),
		})
	}
	st.undelivered = max(st.undelivered, ev.index+1)
	s.acct.notifyLocked()
}

// serveSSE writes st's events from index from onward to w, following plan,
// until the stream is answered, the plan cuts it, the client leaves or the
// server ends it; then it records the end and, for an aborting cut, resets
// the TCP connection.
func (s *Server) serveSSE(w http.ResponseWriter, r *http.Request, c *conn, st *stream, from int, plan StreamPlan) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	s.setStatus(c.seq, http.StatusOK)
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush()

	reason, abort := s.pump(w, rc, r, c, st, from, plan)
	s.closeConn(c, reason)
	if abort {
		abortConnection(w)
	}
}

// pump is serveSSE's loop. It returns why the connection ended and whether
// to reset it.
func (s *Server) pump(w http.ResponseWriter, rc *http.ResponseController, r *http.Request, c *conn, st *stream, from int, plan StreamPlan) (EndReason, bool) {
	cut := plan.Cut
	if cut.At == CutAtOnce || (cut.At == CutAfterEvents && cut.Events <= 0) {
		return EndCut, cut.Abort
	}
	var idle <-chan time.Time
	var idleTimer *time.Timer
	if plan.IdleClose > 0 {
		idleTimer = time.NewTimer(plan.IdleClose)
		defer idleTimer.Stop()
		idle = idleTimer.C
	}
	written, next := 0, from
	for {
		s.mu.Lock()
		batch := st.events[min(next, len(st.events)):]
		// A POST's stream is finished once every request has its response
		// in the log; the batch taken with it then holds them all.
		finished := !st.isStandalone && st.pending <= 0
		changed := st.changed
		s.mu.Unlock()

		for _, ev := range batch {
			select {
			case <-c.kill:
				return c.reason, c.abort
			default:
			}
			if cut.At == CutBeforeResponse && ev.responseTo != "" {
				return EndCut, cut.Abort
			}
			if writeEvent(w, ev) != nil || rc.Flush() != nil {
				return EndClient, false
			}
			next = ev.index + 1
			written++
			s.noteWritten(c, st, ev)
			if idleTimer != nil {
				idleTimer.Reset(plan.IdleClose)
			}
			if (cut.At == CutAfterPriming && ev.priming) || (cut.At == CutAfterEvents && written == cut.Events) {
				return EndCut, cut.Abort
			}
		}
		if finished {
			return EndDone, false
		}
		select {
		case <-changed:
		case <-c.kill:
			return c.reason, c.abort
		case <-idle:
			return EndIdle, false
		case <-r.Context().Done():
			return EndClient, false
		case <-s.ctx.Done():
			return EndShutdown, false
		}
	}
}

// serveJSON answers a POST with application/json once every request in it
// has its response: one object, or an array for a batch. A cut, a random
// drop, or the server ending the connection resets it instead, after the
// requests were processed: the worst case for a client, whose requests ran
// but whose answers were lost.
func (s *Server) serveJSON(w http.ResponseWriter, r *http.Request, c *conn, st *stream, plan StreamPlan, batch bool) {
	reason := s.awaitAnswers(r, c, st)
	if reason == EndDone && plan.Cut.At != NoCut {
		reason = EndCut
	}
	if reason != EndDone {
		s.closeConn(c, reason)
		if reason != EndClient && reason != EndShutdown {
			abortConnection(w)
		}
		return
	}

	s.mu.Lock()
	var answers []event
	for _, ev := range st.events {
		if ev.responseTo != "" {
			answers = append(answers, ev)
		}
	}
	s.mu.Unlock()
	var body bytes.Buffer
	if batch {
		body.WriteByte('[')
	}
	for i, ev := range answers {
		if i > 0 {
			body.WriteByte(',')
		}
		body.Write(ev.data)
	}
	if batch {
		body.WriteByte(']')
	}
	w.Header().Set("Content-Type", "application/json")
	s.setStatus(c.seq, http.StatusOK)
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(body.Bytes()); err != nil {
		s.closeConn(c, EndClient)
		return
	}
	for _, ev := range answers {
		s.noteWritten(c, st, ev)
	}
	s.closeConn(c, EndDone)
}

// awaitAnswers waits until every request of st has its response, and
// returns EndDone then, or why it stopped waiting.
func (s *Server) awaitAnswers(r *http.Request, c *conn, st *stream) EndReason {
	for {
		s.mu.Lock()
		done, changed := st.pending <= 0, st.changed
		s.mu.Unlock()
		if done {
			return EndDone
		}
		select {
		case <-changed:
		case <-c.kill:
			return c.reason
		case <-r.Context().Done():
			return EndClient
		case <-s.ctx.Done():
			return EndShutdown
		}
	}
}

// writeEvent writes ev in SSE form.
func writeEvent(w http.ResponseWriter, ev event) error {
	var b bytes.Buffer
	if ev.priming {
		fmt.Fprintf(&b, "id: %s\n", ev.id)
		if ev.retry > 0 {
			fmt.Fprintf(&b, "retry: %d\n", ev.retry.Milliseconds())
		}
		b.WriteString("data: \n\n")
	} else {
		fmt.Fprintf(&b, "event: message\nid: %s\n", ev.id)
		for line := range strings.SplitSeq(string(ev.data), "\n") {
			fmt.Fprintf(&b, "data: %s\n", line)
		}
		b.WriteString("\n")
	}
	_, err := w.Write(b.Bytes())
	return err
}

// abortConnection resets the client's connection: the body it was reading
// ends with a network error, not a clean end of stream.
func abortConnection(w http.ResponseWriter) {
	if nc, _, err := http.NewResponseController(w).Hijack(); err == nil {
		_ = nc.Close()
		return
	}
	// HTTP/2 cannot hijack; this makes the server reset the stream.
	panic(http.ErrAbortHandler)
}
