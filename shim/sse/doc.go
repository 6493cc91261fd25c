// Package sse is a streaming WHATWG "event stream interpretation": the
// parser behind both the MCP transport and the EventSource.
//
// It follows HTML §9.2.5 and §9.2.6 to the letter, including the parts that
// hand-written parsers commonly get wrong: replacement characters counted
// exactly as a browser's UTF-8 decoder counts them, one BOM stripped per
// connection, a CR ending one chunk and its LF starting the next, and a last
// event ID committed only when a block ends. Whatever the network does to
// chunk boundaries, the events, the last event ID and the retry value come
// out the same.
//
// The test vectors in ../shared/sse-vectors (relative to the project root)
// are the reference; the tests run all of them under every chunking.
package sse
