//go:build !js

package eventsource

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestUnfetchableSchemeFailsAtOnce: a URL that fetch cannot fetch fails the
// connection at once, with one error and no request, however many
// reconnections the policy would allow.
func TestUnfetchableSchemeFailsAtOnce(t *testing.T) {
	for _, url := range []string{"ftp://127.0.0.1/x", "javascript:1", "mailto:a@b", "about:blank"} {
		t.Run(url, func(t *testing.T) {
			f := &countingFetcher{}
			rec := &recorder{}
			src := NewPool().Open(Options{URL: url, Fetcher: f, Reconnect: fast}, rec.listener())
			c := connOf(src)
			rec.waitFor(t, "error:CLOSED", 1)
			settle(t, c, src)
			assert.Equal(t, []string{"error:CLOSED"}, rec.entries())
			assert.Equal(t, int32(0), f.calls.Load(), "fetches")
			assert.Equal(t, Closed, src.ReadyState())
		})
	}
}
