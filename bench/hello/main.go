//go:build js && wasm

// Command hello is the baseline of the cold-load figure: the smallest Go
// program that does what esshim's wasm does at load, through the same
// library (github.com/hack-pad/safejs), built with the same flags. It
// exports one function and hands it to the loader's ready callback. The
// bench builds it into a temporary directory; no binary is committed.
package main

import (
	"syscall"

	"github.com/hack-pad/safejs"
)

func main() {
	object, err := safejs.Global().Get("Object")
	if err != nil {
		panic(err)
	}
	exports, err := object.New()
	if err != nil {
		panic(err)
	}
	hello, err := safejs.FuncOf(func(safejs.Value, []safejs.Value) any { return "hello" })
	if err != nil {
		panic(err)
	}
	_ = exports.Set("hello", hello.Value())
	if key, ok := syscall.Getenv("HELLO_READY"); ok {
		if ready, err := safejs.Global().Get(key); err == nil && ready.Type() == safejs.TypeFunction {
			_, _ = ready.Invoke(exports)
		}
	}
	select {}
}
