//go:build js && wasm

package main

import (
	"github.com/hack-pad/safejs"
)

// Constructors and functions looked up once: every lookup is a crossing of
// the Go↔JS boundary, and these are used on every request.
var (
	jsGlobal          = safejs.Global()
	jsObject          = mustGet(jsGlobal, "Object")
	jsArray           = mustGet(jsGlobal, "Array")
	jsPromise         = mustGet(jsGlobal, "Promise")
	jsError           = mustGet(jsGlobal, "Error")
	jsUint8Array      = mustGet(jsGlobal, "Uint8Array")
	jsAbortController = mustGet(jsGlobal, "AbortController")
)

func mustGet(v safejs.Value, name string) safejs.Value {
	r, err := v.Get(name)
	if err != nil {
		panic("esshim: missing global " + name)
	}
	return r
}

// prop returns v[name], or undefined when v is not an object or the lookup throws.
func prop(v safejs.Value, name string) safejs.Value {
	switch v.Type() {
	case safejs.TypeObject, safejs.TypeFunction:
	default:
		return safejs.Undefined()
	}
	r, err := v.Get(name)
	if err != nil {
		return safejs.Undefined()
	}
	return r
}

// isSet reports whether v is neither undefined nor null.
func isSet(v safejs.Value) bool { return !v.IsUndefined() && !v.IsNull() }

// stringOf returns v as a Go string. Unlike safejs.Value.String it never
// yields "<object>": URL objects and other values go through JS String().
func stringOf(v safejs.Value) string {
	if v.Type() == safejs.TypeString {
		s, _ := v.String()
		return s
	}
	if !isSet(v) {
		return ""
	}
	s, err := mustGet(jsGlobal, "String").Invoke(v)
	if err != nil {
		return ""
	}
	r, _ := s.String()
	return r
}

// stringProp returns v[name] as a string, or def when it is unset.
func stringProp(v safejs.Value, name, def string) string {
	p := prop(v, name)
	if !isSet(p) {
		return def
	}
	return stringOf(p)
}

// intProp returns v[name] as an int, or def when it is not a number.
func intProp(v safejs.Value, name string, def int) int {
	p := prop(v, name)
	if p.Type() != safejs.TypeNumber {
		return def
	}
	f, err := p.Float()
	if err != nil || f != f {
		return def
	}
	if f > 1<<53 {
		return int(1 << 53)
	}
	return int(f)
}

// floatProp returns v[name] as a float64, or def when it is not a number.
func floatProp(v safejs.Value, name string, def float64) float64 {
	p := prop(v, name)
	if p.Type() != safejs.TypeNumber {
		return def
	}
	f, err := p.Float()
	if err != nil || f != f {
		return def
	}
	return f
}

// boolProp returns the truthiness of v[name].
func boolProp(v safejs.Value, name string) bool {
	b, _ := prop(v, name).Truthy()
	return b
}

// newObject returns a fresh empty JS object.
func newObject() safejs.Value {
	o, _ := jsObject.New()
	return o
}

// bytesToJS copies b into a new Uint8Array.
func bytesToJS(b []byte) safejs.Value {
	a, _ := jsUint8Array.New(len(b))
	_, _ = safejs.CopyBytesToJS(a, b)
	return a
}
