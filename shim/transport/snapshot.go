package transport

// Snapshot is the connection manager's state at one moment, for the demo
// page and for tests that prove nothing leaks.
type Snapshot struct {
	Lifecycle int // number of the current (or last) lifecycle; 0 before the first Start
	SessionID string
	// Era is the protocol generation of the transport's protocol version:
	// "legacy" (2025 revisions, sessions) or "modern" (2026-07-28 on).
	Era      string
	Streams  []StreamInfo // live streams, by ID
	Inflight []string     // raw JSON ids of requests awaiting an outcome, sorted
	// Goroutines and Timers count the transport's own live goroutines
	// (including the callback dispatcher) and pending timers, over all
	// lifecycles: after Close's channel is closed and the callbacks are
	// delivered, they return to zero.
	Goroutines int
	Timers     int
}

// StreamInfo describes one logical stream.
type StreamInfo struct {
	ID          int
	Kind        string // "post", "standalone" or "resume"
	State       string // "connecting", "open" or "reconnecting"
	LastEventID string
	Reconnects  int // reconnect attempts made
	Events      int // events received
}

// Snapshot returns the current state.
func (t *Transport) Snapshot() Snapshot {
	t.mu.Lock()
	defer t.mu.Unlock()
	snap := Snapshot{Lifecycle: t.starts, Goroutines: t.goroutines, Timers: t.timers, SessionID: t.seedSession,
		Era: eraOf(t.seedVersion).String()}
	lc := t.cur
	if lc == nil {
		return snap
	}
	snap.SessionID = lc.sess.id
	snap.Era = eraOf(lc.protocolVersion).String()
	for _, s := range lc.streams {
		snap.Streams = append(snap.Streams, StreamInfo{
			ID: s.id, Kind: s.kind, State: s.state, LastEventID: s.lastEventID,
			Reconnects: s.reconnects, Events: s.events,
		})
	}
	insertionSort(snap.Streams, func(a, b StreamInfo) bool { return a.ID < b.ID })
	for id := range lc.inflight {
		snap.Inflight = append(snap.Inflight, id)
	}
	insertionSort(snap.Inflight, func(a, b string) bool { return a < b })
	return snap
}

// insertionSort sorts the few entries of a snapshot. The slices package's
// pdqsort would add some 20 KB of code per element type to the wasm.
func insertionSort[T any](s []T, less func(a, b T) bool) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && less(s[j], s[j-1]); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
