//go:build js && wasm

package main

import "time"

// millis converts a JS millisecond count to a Duration; 0 or less stays 0,
// which the core reads as "use the default".
func millis(ms float64) time.Duration {
	if ms <= 0 || ms != ms {
		return 0
	}
	return time.Duration(ms * float64(time.Millisecond))
}
