package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esshim/esshim/e2e/faultserver"
)

// TestTransportBackoffNeverBelowRetry: the transport's standalone stream
// primes with `retry: 500` and breaks; its endpoint then answers 503. With
// maxReconnectionDelay at 100 ms, below the server's retry, every attempt
// still waits at least the retry: the cap bounds the growth, never the
// server's value, and the jitter never takes a delay below it.
func TestTransportBackoffNeverBelowRetry(t *testing.T) {
	t.Parallel()
	const retry = 500 * time.Millisecond
	s := startFaultServer(t, faultserver.Exhausted(retry, faultserver.Reply{Status: http.StatusServiceUnavailable}))
	p := newTransportPage(t, s.URL, `{ reconnectionOptions: {
		initialReconnectionDelay: 50, maxReconnectionDelay: 100, reconnectionDelayGrowFactor: 2, maxRetries: 3 } }`)
	eval[bool](p, `(async () => {
		await h.connect();
		while (!h.errorCodes().includes('RECONNECT_EXHAUSTED')) await sleep(10);
		return true;
	})()`)
	gets := attempts(requestsBy(s, http.MethodGet))
	t.Logf("GET gaps %v", gaps(gets))
	require.Len(t, gets, 4, "the first GET and maxRetries attempts")
	for i, g := range gaps(gets) {
		assert.GreaterOrEqual(t, g, retry-clockSlack, "attempt %d waited less than the server's retry", i+1)
	}
}
