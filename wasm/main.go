//go:build js && wasm

// Command wasm is the WebAssembly half of esshim: the only code that touches
// JavaScript. It adapts the browser's fetch to shim.Fetcher and exports the
// core's API to the ES module in js/. It holds no protocol logic.
package main

import (
	"os"
	"runtime/debug"

	"github.com/hack-pad/safejs"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	debug.SetGCPercent(25)
	exports := newExports()
	// The loader passes the name of a one-shot global callback as argv[1],
	// so that several copies of esshim on one page never collide.
	if len(os.Args) > 1 {
		if ready, err := safejs.Global().Get(os.Args[1]); err == nil && ready.Type() == safejs.TypeFunction {
			_, _ = ready.Invoke(exports)
		}
	}
	// main never returns: the exported functions live as long as the page.
	select {}
}
