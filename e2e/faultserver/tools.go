package faultserver

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// supportedVersions are the protocol revisions the server negotiates, newest
// first.
var supportedVersions = []string{"2025-11-25", "2025-06-18", "2025-03-26"}

// ToolNames returns the names of the tools the server offers, in the order
// tools/list returns them:
//
//   - echo {text}: answers text.
//   - sleep {ms}: answers after ms milliseconds.
//   - progress {steps, intervalMs}: sends steps notifications/progress
//     (for the request's _meta.progressToken; notifications/message when
//     there is none) on the request's stream, intervalMs apart, then answers.
//   - notify {text}: puts a notifications/message carrying text on the
//     session's standalone stream, then answers; a browser test can trigger
//     a standalone notification without help from Go.
func ToolNames() []string {
	names := make([]string, len(toolList))
	for i, t := range toolList {
		names[i] = t["name"].(string)
	}
	return names
}

var toolList = []map[string]any{
	tool("echo", "Answers its text argument.", map[string]any{"text": map[string]any{"type": "string"}}),
	tool("sleep", "Answers after ms milliseconds.", map[string]any{"ms": map[string]any{"type": "number"}}),
	tool("progress", "Sends steps progress notifications, intervalMs apart, then answers.",
		map[string]any{"steps": map[string]any{"type": "number"}, "intervalMs": map[string]any{"type": "number"}}),
	tool("notify", "Sends text as a log message on the standalone stream, then answers.",
		map[string]any{"text": map[string]any{"type": "string"}}),
}

func tool(name, description string, properties map[string]any) map[string]any {
	return map[string]any{
		"name":        name,
		"description": description,
		"inputSchema": map[string]any{"type": "object", "properties": properties},
	}
}

// answerRequest computes the response to one request and appends it (and
// any notifications it sends first) to st. It runs on its own worker, so a
// slow tool never holds up the requests beside it.
func (s *Server) answerRequest(ctx context.Context, st *stream, m message, cfg Config) {
	var response []byte
	switch m.Method {
	case "initialize":
		response = result(m.ID, initializeResult(m.Params, cfg.ProtocolVersion))
	case "ping", "logging/setLevel":
		response = result(m.ID, map[string]any{})
	case "tools/list":
		response = result(m.ID, map[string]any{"tools": toolList})
	case "tools/call":
		if !sleep(ctx, cfg.ToolDelay) {
			return
		}
		var ok bool
		if response, ok = s.callTool(ctx, st, m); !ok {
			return
		}
	default:
		response = rpcError(m.ID, -32601, "method not found: "+m.Method)
	}
	s.emit(st, response, string(m.ID))
}

func initializeResult(params json.RawMessage, forced string) map[string]any {
	var p struct {
		ProtocolVersion string `json:"protocolVersion"`
	}
	_ = json.Unmarshal(params, &p)
	version := supportedVersions[0]
	if slices.Contains(supportedVersions, p.ProtocolVersion) {
		version = p.ProtocolVersion
	}
	if forced != "" {
		version = forced
	}
	return map[string]any{
		"protocolVersion": version,
		"capabilities":    map[string]any{"tools": map[string]any{}, "logging": map[string]any{}},
		"serverInfo":      map[string]any{"name": "esshim-faultserver", "version": "1.0.0"},
	}
}

// callTool runs one tools/call. It reports false when the server closed
// before the tool finished, and so must not answer.
func (s *Server) callTool(ctx context.Context, st *stream, m message) ([]byte, bool) {
	var p struct {
		Name      string `json:"name"`
		Arguments struct {
			Text       string  `json:"text"`
			MS         float64 `json:"ms"`
			Steps      int     `json:"steps"`
			IntervalMS float64 `json:"intervalMs"`
		} `json:"arguments"`
		Meta struct {
			ProgressToken json.RawMessage `json:"progressToken"`
		} `json:"_meta"`
	}
	if err := json.Unmarshal(m.Params, &p); err != nil {
		return rpcError(m.ID, -32602, "invalid params: "+err.Error()), true
	}
	args := p.Arguments
	var text string
	switch p.Name {
	case "echo":
		text = args.Text
	case "sleep":
		if !sleep(ctx, millis(args.MS)) {
			return nil, false
		}
		text = fmt.Sprintf("slept %v ms", args.MS)
	case "progress":
		for i := 1; i <= args.Steps; i++ {
			if i > 1 && !sleep(ctx, millis(args.IntervalMS)) {
				return nil, false
			}
			msg := fmt.Sprintf("step %d of %d", i, args.Steps)
			if len(p.Meta.ProgressToken) > 0 {
				s.emit(st, notification("notifications/progress", map[string]any{
					"progressToken": p.Meta.ProgressToken, "progress": i, "total": args.Steps, "message": msg,
				}), "")
			} else {
				s.emit(st, notification("notifications/message", map[string]any{"level": "info", "data": msg}), "")
			}
		}
		text = fmt.Sprintf("done after %d steps", args.Steps)
	case "notify":
		s.emit(st.session.standalone, notification("notifications/message", map[string]any{"level": "info", "data": args.Text}), "")
		text = "notified"
	default:
		return rpcError(m.ID, -32602, "unknown tool: "+p.Name), true
	}
	return result(m.ID, map[string]any{"content": []any{map[string]any{"type": "text", "text": text}}}), true
}

func millis(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

// sleep waits d, and reports false if ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
