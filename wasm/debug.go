//go:build js && wasm

package main

import (
	"runtime"

	"github.com/hack-pad/safejs"
)

// registerDebug exports hooks for the browser tests: a deliberate panic on
// both kinds of entry point, and the counters that prove nothing leaks.
func registerDebug(t exportTable) {
	d := exportTable{obj: newObject()}
	d.fn("panic", func([]safejs.Value) any { panic("deliberate panic for tests") })
	d.fn("panicAsync", func([]safejs.Value) any {
		return newPromise(func() (any, error) { panic("deliberate async panic for tests") })
	})
	d.fn("stats", func([]safejs.Value) any { return statsObject() })
	_ = t.obj.Set("debug", d.obj)
}

// statsObject reports the live goroutines and js.Funcs of the program.
func statsObject() safejs.Value {
	o := newObject()
	_ = o.Set("goroutines", runtime.NumGoroutine())
	_ = o.Set("funcs", int(liveFuncs.Load()))
	_ = o.Set("awaits", awaitsUnderWay())
	return o
}
