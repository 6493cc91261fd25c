// Package payload builds the bodies that the benchmark's servers send: the
// MCP notifications, the large tool result and the EventSource stream. The
// server (package main) sends them, and the benchmarks of this package feed
// the same bytes to esshim's parser and scanner, natively and as wasm, so
// both see exactly what the browser figures measure.
package payload

import (
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"
)

// Cache builds each large body once per size: building an 8 MB
// result takes longer than sending it, and the server's time must not be
// part of the figures.
type Cache struct {
	mu sync.Mutex
	m  map[int][]byte
}

// Get returns the body for n, building it on the first call.
func (c *Cache) Get(n int, build func(int) []byte) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if b, ok := c.m[n]; ok {
		return b
	}
	if c.m == nil {
		c.m = map[int][]byte{}
	}
	b := build(n)
	c.m[n] = b
	return b
}

// FloodEvents is count notifications/message as SSE events, about 170
// bytes each: the shape of a server that logs or reports progress while a
// tool runs.
func FloodEvents(count int) []byte {
	var b strings.Builder
	for i := range count {
		n := strconv.Itoa(i)
		b.WriteString(`event: message` + "\n" + `data: {"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","logger":"bench","data":{"seq":`)
		b.WriteString(n)
		b.WriteString(`,"text":"step ` + n + ` of ` + strconv.Itoa(count) + `: processed the next batch of records"}}}` + "\n\n")
	}
	return []byte(b.String())
}

// BigResult is a CallToolResult whose text is about size bytes once
// encoded: lines of a JSON-ish report with quotes, tabs and non-ASCII
// characters, as a file or a query result would be, so the encoded string
// carries escapes. _meta.chars is the text's length in UTF-16 code units,
// which the page compares with what it received.
func BigResult(size int) []byte {
	var text strings.Builder
	encodedSize := 0
	for i := 0; encodedSize < size; i++ {
		line := `{"row": ` + strconv.Itoa(i) + `, "name": "item-` + strconv.Itoa(i) + `", "city": "Zürich", "note": "naïve café ☕",` + "\t" + `"ok": true}` + "\n"
		text.WriteString(line)
		// Each " becomes \", the tab and the newline \t and \n.
		encodedSize += len(line) + strings.Count(line, `"`) + 2
	}
	encoded, err := json.Marshal(text.String())
	if err != nil {
		panic(err)
	}
	chars := len(utf16.Encode([]rune(text.String())))
	return []byte(`{"content":[{"type":"text","text":` + string(encoded) + `}],"_meta":{"chars":` + strconv.Itoa(chars) + `}}`)
}

// EventStream is n SSE message events whose data is exactly size bytes:
// {"seq":i,"pad":"xxx…"} padded out, so the page can check order and count.
// size must be at least MinEventSize, and n at most a million.
func EventStream(n, size int) []byte {
	if size < MinEventSize || n > 1e6 {
		panic("payload: EventStream wants size >= MinEventSize and n <= 1e6")
	}
	var b strings.Builder
	b.Grow(n * (size + 8))
	for i := range n {
		head := `{"seq":` + strconv.Itoa(i) + `,"pad":"`
		pad := size - len(head) - 2
		b.WriteString("data: ")
		b.WriteString(head)
		b.WriteString(strings.Repeat("x", pad))
		b.WriteString("\"}\n\n")
	}
	return []byte(b.String())
}

// MinEventSize is the smallest data size EventStream can pad to.
const MinEventSize = len(`{"seq":999999,"pad":""}`)
