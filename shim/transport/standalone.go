package transport

// openStandalone opens the standalone GET stream of sess unless one exists:
// opens are coalesced, so there is at most one per session at any moment,
// and its reconnects reuse the same stream instead of opening another.
func (lc *lifecycle) openStandalone(sess *session) {
	t := lc.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if lc.closed || lc.sess != sess || sess.noStandalone || lc.standalone != nil {
		return
	}
	s := lc.newStreamLocked(kindStandalone, sess)
	lc.standalone = s
	lc.goLocked(func() { s.connectAndServe(0, true) })
}
