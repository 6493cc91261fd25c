package faultserver

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
)

// Server is the fault-injecting MCP server. It is an http.Handler that
// answers on any path; [Start] also runs it on 127.0.0.1.
type Server struct {
	// URL is the MCP endpoint (".../mcp") when the server was started with
	// Start, and "" for a Server made with New.
	URL string

	httpServer *httptest.Server

	// ctx is cancelled by Close. It ends every connection and tool, so that
	// closing the httptest server never waits on a stream that would
	// otherwise stay open until its client leaves.
	ctx       context.Context
	cancel    context.CancelFunc
	closeOnce sync.Once
	workers   sync.WaitGroup

	mu       sync.Mutex
	cfg      Config
	rng      *rand.Rand
	sessions []*session          // by generation - 1, ended ones included
	byID     map[string]*session // every session ever issued
	streams  map[int]*stream     // by stream number, over all sessions
	acct     accounting
}

// New returns a Server scripted by cfg. Config.Seed is read here, once.
func New(cfg Config) *Server {
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		ctx:     ctx,
		cancel:  cancel,
		cfg:     cfg,
		rng:     rand.New(rand.NewPCG(cfg.Seed, 0x5eed)),
		byID:    map[string]*session{},
		streams: map[int]*stream{},
		acct:    accounting{changed: make(chan struct{})},
	}
}

// Start returns a Server scripted by cfg, listening on 127.0.0.1 on a free
// port; Server.URL is its endpoint. Call Close when done.
func Start(cfg Config) *Server {
	s := New(cfg)
	s.httpServer = httptest.NewServer(s)
	s.URL = s.httpServer.URL + "/mcp"
	return s
}

// Close ends every connection and waits for the tools in flight, then stops
// the listener if Start made one. It is safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.cancel() // under mu, so that no worker starts once Wait may run
		s.mu.Unlock()
		s.workers.Wait()
		if s.httpServer != nil {
			s.httpServer.Close()
		}
	})
}

// Configure changes the Config while the server runs. Requests that arrive
// afterwards see the change; those already being answered do not.
func (s *Server) Configure(change func(*Config)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	change(&s.cfg)
}

// ExpireSessions expires every live session, as a server restart does, and
// returns how many there were. Later requests carrying their ids get 404.
func (s *Server) ExpireSessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, ss := range s.sessions {
		if ss.alive() {
			s.endSessionLocked(ss, endExpired)
			n++
		}
	}
	return n
}

// ExpireSession expires the session with the given id, and reports whether
// it was alive.
func (s *Server) ExpireSession(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.byID[id]
	if ss == nil || !ss.alive() {
		return false
	}
	s.endSessionLocked(ss, endExpired)
	return true
}

// CutConnections ends the open connections of the given kind (0 for every
// kind) and returns how many. abort resets them instead of ending them
// cleanly. Their streams survive, so a client can resume them.
func (s *Server) CutConnections(kind ConnKind, abort bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, ss := range s.sessions {
		for c := range ss.conns {
			if kind == 0 || c.kind == kind {
				c.stop(EndKilled, abort)
				n++
			}
		}
	}
	return n
}

// Notify appends a notification to the standalone stream of every live
// session and returns how many sessions got it. A session whose standalone
// GET is not open gets it on its next one.
func (s *Server) Notify(method string, params any) int {
	data := notification(method, params)
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, ss := range s.sessions {
		if ss.alive() {
			s.appendLocked(ss.standalone, event{data: data})
			n++
		}
	}
	return n
}

// config returns a copy of the current Config.
func (s *Server) config() Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

// chance reports true with probability p, from the seeded RNG.
func (s *Server) chance(p float64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rng.Float64() < p
}

// randomCut picks where a random drop breaks a connection.
func (s *Server) randomCut(priming bool) Cut {
	s.mu.Lock()
	defer s.mu.Unlock()
	points := []CutPoint{CutAtOnce, CutBeforeResponse}
	if priming {
		points = append(points, CutAfterPriming)
	}
	return Cut{At: points[s.rng.IntN(len(points))], Abort: s.rng.IntN(2) == 0}
}

// goWorker runs f as a worker that Close cancels and waits for.
func (s *Server) goWorker(f func(ctx context.Context)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		return
	}
	s.workers.Add(1)
	go func() {
		defer s.workers.Done()
		f(s.ctx)
	}()
}

var _ http.Handler = (*Server)(nil)
