//go:build js && wasm

package main

import (
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

// await waits for a JS promise (or any value, as Promise.resolve takes it).
// When ctx ends first it returns ctx's error; the callbacks then release
// themselves whenever the promise settles, so nothing waits behind.
func await(ctx shim.Context, v safejs.Value) (safejs.Value, error) {
	r, err := awaitSettled(ctx, v)
	if err != nil {
		return safejs.Undefined(), err
	}
	if r.err != nil {
		return safejs.Undefined(), r.err
	}
	return r.value, nil
}

// awaitThrown is await for a promise whose rejection must reach the
// application unchanged: the error carries the rejection value.
func awaitThrown(ctx shim.Context, v safejs.Value) (safejs.Value, error) {
	r, err := awaitSettled(ctx, v)
	if err != nil {
		return safejs.Undefined(), err
	}
	if r.err != nil {
		return safejs.Undefined(), &shim.Error{Code: r.err.Code, Message: r.err.Message, Err: &thrownError{v: r.thrown, msg: r.err.Message}}
	}
	return r.value, nil
}

func awaitSettled(ctx shim.Context, v safejs.Value) (settled, error) {
	ch := make(chan settled, 1)
	var onResolve, onReject *jsFunc
	onResolve = funcOf(func(_ safejs.Value, args []safejs.Value) any {
		ch <- settled{value: arg(args, 0)}
		onResolve.Release()
		onReject.Release()
		return nil
	})
	onReject = funcOf(func(_ safejs.Value, args []safejs.Value) any {
		ch <- settled{err: fromJSError(shim.CodeNetwork, arg(args, 0)), thrown: arg(args, 0)}
		onResolve.Release()
		onReject.Release()
		return nil
	})
	p, err := jsPromise.Call("resolve", v)
	if err == nil {
		_, err = p.Call("then", onResolve.Value(), onReject.Value())
	}
	if err != nil {
		onResolve.Release()
		onReject.Release()
		return settled{}, shim.Wrap(shim.CodeInternal, err)
	}
	select {
	case r := <-ch:
		return r, nil
	case <-ctx.Done():
		return settled{}, shim.Wrap(shim.CodeAborted, ctx.Err())
	}
}

// arg returns args[i], or undefined when JS passed fewer arguments.
func arg(args []safejs.Value, i int) safejs.Value {
	if i < len(args) {
		return args[i]
	}
	return safejs.Undefined()
}
