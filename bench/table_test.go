package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPercentile(t *testing.T) {
	xs := []float64{5, 1, 4, 2, 3}
	tests := []struct {
		p    float64
		want float64
	}{{0, 1}, {50, 3}, {100, 5}, {25, 2}, {95, 4.8}}
	for _, tt := range tests {
		assert.InDelta(t, tt.want, percentile(xs, tt.p), 1e-9, "p%v", tt.p)
	}
	assert.Equal(t, 2.5, median([]float64{1, 2, 3, 4}))
	assert.Equal(t, []float64{5, 1, 4, 2, 3}, xs, "the samples are not reordered")
}

func TestJudge(t *testing.T) {
	tests := []struct {
		name string
		r    row
		met  *bool
	}{
		{"time under target", row{Esshim: 10, AltValue: 10, Goal: lowerIsBetter, Target: 1.05}, ptr(true)},
		{"time over target", row{Esshim: 11, AltValue: 10, Goal: lowerIsBetter, Target: 1.05}, ptr(false)},
		{"rate over target", row{Esshim: 130, AltValue: 100, Goal: higherIsBetter, Target: 1.2}, ptr(true)},
		{"rate under target", row{Esshim: 110, AltValue: 100, Goal: higherIsBetter, Target: 1.2}, ptr(false)},
		{"limit", row{Esshim: 3.1e6, Goal: absoluteLimit, Target: 3e6}, ptr(false)},
		{"informational", row{Esshim: 1, AltValue: 2, Goal: informational}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.r.judge()
			if tt.met == nil {
				assert.Nil(t, tt.r.Met)
				return
			}
			require.NotNil(t, tt.r.Met)
			assert.Equal(t, *tt.met, *tt.r.Met)
		})
	}
}

func TestVersusRowsHaveNoTarget(t *testing.T) {
	rep := &report{Mode: "versus /tmp/x"}
	rep.add(row{Esshim: 2, AltValue: 1, Goal: lowerIsBetter, Target: 1.05})
	assert.Nil(t, rep.Rows[0].Met, "two esshim builds: the ratio is the answer")
	assert.Equal(t, 2.0, rep.Rows[0].Ratio)
	assert.Equal(t, 0, rep.missed())
}

func ptr[T any](v T) *T { return &v }
