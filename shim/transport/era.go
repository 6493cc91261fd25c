package transport

// era is the protocol generation a request belongs to. It is the one seam
// between the two generations of MCP over Streamable HTTP: every decision
// that differs between them asks an era method, and nothing else in the
// package compares protocol versions.
//
// A request's era is its protocol version: the claim in its body
// (params._meta["io.modelcontextprotocol/protocolVersion"]), or else the
// version the application set with SetProtocolVersion (or the option). A
// transport without either speaks the session era, so that everything
// written for the 2025 revisions works unchanged.
type era uint8

const (
	// eraSession: the 2025 revisions (and earlier). Sessions by
	// Mcp-Session-Id, the initialize handshake, a standalone GET stream,
	// streams resumed by GET with Last-Event-ID, DELETE to terminate, and a
	// 404 to a request that carried the session id ends the session.
	eraSession era = iota
	// eraStateless: MCP 2026-07-28 and later. No session, no handshake, no
	// GET: every request is a POST whose response stream is that request's
	// only channel. Closing it cancels the request, and a broken one loses
	// the request, which the client re-issues.
	eraStateless
)

// firstStatelessVersion is the first revision of the stateless era.
// Revisions are ISO dates, so they order as strings, as the SDK compares
// them.
const firstStatelessVersion = "2026-07-28"

// eraOf returns the era of a protocol version; "" is the session era.
func eraOf(version string) era {
	if version >= firstStatelessVersion {
		return eraStateless
	}
	return eraSession
}

// String names the era as snapshots and the SDK's negotiation do.
func (e era) String() string {
	if e == eraStateless {
		return "modern"
	}
	return "legacy"
}

// carriesSession reports whether requests of the era send the session id
// and adopt one from responses. Without a session there is nothing for a
// 404 to expire and nothing for DELETE to terminate.
func (e era) carriesSession() bool { return e == eraSession }

// resumes reports whether a broken response stream is resumed by GET with
// its Last-Event-ID. In the stateless era a broken stream has lost its
// request, which gets its outcome ("stream-lost") at once.
func (e era) resumes() bool { return e == eraSession }

// hasStandalone reports whether the era has a standalone GET stream for
// server-initiated messages (subscriptions/listen replaces it).
func (e era) hasStandalone() bool { return e == eraSession }

// errorAnswers reports whether an HTTP error status answers a request of
// the era, rather than failing its exchange. A stateless server rejects a
// request whose headers and body disagree with 400 and the request's
// JSON-RPC error. And the server/discover probe (probe) is answered by any
// 4xx but 401 and 403: a server of the session era rejects the unknown,
// sessionless request in its own way, which the SDK v2's Client reads as
// "fall back to initialize", and that verdict must not depend on which
// transport carried the probe.
func (e era) errorAnswers(status int, probe bool) bool {
	if e != eraStateless {
		return false
	}
	return status == 400 || probe && status >= 400 && status < 500 && status != 401 && status != 403
}
