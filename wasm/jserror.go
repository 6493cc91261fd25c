//go:build js && wasm

package main

import (
	"github.com/esshim/esshim/shim"
	"github.com/hack-pad/safejs"
)

// toJSError turns a Go error into a JS Error with a string code and, where
// HTTP was involved, a numeric status: the shape every esshim error has.
func toJSError(err error) safejs.Value {
	if v, ok := thrownValue(err); ok {
		return v
	}
	code := shim.CodeOf(err)
	status := 0
	msg := err.Error()
	if e, ok := err.(*shim.Error); ok {
		status = e.Status
		msg = e.Message
	}
	v, _ := jsError.New(msg)
	_ = v.Set("code", string(code))
	if status != 0 {
		_ = v.Set("status", status)
	}
	return v
}

// fromJSError turns a thrown JS value into a Go error with the given code,
// keeping the JS message.
func fromJSError(code shim.Code, v safejs.Value) *shim.Error {
	msg := stringProp(v, "message", "")
	if msg == "" {
		msg = stringOf(v)
	}
	name := stringProp(v, "name", "")
	if name == "AbortError" {
		code = shim.CodeAborted
	}
	if name != "" && name != "Error" {
		msg = name + ": " + msg
	}
	return &shim.Error{Code: code, Message: msg}
}

// codesObject is the one error-code table, shim.Codes, as a frozen JS
// object {HTTP_ERROR: 'HTTP_ERROR', ...}: the ES module takes its codes
// from it and never spells one of its own.
func codesObject() safejs.Value {
	o := newObject()
	for _, c := range shim.Codes {
		_ = o.Set(string(c), string(c))
	}
	_, _ = jsObject.Call("freeze", o)
	return o
}
