package faultserver

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"
)

// session is one server-side MCP session. Its number in order of creation
// is its generation: a client that restarts and initializes again gets a
// new generation, which is how the accounting tells one lifecycle's
// requests from the next one's.
type session struct {
	info       SessionInfo
	standalone *stream            // the one logical standalone stream
	conns      map[*conn]struct{} // its open connections
	ordinals   map[ConnKind]int   // connections opened so far, by kind
}

func (ss *session) alive() bool { return ss.info.Ended.IsZero() }

type endKind int

const (
	endExpired endKind = iota
	endDeleted
)

// newSessionLocked creates a session with the next generation. The caller
// holds s.mu.
func (s *Server) newSessionLocked() *session {
	gen := len(s.sessions) + 1
	ss := &session{
		info: SessionInfo{
			// The random part makes ids unguessable from the generation, as
			// real ones are, so a client cannot get lucky by reusing one.
			ID:         fmt.Sprintf("fs%d-%016x", gen, rand.Uint64()),
			Generation: gen,
			Created:    time.Now(),
		},
		conns:    map[*conn]struct{}{},
		ordinals: map[ConnKind]int{},
	}
	ss.standalone = s.newStreamLocked(ss, nil, 0)
	ss.standalone.isStandalone = true
	s.sessions = append(s.sessions, ss)
	s.byID[ss.info.ID] = ss
	s.acct.notifyLocked()
	return ss
}

// endSessionLocked ends ss. Unless the Config keeps them, its connections
// are reset, as a restarting server's would be. The caller holds s.mu.
func (s *Server) endSessionLocked(ss *session, how endKind) {
	ss.info.Ended = time.Now()
	ss.info.Expired = how == endExpired
	ss.info.Deleted = how == endDeleted
	if how == endDeleted || !s.cfg.KeepStreamsOnExpiry {
		for c := range ss.conns {
			c.stop(EndKilled, how == endExpired)
		}
	}
	s.acct.notifyLocked()
}

// sessionFor resolves the session a request names, counting the request
// against it. When the request cannot go on (no id, unknown or ended
// session, or ExpireAfter reached) it answers the request itself and
// returns nil.
func (s *Server) sessionFor(w http.ResponseWriter, r *http.Request, seq int) *session {
	id := r.Header.Get("Mcp-Session-Id")
	if id == "" {
		s.answer(w, seq, http.StatusBadRequest, "text/plain; charset=utf-8", "missing Mcp-Session-Id\n")
		return nil
	}
	s.mu.Lock()
	ss := s.byID[id]
	expired := ss == nil || !ss.alive()
	if !expired {
		ss.info.Requests++
		if s.cfg.ExpireAfter > 0 && ss.info.Requests > s.cfg.ExpireAfter {
			s.endSessionLocked(ss, endExpired)
			expired = true
		}
	}
	body, delay := s.cfg.ExpiredBody, s.cfg.ExpiredDelay
	s.mu.Unlock()
	if expired {
		s.answerExpired(w, r, seq, body, delay)
		return nil
	}
	return ss
}

// answerExpired sends the 404 for an expired or unknown session.
func (s *Server) answerExpired(w http.ResponseWriter, r *http.Request, seq int, body ExpiredBody, delay time.Duration) {
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
		case <-s.ctx.Done():
		}
	}
	switch body {
	case ExpiredJSONRPC32001:
		s.answer(w, seq, http.StatusNotFound, "application/json", `{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Session not found"}}`)
	case ExpiredJSONRPC32002:
		s.answer(w, seq, http.StatusNotFound, "application/json", `{"jsonrpc":"2.0","id":null,"error":{"code":-32002,"message":"Session not found"}}`)
	case ExpiredHTML:
		s.answer(w, seq, http.StatusNotFound, "text/html; charset=utf-8", "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>\n")
	case ExpiredEmpty:
		s.answer(w, seq, http.StatusNotFound, "", "")
	default:
		s.answer(w, seq, http.StatusNotFound, "text/plain; charset=utf-8", "session not found\n")
	}
}

// answer writes a whole, small response and records its status.
func (s *Server) answer(w http.ResponseWriter, seq, status int, contentType, body string) {
	if contentType != "" {
		w.Header().Set("Content-Type", contentType)
	}
	s.setStatus(seq, status)
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}
