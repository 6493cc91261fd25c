//go:build js && wasm

package main

import (
	"sync"

	"github.com/esshim/esshim/shim"
	"github.com/hack-pad/safejs"
)

// newPromise runs work on its own goroutine and returns a JS Promise for
// its result. JS callbacks must never block, so every asynchronous entry
// point goes through here. A panic in work rejects the promise.
func newPromise(work func() (any, error)) safejs.Value {
	var resolve, reject safejs.Value
	executor := funcOf(func(_ safejs.Value, args []safejs.Value) any {
		resolve, reject = args[0], args[1]
		return nil
	})
	p, err := jsPromise.New(executor.Value())
	executor.Release()
	if err != nil {
		panic(err)
	}
	go func() {
		var (
			v   any
			err error
		)
		func() {
			defer func() {
				if r := recover(); r != nil {
					err = panicError(r)
				}
			}()
			v, err = work()
		}()
		if err != nil {
			_, _ = reject.Invoke(toJSError(err))
			return
		}
		_, _ = resolve.Invoke(v)
	}()
	return p
}

type settled struct {
	value  safejs.Value
	err    *shim.Error
	thrown safejs.Value // what the promise rejected with
}

// awaiter is one wait for a promise, keyed by an id that the promise's
// callbacks carry. The callbacks are two functions made once for the
// program, bound to the id (Function.prototype.bind), so a wait leaves no
// js.Func behind even when its promise never settles: a custom fetch that
// ignores its signal must not leak one per abandoned request.
type awaiter struct {
	ch   chan settled       // buffered: settling never blocks a JS callback
	late func(safejs.Value) // for a value that arrives after the wait ended
	gone bool               // the wait ended first
}

var (
	awaitMu   sync.Mutex
	awaiters  = map[int]*awaiter{}
	awaitNext int
	// liveAwaits counts the waits under way, for snapshot() and
	// debug.stats(): what js.Funcs counted before waits stopped making them.
	liveAwaits int

	awaitResolve = funcOf(func(_ safejs.Value, args []safejs.Value) any {
		settle(args, false)
		return nil
	})
	awaitReject = funcOf(func(_ safejs.Value, args []safejs.Value) any {
		settle(args, true)
		return nil
	})
)

// settle runs in the promise's callback: args are the bound id, then the
// value or reason.
func settle(args []safejs.Value, rejected bool) {
	id, _ := arg(args, 0).Int()
	awaitMu.Lock()
	a := awaiters[id]
	delete(awaiters, id)
	gone := a != nil && a.gone
	if a != nil && !gone {
		liveAwaits--
	}
	awaitMu.Unlock()
	switch {
	case a == nil:
	case gone:
		if !rejected && a.late != nil {
			a.late(arg(args, 1))
		}
	case rejected:
		a.ch <- settled{err: fromJSError(shim.CodeNetwork, arg(args, 1)), thrown: arg(args, 1)}
	default:
		a.ch <- settled{value: arg(args, 1)}
	}
}

// await waits for a JS promise (or any value, as Promise.resolve takes it).
// When ctx ends first it returns ctx's error at once, whatever the promise
// does later.
func await(ctx shim.Context, v safejs.Value) (safejs.Value, error) {
	return awaitOr(ctx, v, nil)
}

// awaitOr is await that hands a value arriving after ctx ended to late,
// which runs inside a JS callback and must not block.
func awaitOr(ctx shim.Context, v safejs.Value, late func(safejs.Value)) (safejs.Value, error) {
	r, err := awaitSettled(ctx, v, late)
	if err != nil {
		return safejs.Undefined(), err
	}
	return r.value, r.errOrNil()
}

// awaitThrown is await for a promise whose rejection must reach the
// application unchanged: the error carries the rejection value.
func awaitThrown(ctx shim.Context, v safejs.Value) (safejs.Value, error) {
	r, err := awaitSettled(ctx, v, nil)
	if err != nil {
		return safejs.Undefined(), err
	}
	if r.err != nil {
		return safejs.Undefined(), &shim.Error{Code: r.err.Code, Message: r.err.Message, Err: &thrownError{v: r.thrown, msg: r.err.Message}}
	}
	return r.value, nil
}

// awaitSettled waits for v to settle or ctx to end; the error is only
// ctx's end, or a failure to wait at all.
func awaitSettled(ctx shim.Context, v safejs.Value, late func(safejs.Value)) (settled, error) {
	a := &awaiter{ch: make(chan settled, 1), late: late}
	awaitMu.Lock()
	awaitNext++
	id := awaitNext
	awaiters[id] = a
	liveAwaits++
	awaitMu.Unlock()
	err := thenBound(v, id)
	if err != nil {
		awaitMu.Lock()
		delete(awaiters, id)
		liveAwaits--
		awaitMu.Unlock()
		return settled{}, shim.Wrap(shim.CodeInternal, err)
	}
	select {
	case r := <-a.ch:
		return r, nil
	case <-ctx.Done():
	}
	awaitMu.Lock()
	_, pending := awaiters[id]
	if pending {
		if late == nil {
			delete(awaiters, id)
		}
		a.gone = true
		liveAwaits--
	}
	awaitMu.Unlock()
	if !pending {
		// It settled as ctx ended: take its result, so that nothing that
		// needs releasing is dropped.
		r := <-a.ch
		if r.err == nil && late != nil {
			late(r.value)
		}
	}
	return settled{}, shim.Wrap(shim.CodeAborted, ctx.Err())
}

// thenBound calls Promise.resolve(v).then(resolve.bind(null, id),
// reject.bind(null, id)).
func thenBound(v safejs.Value, id int) error {
	onResolve, err := awaitResolve.Value().Call("bind", safejs.Null(), id)
	if err != nil {
		return err
	}
	onReject, err := awaitReject.Value().Call("bind", safejs.Null(), id)
	if err != nil {
		return err
	}
	p, err := jsPromise.Call("resolve", v)
	if err != nil {
		return err
	}
	_, err = p.Call("then", onResolve, onReject)
	return err
}

// errOrNil returns the rejection as an error, nil when there is none.
func (s settled) errOrNil() error {
	if s.err == nil {
		return nil
	}
	return s.err
}

// arg returns args[i], or undefined when JS passed fewer arguments.
func arg(args []safejs.Value, i int) safejs.Value {
	if i < len(args) {
		return args[i]
	}
	return safejs.Undefined()
}

// awaitsUnderWay returns liveAwaits.
func awaitsUnderWay() int {
	awaitMu.Lock()
	defer awaitMu.Unlock()
	return liveAwaits
}
