package shim

import (
	"math"
	"math/rand/v2"
	"time"
)

// ReconnectOptions is the reconnect policy shared by the transport and the
// EventSource. The field names mirror the TypeScript SDK's
// reconnectionOptions (initialReconnectionDelay, maxReconnectionDelay,
// reconnectionDelayGrowFactor, maxRetries).
type ReconnectOptions struct {
	InitialDelay time.Duration // used when the stream never set retry
	MaxDelay     time.Duration // cap for the exponential growth
	GrowFactor   float64       // multiplier per attempt without progress
	MaxRetries   int           // attempts without progress before giving up; < 0 means no limit
}

// DefaultReconnectOptions are the TypeScript SDK's defaults.
var DefaultReconnectOptions = ReconnectOptions{
	InitialDelay: time.Second,
	MaxDelay:     30 * time.Second,
	GrowFactor:   1.5,
	MaxRetries:   2,
}

// withDefaults fills zero fields from DefaultReconnectOptions.
func (o ReconnectOptions) withDefaults() ReconnectOptions {
	d := DefaultReconnectOptions
	if o.InitialDelay <= 0 {
		o.InitialDelay = d.InitialDelay
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = d.MaxDelay
	}
	if o.GrowFactor < 1 {
		o.GrowFactor = d.GrowFactor
	}
	return o
}

// Backoff counts the reconnect attempts of one logical stream and computes
// the delay before each. It is not safe for concurrent use: each stream owns
// its own, so one stream's server retry value never leaks into another's.
//
// The first attempt after progress waits exactly the base delay (the
// stream's own retry value, or InitialDelay): the MCP spec says a client
// MUST wait the retry value, and conformance suites time it. Later attempts
// without progress grow by GrowFactor, capped at MaxDelay, and are jittered
// into [d/2, d] so that many clients cut at once do not return at once,
// while no delay ever drops to a tight loop.
type Backoff struct {
	opts    ReconnectOptions
	attempt int
	rand    func() float64 // in [0, 1); replaceable in tests
}

// NewBackoff returns a Backoff with opts, zero fields taking the defaults.
func NewBackoff(opts ReconnectOptions) *Backoff {
	return &Backoff{opts: opts.withDefaults(), rand: rand.Float64}
}

// Attempts returns the number of attempts made since the last progress.
func (b *Backoff) Attempts() int { return b.attempt }

// Progress records that the stream made progress (an event, a new event
// id, or a connection that stayed open longer than the delay before it):
// the next failure starts again from the base delay.
func (b *Backoff) Progress() { b.attempt = 0 }

// Nominal returns the un-jittered delay for attempt n (0-based) from base.
func (b *Backoff) Nominal(base time.Duration, n int) time.Duration {
	if base <= 0 {
		base = b.opts.InitialDelay
	}
	d := float64(base) * math.Pow(b.opts.GrowFactor, float64(n))
	if d > float64(b.opts.MaxDelay) {
		d = float64(b.opts.MaxDelay)
	}
	if base > b.opts.MaxDelay && n == 0 {
		// A server's retry larger than our cap is still honoured once.
		d = float64(base)
	}
	return time.Duration(d)
}

// Next returns the delay before the next attempt and counts it. base is
// the stream's retry value, or 0 when it set none. ok is false once
// MaxRetries attempts have been made without progress.
func (b *Backoff) Next(base time.Duration) (delay time.Duration, ok bool) {
	if b.opts.MaxRetries >= 0 && b.attempt >= b.opts.MaxRetries {
		return 0, false
	}
	n := b.attempt
	b.attempt++
	d := b.Nominal(base, n)
	if n == 0 {
		return d, true
	}
	return d/2 + time.Duration(b.rand()*float64(d/2)), true
}
