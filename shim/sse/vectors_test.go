package sse

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestVectors runs every shared vector as the network chunked it (its
// chunks_b64 or chunk_size, else the whole body in one chunk).
func TestVectors(t *testing.T) {
	vectors := loadVectors(t)
	for _, v := range vectors {
		t.Run(v.Name, func(t *testing.T) {
			got := parse(ParserOptions{}, v.networkChunks(t))
			assertVectorOutcome(t, v, got)
		})
	}
	t.Logf("%d vectors", len(vectors))
}

// assertVectorOutcome checks got against everything v expects.
func assertVectorOutcome(t *testing.T, v vector, got outcome) {
	t.Helper()
	assert.Empty(t, got.Err, v.Description)
	assert.Equal(t, v.expectedEvents(), got.Events, v.Description)
	assert.Equal(t, v.ExpectedLastEventID, got.LastEventID, "last event ID: %s", v.Description)
	if v.ExpectedRetry == nil {
		assert.False(t, got.RetrySet, "retry must not be set: %s", v.Description)
	} else {
		assert.True(t, got.RetrySet, "retry must be set: %s", v.Description)
		assert.Equal(t, *v.ExpectedRetry, got.Retry, "retry: %s", v.Description)
	}
	if len(v.Connections) > 0 {
		var want []string
		for _, c := range v.Connections {
			want = append(want, c.RequestLastEventID)
		}
		assert.Equal(t, want, got.LastEventIDAtConnect, "Last-Event-ID sent on each connection")
	}
}
