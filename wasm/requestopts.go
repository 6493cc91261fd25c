//go:build js && wasm

package main

import (
	"github.com/esshim/esshim/shim"
	"github.com/hack-pad/safejs"
)

var jsArrayBuffer = mustGet(jsGlobal, "ArrayBuffer")

// bodyFrom accepts a string, a Uint8Array (or other view) or an ArrayBuffer.
func bodyFrom(v safejs.Value) []byte {
	if !isSet(v) {
		return nil
	}
	if v.Type() == safejs.TypeString {
		s, _ := v.String()
		return []byte(s)
	}
	if ok, _ := v.InstanceOf(jsArrayBuffer); ok {
		v, _ = jsUint8Array.New(v)
	} else if ok, _ := v.InstanceOf(jsUint8Array); !ok {
		if buf := prop(v, "buffer"); isSet(buf) {
			v, _ = jsUint8Array.New(buf, intProp(v, "byteOffset", 0), intProp(v, "byteLength", 0))
		} else {
			return []byte(stringOf(v))
		}
	}
	n, _ := v.Length()
	b := make([]byte, n)
	_, _ = safejs.CopyBytesToGo(b, v)
	return b
}

// fetcherFrom returns the fetcher for a caller's options: their custom
// fetch when given, the page's otherwise.
func fetcherFrom(opts safejs.Value) browserFetcher {
	fn := prop(opts, "fetch")
	if fn.Type() != safejs.TypeFunction {
		fn = safejs.Undefined()
	}
	return browserFetcher{fn: fn}
}

// handleOf reads the integer handle JS passes as the first argument.
func handleOf(args []safejs.Value) int { return intProp(objectOf("h", arg(args, 0)), "h", 0) }

// reconnectOptions reads the TypeScript SDK's reconnectionOptions shape.
// maxRetries may be Infinity, which means no limit.
func reconnectOptions(v safejs.Value, defaultMaxRetries int) shim.ReconnectOptions {
	ms := func(name string) float64 { return floatProp(v, name, 0) }
	o := shim.ReconnectOptions{
		InitialDelay: millis(ms("initialReconnectionDelay")),
		MaxDelay:     millis(ms("maxReconnectionDelay")),
		GrowFactor:   floatProp(v, "reconnectionDelayGrowFactor", 0),
		MaxRetries:   defaultMaxRetries,
	}
	if r := floatProp(v, "maxRetries", -2); r >= 0 && r < 1<<31 {
		o.MaxRetries = int(r)
	} else if r > 1<<31 {
		o.MaxRetries = -1
	}
	return o
}
