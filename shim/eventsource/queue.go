package eventsource

import "sync"

// serialQueue runs functions one at a time, in the order they were pushed,
// on a goroutine of its own. It is how each Source gets its callbacks
// serialized and in order without the connection ever waiting for a slow
// listener, and without anyone holding a lock while a listener runs. The
// goroutine exists only while there is work, so idle Sources cost nothing.
type serialQueue struct {
	mu      sync.Mutex
	items   []func()
	running bool
}

// push schedules f after everything pushed before it. It never runs f
// itself, so it is safe to call with other locks held.
func (q *serialQueue) push(f func()) {
	q.mu.Lock()
	q.items = append(q.items, f)
	if q.running {
		q.mu.Unlock()
		return
	}
	q.running = true
	q.mu.Unlock()
	go q.drain()
}

func (q *serialQueue) drain() {
	for {
		q.mu.Lock()
		if len(q.items) == 0 {
			q.running = false
			q.items = nil
			q.mu.Unlock()
			return
		}
		f := q.items[0]
		q.items[0] = nil
		q.items = q.items[1:]
		q.mu.Unlock()
		f()
	}
}
