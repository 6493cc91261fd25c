package eventsource

import (
	"time"

	"github.com/esshim/esshim/shim"
)

// reconnectDelay returns how long to wait before reconnection attempt n,
// counted from 0 since the stream last made progress. floor is the
// reconnection time: the stream's retry value, or InitialDelay when it set
// none. rnd is uniform in [0, 1).
//
// The spec says to wait the reconnection time and then, optionally, some
// more. So the delay is drawn uniformly ("full jitter") from a window that
// starts at floor and whose top grows by GrowFactor per attempt without
// progress, capped at MaxDelay. Attempt 0 already spreads over one growth
// step, so that many clients cut at once do not return at once; a stream
// that keeps failing slows down exponentially on average. A retry of 0 is
// honoured once (reconnect at once); if that fails too, the window grows
// from InitialDelay, so that `retry: 0` cannot turn into a tight loop.
func reconnectDelay(b *shim.Backoff, floor time.Duration, n int, rnd float64) time.Duration {
	var top time.Duration
	switch {
	case floor > 0:
		top = b.Nominal(floor, n+1)
	case n > 0:
		top = b.Nominal(0, n) // Nominal grows a zero base from InitialDelay.
	}
	if top < floor {
		top = floor // a retry above MaxDelay is honoured as is
	}
	return floor + time.Duration(rnd*float64(top-floor))
}
