//go:build js && wasm

package main

import (
	"runtime"
	"sync/atomic"

	"github.com/esshim/esshim/shim"
	"github.com/hack-pad/safejs"
)

// liveFuncs counts js.Funcs created and not yet released, so that tests can
// prove that 1,000 start/close cycles leave nothing behind.
var liveFuncs atomic.Int64

// jsFunc is a Go function callable from JS. Release frees it; it is safe to
// call more than once and from inside the function itself.
type jsFunc struct {
	fn       safejs.Func
	released atomic.Bool
}

// funcOf wraps fn for JS. A panic inside fn is recovered and returned to JS
// as an Error value instead of killing the Go program: a page must never see
// "Go program has already exited" because of us.
func funcOf(fn func(this safejs.Value, args []safejs.Value) any) *jsFunc {
	f, err := safejs.FuncOf(func(this safejs.Value, args []safejs.Value) (result any) {
		defer func() {
			if r := recover(); r != nil {
				result = toJSError(panicError(r))
			}
		}()
		return fn(this, args)
	})
	if err != nil {
		panic(err)
	}
	liveFuncs.Add(1)
	return &jsFunc{fn: f}
}

// Value returns the function as a JS value.
func (f *jsFunc) Value() safejs.Value { return f.fn.Value() }

// Release frees the function. Calling it again does nothing.
func (f *jsFunc) Release() {
	if f.released.CompareAndSwap(false, true) {
		f.fn.Release()
		liveFuncs.Add(-1)
	}
}

// panicError turns a recovered panic value into an INTERNAL_ERROR, with the
// stack in the message so a bug report can carry it.
func panicError(r any) error {
	return &shim.Error{Code: shim.CodeInternal, Message: "internal error: " + panicText(r) + "\n" + stack()}
}

// stack is the calling goroutine's stack trace, as runtime/debug.Stack
// gives it; runtime/debug itself would link package os.
func stack() string {
	buf := make([]byte, 4096)
	for {
		n := runtime.Stack(buf, false)
		if n < len(buf) {
			return string(buf[:n])
		}
		buf = make([]byte, 2*len(buf))
	}
}

// panicText describes a recovered panic value without fmt, which would add
// about 0.3 MB to the wasm. Panics carry errors (runtime errors included) or
// strings in practice; anything else is named by its kind only.
func panicText(r any) string {
	switch r := r.(type) {
	case error:
		return r.Error()
	case string:
		return r
	case interface{ String() string }:
		return r.String()
	default:
		return "a panic value that is neither an error nor a string"
	}
}
