//go:build js && wasm

package main

import (
	"io"

	"github.com/esshim/esshim/shim"
	"github.com/esshim/esshim/shim/sse"
	"github.com/hack-pad/safejs"
)

// eventStreams holds the cancel function of every open low-level stream.
var eventStreams handleTable[shim.CancelFunc]

// openEventStream(url, options, callbacks) opens one event stream through
// the fetch bridge, with no reconnection: the raw building block that the
// browser tests drive directly. callbacks.open({status, url}) is called
// once the stream is accepted, callbacks.events(flat) with every chunk's
// events as a flat [type, data, lastEventId, ...] array. It returns
// [handle, done], where done resolves to {reason: 'end'|'closed',
// lastEventId, retry} or rejects with a coded Error.
func openEventStream(args []safejs.Value) any {
	url, opts, callbacks := stringOf(arg(args, 0)), arg(args, 1), arg(args, 2)
	header, err := headersFrom(prop(opts, "headers"))
	if err != nil {
		return toJSError(err)
	}
	req := &shim.Request{
		Method:      stringProp(opts, "method", "GET"),
		URL:         url,
		Header:      header,
		Body:        bodyFrom(prop(opts, "body")),
		Credentials: stringProp(opts, "credentials", ""),
		Mode:        stringProp(opts, "mode", ""),
	}
	if req.Header.Get("accept") == "" {
		req.Header.Set("accept", "text/event-stream")
	}
	lastEventID := stringProp(opts, "lastEventId", "")
	if lastEventID != "" {
		req.Header.Set("last-event-id", lastEventID)
	}
	if err := req.Header.Validate(); err != nil {
		return toJSError(err)
	}
	fetcher := fetcherFrom(opts)
	maxEventSize := intProp(opts, "maxEventSize", 0)
	onOpen, onEvents := prop(callbacks, "open"), prop(callbacks, "events")

	ctx, cancel := shim.WithCancel(shim.Background())
	id := eventStreams.add(cancel)
	done := newPromise(func() (any, error) {
		defer eventStreams.remove(id)
		defer cancel()
		resp, err := fetcher.Fetch(ctx, req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.Status != 200 {
			return nil, shim.HTTPError(resp.Status, "event stream answered HTTP "+resp.StatusText)
		}
		if ct := resp.Header.Get("content-type"); shim.MediaType(ct) != "text/event-stream" {
			return nil, &shim.Error{Code: shim.CodeUnexpectedContentType, Status: resp.Status, Message: "unexpected content type " + ct}
		}
		if onOpen.Type() == safejs.TypeFunction {
			info := newObject()
			_ = info.Set("status", resp.Status)
			_ = info.Set("url", resp.URL)
			_, _ = onOpen.Invoke(info)
		}
		parser := sse.NewParser(sse.ParserOptions{MaxEventSize: maxEventSize, LastEventID: lastEventID})
		result := func(reason string) any {
			o := newObject()
			_ = o.Set("reason", reason)
			_ = o.Set("lastEventId", parser.LastEventID())
			if ms, ok := parser.Retry(); ok {
				_ = o.Set("retry", float64(ms))
			} else {
				_ = o.Set("retry", safejs.Null())
			}
			return o
		}
		buf := make([]byte, 64<<10)
		var batch []any
		for {
			n, err := resp.Body.Read(buf)
			if n > 0 {
				batch = batch[:0]
				ferr := parser.Feed(buf[:n], func(e sse.Event) {
					batch = append(batch, e.Type, e.Data, e.LastEventID)
				})
				if len(batch) > 0 && onEvents.Type() == safejs.TypeFunction {
					flat, _ := safejs.ValueOf(batch)
					_, _ = onEvents.Invoke(flat)
				}
				if ferr != nil {
					return nil, ferr
				}
			}
			switch {
			case err == nil:
			case err == io.EOF:
				parser.End()
				return result("end"), nil
			case shim.IsCode(err, shim.CodeClosed), shim.IsCode(err, shim.CodeAborted):
				return result("closed"), nil
			default:
				return nil, err
			}
		}
	})
	a, _ := jsArray.New()
	_, _ = a.Call("push", id, done)
	return a
}

// closeEventStream(handle) aborts the stream's fetch; its done promise then
// resolves with reason 'closed'.
func closeEventStream(args []safejs.Value) any {
	id := intProp(objectOf("id", arg(args, 0)), "id", 0)
	if cancel, ok := eventStreams.get(id); ok {
		cancel()
	}
	return nil
}

// objectOf wraps a bare value as {name: v}, so that intProp can read it.
func objectOf(name string, v safejs.Value) safejs.Value {
	o := newObject()
	_ = o.Set(name, v)
	return o
}
