package eventsource

import (
	"sync"

	"github.com/esshim/esshim/shim/sse"
)

// Source is one EventSource instance: what the JS object wraps. Several
// Sources may share one physical connection; each keeps its own readyState
// and its own callback order.
type Source struct {
	pool     *Pool
	url      string
	listener Listener
	queue    serialQueue

	// Guarded by pool.mu.
	conn   *conn
	state  ReadyState
	closed bool // Close was called or the connection failed: no more callbacks
}

// URL returns the URL the Source was opened with (not the one redirects led
// to), as the url attribute does.
func (s *Source) URL() string { return s.url }

// ReadyState returns the state the readyState attribute exposes. It changes
// when the matching callback is delivered, not when the network event
// happens, exactly as the spec changes it inside the queued task.
func (s *Source) ReadyState() ReadyState {
	s.pool.mu.Lock()
	defer s.pool.mu.Unlock()
	return s.state
}

// Close is EventSource.close(): readyState becomes Closed at once, and no
// callback for this Source starts after Close returns. Closing the last
// Source on a connection cancels its pending reconnect timer and aborts its
// in-flight fetch; other Sources on a shared connection carry on. Close
// never waits for anything, so it is safe anywhere, including inside a
// Listener callback, and calling it again does nothing.
func (s *Source) Close() {
	p := s.pool
	p.mu.Lock()
	if s.closed {
		s.state = Closed
		p.mu.Unlock()
		return
	}
	s.closed = true
	s.state = Closed
	c := s.conn
	s.conn = nil
	stop := false
	if c != nil {
		c.subs = removeSource(c.subs, s)
		if len(c.subs) == 0 && !c.done {
			c.done = true
			p.unregisterLocked(c)
			stop = true
		}
	}
	p.mu.Unlock()
	if stop {
		c.cancel()
	}
}

func removeSource(list []*Source, s *Source) []*Source {
	for i, other := range list {
		if other == s {
			return append(list[:i], list[i+1:]...)
		}
	}
	return list
}

// The deliver methods queue one spec task each. They are called with
// pool.mu held (so that their order matches the connection's bookkeeping);
// the task itself runs later, takes the lock only to check and update the
// state, and calls the listener without it.

// deliverOpen queues "announce the connection".
func (s *Source) deliverOpen(origin string) {
	s.queue.push(func() {
		if !s.transition(Open, false) || s.listener.Open == nil {
			return
		}
		s.listener.Open(origin)
	})
}

// deliverEvents queues the dispatch of one chunk's events.
func (s *Source) deliverEvents(events []sse.Event) {
	s.queue.push(func() {
		if !s.live() || s.listener.Events == nil {
			return
		}
		s.listener.Events(events)
	})
}

// deliverReconnecting queues the first task of "reestablish the
// connection". done is called once the task has run or been skipped: the
// connection must not fetch again before that (spec step "wait until the
// aforementioned task has run"), so that a Close from the error handler
// prevents the next request rather than aborting it.
func (s *Source) deliverReconnecting(done func()) {
	s.queue.push(func() {
		defer done()
		if !s.transition(Connecting, false) || s.listener.Error == nil {
			return
		}
		s.listener.Error(Connecting)
	})
}

// deliverFailure queues "fail the connection".
func (s *Source) deliverFailure() {
	s.queue.push(func() {
		if !s.transition(Closed, true) || s.listener.Error == nil {
			return
		}
		s.listener.Error(Closed)
	})
}

// transition sets the state for a task about to fire, unless the Source is
// closed, and reports whether the task should fire. final marks the Source
// closed for good.
func (s *Source) transition(state ReadyState, final bool) bool {
	s.pool.mu.Lock()
	defer s.pool.mu.Unlock()
	if s.closed {
		return false
	}
	s.state = state
	s.closed = final
	return true
}

func (s *Source) live() bool {
	s.pool.mu.Lock()
	defer s.pool.mu.Unlock()
	return !s.closed
}

// countdown closes its channel once done has been called n times: how a
// connection waits for every Source's error task.
type countdown struct {
	mu sync.Mutex
	n  int
	ch chan struct{}
}

func newCountdown(n int) *countdown {
	c := &countdown{n: n, ch: make(chan struct{})}
	if n <= 0 {
		close(c.ch)
	}
	return c
}

func (c *countdown) done() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n--
	if c.n == 0 {
		close(c.ch)
	}
}
