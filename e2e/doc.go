// Package e2e holds esshim's real-browser tests: Go tests that drive headless
// Chromium with chromedp against servers they start on 127.0.0.1. They load
// dist/ as a user would, so `make build` must run first (`make e2e` does).
// The servers are the Go SDK's (mcpserver/), the TypeScript SDK's
// (npm/tsserver.mjs, run with Node) and a scripted fault-injection server
// (faultserver/); TestNodeClient also runs the transport under Node.
package e2e
