package transport

import (
	"io"
	"strconv"
	"strings"

	"github.com/esshim/esshim/shim"
	"github.com/esshim/esshim/shim/jsonrpc"
	"github.com/esshim/esshim/shim/sse"
)

// postSpec describes one POST of the lifecycle: an application's message,
// the replay of one after reinitialization, or the reinitialization's own
// handshake messages.
type postSpec struct {
	body        string
	ids         []string // the requests in body, raw JSON ids
	initMsg     string   // the initialize request in body, if any
	initialized bool     // body holds notifications/initialized
	method      string   // the method of a single message
	onToken     func(string)

	// era is the message's protocol generation; header holds its own and
	// its body-derived headers, sent over everything else.
	era    era
	header shim.Header
	// signal is SendOptions.Signal; onEnd is SendOptions.OnEnd until the
	// POST's stream takes it over, so that it is called exactly once.
	signal shim.Context
	onEnd  func(StreamEnd)

	// replay: the requests are already in flight (Send returned nil for
	// them), so every failure becomes a made-up "session-expired"
	// response, and a 404 never starts another reinitialization.
	replay bool
	// hs: the reinitialization's initialize; its result is not delivered.
	hs *handshake
	// quiet: a message of the transport's own (the handshake): errors are
	// returned only, not reported to Handler.Error, and its success does
	// not prove the session usable (see session.mayReinit).
	quiet bool
	// auth is the request's authorization history; nil for the
	// transport's own messages, which never run Options.Authorize.
	auth *authTries
}

// Send sends one JSON-RPC message or batch, like the TypeScript SDK's send:
// it returns once the server accepted the POST (for an SSE response, once
// the stream is open; for JSON, once the responses are queued for
// Handler.Message). It does not wait for Handler callbacks, so it may be
// called from inside one.
//
// Outcomes: a request's response, or a made-up error response, arrives
// through Handler.Message; or Send returns an error, and then nothing else
// arrives for it. When the POST gets the 404 that expires the session, Send
// returns nil: its requests get the "session-expired" error response, or,
// with ExpiryReinitialize, the replayed request's real response. A request
// whose answer cannot come (a 202, or a JSON body without its response)
// gets a "stream-lost" error response at once rather than waiting for the
// SDK's timeout.
//
// Errors of the exchange (HTTP_ERROR, UNEXPECTED_CONTENT_TYPE,
// NETWORK_ERROR, EVENT_TOO_LARGE, INVALID_HEADER, HEADERS_HOOK_FAILED,
// REDIRECT_BLOCKED; the last three mean nothing was sent to where it was
// refused) are also reported to Handler.Error, as
// the TypeScript SDK reports them to onerror; NOT_STARTED,
// INVALID_ARGUMENT, CLOSED (Close during the call; the request was not
// sent, or its answer is abandoned) and ABORTED (ctx ended) are only
// returned. While ExpiryReinitialize re-establishes the session, Send
// waits for it.
//
// With SendOptions.ResumptionToken the message is not POSTed: its stream
// is resumed by GET with that Last-Event-ID, and Send returns at once;
// failures arrive as Handler.Error and a "stream-lost" response. Such a
// stream without a request in the message ends with its connection.
func (t *Transport) Send(ctx shim.Context, message string, opts SendOptions) error {
	p := &postSpec{body: message, onToken: opts.OnResumptionToken, signal: opts.Signal, onEnd: opts.OnEnd, auth: &authTries{}}
	err := t.send(ctx, p, opts)
	if p.onEnd != nil {
		// No stream took the request over: Send failed.
		t.mu.Lock()
		t.endLocked(t.cur, p.onEnd, EndRejected)
		t.mu.Unlock()
	}
	return err
}

func (t *Transport) send(ctx shim.Context, p *postSpec, opts SendOptions) error {
	msgs, envs, batch, err := parseMessages(p.body)
	if err != nil {
		return shim.Wrap(shim.CodeInvalidArgument, err)
	}
	claim := ""
	if !batch {
		claim, p.method = protocolClaim(msgs[0], envs[0]), envs[0].Method
		p.header = requestHeaders(opts.Header, msgs[0], envs[0], claim)
	} else {
		p.header = requestHeaders(opts.Header, "", jsonrpc.Envelope{}, "")
	}
	for i, env := range envs {
		if env.IsRequest() {
			p.ids = append(p.ids, env.ID)
		}
		switch env.Method {
		case "initialize":
			p.initMsg = msgs[i]
		case "notifications/initialized":
			p.initialized = true
		}
	}
	if p.signal != nil {
		if p.signal.Err() != nil {
			return shim.Wrap(shim.CodeAborted, p.signal.Err())
		}
		// Until the POST is answered, the signal aborts it as ctx does.
		c, cancel := shim.WithCancel(ctx)
		defer shim.AfterFunc(p.signal, cancel)()
		defer cancel()
		ctx = c
	}

	t.mu.Lock()
	lc := t.cur
	if lc == nil {
		t.mu.Unlock()
		return shim.ErrNotStarted
	}
	if claim == "" {
		p.era = eraOf(lc.protocolVersion)
	} else {
		p.era = eraOf(claim)
	}
	if opts.ResumptionToken != "" && p.era.resumes() {
		lc.resumeLocked(opts.ResumptionToken, p)
		t.mu.Unlock()
		return nil
	}
	lc.enterLocked()
	gate := lc.reinit
	t.mu.Unlock()
	defer lc.leave()

	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return shim.Wrap(shim.CodeAborted, ctx.Err())
		case <-lc.ctx.Done():
			return errClosed
		}
	}
	for {
		err := lc.post(ctx, p)
		retry, ok := err.(*authRetry)
		if !ok {
			return err
		}
		if err := lc.authorize(ctx, retry.challenge); err != nil {
			return err
		}
	}
}

// resumeLocked opens a resume stream for SendOptions.ResumptionToken. The
// stream carries the message's request, and its response is handed to that
// request whatever id the server gives it (the SDK re-sends a request under
// a new id). In the stateless era nothing resumes: Send POSTs the message.
func (lc *lifecycle) resumeLocked(token string, p *postSpec) {
	s := lc.newStreamLocked(kindResume, lc.sess)
	s.lastEventID, s.seenID, s.sawID = token, token, true
	s.onToken = p.onToken
	if len(p.ids) == 1 {
		s.replayID = p.ids[0]
	}
	lc.takeRequestLocked(s, p)
	lc.registerLocked(p.ids, s)
	lc.goLocked(func() { s.connectAndServe(0, true) })
}

// takeRequestLocked makes s the stream of p's request: it owes the
// request's OnEnd, and the request's signal aborts it.
func (lc *lifecycle) takeRequestLocked(s *stream, p *postSpec) {
	s.era = p.era
	s.onEnd, p.onEnd = p.onEnd, nil
	if p.signal != nil {
		s.stopSignal = shim.AfterFunc(p.signal, func() { lc.abortRequest(s) })
	}
}

// abortRequest ends the stream s of a request whose SendOptions.Signal
// was aborted: its fetch is aborted (the server sees the disconnect), and
// its requests are withdrawn without an outcome, since their caller
// abandoned them. Nothing is reported.
func (lc *lifecycle) abortRequest(s *stream) {
	lc.t.mu.Lock()
	defer lc.t.mu.Unlock()
	if s.done || lc.closed {
		return
	}
	s.aborted = true
	s.stopSignal = nil // this is its callback, which has run: nothing left to stop
	for id := range s.pending {
		delete(lc.inflight, id)
	}
	clear(s.pending)
	lc.removeStreamLocked(s)
}

// post performs one POST and hands its response to the stream machinery.
func (lc *lifecycle) post(ctx shim.Context, p *postSpec) error {
	t := lc.t
	hctx, cancel := lc.withLifecycle(ctx)
	h, herr := lc.userHeaders(hctx)
	cancel()

	t.mu.Lock()
	// After the hook, which may have been slow: a request of a closed
	// lifecycle is never sent, and an application request waits for a
	// reinitialization that began meanwhile, so that it goes out in the
	// new session instead of in none.
	for gate := lc.reinit; gate != nil && !p.quiet && !p.replay && !lc.closed; gate = lc.reinit {
		t.mu.Unlock()
		select {
		case <-gate:
		case <-ctx.Done():
		case <-lc.ctx.Done():
		}
		t.mu.Lock()
		if ctx.Err() != nil && !lc.closed {
			t.mu.Unlock()
			return shim.Wrap(shim.CodeAborted, ctx.Err())
		}
	}
	if lc.closed {
		t.mu.Unlock()
		return errClosed
	}
	if herr != nil {
		if ctx.Err() != nil {
			t.mu.Unlock()
			return shim.Wrap(shim.CodeAborted, ctx.Err())
		}
		err := asError(herr, shim.CodeNetwork)
		lc.failPostLocked(p, nil, err)
		t.mu.Unlock()
		if p.replay {
			return nil
		}
		return err
	}
	for k, v := range p.header {
		h[k] = v
	}
	h[hdrContentType] = "application/json"
	h[hdrAccept] = "application/json, text/event-stream"
	sess := lc.sess
	sent := lc.protocolHeadersLocked(h, sess, p.era)
	if v := p.header[hdrProtocolVersion]; v != "" {
		h[hdrProtocolVersion] = v // the body's claim
	}
	if p.hs != nil {
		delete(h, hdrProtocolVersion) // as the application's initialize went out
	}
	s := lc.newStreamLocked(kindPost, sess)
	s.onToken, s.hs = p.onToken, p.hs
	lc.takeRequestLocked(s, p)
	if p.replay {
		lc.bindLocked(p.ids, s)
	} else {
		lc.registerLocked(p.ids, s)
	}
	if p.initMsg != "" {
		lc.lastInit = p.initMsg
	}
	t.mu.Unlock()

	// The caller's ctx may abort the POST until its response arrives; the
	// stream that follows belongs to the lifecycle only.
	stop := shim.AfterFunc(ctx, s.cancel)
	resp, err := lc.fetch(s.ctx, lc.request("POST", h, []byte(p.body)))
	callerCancelled := !stop()
	if err != nil {
		if callerCancelled {
			err = shim.Wrap(shim.CodeAborted, ctx.Err())
		}
		e := asError(err, shim.CodeNetwork)
		if e.Code == shim.CodeNetwork {
			pctx, cancel := lc.withLifecycle(ctx)
			if d := lc.diagnosePreflight(pctx, h); d != nil {
				e = d
			}
			cancel()
		}
		return lc.postFailed(s, p, e, callerCancelled)
	}
	t.notePreflightPassed(h, resp)
	if callerCancelled {
		discard(resp)
		return lc.postFailed(s, p, shim.Wrap(shim.CodeAborted, ctx.Err()), true)
	}
	return lc.postResponse(s, p, sess, sent, resp)
}

// postResponse handles the answer to a POST.
func (lc *lifecycle) postResponse(s *stream, p *postSpec, sess *session, sent string, resp *shim.Response) error {
	t := lc.t
	status := resp.Status
	if status == 404 && sent != "" {
		// Judged by status alone: whatever the body says, the session the
		// request carried is gone.
		discard(resp)
		lc.expire(sess, sent, s, p)
		return nil
	}
	if c, err := lc.authDecision(resp, p.auth, "POST"); err != nil {
		err.Message = "Error POSTing to endpoint: " + err.Message
		if text := snippet(resp); text != "" && status == 403 {
			err.Message += ": " + text
		}
		return lc.postFailed(s, p, err, false)
	} else if c != nil {
		discard(resp)
		return lc.postUnauthorized(s, p, c)
	}
	if status < 200 || status > 299 {
		var text string
		if s.era.errorAnswers(status, p.method == methodDiscover) && len(p.ids) == 1 {
			body := readSome(resp, maxErrorBody)
			if answered, err := lc.errorBody(s, p, status, body); answered {
				return err
			}
			text = strings.TrimSpace(body[:min(len(body), 512)])
		} else {
			text = snippet(resp)
		}
		t.mu.Lock()
		hidden := sess.mayBeHidden
		t.mu.Unlock()
		if e := corsStatusError(resp, hidden, sent, text); e != nil {
			return lc.postFailed(s, p, e, false)
		}
		msg := "Error POSTing to endpoint"
		if text != "" {
			msg += ": " + text
		}
		return lc.postFailed(s, p, shim.HTTPError(status, msg), false)
	}

	t.mu.Lock()
	lc.adoptSessionLocked(sess, sent, resp, p.era)
	if lc.sess == sess && p.era.carriesSession() && (p.initMsg != "" || p.hs != nil) {
		lc.noteHiddenSessionLocked(sess, resp)
	}
	if !p.quiet && lc.sess == sess {
		// An application request succeeded in this session (the
		// transport's own handshake messages do not count).
		sess.mayReinit = true
	}
	t.mu.Unlock()

	ct := shim.MediaType(resp.Header.Get(hdrContentType))
	if status == 202 || (len(p.ids) == 0 && p.hs == nil) {
		discard(resp)
		t.mu.Lock()
		// A 202 answers no request: if the message held any, their
		// responses cannot come, so they fail now.
		lc.failStreamLocked(s, jsonrpc.ReasonStreamLost)
		lc.removeStreamLocked(s)
		t.mu.Unlock()
		if p.initialized && p.era.hasStandalone() {
			lc.openStandalone(sess)
		}
		return nil
	}
	switch ct {
	case "text/event-stream":
		t.mu.Lock()
		defer t.mu.Unlock()
		if s.done || lc.closed {
			discard(resp)
			return lc.abandonedLocked(s, p)
		}
		s.state = stateOpen
		body := bodyOf(resp)
		lc.goLocked(func() { s.serve(body, 0) })
		return nil
	case "application/json":
		return lc.jsonResponse(s, p, resp)
	default:
		discard(resp)
		return lc.postFailed(s, p, &shim.Error{Code: shim.CodeUnexpectedContentType, Status: status,
			Message: "Unexpected content type: " + resp.Header.Get(hdrContentType)}, false)
	}
}

// jsonResponse delivers the messages of an application/json response.
// The body is the whole answer: requests it does not answer fail at once.
func (lc *lifecycle) jsonResponse(s *stream, p *postSpec, resp *shim.Response) error {
	limit := lc.t.opts.MaxEventSize
	if limit <= 0 {
		limit = sse.DefaultMaxEventSize
	}
	body := bodyOf(resp)
	data, err := io.ReadAll(io.LimitReader(body, int64(limit)+1))
	body.Close()
	if err == nil && len(data) > limit {
		err = shim.NewError(shim.CodeEventTooLarge, "JSON response larger than MaxEventSize")
	}
	if err != nil {
		return lc.postFailed(s, p, asError(err, shim.CodeNetwork), false)
	}
	msgs, envs, _, perr := parseMessages(string(data))

	t := lc.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if s.done || lc.closed {
		return lc.abandonedLocked(s, p)
	}
	if perr != nil {
		lc.errorLocked(invalidMessage(perr))
	}
	for i := range msgs {
		if s.done {
			break // the handshake's result ends its stream
		}
		s.deliverLocked(msgs[i], envs[i])
	}
	lc.failStreamLocked(s, jsonrpc.ReasonStreamLost)
	lc.removeStreamLocked(s)
	return nil
}

// postFailed settles a POST that got no usable response. Its requests
// are withdrawn and the error returned (and reported, unless quiet), or,
// for a replay, they get made-up responses.
func (lc *lifecycle) postFailed(s *stream, p *postSpec, err *shim.Error, callerCancelled bool) error {
	t := lc.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if s.done || lc.closed {
		lc.withdrawLocked(p.ids, s)
		return lc.abandonedLocked(s, p)
	}
	// Send returns the error: the request's stream never began.
	if p.signal != nil && p.signal.Err() != nil {
		s.aborted = true
	} else {
		s.rejected = !p.replay
	}
	lc.removeStreamLocked(s)
	if callerCancelled {
		lc.withdrawLocked(p.ids, s)
		return err
	}
	lc.failPostLocked(p, s, err)
	if p.replay {
		return nil
	}
	return err
}

// postUnauthorized withdraws a POST that Options.Authorize must answer
// before it is sent again: its requests leave the in-flight table and its
// stream ends without a trace, and the request's OnEnd waits for the
// retry. Nothing is reported: the authorization's outcome will be.
func (lc *lifecycle) postUnauthorized(s *stream, p *postSpec, c *AuthChallenge) error {
	t := lc.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if s.done || lc.closed {
		lc.withdrawLocked(p.ids, s)
		return lc.abandonedLocked(s, p)
	}
	lc.withdrawLocked(p.ids, s)
	p.onEnd, s.onEnd = s.onEnd, nil
	lc.removeStreamLocked(s)
	return &authRetry{challenge: c}
}

// failPostLocked reports err and settles the POST's requests: a replay's
// with made-up responses (Send already returned nil for them), any
// other's by withdrawing them, since the error is returned.
func (lc *lifecycle) failPostLocked(p *postSpec, s *stream, err *shim.Error) {
	if p.replay {
		for _, id := range p.ids {
			lc.failLocked(id, jsonrpc.ReasonSessionExpired)
		}
	} else if s != nil {
		lc.withdrawLocked(p.ids, s)
	}
	if !p.quiet {
		lc.errorLocked(err)
	}
}

// abandonedLocked is the result of a POST whose stream s was removed under
// it: by Close (the caller gets CLOSED), by its signal (ABORTED), or by the
// end of its session, which settled its requests already (nil), or which
// caught a message without requests (ABORTED).
func (lc *lifecycle) abandonedLocked(s *stream, p *postSpec) error {
	switch {
	case lc.closed:
		return errClosed
	case s.aborted:
		return shim.Wrap(shim.CodeAborted, p.signal.Err())
	case len(p.ids) > 0 || p.replay:
		return nil
	default:
		return errSessionEnded
	}
}

var errSessionEnded = shim.NewError(shim.CodeAborted, "the session ended before the message was answered")

// maxErrorBody bounds the body of an error response the transport reads.
const maxErrorBody = 64 << 10

// errorBody handles the body of an HTTP error that may answer a
// stateless-era request (see era.errorAnswers). When the body is the
// request's JSON-RPC error, the server has answered it, so it is delivered
// and the POST succeeds, as with the SDK v2. The server/discover probe is
// also answered by any other JSON-RPC error (a 2025 server's "not
// initialized", id null, takes the probe's id) or, without one, by a
// made-up error with data.reason "http-error": the SDK v2's Client reads
// the same statuses and bodies as a fallback to initialize when its own
// transport throws them. answered is false when the body answers nothing.
func (lc *lifecycle) errorBody(s *stream, p *postSpec, status int, body string) (answered bool, err error) {
	id := p.ids[0]
	msgs, envs, batch, perr := parseMessages(body)
	isError := perr == nil && !batch && envs[0].HasError
	var msg string
	switch {
	case isError && envs[0].ID == id:
		msg = msgs[0]
	case p.method != methodDiscover:
		return false, nil
	case isError && envs[0].ID != "":
		msg = jsonrpc.WithID(msgs[0], envs[0], id)
	default:
		text := strings.TrimSpace(body[:min(len(body), 512)])
		msg = jsonrpc.ErrorResponse(id, jsonrpc.CodeConnectionLost,
			"HTTP "+strconv.Itoa(status)+" to "+methodDiscover+": "+text, jsonrpc.ReasonHTTPError)
	}
	env, err := jsonrpc.Scan(msg)
	if err != nil {
		return false, nil
	}
	t := lc.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if s.done || lc.closed {
		return true, lc.abandonedLocked(s, p)
	}
	s.deliverLocked(msg, env)
	lc.removeStreamLocked(s)
	return true, nil
}

// methodDiscover is the 2026-07-28 version negotiation probe.
const methodDiscover = "server/discover"
