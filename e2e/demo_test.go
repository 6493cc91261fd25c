package e2e

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/esshim/esshim/e2e/mcpserver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newDemoSite serves what `make run` serves: the console page from web/,
// the module from dist/ and the example MCP server at /mcp, on one origin.
func newDemoSite(t *testing.T, opts ...mcpserver.Option) string {
	t.Helper()
	server := mcpserver.NewHandler(opts...)
	t.Cleanup(server.Close)
	mux := http.NewServeMux()
	mux.Handle("/dist/", noCache(http.StripPrefix("/dist/", http.FileServer(http.Dir("../dist")))))
	mux.Handle("/", noCache(http.FileServer(http.Dir("../web"))))
	mux.Handle("/mcp", server)
	return newLocalServer(t, mux).URL
}

// TestDemoConsole drives the demo page the way a user does: connect, pick a
// tool, call it, and watch the connection manager and the log.
func TestDemoConsole(t *testing.T) {
	p := newPage(t, newDemoSite(t, mcpserver.WithTicker(100*time.Millisecond))+"/")

	eval[any](p, `document.getElementById('mcp-connect').click()`)
	p.waitFor(`document.getElementById('mcp-status').dataset.state === 'connected'`, 10*time.Second)
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
	for _, want := range []string{"initialize", "notifications/initialized", "tools/list", "tools/call echo", "notifications/progress"} {
		assert.Contains(t, logText, want)
	}

	eval[any](p, `document.getElementById('mcp-disconnect').click()`)
	p.waitFor(`document.getElementById('mcp-status').dataset.state === 'disconnected'`, 10*time.Second)
	p.waitFor(`document.querySelectorAll('#streams tr.live').length === 0`, 5*time.Second)
}
