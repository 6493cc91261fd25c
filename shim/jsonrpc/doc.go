// Package jsonrpc reads just enough of a JSON-RPC 2.0 message to route it:
// its id, its method and whether it is a response. It never decodes a whole
// message. The transport only needs the envelope to settle requests, and a
// full decoder (encoding/json) would not fit the wasm size budget; the
// JavaScript SDK validates every message it is handed anyway.
//
// The scanner is not a validator. It rejects what it cannot frame (bad
// nesting, unterminated strings, a top level that is not an object) and
// otherwise trusts the text between the fields it reads.
package jsonrpc
