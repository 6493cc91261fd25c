package payload

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/esshim/esshim/shim/sse"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// parse runs body through esshim's SSE parser in one piece.
func parse(t *testing.T, body []byte) []sse.Event {
	t.Helper()
	var events []sse.Event
	p := sse.NewParser(sse.ParserOptions{})
	require.NoError(t, p.Feed(body, func(e sse.Event) { events = append(events, e) }))
	p.End()
	return events
}

func TestFloodEvents(t *testing.T) {
	for _, count := range []int{0, 1, 500} {
		events := parse(t, FloodEvents(count))
		require.Len(t, events, count)
		for i, e := range events {
			var m struct {
				Method string `json:"method"`
				Params struct {
					Data struct {
						Seq int `json:"seq"`
					} `json:"data"`
				} `json:"params"`
			}
			require.NoError(t, json.Unmarshal([]byte(e.Data), &m), "event %d", i)
			assert.Equal(t, "message", e.Type)
			assert.Equal(t, "notifications/message", m.Method)
			assert.Equal(t, i, m.Params.Data.Seq)
		}
	}
}

func TestBigResult(t *testing.T) {
	for _, size := range []int{1000, 1 << 20} {
		raw := BigResult(size)
		assert.NotContains(t, string(raw), "\n", "a result must fit on one data line")
		var r struct {
			Content []struct{ Text string } `json:"content"`
			Meta    struct{ Chars int }     `json:"_meta"`
		}
		require.NoError(t, json.Unmarshal(raw, &r))
		require.Len(t, r.Content, 1)
		text := r.Content[0].Text
		assert.Equal(t, len(utf16.Encode([]rune(text))), r.Meta.Chars, "_meta.chars is the UTF-16 length the page compares")
		assert.GreaterOrEqual(t, len(raw), size)
		assert.Less(t, len(raw), size+200, "about size bytes")
		assert.True(t, strings.HasSuffix(text, `"ok": true}`+"\n"), "the page checks the text's end")
	}
}

func TestEventStream(t *testing.T) {
	tests := []struct{ n, size int }{{1, MinEventSize}, {3, 200}, {1000, 200}}
	for _, tt := range tests {
		events := parse(t, EventStream(tt.n, tt.size))
		require.Len(t, events, tt.n)
		for i, e := range events {
			assert.Len(t, e.Data, tt.size, "event %d", i)
			var v struct{ Seq int }
			require.NoError(t, json.Unmarshal([]byte(e.Data), &v))
			assert.Equal(t, i, v.Seq)
		}
	}
}

func TestCacheBuildsOnce(t *testing.T) {
	var c Cache
	builds := 0
	build := func(n int) []byte { builds++; return []byte(strings.Repeat("x", n)) }
	a := c.Get(3, build)
	b := c.Get(3, build)
	c.Get(4, build)
	assert.Equal(t, "xxx", string(a))
	assert.Same(t, &a[0], &b[0])
	assert.Equal(t, 2, builds)
}
