package sse

import (
	"strconv"
	"strings"
	"testing"
)

// BenchmarkParser measures throughput on the two shapes of stream that
// matter: MCP-style streams of many small JSON events, and one very large
// event (a big tool result) arriving in network-sized chunks.
func BenchmarkParser(b *testing.B) {
	var small strings.Builder
	for i := 0; small.Len() < 1<<20; i++ {
		id := strconv.Itoa(i)
		small.WriteString("event: message\nid: " + id + "\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"," +
			"\"params\":{\"progressToken\":\"tok-" + id + "\",\"progress\":" + id + ",\"total\":100000,\"message\":\"working on step é of the job\"}}\n\n")
	}
	smallEvents := []byte(small.String())
	large := []byte("data: " + strings.Repeat("{\"k\":\"vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv\"}", (8<<20)/86) + "\n\n")

	benchmarks := []struct {
		name      string
		body      []byte
		chunkSize int
	}{
		{"SmallEvents/64KiBChunks", smallEvents, 64 << 10},
		{"SmallEvents/1KiBChunks", smallEvents, 1 << 10},
		{"SmallEvents/100BChunks", smallEvents, 100},
		{"LargeEvent8MiB/64KiBChunks", large, 64 << 10},
	}
	for _, bm := range benchmarks {
		b.Run(bm.name, func(b *testing.B) {
			chunks := fixedChunks(bm.body, bm.chunkSize)
			p := NewParser(ParserOptions{})
			events := 0
			dispatch := func(Event) { events++ }
			b.SetBytes(int64(len(bm.body)))
			b.ReportAllocs()
			for b.Loop() {
				p.Reconnect()
				for _, c := range chunks {
					if err := p.Feed(c, dispatch); err != nil {
						b.Fatal(err)
					}
				}
				p.End()
			}
			b.ReportMetric(float64(events)/float64(b.N), "events/op")
			b.ReportMetric(float64(len(bm.body))*float64(b.N)/float64(events), "B/event")
		})
	}
}
