package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/esshim/esshim/e2e/mcpserver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// appsDir holds the fixture apps that `make apps` builds from the npm
// package, as installed from its tarball (see e2e/bundlers/build.mjs).
const appsDir = "../dist/test/apps"

// appResult is what runApp (e2e/bundlers/app/run.js) reports.
type appResult struct {
	Version   string   `json:"version"`
	SessionID string   `json:"sessionId"`
	Echo      string   `json:"echo"`
	Wasm      []string `json:"wasm"`
}

// packageVersion is the version in the package's manifest, the one source
// of the version (the Makefile builds it into the wasm too).
func packageVersion(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../js/package.json")
	require.NoError(t, err)
	var m struct{ Version string }
	require.NoError(t, json.Unmarshal(b, &m))
	require.NotEmpty(t, m.Version)
	return m.Version
}

// newMCPServer starts the go-sdk example server on an origin of its own,
// callable from pages of any origin, and returns its endpoint.
func newMCPServer(t *testing.T) string {
	t.Helper()
	h := mcpserver.NewHandler(mcpserver.WithAllowedOrigin("*"))
	t.Cleanup(h.Close)
	return newLocalServer(t, h).URL + "/mcp"
}

// serveApp serves one built app from appsDir on an origin of its own.
func serveApp(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(appsDir, name)
	_, err := os.Stat(filepath.Join(dir, "index.html"))
	require.NoError(t, err, "the %s app is missing: run `make apps` (`make e2e` does)", name)
	return newLocalServer(t, noCache(http.FileServer(http.Dir(dir)))).URL
}

// checkApp checks one run of runApp: the SDK's Client connected over
// esshim and called a tool, esshim is the packaged version, and the wasm
// came from where the app's build put it (wasm nil: not recorded, as
// Chromium keeps no resource timing for chrome-extension: loads).
func checkApp(t *testing.T, got appResult, wasm *regexp.Regexp) {
	t.Helper()
	assert.Equal(t, "bundled", got.Echo)
	assert.NotEmpty(t, got.SessionID)
	assert.Equal(t, packageVersion(t), got.Version, "shim.version is the package's version")
	if wasm != nil && assert.Len(t, got.Wasm, 1, "the app loads one wasm") {
		assert.Regexp(t, wasm, got.Wasm[0])
	}
}

// TestPackageBundlers runs the app that Vite, webpack 5 and esbuild each
// built from the npm package: served on its own origin, it connects the
// SDK's Client to the go-sdk server on another origin and calls a tool.
// The wasm must be the asset each bundler made of
// new URL('./esshim.wasm', import.meta.url) (esbuild keeps the expression,
// and the app ships the wasm beside its bundle).
func TestPackageBundlers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		app  string
		wasm string // the path of the wasm the page loads
	}{
		{"vite", `^/assets/esshim-[\w-]+\.wasm$`},
		{"webpack", `^/[0-9a-f]{20}\.wasm$`},
		{"esbuild", `^/esshim\.wasm$`},
	} {
		t.Run(tc.app, func(t *testing.T) {
			t.Parallel()
			origin := serveApp(t, tc.app)
			endpoint := newMCPServer(t)
			p := newPage(t, origin+"/index.html")
			got := eval[appResult](p, `runApp(`+jsString(endpoint)+`)`)
			checkApp(t, got, regexp.MustCompile("^"+regexp.QuoteMeta(origin)+tc.wasm[1:]))
		})
	}
}

// TestPackageClassicScript loads the package's esshim.iife.js with a
// plain <script>, in a page without any module, where import.meta does not
// exist: load() must find the wasm beside the script, and the transport
// must work (driven by hand, as the SDK is a module).
func TestPackageClassicScript(t *testing.T) {
	t.Parallel()
	origin := serveApp(t, "classic")
	endpoint := newMCPServer(t)
	p := newPage(t, origin+"/index.html")
	type result struct {
		Modules int      `json:"modules"`
		Keys    []string `json:"keys"`
		Version string   `json:"version"`
		Echo    string   `json:"echo"`
		Wasm    []string `json:"wasm"`
	}
	got := eval[result](p, `(async () => {
		const shim = await esshim.load();
		const transport = new shim.StreamableHTTPClientTransport(`+jsString(endpoint)+`);
		const waiting = new Map();
		transport.onmessage = (m) => waiting.get(m.id)?.(m);
		const request = (id, method, params) => new Promise((resolve) => {
			waiting.set(id, resolve);
			transport.send({ jsonrpc: '2.0', id, method, params });
		});
		await transport.start();
		const init = await request(1, 'initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'classic', version: '1' } });
		transport.setProtocolVersion(init.result.protocolVersion);
		await transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
		const echo = await request(2, 'tools/call', { name: 'echo', arguments: { text: 'classic' } });
		await transport.close();
		return {
			modules: document.querySelectorAll('script[type=module]').length,
			keys: Object.keys(esshim),
			version: shim.version,
			echo: echo.result.content[0].text,
			wasm: performance.getEntriesByType('resource').map((e) => e.name).filter((n) => n.endsWith('.wasm')),
		};
	})()`)
	assert.Zero(t, got.Modules, "the page has no module script")
	assert.Equal(t, []string{"load"}, got.Keys, "globalThis.esshim is { load }")
	assert.Equal(t, packageVersion(t), got.Version)
	assert.Equal(t, "classic", got.Echo)
	assert.Equal(t, []string{origin + "/esshim.wasm"}, got.Wasm)
}

// TestPackageExtension loads the MV3 extension bundled from the npm package
// (e2e/bundlers/extension) and runs the app in its service worker and in
// one of its pages: each connects the SDK's Client to the go-sdk server and
// calls a tool. The extension's host permission for 127.0.0.1 lets it
// fetch without CORS, so this server sends no CORS headers at all.
func TestPackageExtension(t *testing.T) {
	t.Parallel()
	h := mcpserver.NewHandler()
	t.Cleanup(h.Close)
	endpoint := newLocalServer(t, h).URL + "/mcp"

	ctx := extensionBrowser(t, extensionDir(t))
	swCtx := attachExtensionWorker(t, ctx)
	evalCtx, cancel := context.WithTimeout(swCtx, 60*time.Second)
	defer cancel()
	waitWorkerFunction(t, evalCtx, "runApp")
	got, err := chromedp.Run(evalCtx, chromedp.Evaluate[appResult](`runApp(`+jsString(endpoint)+`)`, chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	checkApp(t, got, nil)

	origin, err := chromedp.Run(evalCtx, chromedp.Evaluate[string](`location.origin`))
	require.NoError(t, err)
	p := newPageIn(t, ctx, origin+"/page.html")
	checkApp(t, eval[appResult](p, `runApp(`+jsString(endpoint)+`)`), nil)
}
