package e2e

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/esshim/esshim/e2e/faultserver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLifecycleCycles: 1,000 start/close cycles on one transport, each
// with traffic: an initialize; every tenth cycle notifications/initialized,
// which opens the standalone stream; every tenth a tools/call; every
// seventh a call left in flight at close(). Right after each close()
// resolves, no stream, in-flight request or timer is left; at the end the
// Go program's goroutines, the live js.Funcs and the transport's timers and
// goroutines are back to their baseline, taken after the first cycle. No
// fetch is ever made while closed or with another lifecycle's session id.
func TestLifecycleCycles(t *testing.T) {
	t.Parallel()
	const cycles = 1000
	s := startFaultServer(t, faultserver.Config{POST: faultserver.StreamPlan{Priming: true}})
	p := newLoggedPage(t, s.URL, `{}`)

	type result struct {
		Baseline lcSnapshot `json:"baseline"`
		Final    lcSnapshot `json:"final"`
		Peak     struct {
			Goroutines int `json:"goroutines"`
			Funcs      int `json:"funcs"`
			Awaits     int `json:"awaits"`
		} `json:"peak"`
		Leftovers []string  `json:"leftovers"`
		Ms        int64     `json:"ms"`
		CloseMax  float64   `json:"closeMax"`
		Closes    int       `json:"closes"`
		Errors    []lcError `json:"errors"`
		Wrong     []string  `json:"wrong"`
		SettledMs int64     `json:"settledMs"`
	}
	got := eval[result](p, `(async () => {
		// quiet waits until the transport's own goroutines are gone (its
		// callback dispatcher exits once the last callback is delivered).
		const quiet = async () => {
			await waitUntil(() => r.t.snapshot().transportGoroutines === 0, 5000, 'the transport goroutines to exit');
			await sleep(50);
			return r.snap();
		};
		const leftovers = [], wrong = [];
		const peak = { goroutines: 0, funcs: 0, awaits: 0 };
		let baseline, closeMax = 0;
		const t0 = Date.now();
		for (let i = 0; i < `+strconv.Itoa(cycles)+`; i++) {
			await r.t.start();
			await r.request('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'cycles', version: '0' } });
			if (i % 10 === 5) await r.notify('notifications/initialized');
			if (i % 10 === 0) {
				const text = 'cycle ' + i;
				const res = await r.callTool('echo', { text });
				if (textOf(res.message) !== text) wrong.push(JSON.stringify(res.message));
			}
			if (i % 7 === 0) {
				// send() resolves once the POST's stream is open: the call
				// is in flight when close() comes.
				await r.t.send({ jsonrpc: '2.0', id: 'left-' + i, method: 'tools/call', params: { name: 'sleep', arguments: { ms: 10000 } } });
			}
			const busy = r.t.snapshot();
			peak.goroutines = Math.max(peak.goroutines, busy.goroutines);
			peak.funcs = Math.max(peak.funcs, busy.funcs);
			peak.awaits = Math.max(peak.awaits, busy.awaits);
			const c0 = performance.now();
			await r.t.close();
			closeMax = Math.max(closeMax, performance.now() - c0);
			const s = r.t.snapshot();
			if (s.streams.length || s.inflight.length || s.timers || s.sessionId) {
				leftovers.push('cycle ' + i + ': ' + JSON.stringify(s));
			}
			if (i === 0) baseline = await quiet();
		}
		const ms = Date.now() - t0;
		// Give aborted fetches a moment to unwind, then read the counters.
		const settledAt = Date.now();
		let final = await quiet();
		while ((final.goroutines > baseline.goroutines || final.funcs > baseline.funcs || final.awaits > baseline.awaits) && Date.now() - settledAt < 3000) {
			await sleep(50);
			final = r.snap();
		}
		return { baseline, final, peak, leftovers, ms, closeMax, closes: r.closes.length, errors: r.errors, wrong, settledMs: Date.now() - settledAt };
	})()`)

	t.Logf("cycles: %d start/close cycles in %d ms (%.1f ms each, slowest close() %.1f ms); baseline after cycle 1: goroutines %d, js.Funcs %d, timers %d, transport goroutines %d; final: %d, %d, %d, %d (read %d ms after the last cycle); peak while busy: goroutines %d, js.Funcs %d",
		cycles, got.Ms, float64(got.Ms)/cycles, got.CloseMax,
		got.Baseline.Goroutines, got.Baseline.Funcs, got.Baseline.Timers, got.Baseline.TransportGoroutines,
		got.Final.Goroutines, got.Final.Funcs, got.Final.Timers, got.Final.TransportGoroutines, got.SettledMs,
		got.Peak.Goroutines, got.Peak.Funcs)
	assert.Empty(t, got.Leftovers, "state left right after close() resolved")
	assert.Empty(t, got.Wrong, "tool calls answered wrongly")
	assert.Empty(t, lcErrorList(got.Errors), "onerror")
	assert.Equal(t, cycles, got.Closes, "onclose: once per lifecycle")
	assert.Equal(t, cycles, got.Final.Lifecycle)
	assert.LessOrEqual(t, got.Final.Goroutines, got.Baseline.Goroutines, "Go goroutines: no growth over the baseline")
	assert.LessOrEqual(t, got.Final.Funcs, got.Baseline.Funcs, "live js.Funcs: no growth over the baseline")
	assert.LessOrEqual(t, got.Final.Awaits, got.Baseline.Awaits, "promise waits: no growth over the baseline")
	assert.Zero(t, got.Final.Timers, "pending timers")
	assert.Zero(t, got.Final.TransportGoroutines, "the transport's goroutines")
	assert.Zero(t, got.Baseline.Timers)
	// The counters do move while a lifecycle runs, so the comparison
	// above measures something.
	assert.Greater(t, got.Peak.Goroutines, got.Baseline.Goroutines, "goroutines while a lifecycle runs")
	// Waiting for a promise makes no js.Func (see wasm/promise.go): the
	// waits under way are what moves.
	assert.Greater(t, got.Peak.Awaits, got.Baseline.Awaits, "promise waits while a lifecycle runs")

	// The client's view: every fetch was made while its lifecycle was
	// open, with that lifecycle's own session id.
	ghostFetches, fetches := fetchGhosts(p)
	assert.Empty(t, ghostFetches, "fetches made while closed, or with another lifecycle's session id")
	made := eval[map[string]int](p, `r.fetches.reduce((m, f) => (m[f.sessionId + ' ' + f.method] = (m[f.sessionId + ' ' + f.method] ?? 0) + 1, m), {})`)

	// The server's view: one session per cycle, each made by an
	// initialize that carried no session id, protocol version or
	// Last-Event-ID, and no request the transport did not make in that
	// session's lifecycle. A fetch made just before close() and aborted
	// by it can still reach the server a little after the next cycle's
	// initialize (Chromium's network process cancels it asynchronously,
	// and sometimes sends it first); those are counted for the log.
	sessions := s.Sessions()
	require.Len(t, sessions, cycles)
	gen, late := 0, 0
	seen := map[string]int{}
	for _, r := range s.Requests() {
		if carriesRPC(r, "initialize", "") {
			gen++
			assert.Empty(t, r.SessionID+r.ProtocolVersion+r.LastEventID, "initialize of cycle %d carried old state: %s", gen, describeRequest(r))
			continue
		}
		if r.SessionGeneration < gen {
			late++
		}
		key := r.SessionID + " " + r.HTTPMethod
		seen[key]++
		if seen[key] > made[key] {
			assert.Fail(t, "a request the transport never made in that session's lifecycle", describeRequest(r))
		}
	}
	counts := s.Counts()
	assert.Equal(t, cycles, counts.RPC["initialize"])
	assert.LessOrEqual(t, counts.HTTP[http.MethodGet], cycles/10, "GETs: at most one standalone stream per tenth cycle")
	assert.Zero(t, counts.Status[http.StatusNotFound])
	t.Logf("cycles: %d fetches logged; server saw %s; %d requests (made before their close()) arrived after the next cycle's initialize",
		fetches, countsSummary(s), late)
}
