package transport

import (
	"github.com/esshim/esshim/shim"
	"github.com/esshim/esshim/shim/jsonrpc"
)

// TerminateSession ends the session with DELETE and the session id. 200,
// 204 (any 2xx), 404 (already gone) and 405 (termination not supported)
// all succeed and clear the id; the session's streams are closed and its
// in-flight requests fail with "session-terminated". Any other status
// returns HTTP_ERROR and keeps the id, so the call can be retried. Without
// a session it does nothing.
func (t *Transport) TerminateSession(ctx shim.Context) error {
	t.mu.Lock()
	lc := t.cur
	if lc == nil {
		seeded := t.seedSession != ""
		t.mu.Unlock()
		if seeded {
			return shim.ErrNotStarted
		}
		return nil
	}
	if !eraOf(lc.protocolVersion).carriesSession() {
		// No session to end: nothing is sent.
		t.mu.Unlock()
		return nil
	}
	lc.enterLocked()
	gate := lc.reinit
	t.mu.Unlock()
	defer lc.leave()

	fctx, cancel := lc.withLifecycle(ctx)
	defer cancel()
	if gate != nil {
		select {
		case <-gate:
		case <-fctx.Done():
		}
	}
	h, herr := lc.userHeaders(fctx)

	t.mu.Lock()
	if lc.closed {
		t.mu.Unlock()
		return errClosed
	}
	if ctx.Err() != nil {
		t.mu.Unlock()
		return shim.Wrap(shim.CodeAborted, ctx.Err())
	}
	if herr != nil {
		err := asError(herr, shim.CodeNetwork)
		lc.errorLocked(err)
		t.mu.Unlock()
		return err
	}
	sess := lc.sess
	if sess.id == "" {
		t.mu.Unlock()
		return nil
	}
	sent := lc.protocolHeadersLocked(h, sess, eraSession)
	t.mu.Unlock()

	resp, err := lc.fetch(fctx, lc.request("DELETE", h, nil))
	if err != nil {
		t.mu.Lock()
		defer t.mu.Unlock()
		if ierr := lc.interruptedLocked(ctx); ierr != nil {
			return ierr
		}
		e := asError(err, shim.CodeNetwork)
		lc.errorLocked(e)
		return e
	}
	discard(resp)
	t.mu.Lock()
	defer t.mu.Unlock()
	if s := resp.Status; s >= 200 && s <= 299 || s == 404 || s == 405 {
		if !lc.closed && lc.sess == sess && sess.id == sent {
			lc.replaceSessionLocked(jsonrpc.ReasonSessionTerminated, nil)
		}
		return nil
	}
	e := shim.HTTPError(resp.Status, "Failed to terminate session: "+statusText(resp))
	if !lc.closed {
		lc.errorLocked(e)
	}
	return e
}
