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

// reinitOptions are the transport options of the reinitialize tests.
const reinitOptions = `{ sessionExpiry: 'reinitialize', reconnectionOptions: { initialReconnectionDelay: 50, maxReconnectionDelay: 500, reconnectionDelayGrowFactor: 1.5, maxRetries: 3 } }`

// reinitResult is what the reinitialize tests read from the page after an
// expiry.
type reinitResult struct {
	Inflight  *lcOutcome     `json:"inflight"` // nil: never settled
	Trigger   *lcOutcome     `json:"trigger"`
	Outcomes  map[string]int `json:"outcomes"`
	Errors    []lcError      `json:"errors"`
	SessionID *string        `json:"sessionId"`
	Changes   []struct {
		At    int64  `json:"at"`
		NewID string `json:"newId"`
		OldID string `json:"oldId"`
	} `json:"changes"`
	Snapshot lcSnapshot `json:"snapshot"`
	// InitResults counts the initialize results onmessage got.
	InitResults int `json:"initResults"`
}

// reinitSetup connects and leaves a tools/call 'inflight' open, with the
// standalone stream open unless the server has none.
const reinitSetup = `(async () => {
	await r.connect();
	globalThis.inflight = r.settle('tools/call', { name: 'sleep', arguments: { ms: 30000 } }, 'inflight');
	await waitUntil(() => r.snap().streams.some((s) => s.kind === 'post' && s.state === 'open'), 5000, 'the in-flight call open');
	await waitUntil(() => r.snap().streams.some((s) => s.kind === 'standalone' && s.state === 'open'), 5000, 'the standalone stream open');
	return r.t.sessionId;
})()`

// reinitCollect awaits the outcomes after fire (JS that may set
// globalThis.trigger) and waits for settle (JS condition) plus 300 ms, for
// anything more to show.
func reinitCollect(p *page, fire, settle string) reinitResult {
	return eval[reinitResult](p, `(async () => {
		globalThis.trigger = null;
		`+fire+`
		const inflight = await within(globalThis.inflight, 5000);
		const trigger = await within(globalThis.trigger, 5000);
		await waitUntil(() => `+settle+`, 5000, 'the transport to settle');
		await sleep(300);
		const initResults = r.messages.filter((m) => m.message?.result?.serverInfo).length;
		return { inflight, trigger, outcomes: r.outcomeCounts(), errors: r.errors, sessionId: r.t.sessionId ?? null,
			changes: r.sessionChanges, snapshot: r.snap(), initResults };
	})()`)
}

// TestLifecycleReinitialize: with sessionExpiry 'reinitialize' the
// transport re-runs the handshake with the application's last initialize
// (whose new result onmessage never sees), sends notifications/initialized,
// reopens the standalone stream, replays the request that got the 404 so
// that its caller gets a real result, fails the other in-flight requests
// with 'session-expired', and calls onsessionchange(newId, oldId). A second
// expiry of the new session, once it proved usable, gets its own round.
func TestLifecycleReinitialize(t *testing.T) {
	t.Parallel()
	s := startFaultServer(t, faultserver.Config{KeepStreamsOnExpiry: true})
	p := newLifecyclePage(t, s.URL, reinitOptions)
	firstID := eval[string](p, reinitSetup)

	var ids []string // the session ids, by generation - 1
	ids = append(ids, firstID)
	for round := 1; round <= 2; round++ {
		old, ok := s.Session()
		require.True(t, ok)
		require.Equal(t, round, old.Generation)
		s.ExpireSessions()
		got := reinitCollect(p,
			`globalThis.trigger = r.settle('tools/call', { name: 'echo', arguments: { text: 'replayed' } }, 'trigger');`,
			`r.sessionChanges.length > 0 && r.snap().streams.some((s) => s.kind === 'standalone' && s.state === 'open')`)
		newGen := round + 1
		sessions := s.Sessions()
		require.Len(t, sessions, newGen, "sessions:\n%s", describeRequests(s))
		newSess := sessions[newGen-1]
		ids = append(ids, newSess.ID)

		// The replayed request got its real result; the one whose stream
		// was lost got 'session-expired'; each exactly once.
		require.NotNil(t, got.Trigger)
		require.Nil(t, got.Trigger.SendError, "send of the 404'd request resolves")
		assert.Equal(t, "result", got.Trigger.kind(), "the 404'd request: %s", got.Trigger.Message.describe())
		assert.Equal(t, "replayed", got.Trigger.Message.text())
		require.NotNil(t, got.Inflight, "the in-flight request settled")
		assert.Equal(t, "session-expired", got.Inflight.kind(), "the in-flight request")
		for id, n := range got.Outcomes {
			assert.Equal(t, 1, n, "outcomes of %s", id)
		}
		assert.Equal(t, 1, got.InitResults, "initialize results delivered to onmessage: the application's own only")

		// One expiry reported, one session change, to the new session.
		assert.Equal(t, []string{"SESSION_EXPIRED 404"}, lcErrorList(got.Errors), "onerror")
		require.Len(t, got.Changes, 1, "onsessionchange")
		assert.Equal(t, newSess.ID, got.Changes[0].NewID, "onsessionchange newId")
		assert.Equal(t, old.ID, got.Changes[0].OldID, "onsessionchange oldId")
		require.NotNil(t, got.SessionID)
		assert.Equal(t, newSess.ID, *got.SessionID, "transport.sessionId")
		assert.Equal(t, []string{"standalone"}, got.Snapshot.streamKinds(), "streams: the reopened standalone stream")
		assert.Empty(t, got.Snapshot.Inflight)

		// The server's view: the handshake replayed as the application sent
		// it, notifications/initialized, the standalone GET and the replay,
		// all in the new session, and the replay after the handshake.
		var hsInit, hsNotif, replay, get faultserver.Request
		var n404 int
		for _, r := range s.Requests() {
			switch {
			case r.Status == http.StatusNotFound:
				n404++
				if r.SessionGeneration == round {
					assert.True(t, carriesRPC(r, "tools/call", `"trigger"`), "the 404 went to the trigger: %s", describeRequest(r))
				}
			case carriesRPC(r, "initialize", "") && r.Seq > 1 && hsInit.Seq == 0 && r.Time.After(old.Ended):
				hsInit = r
			case r.SessionGeneration == newGen && carriesRPC(r, "notifications/initialized", ""):
				hsNotif = r
			case r.SessionGeneration == newGen && carriesRPC(r, "tools/call", `"trigger"`):
				replay = r
			case r.SessionGeneration == newGen && r.HTTPMethod == http.MethodGet:
				get = r
			}
		}
		assert.Equal(t, round, n404, "404s so far, one per expiry")
		require.NotZero(t, hsInit.Seq, "the handshake's initialize:\n%s", describeRequests(s))
		assert.Empty(t, hsInit.SessionID, "the handshake's initialize carries no session id")
		assert.Empty(t, hsInit.ProtocolVersion, "the handshake's initialize carries no protocol version, as the application's did not")
		assert.Equal(t, []string{"1"}, hsInit.RPCIDs, "the handshake replays the application's initialize")
		require.NotZero(t, hsNotif.Seq, "notifications/initialized in the new session")
		require.NotZero(t, replay.Seq, "the replay in the new session")
		require.NotZero(t, get.Seq, "the standalone GET in the new session")
		assert.Less(t, hsInit.Seq, hsNotif.Seq)
		assert.Less(t, hsNotif.Seq, replay.Seq, "the replay waits for the handshake")
		assert.True(t, newSess.Initialized)
		assert.Equal(t, 1, s.DeliveryCount(newGen, `"trigger"`), "the replay's response reached the wire once")
		assert.Equal(t, 2*round, rpcCount(s, "tools/call", `"trigger"`), "the trigger POSTed once per round and replayed once")
		assert.Equal(t, 1+round, rpcCount(s, "initialize", ""), "initialize: the application's and one handshake per expiry")
		assert.Equal(t, 1, newSess.MaxOpenStandalone, "standalone streams in the new session")

		notFound := requestsWith(s, func(r faultserver.Request) bool {
			return r.Status == http.StatusNotFound && r.SessionGeneration == round
		})[0]
		t.Logf("reinitialize round %d: after the 404, in-flight failed in %v, onsessionchange in %v, replayed result in %v",
			round, since(notFound.Time, got.Inflight.At), since(notFound.Time, got.Changes[0].At), since(notFound.Time, got.Trigger.At))

		if round == 1 {
			// Clear the records of this round and leave a request in flight
			// in the new session for the next.
			eval[bool](p, `(async () => {
				r.errors.length = 0; r.sessionChanges.length = 0; r.outcomes.clear();
				globalThis.inflight = r.settle('tools/call', { name: 'sleep', arguments: { ms: 30000 } }, 'inflight2');
				await waitUntil(() => r.snap().streams.some((s) => s.kind === 'post' && s.state === 'open'), 5000, 'the in-flight call open');
				return true;
			})()`)
		}
	}
}

// TestLifecycleReinitializeByGET: an expiry found by the standalone GET has
// no request to replay: the handshake runs, the standalone stream comes
// back in the new session, and the in-flight request fails.
func TestLifecycleReinitializeByGET(t *testing.T) {
	t.Parallel()
	s := startFaultServer(t, faultserver.Config{KeepStreamsOnExpiry: true})
	p := newLifecyclePage(t, s.URL, reinitOptions)
	eval[string](p, reinitSetup)
	old, _ := s.Session()
	s.ExpireSessions()
	s.CutConnections(faultserver.ConnStandalone, false)

	got := reinitCollect(p, ``, `r.sessionChanges.length > 0 && r.snap().streams.some((s) => s.kind === 'standalone' && s.state === 'open')`)
	sessions := s.Sessions()
	require.Len(t, sessions, 2)
	require.NotNil(t, got.Inflight, "the in-flight request settled")
	assert.Equal(t, "session-expired", got.Inflight.kind())
	assert.Equal(t, map[string]int{"1": 1, `"inflight"`: 1}, got.Outcomes)
	assert.Equal(t, 1, got.InitResults, "initialize results delivered to onmessage")
	assert.Equal(t, []string{"SESSION_EXPIRED 404"}, lcErrorList(got.Errors))
	require.Len(t, got.Changes, 1)
	assert.Equal(t, sessions[1].ID, got.Changes[0].NewID)
	assert.Equal(t, old.ID, got.Changes[0].OldID)
	assert.Equal(t, []string{"standalone"}, got.Snapshot.streamKinds())
	assert.True(t, sessions[1].Initialized)
	assert.Equal(t, 1, sessions[1].MaxOpenStandalone)
	assert.Equal(t, 2, rpcCount(s, "initialize", ""))
	assert.Equal(t, 1, rpcCount(s, "tools/call", `"inflight"`), "the in-flight request is not replayed: it may have run")
	notFound := requestsWith(s, func(r faultserver.Request) bool { return r.Status == http.StatusNotFound })
	require.Len(t, notFound, 1)
	assert.Equal(t, http.MethodGet, notFound[0].HTTPMethod)
	t.Logf("reinitialize by GET: after the 404, in-flight failed in %v, onsessionchange in %v",
		since(notFound[0].Time, got.Inflight.At), since(notFound[0].Time, got.Changes[0].At))
}

// TestLifecycleReinitializeFails: when the new handshake fails (500) or
// its session 404s at once, everything fails cleanly: the 404'd request
// and the in-flight one get 'session-expired', no session is kept, and
// there is no second round and no loop: the server sees exactly one
// handshake, then nothing.
func TestLifecycleReinitializeFails(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// intercept spoils the reinitialization; initializes counts the
		// initialize requests seen so far, this one included.
		intercept func(r faultserver.Request, initializes int64) *faultserver.Reply
		// wantErrors after SESSION_EXPIRED 404.
		wantErrors []string
	}{
		{
			name: "handshake-500",
			intercept: func(r faultserver.Request, initializes int64) *faultserver.Reply {
				if carriesRPC(r, "initialize", "") && initializes > 1 {
					return &faultserver.Reply{Status: http.StatusInternalServerError, Body: "down for maintenance"}
				}
				return nil
			},
			wantErrors: []string{"SESSION_EXPIRED 404", "HTTP_ERROR 500"},
		},
		{
			// The new session is gone at its first request: the handshake's
			// notifications/initialized gets 404. That is an expiry of a
			// session that never proved usable, which must not start
			// another round.
			name: "handshake-404",
			intercept: func(r faultserver.Request, _ int64) *faultserver.Reply {
				if r.SessionGeneration >= 2 {
					return &faultserver.Reply{Status: http.StatusNotFound, Body: "session not found"}
				}
				return nil
			},
			wantErrors: []string{"SESSION_EXPIRED 404", "SESSION_EXPIRED 404"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var initializes atomic.Int64
			s := startFaultServer(t, faultserver.Config{
				KeepStreamsOnExpiry: true,
				Intercept: func(r faultserver.Request) *faultserver.Reply {
					if carriesRPC(r, "initialize", "") {
						return tc.intercept(r, initializes.Add(1))
					}
					return tc.intercept(r, initializes.Load())
				},
			})
			p := newLifecyclePage(t, s.URL, reinitOptions)
			eval[string](p, reinitSetup)
			s.ExpireSessions()

			got := reinitCollect(p,
				`globalThis.trigger = r.settle('tools/call', { name: 'echo', arguments: { text: 'lost' } }, 'trigger');`,
				`r.errors.length >= `+strconv.Itoa(len(tc.wantErrors)))
			// Quiet for a while longer: a loop would show as more requests.
			countAfter := len(s.Requests())
			time.Sleep(time.Second)

			assert.Equal(t, tc.wantErrors, lcErrorList(got.Errors), "onerror")
			require.NotNil(t, got.Trigger)
			require.Nil(t, got.Trigger.SendError, "send of the 404'd request resolves; a message settles it")
			assert.Equal(t, "session-expired", got.Trigger.kind(), "the 404'd request")
			require.NotNil(t, got.Inflight, "the in-flight request settled")
			assert.Equal(t, "session-expired", got.Inflight.kind(), "the in-flight request")
			for id, n := range got.Outcomes {
				assert.Equal(t, 1, n, "outcomes of %s", id)
			}
			assert.Equal(t, 1, got.InitResults, "initialize results delivered to onmessage")
			assert.Empty(t, got.Changes, "onsessionchange: no new session")
			assert.Nil(t, got.SessionID, "transport.sessionId")
			assert.Empty(t, got.Snapshot.Streams)
			assert.Empty(t, got.Snapshot.Inflight)
			assert.Zero(t, got.Snapshot.Timers, "timers")

			assert.Equal(t, 2, rpcCount(s, "initialize", ""), "initialize: the application's and one handshake:\n%s", describeRequests(s))
			assert.Equal(t, 1, rpcCount(s, "tools/call", `"trigger"`), "the 404'd request is not replayed after a failed handshake")
			assert.Len(t, s.Requests(), countAfter, "requests after everything settled (a loop):\n%s", describeRequests(s))
			notFound := requestsWith(s, func(r faultserver.Request) bool { return r.Status == http.StatusNotFound })
			require.NotEmpty(t, notFound)
			t.Logf("reinitialize %s: %d requests in all; after the first 404, trigger failed in %v, in-flight in %v, last error in %v",
				tc.name, countAfter, since(notFound[0].Time, got.Trigger.At), since(notFound[0].Time, got.Inflight.At),
				since(notFound[0].Time, got.Errors[len(got.Errors)-1].At))
		})
	}
}
