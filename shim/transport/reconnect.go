package transport

import (
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/esshim/esshim/shim"
	"github.com/esshim/esshim/shim/jsonrpc"
)

// scheduleLocked arms the stream's reconnect timer, or gives up after
// MaxRetries attempts without progress. Every reconnect goes through the
// timer and Backoff, whose delays never drop to zero: a server that
// accepts and closes at once is retried on the backoff, not in a loop.
// It runs on the goroutine serving s, which owns its backoff.
func (s *stream) scheduleLocked() {
	lc := s.lc
	delay, ok := s.backoff.Next(s.retryBase, s.retryBase > 0)
	if !ok {
		lc.errorLocked(&shim.Error{
			Code:    shim.CodeReconnectExhausted,
			Message: "maximum reconnection attempts (" + strconv.Itoa(lc.t.opts.Reconnect.MaxRetries) + ") exceeded for " + s.kind + " stream",
		})
		lc.failStreamLocked(s, jsonrpc.ReasonStreamLost)
		lc.removeStreamLocked(s)
		return
	}
	s.state = stateReconnecting
	s.timer = lc.afterLocked(delay, s.backoff.Attempts()-1, func() { s.connectAndServe(delay, false) })
}

// connectAndServe opens the stream by GET and serves it. first is false
// for reconnects, which Snapshot counts.
func (s *stream) connectAndServe(delay time.Duration, first bool) {
	if body := s.connect(first); body != nil {
		s.serve(body, delay)
	}
}

// connect performs one GET for the stream. It returns the body of a good
// response; on failure it has already decided what follows (retry, give
// up, expire the session) and returns nil.
func (s *stream) connect(first bool) io.ReadCloser {
	lc := s.lc
	t := lc.t
	h, herr := lc.userHeaders(s.ctx)

	t.mu.Lock()
	// After the hook, which may have been slow: a stream of a closed
	// lifecycle, or one removed meanwhile, never sends its request.
	if s.done || lc.closed {
		t.mu.Unlock()
		return nil
	}
	if herr != nil {
		s.failedAttemptLocked(asError(herr, shim.CodeNetwork))
		t.mu.Unlock()
		return nil
	}
	h[hdrAccept] = "text/event-stream"
	sent := lc.protocolHeadersLocked(h, s.sess, s.era)
	if s.lastEventID != "" {
		h[hdrLastEventID] = s.lastEventID
	}
	s.state = stateConnecting
	if !first {
		s.reconnects++
	}
	t.mu.Unlock()

	resp, err := lc.fetch(s.ctx, lc.request("GET", h, nil))
	if err != nil {
		t.mu.Lock()
		if !s.done && !lc.closed {
			s.failedAttemptLocked(asError(err, shim.CodeNetwork))
		}
		t.mu.Unlock()
		return nil
	}
	t.notePreflightPassed(h, resp)
	status := resp.Status
	if c, err := lc.authDecision(resp, &s.auth, "GET"); err != nil || c != nil {
		discard(resp)
		return s.unauthorized(c, err, first)
	}
	switch {
	case status == 404 && sent != "":
		discard(resp)
		lc.expire(s.sess, sent, s, nil)
		return nil
	case status == 405:
		// The server offers no GET stream: not an error, and no retry.
		discard(resp)
		t.mu.Lock()
		if !s.done && !lc.closed {
			if s.kind == kindStandalone {
				s.sess.noStandalone = true
			} else {
				lc.failStreamLocked(s, jsonrpc.ReasonStreamLost)
			}
			lc.removeStreamLocked(s)
		}
		t.mu.Unlock()
		return nil
	case status < 200 || status > 299:
		discard(resp)
		t.mu.Lock()
		if !s.done && !lc.closed {
			e := corsStatusError(resp, s.sess.mayBeHidden, sent, statusText(resp))
			if e == nil {
				e = shim.HTTPError(status, "Failed to open SSE stream: "+statusText(resp))
			}
			s.failedAttemptLocked(e)
		}
		t.mu.Unlock()
		return nil
	case shim.MediaType(resp.Header.Get(hdrContentType)) != "text/event-stream":
		ct := resp.Header.Get(hdrContentType)
		discard(resp)
		t.mu.Lock()
		if !s.done && !lc.closed {
			s.failedAttemptLocked(&shim.Error{Code: shim.CodeUnexpectedContentType, Status: status,
				Message: "Unexpected content type for SSE stream: " + ct})
		}
		t.mu.Unlock()
		return nil
	}
	s.parser.Reconnect()
	t.mu.Lock()
	if s.done || lc.closed {
		t.mu.Unlock()
		discard(resp)
		return nil
	}
	s.state = stateOpen
	s.auth = authTries{}
	t.mu.Unlock()
	return bodyOf(resp)
}

// unauthorized follows a GET refused for authorization: after
// Options.Authorize answered c, the stream connects again at once (the
// refusal was no failure of the server); when it cannot (err, or the
// flow failed), the stream ends, as the SDK's GET ends with what its auth
// throws: a standalone stream is not retried, a resumed one's requests
// fail.
func (s *stream) unauthorized(c *AuthChallenge, err *shim.Error, first bool) io.ReadCloser {
	lc := s.lc
	if c != nil && lc.authorize(s.ctx, c) == nil {
		return s.connect(first)
	}
	t := lc.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if s.done || lc.closed {
		return nil
	}
	if err != nil {
		err.Message = "Failed to open SSE stream: " + err.Message
		lc.errorLocked(err)
	}
	if s.kind != kindStandalone {
		lc.failStreamLocked(s, jsonrpc.ReasonStreamLost)
	}
	lc.removeStreamLocked(s)
	return nil
}

// failedAttemptLocked reports a failed connection attempt and schedules
// the next.
func (s *stream) failedAttemptLocked(err *shim.Error) {
	s.lc.errorLocked(err)
	s.scheduleLocked()
}

// bodyOf returns the response body, empty when the fetcher gave none.
func bodyOf(resp *shim.Response) io.ReadCloser {
	if resp.Body == nil {
		return io.NopCloser(strings.NewReader(""))
	}
	return resp.Body
}

// discard releases a response whose body does not matter.
func discard(resp *shim.Response) {
	if resp.Body != nil {
		resp.Body.Close()
	}
}

// snippet reads the start of an error response's body for the message.
func snippet(resp *shim.Response) string {
	return strings.TrimSpace(readSome(resp, 512))
}

// readSome reads and closes the body, up to limit bytes of it.
func readSome(resp *shim.Response, limit int) string {
	if resp.Body == nil {
		return ""
	}
	defer resp.Body.Close()
	buf := make([]byte, limit)
	n, _ := io.ReadFull(resp.Body, buf)
	return string(buf[:n])
}

func statusText(resp *shim.Response) string {
	if resp.StatusText != "" {
		return resp.StatusText
	}
	return "HTTP " + strconv.Itoa(resp.Status)
}
