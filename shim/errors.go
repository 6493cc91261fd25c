package shim

import "strconv"

// Code is the stable, machine-readable kind of an [Error]. JS callers see it
// as the error's string `code` property, so the values are part of the API.
type Code string

// The error codes esshim reports. They never change meaning once released.
const (
	CodeHTTP                  Code = "HTTP_ERROR"
	CodeUnexpectedContentType Code = "UNEXPECTED_CONTENT_TYPE"
	CodeAlreadyStarted        Code = "ALREADY_STARTED"
	CodeNotStarted            Code = "NOT_STARTED"
	CodeNetwork               Code = "NETWORK_ERROR"
	CodeReconnectExhausted    Code = "RECONNECT_EXHAUSTED"
	CodeEventTooLarge         Code = "EVENT_TOO_LARGE"
	CodeSessionExpired        Code = "SESSION_EXPIRED"
	CodeClosed                Code = "CLOSED"
	CodeAborted               Code = "ABORTED"
	CodeInternal              Code = "INTERNAL_ERROR"
	CodeInvalidArgument       Code = "INVALID_ARGUMENT"
	// CodeCORSBlocked: a request failed in a way only a CORS
	// misconfiguration of the server explains; the message names the
	// header the server must send (see transport/cors.go).
	CodeCORSBlocked Code = "CORS_BLOCKED"
	// CodeInvalidMessage: a server sent data that is not JSON-RPC.
	CodeInvalidMessage Code = "INVALID_MESSAGE"
	// CodeInvalidHeader: a header name or value is not valid HTTP; the
	// request was not sent. The message names the header, never its value.
	CodeInvalidHeader Code = "INVALID_HEADER"
	// CodeHeadersHook: the application's headers hook (or auth provider)
	// threw or rejected; the request was not sent.
	CodeHeadersHook Code = "HEADERS_HOOK_FAILED"
	// CodeRedirectBlocked: the server redirected a request, and the
	// redirect policy did not allow following it; nothing was sent to the
	// redirect's target.
	CodeRedirectBlocked Code = "REDIRECT_BLOCKED"
)

// Codes lists every Code, in the order of the declarations above. It is
// the one error-code table: the wasm exports it to JS, and a test checks
// that js/esshim.d.ts and js/esshim.js use exactly these names.
var Codes = []Code{
	CodeHTTP, CodeUnexpectedContentType, CodeAlreadyStarted, CodeNotStarted,
	CodeNetwork, CodeReconnectExhausted, CodeEventTooLarge, CodeSessionExpired,
	CodeClosed, CodeAborted, CodeInternal, CodeInvalidArgument,
	CodeInvalidMessage, CodeInvalidHeader, CodeHeadersHook, CodeRedirectBlocked,
	CodeCORSBlocked,
}

// Error is the one error type esshim hands to callers. It carries a [Code],
// the HTTP status where HTTP was involved, and the underlying cause.
//
// Errors compare with errors.Is by code: errors.Is(err, ErrEventTooLarge)
// holds for any EVENT_TOO_LARGE error, whatever its message or status.
type Error struct {
	Code    Code
	Status  int // HTTP status, or 0 when no response was involved
	Message string
	Err     error // the cause, if any
}

// Sentinel errors for errors.Is. Only their Code matters when matching.
var (
	ErrHTTP                  = &Error{Code: CodeHTTP, Message: "HTTP error"}
	ErrUnexpectedContentType = &Error{Code: CodeUnexpectedContentType, Message: "unexpected content type"}
	ErrAlreadyStarted        = &Error{Code: CodeAlreadyStarted, Message: "already started"}
	ErrNotStarted            = &Error{Code: CodeNotStarted, Message: "not started"}
	ErrNetwork               = &Error{Code: CodeNetwork, Message: "network error"}
	ErrReconnectExhausted    = &Error{Code: CodeReconnectExhausted, Message: "reconnect attempts exhausted"}
	ErrEventTooLarge         = &Error{Code: CodeEventTooLarge, Message: "event too large"}
	ErrSessionExpired        = &Error{Code: CodeSessionExpired, Message: "session expired"}
	// ErrClosed is what a body read reports after our own Close: a stream
	// we ended ourselves must never look like a server's clean EOF.
	ErrClosed  = &Error{Code: CodeClosed, Message: "closed"}
	ErrAborted = &Error{Code: CodeAborted, Message: "aborted"}
)

// NewError returns an *Error with the given code and message.
func NewError(code Code, message string) *Error {
	return &Error{Code: code, Message: message}
}

// HTTPError returns the error for an unexpected HTTP status.
func HTTPError(status int, message string) *Error {
	if message == "" {
		message = "HTTP " + strconv.Itoa(status)
	}
	return &Error{Code: CodeHTTP, Status: status, Message: message}
}

// Wrap returns an *Error with the given code whose cause is err.
func Wrap(code Code, err error) *Error {
	if e, ok := err.(*Error); ok && e.Code == code {
		return e
	}
	msg := string(code)
	if err != nil {
		msg = err.Error()
	}
	return &Error{Code: code, Message: msg, Err: err}
}

func (e *Error) Error() string {
	if e.Status != 0 {
		return string(e.Code) + " (HTTP " + strconv.Itoa(e.Status) + "): " + e.Message
	}
	return string(e.Code) + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// IsCode reports whether err's chain holds an *Error with the given code.
// Prefer it to errors.Is in code that reaches the wasm build: errors.Is and
// errors.As pull in reflection that costs about 60 KB of wasm.
func IsCode(err error, code Code) bool {
	for err != nil {
		if e, ok := err.(*Error); ok && e.Code == code {
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

// CodeOf returns the code of the first *Error in err's chain, or
// CodeInternal when there is none.
func CodeOf(err error) Code {
	for err != nil {
		if e, ok := err.(*Error); ok {
			return e.Code
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			break
		}
		err = u.Unwrap()
	}
	return CodeInternal
}
