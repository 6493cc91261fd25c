package shim

import (
	"sync"
	"sync/atomic"
)

// Context is the part of context.Context the core needs: a done channel
// and the reason it closed. Every context.Context satisfies it, so native
// callers pass theirs unchanged.
//
// The core creates its own contexts with [WithCancel] instead of the
// context package: context.WithCancel links Go's time formatting and time
// zone code (about 90 KB of wasm code, 30 KB gzipped) through the
// Deadline methods and String methods of its types, and every user would
// download that on every cold load for nothing.
type Context interface {
	Done() <-chan struct{}
	Err() error
}

// ErrCanceled is the Err of a context cancelled with its CancelFunc.
var ErrCanceled = &Error{Code: CodeAborted, Message: "canceled"}

// CancelFunc cancels a context. It is safe to call more than once and
// from several goroutines.
type CancelFunc func()

// background never ends.
type background struct{}

func (background) Done() <-chan struct{} { return nil }
func (background) Err() error            { return nil }

// Background returns a Context that is never cancelled.
func Background() Context { return background{} }

// cancelCtx is a cancellable Context whose cancellation reaches its
// children and AfterFunc callbacks synchronously.
type cancelCtx struct {
	mu       sync.Mutex
	done     chan struct{}
	err      error
	children map[*cancelCtx]struct{}
	after    map[*afterFunc]struct{}
	parent   *cancelCtx
}

func (c *cancelCtx) Done() <-chan struct{} { return c.done }

func (c *cancelCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// WithCancel returns a child of parent that ends when parent ends or when
// the returned CancelFunc is called, whichever comes first.
func WithCancel(parent Context) (Context, CancelFunc) {
	c := &cancelCtx{done: make(chan struct{})}
	switch p := parent.(type) {
	case *cancelCtx:
		p.mu.Lock()
		if p.err != nil {
			p.mu.Unlock()
			c.cancel(p.err, false)
			return c, func() { c.cancel(ErrCanceled, true) }
		}
		if p.children == nil {
			p.children = make(map[*cancelCtx]struct{})
		}
		p.children[c] = struct{}{}
		c.parent = p
		p.mu.Unlock()
	default:
		if done := parent.Done(); done != nil {
			if err := parent.Err(); err != nil {
				c.cancel(err, false)
				break
			}
			go func() {
				select {
				case <-done:
					c.cancel(parent.Err(), false)
				case <-c.done:
				}
			}()
		}
	}
	return c, func() { c.cancel(ErrCanceled, true) }
}

// cancel ends c and its children with err, and runs its AfterFunc callbacks.
func (c *cancelCtx) cancel(err error, detach bool) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	close(c.done)
	children, after := c.children, c.after
	c.children, c.after = nil, nil
	parent := c.parent
	c.parent = nil
	c.mu.Unlock()

	for child := range children {
		child.cancel(err, false)
	}
	for a := range after {
		go a.run()
	}
	if detach && parent != nil {
		parent.mu.Lock()
		delete(parent.children, c)
		parent.mu.Unlock()
	}
}

// afterFunc is f and whether it was claimed, by its run or by its stop:
// whichever comes first wins, and neither waits for the other.
type afterFunc struct {
	claimed atomic.Bool
	f       func()
}

func (a *afterFunc) run() {
	if a.claimed.CompareAndSwap(false, true) {
		a.f()
	}
}

// AfterFunc arranges to call f in its own goroutine once ctx ends, as
// context.AfterFunc does. stop unregisters f and reports whether it did so
// before f started. Like context.AfterFunc's, stop never waits for a
// running f, so it may be called while holding a lock that f takes.
func AfterFunc(ctx Context, f func()) (stop func() bool) {
	a := &afterFunc{f: f}
	stopped := func() bool { return a.claimed.CompareAndSwap(false, true) }
	c, ok := ctx.(*cancelCtx)
	if !ok {
		done := ctx.Done()
		if done == nil {
			return stopped
		}
		quit := make(chan struct{})
		go func() {
			select {
			case <-done:
				a.run()
			case <-quit:
			}
		}()
		return func() bool {
			r := stopped()
			if r {
				close(quit)
			}
			return r
		}
	}
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		go a.run()
		return stopped
	}
	if c.after == nil {
		c.after = make(map[*afterFunc]struct{})
	}
	c.after[a] = struct{}{}
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		delete(c.after, a)
		c.mu.Unlock()
		return stopped()
	}
}
