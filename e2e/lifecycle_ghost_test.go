package e2e

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/esshim/esshim/e2e/faultserver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The no-ghosts tests: work an old lifecycle scheduled (a reconnect timer,
// a request waiting for the headers() hook, a reconnect decided while
// onerror runs) must never reach the server once close() and start()
// happened. The fault server records which session generation the session
// id and the Last-Event-ID of every request belong to: after the restart,
// no request may carry generation 1.

// ghostWatch is how long the tests watch for ghosts after the restart:
// at least twice the retry delays involved.
const ghostWatch = 1200 * time.Millisecond

// onlyFirstSession applies plan changes to the connections of session
// generation 1 only, so that the new lifecycle's session runs undisturbed.
func onlyFirstSession(change func(info faultserver.ConnInfo, plan faultserver.StreamPlan) faultserver.StreamPlan) faultserver.PlanFunc {
	return func(info faultserver.ConnInfo, plan faultserver.StreamPlan) faultserver.StreamPlan {
		if info.Generation != 1 {
			return plan
		}
		return change(info, plan)
	}
}

// ghostResult is what the ghost tests read from the page.
type ghostResult struct {
	Before       lcSnapshot `json:"before"`
	Closed       lcSnapshot `json:"closed"`
	CloseAt      int64      `json:"closeAt"`
	CloseMs      int64      `json:"closeMs"`
	NewSessionID string     `json:"newSessionId"`
	Errors       []lcError  `json:"errors"`
	Closes       int        `json:"closes"`
	Final        lcSnapshot `json:"final"`
}

// checkNoGhosts asserts both sides of a ghost test: the page's fetch log
// shows no fetch made while closed or with the old session id, and the
// server saw nothing of session generation 1 after the restart; the new
// lifecycle runs in a session of its own.
func checkNoGhosts(t *testing.T, p *page, s *faultserver.Server, got ghostResult) {
	t.Helper()
	ghostFetches, _ := fetchGhosts(p)
	assert.Empty(t, ghostFetches, "fetches made while closed, or with the old lifecycle's session id")
	restart := time.UnixMilli(got.CloseAt)
	assert.Empty(t, ghosts(s, 1, restart), "requests after the restart carrying the old session id or an old Last-Event-ID:\n%s", describeRequests(s))
	sessions := s.Sessions()
	require.Len(t, sessions, 2, "sessions: the old lifecycle's and the new one's")
	assert.Equal(t, sessions[1].ID, got.NewSessionID, "the new lifecycle adopted its own session")
	assert.Equal(t, 1, got.Closes, "onclose of the old lifecycle")
	assert.Zero(t, got.Closed.Timers, "timers right after close()")
	assert.Empty(t, got.Closed.Streams, "streams right after close()")
	for _, r := range s.Requests() {
		if r.Time.After(restart) && r.LastEventID != "" {
			assert.Fail(t, "a Last-Event-ID after the restart, though the new lifecycle broke no stream", describeRequest(r))
		}
	}
}

// TestLifecycleGhostTimer: reconnects are scheduled (the standalone stream
// and a POST stream broke after their priming events, which set retry),
// then close() and start(). The old timers never fire: no request after
// the restart carries the old session id or an old Last-Event-ID.
func TestLifecycleGhostTimer(t *testing.T) {
	t.Parallel()
	// Long enough that both streams are surely waiting before either
	// timer fires, short enough to be watched twice over.
	const retry = 600 * time.Millisecond
	cut := faultserver.Cut{At: faultserver.CutAfterPriming}
	s := startFaultServer(t, faultserver.Config{
		POST:       faultserver.StreamPlan{Priming: true, Retry: retry},
		Standalone: faultserver.StreamPlan{Priming: true, Retry: retry},
		Plan: onlyFirstSession(func(info faultserver.ConnInfo, plan faultserver.StreamPlan) faultserver.StreamPlan {
			if info.Kind == faultserver.ConnStandalone || (info.Kind == faultserver.ConnPOST && len(info.Methods) == 1 && info.Methods[0] == "tools/call") {
				plan.Cut = cut
			}
			return plan
		}),
	})
	p := newLoggedPage(t, s.URL, `{}`)

	got := eval[ghostResult](p, `(async () => {
		await r.connect();
		r.settle('tools/call', { name: 'echo', arguments: { text: 'waits in the log' } }, 'resumable');
		await waitUntil(() => {
			const s = r.t.snapshot();
			return s.timers === 2 && s.streams.filter((st) => st.state === 'reconnecting' && st.lastEventId).length === 2;
		}, 5000, 'two reconnects scheduled');
		const before = r.snap();
		const closeAt = Date.now();
		await r.t.close();
		const closeMs = Date.now() - closeAt;
		const closed = r.snap();
		await r.t.start();
		await r.initialize();
		const newSessionId = r.t.sessionId;
		await sleep(`+strconv.Itoa(int(ghostWatch.Milliseconds()))+`);
		return { before, closed, closeAt, closeMs, newSessionId, errors: r.errors, closes: r.closes.length, final: r.snap() };
	})()`)

	kinds := []string{}
	for _, st := range got.Before.Streams {
		kinds = append(kinds, st.Kind+"/"+st.State)
	}
	assert.ElementsMatch(t, []string{"standalone/reconnecting", "resume/reconnecting"}, kinds, "streams before close()")
	assert.Equal(t, 2, got.Before.Timers, "reconnect timers before close()")
	checkNoGhosts(t, p, s, got)
	assert.Empty(t, lcErrorList(got.Errors), "onerror")
	assert.Equal(t, []string{"standalone"}, got.Final.streamKinds(), "the new lifecycle's streams")
	gets := requestsWith(s, func(r faultserver.Request) bool { return r.HTTPMethod == http.MethodGet })
	require.Len(t, gets, 2, "GETs: each lifecycle's standalone stream, no reconnect:\n%s", describeRequests(s))
	t.Logf("ghost-timer: close() resolved in %d ms with %d timers pending; %v watched after the restart, %d requests in all",
		got.CloseMs, got.Before.Timers, ghostWatch, len(s.Requests()))
}

// TestLifecycleGhostAwait: the standalone stream's reconnect is waiting
// for the headers() hook (a slow token refresh the test holds) when
// close() and start() happen. close() does not wait for the hook, and when
// the hook finally returns, that request is never sent.
func TestLifecycleGhostAwait(t *testing.T) {
	t.Parallel()
	s := startFaultServer(t, faultserver.Config{
		Standalone: faultserver.StreamPlan{Priming: true, Retry: 100 * time.Millisecond},
	})
	// Every hook call stamps its number on the request, so the server's
	// records tell whether the held one was ever sent.
	p := newLoggedPage(t, s.URL, `{ headers: async () => {
		const n = ++globalThis.hookCalls;
		if (globalThis.gate) { globalThis.heldCall = n; await globalThis.gate.promise; }
		return { 'x-hook-call': String(n) };
	} }`)

	type result struct {
		ghostResult
		HeldCall    int        `json:"heldCall"`
		Held        lcSnapshot `json:"held"`
		ReleasedAt  int64      `json:"releasedAt"`
		FuncsBefore int        `json:"funcsBefore"`
	}
	eval[bool](p, `(async () => {
		globalThis.hookCalls = 0;
		await r.connect();
		await waitUntil(() => r.t.snapshot().streams.some((s) => s.kind === 'standalone' && s.state === 'open' && s.lastEventId), 5000, 'the standalone stream open');
		globalThis.gate = deferred();
		return true;
	})()`)
	s.CutConnections(faultserver.ConnStandalone, false)

	got := eval[result](p, `(async () => {
		await waitUntil(() => globalThis.heldCall, 5000, 'the reconnect waiting for headers()');
		const before = r.snap();
		const closeAt = Date.now();
		await r.t.close(); // with the hook still pending
		const closeMs = Date.now() - closeAt;
		const closed = r.snap();
		const gate = globalThis.gate;
		globalThis.gate = null;
		await r.t.start();
		await r.initialize();
		const newSessionId = r.t.sessionId;
		await waitUntil(() => r.t.snapshot().streams.some((s) => s.kind === 'standalone' && s.state === 'open'), 5000, 'the new standalone stream open');
		const funcsBefore = r.t.snapshot().funcs;
		const releasedAt = Date.now();
		gate.resolve(); // the old token refresh completes, after the restart
		await sleep(`+strconv.Itoa(int(ghostWatch.Milliseconds()))+`);
		return { before, closed, closeAt, closeMs, newSessionId, errors: r.errors, closes: r.closes.length, final: r.snap(),
			heldCall: globalThis.heldCall, releasedAt, funcsBefore };
	})()`)

	checkNoGhosts(t, p, s, got.ghostResult)
	require.NotZero(t, got.HeldCall)
	for _, r := range s.Requests() {
		if r.Header.Get("X-Hook-Call") == strconv.Itoa(got.HeldCall) {
			assert.Fail(t, "the request whose headers() was held across the restart was sent", describeRequest(r))
		}
	}
	assert.Less(t, got.CloseMs, int64(500), "close() does not wait for a pending headers() hook")
	assert.Empty(t, lcErrorList(got.Errors), "onerror")
	assert.LessOrEqual(t, got.Final.Funcs, got.FuncsBefore, "js.Funcs after the held hook settled")
	assert.Equal(t, []string{"standalone"}, got.Final.streamKinds(), "the new lifecycle's streams")
	t.Logf("ghost-await: hook call %d held; close() resolved in %d ms with it pending; released %d ms after close, %v watched; js.Funcs %d before release, %d after",
		got.HeldCall, got.CloseMs, got.ReleasedAt-got.CloseAt, ghostWatch, got.FuncsBefore, got.Final.Funcs)
}

// TestLifecycleGhostOnError: a reconnect of the standalone stream fails
// (500) and close() and start() are called synchronously inside that
// onerror, while the transport handles the failure (the next attempt is
// being scheduled). No old-lifecycle reconnect happens afterwards.
func TestLifecycleGhostOnError(t *testing.T) {
	t.Parallel()
	var gets atomic.Int64
	s := startFaultServer(t, faultserver.Config{
		Standalone: faultserver.StreamPlan{Priming: true, Retry: 100 * time.Millisecond},
		Plan: onlyFirstSession(func(info faultserver.ConnInfo, plan faultserver.StreamPlan) faultserver.StreamPlan {
			if info.Kind == faultserver.ConnStandalone {
				plan.Cut = faultserver.Cut{At: faultserver.CutAfterPriming}
			}
			return plan
		}),
		// The first session's standalone GETs after its first fail: every
		// reconnect of the old lifecycle meets a 500.
		Intercept: func(r faultserver.Request) *faultserver.Reply {
			if r.HTTPMethod == http.MethodGet && r.SessionGeneration == 1 {
				if gets.Add(1) > 1 {
					return &faultserver.Reply{Status: http.StatusInternalServerError, Body: "busy"}
				}
			}
			return nil
		},
	})
	p := newLoggedPage(t, s.URL, `{ reconnectionOptions: { initialReconnectionDelay: 100, maxReconnectionDelay: 400, reconnectionDelayGrowFactor: 1.5, maxRetries: 10 } }`)

	type result struct {
		ghostResult
		Inside     []string `json:"inside"`
		StartError *string  `json:"startError"`
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("requests:\n%s", describeRequests(s))
		}
	})
	got := eval[result](p, `(async () => {
		const inside = [];
		let startError = null, closeAt = 0, closing = null, started = null;
		r.t.onerror = (err) => {
			inside.push(err.code + ' ' + err.status);
			if (closing) return;
			closeAt = Date.now();
			closing = r.t.close();
			started = r.t.start().then(() => null, (e) => String(e.code));
		};
		await r.connect();
		await waitUntil(() => closing !== null, 5000, 'a failed reconnect reported to onerror');
		await closing;
		const closeMs = Date.now() - closeAt;
		const closed = r.snap();
		startError = await started;
		r.t.onerror = undefined;
		await r.initialize();
		const newSessionId = r.t.sessionId;
		await sleep(`+strconv.Itoa(int(ghostWatch.Milliseconds()))+`);
		return { closed, closeAt, closeMs, newSessionId, errors: r.errors, closes: r.closes.length, final: r.snap(), inside, startError };
	})()`)

	assert.Nil(t, got.StartError, "start() inside onerror, right after close(), succeeds")
	assert.Equal(t, []string{"HTTP_ERROR 500"}, got.Inside, "onerror calls: the failed reconnect only")
	assert.Equal(t, []string{"HTTP_ERROR 500"}, lcErrorList(got.Errors), "onerror, over both lifecycles")
	checkNoGhosts(t, p, s, got.ghostResult)
	failed := requestsWith(s, func(r faultserver.Request) bool {
		return r.HTTPMethod == http.MethodGet && r.Status == http.StatusInternalServerError
	})
	require.Len(t, failed, 1, "the old lifecycle's reconnects: the one that failed, none after:\n%s", describeRequests(s))
	assert.Equal(t, []string{"standalone"}, got.Final.streamKinds(), "the new lifecycle's streams")
	t.Logf("ghost-onerror: close()+start() inside onerror %v after the 500 reached the server; close() resolved in %d ms; %v watched",
		since(failed[0].Time, got.CloseAt), got.CloseMs, ghostWatch)
}
