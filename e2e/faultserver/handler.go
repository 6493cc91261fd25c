package faultserver

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ServeHTTP answers one request of the Streamable HTTP transport, on any
// path: POST carries messages, GET opens or resumes a stream, DELETE ends
// the session. Every request except CORS preflights is recorded first.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setCORS(w.Header(), r)
	if r.Method == http.MethodOptions {
		s.preflight(w, r)
		return
	}

	var (
		msgs     []message
		batch    bool
		parseErr error
	)
	if r.Method == http.MethodPost {
		body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
		if err != nil {
			return // the client is gone; there is no one to answer
		}
		msgs, batch, parseErr = parseMessages(body)
	}
	seq, cfg := s.record(r, msgs)

	if cfg.Intercept != nil {
		s.mu.Lock()
		rec := s.acct.requests[seq-1]
		s.mu.Unlock()
		if reply := cfg.Intercept(rec); reply != nil {
			s.serveReply(w, r, seq, reply)
			return
		}
	}

	switch r.Method {
	case http.MethodPost:
		if parseErr != nil {
			s.answer(w, seq, http.StatusBadRequest, "application/json",
				string(rpcError(nil, -32700, "parse error: "+parseErr.Error())))
			return
		}
		s.servePOST(w, r, seq, cfg, msgs, batch)
	case http.MethodGet:
		s.serveGET(w, r, seq, cfg)
	case http.MethodDelete:
		s.serveDELETE(w, r, seq, cfg)
	default:
		w.Header().Set("Allow", "GET, POST, DELETE, OPTIONS")
		s.answer(w, seq, http.StatusMethodNotAllowed, "text/plain; charset=utf-8", "method not allowed\n")
	}
}

// record files the request in the accounting and returns its Seq and the
// Config it is to be answered by.
func (s *Server) record(r *http.Request, msgs []message) (int, Config) {
	rec := Request{
		Time:            time.Now(),
		HTTPMethod:      r.Method,
		SessionID:       r.Header.Get("Mcp-Session-Id"),
		LastEventID:     r.Header.Get("Last-Event-ID"),
		ProtocolVersion: r.Header.Get("Mcp-Protocol-Version"),
		Header:          r.Header.Clone(),
	}
	for _, m := range msgs {
		switch {
		case m.isRequest():
			rec.RPCMethods = append(rec.RPCMethods, m.Method)
			rec.RPCIDs = append(rec.RPCIDs, string(m.ID))
		case m.isNotification():
			rec.RPCMethods = append(rec.RPCMethods, m.Method)
		default:
			rec.Responses++
		}
	}
	if gen, _, _, ok := parseEventID(rec.LastEventID); ok {
		rec.LastEventGeneration = gen
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ss := s.byID[rec.SessionID]; ss != nil {
		rec.SessionGeneration = ss.info.Generation
	}
	return s.recordLocked(rec), s.cfg
}

// servePOST handles a POST: initialize creates a session; notifications and
// responses alone get 202; requests get a stream (or a JSON answer) that
// their workers fill in.
func (s *Server) servePOST(w http.ResponseWriter, r *http.Request, seq int, cfg Config, msgs []message, batch bool) {
	var requests []message
	initialize := false
	for _, m := range msgs {
		if m.isRequest() {
			requests = append(requests, m)
			initialize = initialize || m.Method == "initialize"
		}
	}

	var ss *session
	if initialize {
		if len(msgs) != 1 {
			s.answer(w, seq, http.StatusBadRequest, "text/plain; charset=utf-8", "initialize must be sent alone\n")
			return
		}
		s.mu.Lock()
		ss = s.newSessionLocked()
		s.mu.Unlock()
		w.Header().Set("Mcp-Session-Id", ss.info.ID)
	} else if ss = s.sessionFor(w, r, seq); ss == nil {
		return
	}

	for _, m := range msgs {
		if m.isNotification() && m.Method == "notifications/initialized" {
			s.mu.Lock()
			ss.info.Initialized = true
			s.acct.notifyLocked()
			s.mu.Unlock()
		}
	}
	if len(requests) == 0 {
		s.answer(w, seq, http.StatusAccepted, "", "")
		return
	}

	methods := make([]string, len(requests))
	for i, m := range requests {
		methods[i] = m.Method
	}
	if !strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		cfg.Responses = ResponsesJSON // the client cannot read a stream
	}
	s.mu.Lock()
	st := s.newStreamLocked(ss, methods, len(requests))
	s.mu.Unlock()
	plan := s.plan(cfg, ConnPOST, ss, st, seq)

	s.mu.Lock()
	st.json = plan.JSON
	if plan.Priming && !plan.JSON {
		s.appendLocked(st, event{priming: true, retry: plan.Retry})
	}
	c := s.openConnLocked(ss, Connection{Request: seq, Kind: ConnPOST, JSON: plan.JSON, Generation: ss.info.Generation, Stream: st.id, Plan: plan})
	s.mu.Unlock()

	for _, m := range requests {
		s.goWorker(func(ctx context.Context) { s.answerRequest(ctx, st, m, cfg) })
	}
	if plan.JSON {
		s.serveJSON(w, r, c, st, plan, batch)
	} else {
		s.serveSSE(w, r, c, st, 0, plan)
	}
}

// serveGET opens a standalone stream, or resumes one by Last-Event-ID: the
// session's standalone stream, or a POST's stream.
func (s *Server) serveGET(w http.ResponseWriter, r *http.Request, seq int, cfg Config) {
	ss := s.sessionFor(w, r, seq)
	if ss == nil {
		return
	}
	st, kind, from := ss.standalone, ConnStandalone, -1
	if lastID := r.Header.Get("Last-Event-ID"); lastID != "" {
		_, num, index, ok := parseEventID(lastID)
		s.mu.Lock()
		st = s.streams[num]
		s.mu.Unlock()
		if !ok || st == nil || st.session != ss {
			s.answer(w, seq, http.StatusBadRequest, "text/plain; charset=utf-8", "unknown Last-Event-ID for this session\n")
			return
		}
		from = index + 1
		if !st.isStandalone {
			kind = ConnResume
		}
	}
	if kind == ConnStandalone && cfg.GET == GETNotAllowed {
		w.Header().Set("Allow", "POST, DELETE")
		s.answer(w, seq, http.StatusMethodNotAllowed, "text/plain; charset=utf-8", "no standalone stream\n")
		return
	}
	plan := s.plan(cfg, kind, ss, st, seq)

	// Checking for an open standalone GET and opening this one happen under
	// one lock, so that two GETs racing in (what a client that fails to
	// coalesce sends) are judged one after the other.
	s.mu.Lock()
	if kind == ConnStandalone && cfg.GET == GETReject && ss.info.OpenStandalone > 0 {
		s.mu.Unlock()
		s.answer(w, seq, http.StatusConflict, "text/plain; charset=utf-8", "a standalone stream is already open\n")
		return
	}
	if from < 0 {
		from = st.undelivered
	}
	if kind == ConnStandalone && cfg.GET == GETReplace {
		for old := range ss.conns {
			if old.kind == ConnStandalone {
				old.stop(EndReplaced, false)
			}
		}
	}
	c := s.openConnLocked(ss, Connection{Request: seq, Kind: kind, Generation: ss.info.Generation, Stream: st.id, Plan: plan})
	if plan.Priming {
		s.appendLocked(st, event{priming: true, retry: plan.Retry})
	}
	s.mu.Unlock()
	s.serveSSE(w, r, c, st, from, plan)
}

// serveDELETE ends the session, with Config.DeleteStatus.
func (s *Server) serveDELETE(w http.ResponseWriter, r *http.Request, seq int, cfg Config) {
	ss := s.sessionFor(w, r, seq)
	if ss == nil {
		return
	}
	status := cfg.DeleteStatus
	if status == 0 {
		status = http.StatusOK
	}
	if status >= 200 && status < 300 {
		s.mu.Lock()
		s.endSessionLocked(ss, endDeleted)
		s.mu.Unlock()
	}
	s.answer(w, seq, status, "", "")
}

// plan decides the plan of one connection: the Config's default for its
// kind, the response mode, the Plan hook, then a random drop.
func (s *Server) plan(cfg Config, kind ConnKind, ss *session, st *stream, seq int) StreamPlan {
	var plan StreamPlan
	switch kind {
	case ConnPOST:
		plan = cfg.POST
		switch cfg.Responses {
		case ResponsesJSON:
			plan.JSON = true
		case ResponsesMixed:
			plan.JSON = s.chance(0.5)
		default:
			plan.JSON = false
		}
	case ConnStandalone:
		plan = cfg.Standalone
	case ConnResume:
		plan = cfg.Resume
	}
	s.mu.Lock()
	ss.ordinals[kind]++
	info := ConnInfo{Kind: kind, Generation: ss.info.Generation, Stream: st.id, Ordinal: ss.ordinals[kind], Methods: st.methods, Request: seq}
	s.mu.Unlock()
	if cfg.Plan != nil {
		plan = cfg.Plan(info, plan)
	}
	if kind != ConnStandalone && cfg.DropRate > 0 && plan.Cut.At == NoCut && s.chance(cfg.DropRate) {
		plan.Cut = s.randomCut(plan.Priming)
	}
	return plan
}

// serveReply sends an Intercept's Reply.
func (s *Server) serveReply(w http.ResponseWriter, r *http.Request, seq int, reply *Reply) {
	s.mu.Lock()
	s.acct.requests[seq-1].Intercepted = true
	s.mu.Unlock()
	if reply.Delay > 0 && !sleep(r.Context(), reply.Delay) {
		return
	}
	if reply.Reset {
		abortConnection(w)
		return
	}
	for k, v := range reply.Header {
		w.Header().Set(k, v)
	}
	status := reply.Status
	if status == 0 {
		status = http.StatusOK
	}
	s.answer(w, seq, status, "", reply.Body)
}

// setCORS lets a test page on another loopback origin read every answer,
// including the 404s and the Mcp-Session-Id header: without it a browser
// turns them into opaque network errors.
func setCORS(h http.Header, r *http.Request) {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return
	}
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Set("Access-Control-Expose-Headers", "Mcp-Session-Id, Mcp-Protocol-Version, WWW-Authenticate")
	h.Add("Vary", "Origin")
}

// preflight answers a CORS preflight, allowing whatever was asked.
func (s *Server) preflight(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.acct.preflights++
	s.acct.notifyLocked()
	s.mu.Unlock()
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")
	if asked := r.Header.Get("Access-Control-Request-Headers"); asked != "" {
		h.Set("Access-Control-Allow-Headers", asked)
	}
	h.Set("Access-Control-Max-Age", strconv.Itoa(600))
	w.WriteHeader(http.StatusNoContent)
}
