//go:build !js

package eventsource

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esshim/esshim/shim"
)

// pushServer streams whatever the test pushes to an open response, until
// the client goes away. push waits until some response has taken the text.
func pushServer(t *testing.T) (srv *server, push func(string)) {
	texts := make(chan string)
	srv = newServer(t, func(req *seenRequest, w http.ResponseWriter, r *http.Request) {
		startStream(w)
		for {
			select {
			case <-r.Context().Done():
				return
			case s := <-texts:
				send(w, s)
			}
		}
	})
	return srv, func(s string) {
		t.Helper()
		select {
		case texts <- s:
		case <-time.After(waitTimeout):
			t.Fatalf("no open response took %q", s)
		}
	}
}

// TestSharedConnection: ten Sources to one URL make one request; all get
// every event; closing nine leaves the last one running; closing the last
// aborts the request.
func TestSharedConnection(t *testing.T) {
	srv, push := pushServer(t)
	pool := NewPool()
	f := fetcher()
	const n = 10
	srcs := make([]*Source, n)
	recs := make([]*recorder, n)
	for i := range srcs {
		recs[i] = &recorder{}
		srcs[i] = pool.Open(Options{URL: srv.URL, Fetcher: f, Reconnect: fast}, recs[i].listener())
	}
	c := connOf(srcs[0])
	for i := range srcs {
		assert.Same(t, c, connOf(srcs[i]), "source %d shares the connection", i)
		recs[i].waitFor(t, "open", 1)
	}
	push("data: 1\n\n")
	for i := range srcs {
		recs[i].waitFor(t, "message:1:", 1)
		assert.Equal(t, []string{"open", "message:1:"}, recs[i].entries(), "source %d", i)
		assert.Equal(t, Open, srcs[i].ReadyState())
	}
	reqs := srv.requests()
	require.Len(t, reqs, 1, "one physical connection")

	for i := 0; i < n-1; i++ {
		srcs[i].Close()
		recs[i].closed.Store(true)
	}
	push("data: 2\n\n")
	last := recs[n-1]
	last.waitFor(t, "message:2:", 1)
	assert.Equal(t, []string{"open", "message:1:", "message:2:"}, last.entries())
	select {
	case <-reqs[0].gone:
		t.Fatal("the connection ended while a Source still uses it")
	default:
	}

	srcs[n-1].Close()
	last.closed.Store(true)
	waitClosed(t, reqs[0].gone, "server to see the disconnect once the last Source closed")
	settle(t, c, srcs[n-1])
	for i := range srcs {
		settle(t, c, srcs[i])
		assert.False(t, recs[i].violation.Load(), "source %d got a callback after Close", i)
		assert.Equal(t, Closed, srcs[i].ReadyState())
	}
	assert.Len(t, srv.requests(), 1)

	// The registry forgot the connection: a new Source connects afresh.
	again := &recorder{}
	fresh := pool.Open(Options{URL: srv.URL, Fetcher: f, Reconnect: fast}, again.listener())
	again.waitFor(t, "open", 1)
	assert.NotSame(t, c, connOf(fresh))
	assert.Len(t, srv.requests(), 2)
	fresh.Close()
}

// TestSharedLateJoiner: a Source created while the shared connection is
// open gets its open callback asynchronously, never inside Pool.Open, and
// the events from then on only.
func TestSharedLateJoiner(t *testing.T) {
	srv, push := pushServer(t)
	pool := NewPool()
	f := fetcher()
	first := &recorder{}
	a := pool.Open(Options{URL: srv.URL, Fetcher: f, Reconnect: fast}, first.listener())
	defer a.Close()
	push("data: early\n\n")
	first.waitFor(t, "message:early:", 1)

	returned := make(chan struct{})
	synchronous := make(chan bool, 1)
	late := &recorder{}
	late.onOpen = func() {
		// Were this call inside Pool.Open, Pool.Open could not return
		// before the timeout.
		select {
		case <-returned:
			synchronous <- false
		case <-time.After(2 * time.Second):
			synchronous <- true
		}
	}
	b := pool.Open(Options{URL: srv.URL, Fetcher: f, Reconnect: fast}, late.listener())
	close(returned)
	defer b.Close()
	assert.False(t, <-synchronous, "open delivered inside Pool.Open")
	assert.Equal(t, Open, b.ReadyState())
	assert.Equal(t, []string{origin(srv.URL)}, late.originList())

	push("data: late\n\n")
	late.waitFor(t, "message:late:", 1)
	first.waitFor(t, "message:late:", 1)
	assert.Equal(t, []string{"open", "message:late:"}, late.entries())
	assert.Equal(t, []string{"open", "message:early:", "message:late:"}, first.entries())
	assert.Len(t, srv.requests(), 1)
}

// TestSharedJoinWhileConnecting: a Source created before the shared
// connection's response arrives just waits for it, with no request of its
// own.
func TestSharedJoinWhileConnecting(t *testing.T) {
	release := make(chan struct{})
	srv := newServer(t, func(req *seenRequest, w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		startStream(w)
		send(w, "data: x\n\n")
		hold(r)
	})
	pool := NewPool()
	f := fetcher()
	recA, recB := &recorder{}, &recorder{}
	a := pool.Open(Options{URL: srv.URL, Fetcher: f, Reconnect: fast}, recA.listener())
	defer a.Close()
	srv.next(t)
	b := pool.Open(Options{URL: srv.URL, Fetcher: f, Reconnect: fast}, recB.listener())
	defer b.Close()
	assert.Equal(t, Connecting, b.ReadyState())
	close(release)

	for _, rec := range []*recorder{recA, recB} {
		rec.waitFor(t, "message:x:", 1)
		assert.Equal(t, []string{"open", "message:x:"}, rec.entries())
	}
	assert.Len(t, srv.requests(), 1)
}

// TestSharedReconnectOnce: when a shared stream ends, every Source gets one
// error with CONNECTING and the connection reconnects once for all of them,
// even when one of them closes in its error handler.
func TestSharedReconnectOnce(t *testing.T) {
	begin, end := make(chan struct{}), make(chan struct{})
	srv := newServer(t, func(req *seenRequest, w http.ResponseWriter, r *http.Request) {
		startStream(w)
		if req.n == 1 {
			// Send only once every Source is on the connection: a Source
			// that joins later would rightly miss the event.
			select {
			case <-begin:
			case <-r.Context().Done():
				return
			}
			send(w, "id: 5\ndata: a\n\n")
			select {
			case <-end:
			case <-r.Context().Done():
			}
			return
		}
		send(w, "data: b\n\n")
		hold(r)
	})
	pool := NewPool()
	f := fetcher()
	recs := []*recorder{{}, {}, {}}
	srcs := make([]*Source, len(recs))
	opened := make(chan struct{})
	quitter := recs[2]
	quitter.onError = func(ReadyState) {
		<-opened
		srcs[2].Close()
		quitter.closed.Store(true)
	}
	for i, rec := range recs {
		srcs[i] = pool.Open(Options{URL: srv.URL, Fetcher: f, Reconnect: fast}, rec.listener())
		defer srcs[i].Close()
	}
	close(opened)
	for _, rec := range recs {
		rec.waitFor(t, "open", 1)
	}
	close(begin)
	for _, rec := range recs {
		rec.waitFor(t, "message:a:5", 1)
	}
	close(end)
	for _, rec := range recs[:2] {
		rec.waitFor(t, "message:b:5", 1)
		assert.Equal(t, []string{"open", "message:a:5", "error:CONNECTING", "open", "message:b:5"}, rec.entries())
	}
	assert.Equal(t, []string{"open", "message:a:5", "error:CONNECTING"}, quitter.entries())
	assert.False(t, quitter.violation.Load())
	reqs := srv.requests()
	require.Len(t, reqs, 2, "one reconnection for all")
	assert.Equal(t, []string{"5"}, reqs[1].header["Last-Event-Id"])
}

// TestSharingRules: which Sources share a connection. Only same-URL GETs
// without body share, and only when everything else about the request and
// the policy is equal too.
func TestSharingRules(t *testing.T) {
	f1, f2 := fetcher(), fetcher()
	funcFetcher := shim.FetcherFunc(func(ctx shim.Context, req *shim.Request) (*shim.Response, error) {
		return f1.Fetch(ctx, req)
	})
	tests := []struct {
		name   string
		a, b   Options // URL and Reconnect are filled in
		shared bool
	}{
		{name: "identical", a: Options{Fetcher: f1}, b: Options{Fetcher: f1}, shared: true},
		{name: "explicit GET, any case", a: Options{Fetcher: f1}, b: Options{Method: "get", Fetcher: f1}, shared: true},
		{name: "same headers, other case", a: Options{Fetcher: f1, Header: shim.Header{"x-a": "1"}},
			b: Options{Fetcher: f1, Header: shim.Header{"X-A": "1"}}, shared: true},
		{name: "explicit default Accept", a: Options{Fetcher: f1},
			b: Options{Fetcher: f1, Header: shim.Header{"Accept": "text/event-stream"}}, shared: true},
		{name: "exclusive", a: Options{Fetcher: f1}, b: Options{Fetcher: f1, Exclusive: true}},
		{name: "both exclusive", a: Options{Fetcher: f1, Exclusive: true}, b: Options{Fetcher: f1, Exclusive: true}},
		{name: "POST", a: Options{Fetcher: f1, Method: "POST"}, b: Options{Fetcher: f1, Method: "POST"}},
		{name: "GET with empty body", a: Options{Fetcher: f1, Body: []byte{}}, b: Options{Fetcher: f1, Body: []byte{}}},
		{name: "other header value", a: Options{Fetcher: f1, Header: shim.Header{"x-a": "1"}},
			b: Options{Fetcher: f1, Header: shim.Header{"x-a": "2"}}},
		{name: "withCredentials", a: Options{Fetcher: f1}, b: Options{Fetcher: f1, WithCredentials: true}},
		{name: "mode", a: Options{Fetcher: f1}, b: Options{Fetcher: f1, Mode: "cors"}},
		{name: "init", a: Options{Fetcher: f1, Init: "x"}, b: Options{Fetcher: f1, Init: "x"}},
		{name: "max event size", a: Options{Fetcher: f1}, b: Options{Fetcher: f1, MaxEventSize: 1024}},
		{name: "other fetcher", a: Options{Fetcher: f1}, b: Options{Fetcher: f2}},
		{name: "uncomparable fetcher", a: Options{Fetcher: funcFetcher}, b: Options{Fetcher: funcFetcher}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := pushServer(t)
			pool := NewPool()
			var srcs []*Source
			for _, o := range []Options{tt.a, tt.b} {
				o.URL, o.Reconnect = srv.URL+"/s", fast
				rec := &recorder{}
				src := pool.Open(o, rec.listener())
				defer src.Close()
				srcs = append(srcs, src)
				rec.waitFor(t, "open", 1)
			}
			if tt.shared {
				assert.Same(t, connOf(srcs[0]), connOf(srcs[1]))
				assert.Len(t, srv.requests(), 1)
			} else {
				assert.NotSame(t, connOf(srcs[0]), connOf(srcs[1]))
				assert.Len(t, srv.requests(), 2)
			}
		})
	}
}

// TestSharedFailureReachesAll: a shared connection that fails gives every
// Source one error with CLOSED, and later Sources start a new connection.
func TestSharedFailureReachesAll(t *testing.T) {
	release := make(chan struct{})
	srv := newServer(t, func(req *seenRequest, w http.ResponseWriter, r *http.Request) {
		if req.n == 1 {
			select { // until every Source has joined
			case <-release:
			case <-r.Context().Done():
			}
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		startStream(w)
		hold(r)
	})
	pool := NewPool()
	f := fetcher()
	recs := make([]*recorder, 3)
	for i := range recs {
		recs[i] = &recorder{}
		src := pool.Open(Options{URL: srv.URL, Fetcher: f, Reconnect: fast}, recs[i].listener())
		defer src.Close()
	}
	close(release)
	for i, rec := range recs {
		rec.waitFor(t, "error:CLOSED", 1)
		assert.Equal(t, []string{"error:CLOSED"}, rec.entries(), "source %d", i)
	}
	again := &recorder{}
	src := pool.Open(Options{URL: srv.URL, Fetcher: f, Reconnect: fast}, again.listener())
	defer src.Close()
	again.waitFor(t, "open", 1)
	assert.Len(t, srv.requests(), 2)
}
