//go:build js && wasm

package main

import (
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
	opts := eventsource.Options{
		URL:             url,
		Method:          stringProp(init, "method", ""),
		Header:          headersFrom(prop(init, "headers")),
		Body:            bodyFrom(prop(init, "body")),
		WithCredentials: boolProp(init, "withCredentials"),
		Fetcher:         fetcherFrom(init),
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
			flat := make([]any, 0, 3*len(events))
			for _, e := range events {
				flat = append(flat, e.Type, e.Data, e.LastEventID)
			}
			v, _ := safejs.ValueOf(flat)
			_, _ = onEvents.Invoke(v)
		},
		Error: func(state eventsource.ReadyState) {
			if state == eventsource.Closed {
				sources.remove(id)
			}
			_, _ = onError.Invoke(int(state))
		},
	})
	id = sources.add(src)
	return id
}
