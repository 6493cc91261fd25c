//go:build !js

package transport

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// notificationsServer answers a tools/call with n progress notifications
// and then a result of size bytes, all on one SSE stream.
func notificationsServer(t testing.TB, n, size int) *testServer {
	big := strings.Repeat("x", size)
	return newServer(t, func(w http.ResponseWriter, r *http.Request, q seen) {
		s := startSSE(w, "")
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progress\":%d}}\n\n", i)
		}
		_, _ = s.w.Write([]byte(b.String()))
		s.event("done", result(q.ID, big), 0)
	})
}

// TestDeliveryInOrder: 5,000 notifications and an 8 MB result on one POST
// stream arrive complete and in order, one by one through Message, or in
// runs through Messages, never through both.
func TestDeliveryInOrder(t *testing.T) {
	const n, size = 5000, 8 << 20
	for _, batched := range []bool{false, true} {
		t.Run(fmt.Sprintf("batched=%v", batched), func(t *testing.T) {
			ts := notificationsServer(t, n, size)
			var mu sync.Mutex
			var got []string
			calls := 0
			done := make(chan struct{})
			receive := func(ms ...string) {
				mu.Lock()
				defer mu.Unlock()
				calls++
				got = append(got, ms...)
				if len(got) == n+1 {
					close(done)
				}
			}
			h := Handler{Message: func(m string) { receive(m) }}
			if batched {
				h.Message = func(string) { t.Error("Message called although Messages is set") }
				h.Messages = func(ms []string) { receive(ms...) }
			}
			tr := newTransport(t, ts, nil, Options{Handler: h})
			require.NoError(t, tr.Send(t.Context(), rpcRequest(1, "tools/call"), SendOptions{}))
			<-done
			mu.Lock()
			defer mu.Unlock()
			for i := range n {
				require.Contains(t, got[i], fmt.Sprintf(`"progress":%d}`, i))
			}
			last := decode(t, got[n])
			assert.Equal(t, "1", string(last.ID))
			assert.Greater(t, len(got[n]), size)
			if !batched {
				assert.Equal(t, n+1, calls)
			}
		})
	}
}

func BenchmarkNotifications5000(b *testing.B) {
	benchmarkDelivery(b, 5000, 10)
}

func BenchmarkResult8MB(b *testing.B) {
	benchmarkDelivery(b, 0, 8<<20)
}

func benchmarkDelivery(b *testing.B, n, size int) {
	ts := notificationsServer(b, n, size)
	done := make(chan struct{}, 1)
	count := 0
	tr := New(Options{URL: ts.URL, Fetcher: newFetcher(ts), Handler: Handler{Message: func(string) {
		count++
		if count == n+1 {
			count = 0
			done <- struct{}{}
		}
	}}})
	require.NoError(b, tr.Start())
	defer tr.Close()
	for i := 0; b.Loop(); i++ {
		require.NoError(b, tr.Send(b.Context(), rpcRequest(i, "tools/call"), SendOptions{}))
		<-done
	}
}
