package sse

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParserCases(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		want        []Event
		wantRetry   int64 // -1: not set
		wantLastID  string
		description string
	}{
		{name: "retry accepts leading zeros", body: "retry: 007\n", want: []Event{}, wantRetry: 7},
		{name: "retry at int64 max", body: "retry: 9223372036854775807\n", want: []Event{}, wantRetry: 9223372036854775807},
		{name: "retry past int64 is ignored", body: "retry: 5\nretry: 9223372036854775808\n", want: []Event{}, wantRetry: 5},
		{name: "retry with no colon is empty, ignored", body: "retry\n", want: []Event{}, wantRetry: -1},
		{name: "event types that repeat and alternate",
			body: "event: a\ndata: 1\n\nevent: b\ndata: 2\n\nevent: a\ndata: 3\n\ndata: 4\n\nevent: a\ndata: 5\n\n",
			want: []Event{
				{Type: "a", Data: "1"}, {Type: "b", Data: "2"}, {Type: "a", Data: "3"},
				{Type: "message", Data: "4"}, {Type: "a", Data: "5"},
			}, wantRetry: -1},
		{name: "ill-formed UTF-8 in event type and id",
			body: "event: \xFFx\nid: \xE2\x80\ndata: \xF0\x9F\xA6\n\n",
			want: []Event{{Type: "\uFFFDx", Data: "\uFFFD", LastEventID: "\uFFFD"}}, wantRetry: -1, wantLastID: "\uFFFD"},
		{name: "explicit message type", body: "event: message\ndata: x\n\n",
			want: []Event{{Type: "message", Data: "x"}}, wantRetry: -1},
		{name: "id changes and repeats",
			body: "id: 1\ndata: a\n\nid: 1\ndata: b\n\nid: 2\ndata: c\n\nid\ndata: d\n\n",
			want: []Event{
				{Type: "message", Data: "a", LastEventID: "1"}, {Type: "message", Data: "b", LastEventID: "1"},
				{Type: "message", Data: "c", LastEventID: "2"}, {Type: "message", Data: "d"},
			}, wantRetry: -1},
		{name: "a second BOM is content", body: "\xEF\xBB\xBF\xEF\xBB\xBFdata: x\n\ndata: y\n\n",
			want: []Event{{Type: "message", Data: "y"}}, wantRetry: -1},
		{name: "a BOM later in a line is content", body: "data: \xEF\xBB\xBFx\n\n",
			want: []Event{{Type: "message", Data: "\uFEFFx"}}, wantRetry: -1},
		{name: "lone partial BOM before a line end", body: "\xEF\ndata: x\n\n",
			want: []Event{{Type: "message", Data: "x"}}, wantRetry: -1},
		{name: "NUL in data is kept", body: "data: a\x00b\n\n",
			want: []Event{{Type: "message", Data: "a\x00b"}}, wantRetry: -1},
		{name: "CR CR and CRLF CRLF both end an event", body: "data: a\r\rdata: b\r\n\r\n",
			want: []Event{{Type: "message", Data: "a"}, {Type: "message", Data: "b"}}, wantRetry: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(tt.body)
			for _, chunkSize := range []int{1, 2, 3, 5, len(body)} {
				got := parse(ParserOptions{}, [][][]byte{fixedChunks(body, chunkSize)})
				assert.Equal(t, tt.want, got.Events, "chunk size %d", chunkSize)
				assert.Equal(t, tt.wantLastID, got.LastEventID, "chunk size %d", chunkSize)
				if tt.wantRetry < 0 {
					assert.False(t, got.RetrySet, "chunk size %d", chunkSize)
				} else {
					assert.True(t, got.RetrySet, "chunk size %d", chunkSize)
					assert.Equal(t, tt.wantRetry, got.Retry, "chunk size %d", chunkSize)
				}
			}
		})
	}
}

// TestReconnect checks what a new connection keeps (last event ID, retry)
// and what it drops (the partial line and event, the CR state, the BOM
// having been seen).
func TestReconnect(t *testing.T) {
	p := NewParser(ParserOptions{})
	var got []Event
	collect := func(e Event) { got = append(got, e) }

	require.NoError(t, p.Feed([]byte("\xEF\xBB\xBFretry: 5\nid: 9\n\nevent: x\nid: 10\ndata: partial\ndata: more"), collect))
	assert.Empty(t, got)
	assert.Equal(t, "9", p.LastEventID())
	p.End()
	assert.Equal(t, "9", p.LastEventID(), "the unterminated event's id is not committed")

	p.Reconnect()
	require.NoError(t, p.Feed([]byte("\xEF\xBB"), collect))
	require.NoError(t, p.Feed([]byte("\xBFdata: y\n\n"), collect))
	assert.Equal(t, []Event{{Type: "message", Data: "y", LastEventID: "9"}}, got,
		"the BOM is stripped again; type, data and id of the dropped event are gone")
	ms, ok := p.Retry()
	assert.True(t, ok)
	assert.Equal(t, int64(5), ms)

	// Reconnect without End, in the middle of a line.
	require.NoError(t, p.Feed([]byte("data: lost\nda"), collect))
	p.Reconnect()
	require.NoError(t, p.Feed([]byte("ta: z\n\n"), collect))
	assert.Len(t, got, 1, `"ta: z" is an unknown field on the new connection`)
	require.NoError(t, p.Feed([]byte("data: z\n\n"), collect))
	assert.Equal(t, Event{Type: "message", Data: "z", LastEventID: "9"}, got[1])
}

// TestDispatchMayReconnect checks that a dispatch callback that ends or
// restarts the stream stops the chunk being parsed: the rest of it belongs
// to the connection given up.
func TestDispatchMayReconnect(t *testing.T) {
	for _, stop := range []struct {
		name string
		call func(*Parser)
	}{
		{"End", (*Parser).End},
		{"Reconnect", (*Parser).Reconnect},
	} {
		t.Run(stop.name, func(t *testing.T) {
			p := NewParser(ParserOptions{})
			var got []string
			dispatch := func(e Event) {
				got = append(got, e.Data)
				if e.Data == "stop" {
					stop.call(p)
				}
			}
			require.NoError(t, p.Feed([]byte("data: a\n\ndata: stop\n\ndata: dropped\n\nid: 3\n\n"), dispatch))
			assert.Equal(t, []string{"a", "stop"}, got)
			assert.Empty(t, p.LastEventID())
			if stop.name == "End" {
				p.Reconnect()
			}
			require.NoError(t, p.Feed([]byte("data: b\n\n"), dispatch))
			assert.Equal(t, []string{"a", "stop", "b"}, got)
		})
	}
}

// TestLongLineAllocations checks that a line arriving in many chunks is not
// re-copied or re-allocated per chunk: the data buffer doubles.
func TestLongLineAllocations(t *testing.T) {
	const size = 4 << 20
	body := []byte("data: " + strings.Repeat("x", size) + "\n\n")
	chunks := fixedChunks(body, 1000)
	p := NewParser(ParserOptions{})
	var n int
	allocs := testing.AllocsPerRun(3, func() {
		p.Reconnect()
		for _, c := range chunks {
			if err := p.Feed(c, func(e Event) { n += len(e.Data) }); err != nil {
				panic(err)
			}
		}
	})
	assert.Equal(t, 4*size, n)
	// About log2(4 MiB / 512 B) = 13 doublings plus the Data string.
	t.Logf("%.0f allocations", allocs)
	assert.Less(t, allocs, 20.0, "allocations for one %d-byte line in %d chunks", size, len(chunks))
}

// TestLargeEventsKeepTheirData checks the hand-over of a data buffer too
// large to reuse (see takeData): each event's Data must stay what it was
// while the parser goes on to fill a new buffer with the next events, small
// and large, in chunks that split lines anywhere.
func TestLargeEventsKeepTheirData(t *testing.T) {
	large := func(c byte, n int) string { return strings.Repeat(string(c), n) }
	tests := []struct {
		name  string
		datas []string
		chunk int
	}{
		{"two large events", []string{large('a', 3<<20), large('b', 3<<20)}, 64 << 10},
		{"large, small, large", []string{large('a', 2<<20), "small", large('c', 2<<20+7)}, 10007},
		{"multi-line large event", []string{large('x', 1<<20) + "\n" + large('y', 1<<20), "after"}, 4096},
		{"just over the retained size", []string{large('a', retainedBufferCap+1), large('b', retainedBufferCap+1)}, 1 << 20},
		{"small events reuse the buffer", []string{"first", "other", large('z', 64)}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body strings.Builder
			for _, d := range tt.datas {
				for _, line := range strings.Split(d, "\n") {
					body.WriteString("data: " + line + "\n")
				}
				body.WriteString("\n")
			}
			p := NewParser(ParserOptions{})
			var got []string
			for _, c := range fixedChunks([]byte(body.String()), tt.chunk) {
				require.NoError(t, feedOwned(p, c, func(e Event) { got = append(got, e.Data) }))
			}
			require.Len(t, got, len(tt.datas))
			for i := range tt.datas {
				assert.True(t, got[i] == tt.datas[i], "event %d changed after dispatch", i)
			}
		})
	}
}

func TestSeededLastEventID(t *testing.T) {
	p := NewParser(ParserOptions{LastEventID: "41"})
	var got []Event
	require.NoError(t, p.Feed([]byte("data: a\n\nid: 42\ndata: b\n\n"), func(e Event) { got = append(got, e) }))
	assert.Equal(t, []Event{{Type: "message", Data: "a", LastEventID: "41"}, {Type: "message", Data: "b", LastEventID: "42"}}, got)
	assert.Equal(t, "42", p.LastEventID())
}
