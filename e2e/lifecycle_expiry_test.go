package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/esshim/esshim/e2e/faultserver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// expiryBodies are the bodies a 404 for an expired session comes with.
// The transport must judge by the status alone, so each must behave the
// same.
var expiryBodies = []struct {
	name string
	body faultserver.ExpiredBody
}{
	{"text", faultserver.ExpiredText},
	{"jsonrpc-32001", faultserver.ExpiredJSONRPC32001},
	{"jsonrpc-32002", faultserver.ExpiredJSONRPC32002},
	{"html", faultserver.ExpiredHTML},
	{"empty", faultserver.ExpiredEmpty},
}

// expiryTrigger is the request whose 404 tells the transport that the
// session expired.
type expiryTrigger struct {
	name string
	// config adds the trigger's plan to cfg.
	config func(cfg *faultserver.Config)
	// setup is JS run after connect, with a tools/call 'inflight' open:
	// it gets the trigger ready and waits until it is.
	setup string
	// expire ends the session on the server, and provokes the trigger.
	expire func(s *faultserver.Server)
	// fire is JS that sends the trigger if it is a request, and sets
	// globalThis.trigger to a promise of its outcome (or null).
	fire string
	// triggerID is the JSON id of the request the trigger carries, if any.
	triggerID string
	// is404 picks the trigger's request from the server's records.
	is404 func(r faultserver.Request) bool
}

var expiryTriggers = []expiryTrigger{
	{
		// A POST carrying the expired session's id.
		name: "post",
		config: func(cfg *faultserver.Config) {
			cfg.GET = faultserver.GETNotAllowed
		},
		expire: func(s *faultserver.Server) { s.ExpireSessions() },
		fire:   `globalThis.trigger = r.settle('tools/call', { name: 'echo', arguments: { text: 'expired' } }, 'trigger');`,
		is404: func(r faultserver.Request) bool {
			return r.HTTPMethod == http.MethodPost && carriesRPC(r, "tools/call", `"trigger"`)
		},
		triggerID: `"trigger"`,
	},
	{
		// The standalone GET, reconnecting after the server ended it.
		name:  "standalone-get",
		setup: `await waitUntil(() => r.snap().streams.some((s) => s.kind === 'standalone' && s.state === 'open'), 5000, 'the standalone stream open');`,
		expire: func(s *faultserver.Server) {
			s.ExpireSessions()
			s.CutConnections(faultserver.ConnStandalone, false)
		},
		fire: `globalThis.trigger = null;`,
		is404: func(r faultserver.Request) bool {
			return r.HTTPMethod == http.MethodGet && r.LastEventID == ""
		},
	},
	{
		// A GET resuming a POST stream that broke after its priming event:
		// the session expires while the stream waits for its retry.
		name: "resume-get",
		config: func(cfg *faultserver.Config) {
			cfg.GET = faultserver.GETNotAllowed
			// The retry leaves time to expire the session before the resume.
			cfg.POST = faultserver.StreamPlan{Priming: true, Retry: time.Second}
			// POSTs answering requests, in order: initialize, 'inflight',
			// 'trigger'. The third is cut after its priming event.
			cfg.Plan = func(info faultserver.ConnInfo, plan faultserver.StreamPlan) faultserver.StreamPlan {
				if info.Kind == faultserver.ConnPOST && info.Ordinal == 3 {
					plan.Cut = faultserver.Cut{At: faultserver.CutAfterPriming}
				}
				return plan
			}
		},
		setup: `globalThis.trigger = r.settle('tools/call', { name: 'echo', arguments: { text: 'never delivered' } }, 'trigger');
			await waitUntil(() => r.snap().streams.some((s) => s.kind === 'resume' && s.state === 'reconnecting'), 5000, 'the broken POST stream waiting to resume');`,
		expire:    func(s *faultserver.Server) { s.ExpireSessions() },
		fire:      ``,
		triggerID: `"trigger"`,
		is404: func(r faultserver.Request) bool {
			return r.HTTPMethod == http.MethodGet && r.LastEventID != ""
		},
	},
}

// TestLifecycleExpiry: a 404 to a request that carried the session id ends
// the session, whatever the body says and whichever request got it: a
// POST, the standalone GET, or a GET resuming a broken POST stream. Every
// in-flight request gets a made-up -32000 error with reason
// 'session-expired', onerror gets SESSION_EXPIRED with status 404 once,
// sessionId is undefined and nothing of the session is left; and the SDK's
// client.connect(transport) after close then performs a fresh initialize.
func TestLifecycleExpiry(t *testing.T) {
	t.Parallel()
	for _, trig := range expiryTriggers {
		for _, b := range expiryBodies {
			t.Run(trig.name+"/"+b.name, func(t *testing.T) {
				t.Parallel()
				testExpiry(t, trig, b.body)
			})
		}
	}
}

func testExpiry(t *testing.T, trig expiryTrigger, body faultserver.ExpiredBody) {
	// Connections the expiry does not end itself stay open, so that the
	// in-flight request is still waiting when the trigger's 404 comes.
	cfg := faultserver.Config{ExpiredBody: body, KeepStreamsOnExpiry: true}
	if trig.config != nil {
		trig.config(&cfg)
	}
	s := startFaultServer(t, cfg)
	p := newLifecyclePage(t, s.URL, `{ reconnectionOptions: { initialReconnectionDelay: 50, maxReconnectionDelay: 500, reconnectionDelayGrowFactor: 1.5, maxRetries: 3 } }`)

	oldID := eval[string](p, `(async () => {
		await r.connect();
		globalThis.inflight = r.settle('tools/call', { name: 'sleep', arguments: { ms: 30000 } }, 'inflight');
		await waitUntil(() => r.snap().streams.some((s) => s.kind === 'post' && s.state === 'open'), 5000, 'the in-flight call open');
		`+trig.setup+`
		return r.t.sessionId;
	})()`)
	old, ok := s.Session()
	require.True(t, ok)
	require.Equal(t, old.ID, oldID, "the transport adopted the session")

	trig.expire(s)

	type result struct {
		Inflight  *lcOutcome     `json:"inflight"`
		Trigger   *lcOutcome     `json:"trigger"`
		Outcomes  map[string]int `json:"outcomes"`
		Errors    []lcError      `json:"errors"`
		SessionID *string        `json:"sessionId"`
		Snapshot  lcSnapshot     `json:"snapshot"`
	}
	got := eval[result](p, `(async () => {
		`+trig.fire+`
		const inflight = await within(globalThis.inflight, 5000);
		const trigger = await within(globalThis.trigger, 5000);
		await sleep(200); // for any second outcome or error to show
		return { inflight, trigger, outcomes: r.outcomeCounts(), errors: r.errors, sessionId: r.t.sessionId ?? null, snapshot: r.snap() };
	})()`)

	var notFound []faultserver.Request
	for _, r := range s.Requests() {
		if r.Status == http.StatusNotFound {
			notFound = append(notFound, r)
		}
	}
	require.Len(t, notFound, 1, "requests answered 404:\n%s", describeRequests(s))
	cause := notFound[0]
	assert.True(t, trig.is404(cause), "the 404 went to the trigger, not to %s", describeRequest(cause))
	assert.Equal(t, old.Generation, cause.SessionGeneration, "the 404'd request carried the expired session's id")

	require.NotNil(t, got.Inflight, "the in-flight request settled")
	settled := []lcOutcome{*got.Inflight}
	if trig.triggerID != "" {
		require.NotNil(t, got.Trigger, "the trigger's outcome")
		settled = append(settled, *got.Trigger)
	}
	var times []time.Duration
	for _, o := range settled {
		require.Nil(t, o.SendError, "send(%s) resolves: its request is settled by a message", o.ID)
		require.NotNil(t, o.Message, "outcome of %s", o.ID)
		require.NotNil(t, o.Message.Error, "%s: %s", o.ID, o.Message.describe())
		assert.Equal(t, -32000, o.Message.Error.Code, "%s: code", o.ID)
		assert.Equal(t, "session-expired", o.Message.Error.Data.Reason, "%s: data.reason", o.ID)
		assert.NotEmpty(t, o.Message.Error.Message, "%s: message", o.ID)
		times = append(times, since(cause.Time, o.At))
	}
	wantOutcomes := map[string]int{"1": 1, `"inflight"`: 1}
	if trig.triggerID != "" {
		wantOutcomes[trig.triggerID] = 1
	}
	assert.Equal(t, wantOutcomes, got.Outcomes, "exactly one outcome per request (initialize is 1)")

	require.Len(t, got.Errors, 1, "onerror: %v", lcErrorList(got.Errors))
	e := got.Errors[0]
	assert.Equal(t, "SESSION_EXPIRED", e.Code)
	assert.Equal(t, 404, e.Status)
	assert.True(t, e.IsError, "an Error instance")
	times = append(times, since(cause.Time, e.At))

	assert.Nil(t, got.SessionID, "transport.sessionId after expiry")
	assert.Empty(t, got.Snapshot.SessionID, "snapshot().sessionId")
	assert.Empty(t, got.Snapshot.Streams, "streams left")
	assert.Empty(t, got.Snapshot.Inflight, "requests left in flight")
	assert.Zero(t, got.Snapshot.Timers, "timers left")
	for _, r := range s.Requests() {
		if r.Seq > cause.Seq {
			assert.Fail(t, "a request after the 404", describeRequest(r))
		}
	}
	t.Logf("expiry by %s 404: settle times after the 404 (in-flight request, trigger request if any, onerror): %v", trig.name, times)
	for _, d := range times {
		assert.Less(t, d, time.Second, "settled promptly after the 404")
	}

	// The SDK's path after an expiry: close, then connect the same
	// transport again. sessionId is undefined, so Client.connect runs a
	// fresh initialize, which carries no old header.
	type sdkResult struct {
		SessionID       *string `json:"sessionId"`
		ProtocolVersion *string `json:"protocolVersion"`
		NewSessionID    string  `json:"newSessionId"`
		Echo            string  `json:"echo"`
	}
	sdkGot := eval[sdkResult](p, `(async () => {
		await r.t.close();
		const sessionId = r.t.sessionId ?? null, protocolVersion = r.t.protocolVersion ?? null;
		const client = new sdk.Client({ name: 'esshim-lifecycle', version: '0.0.0' });
		await client.connect(r.t);
		const echo = await client.callTool({ name: 'echo', arguments: { text: 'fresh' } });
		const newSessionId = r.t.sessionId;
		await client.close();
		return { sessionId, protocolVersion, newSessionId, echo: echo.content[0].text };
	})()`)
	assert.Nil(t, sdkGot.SessionID, "sessionId before client.connect")
	assert.Nil(t, sdkGot.ProtocolVersion, "protocolVersion before client.connect")
	assert.Equal(t, "fresh", sdkGot.Echo)
	inits := requestsWith(s, func(r faultserver.Request) bool { return carriesRPC(r, "initialize", "") })
	require.Len(t, inits, 2, "initialize requests: the first connect and the SDK's fresh one")
	assert.Empty(t, inits[1].SessionID, "the fresh initialize carries no session id")
	assert.Empty(t, inits[1].ProtocolVersion, "the fresh initialize carries no protocol version")
	sessions := s.Sessions()
	require.Len(t, sessions, 2)
	assert.Equal(t, sessions[1].ID, sdkGot.NewSessionID, "the transport adopted the new session")
	assert.True(t, sessions[1].Initialized, "the SDK sent notifications/initialized in the new session")
	assert.Empty(t, ghosts(s, old.Generation, cause.Time.Add(time.Millisecond)), "requests carrying the expired session after its 404")
}

// TestLifecycleNotFoundWithoutSession: a 404 to a request that carried no
// session id is a plain HTTP_ERROR 404, even when the 404 sets an
// mcp-session-id header, which the transport must not adopt.
func TestLifecycleNotFoundWithoutSession(t *testing.T) {
	t.Parallel()
	s := startFaultServer(t, faultserver.Config{Intercept: faultserver.NotFoundWithSessionID("fs-bogus")})
	p := newLifecyclePage(t, s.URL, `{}`)

	type result struct {
		Init      lcOutcome      `json:"init"`
		Errors    []lcError      `json:"errors"`
		Outcomes  map[string]int `json:"outcomes"`
		SessionID *string        `json:"sessionId"`
		Snapshot  lcSnapshot     `json:"snapshot"`
	}
	got := eval[result](p, `(async () => {
		await r.t.start();
		const init = await r.settle('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'e2e', version: '0' } });
		await sleep(300);
		return { init, errors: r.errors, outcomes: r.outcomeCounts(), sessionId: r.t.sessionId ?? null, snapshot: r.snap() };
	})()`)
	require.NotNil(t, got.Init.SendError, "send(initialize) rejects")
	assert.Equal(t, "HTTP_ERROR 404", got.Init.SendError.String())
	assert.Equal(t, []string{"HTTP_ERROR 404"}, lcErrorList(got.Errors), "onerror")
	assert.Empty(t, got.Outcomes, "no made-up response for a rejected send")
	assert.Nil(t, got.SessionID, "the 404's mcp-session-id is not adopted")
	assert.Empty(t, got.Snapshot.SessionID)
	assert.Empty(t, got.Snapshot.Inflight)
	assert.Len(t, s.Requests(), 1, "requests:\n%s", describeRequests(s))

	// The transport goes on as if nothing happened: the next initialize
	// makes a session, and its requests never carry the bogus id.
	s.Configure(func(c *faultserver.Config) { c.Intercept = nil })
	text := eval[string](p, `(async () => {
		await r.initialize();
		return textOf((await r.callTool('echo', { text: 'after' })).message);
	})()`)
	assert.Equal(t, "after", text)
	for _, r := range s.Requests() {
		assert.NotEqual(t, "fs-bogus", r.SessionID, "a request carried the 404's session id: %s", describeRequest(r))
	}
}

// TestLifecycleExpiryRace: one request's 404 is held back (ExpiredDelay)
// while another 404 expires the session and a new session is established:
// by the application in mode 'error', by the transport in mode
// 'reinitialize'. The late 404 carried the old session's id, so it must
// settle only its own request, once, and never clear the new session.
//
// The expiry aborts every fetch of the old session, which would keep the
// late 404 from ever reaching the transport; so the late request goes
// through a custom fetch that ignores the abort signal, as a fetch wrapper
// may, or as a response already on its way is delivered anyway. The late
// 404 then really arrives after the new session exists.
func TestLifecycleExpiryRace(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"error", "reinitialize"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			const lateDelay = 800 * time.Millisecond
			// Every 404 for the expired session is held back lateDelay; the
			// early request's comes at once, by hand.
			s := startFaultServer(t, faultserver.Config{
				GET:          faultserver.GETNotAllowed,
				ExpiredDelay: lateDelay,
				Intercept: func(r faultserver.Request) *faultserver.Reply {
					if carriesRPC(r, "tools/call", `"early"`) && r.SessionGeneration == 1 {
						return &faultserver.Reply{Status: http.StatusNotFound, Body: "session not found"}
					}
					return nil
				},
			})
			p := newLifecyclePage(t, s.URL, `{ sessionExpiry: '`+mode+`', fetch: (url, init) => {
				const late = init.body && new TextDecoder().decode(init.body).includes('"late"');
				if (!late) return fetch(url, init);
				const { signal, ...rest } = init;
				globalThis.lateResponse = fetch(url, rest).then((res) => { globalThis.lateArrived = Date.now(); return res; });
				return globalThis.lateResponse;
			} }`)
			eval[bool](p, `r.connect().then(() => r.callTool('echo', { text: 'proves the session' })).then(() => true)`)
			old, _ := s.Session()
			s.ExpireSessions()

			// 'late' arrives first and gets its 404 lateDelay later; 'early'
			// arrives next and gets its 404 at once.
			eval[bool](p, `(globalThis.late = r.settle('tools/call', { name: 'echo', arguments: { text: 'late' } }, 'late'), true)`)
			waitServer(t, s, 5*time.Second, "the late request at the server", func() bool { return rpcCount(s, "tools/call", `"late"`) == 1 })

			type result struct {
				Early        lcOutcome      `json:"early"`
				Late         lcOutcome      `json:"late"`
				NewSessionID string         `json:"newSessionId"`
				SessionAfter string         `json:"sessionAfter"`
				After        lcOutcome      `json:"after"`
				Outcomes     map[string]int `json:"outcomes"`
				Errors       []lcError      `json:"errors"`
				Changes      []struct {
					NewID string `json:"newId"`
					OldID string `json:"oldId"`
				} `json:"changes"`
				LateArrived int64 `json:"lateArrived"`
			}
			got := eval[result](p, `(async () => {
				const early = await r.settle('tools/call', { name: 'echo', arguments: { text: 'early' } }, 'early');
				if ('`+mode+`' === 'error') {
					await r.initialize(); // the application starts a new session
				} else {
					await waitUntil(() => r.sessionChanges.length > 0, 5000, 'onsessionchange');
				}
				const newSessionId = r.t.sessionId;
				const late = await globalThis.late;
				await globalThis.lateResponse; // the late 404 reached the transport
				await sleep(200);
				const sessionAfter = r.t.sessionId;
				const after = await r.settle('tools/call', { name: 'echo', arguments: { text: 'still here' } }, 'after');
				return { early, late, newSessionId, sessionAfter, after, outcomes: r.outcomeCounts(), errors: r.errors, changes: r.sessionChanges,
					lateArrived: globalThis.lateArrived };
			})()`)

			lateReqs := requestsWith(s, func(r faultserver.Request) bool { return carriesRPC(r, "tools/call", `"late"`) })
			require.Len(t, lateReqs, 1, "the late request is POSTed once, never replayed:\n%s", describeRequests(s))
			require.Equal(t, http.StatusNotFound, lateReqs[0].Status, "the late 404 was answered")
			sessions := s.Sessions()
			require.Len(t, sessions, 2, "sessions")
			assert.Equal(t, sessions[1].ID, got.NewSessionID, "the new session was adopted")
			assert.Equal(t, sessions[1].ID, got.SessionAfter, "the late 404 left the new session alone")
			assert.Equal(t, "result", got.After.kind(), "a request after the late 404 works in the new session")
			afterReqs := requestsWith(s, func(r faultserver.Request) bool { return carriesRPC(r, "tools/call", `"after"`) })
			require.Len(t, afterReqs, 1)
			assert.Equal(t, 2, afterReqs[0].SessionGeneration, "it carried the new session's id")
			assert.Equal(t, "session-expired", got.Late.kind(), "the late request's outcome")
			assert.Greater(t, got.LateArrived, got.Late.At, "the late 404 reached the page after the late request was settled")
			assert.Equal(t, []string{"SESSION_EXPIRED 404"}, lcErrorList(got.Errors), "onerror: one expiry")
			for id, n := range got.Outcomes {
				assert.Equal(t, 1, n, "outcomes of %s", id)
			}
			if mode == "error" {
				assert.Equal(t, "session-expired", got.Early.kind(), "the early request's outcome")
				assert.Empty(t, got.Changes, "onsessionchange in mode 'error'")
			} else {
				assert.Equal(t, "result", got.Early.kind(), "the early request is replayed in the new session")
				require.Len(t, got.Changes, 1, "onsessionchange")
				assert.Equal(t, sessions[1].ID, got.Changes[0].NewID)
				assert.Equal(t, old.ID, got.Changes[0].OldID)
			}
			earlyReqs := requestsWith(s, func(r faultserver.Request) bool {
				return carriesRPC(r, "tools/call", `"early"`) && r.Status == http.StatusNotFound
			})
			require.Len(t, earlyReqs, 1, "the early request's 404")
			t.Logf("race (%s): after the early 404: early settled (%s) in %v, late (%s) in %v; the late 404 came %v after it was sent and left session g2 in place",
				mode, got.Early.kind(), since(earlyReqs[0].Time, got.Early.At), got.Late.kind(), since(earlyReqs[0].Time, got.Late.At), lateDelay)
		})
	}
}
