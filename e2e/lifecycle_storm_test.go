package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/esshim/esshim/e2e/faultserver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stormWaves and stormWaveSize: 300 tools/call in three waves of 100 sent
// at once, 700 ms apart. The session expires in the middle of the first
// and of the second wave.
const (
	stormWaves    = 3
	stormWaveSize = 100
	stormSettle   = 2 * time.Second // every request settles this soon after its cause
)

// stormPlan cuts POST streams answering tools/call, and resume GETs, at
// random (at once, after the priming event or just before the response;
// cleanly or by reset), from a seeded RNG. It is the faultserver's
// DropRate, except that it spares initialize: a reinitialization whose
// handshake is dropped fails on purpose (TestLifecycleReinitializeFails),
// and here it would end the scenario before the second expiry.
func stormPlan(seed uint64, rate float64) faultserver.PlanFunc {
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(seed, 0x0f5a))
	return func(info faultserver.ConnInfo, plan faultserver.StreamPlan) faultserver.StreamPlan {
		if (info.Kind != faultserver.ConnPOST && info.Kind != faultserver.ConnResume) || slices.Contains(info.Methods, "initialize") {
			return plan
		}
		mu.Lock()
		defer mu.Unlock()
		if rng.Float64() >= rate {
			return plan
		}
		points := []faultserver.CutPoint{faultserver.CutAtOnce, faultserver.CutAfterPriming, faultserver.CutBeforeResponse}
		plan.Cut = faultserver.Cut{At: points[rng.IntN(len(points))], Abort: rng.IntN(2) == 0}
		return plan
	}
}

// TestLifecycleOrphanStorm: 300 concurrent tools/call while the server
// drops streams at random and expires the session twice, in each
// sessionExpiry mode. The waves are paced by the scenario, not by the
// clock: each starts once the session that followed the last expiry is
// there. In mode 'error' the application starts a new session
// itself when onerror reports SESSION_EXPIRED, in the same lifecycle; in
// mode 'reinitialize' the transport does. Every request settles exactly
// once: its result, a made-up 'stream-lost' or 'session-expired' error, or
// a rejected send(); never two, never none. Each settles within 2 s of its
// cause: the last server-side event that concerned it (its POST arriving,
// a cut of one of its connections, the expiry of its session, a 4xx to
// its POST).
// The server's side is counted too: every id POSTed at most once per
// session, every result the client got delivered by the server.
func TestLifecycleOrphanStorm(t *testing.T) {
	t.Parallel()
	for i, mode := range []string{"error", "reinitialize"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			testOrphanStorm(t, mode, uint64(4040+i))
		})
	}
}

func testOrphanStorm(t *testing.T, mode string, seed uint64) {
	cfg := faultserver.OrphanStorm(seed, 0) // drops come from stormPlan
	cfg.Plan = stormPlan(seed, 0.2)
	s := startFaultServer(t, cfg)
	p := newLoggedPage(t, s.URL, `{ sessionExpiry: '`+mode+`', reconnectionOptions: { initialReconnectionDelay: 50, maxReconnectionDelay: 400, reconnectionDelayGrowFactor: 1.5, maxRetries: 5 } }`)
	eval[bool](p, `r.connect().then(() => true)`)

	// The expiries, from Go, in the middle of waves 1 and 2: once half of
	// the wave reached the server in a live session.
	waveCalls := func(wave, gen int) int {
		n := 0
		for _, r := range s.Requests() {
			for _, id := range r.RPCIDs {
				if strings.HasPrefix(id, fmt.Sprintf(`"w%d-`, wave)) && r.SessionGeneration == gen {
					n++
				}
			}
		}
		return n
	}
	type expiry struct {
		At         time.Time
		Generation int
	}
	expiries := make(chan []expiry, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	go func() {
		var done []expiry
		defer func() { expiries <- done }()
		for wave := 1; wave <= 2; wave++ {
			if s.Wait(ctx, func() bool {
				live, ok := s.Session()
				return ok && live.Generation == wave && waveCalls(wave, wave) >= stormWaveSize/2
			}) != nil {
				return
			}
			live, _ := s.Session()
			s.ExpireSessions()
			done = append(done, expiry{At: time.Now(), Generation: live.Generation})
		}
	}()

	type result struct {
		Outcomes []*lcOutcome   `json:"outcomes"`
		Counts   map[string]int `json:"counts"`
		Errors   []lcError      `json:"errors"`
		Changes  []struct {
			NewID string `json:"newId"`
			OldID string `json:"oldId"`
		} `json:"changes"`
		Reinits  int        `json:"reinits"`
		Snapshot lcSnapshot `json:"snapshot"`
		Ms       int64      `json:"ms"`
		Stalls   [][2]int64 `json:"stalls"` // Date.now() spans in which the page could not run`
	}
	got := evalWithin[result](p, `(async () => {
		// Mode 'error': the application answers an expiry by starting a
		// new session on the same transport, as an app without the SDK's
		// reconnect logic would.
		let reinits = 0, reinitializing = false;
		if ('`+mode+`' === 'error') {
			r.t.onerror = (err) => {
				if (err.code !== 'SESSION_EXPIRED' || reinitializing) return;
				reinitializing = true;
				reinits++;
				r.initialize().finally(() => { reinitializing = false; });
			};
		}
		// waitRunning resolves once cond holds, or once the page has run
		// for ms, its stalls not counted: the time bounds of the scenario
		// must hold on a loaded machine too.
		const waitRunning = async (cond, ms) => {
			for (let ran = 0, last = Date.now(); ran < ms && !cond();) {
				await sleep(10);
				const now = Date.now();
				ran += Math.min(now - last, 50);
				last = now;
			}
		};
		// The page's stalls: spans in which a 10 ms interval timer could
		// not run (the machine gave the page no CPU, or the page was busy).
		const stalls = [];
		let tick = Date.now();
		const monitor = setInterval(() => {
			const now = Date.now();
			if (now - tick > 30) stalls.push([tick + 10, now]);
			tick = now;
		}, 10);
		const t0 = Date.now();
		const calls = [];
		let session = r.t.sessionId;
		for (let w = 1; w <= `+fmt.Sprint(stormWaves)+`; w++) {
			if (w > 1) {
				await sleep(700);
				// Each wave goes to the session that followed the expiry in
				// the wave before: wait for it rather than assume it is
				// there after 700 ms (on a loaded machine, the new
				// initialize can queue behind the wave in Chromium's six
				// connections per origin for longer than that).
				await waitRunning(() => r.t.sessionId && r.t.sessionId !== session, 15000);
				session = r.t.sessionId;
			}
			for (let i = 0; i < `+fmt.Sprint(stormWaveSize)+`; i++) {
				const id = 'w' + w + '-' + i;
				calls.push(r.settle('tools/call', { name: 'sleep', arguments: { ms: (i * 37) % 80 } }, id));
			}
		}
		// An orphan would never settle: give up on it once the page has
		// run for 10 s, its stalls not counted (a loaded machine can stop
		// the page for longer than that at once).
		const giveUp = waitRunning(() => false, 10000).then(() => null);
		const outcomes = await Promise.all(calls.map((c) => Promise.race([c, giveUp])));
		const ms = Date.now() - t0;
		await sleep(500); // for any second outcome to show
		clearInterval(monitor);
		return { outcomes, counts: r.outcomeCounts(), errors: r.errors, changes: r.sessionChanges, reinits, snapshot: r.snap(), ms, stalls };
	})()`, 3*time.Minute)
	cancel()
	exp := <-expiries

	// Client side: one outcome each.
	require.Len(t, got.Outcomes, stormWaves*stormWaveSize)
	var orphans, twice []string
	byID := map[string]lcOutcome{}
	for i, o := range got.Outcomes {
		if o == nil {
			orphans = append(orphans, fmt.Sprintf("w%d-%d", i/stormWaveSize+1, i%stormWaveSize))
			continue
		}
		id := string(o.ID)
		byID[id] = *o
		n := got.Counts[id]
		if (o.SendError == nil && n != 1) || (o.SendError != nil && n != 0) {
			twice = append(twice, fmt.Sprintf("%s: %s and %d messages", id, o.kind(), n))
		}
	}
	assert.Empty(t, orphans, "requests that never settled")
	assert.Empty(t, twice, "requests with other than one outcome")
	kinds := lcCounts(derefAll(got.Outcomes))
	for k := range kinds {
		assert.Contains(t, []string{"result", "stream-lost", "session-expired", "send:NETWORK_ERROR", "send:HTTP_ERROR"}, k, "outcome kinds")
	}
	assert.Empty(t, got.Snapshot.Inflight, "requests left in flight")

	// Results are right: each sleep answered its own request.
	for id, o := range byID {
		if o.kind() == "result" {
			var wave, i int
			fmt.Sscanf(strings.Trim(id, `"`), "w%d-%d", &wave, &i)
			assert.Equal(t, fmt.Sprintf("slept %d ms", (i*37)%80), o.Message.text(), "result of %s", id)
		}
	}

	// The expiries happened, mid-wave, and a new session followed each.
	require.Len(t, exp, 2, "expiries (the scenario did not get that far):\n%s", countsSummary(s))
	sessions := s.Sessions()
	assert.Len(t, sessions, 3, "sessions: the first and one after each expiry")
	var sessionErrors []string
	for _, e := range got.Errors {
		if e.Code == "SESSION_EXPIRED" {
			sessionErrors = append(sessionErrors, e.String())
		}
	}
	assert.Equal(t, []string{"SESSION_EXPIRED 404", "SESSION_EXPIRED 404"}, sessionErrors, "onerror: one SESSION_EXPIRED per expiry")
	if mode == "reinitialize" {
		require.Len(t, got.Changes, 2, "onsessionchange: once per expiry")
		assert.Equal(t, sessions[0].ID, got.Changes[0].OldID)
		assert.Equal(t, sessions[1].ID, got.Changes[0].NewID)
		assert.Equal(t, sessions[1].ID, got.Changes[1].OldID)
		assert.Equal(t, sessions[2].ID, got.Changes[1].NewID)
	} else {
		assert.Equal(t, 2, got.Reinits, "the application's reinitializations")
		assert.Empty(t, got.Changes, "onsessionchange in mode 'error'")
	}

	// The transport sent each request once per session: in mode 'error'
	// once in all, in mode 'reinitialize' at most once more, replayed in
	// the new session after its 404.
	type sent struct {
		IDs       []string `json:"ids"`
		SessionID string   `json:"sessionId"`
	}
	fetched := map[string][]string{} // id -> session ids it was POSTed with
	for _, f := range eval[[]sent](p, `r.fetches.filter((f) => f.method === 'POST').map(({ ids, sessionId }) => ({ ids, sessionId }))`) {
		for _, id := range f.IDs {
			fetched[id] = append(fetched[id], f.SessionID)
		}
	}
	for id := range byID {
		sids := fetched[id]
		if mode == "error" {
			assert.LessOrEqual(t, len(sids), 1, "%s sent %d times", id, len(sids))
		} else {
			assert.LessOrEqual(t, len(sids), 2, "%s sent %d times", id, len(sids))
			if len(sids) == 2 {
				assert.NotEqual(t, sids[0], sids[1], "%s sent twice in one session", id)
			}
		}
	}

	// Server side: every result the client got was delivered. A POST the
	// server saw more often than the transport sent it in that session is
	// Chromium's own resend after a connection reset (the server's abort
	// cuts, and expiry resets): each extra one must follow a reset of the
	// one before.
	reqs := s.Requests()
	conns := s.Connections()
	connOf := map[int]faultserver.Connection{} // POST Seq -> its connection
	for _, c := range conns {
		if c.Kind == faultserver.ConnPOST {
			connOf[c.Request] = c
		}
	}
	posts := map[string][]faultserver.Request{}
	for _, r := range reqs {
		if carriesRPC(r, "tools/call", "") {
			for _, id := range r.RPCIDs {
				posts[id] = append(posts[id], r)
			}
		}
	}
	deliveries := map[string][]faultserver.Delivery{}
	for _, d := range s.Deliveries() {
		deliveries[d.RPCID] = append(deliveries[d.RPCID], d)
	}
	resends := 0
	for id, o := range byID {
		var prev *faultserver.Request
		for _, r := range posts[id] {
			if prev != nil && prev.SessionID == r.SessionID {
				resends++
				c, ok := connOf[prev.Seq]
				// A cut JSON answer is always a reset (see faultserver's
				// serveJSON); a cut stream only when the plan says so.
				reset := ok && (c.End == faultserver.EndKilled || (c.End == faultserver.EndCut && (c.JSON || c.Plan.Cut.Abort)))
				assert.True(t, reset, "%s POSTed again in the same session without a reset before: %s after %s (its connection: %+v)", id, describeRequest(r), describeRequest(*prev), c)
			}
			prev = &r
		}
		if o.kind() == "result" {
			assert.NotEmpty(t, deliveries[id], "%s: a result the server never delivered", id)
		}
	}

	// Settle times: from the request's cause, the last server-side event
	// that concerned it before its outcome: its POST or a GET resuming its
	// stream reaching the server, a 4xx to it, a connection of its stream
	// ending (a cut, a reset, an expiry), the expiry of its session.
	// Arrivals count as causes so that the wait in Chromium's queue of six
	// connections per origin, which a wave of 100 fills, is left out; the
	// transport's own reaction to a cut, up to its resume fetch, is
	// checked below from the page's fetch log. End-to-end times from
	// send() are logged too.
	streamOf := map[int]string{}                           // POST Seq -> its stream
	connsOfStream := map[string][]faultserver.Connection{} // stream -> its connections
	for _, c := range conns {
		if c.Kind == faultserver.ConnPOST {
			streamOf[c.Request] = c.Stream
		}
		if c.Kind != faultserver.ConnStandalone {
			connsOfStream[c.Stream] = append(connsOfStream[c.Stream], c)
		}
	}
	// The client can learn that a session expired only from a 404 to one
	// of its requests: the first such answer is a cause of everything that
	// session carried. Until then the requests that would get it can sit in
	// Chromium's queue of six connections per origin, for as long as a
	// loaded machine makes that queue drain.
	first404 := map[int]time.Time{} // session generation -> first 404 answered
	for _, r := range reqs {
		if r.Status == http.StatusNotFound && r.SessionGeneration != 0 {
			if at, ok := first404[r.SessionGeneration]; !ok || r.Time.Before(at) {
				first404[r.SessionGeneration] = r.Time
			}
		}
	}
	var noticed []string
	for g := 1; g <= len(sessions); g++ {
		if at, ok := first404[g]; ok && !sessions[g-1].Ended.IsZero() {
			noticed = append(noticed, fmt.Sprintf("g%d %v", g, at.Sub(sessions[g-1].Ended).Round(time.Millisecond)))
		}
	}
	var times, endToEnd []time.Duration
	byKind := map[string][]time.Duration{}
	var slow []string
	for id, o := range byID {
		var cause time.Time
		var why string
		at := o.Time().Add(time.Millisecond) // Date.now() truncates
		consider := func(t time.Time, what string) {
			if !t.IsZero() && t.Before(at) && t.After(cause) {
				cause, why = t, what
			}
		}
		reachedSession := false
		for _, r := range posts[id] {
			consider(r.Time, "its POST reached the server")
			if r.Status == http.StatusNotFound || r.Status == http.StatusBadRequest {
				consider(r.Time, fmt.Sprintf("its POST answered %d", r.Status))
			}
			if r.SessionGeneration != 0 {
				reachedSession = true
				consider(sessions[r.SessionGeneration-1].Ended, "its session expired")
				consider(first404[r.SessionGeneration], "the first 404 in its session")
			}
			// The POST's connection and the GETs that resumed its stream.
			for _, c := range connsOfStream[streamOf[r.Seq]] {
				if c.End != faultserver.EndDone && c.End != faultserver.StillOpen {
					consider(c.Closed, "its "+c.Kind.String()+" connection ended ("+c.End.String()+")")
				}
				if c.Kind == faultserver.ConnResume {
					consider(c.Opened, "its resume GET reached the server")
				}
			}
		}
		if !reachedSession {
			// Never reached the server in a session (queued in the browser
			// when the session ended): any expiry may be its cause.
			for _, e := range exp {
				consider(e.At, "an expiry")
			}
		}
		if cause.IsZero() {
			cause, why = time.UnixMilli(o.SentAt), "sent (it never reached the server)"
		}
		d := since(cause, o.At)
		// The bound is on the transport's reaction, so the time in which
		// the page could not run at all does not count: on a loaded
		// 2-core machine it can be seconds (see stalled).
		d -= stalled(got.Stalls, cause, o.At)
		times = append(times, d)
		endToEnd = append(endToEnd, time.Duration(o.At-o.SentAt)*time.Millisecond)
		byKind[o.kind()] = append(byKind[o.kind()], d)
		if d > stormSettle {
			slow = append(slow, fmt.Sprintf("%s (%s) %v after %s", id, o.kind(), d, why))
		}
	}
	slices.Sort(slow)
	assert.Empty(t, slow, "requests settled later than %v after their cause (not counting the page's stalls)", stormSettle)

	// The transport's reaction to a broken stream: from the end of the
	// connection (as the server saw it) to the fetch of the GET that
	// resumes it (as the page saw it).
	type resumeFetch struct {
		At          int64  `json:"at"`
		LastEventID string `json:"lastEventId"`
	}
	var reactions []time.Duration
	for _, f := range eval[[]resumeFetch](p, `r.fetches.filter((f) => f.method === 'GET' && f.lastEventId).map(({ at, lastEventId }) => ({ at, lastEventId }))`) {
		stream := f.LastEventID[:strings.LastIndex(f.LastEventID, "-e")]
		var ended time.Time
		for _, c := range connsOfStream[stream] {
			if !c.Closed.IsZero() && c.Closed.Before(time.UnixMilli(f.At+1)) && c.Closed.After(ended) {
				ended = c.Closed
			}
		}
		if ended.IsZero() {
			continue // the client saw the break before the server did
		}
		d := since(ended, f.At) - stalled(got.Stalls, ended, f.At)
		reactions = append(reactions, d)
		assert.LessOrEqual(t, d, stormSettle, "resume of %s fetched %v after its connection ended", stream, d)
	}

	var kindLines []string
	for k, d := range byKind {
		kindLines = append(kindLines, fmt.Sprintf("%s: %s", k, settleStats(d)))
	}
	slices.Sort(kindLines)
	var expLines []string
	for _, e := range exp {
		expLines = append(expLines, fmt.Sprintf("g%d at %s", e.Generation, e.At.Format("15:04:05.000")))
	}
	var stallTotal, stallMax time.Duration
	for _, st := range got.Stalls {
		d := time.Duration(st[1]-st[0]) * time.Millisecond
		stallTotal += d
		stallMax = max(stallMax, d)
	}
	t.Logf("orphan-storm (%s): first 404 after each expiry: %v; the page stalled %d times, %v in all, at most %v at once", mode, noticed, len(got.Stalls), stallTotal, stallMax)
	t.Logf("orphan-storm (%s): %d calls settled in %d ms; outcomes %s; expiries %v; settle times after cause: %s; by kind: %s; end to end from send(): %s; resume fetched after a break: %s",
		mode, len(byID), got.Ms, sortedCounts(kinds), expLines, settleStats(times), strings.Join(kindLines, "; "), settleStats(endToEnd), settleStats(reactions))
	t.Logf("orphan-storm (%s): onerror %s; server: %s; %d deliveries; %d POSTs were Chromium's resends after a reset", mode, sortedCounts(countStrings(lcErrorList(got.Errors))), countsSummary(s), len(s.Deliveries()), resends)
}

// stalled returns how much of the span from cause to at (Date.now()) the
// page spent in stalls.
func stalled(stalls [][2]int64, cause time.Time, at int64) time.Duration {
	from := cause.UnixMilli()
	var d int64
	for _, st := range stalls {
		if lo, hi := max(st[0], from), min(st[1], at); hi > lo {
			d += hi - lo
		}
	}
	return time.Duration(d) * time.Millisecond
}

func derefAll(os []*lcOutcome) []lcOutcome {
	out := make([]lcOutcome, 0, len(os))
	for _, o := range os {
		if o != nil {
			out = append(out, *o)
		}
	}
	return out
}

func countStrings(ss []string) map[string]int {
	m := map[string]int{}
	for _, s := range ss {
		m[s]++
	}
	return m
}
