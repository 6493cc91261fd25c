package shim

import "io"

// Fetcher performs one HTTP request. It is the only way the core reaches
// the network: the wasm build implements it with the browser's fetch and a
// ReadableStream reader, native tests with net/http (package httpfetch).
//
// Fetch returns once the response headers have arrived. The context governs
// the whole exchange, the body included: cancelling it aborts the request
// and makes pending and later body reads fail. Closing the body also ends
// the exchange; a read after our own Close reports [ErrClosed], never
// io.EOF, so a stream we ended cannot be mistaken for one the server ended.
//
// A failure to get a response at all is an *Error with code NETWORK_ERROR
// (or ABORTED when ctx was cancelled). HTTP error statuses are not errors
// here: the caller decides what a status means.
type Fetcher interface {
	Fetch(ctx Context, req *Request) (*Response, error)
}

// Request is one HTTP request as the core describes it.
type Request struct {
	Method string
	URL    string
	Header Header
	Body   []byte

	// Credentials and Mode are the fetch options of the same names
	// ("omit", "same-origin", "include"; "cors", "no-cors", "same-origin").
	// Empty means the platform default. Native fetchers ignore them.
	Credentials string
	Mode        string
	// Redirect is the fetch redirect mode: "manual" or "follow" (also what
	// empty means). The core sets it (see RedirectPolicy.Fetch): with
	// "manual" a fetcher returns a redirect response as it is.
	Redirect string

	// Init is an opaque value owned by the platform layer: the browser
	// adapter uses it to carry the caller's RequestInit (cache, redirect,
	// referrerPolicy, ...) through the core untouched.
	Init any
}

// Response is the answer to a Request: status and headers, with the body
// still streaming.
type Response struct {
	Status     int
	StatusText string
	// URL is the final URL after redirects.
	URL    string
	Header Header
	// CrossOrigin: the browser filtered Header for a cross-origin (CORS)
	// response, so it holds only the safelisted headers and those the
	// server listed in Access-Control-Expose-Headers. Native fetchers
	// leave it false.
	CrossOrigin bool
	// Location is the absolute target of a redirect response (a 3xx with
	// a Location header, resolved against URL) when the platform shows
	// it, as Node's fetch and net/http do. A browser does not: it answers
	// a "manual" redirect with an opaque response, OpaqueRedirect.
	Location       string
	OpaqueRedirect bool
	// Body streams the response body. The caller must Close it.
	Body io.ReadCloser
}

// FetcherFunc adapts a function to the Fetcher interface.
type FetcherFunc func(ctx Context, req *Request) (*Response, error)

// Fetch calls f(ctx, req).
func (f FetcherFunc) Fetch(ctx Context, req *Request) (*Response, error) { return f(ctx, req) }
