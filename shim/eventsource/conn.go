package eventsource

import (
	"errors"
	"io"
	"time"

	"github.com/esshim/esshim/shim"
	"github.com/esshim/esshim/shim/sse"
)

// readBufferSize is the most one body read asks for. The browser adapter
// hands over whole ReadableStream chunks up to this size, and each read
// becomes one batch of events.
const readBufferSize = 64 << 10

// conn is one physical connection and its reconnect loop, serving one or
// more Sources. Its goroutine owns the parser and the backoff; everything
// else it shares with Pool.Open and Source.Close is guarded by pool.mu.
type conn struct {
	pool    *Pool
	key     string // share key; "" for an exclusive connection
	fetcher shim.Fetcher
	request shim.Request // template: method, URL, headers, body, ...
	backoff *shim.Backoff
	parser  *sse.Parser
	initial time.Duration // reconnection time until the stream sets retry
	// home is the origin of the URL the application gave, and appData
	// whether it gave headers or a body for it (see followRedirect).
	home    string
	appData bool

	// ctx is cancelled when the last Source closes, and when the
	// connection fails; it aborts the fetch, the body read and the timer.
	ctx    shim.Context
	cancel shim.CancelFunc
	exited chan struct{} // closed when run returns

	// Guarded by pool.mu.
	subs   []*Source
	open   bool   // announced and not yet dropped
	origin string // of the current connection's response URL
	done   bool   // failed or abandoned, and out of the registry
}

func newConn(p *Pool, o *Options, key string) *conn {
	method := o.Method
	if method == "" {
		method = "GET"
	}
	credentials := "same-origin"
	if o.WithCredentials {
		credentials = "include"
	}
	reconnect := o.reconnectOptions()
	ctx, cancel := shim.WithCancel(shim.Background())
	return &conn{
		pool:    p,
		key:     key,
		fetcher: o.Fetcher,
		request: shim.Request{
			Method:      method,
			URL:         o.URL,
			Header:      requestHeader(o.Header),
			Body:        o.Body,
			Credentials: credentials,
			Mode:        o.Mode,
			Init:        o.Init,
		},
		backoff: newBackoff(reconnect, p.random),
		parser:  sse.NewParser(sse.ParserOptions{MaxEventSize: o.maxEventSize()}),
		initial: reconnect.InitialDelay,
		home:    origin(o.URL),
		appData: len(o.Header) > 0 || o.Body != nil,
		ctx:     ctx,
		cancel:  cancel,
		exited:  make(chan struct{}),
	}
}

// run is the spec's fetch / reestablish loop. It returns when the
// connection fails or when its last Source has closed.
func (c *conn) run() {
	defer close(c.exited)
	defer c.cancel()
	if c.fetcher == nil || !fetchable(c.request.URL) {
		c.fail()
		return
	}
	for reconnecting := false; ; reconnecting = true {
		if reconnecting {
			c.parser.Reconnect()
		}
		res := c.connect(reconnecting)
		if c.ctx.Err() != nil {
			return
		}
		if res.fatal {
			c.fail()
			return
		}
		retry, retrySet := c.parser.Retry()
		floor := c.reconnectionTime()
		// A connection that lived long enough counts as progress even
		// without events (a quiet stream dropped by a proxy, say); never
		// less than InitialDelay, so that `retry: 0` alone is no progress.
		if res.events || res.idChanged || (res.opened && res.lifetime >= max(floor, c.initial)) {
			c.backoff.Progress()
		}
		delay, ok := c.backoff.Next(shim.RetryDelay(retry), retrySet)
		if !ok {
			// MaxRetries reached: reconnecting is known to be futile, and
			// the spec then allows failing the connection instead.
			c.fail()
			return
		}
		tasksRun := c.announceReconnecting()
		if !c.wait(delay, tasksRun) {
			return
		}
	}
}

// reconnectionTime is the stream's retry value, or the initial delay while
// it has set none.
func (c *conn) reconnectionTime() time.Duration {
	if ms, ok := c.parser.Retry(); ok {
		return shim.RetryDelay(ms)
	}
	return c.initial
}

// attempt is what one connection attempt amounts to.
type attempt struct {
	fatal     bool // fail the connection instead of reestablishing it
	opened    bool // announced
	events    bool // dispatched at least one event
	idChanged bool // changed the last event ID
	lifetime  time.Duration
}

// connect makes one request and, if it opens, reads the stream to its end.
func (c *conn) connect(reconnecting bool) (res attempt) {
	req := c.request
	req.Header = c.request.Header.Clone()
	if reconnecting {
		req.Header.Del("last-event-id")
		if id := c.parser.LastEventID(); id != "" {
			// Go strings are UTF-8 already: the raw bytes go out as is.
			req.Header.Set("last-event-id", id)
		}
	}
	resp, err := c.fetcher.Fetch(c.ctx, &req)
	if err != nil {
		// A network error reestablishes the connection. An aborted fetch
		// fails it, as the spec says; our own aborts never get this far,
		// because run checks the context first.
		res.fatal = shim.CodeOf(err) == shim.CodeAborted
		return res
	}
	body := resp.Body
	if body == nil {
		body = io.NopCloser(eofReader{})
	}
	defer body.Close()
	if c.ctx.Err() != nil {
		return res
	}
	if resp.Status != 200 || shim.MediaType(resp.Header.Get("content-type")) != "text/event-stream" {
		res.fatal = true
		return res
	}

	start := time.Now()
	idBefore := c.parser.LastEventID()
	finalURL := resp.URL
	if finalURL == "" {
		finalURL = req.URL // a Fetcher that does not report redirects
	}
	c.followRedirect(finalURL)
	c.announceOpen(origin(finalURL))
	res.opened = true
	defer func() {
		res.lifetime = time.Since(start)
		res.idChanged = c.parser.LastEventID() != idBefore
	}()

	buf := make([]byte, readBufferSize)
	for {
		n, err := body.Read(buf)
		if n > 0 {
			var batch []sse.Event
			ferr := c.parser.Feed(buf[:n], func(e sse.Event) { batch = append(batch, e) })
			if len(batch) > 0 {
				res.events = true
				c.dispatch(batch)
			}
			if ferr != nil {
				// EVENT_TOO_LARGE: a reconnection would replay the same
				// event, so the connection fails for good.
				res.fatal = true
				return res
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				c.parser.End()
			}
			return res // end of body or network error: reestablish
		}
	}
}

// followRedirect decides where the reconnections of a connection go once
// its request ended at finalURL.
//
// The spec reuses the request whose URL list the redirects extended, so
// reconnections go where the redirects led (whatwg/html#503), and Chromium
// does so. That is kept, except when the redirects left the origin of the
// URL the application gave while the connection carries the application's
// own headers or body (extensions: a native EventSource has none). Those
// belong to the origin they were given for, so such a connection keeps
// reconnecting to its own URL and lets that origin redirect it afresh, as
// the eventsource npm package does: the browser then decides, as on the
// first request, what the hop to the other origin carries (it strips
// Authorization, for one). A direct request to the other origin would
// carry every header and the body.
func (c *conn) followRedirect(finalURL string) {
	if c.appData && origin(finalURL) != c.home {
		return
	}
	c.request.URL = finalURL
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// announceOpen queues "announce the connection" for every Source.
func (c *conn) announceOpen(origin string) {
	c.pool.mu.Lock()
	defer c.pool.mu.Unlock()
	c.open = true
	c.origin = origin
	for _, s := range c.subs {
		s.deliverOpen(origin)
	}
}

// dispatch queues one batch of events for every Source.
func (c *conn) dispatch(batch []sse.Event) {
	c.pool.mu.Lock()
	defer c.pool.mu.Unlock()
	for _, s := range c.subs {
		s.deliverEvents(batch)
	}
}

// announceReconnecting queues the error task of "reestablish the
// connection" for every Source, and returns a channel that is closed once
// all of them have run. Sources that join later just wait for the next
// announcement.
func (c *conn) announceReconnecting() <-chan struct{} {
	c.pool.mu.Lock()
	defer c.pool.mu.Unlock()
	c.open = false
	cd := newCountdown(len(c.subs))
	for _, s := range c.subs {
		s.deliverReconnecting(cd.done)
	}
	return cd.ch
}

// fail is "fail the connection": every Source gets one error with
// readyState Closed, and the connection leaves the registry so that later
// Sources start afresh.
func (c *conn) fail() {
	c.pool.mu.Lock()
	defer c.pool.mu.Unlock()
	if !c.done {
		c.done = true
		c.pool.unregisterLocked(c)
	}
	c.open = false
	for _, s := range c.subs {
		s.deliverFailure()
	}
	c.subs = nil
}

// wait sleeps for delay and until tasksRun is closed. It reports false when
// the connection was abandoned meanwhile.
func (c *conn) wait(delay time.Duration, tasksRun <-chan struct{}) bool {
	// time.AfterFunc, not time.NewTimer: timer channels cost about 30 KB
	// of gzipped wasm.
	fired := make(chan struct{})
	timer := time.AfterFunc(delay, func() { close(fired) })
	defer timer.Stop()
	var expired <-chan struct{} = fired
	for expired != nil || tasksRun != nil {
		select {
		case <-c.ctx.Done():
			return false
		case <-expired:
			expired = nil
		case <-tasksRun:
			tasksRun = nil
		}
	}
	return c.ctx.Err() == nil
}
