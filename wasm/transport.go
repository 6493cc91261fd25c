//go:build js && wasm

package main

import (
	"runtime"
	"time"

	"github.com/esshim/esshim/shim"
	"github.com/esshim/esshim/shim/transport"
	"github.com/hack-pad/safejs"
)

// transports holds every transport the page created, by handle. The JS
// class releases its handle when it is garbage collected.
var transports handleTable[*transport.Transport]

func registerTransport(t exportTable) {
	t.fn("transportNew", transportNew)
	t.fn("transportStart", withTransport(func(tr *transport.Transport, _ []safejs.Value) any {
		if err := tr.Start(); err != nil {
			return toJSError(err)
		}
		return nil
	}))
	t.fn("transportSend", withTransport(transportSend))
	t.fn("transportClose", withTransport(func(tr *transport.Transport, _ []safejs.Value) any {
		done := tr.Close()
		return newPromise(func() (any, error) { <-done; return nil, nil })
	}))
	t.fn("transportTerminate", withTransport(func(tr *transport.Transport, _ []safejs.Value) any {
		return newPromise(func() (any, error) { return nil, tr.TerminateSession(shim.Background()) })
	}))
	t.fn("transportSessionId", withTransport(func(tr *transport.Transport, _ []safejs.Value) any {
		return byteString(tr.SessionID())
	}))
	t.fn("transportProtocolVersion", withTransport(func(tr *transport.Transport, _ []safejs.Value) any {
		return byteString(tr.ProtocolVersion())
	}))
	t.fn("transportSetProtocolVersion", withTransport(func(tr *transport.Transport, args []safejs.Value) any {
		v, err := headerValue("mcp-protocol-version", arg(args, 1))
		if err != nil {
			return toJSError(err)
		}
		tr.SetProtocolVersion(v)
		return nil
	}))
	t.fn("transportSnapshot", withTransport(transportSnapshot))
	t.fn("transportRelease", func(args []safejs.Value) any {
		id := handleOf(args)
		if tr, ok := transports.get(id); ok {
			transports.remove(id)
			tr.Close()
		}
		return nil
	})
}

// withTransport resolves the handle in args[0] before calling f.
func withTransport(f func(*transport.Transport, []safejs.Value) any) func([]safejs.Value) any {
	return func(args []safejs.Value) any {
		tr, ok := transports.get(handleOf(args))
		if !ok {
			return toJSError(shim.NewError(shim.CodeInvalidArgument, "unknown or released transport"))
		}
		return f(tr, args)
	}
}

// transportNew(url, options, callbacks) creates a transport and returns its
// handle. options is the JS options object of StreamableHTTPClientTransport;
// callbacks has message(json), error(err), close(), sessionchange(new, old)
// and, when an authProvider was given, authorize(challenge) (see authorizer).
func transportNew(args []safejs.Value) any {
	url, opts, cb := stringOf(arg(args, 0)), arg(args, 1), arg(args, 2)
	init := prop(opts, "requestInit")
	reconnect := prop(opts, "reconnectionOptions")
	// Fail closed: a transport is never made with headers it could not
	// send as given.
	header, err := headersFrom(prop(init, "headers"))
	if err != nil {
		return toJSError(err)
	}
	sessionID, err := headerValue("mcp-session-id", prop(opts, "sessionId"))
	if err != nil {
		return toJSError(err)
	}
	version, err := headerValue("mcp-protocol-version", prop(opts, "protocolVersion"))
	if err != nil {
		return toJSError(err)
	}
	policy := stringProp(opts, "redirectPolicy", "same-origin")
	if policy != "same-origin" && policy != "follow" {
		return toJSError(shim.NewError(shim.CodeInvalidArgument, "redirectPolicy must be 'same-origin' or 'follow'"))
	}
	o := transport.Options{
		URL:             url,
		Fetcher:         fetcherFrom(opts),
		Header:          header,
		Credentials:     stringProp(init, "credentials", ""),
		Mode:            stringProp(init, "mode", ""),
		Redirect:        shim.ParseRedirectPolicy(policy),
		SessionID:       sessionID,
		ProtocolVersion: version,
		Reconnect:       reconnectOptions(reconnect, shim.DefaultReconnectOptions.MaxRetries),
		MaxEventSize:    intProp(opts, "maxEventSize", 0),
		Handler:         transportHandler(cb),
	}
	if isSet(init) {
		o.Init = init
	}
	if sched := prop(opts, "reconnectionScheduler"); sched.Type() == safejs.TypeFunction {
		o.Scheduler = reconnectionScheduler(sched)
	}
	if fn := prop(cb, "authorize"); fn.Type() == safejs.TypeFunction {
		o.Authorize = authorizer(fn)
		if stringProp(opts, "onInsufficientScope", "reauthorize") == "throw" {
			o.StepUp = transport.StepUpThrow
		}
		// The SDK's maxStepUpRetries: 0 means none, absent the default 1.
		if n := intProp(opts, "maxStepUpRetries", 1); n <= 0 {
			o.MaxStepUpRetries = -1
		} else {
			o.MaxStepUpRetries = n
		}
	}
	if stringProp(opts, "sessionExpiry", "error") == "reinitialize" {
		o.SessionExpiry = transport.ExpiryReinitialize
	}
	if hook := prop(opts, "headers"); hook.Type() == safejs.TypeFunction {
		o.HeaderHook = func(ctx shim.Context) (shim.Header, error) {
			// The core gives a failure here HEADERS_HOOK_FAILED.
			v, err := hook.Invoke()
			if err != nil {
				return nil, err
			}
			v, err = await(ctx, v)
			if err != nil {
				return nil, err
			}
			return headersFrom(v)
		}
	}
	return transports.add(transport.New(o))
}

// transportHandler forwards the core's callbacks to the JS callbacks object.
func transportHandler(cb safejs.Value) transport.Handler {
	message, messages, onError, onClose, sessionChange := prop(cb, "message"), prop(cb, "messages"), prop(cb, "error"), prop(cb, "close"), prop(cb, "sessionchange")
	return transport.Handler{
		Message: func(json string) { _, _ = message.Invoke(json) },
		Messages: func(msgs []string) {
			if len(msgs) == 1 {
				// One message, maybe a large one: packing would copy it.
				_, _ = message.Invoke(msgs[0])
				return
			}
			text, lengths := packStrings(msgs)
			_, _ = messages.Invoke(text, lengths)
		},
		Error:         func(err *shim.Error) { _, _ = onError.Invoke(toJSError(err)) },
		Close:         func() { _, _ = onClose.Invoke() },
		SessionChange: func(newID, oldID string) { _, _ = sessionChange.Invoke(byteString(newID), byteString(oldID)) },
	}
}

// reconnectionScheduler adapts the SDK v2's reconnectionScheduler option:
// (reconnect, delayMs, attemptCount) => cancel | void. A scheduler that
// throws is treated as absent for that reconnect: a timer does its job.
func reconnectionScheduler(sched safejs.Value) func(time.Duration, int, func()) func() {
	return func(delay time.Duration, attempt int, reconnect func()) func() {
		var fn *jsFunc
		fn = funcOf(func(safejs.Value, []safejs.Value) any {
			fn.Release()
			reconnect()
			return nil
		})
		cancel, err := sched.Invoke(fn.Value(), float64(delay)/float64(time.Millisecond), attempt)
		if err != nil {
			fn.Release()
			stop := time.AfterFunc(delay, reconnect).Stop
			return func() { stop() }
		}
		return func() {
			fn.Release()
			if cancel.Type() == safejs.TypeFunction {
				_, _ = cancel.Invoke()
			}
		}
	}
}

// transportSend(handle, json, options) sends one message (or a batch).
// options are the SDK's TransportSendOptions; onRequestStreamEnd is the
// JS wrapper's, which queues the application's callback in order.
func transportSend(tr *transport.Transport, args []safejs.Value) any {
	message, opts := stringOf(arg(args, 1)), arg(args, 2)
	so := transport.SendOptions{
		ResumptionToken:  stringProp(opts, "resumptionToken", ""),
		RelatedRequestID: stringProp(opts, "relatedRequestId", ""),
	}
	if fn := prop(opts, "onresumptiontoken"); fn.Type() == safejs.TypeFunction {
		so.OnResumptionToken = func(token string) { _, _ = fn.Invoke(token) }
	}
	if h := prop(opts, "headers"); isSet(h) {
		header, err := headersFrom(h)
		if err != nil {
			// Fail closed: the message is not sent without the headers given.
			return newPromise(func() (any, error) { return nil, err })
		}
		so.Header = header
	}
	var release func()
	if sig := prop(opts, "requestSignal"); isSet(sig) {
		so.Signal, release = signalContext(sig)
	}
	onEnd := prop(opts, "onRequestStreamEnd")
	if release != nil || onEnd.Type() == safejs.TypeFunction {
		so.OnEnd = func(why transport.StreamEnd) {
			if release != nil {
				release()
			}
			if why == transport.EndStream && onEnd.Type() == safejs.TypeFunction {
				_, _ = onEnd.Invoke()
			}
		}
	}
	return newPromise(func() (any, error) { return nil, tr.Send(shim.Background(), message, so) })
}

// signalContext returns a context that ends when the JS AbortSignal sig
// aborts, and the function that stops watching it.
func signalContext(sig safejs.Value) (shim.Context, func()) {
	ctx, cancel := shim.WithCancel(shim.Background())
	if boolProp(sig, "aborted") {
		cancel()
		return ctx, cancel
	}
	onAbort := funcOf(func(safejs.Value, []safejs.Value) any {
		cancel()
		return nil
	})
	_, _ = sig.Call("addEventListener", "abort", onAbort.Value())
	return ctx, func() {
		_, _ = sig.Call("removeEventListener", "abort", onAbort.Value())
		onAbort.Release()
		cancel()
	}
}

// transportSnapshot reports the connection manager's state, plus the
// program-wide counters that prove nothing leaks across lifecycles.
func transportSnapshot(tr *transport.Transport, _ []safejs.Value) any {
	s := tr.Snapshot()
	o := newObject()
	_ = o.Set("lifecycle", s.Lifecycle)
	_ = o.Set("era", s.Era)
	if s.SessionID != "" {
		_ = o.Set("sessionId", byteString(s.SessionID))
	}
	streams, _ := jsArray.New()
	for _, st := range s.Streams {
		so := newObject()
		_ = so.Set("id", st.ID)
		_ = so.Set("kind", st.Kind)
		_ = so.Set("state", st.State)
		_ = so.Set("lastEventId", st.LastEventID)
		_ = so.Set("reconnects", st.Reconnects)
		_ = so.Set("events", st.Events)
		_, _ = streams.Call("push", so)
	}
	_ = o.Set("streams", streams)
	inflight, _ := jsArray.New()
	for _, id := range s.Inflight {
		_, _ = inflight.Call("push", id)
	}
	_ = o.Set("inflight", inflight)
	_ = o.Set("timers", s.Timers)
	_ = o.Set("transportGoroutines", s.Goroutines)
	_ = o.Set("goroutines", runtime.NumGoroutine())
	_ = o.Set("funcs", int(liveFuncs.Load()))
	_ = o.Set("awaits", awaitsUnderWay())
	return o
}

// headerValue reads an option that is sent as the value of the named
// header: a ByteString, validated like every header. Unset is "".
func headerValue(name string, v safejs.Value) (string, error) {
	if !isSet(v) {
		return "", nil
	}
	s, ok := jsByteString(v)
	if !ok {
		return "", shim.NewError(shim.CodeInvalidHeader, "invalid value for header \""+name+"\": a character above U+00FF")
	}
	if err := shim.ValidateHeader(name, s); err != nil {
		return "", err
	}
	return s, nil
}
