// Package transport is the connection manager of the MCP Streamable HTTP
// client transport: the Go core behind esshim's StreamableHTTPClientTransport,
// with the semantics of the TypeScript SDK's transport of the same name.
//
// # Lifecycles
//
// Everything a started transport owns (session, streams, in-flight
// requests, timers, goroutines, the last initialize request) lives in one
// lifecycle struct. Start creates a new one and Close cancels it whole, so
// no field can survive a restart by being forgotten, and every goroutine,
// timer and fetch checks its own lifecycle (never "the current one") before
// it acts. A timer or a pending headers hook of a closed lifecycle can
// therefore never send anything into the next one.
//
// # Callbacks
//
// Handler functions are called in order, one at a time, never under a lock.
// Events are queued by the goroutine that produced them, together with the
// state change they belong to, and delivered by a dispatcher goroutine owned
// by the Transport. Callbacks may call any method synchronously: Close from
// inside a callback queues the lifecycle's Close callback right behind the
// running one, and the channel Close returns never waits for a callback, so
// even a callback that blocks on it cannot deadlock. Close called while no
// callback runs delivers Handler.Close before it returns, as the TypeScript
// SDK calls onclose inside close(). Events of a closed lifecycle that are
// still queued are dropped: nothing of a closed lifecycle reaches the
// application after its Close callback.
//
// # Outcomes
//
// Every request passed to Send gets exactly one outcome: its response
// through Handler.Message, a made-up JSON-RPC error response through
// Handler.Message (data.reason "stream-lost", "session-expired" or
// "session-terminated"), or an error returned by Send. Close is the one
// exception: after it, the SDK's own onclose handling settles what is left.
package transport
