package e2e

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/esshim/esshim/e2e/faultserver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// primedConfig primes every stream with an id and retry, so that a
// lifecycle has Last-Event-IDs and server retry values to leave behind.
func primedConfig() faultserver.Config {
	return faultserver.Config{
		POST:       faultserver.StreamPlan{Priming: true, Retry: 200 * time.Millisecond},
		Standalone: faultserver.StreamPlan{Priming: true, Retry: 200 * time.Millisecond},
	}
}

// TestLifecycleRestart: close() then start() on the same object works any
// number of times, and each lifecycle starts clean: no session id,
// protocol version, stream, Last-Event-ID or in-flight request carries
// over. start() while started rejects with ALREADY_STARTED; close() is
// idempotent, and when it resolves nothing of the lifecycle is left;
// onclose fires once per lifecycle; a request in flight at close() gets no
// made-up outcome (the SDK's onclose handling settles it).
func TestLifecycleRestart(t *testing.T) {
	t.Parallel()
	s := startFaultServer(t, primedConfig())
	p := newLoggedPage(t, s.URL, `{ protocolVersion: '2025-03-26' }`)

	type lifecycleRecord struct {
		// Before close: the state to be forgotten.
		Busy lcSnapshot `json:"busy"`
		// Right after close() resolved, and after start().
		Closed          lcSnapshot `json:"closed"`
		Started         lcSnapshot `json:"started"`
		SessionID       *string    `json:"sessionId"`
		ProtocolVersion *string    `json:"protocolVersion"`
		CloseAt         int64      `json:"closeAt"`
		CloseMs         int64      `json:"closeMs"`
		SecondClose     bool       `json:"secondClose"`
		Closes          int        `json:"closes"`
		SendClosed      *lcError   `json:"sendClosed"`
		AlreadyStarted  *lcError   `json:"alreadyStarted"`
	}
	type result struct {
		InitialVersion *string           `json:"initialVersion"`
		CloseUnstarted bool              `json:"closeUnstarted"`
		Lifecycles     []lifecycleRecord `json:"lifecycles"`
		Outcomes       map[string]int    `json:"outcomes"`
		Errors         []lcError         `json:"errors"`
		Closes         int               `json:"closes"`
	}
	const rounds = 5
	got := eval[result](p, `(async () => {
		const errOf = (err) => ({ code: err?.code, status: err?.status, message: String(err?.message), isError: err instanceof Error });
		const initialVersion = r.t.protocolVersion ?? null;
		await r.t.close(); // never started: resolves, no onclose
		const closeUnstarted = r.closes.length === 0;
		const lifecycles = [];
		await r.t.start();
		for (let i = 0; i < `+strconv.Itoa(rounds)+`; i++) {
			await r.initialize();
			await r.callTool('echo', { text: 'round ' + i });
			r.settle('tools/call', { name: 'sleep', arguments: { ms: 30000 } }, 'inflight-' + i);
			await waitUntil(() => {
				const s = r.t.snapshot();
				return s.inflight.length === 1 && s.streams.filter((st) => st.lastEventId).length === 2;
			}, 5000, 'an in-flight call and a standalone stream, each with an event id');
			const busy = r.snap();
			let alreadyStarted = null;
			await r.t.start().catch((err) => { alreadyStarted = errOf(err); });
			const closesBefore = r.closes.length;
			const closeAt = Date.now();
			const closing = r.t.close();
			const second = r.t.close();
			await closing;
			const closeMs = Date.now() - closeAt;
			const closed = r.snap();
			const secondClose = await second.then(() => true, () => false);
			let sendClosed = null;
			await r.notify('notifications/initialized').catch((err) => { sendClosed = errOf(err); });
			const sessionId = r.t.sessionId ?? null, protocolVersion = r.t.protocolVersion ?? null;
			await r.t.close(); // closed already: resolves, no second onclose
			await sleep(50);
			const closes = r.closes.length - closesBefore;
			await r.t.start();
			lifecycles.push({ busy, closed, started: r.snap(), sessionId, protocolVersion, closeAt, closeMs, secondClose, closes, sendClosed, alreadyStarted });
		}
		await r.t.close();
		await sleep(50);
		return { initialVersion, closeUnstarted, lifecycles, outcomes: r.outcomeCounts(), errors: r.errors, closes: r.closes.length };
	})()`)

	assert.Equal(t, "2025-03-26", *got.InitialVersion, "the protocolVersion option seeds the first lifecycle")
	assert.True(t, got.CloseUnstarted, "close() before start() resolves without onclose")
	assert.Equal(t, rounds+1, got.Closes, "onclose: once per lifecycle")
	assert.Empty(t, got.Errors, "onerror")
	require.Len(t, got.Lifecycles, rounds)
	sessions := s.Sessions()
	require.Len(t, sessions, rounds, "sessions: one per round (the last lifecycle never initializes)")
	for i, lc := range got.Lifecycles {
		assert.Equal(t, i+1, lc.Busy.Lifecycle, "lifecycle number")
		assert.Equal(t, sessions[i].ID, lc.Busy.SessionID, "round %d ran in its own session", i)
		require.NotNil(t, lc.AlreadyStarted, "start() while started rejects")
		assert.Equal(t, "ALREADY_STARTED", lc.AlreadyStarted.Code)
		assert.True(t, lc.SecondClose, "a second close() resolves")
		assert.Equal(t, 1, lc.Closes, "onclose for lifecycle %d", i+1)
		require.NotNil(t, lc.SendClosed, "send() while closed rejects")
		assert.Equal(t, "NOT_STARTED", lc.SendClosed.Code)

		// When close() resolves, nothing of the lifecycle is left.
		assert.Empty(t, lc.Closed.Streams, "streams right after close()")
		assert.Empty(t, lc.Closed.Inflight, "in flight right after close()")
		assert.Zero(t, lc.Closed.Timers, "timers right after close()")
		assert.Nil(t, lc.SessionID, "sessionId after close()")
		assert.Nil(t, lc.ProtocolVersion, "protocolVersion after close()")

		// The next lifecycle starts clean.
		assert.Equal(t, i+2, lc.Started.Lifecycle)
		assert.Empty(t, lc.Started.SessionID, "session id after start()")
		assert.Empty(t, lc.Started.Streams, "streams after start()")
		assert.Empty(t, lc.Started.Inflight, "in flight after start()")
		assert.Zero(t, lc.Started.Timers)

		_, madeUp := got.Outcomes[`"inflight-`+strconv.Itoa(i)+`"`]
		assert.False(t, madeUp, "the request in flight at close() gets no made-up outcome from the transport")
		t.Logf("lifecycle %d: close() resolved in %d ms with %d streams and %d in flight", i+1, lc.CloseMs, len(lc.Busy.Streams), len(lc.Busy.Inflight))
	}

	ghostFetches, fetches := fetchGhosts(p)
	assert.Empty(t, ghostFetches, "fetches made while closed, or with another lifecycle's session id")
	assert.NotZero(t, fetches)

	// The server's view: each round's first request is an initialize with
	// no session id, no protocol version and no Last-Event-ID, and no
	// request of a round carries an older session's id or event ids after
	// that round's close().
	inits := requestsWith(s, func(r faultserver.Request) bool { return carriesRPC(r, "initialize", "") })
	require.Len(t, inits, rounds)
	for i, r := range inits {
		assert.Empty(t, r.SessionID, "initialize of round %d: session id", i)
		assert.Empty(t, r.LastEventID, "initialize of round %d: Last-Event-ID", i)
		if i == 0 {
			assert.Equal(t, "2025-03-26", r.ProtocolVersion, "the first lifecycle's seeded protocolVersion")
		} else {
			assert.Empty(t, r.ProtocolVersion, "initialize of round %d: protocol version", i)
		}
	}
	for i, lc := range got.Lifecycles {
		closeAt := time.UnixMilli(lc.CloseAt)
		assert.Empty(t, ghosts(s, i+1, closeAt.Add(time.Duration(lc.CloseMs+1)*time.Millisecond)), "requests of lifecycle %d after its close()", i+1)
		for _, r := range s.Requests() {
			if r.Time.After(closeAt) && r.LastEventGeneration != 0 && r.LastEventGeneration <= i+1 {
				assert.Fail(t, "a Last-Event-ID of a closed lifecycle", describeRequest(r))
			}
		}
	}
	// The aborts reach the server: no connection of a closed lifecycle
	// stays open.
	waitServer(t, s, 5*time.Second, "every connection to end", func() bool {
		for _, c := range s.Connections() {
			if c.End == faultserver.StillOpen {
				return false
			}
		}
		return true
	})
}

// TestLifecycleRestartSDK: the SDK's path, client.close() then
// client.connect(sameTransport), works any number of times, each time with
// a fresh initialize; a call in flight at client.close() is settled by
// the SDK (ConnectionClosed), exactly once; and the transport's onclose
// fires once per lifecycle, however the SDK chains its handlers.
func TestLifecycleRestartSDK(t *testing.T) {
	t.Parallel()
	s := startFaultServer(t, primedConfig())
	p := newLoggedPage(t, s.URL, `{}`)

	type round struct {
		SessionID      string   `json:"sessionId"`
		Echo           string   `json:"echo"`
		AlreadyStarted *lcError `json:"alreadyStarted"`
		Rejections     []string `json:"rejections"`
		After          *string  `json:"after"`
	}
	type result struct {
		Rounds        []round   `json:"rounds"`
		Closes        int       `json:"closes"`
		ClientOnclose int       `json:"clientOnclose"`
		Errors        []lcError `json:"errors"`
	}
	const rounds = 5
	got := eval[result](p, `(async () => {
		const client = new sdk.Client({ name: 'esshim-lifecycle', version: '0.0.0' });
		let clientOnclose = 0;
		client.onclose = () => clientOnclose++;
		const rounds = [];
		for (let i = 0; i < `+strconv.Itoa(rounds)+`; i++) {
			await client.connect(r.t);
			const echo = (await client.callTool({ name: 'echo', arguments: { text: 'sdk ' + i } })).content[0].text;
			let alreadyStarted = null;
			await r.t.start().catch((err) => { alreadyStarted = { code: err.code, message: String(err.message), isError: err instanceof Error }; });
			const rejections = [];
			const pending = client.callTool({ name: 'sleep', arguments: { ms: 30000 } }).then(
				() => rejections.push('resolved'), (err) => rejections.push(String(err.code) + ' ' + err.message));
			await waitUntil(() => r.t.snapshot().inflight.length === 1, 5000, 'the call in flight');
			const sessionId = r.t.sessionId;
			await client.close();
			await pending;
			await sleep(20);
			rounds.push({ sessionId, echo, alreadyStarted, rejections, after: r.t.sessionId ?? null });
		}
		return { rounds, closes: r.closes.length, clientOnclose, errors: r.errors };
	})()`)

	sessions := s.Sessions()
	require.Len(t, sessions, rounds)
	require.Len(t, got.Rounds, rounds)
	for i, rd := range got.Rounds {
		assert.Equal(t, sessions[i].ID, rd.SessionID, "round %d: a new session", i)
		assert.Equal(t, "sdk "+strconv.Itoa(i), rd.Echo)
		require.NotNil(t, rd.AlreadyStarted, "start() while the SDK is connected rejects")
		assert.Equal(t, "ALREADY_STARTED", rd.AlreadyStarted.Code)
		require.Len(t, rd.Rejections, 1, "the call in flight at client.close() settles once")
		assert.Contains(t, rd.Rejections[0], "-32000", "as the SDK's ConnectionClosed")
		assert.Nil(t, rd.After, "sessionId after client.close()")
	}
	assert.Equal(t, rounds, got.Closes, "the transport's onclose: once per lifecycle")
	assert.Empty(t, got.Errors, "onerror")
	t.Logf("SDK restart: %d rounds; the transport's onclose fired %d times, the SDK Client's onclose %d times (Protocol.connect chains the handler it finds on the transport)",
		rounds, got.Closes, got.ClientOnclose)

	ghostFetches, _ := fetchGhosts(p)
	assert.Empty(t, ghostFetches, "fetches made while closed, or with another lifecycle's session id")

	inits := requestsWith(s, func(r faultserver.Request) bool { return carriesRPC(r, "initialize", "") })
	require.Len(t, inits, rounds, "a fresh initialize per connect")
	for i, r := range inits {
		assert.Empty(t, r.SessionID, "initialize %d: session id", i)
		assert.Empty(t, r.ProtocolVersion, "initialize %d: protocol version", i)
		assert.Empty(t, r.LastEventID, "initialize %d: Last-Event-ID", i)
		if i > 0 {
			for _, old := range s.Requests() {
				if old.Seq > r.Seq && old.SessionGeneration != 0 && old.SessionGeneration < i+1 {
					assert.Fail(t, "a request of an old session after the next initialize", describeRequest(old))
				}
			}
		}
	}
	assert.Zero(t, s.Counts().Status[http.StatusNotFound], "404s")
}
