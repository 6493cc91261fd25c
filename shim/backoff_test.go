package shim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestBackoff(t *testing.T) {
	opts := ReconnectOptions{InitialDelay: 100 * time.Millisecond, MaxDelay: time.Second, GrowFactor: 2, MaxRetries: 5}
	tests := []struct {
		name     string
		base     time.Duration
		rnd      float64
		want     []time.Duration // delays until exhaustion
		progress int             // call Progress after this many attempts (0 = never)
	}{
		{name: "initial delay, jitter at top", base: 0, rnd: 0.999999,
			want: []time.Duration{100, 200, 400, 800, 1000}},
		{name: "server retry exact first, jitter at bottom", base: 50 * time.Millisecond, rnd: 0,
			want: []time.Duration{50, 50, 100, 200, 400}},
		{name: "retry above cap honoured once", base: 3 * time.Second, rnd: 0.999999,
			want: []time.Duration{3000, 1000, 1000, 1000, 1000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBackoff(opts)
			b.rand = func() float64 { return tt.rnd }
			for i, w := range tt.want {
				d, ok := b.Next(tt.base)
				assert.True(t, ok, "attempt %d", i)
				assert.InDelta(t, float64(w*time.Millisecond), float64(d), float64(time.Millisecond), "attempt %d", i)
			}
			_, ok := b.Next(tt.base)
			assert.False(t, ok, "exhausted after MaxRetries")
			b.Progress()
			d, ok := b.Next(tt.base)
			assert.True(t, ok, "progress resets the count")
			assert.Equal(t, tt.want[0]*time.Millisecond, d)
		})
	}
}

func TestBackoffUnlimited(t *testing.T) {
	b := NewBackoff(ReconnectOptions{InitialDelay: time.Millisecond, MaxRetries: -1})
	for i := 0; i < 1000; i++ {
		d, ok := b.Next(0)
		assert.True(t, ok)
		assert.GreaterOrEqual(t, d, time.Millisecond/2, "never a tight loop")
	}
}
