package transport

import (
	"github.com/esshim/esshim/shim"
	"github.com/esshim/esshim/shim/jsonrpc"
)

// expire handles a 404 to a request that carried session id sent, in
// session sess. trigger is the stream of that request; p is the POST, or
// nil for a GET.
//
// If the session is still the current one, it ends: a fresh session
// (no id, no standalone stream), every stream aborted, every in-flight
// request failed with "session-expired", SESSION_EXPIRED reported. If it
// is not (a request of an older session answered late, or a newer session
// was established meanwhile), only what the trigger carried fails: a late
// 404 must never clear a newer session.
func (lc *lifecycle) expire(sess *session, sent string, trigger *stream, p *postSpec) {
	t := lc.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if lc.closed {
		return
	}
	if lc.sess != sess || sess.id != sent {
		lc.failStreamLocked(trigger, jsonrpc.ReasonSessionExpired)
		lc.removeStreamLocked(trigger)
		return
	}
	reinit := t.opts.SessionExpiry == ExpiryReinitialize && lc.lastInit != "" && sess.mayReinit &&
		(p == nil || !p.replay && p.hs == nil)
	var job *postSpec
	var keep *stream
	if reinit && p != nil && len(p.ids) > 0 {
		// The server never processed this request: it is replayed in the
		// new session, so its caller gets a real result.
		job = &postSpec{body: p.body, ids: p.ids, onToken: p.onToken, replay: true,
			era: p.era, header: p.header, signal: p.signal}
		// The replay continues the request's stream: it owes its OnEnd.
		job.onEnd, trigger.onEnd = trigger.onEnd, nil
		keep = trigger
	}
	lc.replaceSessionLocked(jsonrpc.ReasonSessionExpired, keep)
	lc.errorLocked(&shim.Error{Code: shim.CodeSessionExpired, Status: 404,
		Message: "session " + sent + " expired: the server answered 404"})
	if reinit {
		gate := make(chan struct{})
		lc.reinit = gate
		newSess := lc.sess
		lc.goLocked(func() { lc.reinitialize(newSess, sent, job, gate) })
	}
}

// handshake tracks the reinitialization's initialize request.
type handshake struct {
	id       string // raw JSON id of the initialize request
	done     chan struct{}
	finished bool
	ok       bool
}

func (h *handshake) finishLocked(ok bool, _ *shim.Error) {
	if h.finished {
		return
	}
	h.finished, h.ok = true, ok
	close(h.done)
}

// errHandled stands for a failure already reported by whoever saw it.
var errHandled = shim.NewError(shim.CodeSessionExpired, "reinitialization failed")

// reinitialize is ExpiryReinitialize's recovery, run once per expiry: the
// handshake again with the last initialize the application sent (its
// result is not delivered), notifications/initialized (which reopens the
// standalone stream), Handler.SessionChange, then the replay of job. If
// any step fails, job's requests fail with "session-expired" and the
// session stays expired; a session made here that expires again before any
// request succeeded does not trigger another round (see session.mayReinit).
func (lc *lifecycle) reinitialize(sess *session, oldID string, job *postSpec, gate chan struct{}) {
	newID, err := lc.handshake(sess)

	t := lc.t
	t.mu.Lock()
	close(gate)
	if lc.reinit == gate {
		lc.reinit = nil
	}
	if lc.closed {
		if job != nil {
			t.endLocked(lc, job.onEnd, EndClosed)
		}
		t.mu.Unlock()
		return
	}
	if err != nil {
		if job != nil {
			for _, id := range job.ids {
				lc.failLocked(id, jsonrpc.ReasonSessionExpired)
			}
			t.endLocked(lc, job.onEnd, EndStream)
		}
		if lc.sess == sess {
			sess.id = "" // a half-made session is of no use
		}
		if err != errHandled {
			lc.errorLocked(asError(err, shim.CodeSessionExpired))
		}
		t.mu.Unlock()
		return
	}
	t.queueLocked(callback{lc: lc, kind: cbSessionChange, text: newID, old: oldID})
	t.mu.Unlock()
	if job != nil {
		_ = lc.post(lc.ctx, job) // failures settle job's requests
		if job.onEnd != nil {
			// It failed before its stream began.
			t.mu.Lock()
			t.endLocked(lc, job.onEnd, EndStream)
			t.mu.Unlock()
		}
	}
}

// handshake runs initialize and notifications/initialized in sess and
// returns the new session id.
func (lc *lifecycle) handshake(sess *session) (string, error) {
	t := lc.t
	t.mu.Lock()
	init := lc.lastInit
	t.mu.Unlock()
	env, err := jsonrpc.Scan(init)
	if err != nil {
		return "", err
	}
	hs := &handshake{id: env.ID, done: make(chan struct{})}
	if err := lc.post(lc.ctx, &postSpec{body: init, hs: hs, quiet: true}); err != nil {
		return "", err
	}
	select {
	case <-hs.done:
	case <-lc.ctx.Done():
		return "", errClosed
	}
	t.mu.Lock()
	ok, newID := hs.ok && lc.sess == sess, sess.id
	t.mu.Unlock()
	if !ok {
		return "", shim.NewError(shim.CodeSessionExpired, "could not reinitialize: the server did not answer initialize with a result")
	}
	notif := &postSpec{body: `{"jsonrpc":"2.0","method":"notifications/initialized"}`, initialized: true, quiet: true}
	if err := lc.post(lc.ctx, notif); err != nil {
		return "", err
	}
	t.mu.Lock()
	ok = lc.sess == sess && sess.id == newID
	t.mu.Unlock()
	if !ok {
		return "", errHandled // it expired again: expire has reported it
	}
	return newID, nil
}
