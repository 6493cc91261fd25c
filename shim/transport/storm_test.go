//go:build !js

package transport

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esshim/esshim/shim"
	"github.com/esshim/esshim/shim/jsonrpc"
)

// stormServer answers tools/call in every way a Streamable HTTP server
// can: JSON, SSE, SSE that dies after a priming id (resumable by GET),
// SSE that dies before any id; and it expires all sessions twice.
type stormServer struct {
	*testServer
	mu       sync.Mutex
	rnd      *rand.Rand
	valid    map[string]bool
	sessions int
	first    time.Time         // the first tools/call
	parked   map[string]string // event id → the response a resume GET gets
	counts   map[string]int    // server-side counts by kind of answer
}

func newStormServer(t *testing.T) *stormServer {
	ss := &stormServer{rnd: rand.New(rand.NewPCG(1, 2)), valid: map[string]bool{}, parked: map[string]string{}, counts: map[string]int{}}
	ss.testServer = newServer(t, ss.handle)
	return ss
}

func (ss *stormServer) handle(w http.ResponseWriter, r *http.Request, q seen) {
	ss.mu.Lock()
	if q.RPC == "initialize" {
		ss.sessions++
		id := fmt.Sprint("s-", ss.sessions)
		ss.valid[id] = true
		ss.mu.Unlock()
		mcp(id)(w, r, q)
		return
	}
	if q.RPC == "tools/call" {
		// Expire every session twice while the calls come in: 100ms and
		// 220ms after the first (the calls span about 300ms).
		if ss.first.IsZero() {
			ss.first = time.Now()
		}
		if e := ss.counts["expire"]; e < 2 && time.Since(ss.first) >= []time.Duration{100, 220}[e]*time.Millisecond {
			ss.valid = map[string]bool{}
			ss.counts["expire"]++
		}
	}
	if q.Session == "" {
		ss.counts["400"]++
		ss.mu.Unlock()
		http.Error(w, "missing session", http.StatusBadRequest)
		return
	}
	if !ss.valid[q.Session] {
		ss.counts["404"]++
		ss.mu.Unlock()
		write404(w, "text/plain", "session not found")
		return
	}
	if q.Method == http.MethodGet {
		res, ok := ss.parked[q.LastEventID]
		delete(ss.parked, q.LastEventID)
		ss.counts["GET"]++
		ss.mu.Unlock()
		s := startSSE(w, "")
		if ok {
			s.event(q.LastEventID+"-r", res, 0)
		}
		<-r.Context().Done()
		return
	}
	if q.RPC != "tools/call" {
		ss.mu.Unlock()
		mcp("")(w, r, q)
		return
	}
	kind := ss.rnd.IntN(4)
	delay := time.Duration(ss.rnd.IntN(20)) * time.Millisecond
	eventID := fmt.Sprint("e", q.ID)
	res := result(q.ID, "ok")
	if kind == 2 {
		ss.parked[eventID] = res
	}
	ss.counts[[]string{"json", "sse", "drop-after-id", "drop-no-id"}[kind]]++
	ss.mu.Unlock()
	time.Sleep(delay)
	switch kind {
	case 0:
		writeJSON(w, "", res)
	case 1:
		s := startSSE(w, "")
		s.event(eventID, "", 20)
		s.event(eventID+"-1", res, 0)
	case 2:
		startSSE(w, "").event(eventID, "", 20)
	case 3:
		startSSE(w, "").event("", `{"jsonrpc":"2.0","method":"notifications/progress","params":{}}`, 0)
	}
}

// TestOrphanStorm: 300 concurrent tools/call while the server drops
// streams at random and expires the session twice. Every request settles
// exactly once, in both expiry modes.
func TestOrphanStorm(t *testing.T) {
	for _, mode := range []ExpiryMode{ExpiryError, ExpiryReinitialize} {
		t.Run(map[ExpiryMode]string{ExpiryError: "error", ExpiryReinitialize: "reinitialize"}[mode], func(t *testing.T) {
			ss := newStormServer(t)
			const n = 300
			var outcomes [n]atomic.Int64
			var sentAt, settledAt [n]atomic.Int64
			var reasons sync.Map
			settle := func(i int, how string) {
				outcomes[i].Add(1)
				settledAt[i].Store(time.Now().UnixNano())
				reasons.Store(i, how)
			}
			var tr *Transport
			var reinitMu sync.Mutex
			h := Handler{
				Message: func(m string) {
					var v rpcMsg
					if json.Unmarshal([]byte(m), &v) != nil || (v.Result == nil && v.Error == nil) {
						return
					}
					id, err := strconv.Atoi(string(v.ID))
					if err != nil || id < 1000 {
						return // the initialize result
					}
					how := "result"
					if v.Error != nil {
						how = v.reason()
					}
					settle(id-1000, how)
				},
				Error: func(err *shim.Error) {
					if err.Code == shim.CodeSessionExpired && mode == ExpiryError {
						// What the SDK's Client does on reconnect: a fresh handshake.
						go func() {
							reinitMu.Lock()
							defer reinitMu.Unlock()
							if tr.SessionID() == "" {
								_ = tr.Send(context.Background(), initializeMsg, SendOptions{})
								_ = tr.Send(context.Background(), initializedMsg, SendOptions{})
							}
						}()
					}
				},
			}
			tr = New(Options{URL: ss.URL, Fetcher: newFetcher(ss.testServer), Handler: h, SessionExpiry: mode,
				Reconnect: shim.ReconnectOptions{InitialDelay: 20 * time.Millisecond, MaxDelay: 100 * time.Millisecond, MaxRetries: 3}})
			require.NoError(t, tr.Start())
			t.Cleanup(func() { waitDone(t, tr.Close()) })
			connect(t, tr)

			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					time.Sleep(time.Duration(i%60) * 5 * time.Millisecond) // five waves of 60 at once
					sentAt[i].Store(time.Now().UnixNano())
					if err := tr.Send(context.Background(), rpcRequest(1000+i, "tools/call"), SendOptions{}); err != nil {
						settle(i, "send error: "+string(shim.CodeOf(err)))
					}
				}()
			}
			wg.Wait()
			eventually(t, func() bool {
				for i := range n {
					if outcomes[i].Load() == 0 {
						return false
					}
				}
				return true
			}, "every request settles")
			time.Sleep(300 * time.Millisecond) // late duplicates would show up now

			tally := map[string]int{}
			var worst time.Duration
			var worstHow string
			for i := range n {
				assert.EqualValues(t, 1, outcomes[i].Load(), "request %d settles exactly once", 1000+i)
				how, _ := reasons.Load(i)
				tally[how.(string)]++
				if d := time.Duration(settledAt[i].Load() - sentAt[i].Load()); d > worst {
					worst, worstHow = d, fmt.Sprint(1000+i, " ", how)
				}
			}
			// Typically ~50ms; the bound leaves room for a loaded CI machine
			// under -race while still ruling out waiting for any timeout.
			assert.Less(t, worst, 10*time.Second, "each request settles promptly")
			for how := range tally {
				assert.Contains(t, []string{"result", jsonrpc.ReasonStreamLost, jsonrpc.ReasonSessionExpired,
					"send error: HTTP_ERROR"}, how)
			}
			ss.mu.Lock()
			expires := ss.counts["expire"]
			ss.mu.Unlock()
			assert.Equal(t, 2, expires)
			assert.Greater(t, tally[jsonrpc.ReasonSessionExpired], 0)
			assert.Greater(t, tally["result"], 0)
			assert.Empty(t, tr.Snapshot().Inflight)
			ss.mu.Lock()
			t.Logf("client outcomes: %v; server answers: %v; slowest settle %v (%s)", tally, ss.counts, worst, worstHow)
			ss.mu.Unlock()
		})
	}
}
