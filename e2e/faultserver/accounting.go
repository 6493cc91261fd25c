package faultserver

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Request is the server's record of one HTTP request, taken as it arrived.
// Tests read these to prove what the client sent, and when: that no request
// carried an old lifecycle's session id or Last-Event-ID, how far apart
// reconnects were, how many GETs a scenario cost.
type Request struct {
	Seq        int // 1-based, in order of arrival
	Time       time.Time
	HTTPMethod string
	// RPCMethods are the methods of the requests and notifications in the
	// body, in order; RPCIDs the ids of its requests, as JSON text (`7`,
	// `"a"`). Responses counts client responses to server requests.
	RPCMethods []string
	RPCIDs     []string
	Responses  int
	SessionID  string // Mcp-Session-Id as sent, "" if none
	// SessionGeneration is the generation of the session SessionID names,
	// including sessions that have since ended; 0 if there was no id or the
	// server never issued it.
	SessionGeneration int
	LastEventID       string
	// LastEventGeneration is the generation encoded in LastEventID; 0 if
	// there was none or it is not one of this server's ids.
	LastEventGeneration int
	ProtocolVersion     string      // MCP-Protocol-Version as sent
	Header              http.Header // all request headers, for requestInit/headers() tests; read-only
	// Status is the status answered, once it is known (0 before).
	Status      int
	Intercepted bool // answered by Config.Intercept
}

// ConnKind is the kind of an SSE connection.
type ConnKind int

const (
	ConnPOST       ConnKind = iota + 1 // the stream answering a POST
	ConnStandalone                     // a standalone GET, fresh or resumed
	ConnResume                         // a GET resuming a POST's stream
)

func (k ConnKind) String() string {
	switch k {
	case ConnPOST:
		return "post"
	case ConnStandalone:
		return "standalone"
	case ConnResume:
		return "resume"
	}
	return "unknown"
}

// ConnInfo describes a connection to Config.Plan before it starts.
type ConnInfo struct {
	Kind       ConnKind
	Generation int    // of the session
	Stream     string // the stream's id, e.g. "g1-s4"
	// Ordinal counts the connections of this kind in this session that were
	// planned, this one included, so that a Plan can fault only the first,
	// or every other. (A GET that loses a race to GETReject was planned.)
	Ordinal int
	// Methods are the JSON-RPC methods of the requests the stream answers
	// (POST and resume connections).
	Methods []string
	Request int // Seq of the HTTP request
}

// EndReason says how a connection ended.
type EndReason int

const (
	StillOpen   EndReason = iota // not ended yet
	EndDone                      // all its responses were written
	EndCut                       // its plan cut it, or a random drop did
	EndClient                    // the client went away (the server saw the disconnect)
	EndReplaced                  // a newer standalone GET replaced it (GETReplace)
	EndIdle                      // IdleClose elapsed without an event
	EndKilled                    // CutConnections, session expiry or DELETE
	EndShutdown                  // the server closed
)

func (r EndReason) String() string {
	return [...]string{"open", "done", "cut", "client", "replaced", "idle", "killed", "shutdown"}[r]
}

// Connection is the record of one SSE connection (or JSON answer to a POST,
// with Kind ConnPOST and JSON set).
type Connection struct {
	ID         int // 1-based, in order of opening
	Request    int // Seq of the HTTP request
	Kind       ConnKind
	JSON       bool
	Generation int    // of the session
	Stream     string // e.g. "g1-s4"
	Plan       StreamPlan
	Opened     time.Time
	// Closed is when the server ended the connection or saw the client end
	// it; zero while open. With End == EndClient, Closed-minus-the-client's
	// abort is how long the disconnect took to reach the server.
	Closed      time.Time
	End         EndReason
	Events      int    // events written, priming included
	LastEventID string // id of the last event written
}

// Delivery records one response written to the wire.
type Delivery struct {
	Generation int
	RPCID      string // JSON text of the request id
	Connection int    // Connection.ID
	Time       time.Time
}

// SessionInfo is the record of one server-side session.
type SessionInfo struct {
	ID          string
	Generation  int // 1 for the first session the server created, and so on
	Created     time.Time
	Initialized bool // notifications/initialized arrived
	// Ended is when the session expired or was deleted; zero while alive.
	Ended    time.Time
	Expired  bool // ended by expiry (ExpireSession(s), ExpireAfter)
	Deleted  bool // ended by DELETE
	Requests int  // requests that carried its id
	// OpenStandalone is the number of its standalone GETs open now, and
	// MaxOpenStandalone the most ever open at once. A new GET counts from
	// the moment it arrives, before GETReplace ends the old one, so a
	// client that opens a second standalone stream always shows 2.
	OpenStandalone    int
	MaxOpenStandalone int
}

// Counts are totals over all requests.
type Counts struct {
	HTTP       map[string]int // by HTTP method: "POST", "GET", "DELETE"
	RPC        map[string]int // by JSON-RPC method: "tools/call", ...
	Status     map[int]int    // by status answered
	Preflights int            // CORS OPTIONS requests, which are not recorded as Requests
}

// accounting holds every record. It is guarded by Server.mu.
type accounting struct {
	requests    []Request
	connections []Connection
	deliveries  []Delivery
	preflights  int
	// changed is closed and replaced whenever a record changes, so that
	// Wait can sleep until there is something new to look at.
	changed chan struct{}
}

// notifyLocked wakes every Wait. The caller holds Server.mu.
func (a *accounting) notifyLocked() {
	close(a.changed)
	a.changed = make(chan struct{})
}

// Requests returns a copy of every request recorded so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.acct.requests)
}

// Connections returns a copy of every connection recorded so far.
func (s *Server) Connections() []Connection {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.acct.connections)
}

// Deliveries returns a copy of every response delivery so far.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.acct.deliveries)
}

// DeliveryCount is how many times the response to request id (JSON text,
// e.g. `3`) of the session with the given generation reached the wire.
// "Exactly once" tests want 1.
func (s *Server) DeliveryCount(generation int, id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, d := range s.acct.deliveries {
		if d.Generation == generation && d.RPCID == id {
			n++
		}
	}
	return n
}

// Sessions returns every session the server created, oldest first.
func (s *Server) Sessions() []SessionInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SessionInfo, len(s.sessions))
	for i, ss := range s.sessions {
		out[i] = ss.info
	}
	return out
}

// Session returns the newest live session, and false if there is none.
func (s *Server) Session() (SessionInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.sessions) - 1; i >= 0; i-- {
		if s.sessions[i].alive() {
			return s.sessions[i].info, true
		}
	}
	return SessionInfo{}, false
}

// OpenStandalone is the number of standalone GETs open now, over all
// sessions.
func (s *Server) OpenStandalone() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, ss := range s.sessions {
		n += ss.info.OpenStandalone
	}
	return n
}

// MaxOpenStandalone is the most standalone GETs any one session ever had
// open at once. The leapfrog scenario wants at most 1.
func (s *Server) MaxOpenStandalone() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, ss := range s.sessions {
		n = max(n, ss.info.MaxOpenStandalone)
	}
	return n
}

// Counts returns totals by HTTP method, JSON-RPC method and status.
func (s *Server) Counts() Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := Counts{HTTP: map[string]int{}, RPC: map[string]int{}, Status: map[int]int{}, Preflights: s.acct.preflights}
	for _, r := range s.acct.requests {
		c.HTTP[r.HTTPMethod]++
		for _, m := range r.RPCMethods {
			c.RPC[m]++
		}
		if r.Status != 0 {
			c.Status[r.Status]++
		}
	}
	return c
}

// Reconnect pairs a connection that ended with the first GET that came
// back for its stream afterwards.
type Reconnect struct {
	Connection Connection // the connection that ended
	// Request is the first later GET of the same session that carried one
	// of the stream's event ids as Last-Event-ID, or, for a standalone
	// stream, any later GET of the session.
	Request Request
	Gap     time.Duration // from Connection.Closed to Request.Time
}

// Reconnects lists, for every ended connection that a client came back
// for, how long it waited: the retry-per-stream scenario compares these
// gaps with each stream's retry value, and a finished POST stream (End ==
// EndDone) should never appear.
func (s *Server) Reconnects() []Reconnect {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Reconnect
	for _, c := range s.acct.connections {
		if c.Closed.IsZero() {
			continue
		}
		for _, r := range s.acct.requests {
			if r.HTTPMethod != http.MethodGet || r.SessionGeneration != c.Generation || r.Time.Before(c.Closed) {
				continue
			}
			sameStream := strings.HasPrefix(r.LastEventID, c.Stream+"-e")
			if sameStream || (c.Kind == ConnStandalone && r.LastEventID == "") {
				out = append(out, Reconnect{Connection: c, Request: r, Gap: r.Time.Sub(c.Closed)})
				break
			}
		}
	}
	return out
}

// Wait blocks until cond returns true or ctx is done. cond is called once
// at first and again after every change to the records, with no lock held,
// so it may call any of the Server's accessors.
func (s *Server) Wait(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		changed := s.acct.changed
		s.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// recordLocked appends r, numbering it, and returns its Seq. The caller
// holds s.mu.
func (s *Server) recordLocked(r Request) int {
	r.Seq = len(s.acct.requests) + 1
	s.acct.requests = append(s.acct.requests, r)
	s.acct.notifyLocked()
	return r.Seq
}

// setStatus records the status answered to request seq.
func (s *Server) setStatus(seq, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.acct.requests[seq-1].Status = status
	s.acct.notifyLocked()
}
