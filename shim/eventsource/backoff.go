package eventsource

import "github.com/esshim/esshim/shim"

// newBackoff returns the connection's Backoff: shim's one reconnect policy,
// jittered by the pool's random source so that tests can pin the window.
func newBackoff(opts shim.ReconnectOptions, random func() float64) *shim.Backoff {
	b := shim.NewBackoff(opts)
	b.SetRandom(random)
	return b
}
