package jsonrpc

import "strconv"

// CodeConnectionLost is the JSON-RPC error code of the responses the
// transport makes up for requests whose answer can no longer arrive. It is
// in the implementation-defined server error range, as the MCP SDKs use it.
const CodeConnectionLost = -32000

// The data.reason values of the made-up responses. Applications switch on
// them, so they are part of the API.
const (
	// ReasonStreamLost: the stream that would carry the response broke and
	// could not be resumed.
	ReasonStreamLost = "stream-lost"
	// ReasonSessionExpired: the server answered 404 for the session.
	ReasonSessionExpired = "session-expired"
	// ReasonSessionTerminated: the application terminated the session.
	ReasonSessionTerminated = "session-terminated"
	// ReasonHTTPError: the server answered the server/discover probe with
	// an HTTP error and no JSON-RPC error of its own.
	ReasonHTTPError = "http-error"
)

// ErrorResponse builds the JSON-RPC error response
// {"jsonrpc":"2.0","id":<rawID>,"error":{"code":<code>,"message":<message>,"data":{"reason":<reason>}}}.
// rawID is raw JSON text; "" stands for null.
func ErrorResponse(rawID string, code int, message, reason string) string {
	if rawID == "" {
		rawID = "null"
	}
	return `{"jsonrpc":"2.0","id":` + rawID +
		`,"error":{"code":` + strconv.Itoa(code) +
		`,"message":` + Quote(message) +
		`,"data":{"reason":` + Quote(reason) + `}}}`
}
