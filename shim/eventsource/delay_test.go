package eventsource

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/esshim/esshim/shim"
)

func TestReconnectDelay(t *testing.T) {
	const ms = time.Millisecond
	opts := shim.ReconnectOptions{InitialDelay: 100 * ms, MaxDelay: time.Second, GrowFactor: 2, MaxRetries: -1}
	tests := []struct {
		name  string
		floor time.Duration
		n     int
		rnd   float64
		want  time.Duration
	}{
		{name: "bottom of the window is the reconnection time", floor: 100 * ms, n: 0, rnd: 0, want: 100 * ms},
		{name: "first attempt spreads over one growth step", floor: 100 * ms, n: 0, rnd: 0.5, want: 150 * ms},
		{name: "top of the first window", floor: 100 * ms, n: 0, rnd: 1, want: 200 * ms},
		{name: "window grows without progress", floor: 100 * ms, n: 2, rnd: 1, want: 800 * ms},
		{name: "growth stops at MaxDelay", floor: 100 * ms, n: 6, rnd: 1, want: time.Second},
		{name: "floor stays put however long it failed", floor: 100 * ms, n: 6, rnd: 0, want: 100 * ms},
		{name: "server retry above MaxDelay honoured", floor: 3 * time.Second, n: 3, rnd: 1, want: 3 * time.Second},
		{name: "retry 0 reconnects at once", floor: 0, n: 0, rnd: 1, want: 0},
		{name: "retry 0 failing again grows from InitialDelay", floor: 0, n: 1, rnd: 1, want: 200 * ms},
		{name: "retry 0 keeps a zero floor", floor: 0, n: 3, rnd: 0, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := reconnectDelay(shim.NewBackoff(opts), tt.floor, tt.n, tt.rnd)
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestReconnectDelayBounds: whatever the random draw, the delay is never
// below the reconnection time (the spec's minimum) nor above the larger of
// MaxDelay and that time.
func TestReconnectDelayBounds(t *testing.T) {
	opts := shim.ReconnectOptions{InitialDelay: 50 * time.Millisecond, MaxDelay: 2 * time.Second, GrowFactor: 1.5, MaxRetries: -1}
	b := shim.NewBackoff(opts)
	for i := 0; i < 10000; i++ {
		floor := time.Duration(rand.IntN(3000)) * time.Millisecond
		d := reconnectDelay(b, floor, rand.IntN(20), rand.Float64())
		assert.GreaterOrEqual(t, d, floor)
		assert.LessOrEqual(t, d, max(floor, opts.MaxDelay))
	}
}
