// Package eventsource is the Go core of esshim's spec-exact EventSource: the
// WHATWG HTML §9.2 processing model (announce, reestablish and fail the
// connection) on top of any [shim.Fetcher], extended with POST, custom
// headers, bounded jittered backoff and shared connections.
//
// The JS class is a thin layer over this package: it turns [Listener]
// callbacks into open, message and error events on a real EventTarget and
// reads [Source.ReadyState] for its readyState attribute. Everything the spec
// says about timing and ordering is decided here, so that it can be tested
// natively against real HTTP servers.
//
// # Deviations from the letter of the spec
//
//   - The default reconnection time is 3 s, Chromium's value (the spec leaves
//     it to the user agent; Firefox uses 5 s).
//   - Reconnect delays after the first grow, with jitter, while the stream
//     keeps failing without progress (shim's one policy, see
//     [Options].Reconnect). They never drop below the reconnection time: the
//     spec lets a user agent "wait some more" but never less, and
//     conformance suites measure it.
//   - A connection with the application's headers or body that a redirect
//     took to another origin reconnects to its own URL, not where the
//     redirect led, so that those never go to the other origin (see
//     conn.followRedirect).
//   - An event larger than [Options].MaxEventSize fails the connection for
//     good (one error, readyState CLOSED) instead of exhausting memory: a
//     reconnection would only replay the same event.
//   - A response whose Content-Type has a non-UTF-8 charset parameter still
//     opens, because the spec compares only the MIME type essence; Chromium
//     rejects it.
package eventsource
