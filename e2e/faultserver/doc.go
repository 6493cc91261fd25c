// Package faultserver is a scripted, fault-injecting MCP server for esshim's
// end-to-end tests.
//
// It speaks just enough of the MCP Streamable HTTP transport (revisions
// 2025-03-26, 2025-06-18 and 2025-11-25) to serve the TypeScript SDK's Client
// and esshim's transport: initialize, notifications/initialized, ping,
// tools/list, tools/call, logging/setLevel, the standalone GET stream,
// resumption by Last-Event-ID, and DELETE. Everything else about it exists to
// misbehave on purpose, the way real servers, proxies and restarts do, and to
// count what the client did in response:
//
//   - A [Config] scripts the faults: a [StreamPlan] per kind of SSE
//     connection (priming event, retry value, where to [Cut] it, idle close),
//     a policy for concurrent standalone GETs, JSON or SSE answers, random
//     drops from a seeded RNG, session expiry with a choice of 404 body, and
//     an Intercept hook that can answer any request by hand.
//   - Methods on [Server] inject faults while a test runs: expire sessions,
//     cut connections, push a notification onto the standalone stream, or
//     change the Config.
//   - The accounting ([Server.Requests], [Server.Connections],
//     [Server.Deliveries], [Server.Sessions], [Server.Counts]) records every
//     request with the session id and Last-Event-ID it carried and which
//     server-side session generation those belong to, every SSE connection
//     with how and when it ended (including the moment the server saw the
//     client go away), and every time a response reached the wire.
//
// Every SSE stream is a log of events that outlives its connections, as in
// the go-sdk: a connection that is cut leaves the stream's later events in
// the log, and a GET carrying one of its event ids as Last-Event-ID replays
// them. Event ids have the form g<generation>-s<stream>-e<index>, so a test
// can tell from any id which session generation it came from.
//
// The package is test infrastructure: it uses encoding/json and net/http
// freely and never reaches the wasm build.
package faultserver
