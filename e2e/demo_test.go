package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/esshim/esshim/e2e/mcpserver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newDemoSite serves what `make run` serves: the console page from web/,
// the module from dist/ and the example MCP servers at /mcp (2025, with
// sessions; opts apply to it) and /mcp-stateless (2026-07-28), on one
// origin.
func newDemoSite(t *testing.T, opts ...mcpserver.Option) string {
	t.Helper()
	url, _ := newDemoSiteStateless(t, opts...)
	return url
}

// newDemoSiteStateless is newDemoSite that also returns the 2026-07-28
// server, whose request log shows what the console sent.
func newDemoSiteStateless(t *testing.T, opts ...mcpserver.Option) (string, *mcpserver.Handler) {
	t.Helper()
	server := mcpserver.NewHandler(opts...)
	t.Cleanup(server.Close)
	stateless := mcpserver.NewHandler(mcpserver.WithStateless())
	t.Cleanup(stateless.Close)
	mux := http.NewServeMux()
	mux.Handle("/dist/", noCache(http.StripPrefix("/dist/", http.FileServer(http.Dir("../dist")))))
	mux.Handle("/", noCache(http.FileServer(http.Dir("../web"))))
	mux.Handle("/mcp", server)
	mux.Handle("/mcp-stateless", stateless)
	return newLocalServer(t, mux).URL, stateless
}

// TestDemoConsole drives the demo page the way a user does: connect, pick a
// tool, call it, and watch the connection manager and the log.
func TestDemoConsole(t *testing.T) {
	p := newPage(t, newDemoSite(t, mcpserver.WithTicker(100*time.Millisecond))+"/")

	// The default negotiation, 'auto', probes for 2026-07-28 and falls
	// back to the 2025 handshake with this server.
	assert.Equal(t, "auto", eval[string](p, `document.getElementById('mcp-negotiation').value`))
	eval[any](p, `document.getElementById('mcp-connect').click()`)
	p.waitFor(`document.getElementById('mcp-status').dataset.state === 'connected'`, 10*time.Second)
	assert.Equal(t, "legacy", eval[string](p, `document.getElementById('mcp-era').dataset.era`), "the era shown")
	p.waitFor(`document.querySelectorAll('#tools [data-tool]').length > 0`, 10*time.Second)
	names := eval[[]string](p, `[...document.querySelectorAll('#tools [data-tool]')].map((b) => b.dataset.tool)`)
	assert.ElementsMatch(t, []string{"echo", "add", "progress", "ask", "sample", "notify"}, names)

	// Selecting a tool prefills the arguments from its input schema.
	args := eval[string](p, `document.querySelector('#tools [data-tool="echo"]').click(), document.getElementById('tool-args').value`)
	var prefill map[string]any
	require.NoError(t, json.Unmarshal([]byte(args), &prefill), "the prefill is JSON: %s", args)
	assert.Contains(t, prefill, "text")

	eval[any](p, `document.getElementById('tool-args').value = '{"text": "hello from the demo test"}';
		document.getElementById('tool-call').click()`)
	p.waitFor(`document.getElementById('result').classList.contains('ok')`, 10*time.Second)
	assert.Contains(t, eval[string](p, `document.getElementById('result').innerText`), "hello from the demo test")

	// Progress notifications reach the page while the call runs.
	eval[any](p, `document.querySelector('#tools [data-tool="progress"]').click();
		document.getElementById('tool-args').value = '{"steps": 3, "intervalMs": 50}';
		document.getElementById('tool-call').click()`)
	p.waitFor(`document.getElementById('result').innerText.includes('done after 3 steps')`, 10*time.Second)
	assert.Equal(t, "step 3 of 3 (3 of 3)", eval[string](p, `document.getElementById('progress-text').textContent`))

	// The standalone stream is in the table, and the ticker's log messages,
	// which only it carries, reach the log.
	p.waitFor(`document.querySelector('#streams tr[data-kind="standalone"]') !== null`, 10*time.Second)
	assert.Positive(t, eval[int](p, `document.querySelectorAll('#streams tr[data-kind]').length`))
	p.waitFor(`/info: tick \d+/.test(document.getElementById('log').innerText)`, 10*time.Second)
	assert.NotEqual(t, "none", eval[string](p, `document.getElementById('snap-session').textContent`))
	logText := eval[string](p, `document.getElementById('log').innerText`)
	for _, want := range []string{"server/discover", "initialize", "notifications/initialized", "tools/list", "tools/call echo", "notifications/progress"} {
		assert.Contains(t, logText, want)
	}

	eval[any](p, `document.getElementById('mcp-disconnect').click()`)
	p.waitFor(`document.getElementById('mcp-status').dataset.state === 'disconnected'`, 10*time.Second)
	p.waitFor(`document.querySelectorAll('#streams tr.live').length === 0`, 5*time.Second)
}

// TestDemoConsoleEras drives the console on both protocol eras: the
// negotiation mode the user picks decides the era, which the page shows,
// and the console keeps working on each (tools, the x-mcp-header tool,
// cancel, a lost stream) and across reconnects between them.
func TestDemoConsoleEras(t *testing.T) {
	site, stateless := newDemoSiteStateless(t)
	p := newPage(t, site+"/")
	connect := func(url, mode string) {
		t.Helper()
		// Connect is offered when disconnected, as to a user.
		if eval[bool](p, `document.getElementById('mcp-connect').disabled`) {
			eval[any](p, `document.getElementById('mcp-disconnect').click()`)
			p.waitFor(`document.getElementById('mcp-status').dataset.state === 'disconnected'`, 5*time.Second)
		}
		eval[any](p, `document.getElementById('mcp-status').dataset.state = 'clicked';
			document.getElementById('mcp-url').value = `+jsString(url)+`;
			document.getElementById('mcp-negotiation').value = `+jsString(mode)+`;
			document.getElementById('mcp-connect').click()`)
		p.waitFor(`['connected', 'error'].includes(document.getElementById('mcp-status').dataset.state)`, 10*time.Second)
	}
	status := func() string { return eval[string](p, `document.getElementById('mcp-status').textContent`) }
	era := func() string { return eval[string](p, `document.getElementById('mcp-era').dataset.era`) }
	call := func(tool, args string) {
		t.Helper()
		eval[any](p, `document.querySelector('#tools [data-tool="`+tool+`"]').click();
			document.getElementById('tool-args').value = `+jsString(args)+`;
			document.getElementById('tool-call').click()`)
	}
	settled := `!document.getElementById('result').classList.contains('pending')`
	result := func() string { return eval[string](p, `document.getElementById('result').innerText`) }

	// Pinned to 2026-07-28: the stateless server.
	connect("/mcp-stateless", "pin")
	require.Equal(t, "connected", eval[string](p, `document.getElementById('mcp-status').dataset.state`), status())
	assert.Equal(t, "modern", era(), "the era shown")
	assert.Contains(t, status(), "protocol 2026-07-28")
	assert.True(t, eval[bool](p, `document.getElementById('mcp-terminate').disabled`), "no session to terminate")
	p.waitFor(`document.querySelector('#tools [data-tool="region"]') !== null`, 10*time.Second)

	call("echo", `{"text": "hello 2026"}`)
	p.waitFor(settled, 10*time.Second)
	assert.Contains(t, result(), "hello 2026")

	// The console derives Mcp-Param-Region from the tool's schema.
	call("region", `{"region": "Zürich", "text": "grüezi"}`)
	p.waitFor(settled, 10*time.Second)
	assert.Contains(t, result(), "region=Zürich text=grüezi")

	// ESSHIM_DEMO_SCREENSHOT=/path.png saves the console as it is now, to
	// look at.
	if path := os.Getenv("ESSHIM_DEMO_SCREENSHOT"); path != "" {
		require.NoError(t, chromedp.Do(p.ctx, chromedp.EmulateViewport(1280, 1000)))
		png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(path, png, 0o644))
	}

	// Cancel aborts the call's POST: the server's tool sees it.
	call("slow", `{"ms": 20000}`)
	p.waitFor(`!document.getElementById('tool-cancel').disabled`, 5*time.Second)
	require.Eventually(t, func() bool {
		for _, r := range stateless.Requests() {
			if r.Tool == "slow" && !r.ToolStarted.IsZero() {
				return true
			}
		}
		return false
	}, 10*time.Second, 10*time.Millisecond, "the slow tool started")
	eval[any](p, `document.getElementById('tool-cancel').click()`)
	p.waitFor(settled, 5*time.Second)
	assert.Contains(t, result(), "CANCELLED")
	require.Eventually(t, func() bool {
		for _, r := range stateless.Requests() {
			if r.Tool == "slow" && !r.ToolCancelled.IsZero() && !r.ClientClosed.IsZero() {
				return true
			}
		}
		return false
	}, 5*time.Second, 10*time.Millisecond, "the server saw the slow call's POST closed and its tool cancelled")

	// A lost stream settles the call at once, and the console goes on.
	start := time.Now()
	call("cut", `{"afterMs": 100}`)
	p.waitFor(settled, 5*time.Second)
	assert.Less(t, time.Since(start), 3*time.Second, "the cut call settled")
	assert.Contains(t, eval[string](p, `document.getElementById('result').className`), "error", result())
	call("echo", `{"text": "after the cut"}`)
	p.waitFor(settled, 10*time.Second)
	assert.Contains(t, result(), "after the cut")

	for _, r := range stateless.Requests() {
		assert.Equal(t, http.MethodPost, r.Method, "a 2026-07-28 console only POSTs")
		assert.Empty(t, r.SessionID, "%s carried Mcp-Session-Id", r.RPC)
		assert.Equal(t, "2026-07-28", r.ProtocolVersion, "%s carried MCP-Protocol-Version", r.RPC)
		assert.Equal(t, r.RPC, r.McpMethod, "Mcp-Method of %s", r.RPC)
		if r.Tool == "region" {
			assert.Equal(t, encodedZurich, r.Params["Mcp-Param-Region"])
		}
	}

	// 'legacy' on the same server: the 2025 handshake, without a session.
	connect("/mcp-stateless", "legacy")
	assert.Equal(t, "legacy", era(), status())
	call("echo", `{"text": "hello 2025"}`)
	p.waitFor(settled, 10*time.Second)
	assert.Contains(t, result(), "hello 2025")

	// 2026-07-28 pinned against a 2025 server: a clear failure.
	connect("/mcp", "pin")
	assert.Equal(t, "error", eval[string](p, `document.getElementById('mcp-status').dataset.state`))
	assert.Equal(t, "none", era())
	t.Logf("pin 2026-07-28 against the 2025 server: %s", status())

	// And back to 'auto': the 2025 server with its session.
	connect("/mcp", "auto")
	assert.Equal(t, "legacy", era(), status())
	assert.NotEqual(t, "none", eval[string](p, `document.getElementById('snap-session').textContent`))

}
