//go:build js && wasm

package main

import (
	"github.com/hack-pad/safejs"
)

// exportTable collects the functions handed to the ES module. Sync
// functions return their value, or an Error instance that the module's
// thin wrapper throws; async ones return a Promise. The JS side keeps all
// objects as integer handles into Go tables, so no per-object js.Func
// exists beyond the short-lived promise callbacks.
type exportTable struct {
	obj safejs.Value
}

func newExports() safejs.Value {
	t := exportTable{obj: newObject()}
	_ = t.obj.Set("version", version)
	_ = t.obj.Set("codes", codesObject())
	t.fn("openEventStream", openEventStream)
	t.fn("closeEventStream", closeEventStream)
	registerTransport(t)
	registerEventSource(t)
	registerDebug(t)
	return t.obj
}

// fn exports f under name. Its panics come back to JS as Error values
// (see funcOf); the function lives as long as the program.
func (t exportTable) fn(name string, f func(args []safejs.Value) any) {
	_ = t.obj.Set(name, funcOf(func(_ safejs.Value, args []safejs.Value) any { return f(args) }).Value())
}
