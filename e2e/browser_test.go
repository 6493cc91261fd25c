package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/esshim/esshim/e2e/chromium"
)

// browserCtx is one headless Chromium shared by every test; each test gets
// its own tab (see newPage).
var browserCtx context.Context

func TestMain(m *testing.M) {
	os.Exit(runWithBrowser(m))
}

func runWithBrowser(m *testing.M) int {
	path := chromium.Path()
	// A missing browser is a failure, never a skip: a green run must mean
	// the browser tests ran.
	if _, err := exec.LookPath(path); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: Chromium not found at %s. `make test` installs it; by hand: apt-get update && apt-get install -y chromium\n", path)
		return 1
	}
	if _, err := os.Stat("../dist/esshim.wasm"); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: ../dist/esshim.wasm is missing: run `make build` first (`make e2e` does)")
		return 1
	}
	userData, err := os.MkdirTemp("", "esshim-chromium-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(userData)

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromium.Options(path, userData)...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	// The first Run starts the browser; it must not carry a timeout.
	if err := chromedp.Do(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: starting Chromium:", err)
		return 1
	}
	browserCtx = ctx
	return m.Run()
}

// page is one browser tab on a test page that has loaded esshim into
// globalThis.shim.
type page struct {
	t   *testing.T
	ctx context.Context
}

// newPage opens url in a new tab and waits until the page sets
// globalThis.ready (the test pages do once `load()` resolves). Console
// output and uncaught exceptions of the tab go to the test log.
func newPage(t *testing.T, url string) *page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browserCtx)
	var mu sync.Mutex
	ended := false
	logf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if !ended {
			t.Logf(format, args...)
		}
	}
	t.Cleanup(func() {
		mu.Lock()
		ended = true
		mu.Unlock()
		cancel()
	})
	err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			var parts []string
			for _, a := range ev.Args {
				if a.Value != nil {
					parts = append(parts, string(a.Value))
				} else {
					parts = append(parts, a.Description)
				}
			}
			logf("console.%s: %s", ev.Type, strings.Join(parts, " "))
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			desc := d.Text
			if d.Exception != nil {
				desc += " " + d.Exception.Description
			}
			logf("page exception: %s", desc)
		}
	})
	if err != nil {
		t.Fatalf("open tab: %v", err)
	}
	p := &page{t: t, ctx: ctx}
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("navigate %s: %v", url, err)
	}
	p.waitFor(`globalThis.ready === true || (globalThis.loadError && Promise.reject(new Error(globalThis.loadError)))`, 30*time.Second)
	return p
}

// waitFor polls a JS expression until it is truthy.
func (p *page) waitFor(expr string, timeout time.Duration) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, timeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(20*time.Millisecond))); err != nil {
		p.t.Fatalf("waiting for %s: %v", expr, err)
	}
}

// eval evaluates a JS expression in the page, awaiting it if it is a
// promise, and decodes the JSON result into T.
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	v, err := evalErr[T](p, expr)
	if err != nil {
		p.t.Fatalf("eval %s: %v", abbreviate(expr), err)
	}
	return v
}

// evalErr is eval that returns the error (a thrown exception included).
func evalErr[T any](p *page, expr string) (T, error) {
	return evalErrWithin[T](p, expr, 60*time.Second)
}

// evalWithin is eval with a time limit of its own, for a scenario whose
// correctness does not depend on the machine's speed, which a loaded
// machine can stretch past eval's minute.
func evalWithin[T any](p *page, expr string, timeout time.Duration) T {
	p.t.Helper()
	v, err := evalErrWithin[T](p, expr, timeout)
	if err != nil {
		p.t.Fatalf("eval %s: %v", abbreviate(expr), err)
	}
	return v
}

func evalErrWithin[T any](p *page, expr string, timeout time.Duration) (T, error) {
	ctx, cancel := context.WithTimeout(p.ctx, timeout)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

func abbreviate(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}
