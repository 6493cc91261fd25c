package mcpserver

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStateless drives the stateless (2026-07-28) server with the go-sdk's
// own client, which negotiates 2026-07-28, and checks the request log.
func TestStateless(t *testing.T) {
	h := NewHandler(WithStateless())
	session, _ := connect(t, h)
	ctx := context.Background()
	require.Equal(t, "2026-07-28", session.InitializeResult().ProtocolVersion)

	list, err := session.ListTools(ctx, nil)
	require.NoError(t, err)
	var names []string
	for _, tool := range list.Tools {
		names = append(names, tool.Name)
	}
	assert.ElementsMatch(t, []string{"echo", "add", "progress", "slow", "region", "cut"}, names)

	assert.Equal(t, "region=Zürich text=hi", callText(t, session, &mcp.CallToolParams{Name: "region", Arguments: map[string]any{"region": "Zürich", "text": "hi"}}))

	// The slow tool's context ends when the client gives up on the call.
	callCtx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	_, err = session.CallTool(callCtx, &mcp.CallToolParams{Name: "slow", Arguments: map[string]any{"ms": 10000}})
	cancel()
	require.Error(t, err)

	// The cut tool breaks its stream: the call fails, it does not hang.
	callCtx, cancel = context.WithTimeout(ctx, 5*time.Second)
	_, err = session.CallTool(callCtx, &mcp.CallToolParams{Name: "cut"})
	require.Error(t, err)
	require.NoError(t, callCtx.Err(), "the cut call failed before its deadline")
	cancel()

	assert.Equal(t, "still here", callText(t, session, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "still here"}}))

	var slow, cut, region *Request
	assert.Eventually(t, func() bool {
		for _, r := range h.Requests() {
			switch r.Tool {
			case "slow":
				slow = &r
			case "cut":
				cut = &r
			case "region":
				region = &r
			}
		}
		return slow != nil && !slow.ToolCancelled.IsZero() && !slow.ClientClosed.IsZero()
	}, 2*time.Second, 10*time.Millisecond, "the slow call's POST closed and its tool cancelled")
	require.NotNil(t, cut)
	assert.True(t, cut.Cut)
	require.NotNil(t, region)
	assert.Equal(t, "=?base64?WsO8cmljaA==?=", region.Params["Mcp-Param-Region"], "non-ASCII values travel base64-encoded")
	for _, r := range h.Requests() {
		assert.Equal(t, http.MethodPost, r.Method)
		assert.Empty(t, r.SessionID)
		assert.Equal(t, "2026-07-28", r.ProtocolVersion, "%s", r.RPC)
		if r.RPC != "response" && r.RPC != "" && r.RPC[:min(14, len(r.RPC))] != "notifications/" {
			assert.Equal(t, r.RPC, r.McpMethod)
		}
	}
}
