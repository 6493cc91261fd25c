package transport

import (
	"time"

	"github.com/esshim/esshim/shim"
)

// lifecycle is everything one start→close owns. Start replaces it whole,
// so nothing (session, Last-Event-IDs, retry values, attempt counters,
// in-flight table, last initialize) can carry over to the next lifecycle.
// All fields are guarded by Transport.mu unless noted.
type lifecycle struct {
	t *Transport

	// ctx is cancelled by Close; every fetch and hook wait of the
	// lifecycle derives from it. Set once, read without the lock.
	ctx    shim.Context
	cancel shim.CancelFunc

	closed bool
	done   chan struct{} // closed once closed && live == 0
	live   int           // goroutines, timers and Send/TerminateSession calls under way

	sess            *session
	protocolVersion string

	streams    map[int]*stream
	nextStream int
	standalone *stream // the one standalone stream, nil when there is none

	inflight  map[string]*request // by raw JSON id
	synthetic map[string]struct{} // ids settled by a made-up response, whose real one must be dropped

	// lastInit is the last initialize request the application sent, which
	// ExpiryReinitialize replays.
	lastInit string
	// reinit is non-nil while a reinitialization runs; it is closed when
	// the handshake is over, and Send waits for it so that no request
	// slips out between the expired session and the new one.
	reinit chan struct{}
}

// request is an in-flight request: sent (or about to be), not yet settled.
type request struct {
	carrier *stream // the stream its response is expected on
}

func newLifecycle(t *Transport, sessionID, protocolVersion string) *lifecycle {
	ctx, cancel := shim.WithCancel(shim.Background())
	return &lifecycle{
		t: t, ctx: ctx, cancel: cancel,
		done:            make(chan struct{}),
		sess:            &session{id: sessionID},
		protocolVersion: protocolVersion,
		streams:         map[int]*stream{},
		inflight:        map[string]*request{},
		synthetic:       map[string]struct{}{},
	}
}

// shutdownLocked is Close's state change: cancel every fetch, stop every
// timer, drop every stream.
func (lc *lifecycle) shutdownLocked() {
	lc.closed = true
	lc.cancel()
	for _, s := range lc.streams {
		lc.removeStreamLocked(s)
	}
	lc.checkDoneLocked()
}

func (lc *lifecycle) checkDoneLocked() {
	if lc.closed && lc.live == 0 {
		select {
		case <-lc.done:
		default:
			close(lc.done)
		}
	}
}

// goLocked runs f on a goroutine owned by lc, unless lc is closed.
func (lc *lifecycle) goLocked(f func()) bool {
	if lc.closed {
		return false
	}
	lc.spawnLocked(f)
	return true
}

// spawnLocked runs f on a goroutine that lc's Close waits for, even when lc
// is closed already: for cleanup that must run (a scheduler's cancel).
func (lc *lifecycle) spawnLocked(f func()) {
	lc.live++
	lc.t.goroutines++
	go func() {
		defer lc.exitGoroutine()
		f()
	}()
}

func (lc *lifecycle) exitGoroutine() {
	t := lc.t
	t.mu.Lock()
	lc.live--
	t.goroutines--
	lc.checkDoneLocked()
	t.mu.Unlock()
}

// enter counts a Send or TerminateSession call, which does its fetch on
// the caller's goroutine, so that Close's channel waits for it too.
func (lc *lifecycle) enterLocked() { lc.live++ }

func (lc *lifecycle) leave() {
	t := lc.t
	t.mu.Lock()
	lc.live--
	lc.checkDoneLocked()
	t.mu.Unlock()
}

// timer is a pending reconnect. fired and cancelled settle the race
// between Stop and the timer's function: whoever comes second does the
// accounting.
//
// It keeps the timer's Stop method, not the *time.Timer: a *time.Timer
// reachable from a type that reflection may see (its C field is a
// chan time.Time) makes the linker keep time formatting, about 60 KB of wasm.
type timer struct {
	stop      func() bool
	fired     bool
	cancelled bool
}

// afterLocked runs f on a goroutine of lc after d, unless the timer is
// cancelled first or lc is closed by then. attempt is the stream's attempt
// number, for Options.Scheduler.
func (lc *lifecycle) afterLocked(d time.Duration, attempt int, f func()) *timer {
	t := lc.t
	lc.live++
	t.timers++
	tr := &timer{}
	fire := func() {
		t.mu.Lock()
		if tr.fired {
			t.mu.Unlock()
			return // a custom scheduler's late or repeated call
		}
		tr.fired = true
		t.timers--
		if tr.cancelled || lc.closed {
			lc.live--
			lc.checkDoneLocked()
			t.mu.Unlock()
			return
		}
		t.goroutines++ // the timer's live count passes to this goroutine
		t.mu.Unlock()
		defer lc.exitGoroutine()
		f()
	}
	if t.opts.Scheduler != nil {
		tr.stop = lc.customTimerLocked(d, attempt, fire)
	} else {
		tr.stop = time.AfterFunc(d, fire).Stop
	}
	return tr
}

// customTimerLocked hands a timer to Options.Scheduler and returns its
// stop function. The scheduler is application code, so it is called on a
// goroutine of its own and never under the lock; so is the cancel function
// it returns, which stop calls (late, if stop came first).
func (lc *lifecycle) customTimerLocked(d time.Duration, attempt int, fire func()) (stop func() bool) {
	t := lc.t
	var cancel func()
	stopped := false
	lc.spawnLocked(func() {
		c := t.opts.Scheduler(d, attempt, func() { go fire() })
		t.mu.Lock()
		cancel = c
		late := stopped && c != nil
		t.mu.Unlock()
		if late {
			c()
		}
	})
	// Called under the lock, and only before fire ran (cancelTimerLocked
	// checks), so the timer is always stopped in time: a later call of
	// reconnect finds it fired or cancelled and does nothing.
	return func() bool {
		stopped = true
		if c := cancel; c != nil {
			lc.spawnLocked(c)
		}
		return true
	}
}

// cancelLocked stops tr; if its function already started, that function
// sees cancelled and does the accounting.
func (lc *lifecycle) cancelTimerLocked(tr *timer) {
	if tr == nil || tr.fired || tr.cancelled {
		return
	}
	tr.cancelled = true
	if tr.stop() {
		tr.fired = true
		lc.t.timers--
		lc.live--
		lc.checkDoneLocked()
	}
}

// withLifecycle returns a context cancelled when either ctx or lc's context
// is, for work a caller waits on that must also end with the lifecycle.
func (lc *lifecycle) withLifecycle(ctx shim.Context) (shim.Context, shim.CancelFunc) {
	c, cancel := shim.WithCancel(ctx)
	stop := shim.AfterFunc(lc.ctx, cancel)
	return c, func() { stop(); cancel() }
}

// interruptedLocked returns the error of a call that waited without the
// lock: CLOSED when its lifecycle closed meanwhile, ABORTED when its own
// ctx ended, nil when it may go on.
func (lc *lifecycle) interruptedLocked(ctx shim.Context) error {
	switch {
	case lc.closed:
		return errClosed
	case ctx.Err() != nil:
		return shim.Wrap(shim.CodeAborted, ctx.Err())
	}
	return nil
}

// errClosed is what calls report when their lifecycle was closed under
// them.
var errClosed = shim.NewError(shim.CodeClosed, "transport closed")

// errorLocked queues err for Handler.Error.
func (lc *lifecycle) errorLocked(err *shim.Error) {
	lc.t.queueLocked(callback{lc: lc, kind: cbError, err: err})
}

// messageLocked queues one message for Handler.Message.
func (lc *lifecycle) messageLocked(text string) {
	lc.t.queueLocked(callback{lc: lc, kind: cbMessage, text: text})
}

// asError converts any error to the *shim.Error the API reports.
func asError(err error, code shim.Code) *shim.Error {
	if e, ok := err.(*shim.Error); ok {
		return e
	}
	return shim.Wrap(code, err)
}
