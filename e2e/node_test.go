package e2e

import (
	"context"
	"encoding/json"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNodeClient loads esshim under Node, not a browser, and runs the SDK's
// Client through its transport against the TypeScript SDK server
// (npm/node-client.mjs). Node 20's fetch leaves a read pending forever when
// an abort lands after a body's last byte but before its end (undici 6,
// nodejs/undici#4089), which is how esshim ends a POST stream whose
// requests are all answered; before exchange.abort also cancelled the
// reader, close() then never resolved. Every step here has a deadline.
func TestNodeClient(t *testing.T) {
	t.Parallel()
	node := nodeBinary(t)
	srv := startTSServer(t, node)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "npm/node-client.mjs", "../dist", srv.mcpURL)
	stdout, err := cmd.Output()
	var got struct {
		Progress []string   `json:"progress"`
		Logs     []string   `json:"logs"`
		Errors   []string   `json:"errors"`
		Failed   string     `json:"failed"`
		Closed   tsSnapshot `json:"closed"`
	}
	require.NoError(t, json.Unmarshal(stdout, &got), "output of node-client.mjs: %s (exit: %v)", stdout, err)
	require.Empty(t, got.Failed, "a step of node-client.mjs failed")
	require.NoError(t, err)
	assert.Equal(t, []string{"done after 2 steps", "done after 2 steps", "done after 2 steps"}, got.Progress)
	assert.Equal(t, []string{"hello from node"}, got.Logs)
	assert.Empty(t, got.Errors, "client.onerror")
	assert.Empty(t, got.Closed.Streams, "streams after close")
	assert.Empty(t, got.Closed.Inflight, "requests in flight after close")
	assert.Zero(t, got.Closed.Timers, "timers after close")
}
