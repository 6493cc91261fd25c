//go:build js && wasm

package main

import (
	"time"

	"github.com/esshim/esshim/shim"
)

// millis converts a JS millisecond count to a Duration; 0 or less (and NaN)
// stays 0, which the core reads as "use the default", and Infinity or
// anything too large saturates instead of overflowing.
func millis(ms float64) time.Duration { return shim.Milliseconds(ms) }
