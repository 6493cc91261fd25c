package transport

import "github.com/esshim/esshim/shim"

// dispatcher queues Handler callbacks and delivers them one at a time. Its
// fields are guarded by Transport.mu: events are queued under the same lock
// as the state change they report, so their order is the order of the
// changes.
type dispatcher struct {
	queue  []callback
	head   int  // queue[head:] is pending
	busy   bool // a callback is running, or a Close is delivering one
	runner bool // the dispatcher goroutine exists
}

type callbackKind uint8

const (
	cbMessage callbackKind = iota
	cbError
	cbClose
	cbSessionChange
	cbToken
	cbEnd
)

// callback is one queued Handler call, tagged with the lifecycle it belongs
// to so that a closed lifecycle's leftovers can be dropped.
type callback struct {
	lc    *lifecycle
	kind  callbackKind
	text  string // message, new session id, or token
	old   string // old session id
	err   *shim.Error
	token func(string)
	end   func(StreamEnd)
	why   StreamEnd
}

// queueLocked appends cb and wakes (or starts) the dispatcher goroutine.
func (t *Transport) queueLocked(cb callback) {
	t.queue = append(t.queue, cb)
	if !t.runner {
		t.runner = true
		t.goroutines++
		go t.dispatch()
		return
	}
	t.cond.Signal()
}

// deliverableLocked reports whether cb may still reach the application:
// Close callbacks always, everything else only while its lifecycle runs.
// An OnEnd callback is always delivered, since it is owed exactly once, but
// a closed lifecycle's stream can only have ended by that Close.
func (t *Transport) deliverableLocked(cb *callback) bool {
	if cb.kind == cbEnd && cb.lc != t.cur && cb.why == EndStream {
		cb.why = EndClosed
	}
	return cb.kind == cbClose || cb.kind == cbEnd || cb.lc == t.cur
}

// endLocked queues the OnEnd callback of one request, if it has one.
func (t *Transport) endLocked(lc *lifecycle, end func(StreamEnd), why StreamEnd) {
	if end != nil {
		t.queueLocked(callback{lc: lc, kind: cbEnd, end: end, why: why})
	}
}

// dispatch is the dispatcher goroutine. It lives while a lifecycle runs or
// callbacks are queued, so a busy stream costs no goroutine per message.
func (t *Transport) dispatch() {
	t.mu.Lock()
	for {
		for t.busy || (t.head == len(t.queue) && t.cur != nil) {
			t.cond.Wait()
		}
		if t.head == len(t.queue) {
			t.queue, t.head = t.queue[:0], 0
			t.runner = false
			t.goroutines--
			t.mu.Unlock()
			return
		}
		cb := t.popLocked()
		if !t.deliverableLocked(&cb) {
			continue
		}
		var batch []string
		if cb.kind == cbMessage && t.opts.Handler.Messages != nil {
			batch = append(batch, cb.text)
			for t.head < len(t.queue) && t.queue[t.head].kind == cbMessage {
				next := t.popLocked()
				if t.deliverableLocked(&next) {
					batch = append(batch, next.text)
				}
			}
		}
		t.busy = true
		t.mu.Unlock()
		if batch != nil {
			t.opts.Handler.Messages(batch)
		} else {
			t.call(&cb)
		}
		t.mu.Lock()
		t.busy = false
		t.cond.Broadcast()
	}
}

func (t *Transport) popLocked() callback {
	cb := t.queue[t.head]
	t.queue[t.head] = callback{} // let the message text be collected
	t.head++
	if t.head == len(t.queue) {
		t.queue, t.head = t.queue[:0], 0
	}
	return cb
}

// deliverClose delivers lc's Close callback; t.mu is held on entry and
// released on return. When a callback is running (Close was called from
// inside one, or from another goroutine meanwhile), the Close callback is
// queued to run right after it. Otherwise it runs here, before Close
// returns, as the TypeScript SDK runs onclose inside close(); queued
// leftovers are Close callbacks of older lifecycles, delivered first, or
// events of closed lifecycles, dropped.
func (t *Transport) deliverClose(lc *lifecycle) {
	cb := callback{lc: lc, kind: cbClose}
	if t.busy {
		t.queueLocked(cb)
		t.cond.Broadcast()
		t.mu.Unlock()
		return
	}
	t.busy = true
	var older []callback
	for t.head < len(t.queue) {
		if c := t.popLocked(); t.deliverableLocked(&c) {
			older = append(older, c)
		}
	}
	t.mu.Unlock()
	for i := range older {
		t.call(&older[i])
	}
	t.call(&cb)
	t.mu.Lock()
	t.busy = false
	t.cond.Broadcast() // the dispatcher may exit, or deliver what arrived
	t.mu.Unlock()
}

// call runs one callback. No lock is held.
func (t *Transport) call(cb *callback) {
	h := &t.opts.Handler
	switch cb.kind {
	case cbMessage:
		if h.Message != nil {
			h.Message(cb.text)
		}
	case cbError:
		if h.Error != nil {
			h.Error(cb.err)
		}
	case cbClose:
		if h.Close != nil {
			h.Close()
		}
	case cbSessionChange:
		if h.SessionChange != nil {
			h.SessionChange(cb.text, cb.old)
		}
	case cbToken:
		cb.token(cb.text)
	case cbEnd:
		cb.end(cb.why)
	}
}
