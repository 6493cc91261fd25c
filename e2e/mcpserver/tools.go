package mcpserver

import (
	"context"
	"fmt"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

type echoInput struct {
	Text string `json:"text" jsonschema:"the text to answer with"`
}

type addInput struct {
	A float64 `json:"a" jsonschema:"the first addend"`
	B float64 `json:"b" jsonschema:"the second addend"`
}

type addOutput struct {
	Sum float64 `json:"sum" jsonschema:"a plus b"`
}

type progressInput struct {
	Steps      int     `json:"steps" jsonschema:"how many progress notifications to send"`
	IntervalMS float64 `json:"intervalMs,omitempty" jsonschema:"milliseconds between notifications"`
}

type askInput struct {
	Question string `json:"question" jsonschema:"what to ask the user"`
}

type sampleInput struct {
	Prompt string `json:"prompt" jsonschema:"the prompt to sample"`
}

type notifyInput struct {
	Text string `json:"text" jsonschema:"the log message to send on the standalone stream"`
}

// answerSchema is what the ask tool elicits: one string. A flat object of
// primitives is all elicitation allows.
var answerSchema = map[string]any{
	"type":       "object",
	"properties": map[string]any{"answer": map[string]any{"type": "string", "description": "your answer"}},
	"required":   []string{"answer"},
}

func addTools(s *mcp.Server) {
	mcp.AddTool(s, &mcp.Tool{Name: "echo", Description: "Answers its text argument."}, echo)
	mcp.AddTool(s, &mcp.Tool{Name: "add", Description: "Adds two numbers."}, add)
	mcp.AddTool(s, &mcp.Tool{Name: "progress", Description: "Reports progress steps times, then answers."}, progress)
}

// addSessionTools adds the tools that need a session: a stateless server
// can send no request to the client and has no standalone stream.
func addSessionTools(s *mcp.Server) {
	mcp.AddTool(s, &mcp.Tool{Name: "ask", Description: "Asks the user a question through elicitation."}, ask)
	mcp.AddTool(s, &mcp.Tool{Name: "sample", Description: "Asks the client's model to complete a prompt through sampling."}, sample)
	mcp.AddTool(s, &mcp.Tool{Name: "notify", Description: "Sends a log message on the standalone stream."}, notify)
}

func textResult(format string, args ...any) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: fmt.Sprintf(format, args...)}}}
}

func echo(_ context.Context, _ *mcp.CallToolRequest, in echoInput) (*mcp.CallToolResult, any, error) {
	return textResult("%s", in.Text), nil, nil
}

func add(_ context.Context, _ *mcp.CallToolRequest, in addInput) (*mcp.CallToolResult, addOutput, error) {
	// A nil result lets the SDK fill in both the structured content and
	// its text rendering.
	return nil, addOutput{Sum: in.A + in.B}, nil
}

// progress reports to the request's own progress token, so the client can
// tie each notification to its call; a call without a token asked for none.
func progress(ctx context.Context, req *mcp.CallToolRequest, in progressInput) (*mcp.CallToolResult, any, error) {
	token := req.Params.GetProgressToken()
	interval := time.Duration(in.IntervalMS * float64(time.Millisecond))
	for i := 1; i <= in.Steps; i++ {
		if i > 1 && interval > 0 {
			select {
			case <-time.After(interval):
			case <-ctx.Done():
				return nil, nil, ctx.Err()
			}
		}
		if token == nil {
			continue
		}
		err := req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{
			ProgressToken: token,
			Progress:      float64(i),
			Total:         float64(in.Steps),
			Message:       fmt.Sprintf("step %d of %d", i, in.Steps),
		})
		if err != nil {
			return nil, nil, err
		}
	}
	return textResult("done after %d steps", in.Steps), nil, nil
}

func ask(ctx context.Context, req *mcp.CallToolRequest, in askInput) (*mcp.CallToolResult, any, error) {
	res, err := req.Session.Elicit(ctx, &mcp.ElicitParams{Message: in.Question, RequestedSchema: answerSchema})
	if err != nil {
		return nil, nil, err
	}
	answer, _ := res.Content["answer"].(string)
	return textResult("%s: %s", res.Action, answer), nil, nil
}

func sample(ctx context.Context, req *mcp.CallToolRequest, in sampleInput) (*mcp.CallToolResult, any, error) {
	res, err := req.Session.CreateMessage(ctx, &mcp.CreateMessageParams{
		MaxTokens: 100,
		Messages:  []*mcp.SamplingMessage{{Role: "user", Content: &mcp.TextContent{Text: in.Prompt}}},
	})
	if err != nil {
		return nil, nil, err
	}
	text, ok := res.Content.(*mcp.TextContent)
	if !ok {
		return nil, nil, fmt.Errorf("sampling answered %T, want text", res.Content)
	}
	return textResult("%s", text.Text), nil, nil
}

func notify(_ context.Context, req *mcp.CallToolRequest, in notifyInput) (*mcp.CallToolResult, any, error) {
	// context.Background, not the request's: a message tied to the request
	// would travel on the request's own stream.
	err := req.Session.Log(context.Background(), &mcp.LoggingMessageParams{Level: "info", Logger: "esshim-example", Data: in.Text})
	if err != nil {
		return nil, nil, err
	}
	return textResult("notified"), nil, nil
}

type slowInput struct {
	MS float64 `json:"ms,omitempty" jsonschema:"how long to sleep, in milliseconds (30000 by default)"`
}

type regionInput struct {
	Region string `json:"region"`
	Text   string `json:"text,omitempty"`
}

// regionSchema marks region as an x-mcp-header parameter (SEP-2243): a
// 2026 client mirrors it into the Mcp-Param-Region header, and the go-sdk
// server rejects a call whose header is missing or disagrees (400, -32020).
var regionSchema = map[string]any{
	"type": "object",
	"properties": map[string]any{
		"region": map[string]any{"type": "string", "description": "where to run", "x-mcp-header": "Region"},
		"text":   map[string]any{"type": "string", "description": "anything"},
	},
	"required": []string{"region"},
}

type cutInput struct {
	AfterMS float64 `json:"afterMs,omitempty" jsonschema:"milliseconds to wait before cutting the stream (50 by default)"`
}

// addStatelessTools adds the tools of the protocol-generation tests, which
// report to the request log.
func (h *Handler) addStatelessTools(s *mcp.Server) {
	mcp.AddTool(s, &mcp.Tool{Name: "slow", Description: "Sleeps ms milliseconds, or until cancelled."}, h.slow)
	mcp.AddTool(s, &mcp.Tool{Name: "region", Description: "Answers its region, sent as the Mcp-Param-Region header too.", InputSchema: regionSchema}, region)
	mcp.AddTool(s, &mcp.Tool{Name: "cut", Description: "Breaks its own response stream mid-call."}, h.cut)
}

func (h *Handler) slow(ctx context.Context, req *mcp.CallToolRequest, in slowInput) (*mcp.CallToolResult, any, error) {
	d := 30 * time.Second
	if in.MS > 0 {
		d = time.Duration(in.MS * float64(time.Millisecond))
	}
	h.log.update(req.Extra.Header, func(e *Request, _ *cuttableWriter) { e.ToolStarted = time.Now() })
	select {
	case <-time.After(d):
		return textResult("slept %v", d), nil, nil
	case <-ctx.Done():
		h.log.update(req.Extra.Header, func(e *Request, _ *cuttableWriter) { e.ToolCancelled = time.Now() })
		return nil, nil, ctx.Err()
	}
}

func region(_ context.Context, _ *mcp.CallToolRequest, in regionInput) (*mcp.CallToolResult, any, error) {
	return textResult("region=%s text=%s", in.Region, in.Text), nil, nil
}

func (h *Handler) cut(ctx context.Context, req *mcp.CallToolRequest, in cutInput) (*mcp.CallToolResult, any, error) {
	d := 50 * time.Millisecond
	if in.AfterMS > 0 {
		d = time.Duration(in.AfterMS * float64(time.Millisecond))
	}
	select {
	case <-time.After(d):
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	var stream *cuttableWriter
	h.log.update(req.Extra.Header, func(_ *Request, w *cuttableWriter) { stream = w })
	if stream == nil {
		return nil, nil, fmt.Errorf("cut: no stream for this request")
	}
	if err := stream.breakStream(); err != nil {
		return nil, nil, fmt.Errorf("cut: %w", err)
	}
	h.log.update(req.Extra.Header, func(e *Request, _ *cuttableWriter) { e.Cut, e.CutAt = true, time.Now() })
	return textResult("this result never arrives"), nil, nil
}
