package mcpserver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// received collects what the server sent the client on its own initiative.
type received struct {
	mu       sync.Mutex
	logs     []string
	progress []float64
	changed  chan struct{}
}

func newReceived() *received { return &received{changed: make(chan struct{}, 100)} }

func (r *received) addLog(s string) {
	r.mu.Lock()
	r.logs = append(r.logs, s)
	r.mu.Unlock()
	r.changed <- struct{}{}
}

func (r *received) addProgress(p float64) {
	r.mu.Lock()
	r.progress = append(r.progress, p)
	r.mu.Unlock()
}

// waitLog waits for a log message for which match holds.
func (r *received) waitLog(t *testing.T, match func(string) bool) string {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		r.mu.Lock()
		i := slices.IndexFunc(r.logs, match)
		var got string
		if i >= 0 {
			got = r.logs[i]
		}
		logs := slices.Clone(r.logs)
		r.mu.Unlock()
		if i >= 0 {
			return got
		}
		select {
		case <-r.changed:
		case <-deadline:
			t.Fatalf("no matching log message; got %q", logs)
		}
	}
}

// connect starts h on 127.0.0.1 and connects the go-sdk's own client to it,
// answering elicitation and sampling the way a test page would.
func connect(t *testing.T, h *Handler) (*mcp.ClientSession, *received) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Cleanup(h.Close)

	got := newReceived()
	client := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "0"}, &mcp.ClientOptions{
		ElicitationHandler: func(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"answer": "yes to " + req.Params.Message}}, nil
		},
		CreateMessageHandler: func(_ context.Context, req *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
			prompt := req.Params.Messages[0].Content.(*mcp.TextContent).Text
			return &mcp.CreateMessageResult{Model: "test-model", Role: "assistant", Content: &mcp.TextContent{Text: "sampled: " + prompt}}, nil
		},
		LoggingMessageHandler: func(_ context.Context, req *mcp.LoggingMessageRequest) {
			s, _ := req.Params.Data.(string)
			got.addLog(s)
		},
		ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
			got.addProgress(req.Params.Progress)
		},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	session, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: srv.URL + "/mcp"}, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = session.Close() })
	return session, got
}

// callText calls a tool and returns the text of its first content block.
func callText(t *testing.T, session *mcp.ClientSession, params *mcp.CallToolParams) string {
	t.Helper()
	res, err := session.CallTool(context.Background(), params)
	require.NoError(t, err)
	require.False(t, res.IsError, "tool error: %v", res.Content)
	require.NotEmpty(t, res.Content)
	return res.Content[0].(*mcp.TextContent).Text
}

func TestTools(t *testing.T) {
	for _, name := range []string{"sse", "json"} {
		t.Run(name, func(t *testing.T) {
			var opts []Option
			if name == "json" {
				opts = append(opts, WithJSONResponse())
			}
			session, got := connect(t, NewHandler(opts...))
			ctx := context.Background()
			assert.Contains(t, []string{"2025-11-25", "2025-06-18", "2025-03-26"}, session.InitializeResult().ProtocolVersion)

			list, err := session.ListTools(ctx, nil)
			require.NoError(t, err)
			var names []string
			for _, tool := range list.Tools {
				names = append(names, tool.Name)
			}
			assert.ElementsMatch(t, []string{"echo", "add", "progress", "ask", "sample", "notify"}, names)

			assert.Equal(t, "hi", callText(t, session, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "hi"}}))

			res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "add", Arguments: map[string]any{"a": 2, "b": 40}})
			require.NoError(t, err)
			assert.Equal(t, map[string]any{"sum": 42.0}, res.StructuredContent)

			params := &mcp.CallToolParams{Name: "progress", Arguments: map[string]any{"steps": 3, "intervalMs": 5}}
			params.SetProgressToken("tok")
			assert.Equal(t, "done after 3 steps", callText(t, session, params))
			progress := func() []float64 {
				got.mu.Lock()
				defer got.mu.Unlock()
				return slices.Clone(got.progress)
			}
			// The go-sdk client runs notification handlers apart from the
			// call (and a JSON answer sends them on the standalone stream),
			// so they may land just after the result.
			assert.Eventually(t, func() bool { return slices.Equal([]float64{1, 2, 3}, progress()) },
				5*time.Second, 5*time.Millisecond)

			assert.Equal(t, "accept: yes to who?", callText(t, session, &mcp.CallToolParams{Name: "ask", Arguments: map[string]any{"question": "who?"}}))
			assert.Equal(t, "sampled: hello", callText(t, session, &mcp.CallToolParams{Name: "sample", Arguments: map[string]any{"prompt": "hello"}}))
		})
	}
}

func TestProgressWithoutTokenSendsNone(t *testing.T) {
	session, got := connect(t, NewHandler())
	assert.Equal(t, "done after 2 steps", callText(t, session, &mcp.CallToolParams{Name: "progress", Arguments: map[string]any{"steps": 2}}))
	got.mu.Lock()
	defer got.mu.Unlock()
	assert.Empty(t, got.progress)
}

func TestStandaloneNotifications(t *testing.T) {
	h := NewHandler()
	session, got := connect(t, h)
	assert.Equal(t, 0, h.Notify("before setLevel"), "the go-sdk sends log messages only after logging/setLevel")

	require.NoError(t, session.SetLoggingLevel(context.Background(), &mcp.SetLoggingLevelParams{Level: "info"}))
	assert.Equal(t, 1, h.Notify("hello"))
	got.waitLog(t, func(s string) bool { return s == "hello" })

	assert.Equal(t, "notified", callText(t, session, &mcp.CallToolParams{Name: "notify", Arguments: map[string]any{"text": "from the tool"}}))
	got.waitLog(t, func(s string) bool { return s == "from the tool" })

	got.mu.Lock()
	defer got.mu.Unlock()
	assert.NotContains(t, got.logs, "before setLevel")
}

func TestTicker(t *testing.T) {
	h := NewHandler(WithTicker(20 * time.Millisecond))
	session, got := connect(t, h)
	require.NoError(t, session.SetLoggingLevel(context.Background(), &mcp.SetLoggingLevelParams{Level: "info"}))
	got.waitLog(t, func(s string) bool { return strings.HasPrefix(s, "tick ") })
	h.Close()
	ticks := h.Ticks()
	assert.Positive(t, ticks)
	time.Sleep(60 * time.Millisecond)
	assert.Equal(t, ticks, h.Ticks(), "Close stops the ticker")
}

func TestCORS(t *testing.T) {
	tests := []struct {
		name    string
		allowed string
		origin  string
		want    string
	}{
		{"any", "*", "http://127.0.0.1:9", "http://127.0.0.1:9"},
		{"listed", "http://127.0.0.1:9", "http://127.0.0.1:9", "http://127.0.0.1:9"},
		{"other", "http://127.0.0.1:9", "http://evil.example", ""},
		{"off", "", "http://127.0.0.1:9", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []Option
			if tt.allowed != "" {
				opts = append(opts, WithAllowedOrigin(tt.allowed))
			}
			srv := httptest.NewServer(NewHandler(opts...))
			defer srv.Close()
			req, err := http.NewRequest(http.MethodOptions, srv.URL, nil)
			require.NoError(t, err)
			req.Header.Set("Origin", tt.origin)
			req.Header.Set("Access-Control-Request-Method", "POST")
			req.Header.Set("Access-Control-Request-Headers", "content-type, mcp-session-id")
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, tt.want, resp.Header.Get("Access-Control-Allow-Origin"))
			if tt.want != "" {
				assert.Equal(t, http.StatusNoContent, resp.StatusCode)
				assert.Equal(t, "content-type, mcp-session-id", resp.Header.Get("Access-Control-Allow-Headers"))
			}
		})
	}
}
