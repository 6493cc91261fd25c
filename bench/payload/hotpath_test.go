package payload

import (
	"strconv"
	"testing"

	"github.com/esshim/esshim/shim/jsonrpc"
	"github.com/esshim/esshim/shim/sse"
)

// The benchmarks below run esshim's pure-Go hot path (the SSE parser, and
// for MCP messages the JSON-RPC framing the transport does for each one)
// over the exact bytes the browser figures receive, in the 64 KiB reads
// the transport makes. They run natively:
//
//	go test -run '^$' -bench . ./bench/payload
//
// and, closer to the browser, as wasm in Node's V8:
//
//	PATH=$PATH:$(go env GOROOT)/lib/wasm GOOS=js GOARCH=wasm go test -run '^$' -bench . ./bench/payload
//
// The difference between the two is the cost of Go on wasm (no SIMD, so
// bytes.IndexByte is a byte loop); the difference between the wasm figure
// and the browser figure is the Go↔JS boundary. See bench/README.md.

const readSize = 64 << 10

// resultFrame is one response message as the bench server frames it.
func resultFrame(id int, result []byte) []byte {
	return []byte("event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":" + strconv.Itoa(id) + ",\"result\":" + string(result) + "}\n\n")
}

// feedMCP feeds body to p as the transport does, and frames each message.
func feedMCP(b *testing.B, p *sse.Parser, body []byte) int {
	messages := 0
	dispatch := func(e sse.Event) {
		msgs, _, err := jsonrpc.Split(e.Data)
		if err != nil {
			b.Fatal(err)
		}
		for _, m := range msgs {
			if _, err := jsonrpc.Scan(m); err != nil {
				b.Fatal(err)
			}
			messages++
		}
	}
	for off := 0; off < len(body); off += readSize {
		if err := p.Feed(body[off:min(off+readSize, len(body))], dispatch); err != nil {
			b.Fatal(err)
		}
	}
	p.End()
	p.Reconnect()
	return messages
}

func BenchmarkHotPath(b *testing.B) {
	flood := append(FloodEvents(5000), resultFrame(1, []byte(`{"content":[]}`))...)
	big := resultFrame(2, BigResult(8<<20))
	events := EventStream(20000, 200)
	b.Run("Notifications5000", func(b *testing.B) {
		p := sse.NewParser(sse.ParserOptions{})
		b.SetBytes(int64(len(flood)))
		b.ReportAllocs()
		for b.Loop() {
			if n := feedMCP(b, p, flood); n != 5001 {
				b.Fatalf("%d messages", n)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/5001, "ns/message")
	})
	b.Run("Result8MiB", func(b *testing.B) {
		p := sse.NewParser(sse.ParserOptions{})
		b.SetBytes(int64(len(big)))
		b.ReportAllocs()
		for b.Loop() {
			if n := feedMCP(b, p, big); n != 1 {
				b.Fatalf("%d messages", n)
			}
		}
	})
	b.Run("Result8MiB/ScanOnly", func(b *testing.B) {
		msg := string(big[len("event: message\ndata: ") : len(big)-2])
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			if _, err := jsonrpc.Scan(msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("EventSource20000x200B", func(b *testing.B) {
		p := sse.NewParser(sse.ParserOptions{})
		b.SetBytes(int64(len(events)))
		b.ReportAllocs()
		for b.Loop() {
			n := 0
			for off := 0; off < len(events); off += readSize {
				if err := p.Feed(events[off:min(off+readSize, len(events))], func(sse.Event) { n++ }); err != nil {
					b.Fatal(err)
				}
			}
			p.End()
			p.Reconnect()
			if n != 20000 {
				b.Fatalf("%d events", n)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/20000, "ns/event")
	})
}
