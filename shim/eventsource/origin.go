package eventsource

import "github.com/esshim/esshim/shim"

// origin serializes the origin of an absolute URL (see shim.Origin).
func origin(rawURL string) string { return shim.Origin(rawURL) }
