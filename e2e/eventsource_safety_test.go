package e2e

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEventSourceRedirectKeepsHeadersHome: the application's headers belong
// to the origin they were given for. The EventSource's URL answers 307 to
// another origin, which sends one event and ends, three times. The browser
// strips Authorization on that hop; every reconnection then goes back to
// the EventSource's own URL, so the other origin never sees the token, with
// a shared connection and with `shared: false`.
func TestEventSourceRedirectKeepsHeadersHome(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	other := newSite(t) // another port: another origin
	type target struct{ home, far *esScript }
	targets := map[string]target{}
	for _, name := range []string{"shared", "exclusive"} {
		far := newESScript(t, stream("retry: 20\ndata: far\n\n"), stream("retry: 20\ndata: far\n\n"), stream("retry: 20\ndata: far\n\n"), failWith204)
		far.cors = "*"
		other.mux.Handle("/far/"+name, far)
		home := newESScript(t, esReply{Status: 307, ContentType: esNoContentType, Header: map[string]string{"Location": other.URL + "/far/" + name}})
		s.mux.Handle("/home/"+name, home)
		targets[name] = target{home: home, far: far}
	}
	p := newPage(t, s.URL+"/index.html")
	logs := eval[map[string][]esEntry](p, `(async () => {
		const h = await import('/eventsource-harness.js');
		const out = {};
		await Promise.all(['shared', 'exclusive'].map(async (name) => {
			const es = new shim.EventSource('/home/' + name, {
				headers: { Authorization: 'Bearer X' }, shared: name === 'shared',
			});
			const w = h.watch(es);
			await w.until(h.failed, 10000);
			es.close();
			out[name] = w.log;
		}));
		return out;
	})()`)
	for name, tg := range targets {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, []string{"open", "message:far", "error", "open", "message:far", "error", "open", "message:far", "error", "error"}, esKinds(logs[name]))
			farReqs := tg.far.seen()
			require.Len(t, farReqs, 4, "the far end: three streams and the 204")
			for i, r := range farReqs {
				assert.Empty(t, r.Header.Values("Authorization"), "request %d to the other origin carried the token", i)
			}
			homeReqs := tg.home.seen()
			assert.Len(t, homeReqs, 4, "every connection starts at the EventSource's own URL")
			for i, r := range homeReqs {
				assert.Equal(t, "Bearer X", r.Header.Get("Authorization"), "request %d to the own origin", i)
			}
		})
	}
}

// TestEventSourceHugeRetryNoStorm: a retry beyond what a Duration holds
// (9223372036855 ms and more) is a very long wait, not an overflow into a
// tight loop. The same goes for reconnectionOptions of Infinity, NaN,
// negative or huge values. Over 1.5 s each source makes its one request and
// stays CONNECTING, as a native EventSource does.
func TestEventSourceHugeRetryNoStorm(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	cases := []struct{ name, body, init string }{
		{name: "retry 9223372036855", body: "retry: 9223372036855\ndata: a\n\n"},
		{name: "retry 9223372036854775807", body: "retry: 9223372036854775807\ndata: a\n\n"},
		{name: "retry 99999999999999999999 ignored, initial delay Infinity", body: "retry: 99999999999999999999\ndata: a\n\n",
			init: `{ reconnectionOptions: { initialReconnectionDelay: Infinity } }`},
		{name: "huge options", body: "data: a\n\n",
			init: `{ reconnectionOptions: { initialReconnectionDelay: 1e300, maxReconnectionDelay: 1e300, reconnectionDelayGrowFactor: Infinity } }`},
		{name: "NaN and negative options take the defaults", body: "data: a\n\n",
			init: `{ reconnectionOptions: { initialReconnectionDelay: NaN, maxReconnectionDelay: -5, reconnectionDelayGrowFactor: NaN, maxRetries: -Infinity } }`},
	}
	var scripts []*esScript
	js := "["
	for i, c := range cases {
		sc := newESScript(t, stream(c.body)) // the same again on every request
		s.mux.Handle(fmt.Sprintf("/huge/%d", i), sc)
		scripts = append(scripts, sc)
		init := c.init
		if init == "" {
			init = "{}"
		}
		js += fmt.Sprintf("[%q, %s],", fmt.Sprintf("/huge/%d", i), init)
	}
	js += "]"
	p := newPage(t, s.URL+"/index.html")
	states := eval[[]int](p, `(async () => {
		const h = await import('/eventsource-harness.js');
		const all = `+js+`.map(([url, init]) => new shim.EventSource(url, init));
		await Promise.all(all.map((es) => h.watch(es).until((e) => e.kind === 'error', 5000)));
		await h.sleep(1500);
		const states = all.map((es) => es.readyState);
		all.forEach((es) => es.close());
		return states;
	})()`)
	for i, c := range cases {
		assert.Equal(t, 1, scripts[i].count(), "%s: requests in 1.5 s", c.name)
		assert.Equal(t, 0, states[i], "%s: readyState", c.name)
	}
}

// TestEventSourceDifferentialSpecGaps runs, through Chromium's native
// EventSource and shim.EventSource, what finding 8 of the safety issue
// found different, and asserts that both now do the same:
//   - a URL whose scheme fetch cannot fetch fails for good at once: one
//     error, readyState CLOSED;
//   - onopen, onmessage and onerror take their place among the listeners
//     when first set, keep it when set again, leave it when set to null;
//   - the init dictionary may be null or undefined; a non-object throws a
//     TypeError.
func TestEventSourceDifferentialSpecGaps(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	for _, impl := range []string{"native", "shim"} {
		s.mux.Handle("/gaps/"+impl, newESScript(t, stream("retry: 20\ndata: x\n\n"), failWith204))
	}
	type result struct {
		Schemes map[string][]esEntry `json:"schemes"`
		Order   []string             `json:"order"`
		Init    map[string]string    `json:"init"`
	}
	got := eval[map[string]result](newPage(t, s.URL+"/index.html"), `(async () => {
		const h = await import('/eventsource-harness.js');
		const impls = { native: globalThis.EventSource, shim: shim.EventSource };
		const out = {};
		for (const [impl, Ctor] of Object.entries(impls)) {
			const schemes = {};
			for (const url of ['ftp://127.0.0.1/x', 'javascript:1', 'mailto:a@b', 'about:blank']) {
				const es = new Ctor(url);
				const w = h.watch(es);
				await w.until(h.failed, 3000);
				await h.sleep(300); // anything after the failure shows too
				schemes[url] = w.log.map((e) => ({ ...e, at: 0 }));
				schemes[url].push({ kind: 'final', readyState: es.readyState });
				es.close();
			}
			const order = [];
			const es = new Ctor('/gaps/' + impl);
			es.onopen = () => order.push('open:O1');
			es.addEventListener('open', () => order.push('open:L1'));
			es.onopen = null;
			es.onopen = () => order.push('open:O2');
			es.addEventListener('message', () => order.push('message:L1'));
			es.onmessage = () => order.push('message:H1');
			es.addEventListener('message', () => order.push('message:L2'));
			es.onmessage = () => order.push('message:H2');
			es.onerror = 'not an object';
			es.addEventListener('error', () => order.push('error:L1'));
			es.onerror = () => order.push('error:H1 ' + es.readyState);
			order.push('onerror after a string: ' + typeof es.onerror);
			await h.watch(es).until(h.failed, 5000);
			es.close();
			const init = {};
			for (const [name, value] of [['null', null], ['undefined', undefined], ['number', 5], ['string', 'x'], ['object', { withCredentials: true }]]) {
				try {
					const es = new Ctor('/gaps/none', value);
					init[name] = 'ok withCredentials=' + es.withCredentials;
					es.close();
				} catch (e) {
					init[name] = e.name;
				}
			}
			out[impl] = { schemes, order, init };
		}
		return out;
	})()`)
	native, esshim := got["native"], got["shim"]
	t.Logf("native: %+v", native)
	t.Run("unfetchable schemes fail at once", func(t *testing.T) {
		require.Len(t, native.Schemes, 4)
		for url, log := range native.Schemes {
			assert.Equal(t, []esEntry{{Kind: "error", ReadyState: 2}, {Kind: "final", ReadyState: 2}}, log, "native %s", url)
		}
		assert.Equal(t, native.Schemes, esshim.Schemes)
	})
	t.Run("event handlers take their place among the listeners", func(t *testing.T) {
		assert.Equal(t, native.Order, esshim.Order)
	})
	t.Run("init may be null or undefined", func(t *testing.T) {
		assert.Equal(t, "ok withCredentials=false", native.Init["null"])
		assert.Equal(t, native.Init, esshim.Init)
	})
}
