package transport

import (
	"strings"

	"github.com/esshim/esshim/shim"
	"github.com/esshim/esshim/shim/jsonrpc"
)

// metaProtocolVersion is the _meta key by which a request claims its
// protocol version (MCP 2026-07-28: every request carries it).
const metaProtocolVersion = "io.modelcontextprotocol/protocolVersion"

// nameSource returns the string field of params whose value a method's
// Mcp-Name header carries, as the SDK v2's MCP_NAME_HEADER_SOURCE says, or
// "" for a method without one.
func nameSource(method string) string {
	switch method {
	case "tools/call", "prompts/get":
		return "name"
	case "resources/read":
		return "uri"
	case "tasks/get", "tasks/update", "tasks/cancel":
		return "taskId"
	}
	return ""
}

// ownedRequestHeaders are the names a message's own headers
// (SendOptions.Header) cannot set: the SDK v2's reserved names, which come
// from connection state or from the body, plus the transport's own.
var ownedRequestHeaders = [...]string{
	"authorization", "dpop", hdrContentType, hdrProtocolVersion, hdrMethod, hdrName, hdrSessionID,
	hdrAccept, hdrLastEventID,
}

// protocolClaim returns the protocol version a single request claims in
// params._meta, or "" when it claims none (a batch, a notification or a
// response never does, as for the SDK).
func protocolClaim(msg string, env jsonrpc.Envelope) string {
	if !env.IsRequest() {
		return ""
	}
	params, _ := jsonrpc.Member(msg, "params")
	meta, _ := jsonrpc.Member(params, "_meta")
	raw, _ := jsonrpc.Member(meta, metaProtocolVersion)
	v, _ := jsonrpc.String(raw)
	return v
}

// requestHeaders returns the headers a message sends beyond the
// transport's: its own (without the names the transport owns), then, when
// it claims a protocol version, the headers derived from its body, exactly
// as the SDK v2 derives them: MCP-Protocol-Version from the claim,
// Mcp-Method from the method and Mcp-Name from the field nameSources names,
// when that is a string.
func requestHeaders(own shim.Header, msg string, env jsonrpc.Envelope, claim string) shim.Header {
	h := make(shim.Header, len(own)+3)
	for k, v := range own {
		h.Set(k, v)
	}
	for _, k := range ownedRequestHeaders {
		delete(h, k)
	}
	if claim == "" {
		return h
	}
	h[hdrProtocolVersion] = claim
	h[hdrMethod] = env.Method
	if field := nameSource(env.Method); field != "" {
		params, _ := jsonrpc.Member(msg, "params")
		raw, _ := jsonrpc.Member(params, field)
		if name, ok := jsonrpc.String(raw); ok {
			h[hdrName] = encodeHeaderValue(name)
		}
	}
	return h
}

// Sentinels of a Base64-encoded header value (MCP 2026-07-28).
const (
	base64Prefix = "=?base64?"
	base64Suffix = "?="
)

// encodeHeaderValue encodes a value for an Mcp-Name or Mcp-Param header as
// the SDK v2's encodeMcpParamValue does: a safe plain-ASCII field value goes
// as it is, anything else as =?base64?{Base64 of its UTF-8}?=.
func encodeHeaderValue(v string) string {
	if !needsBase64(v) {
		return v
	}
	return base64Prefix + base64Std(v) + base64Suffix
}

// base64Std is standard Base64 with padding (RFC 4648 §4), as btoa gives
// it; package encoding/base64 would cost the wasm some 10 KB for this.
func base64Std(v string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b := make([]byte, 0, (len(v)+2)/3*4)
	for i := 0; i < len(v); i += 3 {
		n := len(v) - i
		var w uint32
		for j := 0; j < 3; j++ {
			w <<= 8
			if j < n {
				w |= uint32(v[i+j])
			}
		}
		b = append(b, alphabet[w>>18&63], alphabet[w>>12&63], alphabet[w>>6&63], alphabet[w&63])
		if n < 3 {
			b[len(b)-1] = '='
			if n < 2 {
				b[len(b)-2] = '='
			}
		}
	}
	return string(b)
}

// needsBase64 reports whether v cannot go as a plain field value: it is
// empty, has leading or trailing white space (which field parsing strips),
// holds a byte outside HTAB and 0x20–0x7E, or looks encoded already.
func needsBase64(v string) bool {
	if v == "" || strings.HasPrefix(v, base64Prefix) && strings.HasSuffix(v, base64Suffix) {
		return true
	}
	if isFieldSpace(v[0]) || isFieldSpace(v[len(v)-1]) {
		return true
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c != '\t' && (c < 0x20 || c > 0x7e) {
			return true
		}
	}
	return false
}

func isFieldSpace(c byte) bool { return c == ' ' || c == '\t' }
