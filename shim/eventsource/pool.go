package eventsource

import (
	"math/rand/v2"
	"sync"
)

// Pool owns the registry of shared connections. The wasm module keeps one
// per instance; connections are shared only between Sources of one Pool.
//
// A single mutex guards the registry, every connection's subscriber list
// and every Source's state. It is only ever held for bookkeeping, never
// across I/O, waiting or a callback, so one lock keeps the invariants simple
// without costing concurrency.
type Pool struct {
	mu     sync.Mutex
	shared map[string][]*conn // by shareKey; several when Fetchers differ

	// random draws the jitter; replaceable in tests.
	random func() float64
}

// NewPool returns an empty Pool.
func NewPool() *Pool {
	return &Pool{shared: make(map[string][]*conn), random: rand.Float64}
}

// Open starts a Source, as `new EventSource()` does. It returns at once with
// the Source in Connecting; every callback comes later on another
// goroutine, even when the Source joins a shared connection that is
// already open.
func (p *Pool) Open(opts Options, l Listener) *Source {
	s := &Source{pool: p, url: opts.URL, listener: l, state: Connecting}
	key, shareable := shareKey(&opts)

	p.mu.Lock()
	if shareable {
		for _, c := range p.shared[key] {
			if !sameFetcher(c.fetcher, opts.Fetcher) {
				continue
			}
			c.subs = append(c.subs, s)
			s.conn = c
			if c.open {
				// The connection was announced before s existed: s gets
				// its own announcement, at its next task as the issue
				// puts it, and events from then on.
				s.deliverOpen(c.origin)
			}
			p.mu.Unlock()
			return s
		}
	}
	c := newConn(p, &opts, key)
	c.subs = []*Source{s}
	s.conn = c
	if shareable {
		p.shared[key] = append(p.shared[key], c)
	}
	p.mu.Unlock()

	go c.run()
	return s
}

// unregisterLocked removes c from the registry, so that the next Open
// starts a new connection instead of joining one that is going away.
// p.mu must be held.
func (p *Pool) unregisterLocked(c *conn) {
	if c.key == "" {
		return
	}
	list := p.shared[c.key]
	for i, other := range list {
		if other == c {
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(p.shared, c.key)
	} else {
		p.shared[c.key] = list
	}
}
