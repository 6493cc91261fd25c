package faultserver

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProtocol(t *testing.T) {
	for _, mode := range []ResponseMode{ResponsesSSE, ResponsesJSON} {
		t.Run(map[ResponseMode]string{ResponsesSSE: "sse", ResponsesJSON: "json"}[mode], func(t *testing.T) {
			s := startServer(t, Config{Responses: mode})
			c := newTestClient(t, s)
			c.initialize()

			body, _ := c.request("tools/list", nil)
			resp := c.post(body)
			wantType := map[ResponseMode]string{ResponsesSSE: "text/event-stream", ResponsesJSON: "application/json"}[mode]
			assert.Equal(t, wantType, resp.Header.Get("Content-Type"))
			msgs := readMessages(t, resp)
			require.Len(t, msgs, 1)
			var names []string
			for _, tool := range msgs[0].Result["tools"].([]any) {
				names = append(names, tool.(map[string]any)["name"].(string))
			}
			assert.Equal(t, []string{"echo", "sleep", "progress", "notify"}, names)
			assert.Equal(t, names, ToolNames())

			body, _ = c.callTool("echo", map[string]any{"text": "hello"})
			msgs = readMessages(t, c.post(body))
			require.Len(t, msgs, 1)
			assert.Equal(t, "hello", text(t, msgs[0]))

			// A batch gets one answer per request.
			one, _ := c.callTool("echo", map[string]any{"text": "a"})
			two, _ := c.request("ping", nil)
			msgs = readMessages(t, c.post("["+one+","+two+"]"))
			assert.Len(t, msgs, 2)

			resp, err := c.do(context.Background(), http.MethodDelete, "", nil)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusOK, resp.StatusCode)

			resp = c.post(body)
			resp.Body.Close()
			assert.Equal(t, http.StatusNotFound, resp.StatusCode)

			info := s.Sessions()[0]
			assert.True(t, info.Initialized)
			assert.True(t, info.Deleted)
			counts := s.Counts()
			assert.Equal(t, 6, counts.HTTP["POST"])
			assert.Equal(t, 1, counts.HTTP["DELETE"])
			assert.Equal(t, 3, counts.RPC["tools/call"])
			assert.Equal(t, 1, counts.Status[http.StatusNotFound])
		})
	}
}

func TestProtocolVersionNegotiation(t *testing.T) {
	tests := []struct {
		asked, forced, want string
	}{
		{"2025-03-26", "", "2025-03-26"},
		{"2025-11-25", "", "2025-11-25"},
		{"1999-01-01", "", "2025-11-25"},
		{"2025-11-25", "2025-03-26", "2025-03-26"},
	}
	for _, tt := range tests {
		t.Run(tt.asked+"/"+tt.forced, func(t *testing.T) {
			s := startServer(t, Config{ProtocolVersion: tt.forced})
			c := newTestClient(t, s)
			body, _ := c.request("initialize", map[string]any{"protocolVersion": tt.asked})
			msgs := readMessages(t, c.post(body))
			require.Len(t, msgs, 1)
			assert.Equal(t, tt.want, msgs[0].Result["protocolVersion"])
		})
	}
}

func TestMissingSessionIsBadRequest(t *testing.T) {
	s := startServer(t, Config{})
	c := newTestClient(t, s)
	body, _ := c.request("tools/list", nil)
	resp := c.post(body)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func TestLeapfrog(t *testing.T) {
	s := startServer(t, Leapfrog())
	c := newTestClient(t, s)
	c.initialize()

	// A POST stream primes with an id and retry: 50, answers, and ends.
	body, _ := c.callTool("echo", map[string]any{"text": "x"})
	events, err := readSSE(t, c.post(body))
	require.NoError(t, err)
	require.Len(t, events, 2)
	assert.Equal(t, "", events[0].Data)
	assert.Equal(t, 50, events[0].Retry)
	assert.NotEmpty(t, events[0].ID)
	assert.Equal(t, "x", text(t, decode(t, events)[0]))

	// A second standalone GET replaces the first, which ends cleanly.
	first := c.get(context.Background(), "")
	waitFor(t, s, "first GET open", func() bool { return s.OpenStandalone() == 1 })
	second := c.get(context.Background(), "")
	_, err = readSSE(t, first)
	assert.NoError(t, err)
	waitFor(t, s, "replacement", func() bool { return s.OpenStandalone() == 1 })
	assert.Equal(t, 2, s.MaxOpenStandalone(), "the replacing GET counts while the old one is still open")
	second.Body.Close()

	var ends []EndReason
	for _, conn := range s.Connections() {
		if conn.Kind == ConnStandalone {
			ends = append(ends, conn.End)
		}
	}
	waitFor(t, s, "second GET closed", func() bool { return s.OpenStandalone() == 0 })
	assert.Equal(t, EndReplaced, ends[0])
}

func TestResume(t *testing.T) {
	s := startServer(t, Resume(100*time.Millisecond))
	c := newTestClient(t, s)
	c.initialize()

	body, id := c.callTool("echo", map[string]any{"text": "once"})
	events, err := readSSE(t, c.post(body))
	require.NoError(t, err)
	require.Len(t, events, 1, "the stream dies right after its priming event")
	priming := events[0]
	assert.Equal(t, 100, priming.Retry)
	assert.Equal(t, 0, s.DeliveryCount(1, strconv.Itoa(id)))

	resumed := c.get(context.Background(), priming.ID)
	events, err = readSSE(t, resumed)
	require.NoError(t, err, "the resume GET ends cleanly once the response is written")
	msgs := decode(t, events)
	require.Len(t, msgs, 1)
	assert.Equal(t, "once", text(t, msgs[0]))
	assert.Equal(t, 1, s.DeliveryCount(1, strconv.Itoa(id)))

	conns := s.Connections()
	last := conns[len(conns)-1]
	assert.Equal(t, ConnResume, last.Kind)
	assert.Equal(t, EndDone, last.End)
	assert.Equal(t, conns[len(conns)-2].Stream, last.Stream, "the resume continues the POST's stream")

	reconnects := s.Reconnects()
	require.Len(t, reconnects, 1)
	assert.Equal(t, EndCut, reconnects[0].Connection.End)
	assert.Equal(t, priming.ID, reconnects[0].Request.LastEventID)
}

func TestNoID(t *testing.T) {
	s := startServer(t, NoID())
	c := newTestClient(t, s)
	c.initialize()

	body, id := c.callTool("echo", map[string]any{"text": "lost"})
	events, err := readSSE(t, c.post(body))
	require.NoError(t, err)
	assert.Empty(t, events)
	waitFor(t, s, "tool answered into the log", func() bool {
		conns := s.Connections()
		return conns[len(conns)-1].End == EndCut
	})
	assert.Equal(t, 0, s.DeliveryCount(1, strconv.Itoa(id)))
}

func TestRetryPerStream(t *testing.T) {
	s := startServer(t, RetryPerStream(200*time.Millisecond, 700*time.Millisecond))
	c := newTestClient(t, s)
	c.initialize()

	standalone, err := readSSE(t, c.get(context.Background(), ""))
	require.NoError(t, err)
	require.Len(t, standalone, 1)
	assert.Equal(t, 200, standalone[0].Retry)

	body, _ := c.callTool("echo", map[string]any{"text": "r"})
	post, err := readSSE(t, c.post(body))
	require.NoError(t, err)
	require.Len(t, post, 1)
	assert.Equal(t, 700, post[0].Retry)

	// This client comes back after each stream's own retry value.
	var wg sync.WaitGroup
	for _, ev := range []sseEvent{standalone[0], post[0]} {
		wg.Go(func() {
			time.Sleep(time.Duration(ev.Retry) * time.Millisecond)
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			resp := c.get(ctx, ev.ID)
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		})
	}
	wg.Wait()

	gaps := map[ConnKind]time.Duration{}
	for _, r := range s.Reconnects() {
		gaps[r.Connection.Kind] = r.Gap
	}
	assert.GreaterOrEqual(t, gaps[ConnStandalone], 200*time.Millisecond)
	assert.Less(t, gaps[ConnStandalone], 700*time.Millisecond)
	assert.GreaterOrEqual(t, gaps[ConnPOST], 700*time.Millisecond)
}

func TestExhausted(t *testing.T) {
	tests := []struct {
		name string
		dead Reply
	}{
		{"500", Reply{Status: http.StatusInternalServerError}},
		{"reset", Reply{Reset: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, Exhausted(100*time.Millisecond, tt.dead))
			c := newTestClient(t, s)
			c.initialize()

			events, err := readSSE(t, c.get(context.Background(), ""))
			require.NoError(t, err)
			require.Len(t, events, 1)
			assert.Equal(t, 100, events[0].Retry)

			for range 3 {
				resp, err := c.do(context.Background(), http.MethodGet, "", map[string]string{"Last-Event-ID": events[0].ID})
				if tt.dead.Reset {
					assert.Error(t, err)
					continue
				}
				require.NoError(t, err)
				resp.Body.Close()
				assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
			}
			assert.Equal(t, 4, s.Counts().HTTP["GET"])
			// POSTs still work: only GETs are dead.
			body, _ := c.callTool("echo", map[string]any{"text": "alive"})
			assert.Equal(t, "alive", text(t, readMessages(t, c.post(body))[0]))
		})
	}
}

func TestIdleClose(t *testing.T) {
	s := startServer(t, IdleClose(300*time.Millisecond))
	c := newTestClient(t, s)
	c.initialize()

	start := time.Now()
	resp := c.get(context.Background(), "")
	waitFor(t, s, "GET open", func() bool { return s.OpenStandalone() == 1 })
	time.Sleep(150 * time.Millisecond)
	require.Equal(t, 1, s.Notify("notifications/message", map[string]any{"level": "info", "data": "tick"}))
	events, err := readSSE(t, resp)
	require.NoError(t, err)
	elapsed := time.Since(start)

	require.Len(t, events, 2, "priming, then the notification")
	assert.Equal(t, "", events[0].Data)
	assert.Contains(t, events[1].Data, "tick")
	assert.GreaterOrEqual(t, elapsed, 450*time.Millisecond, "each event restarts the idle timer")
	conns := s.Connections()
	assert.Equal(t, EndIdle, conns[len(conns)-1].End)
}

func TestCloseAtOnce(t *testing.T) {
	s := startServer(t, CloseAtOnce())
	c := newTestClient(t, s)
	c.initialize()

	for range 3 {
		resp := c.get(context.Background(), "")
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		events, err := readSSE(t, resp)
		require.NoError(t, err)
		assert.Empty(t, events)
	}
	assert.Equal(t, 3, s.Counts().HTTP["GET"])
	assert.Equal(t, 0, s.OpenStandalone())
}

func TestExpiry(t *testing.T) {
	tests := []struct {
		body        ExpiredBody
		contentType string
		contains    string
	}{
		{ExpiredText, "text/plain; charset=utf-8", "session not found"},
		{ExpiredJSONRPC32001, "application/json", "-32001"},
		{ExpiredJSONRPC32002, "application/json", "-32002"},
		{ExpiredHTML, "text/html; charset=utf-8", "<html>"},
		{ExpiredEmpty, "", ""},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(int(tt.body)), func(t *testing.T) {
			s := startServer(t, Config{ExpiredBody: tt.body})
			c := newTestClient(t, s)
			c.initialize()
			oldID := c.sessionID

			stream := c.get(context.Background(), "")
			waitFor(t, s, "GET open", func() bool { return s.OpenStandalone() == 1 })
			require.Equal(t, 1, s.ExpireSessions())
			_, err := readSSE(t, stream)
			assert.True(t, isReset(err), "expiry resets the session's streams, as a restart does: %v", err)

			body, _ := c.callTool("echo", map[string]any{"text": "late"})
			resp := c.post(body)
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.NoError(t, err)
			assert.Equal(t, http.StatusNotFound, resp.StatusCode)
			assert.Equal(t, tt.contentType, resp.Header.Get("Content-Type"))
			assert.Contains(t, string(got), tt.contains)
			if tt.body == ExpiredEmpty {
				assert.Empty(t, got)
			}

			// A new session gets a new generation; the old id still maps to
			// the old one in the records.
			c.sessionID = ""
			c.initialize()
			assert.NotEqual(t, oldID, c.sessionID)
			var lateGen int
			for _, r := range s.Requests() {
				if r.SessionID == oldID && r.Status == http.StatusNotFound {
					lateGen = r.SessionGeneration
				}
			}
			assert.Equal(t, 1, lateGen)
			sessions := s.Sessions()
			require.Len(t, sessions, 2)
			assert.True(t, sessions[0].Expired)
			live, ok := s.Session()
			assert.True(t, ok)
			assert.Equal(t, 2, live.Generation)
		})
	}
}

func TestExpireAfter(t *testing.T) {
	s := startServer(t, Config{ExpireAfter: 3})
	c := newTestClient(t, s)
	c.initialize() // notifications/initialized is request 1 carrying the id
	var statuses []int
	for range 3 {
		body, _ := c.request("ping", nil)
		resp := c.post(body)
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
	}
	assert.Equal(t, []int{http.StatusOK, http.StatusOK, http.StatusNotFound}, statuses)
	assert.True(t, s.Sessions()[0].Expired)
}

func TestExpiredDelayAndKeepStreams(t *testing.T) {
	s := startServer(t, Config{ExpiredDelay: 200 * time.Millisecond, KeepStreamsOnExpiry: true})
	c := newTestClient(t, s)
	c.initialize()
	stream := c.get(context.Background(), "")
	waitFor(t, s, "GET open", func() bool { return s.OpenStandalone() == 1 })
	require.True(t, s.ExpireSession(c.sessionID))
	assert.False(t, s.ExpireSession(c.sessionID), "already expired")
	assert.Equal(t, 1, s.OpenStandalone(), "KeepStreamsOnExpiry leaves the GET open")

	start := time.Now()
	body, _ := c.request("ping", nil)
	resp := c.post(body)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.GreaterOrEqual(t, time.Since(start), 200*time.Millisecond)
	stream.Body.Close()
}

func TestNotFoundWithSessionID(t *testing.T) {
	s := startServer(t, Config{Intercept: NotFoundWithSessionID("ghost")})
	c := newTestClient(t, s)
	body, _ := c.request("initialize", map[string]any{"protocolVersion": "2025-06-18"})
	resp := c.post(body)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, "ghost", resp.Header.Get("Mcp-Session-Id"))
	assert.Empty(t, s.Sessions())
	assert.True(t, s.Requests()[0].Intercepted)
}

func TestDeleteStatus(t *testing.T) {
	tests := []struct {
		status int
		ends   bool
	}{
		{0, true}, {http.StatusNoContent, true}, {http.StatusMethodNotAllowed, false}, {http.StatusInternalServerError, false},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			s := startServer(t, Config{DeleteStatus: tt.status})
			c := newTestClient(t, s)
			c.initialize()
			resp, err := c.do(context.Background(), http.MethodDelete, "", nil)
			require.NoError(t, err)
			resp.Body.Close()
			want := tt.status
			if want == 0 {
				want = http.StatusOK
			}
			assert.Equal(t, want, resp.StatusCode)
			assert.Equal(t, tt.ends, s.Sessions()[0].Deleted)
		})
	}
}

func TestGETPolicies(t *testing.T) {
	t.Run("reject", func(t *testing.T) {
		s := startServer(t, Config{GET: GETReject})
		c := newTestClient(t, s)
		c.initialize()
		first := c.get(context.Background(), "")
		defer first.Body.Close()
		waitFor(t, s, "GET open", func() bool { return s.OpenStandalone() == 1 })
		second := c.get(context.Background(), "")
		second.Body.Close()
		assert.Equal(t, http.StatusConflict, second.StatusCode)
		assert.Equal(t, 1, s.MaxOpenStandalone())
	})
	t.Run("not allowed", func(t *testing.T) {
		s := startServer(t, Config{GET: GETNotAllowed})
		c := newTestClient(t, s)
		c.initialize()
		resp := c.get(context.Background(), "")
		resp.Body.Close()
		assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	})
	t.Run("allow", func(t *testing.T) {
		s := startServer(t, Config{})
		c := newTestClient(t, s)
		c.initialize()
		first := c.get(context.Background(), "")
		second := c.get(context.Background(), "")
		waitFor(t, s, "two GETs open", func() bool { return s.OpenStandalone() == 2 })
		assert.Equal(t, 2, s.MaxOpenStandalone())
		first.Body.Close()
		second.Body.Close()
	})
}

func TestUnknownLastEventID(t *testing.T) {
	s := startServer(t, Config{})
	c := newTestClient(t, s)
	c.initialize()
	for _, id := range []string{"bogus", "g1-s999-e0", "g9-s1-e0x"} {
		resp := c.get(context.Background(), id)
		resp.Body.Close()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, id)
	}
}

func TestStreamOfAnotherSessionCannotBeResumed(t *testing.T) {
	s := startServer(t, Resume(0))
	old := newTestClient(t, s)
	old.initialize()
	body, _ := old.callTool("echo", map[string]any{"text": "x"})
	events, err := readSSE(t, old.post(body))
	require.NoError(t, err)
	require.Len(t, events, 1)

	fresh := newTestClient(t, s)
	fresh.initialize()
	resp := fresh.get(context.Background(), events[0].ID)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	last := s.Requests()[len(s.Requests())-1]
	assert.Equal(t, 2, last.SessionGeneration)
	assert.Equal(t, 1, last.LastEventGeneration, "the records show the ghost Last-Event-ID")
}

func TestNotify(t *testing.T) {
	s := startServer(t, Config{})
	c := newTestClient(t, s)
	c.initialize()

	// Sent while no GET is open: kept for the next one.
	require.Equal(t, 1, s.Notify("notifications/message", map[string]any{"level": "info", "data": "queued"}))
	resp := c.get(context.Background(), "")
	waitFor(t, s, "GET open", func() bool { return s.OpenStandalone() == 1 })

	// The notify tool puts one on the standalone stream too.
	body, _ := c.callTool("notify", map[string]any{"text": "from the tool"})
	assert.Equal(t, "notified", text(t, readMessages(t, c.post(body))[0]))
	msgs := decode(t, readN(t, resp, 2))
	require.Len(t, msgs, 2)
	assert.Equal(t, "queued", msgs[0].Params["data"])
	assert.Equal(t, "from the tool", msgs[1].Params["data"])
}

func TestProgress(t *testing.T) {
	tests := []struct {
		name   string
		meta   map[string]any
		method string
	}{
		{"with token", map[string]any{"progressToken": "tok"}, "notifications/progress"},
		{"without token", nil, "notifications/message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, Config{})
			c := newTestClient(t, s)
			c.initialize()
			params := map[string]any{"name": "progress", "arguments": map[string]any{"steps": 3, "intervalMs": 10}}
			if tt.meta != nil {
				params["_meta"] = tt.meta
			}
			body, _ := c.request("tools/call", params)
			msgs := readMessages(t, c.post(body))
			require.Len(t, msgs, 4)
			for i, m := range msgs[:3] {
				assert.Equal(t, tt.method, m.Method)
				if tt.meta != nil {
					assert.Equal(t, "tok", m.Params["progressToken"])
					assert.EqualValues(t, i+1, m.Params["progress"])
				}
			}
			assert.Equal(t, "done after 3 steps", text(t, msgs[3]))
		})
	}
}

func TestSleepAndToolDelay(t *testing.T) {
	s := startServer(t, Config{ToolDelay: 100 * time.Millisecond})
	c := newTestClient(t, s)
	c.initialize()
	start := time.Now()
	body, _ := c.callTool("sleep", map[string]any{"ms": 100})
	assert.Equal(t, "slept 100 ms", text(t, readMessages(t, c.post(body))[0]))
	assert.GreaterOrEqual(t, time.Since(start), 200*time.Millisecond)
}

func TestClientDisconnectIsSeen(t *testing.T) {
	s := startServer(t, Config{})
	c := newTestClient(t, s)
	c.initialize()
	ctx, cancel := context.WithCancel(context.Background())
	resp := c.get(ctx, "")
	waitFor(t, s, "GET open", func() bool { return s.OpenStandalone() == 1 })
	aborted := time.Now()
	cancel()
	resp.Body.Close()
	waitFor(t, s, "disconnect seen", func() bool { return s.OpenStandalone() == 0 })
	conn := s.Connections()[len(s.Connections())-1]
	assert.Equal(t, EndClient, conn.End)
	assert.Less(t, conn.Closed.Sub(aborted), time.Second)
}

func TestCutConnections(t *testing.T) {
	for _, abort := range []bool{false, true} {
		t.Run(strconv.FormatBool(abort), func(t *testing.T) {
			s := startServer(t, Config{Standalone: StreamPlan{Priming: true}})
			c := newTestClient(t, s)
			c.initialize()
			resp := c.get(context.Background(), "")
			waitFor(t, s, "priming written", func() bool {
				conns := s.Connections()
				return len(conns) > 0 && conns[len(conns)-1].Events == 1
			})
			assert.Equal(t, 1, s.CutConnections(ConnStandalone, abort))
			events, err := readSSE(t, resp)
			assert.Len(t, events, 1)
			assert.Equal(t, abort, isReset(err), "err: %v", err)

			// The standalone stream survives: resuming replays what came
			// after the id.
			s.Notify("notifications/message", map[string]any{"level": "info", "data": "after"})
			got := readN(t, c.get(context.Background(), events[0].ID), 2)
			assert.Equal(t, "after", decode(t, got)[0].Params["data"])
			assert.Empty(t, got[1].Data, "then this connection's own priming event")
		})
	}
}

func TestMixedResponsesAllAnsweredOnce(t *testing.T) {
	s := startServer(t, Concurrency(7))
	c := newTestClient(t, s)
	c.initialize()

	const n = 60
	var wg sync.WaitGroup
	var mu sync.Mutex
	types := map[string]int{}
	answers := map[string]int{}
	for i := range n {
		body, _ := c.callTool("echo", map[string]any{"text": strconv.Itoa(i)})
		wg.Go(func() {
			resp := c.post(body)
			ct := resp.Header.Get("Content-Type")
			msgs := readMessages(t, resp)
			mu.Lock()
			defer mu.Unlock()
			types[ct]++
			for _, m := range msgs {
				answers[text(t, m)]++
			}
		})
	}
	wg.Wait()
	assert.Positive(t, types["application/json"])
	assert.Positive(t, types["text/event-stream"])
	assert.Len(t, answers, n)
	for k, v := range answers {
		assert.Equal(t, 1, v, k)
	}
	assert.Len(t, s.Deliveries(), n+1, "every tools/call and the initialize, once each")
}

func TestDropRate(t *testing.T) {
	s := startServer(t, OrphanStorm(42, 0.5))
	c := newTestClient(t, s)
	c.initialize()

	const n = 80
	var wg sync.WaitGroup
	var mu sync.Mutex
	answered, failed := 0, 0
	for i := range n {
		body, _ := c.callTool("echo", map[string]any{"text": strconv.Itoa(i)})
		wg.Go(func() {
			resp, err := c.do(context.Background(), http.MethodPost, body, nil)
			got := false
			if err == nil {
				if resp.Header.Get("Content-Type") == "application/json" {
					b, rerr := io.ReadAll(resp.Body)
					got = rerr == nil && strings.Contains(string(b), `"result"`)
					resp.Body.Close()
				} else {
					events, _ := readSSE(t, resp)
					for _, ev := range events {
						got = got || strings.Contains(ev.Data, `"result"`)
					}
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if got {
				answered++
			} else {
				failed++
			}
		})
	}
	wg.Wait()
	assert.Equal(t, n, answered+failed)
	assert.Positive(t, failed, "some streams were dropped")
	assert.Positive(t, answered, "some were not")
	cut := 0
	for _, conn := range s.Connections() {
		if conn.End == EndCut {
			cut++
		}
	}
	assert.Equal(t, failed, cut, "every failure is a cut the server made")
	assert.Len(t, s.Deliveries(), answered+1)
}

func TestWaitGivesUp(t *testing.T) {
	s := New(Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, s.Wait(ctx, func() bool { return false }), context.DeadlineExceeded)
}

func TestCORS(t *testing.T) {
	s := startServer(t, Config{})
	req, err := http.NewRequest(http.MethodOptions, s.URL, nil)
	require.NoError(t, err)
	req.Header.Set("Origin", "http://127.0.0.1:1")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type, mcp-session-id, authorization")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	assert.Equal(t, "http://127.0.0.1:1", resp.Header.Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "content-type, mcp-session-id, authorization", resp.Header.Get("Access-Control-Allow-Headers"))
	assert.Empty(t, s.Requests(), "preflights are not MCP requests")
	assert.Equal(t, 1, s.Counts().Preflights)

	c := newTestClient(t, s)
	body, _ := c.request("initialize", map[string]any{"protocolVersion": "2025-06-18"})
	resp, err = c.do(context.Background(), http.MethodPost, body, map[string]string{"Origin": "http://127.0.0.1:1"})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Contains(t, resp.Header.Get("Access-Control-Expose-Headers"), "Mcp-Session-Id")
}

func TestParseEventID(t *testing.T) {
	tests := []struct {
		id            string
		gen, num, idx int
		ok            bool
	}{
		{"g1-s2-e3", 1, 2, 3, true},
		{"g12-s340-e0", 12, 340, 0, true},
		{"g1-s2-e3x", 0, 0, 0, false},
		{"g0-s2-e3", 0, 0, 0, false},
		{"g1-s2", 0, 0, 0, false},
		{"", 0, 0, 0, false},
		{"1", 0, 0, 0, false},
	}
	for _, tt := range tests {
		gen, num, idx, ok := parseEventID(tt.id)
		assert.Equal(t, tt.ok, ok, tt.id)
		if tt.ok {
			assert.Equal(t, []int{tt.gen, tt.num, tt.idx}, []int{gen, num, idx}, tt.id)
		}
	}
}

func TestCutPoints(t *testing.T) {
	tests := []struct {
		name   string
		cut    Cut
		events int // written before the cut: priming, two progress notifications, the response
	}{
		{"none", Cut{}, 4},
		{"at once", Cut{At: CutAtOnce}, 0},
		{"after priming", Cut{At: CutAfterPriming}, 1},
		{"after events", Cut{At: CutAfterEvents, Events: 2}, 2},
		{"before response", Cut{At: CutBeforeResponse}, 3},
		{"before response, reset", Cut{At: CutBeforeResponse, Abort: true}, 3},
		{"after priming, reset", Cut{At: CutAfterPriming, Abort: true}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, Config{POST: StreamPlan{Priming: true}, Plan: CutToolCalls(tt.cut)})
			c := newTestClient(t, s)
			c.initialize()
			body, id := c.callTool("progress", map[string]any{"steps": 2})
			events, err := readSSE(t, c.post(body))
			assert.Len(t, events, tt.events)
			assert.Equal(t, tt.cut.Abort, isReset(err), "err: %v", err)
			if tt.events == 0 || tt.events == 4 {
				return
			}
			// Whatever the cut, the rest of the stream is replayed after
			// the last id the client saw, ending with the response.
			rest, err := readSSE(t, c.get(context.Background(), events[len(events)-1].ID))
			require.NoError(t, err)
			assert.Len(t, rest, 4-tt.events)
			assert.Equal(t, 1, s.DeliveryCount(1, strconv.Itoa(id)))
		})
	}
}

func TestConcurrentStandaloneGETs(t *testing.T) {
	tests := []struct {
		policy   GETPolicy
		wantOpen int
	}{
		{GETReject, 1},
		{GETAllow, 10},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(int(tt.policy)), func(t *testing.T) {
			s := startServer(t, Config{GET: tt.policy})
			c := newTestClient(t, s)
			c.initialize()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var wg sync.WaitGroup
			var mu sync.Mutex
			statuses := map[int]int{}
			for range 10 {
				wg.Go(func() {
					resp := c.get(ctx, "")
					mu.Lock()
					statuses[resp.StatusCode]++
					mu.Unlock()
					if resp.StatusCode != http.StatusOK {
						resp.Body.Close()
					}
				})
			}
			wg.Wait()
			assert.Equal(t, tt.wantOpen, statuses[http.StatusOK])
			assert.Equal(t, 10-tt.wantOpen, statuses[http.StatusConflict])
			assert.Equal(t, tt.wantOpen, s.MaxOpenStandalone())
		})
	}
}

func TestConfigureAndFailAfter(t *testing.T) {
	s := startServer(t, Config{})
	c := newTestClient(t, s)
	c.initialize()
	s.Configure(func(cfg *Config) {
		cfg.Intercept = FailAfter(http.MethodPost, 1, Reply{Status: http.StatusServiceUnavailable, Body: "busy", Delay: 50 * time.Millisecond})
	})
	var statuses []int
	start := time.Now()
	for range 3 {
		body, _ := c.request("ping", nil)
		resp := c.post(body)
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
	}
	assert.Equal(t, []int{http.StatusOK, http.StatusServiceUnavailable, http.StatusServiceUnavailable}, statuses)
	assert.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond)
	reqs := s.Requests()
	assert.False(t, reqs[len(reqs)-3].Intercepted)
	assert.True(t, reqs[len(reqs)-1].Intercepted)
}
