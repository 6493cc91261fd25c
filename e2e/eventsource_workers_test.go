package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"github.com/esshim/esshim/e2e/chromium"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// workerResult is what testdata/eventsource-worker-run.js reports.
type workerResult struct {
	Logs             [][]string `json:"logs"`
	HasWindow        bool       `json:"hasWindow"`
	HasDocument      bool       `json:"hasDocument"`
	InstalledWasShim bool       `json:"installedWasShim"`
	Restored         bool       `json:"restored"`
	Location         string     `json:"location"`
	Global           string     `json:"global"`
	Error            string     `json:"error"`
}

// workerScript is the server side of the worker tests: one stream, then a
// 204 that fails the connection for good.
func workerScript(t *testing.T) *esScript {
	return newESScript(t, stream("retry: 20\nid: w1\ndata: hello worker\n\n"), failWith204)
}

// checkWorkerResult checks that both EventSources in the worker (one made
// through install(self)) saw the whole sequence over one shared
// connection, without any window or document.
func checkWorkerResult(t *testing.T, got workerResult, sc *esScript) {
	t.Helper()
	require.Empty(t, got.Error)
	want := []string{"open:1", "message:hello worker:w1:true", "error:0", "error:2"}
	assert.Equal(t, [][]string{want, want}, got.Logs)
	assert.False(t, got.HasWindow, "typeof window")
	assert.False(t, got.HasDocument, "typeof document")
	assert.True(t, got.InstalledWasShim, "install(self) works in the worker")
	assert.True(t, got.Restored, "uninstall() restores the worker's global")
	assert.Equal(t, 2, sc.count(), "the two instances share the connection and its reconnection")
}

// TestEventSourceWorkers runs shim.EventSource in a dedicated module worker
// and in the service worker of a Manifest V3 extension.
func TestEventSourceWorkers(t *testing.T) {
	t.Parallel()

	t.Run("dedicated module worker", func(t *testing.T) {
		t.Parallel()
		s := newSite(t)
		sc := workerScript(t)
		s.mux.Handle("/worker/stream", sc)
		p := newPage(t, s.URL+"/index.html")
		got := eval[workerResult](p, `new Promise((resolve, reject) => {
			const w = new Worker('/eventsource-worker.js', { type: 'module' });
			w.onmessage = (m) => { resolve(m.data); w.terminate(); };
			w.onerror = (e) => reject(new Error('worker error: ' + e.message));
			w.postMessage({ url: new URL('/worker/stream', location.href).href });
		})`)
		checkWorkerResult(t, got, sc)
		assert.Equal(t, s.URL+"/eventsource-worker.js", got.Location)
		assert.Equal(t, "[object DedicatedWorkerGlobalScope]", got.Global)
	})

	t.Run("extension service worker", func(t *testing.T) {
		t.Parallel()
		s := newSite(t)
		sc := workerScript(t)
		s.mux.Handle("/worker/stream", sc)
		dir := extensionDir(t)
		ctx := extensionBrowser(t, dir)
		swCtx := attachExtensionWorker(t, ctx)
		evalCtx, cancel := context.WithTimeout(swCtx, 30*time.Second)
		defer cancel()
		waitWorkerFunction(t, evalCtx, "runEventSourceTest")
		got, err := chromedp.Run(evalCtx, chromedp.Evaluate[workerResult](
			`runEventSourceTest(`+esJSON(t, s.URL+"/worker/stream")+`)`, chromedp.EvalAwaitPromise))
		require.NoError(t, err)
		checkWorkerResult(t, got, sc)
		assert.Regexp(t, `^chrome-extension://[a-p]{32}/sw\.js$`, got.Location)
		assert.Equal(t, "[object ServiceWorkerGlobalScope]", got.Global)
	})
}

// extensionDir copies the extension that `make apps` bundled from the npm
// package (e2e/bundlers/extension, built into dist/test/apps/extension) to
// a temporary directory, so that each browser loads its own copy.
func extensionDir(t *testing.T) string {
	t.Helper()
	src := filepath.Join(appsDir, "extension")
	entries, err := os.ReadDir(src)
	require.NoError(t, err, "the bundled extension is missing: run `make apps` (`make e2e` does)")
	dir := t.TempDir()
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644))
	}
	return dir
}

// extensionBrowser starts a Chromium of its own with the unpacked
// extension in dir loaded (the shared test browser has none), and returns
// the context of its first tab.
func extensionBrowser(t *testing.T, dir string) context.Context {
	t.Helper()
	path := chromium.Path()
	_, err := exec.LookPath(path)
	require.NoError(t, err)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromium.Options(path, t.TempDir(),
		chromedp.Flag("load-extension", dir),
		chromedp.Flag("disable-extensions-except", dir),
		// Branded Chrome ignores --load-extension since version 137
		// unless this feature is disabled; Chromium honours it anyway.
		chromedp.Flag("disable-features", "DisableLoadExtensionCommandLineSwitch"),
	)...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	require.NoError(t, chromedp.Do(ctx), "starting the extension browser")
	return ctx
}

// waitWorkerFunction waits until the global function name exists in the
// worker of ctx. The worker target shows up before its module has run,
// even before its global scope is complete: poll from here.
func waitWorkerFunction(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	for {
		ready, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof `+name+` === 'function'`))
		require.NoError(t, err, "waiting for the service worker's module")
		if ready {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// attachExtensionWorker waits for the extension's service worker target
// and returns a context attached to it.
func attachExtensionWorker(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	var sw *target.Info
	deadline := time.Now().Add(15 * time.Second)
	for sw == nil {
		infos, err := chromedp.Targets(ctx)
		require.NoError(t, err)
		for _, info := range infos {
			if info.Type == "service_worker" && strings.HasPrefix(info.URL, "chrome-extension://") && strings.HasSuffix(info.URL, "/sw.js") {
				sw = info
			}
		}
		if sw == nil {
			if time.Now().After(deadline) {
				var seen []string
				for _, info := range infos {
					seen = append(seen, string(info.Type)+" "+info.URL)
				}
				t.Fatalf("the extension's service worker never appeared; targets: %v", seen)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	t.Logf("extension service worker: %s", sw.URL)
	swCtx, cancel := chromedp.NewContext(ctx, chromedp.WithTargetID(sw.TargetID))
	t.Cleanup(cancel)
	return swCtx
}
