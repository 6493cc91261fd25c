// Package shim is the core of esshim: the SSE parser, the connection
// manager, lifecycles, reconnect policy and session state.
//
// It is pure Go and never imports syscall/js. All HTTP goes through the
// [Fetcher] interface, which the browser build implements with fetch and a
// ReadableStream reader, and which native tests implement with net/http (see
// package httpfetch). That split lets every protocol rule be tested natively
// with -race against real servers on 127.0.0.1, while the wasm binary stays
// free of net/http.
package shim
