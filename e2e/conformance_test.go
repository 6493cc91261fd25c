package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"

	"github.com/esshim/esshim/e2e/chromium"
)

// conformanceScenarios are the client auth scenarios of
// @modelcontextprotocol/conformance 0.1.16 that the issue names.
var conformanceScenarios = []string{
	"auth/metadata-default", "auth/metadata-var1", "auth/metadata-var2", "auth/metadata-var3",
	"auth/basic-cimd",
	"auth/scope-from-www-authenticate", "auth/scope-from-scopes-supported", "auth/scope-omitted-when-undefined",
	"auth/scope-step-up", "auth/scope-retry-limit",
	"auth/token-endpoint-auth-basic", "auth/token-endpoint-auth-post", "auth/token-endpoint-auth-none",
	"auth/pre-registration",
	"auth/2025-03-26-oauth-metadata-backcompat", "auth/2025-03-26-oauth-endpoint-fallback",
	"auth/resource-mismatch", "auth/offline-access-scope", "auth/offline-access-not-supported",
}

// conformanceVariants: the SDK Client of each generation over the SDK's
// own transport (the control) and over esshim's.
var conformanceVariants = []string{"v1-sdk", "v1-esshim", "v2-sdk", "v2-esshim"}

// TestConformanceAuth runs the conformance suite's client auth scenarios
// with its own runner (Node 22, e2e/conformance): the runner starts each
// scenario's servers and spawns conformance/client.mjs, which asks this
// test to run the client in a Chromium tab on the scenario server's
// origin (testdata/oauth-client.js), then judges what the servers saw.
// Every scenario must end as it ends with the SDK's own transport, for
// both SDK generations; the table of results goes to the test log.
func TestConformanceAuth(t *testing.T) {
	t.Parallel()
	node := filepath.Join("conformance", "node_modules", "node", "bin", "node")
	runner := filepath.Join("conformance", "node_modules", "@modelcontextprotocol", "conformance", "dist", "index.js")
	for _, f := range []string{node, runner} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("%s is missing: run `make conformance` (make e2e does): %v", f, err)
		}
	}
	browser := conformanceBrowser(t)
	controller := newLocalServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			ServerURL string          `json:"serverUrl"`
			Variant   string          `json:"variant"`
			Scenario  string          `json:"scenario"`
			Context   json.RawMessage `json:"context"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		out := runConformanceClient(browser, req.ServerURL, req.Variant, req.Context)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	}))

	scenarios := conformanceScenarios
	if only := os.Getenv("ESSHIM_CONFORMANCE_SCENARIOS"); only != "" {
		scenarios = strings.Split(only, ",") // for a quick local run of a few
	}
	type key struct{ scenario, variant string }
	results := map[key]bool{}
	outputs := map[key]string{}
	var mu sync.Mutex
	jobs := make(chan key)
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range jobs {
				// Generous bounds: on a loaded 2-core machine a tab takes 10 s
				// to load esshim and the SDK; idle, a scenario takes 2-3 s.
				ctx, cancel := context.WithTimeout(context.Background(), 240*time.Second)
				cmd := exec.CommandContext(ctx, node, runner, "client",
					"--command", node+" conformance/client.mjs", "--scenario", k.scenario, "--timeout", "150000")
				cmd.Env = append(os.Environ(),
					"ESSHIM_CONFORMANCE_CONTROLLER="+controller.URL,
					"ESSHIM_CONFORMANCE_VARIANT="+k.variant)
				began := time.Now()
				out, err := cmd.CombinedOutput()
				cancel()
				out = append(out, fmt.Sprintf("\n(runner took %v)", time.Since(began).Round(time.Millisecond))...)
				mu.Lock()
				results[k] = err == nil
				outputs[k] = string(out)
				mu.Unlock()
			}
		}()
	}
	for _, s := range scenarios {
		for _, v := range conformanceVariants {
			jobs <- key{s, v}
		}
	}
	close(jobs)
	wg.Wait()

	var table strings.Builder
	fmt.Fprintf(&table, "%-45s %-8s %-8s %-8s %-8s\n", "scenario", "v1-sdk", "v1-esshim", "v2-sdk", "v2-esshim")
	mark := map[bool]string{true: "pass", false: "FAIL"}
	for _, s := range scenarios {
		fmt.Fprintf(&table, "%-45s", s)
		for _, v := range conformanceVariants {
			fmt.Fprintf(&table, " %-8s", mark[results[key{s, v}]])
		}
		table.WriteString("\n")
	}
	for k, ok := range results {
		if (!ok || os.Getenv("ESSHIM_CONFORMANCE_VERBOSE") == "all") && os.Getenv("ESSHIM_CONFORMANCE_VERBOSE") != "" {
			t.Logf("%s %s:\n%s", k.scenario, k.variant, outputs[k])
		}
	}
	t.Logf("conformance client auth scenarios (@modelcontextprotocol/conformance 0.1.16):\n%s", table.String())
	for _, s := range scenarios {
		for _, gen := range []string{"v1", "v2"} {
			control, esshim := key{s, gen + "-sdk"}, key{s, gen + "-esshim"}
			if !assert.Equal(t, results[control], results[esshim], "%s, SDK %s: esshim ends as the SDK's own transport", s, gen) {
				t.Logf("control:\n%s\nesshim:\n%s", outputs[control], outputs[esshim])
			}
		}
	}
}

// conformanceResult is what the page's runScenario returns.
type conformanceResult struct {
	OK    bool     `json:"ok"`
	Error string   `json:"error,omitempty"`
	Log   []string `json:"log"`
}

// runConformanceClient runs one scenario's client in a new tab on the
// origin of serverURL: the tab serves the test page and the bundles under
// /__esshim/ of that origin by request interception.
func runConformanceClient(browser context.Context, serverURL, variant string, scenarioContext json.RawMessage) conformanceResult {
	u, err := url.Parse(serverURL)
	if err != nil {
		return conformanceResult{Error: err.Error()}
	}
	origin := u.Scheme + "://" + u.Host
	began := time.Now()
	ctx, cancel := chromedp.NewContext(browser)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 140*time.Second)
	defer cancelT()
	var logMu sync.Mutex
	var pageLog []string
	err = chromedp.Listen(ctx, func(ev any) {
		e, ok := ev.(*fetch.EventRequestPaused)
		if !ok {
			return
		}
		go func() {
			if err := interceptConformance(ctx, e, origin); err != nil && ctx.Err() == nil {
				logMu.Lock()
				pageLog = append(pageLog, "interception: "+err.Error())
				logMu.Unlock()
			}
		}()
	})
	if err != nil {
		return conformanceResult{Error: "tab: " + err.Error()}
	}
	_, err = chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{
		{URLPattern: origin + "/__esshim/*", RequestStage: fetch.RequestStageRequest},
	}})
	if err == nil {
		err = chromedp.Do(ctx, chromedp.Navigate(origin+"/__esshim/conformance.html?sdk="+variant[:2]))
	}
	if err == nil {
		_, err = chromedp.Run(ctx, chromedp.Poll[bool](`globalThis.ready === true || (globalThis.loadError && Promise.reject(new Error(globalThis.loadError)))`, chromedp.WithPollingInterval(20*time.Millisecond)))
	}
	if err != nil {
		return conformanceResult{Error: "page: " + err.Error()}
	}
	loaded := time.Since(began)
	args, _ := json.Marshal(map[string]any{"variant": variant, "serverUrl": serverURL, "context": scenarioContext})
	out, err := chromedp.Run(ctx, chromedp.Evaluate[conformanceResult](`runScenario(`+string(args)+`)`, chromedp.EvalAwaitPromise))
	if err != nil {
		out.Error = "eval: " + err.Error()
	}
	logMu.Lock()
	out.Log = append(out.Log, pageLog...)
	out.Log = append(out.Log, fmt.Sprintf("page loaded in %v, client ran in %v", loaded.Round(time.Millisecond), (time.Since(began)-loaded).Round(time.Millisecond)))
	logMu.Unlock()
	return out
}

// interceptConformance answers a request for /__esshim/ of the scenario
// server's origin.
func interceptConformance(ctx context.Context, e *fetch.EventRequestPaused, origin string) error {
	u, err := url.Parse(e.Request.URL)
	if err != nil {
		_, err := chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: e.RequestID})
		return err
	}
	status, headers, body := conformanceFile(strings.TrimPrefix(u.Path, "/__esshim/"))
	_, err = chromedp.Call(ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{RequestID: e.RequestID, ResponseCode: status, ResponseHeaders: headers, Body: body})
	return err
}

// conformanceBrowser starts the Chromium of the conformance test, with
// web security off: the suite's servers send no CORS headers (its clients
// are not browsers), and what the test checks is the OAuth flow, which is
// the same with or without CORS. The other browser tests keep it on.
func conformanceBrowser(t *testing.T) context.Context {
	dir := t.TempDir()
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromium.Options(chromium.Path(), dir, chromedp.Flag("disable-web-security", true))...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// conformanceFile answers /__esshim/<name>: dist/ files under dist/, the
// test pages of testdata/ otherwise, and the callback page.
func conformanceFile(name string) (int64, []*fetch.HeaderEntry, []byte) {
	path := filepath.Join("testdata", filepath.FromSlash(name))
	if strings.HasPrefix(name, "dist/") {
		path = filepath.Join("..", filepath.FromSlash(name))
	}
	body, err := os.ReadFile(path)
	if name == "callback" {
		body, err = []byte("<!doctype html><title>callback</title>"), nil
	}
	if err != nil || strings.Contains(name, "..") {
		return http.StatusNotFound, nil, []byte("not found")
	}
	types := map[string]string{".js": "text/javascript", ".wasm": "application/wasm"}
	ct := types[filepath.Ext(name)]
	if ct == "" {
		ct = "text/html"
	}
	return http.StatusOK, []*fetch.HeaderEntry{{Name: "Content-Type", Value: ct}, {Name: "Cache-Control", Value: "no-store"}}, body
}
