package transport

import (
	"github.com/esshim/esshim/shim"
)

// session is the state that belongs to one server session. Expiry and
// termination replace it whole, which clears the id and the standalone
// stream's fate in one step; streams hold the session they were opened
// for, so a stream of an old session can tell it is stale.
type session struct {
	id string
	// noStandalone: the server answered 405 to the standalone GET, so it
	// offers none in this session.
	noStandalone bool
	// mayReinit: the session proved usable (the application initialized
	// it, or one of its requests succeeded), so its expiry may trigger an
	// automatic reinitialization. A session made by reinitialization that
	// expires before any success does not, which rules out a loop against
	// a server that expires every session at once.
	mayReinit bool
	// mayBeHidden: a cross-origin response of this session showed no
	// session id, which the server may have sent without exposing it
	// (see corsStatusError).
	mayBeHidden bool
}

// Protocol header names, lower-case as shim.Header keys are.
const (
	hdrSessionID       = "mcp-session-id"
	hdrProtocolVersion = "mcp-protocol-version"
	hdrLastEventID     = "last-event-id"
	hdrAccept          = "accept"
	hdrContentType     = "content-type"
	hdrMethod          = "mcp-method"
	hdrName            = "mcp-name"
)

// userHeaders returns the application's headers for one request: the
// static ones with the hook's merged over them. The hook is awaited
// without the lock; ctx ends it when the lifecycle closes.
func (lc *lifecycle) userHeaders(ctx shim.Context) (shim.Header, error) {
	h := lc.t.opts.Header.Clone()
	if hook := lc.t.opts.HeaderHook; hook != nil {
		extra, err := hook(ctx)
		if err != nil {
			return nil, hookError(ctx, err)
		}
		for k, v := range extra {
			h.Set(k, v)
		}
	}
	// The protocol's headers are the transport's alone: a session id the
	// application slipped in would defeat expiry detection and adoption.
	for _, k := range protocolHeaders {
		delete(h, k)
	}
	return h, nil
}

var protocolHeaders = [...]string{hdrSessionID, hdrProtocolVersion, hdrLastEventID, hdrAccept, hdrContentType, hdrMethod, hdrName}

// hookError is the error of a request whose headers hook failed: ABORTED
// when ctx ended the wait, INVALID_HEADER as the hook's conversion found
// it, and otherwise HEADERS_HOOK_FAILED, the hook's own failure, which
// is no network error: no request went out.
func hookError(ctx shim.Context, err error) *shim.Error {
	switch {
	case ctx.Err() != nil:
		return shim.Wrap(shim.CodeAborted, ctx.Err())
	case shim.IsCode(err, shim.CodeInvalidHeader):
		return asError(err, shim.CodeInvalidHeader)
	}
	msg := err.Error()
	if e, ok := err.(*shim.Error); ok {
		msg = e.Message
	}
	return &shim.Error{Code: shim.CodeHeadersHook, Message: "the headers hook failed: " + msg, Err: err}
}

// fetch is the one way the lifecycle's requests reach the network. A
// request with an invalid header fails with INVALID_HEADER and is not
// sent, whichever source the header came from (requestInit, the hook, a
// session id or protocol version); redirects go by Options.Redirect.
func (lc *lifecycle) fetch(ctx shim.Context, req *shim.Request) (*shim.Response, error) {
	if err := req.Header.Validate(); err != nil {
		return nil, err
	}
	return lc.t.opts.Redirect.Fetch(ctx, lc.t.opts.Fetcher, req, originBound(req.Header))
}

// originBound reports whether h holds state that belongs to the endpoint's
// origin: anything beyond content negotiation, the protocol version and
// the headers derived from the body (Mcp-Method, Mcp-Name), that is the
// session id, Last-Event-ID and every application header.
func originBound(h shim.Header) bool {
	for k := range h {
		switch k {
		case hdrAccept, hdrContentType, hdrProtocolVersion, hdrMethod, hdrName:
		default:
			return true
		}
	}
	return false
}

// protocolHeadersLocked adds the session and version headers of a request
// of era e to h and returns the session id as sent: whether a 404 means
// expiry is decided from this value, never from state read after the
// response.
func (lc *lifecycle) protocolHeadersLocked(h shim.Header, sess *session, e era) string {
	if sess.id != "" && e.carriesSession() {
		h[hdrSessionID] = sess.id
	}
	if lc.protocolVersion != "" {
		h[hdrProtocolVersion] = lc.protocolVersion
	}
	return h[hdrSessionID]
}

// request builds a shim.Request with the caller-level fetch options.
func (lc *lifecycle) request(method string, h shim.Header, body []byte) *shim.Request {
	o := &lc.t.opts
	return &shim.Request{
		Method: method, URL: o.URL, Header: h, Body: body,
		Credentials: o.Credentials, Mode: o.Mode, Init: o.Init,
	}
}

// adoptSessionLocked takes the session id a successful response set. It
// only does so when the session is still the one the request was sent in
// (same struct, same id): a late answer to a request of an expired or
// replaced session must never overwrite the newer one.
// A response to a request of an era without sessions sets none.
func (lc *lifecycle) adoptSessionLocked(sess *session, sent string, resp *shim.Response, e era) {
	if lc.closed || lc.sess != sess || sess.id != sent || !e.carriesSession() {
		return
	}
	if id := resp.Header.Get(hdrSessionID); id != "" {
		sess.id = id
	}
}

// replaceSessionLocked ends the current session: a fresh session struct,
// every stream aborted (their Last-Event-IDs and retry values die with
// them), and every in-flight request failed with reason except those
// carried by keep, which the caller replays. It returns the old session.
func (lc *lifecycle) replaceSessionLocked(reason string, keep *stream) *session {
	old := lc.sess
	lc.sess = &session{}
	for _, s := range lc.streams {
		lc.removeStreamLocked(s)
	}
	for id, r := range lc.inflight {
		if keep != nil && r.carrier == keep {
			continue
		}
		lc.failLocked(id, reason)
	}
	return old
}
