package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestEventSourceInstall runs an unmodified classic-script snippet that
// does `new EventSource(url)` three times, with shim.install() active and
// after uninstall(). Installed, the three share one connection: the server
// sees one request. Uninstalled, the native EventSource makes three.
func TestEventSourceInstall(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	installed := newESScript(t, esReply{Chunks: []string{"data: hi\n\n"}, Hold: true})
	native := newESScript(t, esReply{Chunks: []string{"data: hi\n\n"}, Hold: true})
	s.mux.Handle("/install/installed", installed)
	s.mux.Handle("/install/native", native)
	p := newPage(t, s.URL+"/index.html")

	run := func(url string) string {
		return `new Promise((resolve, reject) => {
			globalThis.snippetMessages = 0;
			const script = document.createElement('script');
			script.src = '/eventsource-snippet.js?' + Math.random();
			script.dataset.url = '` + url + `';
			script.onload = resolve;
			script.onerror = () => reject(new Error('snippet did not load'));
			document.head.append(script);
		})`
	}
	got := eval[map[string]any](p, `(async () => {
		globalThis.nativeEventSource = globalThis.EventSource;
		globalThis.uninstall = shim.install();
		const swapped = globalThis.EventSource === shim.EventSource;
		await `+run("/install/installed")+`;
		while (globalThis.snippetMessages < 3) await new Promise((r) => setTimeout(r, 10));
		return {
			swapped,
			instances: snippetSources.every((es) => es instanceof shim.EventSource),
			constants: [EventSource.CONNECTING, EventSource.OPEN, EventSource.CLOSED],
			states: snippetSources.map((es) => es.readyState),
		};
	})()`)
	assert.Equal(t, true, got["swapped"])
	assert.Equal(t, true, got["instances"], "the snippet's instances are esshim's")
	assert.Equal(t, []any{0.0, 1.0, 2.0}, got["constants"])
	assert.Equal(t, []any{1.0, 1.0, 1.0}, got["states"])
	assert.Equal(t, 1, installed.count(), "three instances, one request: the snippet ran through esshim")

	eval[bool](p, `(snippetSources.forEach((es) => es.close()), true)`)
	installed.waitUntil("the shared connection to close", 2*time.Second, func(s *esScript) bool { return s.disconnectCount() == 1 })

	got = eval[map[string]any](p, `(async () => {
		uninstall();
		const restored = globalThis.EventSource === nativeEventSource;
		await `+run("/install/native")+`;
		while (globalThis.snippetMessages < 3) await new Promise((r) => setTimeout(r, 10));
		const instances = snippetSources.every((es) => !(es instanceof shim.EventSource));
		snippetSources.forEach((es) => es.close());
		uninstall(); // a second call does nothing
		// A target without an EventSource gets it removed again.
		const target = {};
		const undo = shim.install(target);
		const set = target.EventSource === shim.EventSource;
		undo();
		return { restored, instances, stillNative: globalThis.EventSource === nativeEventSource, set, removed: !('EventSource' in target) };
	})()`)
	assert.Equal(t, map[string]any{"restored": true, "instances": true, "stillNative": true, "set": true, "removed": true}, got)
	assert.Equal(t, 3, native.count(), "the native EventSource makes one request per instance")
}
