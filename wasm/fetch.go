//go:build js && wasm

package main

import (
	"io"
	"sync"

	"github.com/esshim/esshim/shim"
	"github.com/hack-pad/safejs"
)

// browserFetcher implements shim.Fetcher with the browser's fetch. Its fn is
// the page's fetch, or a custom one the caller passed in.
type browserFetcher struct {
	fn safejs.Value // a JS function (url, init) => Promise<Response>; undefined = globalThis.fetch
}

// Fetch implements shim.Fetcher. The request's AbortController is tied to
// ctx for the whole life of the exchange, body included, not only until the
// headers arrive: that is what makes the server see a cancel at once.
func (f browserFetcher) Fetch(ctx shim.Context, req *shim.Request) (*shim.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, shim.Wrap(shim.CodeAborted, err)
	}
	controller, err := jsAbortController.New()
	if err != nil {
		return nil, shim.Wrap(shim.CodeInternal, err)
	}
	ex := &exchange{controller: controller}
	stopAbort := shim.AfterFunc(ctx, ex.abort)

	init := requestInit(req)
	signal, _ := controller.Get("signal")
	_ = init.Set("signal", signal)

	var pending safejs.Value
	if isSet(f.fn) {
		pending, err = f.fn.Invoke(req.URL, init)
	} else {
		pending, err = jsGlobal.Call("fetch", req.URL, init)
	}
	if err != nil {
		stopAbort()
		return nil, shim.Wrap(shim.CodeNetwork, err)
	}
	// The abort makes fetch's promise reject at once, but a custom fetch
	// may ignore its signal: the wait ends with ctx all the same, and a
	// response that arrives later has its body cancelled.
	resp, err := awaitOr(ctx, pending, cancelBody)
	if err != nil {
		// When ctx ended the wait, the abort must still happen (the server
		// sees the request end): if stopAbort caught it before its
		// goroutine ran, abort here.
		if stopAbort() && ctx.Err() != nil {
			ex.abort()
		}
		if ctx.Err() != nil {
			return nil, shim.Wrap(shim.CodeAborted, ctx.Err())
		}
		return nil, err
	}
	out := &shim.Response{
		Status:      intProp(resp, "status", 0),
		StatusText:  stringProp(resp, "statusText", ""),
		URL:         stringProp(resp, "url", req.URL),
		Header:      coreHeaders(prop(resp, "headers")),
		CrossOrigin: stringProp(resp, "type", "") == "cors",
	}
	if stringProp(resp, "type", "") == "opaqueredirect" {
		out.OpaqueRedirect = true
	} else if out.Status >= 300 && out.Status <= 399 {
		out.Location = redirectTarget(resp, out.URL)
	}
	body := prop(resp, "body")
	if !isSet(body) {
		stopAbort()
		out.Body = io.NopCloser(emptyReader{})
		return out, nil
	}
	reader, err := body.Call("getReader")
	if err != nil {
		stopAbort()
		ex.abort()
		return nil, shim.Wrap(shim.CodeInternal, err)
	}
	ex.setReader(reader)
	out.Body = &streamBody{ctx: ctx, reader: reader, abort: ex.abort, stopAbort: stopAbort}
	return out, nil
}

// exchange is what ending one fetch needs: its AbortController and, once
// the headers are in, its body's reader.
type exchange struct {
	controller safejs.Value
	mu         sync.Mutex
	reader     safejs.Value
}

func (e *exchange) setReader(r safejs.Value) {
	e.mu.Lock()
	e.reader = r
	e.mu.Unlock()
}

// abort aborts the fetch, then cancels its reader. The abort is what tells
// the server; the cancel settles a read that the abort left pending, which
// Node's fetch (undici 6, nodejs/undici#4089) does when the abort lands
// after the body's last byte but before its end: without it, that read,
// and whoever waits for it, would hang forever.
func (e *exchange) abort() {
	_, _ = e.controller.Call("abort")
	e.mu.Lock()
	r := e.reader
	e.mu.Unlock()
	if isSet(r) {
		if p, err := r.Call("cancel"); err == nil {
			ignoreRejection(p)
		}
	}
}

// requestInit builds the RequestInit for req: the caller's opaque init
// first, then what the core decided, which wins.
func requestInit(req *shim.Request) safejs.Value {
	init := newObject()
	if extra, ok := req.Init.(safejs.Value); ok && isSet(extra) {
		_, _ = jsObject.Call("assign", init, extra)
	}
	method := req.Method
	if method == "" {
		method = "GET"
	}
	_ = init.Set("method", method)
	headers := newObject()
	for k, v := range req.Header {
		_ = headers.Set(k, byteString(v))
	}
	_ = init.Set("headers", headers)
	if req.Body != nil {
		_ = init.Set("body", bytesToJS(req.Body))
	} else {
		_ = init.Delete("body")
	}
	if req.Credentials != "" {
		_ = init.Set("credentials", req.Credentials)
	}
	if req.Mode != "" {
		_ = init.Set("mode", req.Mode)
	}
	// The core's redirect mode, unless the caller's own init asks for the
	// stricter "error" or "manual", which are kept as the SDK keeps them.
	if r := stringProp(init, "redirect", ""); req.Redirect != "" && r != "error" && r != "manual" {
		_ = init.Set("redirect", req.Redirect)
	}
	return init
}

var (
	jsURL      = mustGet(jsGlobal, "URL")
	jsLocation = func() safejs.Value { v, _ := safejs.ValueOf("location"); return v }()
)

// redirectTarget resolves the Location of a redirect response against its
// URL, where the platform shows it (Node's fetch does, a browser's opaque
// redirect does not); "" otherwise.
func redirectTarget(resp safejs.Value, base string) string {
	loc, err := prop(resp, "headers").Call("get", jsLocation)
	if err != nil || loc.Type() != safejs.TypeString {
		return ""
	}
	u, err := jsURL.New(loc, base)
	if err != nil {
		return ""
	}
	return stringProp(u, "href", "")
}

// cancelBody cancels the body of a response that arrived after its wait
// ended, so that its connection is released.
func cancelBody(resp safejs.Value) {
	if body := prop(resp, "body"); isSet(body) {
		if p, err := body.Call("cancel"); err == nil {
			ignoreRejection(p)
		}
	}
}

// coreResponseHeaders are the response headers the core reads, as JS
// strings made once. Copying only these, with one get() each, costs a few
// crossings of the Go↔JS boundary per response instead of about seven per
// header the server sent.
var coreResponseHeaders = func() []safejs.Value {
	var names []safejs.Value
	for _, n := range []string{"content-type", "mcp-session-id", "mcp-protocol-version", "www-authenticate", "retry-after"} {
		v, _ := safejs.ValueOf(n)
		names = append(names, v)
	}
	return names
}()

func coreHeaders(h safejs.Value) shim.Header {
	out := shim.Header{}
	if !isSet(h) {
		return out
	}
	for _, name := range coreResponseHeaders {
		v, err := h.Call("get", name)
		if err == nil && v.Type() == safejs.TypeString {
			k, _ := name.String()
			if s, ok := jsByteString(v); ok {
				out.Set(k, s)
			}
		}
	}
	return out
}

// streamBody reads a ReadableStream through its default reader.
type streamBody struct {
	ctx       shim.Context
	reader    safejs.Value
	abort     func()
	stopAbort func() bool

	mu      sync.Mutex
	closed  bool
	pending []byte // the rest of the last chunk that did not fit the caller's buffer
	scratch []byte
}

// Read implements io.Reader. After our own Close it reports shim.ErrClosed,
// never io.EOF; after ctx ends, ABORTED; after a network failure, NETWORK_ERROR.
func (b *streamBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return 0, shim.ErrClosed
	}
	if len(b.pending) > 0 {
		n := copy(p, b.pending)
		b.pending = b.pending[n:]
		b.mu.Unlock()
		return n, nil
	}
	b.mu.Unlock()

	readP, err := b.reader.Call("read")
	if err != nil {
		return 0, b.failure(shim.Wrap(shim.CodeNetwork, err))
	}
	r, err := await(shim.Background(), readP)
	if err != nil {
		return 0, b.failure(err)
	}
	if done, _ := prop(r, "done").Truthy(); done {
		b.mu.Lock()
		closed := b.closed
		b.mu.Unlock()
		switch {
		case closed:
			return 0, shim.ErrClosed
		case b.ctx.Err() != nil:
			// The reader was cancelled because ctx ended (see
			// exchange.abort): that is an abort, not the body's end.
			return 0, shim.Wrap(shim.CodeAborted, b.ctx.Err())
		}
		b.stopAbort()
		return 0, io.EOF
	}
	chunk := prop(r, "value")
	size, _ := chunk.Length()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, shim.ErrClosed
	}
	if size <= len(p) {
		n, err := safejs.CopyBytesToGo(p[:size], chunk)
		if err != nil {
			return 0, shim.Wrap(shim.CodeInternal, err)
		}
		return n, nil
	}
	if cap(b.scratch) < size {
		b.scratch = make([]byte, size)
	}
	buf := b.scratch[:size]
	if _, err := safejs.CopyBytesToGo(buf, chunk); err != nil {
		return 0, shim.Wrap(shim.CodeInternal, err)
	}
	n := copy(p, buf)
	b.pending = buf[n:]
	return n, nil
}

// failure classifies a failed read: our own Close, a cancelled context, or
// the network.
func (b *streamBody) failure(err error) error {
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	switch {
	case closed:
		return shim.ErrClosed
	case b.ctx.Err() != nil:
		return shim.Wrap(shim.CodeAborted, b.ctx.Err())
	default:
		return shim.Wrap(shim.CodeNetwork, err)
	}
}

// Close cancels the reader and aborts the request, so the server sees the
// disconnect at once.
func (b *streamBody) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	b.pending = nil
	b.mu.Unlock()
	// stopAbort reports false when the exchange is over already: the body
	// was read to its end, or ctx's end has aborted the fetch. Cancelling
	// and aborting again would only cost crossings (a POST stream whose
	// requests are all answered ends by its context, once per request).
	if b.stopAbort() {
		b.abort()
	}
	return nil
}

type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, io.EOF }

// noop is one JS function kept for the page's life, used to swallow
// rejections of promises whose outcome we do not need.
var noop = funcOf(func(safejs.Value, []safejs.Value) any { return nil })

func ignoreRejection(p safejs.Value) {
	if p.Type() == safejs.TypeObject {
		_, _ = p.Call("catch", noop.Value())
	}
}
