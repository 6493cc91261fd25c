package e2e

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"testing"
)

// vector is one entry of ../shared/sse-vectors/vectors.json (see the README
// beside it): a response body, or one body per connection, and the events
// an EventSource must dispatch for it.
type vector struct {
	Name        string        `json:"name"`
	InputB64    string        `json:"input_b64"`
	ChunksB64   []string      `json:"chunks_b64"`
	Connections []vectorConn  `json:"connections"`
	Expected    []vectorEvent `json:"expected"`
	Retry       *int64        `json:"expected_retry"`
	LastEventID string        `json:"expected_last_event_id"`
}

type vectorConn struct {
	InputB64           string `json:"input_b64"`
	RequestLastEventID string `json:"request_last_event_id"`
}

type vectorEvent struct {
	Type        string `json:"type"`
	Data        string `json:"data"`
	LastEventID string `json:"lastEventId"`
}

// bodies returns the response body of each connection.
func (v vector) bodies(t *testing.T) [][]byte {
	t.Helper()
	if len(v.Connections) == 0 {
		return [][]byte{mustB64(t, v.InputB64)}
	}
	out := make([][]byte, len(v.Connections))
	for i, c := range v.Connections {
		out[i] = mustB64(t, c.InputB64)
	}
	return out
}

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// loadVectors reads the shared vectors. They live beside the project, in
// ../shared, for developers and CI alike; a missing file fails the test.
func loadVectors(t *testing.T) []vector {
	t.Helper()
	raw, err := os.ReadFile("../../shared/sse-vectors/vectors.json")
	if err != nil {
		t.Fatalf("the shared SSE vectors must be at ../shared/sse-vectors from the project root: %v", err)
	}
	var file struct {
		Vectors []vector `json:"vectors"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	return file.Vectors
}
