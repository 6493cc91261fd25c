package shim

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

const ms = time.Millisecond

func TestBackoff(t *testing.T) {
	opts := ReconnectOptions{InitialDelay: 100 * ms, MaxDelay: time.Second, GrowFactor: 2, MaxRetries: 5}
	tests := []struct {
		name     string
		retry    time.Duration
		retrySet bool
		rnd      float64
		want     []time.Duration // delays until exhaustion, in ms
	}{
		{name: "initial delay, jitter at top", rnd: 1,
			want: []time.Duration{100, 200, 400, 800, 1000}},
		{name: "initial delay, jitter at bottom", rnd: 0,
			want: []time.Duration{100, 100, 200, 400, 500}},
		{name: "server retry exact first, jitter at bottom never below it", retry: 50 * ms, retrySet: true, rnd: 0,
			want: []time.Duration{50, 50, 100, 200, 400}},
		{name: "retry above MaxDelay is honoured on every attempt", retry: 3 * time.Second, retrySet: true, rnd: 1,
			want: []time.Duration{3000, 3000, 3000, 3000, 3000}},
		{name: "retry just below MaxDelay: jitter never below it", retry: 900 * ms, retrySet: true, rnd: 0,
			want: []time.Duration{900, 900, 900, 900, 900}},
		{name: "retry 0 honoured once, then grows from InitialDelay", retry: 0, retrySet: true, rnd: 0,
			want: []time.Duration{0, 100, 200, 400, 500}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBackoff(opts)
			b.SetRandom(func() float64 { return tt.rnd })
			for i, w := range tt.want {
				d, ok := b.Next(tt.retry, tt.retrySet)
				assert.True(t, ok, "attempt %d", i)
				assert.Equal(t, w*ms, d, "attempt %d", i)
			}
			_, ok := b.Next(tt.retry, tt.retrySet)
			assert.False(t, ok, "exhausted after MaxRetries")
			b.Progress()
			d, ok := b.Next(tt.retry, tt.retrySet)
			assert.True(t, ok, "progress resets the count")
			assert.Equal(t, tt.want[0]*ms, d)
		})
	}
}

func TestBackoffUnlimited(t *testing.T) {
	b := NewBackoff(ReconnectOptions{InitialDelay: ms, MaxRetries: -1})
	for i := 0; i < 1000; i++ {
		d, ok := b.Next(0, false)
		assert.True(t, ok)
		assert.GreaterOrEqual(t, d, ms, "never a tight loop")
	}
}

// TestBackoffHugeValues: retry values and options at and beyond the
// Duration range (the retry field is any int64 of milliseconds; JS options
// may be Infinity, NaN, negative) never overflow into a short delay.
func TestBackoffHugeValues(t *testing.T) {
	maxDuration := time.Duration(math.MaxInt64)
	for _, retryMS := range []int64{9223372036854, 9223372036855, 9223372036854775807, 1 << 40} {
		b := NewBackoff(ReconnectOptions{MaxRetries: -1})
		b.SetRandom(func() float64 { return 0.5 })
		floor := RetryDelay(retryMS)
		assert.GreaterOrEqual(t, floor, 24*time.Hour, "retry %d", retryMS)
		for i := 0; i < 100; i++ {
			d, _ := b.Next(floor, true)
			assert.Equal(t, floor, d, "retry %d, attempt %d: exactly the retry, never less", retryMS, i)
		}
	}
	assert.Equal(t, maxDuration, RetryDelay(math.MaxInt64))
	assert.Equal(t, 9223372036854*ms, RetryDelay(9223372036854), "the largest exact value")

	inf := math.Inf(1)
	for _, o := range []ReconnectOptions{
		{InitialDelay: Milliseconds(inf), MaxDelay: Milliseconds(inf), GrowFactor: inf, MaxRetries: -1},
		{InitialDelay: Milliseconds(math.NaN()), MaxDelay: Milliseconds(-1), GrowFactor: math.NaN(), MaxRetries: -1},
		{InitialDelay: Milliseconds(1e300), MaxDelay: Milliseconds(1e300), GrowFactor: 1e300, MaxRetries: -1},
	} {
		b := NewBackoff(o)
		b.SetRandom(func() float64 { return 0.999 })
		for i := 0; i < 50; i++ {
			d, _ := b.Next(0, false)
			assert.GreaterOrEqual(t, d, 500*ms, "%+v attempt %d", o, i)
		}
	}
	assert.Equal(t, maxDuration, Milliseconds(inf))
	assert.Equal(t, time.Duration(0), Milliseconds(math.NaN()))
	assert.Equal(t, time.Duration(0), Milliseconds(math.Inf(-1)))
	assert.Equal(t, 1500*ms, Milliseconds(1500))
}

// FuzzReconnectDelay checks the one delay policy over the whole int64 range
// of retry milliseconds and any option values: no panic, never below the
// reconnection time, never above the larger of it and MaxDelay, exactly the
// reconnection time on the first attempt, and never a tight loop after a
// retry of 0.
func FuzzReconnectDelay(f *testing.F) {
	f.Add(int64(9223372036855), true, 3, 0.5, 1000.0, 30000.0, 1.5)
	f.Add(int64(math.MaxInt64), true, 1, 0.0, 0.0, 0.0, 0.0)
	f.Add(int64(0), true, 1, 0.0, 50.0, 400.0, 2.0)
	f.Add(int64(-1), false, 1000, 0.999, math.Inf(1), math.NaN(), math.Inf(1))
	f.Add(int64(1), true, 64, 1.0, -5.0, 1e300, 1e300)
	f.Fuzz(func(t *testing.T, retryMS int64, retrySet bool, n int, rnd, initialMS, maxMS, grow float64) {
		o := ReconnectOptions{InitialDelay: Milliseconds(initialMS), MaxDelay: Milliseconds(maxMS), GrowFactor: grow}.WithDefaults(DefaultReconnectOptions)
		retry := RetryDelay(retryMS)
		if retry < 0 || (retryMS > 0 && retry < ms) {
			t.Fatalf("RetryDelay(%d) = %v", retryMS, retry)
		}
		floor := o.InitialDelay
		if retrySet {
			floor = retry
		}
		d := o.delay(floor, n, rnd)
		if d < floor {
			t.Fatalf("delay %v below the reconnection time %v", d, floor)
		}
		if top := max(floor, o.MaxDelay); d > top {
			t.Fatalf("delay %v above %v", d, top)
		}
		if n <= 0 && d != floor {
			t.Fatalf("attempt %d waited %v, not the reconnection time %v", n, d, floor)
		}
		if n > 0 && floor == 0 && d < min(o.InitialDelay, o.MaxDelay)/2 {
			t.Fatalf("attempt %d after retry %v waited only %v: a tight loop", n, floor, d)
		}
	})
}
