//go:build js && wasm

// Command wasm is the WebAssembly half of esshim: the only code that touches
// JavaScript. It adapts the browser's fetch to shim.Fetcher and exports the
// core's API to the ES module in js/. It holds no protocol logic.
package main

import (
	"syscall"

	"github.com/hack-pad/safejs"
)

// readyEnv names the environment variable that holds the name of the
// loader's ready callback (js/esshim.js sets go.env).
const readyEnv = "ESSHIM_READY"

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	exports := newExports()
	// The loader passes the name of a one-shot global callback in the
	// environment, so that several copies of esshim on one page never
	// collide. Not in argv: os.Args links package os, about 0.3 MB of
	// wasm; syscall.Getenv costs a tenth of that.
	if key, ok := syscall.Getenv(readyEnv); ok {
		if ready, err := safejs.Global().Get(key); err == nil && ready.Type() == safejs.TypeFunction {
			_, _ = ready.Invoke(exports)
		}
	}
	// main never returns: the exported functions live as long as the page.
	select {}
}
