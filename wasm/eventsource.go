//go:build js && wasm

package main

import (
	"github.com/esshim/esshim/shim"
	"github.com/esshim/esshim/shim/eventsource"
	"github.com/esshim/esshim/shim/sse"
	"github.com/hack-pad/safejs"
)

var (
	// sourcePool shares physical connections between EventSources.
	sourcePool = eventsource.NewPool()
	// sources holds every live EventSource by handle; a source leaves the
	// table once closed or failed for good, so Go then holds nothing of it.
	sources handleTable[*eventsource.Source]
)

func registerEventSource(t exportTable) {
	t.fn("eventSourceOpen", eventSourceOpen)
	t.fn("eventSourceClose", func(args []safejs.Value) any {
		id := handleOf(args)
		if s, ok := sources.get(id); ok {
			sources.remove(id)
			s.Close()
		}
		return nil
	})
}

// eventSourceOpen(url, init, callbacks) opens an EventSource and returns
// its handle. url is absolute; callbacks has open(origin),
// events(flat [type, data, lastEventId, ...]) and error(readyState).
func eventSourceOpen(args []safejs.Value) any {
	url, init, cb := stringOf(arg(args, 0)), arg(args, 1), arg(args, 2)
	header, err := headersFrom(prop(init, "headers"))
	if err != nil {
		return toJSError(err) // fail closed: never open without the headers asked for
	}
	opts := eventsource.Options{
		URL:             url,
		Method:          stringProp(init, "method", ""),
		Header:          header,
		Body:            bodyFrom(prop(init, "body")),
		WithCredentials: boolProp(init, "withCredentials"),
		Fetcher:         eventSourceFetcherFrom(init),
		Exclusive:       prop(init, "shared").Type() == safejs.TypeBoolean && !boolProp(init, "shared"),
		MaxEventSize:    intProp(init, "maxEventSize", 0),
	}
	if r := prop(init, "reconnectionOptions"); isSet(r) {
		opts.Reconnect = reconnectOptions(r, -1)
	}
	onOpen, onEvents, onError := prop(cb, "open"), prop(cb, "events"), prop(cb, "error")
	var id int
	src := sourcePool.Open(opts, eventsource.Listener{
		Open: func(origin string) { _, _ = onOpen.Invoke(origin) },
		Events: func(events []sse.Event) {
			text, lengths := packEvents(events)
			_, _ = onEvents.Invoke(text, lengths)
		},
		// JS dispatches the error event in a task of its own; the core
		// must not reconnect before that task has run (so that close() in
		// an error handler prevents the next request), so Error waits for
		// JS to call ran.
		Error: func(state eventsource.ReadyState) {
			if state == eventsource.Closed {
				sources.remove(id)
			}
			taskRan := make(chan struct{})
			var ran *jsFunc
			ran = funcOf(func(safejs.Value, []safejs.Value) any {
				ran.Release()
				close(taskRan)
				return nil
			})
			if _, err := onError.Invoke(int(state), ran.Value()); err != nil {
				ran.Release()
				return
			}
			<-taskRan
		},
	})
	id = sources.add(src)
	return id
}

// eventSourceFetcher is the Fetcher of every EventSource. It is a pointer,
// so that the pool can compare Fetchers: a browserFetcher holds a
// safejs.Value, which == cannot compare, and the pool takes Fetchers it
// cannot compare for different ones, so no two Sources would ever share a
// connection. It also sets the cache mode "no-store" that the spec gives
// the EventSource request: without it, a cacheable response would be
// replayed from the HTTP cache on every reconnection, for ever.
type eventSourceFetcher struct{ fetcher browserFetcher }

// pageFetcher is the one Fetcher of every EventSource without a custom
// fetch, so that those can share connections. Sources with a custom fetch
// get their own and never share.
var pageFetcher = &eventSourceFetcher{}

func eventSourceFetcherFrom(init safejs.Value) *eventSourceFetcher {
	f := fetcherFrom(init)
	if !isSet(f.fn) {
		return pageFetcher
	}
	return &eventSourceFetcher{fetcher: f}
}

// Fetch implements shim.Fetcher.
func (f *eventSourceFetcher) Fetch(ctx shim.Context, req *shim.Request) (*shim.Response, error) {
	r := *req
	init := newObject()
	_ = init.Set("cache", "no-store")
	r.Init = init
	return f.fetcher.Fetch(ctx, &r)
}
