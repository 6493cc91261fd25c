//go:build js && wasm

package main

import (
	"github.com/esshim/esshim/shim"
	"github.com/hack-pad/safejs"
)

// Header values are ByteStrings: in JS, strings whose code units are all
// at most 0xFF, one code unit per byte; in Go, the bytes themselves. The
// two functions here are the boundary, so that a value goes out byte for
// byte as it was given or received (a session id "caf\xE9" comes back as
// those four bytes, not as the UTF-8 of "é").

// byteString maps each byte of a Go header value to one JS code unit, the
// ByteString fetch expects. A Last-Event-ID, which Go holds as UTF-8
// text, thus goes out as its UTF-8 bytes, as a native EventSource sends it.
func byteString(v string) string {
	for i := 0; i < len(v); i++ {
		if v[i] >= 0x80 {
			r := make([]rune, len(v))
			for j := 0; j < len(v); j++ {
				r[j] = rune(v[j])
			}
			return string(r)
		}
	}
	return v
}

// fromByteString is the inverse of byteString: s is a JS string as
// syscall/js hands it to Go (its UTF-8), and the result holds one byte per
// code unit. It reports false when a code unit is above 0xFF (a lone
// surrogate arrives as U+FFFD, also above), which no header can hold.
func fromByteString(s string) (string, bool) {
	i := 0
	for i < len(s) && s[i] < 0x80 {
		i++
	}
	if i == len(s) {
		return s, true
	}
	b := []byte(s[:i])
	for _, r := range s[i:] {
		if r > 0xFF {
			return "", false
		}
		b = append(b, byte(r))
	}
	return string(b), true
}

// jsByteString returns a JS value's String() as a byte string.
func jsByteString(v safejs.Value) (string, bool) { return fromByteString(stringOf(v)) }

var jsHeaders = mustGet(jsGlobal, "Headers")

// headersFrom accepts what fetch accepts as HeadersInit (a plain object, a
// Headers instance, or a list of pairs) and fails closed: a name or value
// that fetch would reject is an INVALID_HEADER error naming the header,
// never a silently empty set. Repeated names are joined with ", " as
// fetch does.
func headersFrom(v safejs.Value) (shim.Header, error) {
	out := shim.Header{}
	if !isSet(v) {
		return out, nil
	}
	if v.Type() != safejs.TypeObject {
		return nil, shim.NewError(shim.CodeInvalidHeader, "headers must be an object, a Headers or a list of pairs")
	}
	var pairs safejs.Value
	var err error
	isHeaders, _ := v.InstanceOf(jsHeaders)
	isArray, _ := jsArray.Call("isArray", v)
	if arr, _ := isArray.Bool(); isHeaders || arr {
		pairs, err = jsArray.Call("from", v)
	} else {
		pairs, err = jsObject.Call("entries", v)
	}
	if err != nil {
		return nil, shim.Wrap(shim.CodeInvalidHeader, err)
	}
	n, _ := pairs.Length()
	for i := 0; i < n; i++ {
		pair, _ := pairs.Index(i)
		if l, err := pair.Length(); err != nil || l != 2 {
			return nil, shim.NewError(shim.CodeInvalidHeader, "a header pair must hold a name and a value")
		}
		k, _ := pair.Index(0)
		val, _ := pair.Index(1)
		name, okName := jsByteString(k)
		value, okValue := jsByteString(val)
		switch {
		case !okName:
			return nil, shim.NewError(shim.CodeInvalidHeader, "invalid header name "+shim.QuoteName(stringOf(k)))
		case !okValue:
			return nil, shim.NewError(shim.CodeInvalidHeader, "invalid value for header "+shim.QuoteName(name)+": a character above U+00FF")
		}
		if err := shim.ValidateHeader(name, value); err != nil {
			return nil, err
		}
		out.Add(name, value)
	}
	return out, nil
}
