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
	InitialDelay time.Duration // the reconnection time while the stream set no retry
	MaxDelay     time.Duration // cap for the exponential growth (never for the server's retry)
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

// WithDefaults fills the fields of o that are unset or unusable from d:
// delays of zero or less, and a GrowFactor below 1 or NaN. MaxRetries is
// taken as is.
func (o ReconnectOptions) WithDefaults(d ReconnectOptions) ReconnectOptions {
	if o.InitialDelay <= 0 {
		o.InitialDelay = d.InitialDelay
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = d.MaxDelay
	}
	if !(o.GrowFactor >= 1) { // NaN too
		o.GrowFactor = d.GrowFactor
	}
	return o
}

// RetryDelay converts a stream's retry field, in milliseconds, to a
// Duration. Values beyond what a Duration holds (about 292 years) saturate
// instead of wrapping: `retry: 9223372036855` must not become a negative or
// tiny delay, which would reconnect in a tight loop.
func RetryDelay(ms int64) time.Duration {
	switch {
	case ms <= 0:
		return 0
	case ms > math.MaxInt64/int64(time.Millisecond):
		return math.MaxInt64
	}
	return time.Duration(ms) * time.Millisecond
}

// Milliseconds converts a JS millisecond count to a Duration: NaN and
// values of zero or less give 0, and Infinity or anything too large
// saturates at the largest Duration.
func Milliseconds(ms float64) time.Duration {
	if !(ms > 0) {
		return 0
	}
	return saturate(ms * float64(time.Millisecond))
}

// saturate converts a non-negative float64 of nanoseconds to a Duration,
// clamped to the Duration range (Go leaves out-of-range conversions
// undefined).
func saturate(ns float64) time.Duration {
	switch {
	case !(ns > 0):
		return 0
	case ns >= math.MaxInt64: // float64(MaxInt64) is 2^63, out of range
		return math.MaxInt64
	}
	return time.Duration(ns)
}

// delay is the one reconnect-delay policy: the wait before reconnection
// attempt n, counted from 0 since the stream last made progress, of a
// stream whose reconnection time is floor (its retry value, or
// InitialDelay while it set none). rnd is uniform in [0, 1].
//
//   - Attempt 0 waits exactly floor: the MCP spec says a client MUST wait
//     the retry value (conformance suites time it), and the native
//     EventSource does the same.
//   - Later attempts grow a step from floor (from InitialDelay when floor is
//     0) by GrowFactor per attempt, capped at MaxDelay, and are jittered
//     into [step/2, step] so that many clients cut at once do not return at
//     once; a retry of 0 is honoured once, then the step keeps it from
//     becoming a tight loop.
//   - No delay is ever below floor: MaxDelay caps the growth, never the
//     server's retry, however large (a native EventSource waits it too).
//
// Everything is computed in float64 and saturated, so no option or retry
// value can overflow into a short delay.
func (o ReconnectOptions) delay(floor time.Duration, n int, rnd float64) time.Duration {
	floor = max(floor, 0)
	if n <= 0 {
		return floor
	}
	base := floor
	if base == 0 {
		base = o.InitialDelay
	}
	step := float64(base) * math.Pow(o.GrowFactor, float64(n))
	if !(step <= float64(o.MaxDelay)) { // +Inf and NaN too
		step = float64(o.MaxDelay)
	}
	lo := max(float64(floor), step/2)
	hi := max(float64(floor), step)
	if !(rnd >= 0) {
		rnd = 0
	}
	d := saturate(lo + min(rnd, 1)*(hi-lo))
	// float64 rounding must not move the result out of [floor, top].
	return min(max(d, floor), max(floor, o.MaxDelay))
}

// Backoff counts the reconnect attempts of one logical stream and computes
// the delay before each with the one policy above. It is not safe for
// concurrent use: each stream owns its own, so one stream's server retry
// value never leaks into another's.
type Backoff struct {
	opts    ReconnectOptions
	attempt int
	rand    func() float64 // in [0, 1); replaceable in tests
}

// NewBackoff returns a Backoff with opts, unset fields taking
// DefaultReconnectOptions.
func NewBackoff(opts ReconnectOptions) *Backoff {
	return &Backoff{opts: opts.WithDefaults(DefaultReconnectOptions), rand: rand.Float64}
}

// SetRandom replaces the source of jitter, for tests that pin the window.
func (b *Backoff) SetRandom(f func() float64) { b.rand = f }

// Attempts returns the number of attempts made since the last progress.
func (b *Backoff) Attempts() int { return b.attempt }

// Progress records that the stream made progress (an event, a new event
// id, or a connection that stayed open longer than the delay before it):
// the next failure starts again from the base delay.
func (b *Backoff) Progress() { b.attempt = 0 }

// Next returns the delay before the next attempt and counts it. retry is
// the stream's retry value and retrySet whether it set one; without one the
// reconnection time is InitialDelay. ok is false once MaxRetries attempts
// have been made without progress.
func (b *Backoff) Next(retry time.Duration, retrySet bool) (delay time.Duration, ok bool) {
	if b.opts.MaxRetries >= 0 && b.attempt >= b.opts.MaxRetries {
		return 0, false
	}
	n := b.attempt
	b.attempt++
	floor := b.opts.InitialDelay
	if retrySet {
		floor = retry
	}
	return b.opts.delay(floor, n, b.rand()), true
}
