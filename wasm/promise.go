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
	value safejs.Value
	err   *shim.Error
}

// await waits for a JS promise (or any value, as Promise.resolve takes it).
// When ctx ends first it returns ctx's error; the callbacks then release
// themselves whenever the promise settles, so nothing waits behind.
func await(ctx shim.Context, v safejs.Value) (safejs.Value, error) {
	ch := make(chan settled, 1)
	var onResolve, onReject *jsFunc
	onResolve = funcOf(func(_ safejs.Value, args []safejs.Value) any {
		ch <- settled{value: arg(args, 0)}
		onResolve.Release()
		onReject.Release()
		return nil
	})
	onReject = funcOf(func(_ safejs.Value, args []safejs.Value) any {
		ch <- settled{err: fromJSError(shim.CodeNetwork, arg(args, 0))}
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
		return safejs.Undefined(), shim.Wrap(shim.CodeInternal, err)
	}
	select {
	case r := <-ch:
		if r.err != nil {
			return safejs.Undefined(), r.err
		}
		return r.value, nil
	case <-ctx.Done():
		return safejs.Undefined(), shim.Wrap(shim.CodeAborted, ctx.Err())
	}
}

// arg returns args[i], or undefined when JS passed fewer arguments.
func arg(args []safejs.Value, i int) safejs.Value {
	if i < len(args) {
		return args[i]
	}
	return safejs.Undefined()
}
