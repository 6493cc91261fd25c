package transport

import "github.com/esshim/esshim/shim/jsonrpc"

// Messages of the made-up error responses, by reason.
var reasonMessages = map[string]string{
	jsonrpc.ReasonStreamLost:        "Connection lost: the stream carrying the response ended and cannot be resumed",
	jsonrpc.ReasonSessionExpired:    "Session expired: the server no longer knows the session (HTTP 404)",
	jsonrpc.ReasonSessionTerminated: "Session terminated before the response arrived",
}

// maxSynthetic bounds how many made-up outcomes a lifecycle remembers in
// order to drop the real responses that might still follow them.
const maxSynthetic = 4096

// registerLocked puts the requests ids in flight, carried by s.
func (lc *lifecycle) registerLocked(ids []string, s *stream) {
	for _, id := range ids {
		r := &request{carrier: s}
		lc.inflight[id] = r
		delete(lc.synthetic, id)
		if s != nil {
			s.pending[id] = struct{}{}
		}
	}
}

// bindLocked moves the in-flight requests ids onto stream s.
func (lc *lifecycle) bindLocked(ids []string, s *stream) {
	for _, id := range ids {
		if r, ok := lc.inflight[id]; ok {
			if r.carrier != nil {
				delete(r.carrier.pending, id)
			}
			r.carrier = s
			s.pending[id] = struct{}{}
		}
	}
}

// settleLocked records that a response with raw id arrived and reports
// whether to deliver it. A response to a request that was already given a
// made-up error is dropped: every request gets exactly one outcome.
// Settling the last request of a POST or resume stream finishes it.
func (lc *lifecycle) settleLocked(id string) bool {
	r, ok := lc.inflight[id]
	if !ok {
		if _, dup := lc.synthetic[id]; dup {
			delete(lc.synthetic, id)
			return false
		}
		return true // not ours to judge: the SDK reports unknown ids
	}
	delete(lc.inflight, id)
	if c := r.carrier; c != nil {
		delete(c.pending, id)
		if len(c.pending) == 0 && c.kind != kindStandalone {
			lc.removeStreamLocked(c)
		}
	}
	return true
}

// failLocked settles the in-flight request id with a made-up error
// response carrying reason.
func (lc *lifecycle) failLocked(id, reason string) {
	r, ok := lc.inflight[id]
	if !ok {
		return
	}
	delete(lc.inflight, id)
	if r.carrier != nil {
		delete(r.carrier.pending, id)
	}
	if len(lc.synthetic) >= maxSynthetic {
		// Forget the oldest judgement rather than grow without bound: a
		// response this late reaches the SDK, which reports an unknown id.
		clear(lc.synthetic)
	}
	lc.synthetic[id] = struct{}{}
	lc.messageLocked(jsonrpc.ErrorResponse(id, jsonrpc.CodeConnectionLost, reasonMessages[reason], reason))
}

// failStreamLocked fails every request s still carries.
func (lc *lifecycle) failStreamLocked(s *stream, reason string) {
	for id := range s.pending {
		lc.failLocked(id, reason)
	}
}

// withdrawLocked takes the requests ids out of flight without an outcome
// message, because the caller reports their fate as an error from Send.
// It returns how many were still in flight.
func (lc *lifecycle) withdrawLocked(ids []string, s *stream) int {
	n := 0
	for _, id := range ids {
		if r, ok := lc.inflight[id]; ok && r.carrier == s {
			delete(lc.inflight, id)
			delete(s.pending, id)
			n++
		}
	}
	return n
}
