package transport

import (
	"time"

	"github.com/esshim/esshim/shim"
)

// CORS diagnostics. A browser hides from the page why a cross-origin
// request failed: a preflight that refused a header is the same TypeError
// as a dead server, and a response header the server did not expose reads
// as absent. The misconfigurations MCP servers most often have, each
// explained below, are told apart here from what the page can see, and
// reported as CORS_BLOCKED with the header the server must send. Native
// fetchers never set Response.CrossOrigin, so none of this runs natively
// against a real server unless a test emulates the browser.

// noteHiddenSessionLocked notes a successful response to initialize that
// the browser filtered for CORS and that carried no readable session id:
// if the server did send one without exposing it, the next request goes
// out without it and is refused (see corsStatusError).
func (lc *lifecycle) noteHiddenSessionLocked(sess *session, resp *shim.Response) {
	if resp.CrossOrigin && sess.id == "" && resp.Header.Get(hdrSessionID) == "" {
		sess.mayBeHidden = true
	}
}

// corsStatusError explains a refused response that only a CORS
// misconfiguration accounts for, or returns nil:
//   - a 400 or 404 to a request (POST, or the standalone GET) sent without
//     a session id, when the cross-origin response to initialize showed
//     none (hidden: session.mayBeHidden): the server refuses the request
//     for a missing session id that it did send, but did not list in
//     Access-Control-Expose-Headers;
//   - a cross-origin 401 without a readable WWW-Authenticate, which every
//     401 carries (RFC 9110, 11.6.1): the client cannot learn how to
//     authorize unless the server exposes it.
func corsStatusError(resp *shim.Response, hidden bool, sent, detail string) *shim.Error {
	if !resp.CrossOrigin {
		return nil
	}
	var msg string
	switch {
	case (resp.Status == 400 || resp.Status == 404) && sent == "" && hidden:
		msg = "the server refused a request sent without a session id, and its responses to this page are cross-origin " +
			"with no readable Mcp-Session-Id: the server must send Access-Control-Expose-Headers: Mcp-Session-Id"
	case resp.Status == 401 && resp.Header.Get(hdrWWWAuthenticate) == "":
		msg = "the server answered 401 cross-origin without a readable WWW-Authenticate, so the client cannot learn how " +
			"to authorize: the server must send Access-Control-Expose-Headers: WWW-Authenticate"
	default:
		return nil
	}
	if detail != "" {
		msg += " (the server said: " + detail + ")"
	}
	return &shim.Error{Code: shim.CodeCORSBlocked, Status: resp.Status, Message: msg}
}

const hdrWWWAuthenticate = "www-authenticate"

// probeTimeout bounds each probe of diagnosePreflight: a server that does
// not answer a GET that soon gets no diagnosis, not a hang.
const probeTimeout = 5 * time.Second

// probeValue stands in for a header's value in a probe: a preflight
// decides by names alone, and a made-up value keeps the probe from acting
// (a real session id would open the session's standalone stream).
const probeValue = "esshim-cors-probe"

// diagnosePreflight explains a request that failed without a response, if
// a preflight that refused one of its headers is the cause, or returns
// nil. It probes the endpoint by GET: first with no header a preflight
// would check, which must get a cross-origin response (the server is up
// and answers this page), then with each header of the failed request
// that needs a preflight, alone. Those whose probe fails are the ones the
// server's Access-Control-Allow-Headers lacks.
//
// It probes only a server that has answered cross-origin before, and only
// for headers no request has carried to a response yet: a request that
// fails for another reason (a connection reset, a dead server) after the
// handshake sends no probe at all, and a same-origin or native transport
// never does.
func (lc *lifecycle) diagnosePreflight(ctx shim.Context, failed shim.Header) *shim.Error {
	var names []string
	t := lc.t
	t.mu.Lock()
	if t.preflightPassed == nil {
		t.mu.Unlock()
		return nil
	}
	for name, value := range failed {
		if !corsSafelisted(name, value) && !t.preflightPassed[name] {
			names = append(names, name)
		}
	}
	t.mu.Unlock()
	if len(names) == 0 {
		return nil
	}
	if answered, cross := lc.probe(ctx, shim.Header{}); !answered || !cross {
		return nil
	}
	sortStrings(names)
	var refused []string
	for _, name := range names {
		value := probeValue
		if name == hdrContentType {
			value = failed[name] // a made-up content type might be a safelisted one
		}
		if answered, _ := lc.probe(ctx, shim.Header{name: value}); !answered {
			if ctx.Err() != nil {
				return nil
			}
			refused = append(refused, name)
		}
	}
	if len(refused) == 0 {
		return nil
	}
	list := refused[0]
	for _, name := range refused[1:] {
		list += ", " + name
	}
	return shim.NewError(shim.CodeCORSBlocked, "the server's CORS preflight refused the request header "+list+
		": the server must send Access-Control-Allow-Headers listing "+list+
		" (a GET with that header alone fails; without it the server answers)")
}

// notePreflightPassed records the header names of a request that got a
// cross-origin response: the server's preflight allows them.
func (t *Transport) notePreflightPassed(h shim.Header, resp *shim.Response) {
	if !resp.CrossOrigin {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.preflightPassed == nil {
		t.preflightPassed = map[string]bool{} // non-nil: the server answered cross-origin
	}
	for name, value := range h {
		if !corsSafelisted(name, value) {
			t.preflightPassed[name] = true
		}
	}
}

// probe sends one GET to the endpoint with only the given headers and
// reports whether any response came, and whether it was cross-origin.
func (lc *lifecycle) probe(ctx shim.Context, h shim.Header) (answered, crossOrigin bool) {
	pctx, cancel := shim.WithCancel(ctx)
	defer cancel()
	stop := time.AfterFunc(probeTimeout, cancel).Stop
	defer stop()
	o := &lc.t.opts
	resp, err := o.Fetcher.Fetch(pctx, &shim.Request{Method: "GET", URL: o.URL, Header: h, Credentials: o.Credentials, Mode: o.Mode})
	if err != nil {
		return false, false
	}
	discard(resp)
	return true, resp.CrossOrigin
}

// corsSafelisted reports whether a request header needs no preflight
// (Fetch, "CORS-safelisted request-header"), for the headers a transport
// sends: Accept, Accept-Language and Content-Language with ordinary
// values, and Content-Type with one of the three form types.
func corsSafelisted(name, value string) bool {
	switch name {
	case "accept", "accept-language", "content-language":
		return len(value) <= 128
	case hdrContentType:
		switch shim.MediaType(value) {
		case "application/x-www-form-urlencoded", "multipart/form-data", "text/plain":
			return len(value) <= 128
		}
	}
	return false
}

// sortStrings sorts a few names by insertion: package sort's generic code
// would cost wasm size for lists this short.
func sortStrings(a []string) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}
