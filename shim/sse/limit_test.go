package sse

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esshim/esshim/shim"
)

func TestMaxEventSize(t *testing.T) {
	const limit = 1024
	dataLines := func(n int, value string) string {
		return strings.Repeat("data: "+value+"\n", n) + "\n"
	}
	tests := []struct {
		name    string
		limit   int
		body    string
		want    []Event // dispatched before the error, if any
		wantErr bool
	}{
		{name: "long data line", limit: limit,
			body: "data: ok\n\ndata: " + strings.Repeat("x", 2*limit) + "\n\n", wantErr: true,
			want: []Event{{Type: "message", Data: "ok"}}},
		{name: "many data lines", limit: limit,
			body: dataLines(100, "0123456789"), wantErr: true},
		{name: "data just under the limit", limit: limit,
			body: "data: " + strings.Repeat("x", limit-1) + "\n\n",
			want: []Event{{Type: "message", Data: strings.Repeat("x", limit-1)}}},
		{name: "data exactly at the limit", limit: limit,
			body: "data: " + strings.Repeat("x", limit) + "\n\n",
			want: []Event{{Type: "message", Data: strings.Repeat("x", limit)}}},
		{name: "data one byte over the limit", limit: limit,
			body: "data: " + strings.Repeat("x", limit+1) + "\n\n", wantErr: true},
		{name: "data lines whose LFs reach the limit", limit: 10,
			body: dataLines(5, "x") + dataLines(5, "y"), // "x\nx\nx\nx\nx" is 9 bytes
			want: []Event{{Type: "message", Data: "x\nx\nx\nx\nx"}, {Type: "message", Data: "y\ny\ny\ny\ny"}}},
		{name: "data lines whose LFs pass the limit", limit: 10,
			body: dataLines(6, "x"), wantErr: true}, // "x\nx\nx\nx\nx\nx" is 11 bytes
		{name: "many events each under the limit", limit: limit,
			body: strings.Repeat("data: "+strings.Repeat("x", limit/2)+"\n\n", 50),
			want: repeatEvent(Event{Type: "message", Data: strings.Repeat("x", limit/2)}, 50)},
		{name: "replacement characters count, not raw bytes", limit: 10,
			body: "data: \xFF\xFF\xFF\xFF\n\n", wantErr: true}, // 4 bytes decode to 12
		{name: "incomplete sequence ending an unterminated line does not count", limit: 10,
			body: "data: 123456789\xE2\x82"}, // 9 bytes + 2 held by the decoder, discarded at End
		{name: "incomplete sequence ending a line counts as its U+FFFD", limit: 10,
			body: "data: 1234567\xE2\x82\n\ndata: 12345678\xE2\x82\n\n", wantErr: true,
			want: []Event{{Type: "message", Data: "1234567\uFFFD"}}},
		{name: "long id line", limit: 64,
			body: "id: " + strings.Repeat("1", 100) + "\ndata: x\n\n", wantErr: true},
		{name: "long event line", limit: 64,
			body: "event: " + strings.Repeat("e", 100) + "\ndata: x\n\n", wantErr: true},
		{name: "long retry line", limit: 64,
			body: "retry: " + strings.Repeat("1", 100) + "\ndata: x\n\n", wantErr: true},
		{name: "id line plus data over the limit", limit: 64,
			body: "data: " + strings.Repeat("x", 40) + "\nid: " + strings.Repeat("1", 30) + "\n\n", wantErr: true},
		{name: "long comment is skipped, not buffered", limit: 64,
			body: ":" + strings.Repeat("c", 100*limit) + "\ndata: ok\n\n",
			want: []Event{{Type: "message", Data: "ok"}}},
		{name: "long unknown field is skipped, not buffered", limit: 64,
			body: "foo: " + strings.Repeat("u", 100*limit) + "\ndata: ok\n\n",
			want: []Event{{Type: "message", Data: "ok"}}},
		{name: "long line without colon is skipped, not buffered", limit: 64,
			body: strings.Repeat("u", 100*limit) + "\ndata: ok\n\n",
			want: []Event{{Type: "message", Data: "ok"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, chunkSize := range []int{1, 7, 100, len(tt.body)} {
				got := parse(ParserOptions{MaxEventSize: tt.limit}, [][][]byte{fixedChunks([]byte(tt.body), chunkSize)})
				if tt.wantErr {
					assert.Equal(t, shim.CodeEventTooLarge, got.Err, "chunk size %d", chunkSize)
				} else {
					assert.Empty(t, got.Err, "chunk size %d", chunkSize)
				}
				want := tt.want
				if want == nil {
					want = []Event{}
				}
				assert.Equal(t, want, got.Events, "chunk size %d", chunkSize)
			}
		})
	}
}

func repeatEvent(e Event, n int) []Event {
	out := make([]Event, n)
	for i := range out {
		out[i] = e
	}
	return out
}

func TestMaxEventSizeDefault(t *testing.T) {
	p := NewParser(ParserOptions{})
	var got []Event
	collect := func(e Event) { got = append(got, e) }
	value := strings.Repeat("x", DefaultMaxEventSize)
	require.NoError(t, p.Feed([]byte("data: "+value+"\n\n"), collect))
	require.Len(t, got, 1)
	assert.Len(t, got[0].Data, DefaultMaxEventSize)

	err := p.Feed([]byte("data: "+value+"x\n\n"), collect)
	assert.True(t, errors.Is(err, shim.ErrEventTooLarge), "got %v", err)
	assert.Len(t, got, 1)
}

// TestEventTooLargeIsSticky checks that an oversized event ends the
// connection's parse, and that Reconnect starts afresh with the last event
// ID and retry value kept.
func TestEventTooLargeIsSticky(t *testing.T) {
	p := NewParser(ParserOptions{MaxEventSize: 16})
	var got []Event
	collect := func(e Event) { got = append(got, e) }

	require.NoError(t, p.Feed([]byte("retry: 70\nid: 5\ndata: a\n\ndata: "), collect))
	err := p.Feed([]byte(strings.Repeat("x", 17)), collect)
	require.Error(t, err)
	assert.True(t, errors.Is(err, shim.ErrEventTooLarge))
	var shimErr *shim.Error
	require.ErrorAs(t, err, &shimErr)
	assert.Equal(t, shim.CodeEventTooLarge, shimErr.Code)
	assert.Contains(t, shimErr.Message, "16 bytes")

	err = p.Feed([]byte("\n\ndata: b\n\n"), collect)
	assert.True(t, errors.Is(err, shim.ErrEventTooLarge), "the parser stays failed until Reconnect")
	assert.Equal(t, []Event{{Type: "message", Data: "a", LastEventID: "5"}}, got)

	p.Reconnect()
	require.NoError(t, p.Feed([]byte("data: c\n\n"), collect))
	assert.Equal(t, []Event{
		{Type: "message", Data: "a", LastEventID: "5"},
		{Type: "message", Data: "c", LastEventID: "5"},
	}, got)
	ms, ok := p.Retry()
	assert.True(t, ok)
	assert.Equal(t, int64(70), ms)
}

// TestDataBufferStaysWithinTheBound: the data buffer of a line that
// streams in 64 KiB chunks never takes more than the bound (plus the few
// bytes a final LF and an incomplete sequence need), nor leaves a trail of
// doublings as large as itself: past a quarter of the bound it goes to the
// bound at once. In a wasm memory that never shrinks, a buffer just past
// half the bound used to double to twice the bound.
func TestDataBufferStaysWithinTheBound(t *testing.T) {
	const limit = 4 << 20
	chunk := []byte(strings.Repeat("x", 64<<10))
	for _, size := range []int{limit - 7, limit, limit + 3, limit + 64<<10, 2*limit + 1} {
		p := NewParser(ParserOptions{MaxEventSize: limit})
		var got []Event
		keep := func(e Event) { got = append(got, e) }
		require.NoError(t, p.Feed([]byte("data: "), keep))
		allocated, last := 0, 0
		var err error
		for n := 0; n < size && err == nil; n += len(chunk) {
			err = p.Feed(chunk[:min(len(chunk), size-n)], keep)
			if c := cap(p.data); c != last {
				allocated += c
				last = c
			}
			assert.LessOrEqual(t, cap(p.data), limit+4, "size %d: buffer capacity", size)
		}
		if err == nil {
			err = p.Feed([]byte("\n\n"), keep)
		}
		assert.Equal(t, size > limit, err != nil, "size %d: EVENT_TOO_LARGE", size)
		if size <= limit {
			require.Len(t, got, 1)
			assert.Len(t, got[0].Data, size)
		}
		assert.LessOrEqual(t, allocated, limit+limit/2, "size %d: bytes allocated for the buffer", size)
	}
}
