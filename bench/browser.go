package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/heapprofiler"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	chromeopts "github.com/esshim/esshim/e2e/chromium"
)

// chromium is one headless Chromium for the whole run.
type chromium struct {
	ctx     context.Context
	cancel  func()
	version string
}

// startChromium starts the browser with the flags of the e2e tests and a
// fresh profile directory.
func startChromium(path string) (*chromium, error) {
	if _, err := exec.LookPath(path); err != nil {
		return nil, fmt.Errorf("Chromium not found at %s (`make bench` installs it; by hand: apt-get update && apt-get install -y chromium)", path)
	}
	userData, err := os.MkdirTemp("", "esshim-bench-chromium-")
	if err != nil {
		return nil, err
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromeopts.Options(path, userData)...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	c := &chromium{ctx: ctx, cancel: func() {
		cancel()
		cancelAlloc()
		_ = os.RemoveAll(userData)
	}}
	// The first Run starts the browser and its first tab; it must not carry
	// a timeout. Tabs are then opened next to that one.
	if err := chromedp.Do(ctx); err != nil {
		c.cancel()
		return nil, fmt.Errorf("starting Chromium: %w", err)
	}
	v, err := chromedp.CallBrowser(ctx, browser.GetVersion, cdp.Empty{})
	if err != nil {
		c.cancel()
		return nil, fmt.Errorf("starting Chromium: %w", err)
	}
	c.version = v.Product
	return c, nil
}

func (c *chromium) close() { c.cancel() }

// tab is one browser tab.
type tab struct {
	ctx    context.Context
	cancel func()

	mu     sync.Mutex
	errors []string // uncaught exceptions of the page
}

// openTab opens url in a new tab and waits until the page sets
// globalThis.ready. With isolated set, the tab lives in a browser context
// of its own (its own process, cache and compiled-code caches), which is
// what a cold load needs.
func (c *chromium) openTab(url string, isolated bool, timeout time.Duration) (*tab, error) {
	var opts []chromedp.ContextOption
	if isolated {
		opts = append(opts, chromedp.WithNewBrowserContext())
	}
	ctx, cancel := chromedp.NewContext(c.ctx, opts...)
	t := &tab{ctx: ctx, cancel: cancel}
	if err := chromedp.Listen(ctx, t.onEvent); err != nil {
		cancel()
		return nil, err
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		cancel()
		return nil, fmt.Errorf("navigate %s: %w", url, err)
	}
	if err := t.waitReady(timeout); err != nil {
		cancel()
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	return t, nil
}

func (t *tab) onEvent(ev any) {
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		desc := d.Text
		if d.Exception != nil {
			desc += " " + d.Exception.Description
		}
		t.mu.Lock()
		t.errors = append(t.errors, desc)
		t.mu.Unlock()
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
			var parts []string
			for _, a := range ev.Args {
				if a.Value != nil {
					parts = append(parts, string(a.Value))
				} else {
					parts = append(parts, a.Description)
				}
			}
			fmt.Fprintf(os.Stderr, "bench: page console.%s: %s\n", ev.Type, strings.Join(parts, " "))
		}
	}
}

func (t *tab) close() { t.cancel() }

// waitReady polls until the page set globalThis.ready, or fails with the
// page's globalThis.loadError.
func (t *tab) waitReady(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(t.ctx, timeout)
	defer cancel()
	for {
		state, err := chromedp.Run(ctx, chromedp.Evaluate[string](`globalThis.ready === true ? 'ready' : (globalThis.loadError ? 'error: ' + globalThis.loadError : '')`))
		if err == nil && state == "ready" {
			return nil
		}
		if err == nil && strings.HasPrefix(state, "error: ") {
			return errors.New(state)
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return fmt.Errorf("page never became ready: %w", err)
			}
			return errors.New("page never became ready")
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// evaluate runs a JS expression, awaiting a promise, and decodes its JSON
// value into T. A thrown exception, or an uncaught one since the last
// call, is an error: the bench must fail loudly when a page breaks.
func evaluate[T any](t *tab, expr string, timeout time.Duration) (T, error) {
	ctx, cancel := context.WithTimeout(t.ctx, timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		return v, fmt.Errorf("%s: %w", abbreviate(expr), err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.errors) > 0 {
		errs := t.errors
		t.errors = nil
		return v, fmt.Errorf("%s: uncaught exception in the page: %s", abbreviate(expr), strings.Join(errs, "; "))
	}
	return v, nil
}

// heapUsed collects garbage (twice: finalizers of the first pass free more
// in the second) and returns the JS heap in use, in bytes.
func (t *tab) heapUsed() (float64, error) {
	return chromedp.Run(t.ctx, func(ctx context.Context, tg *chromedp.Target) (float64, error) {
		for range 2 {
			if _, err := cdp.Call(ctx, tg, heapprofiler.CollectGarbage, cdp.Empty{}); err != nil {
				return 0, err
			}
		}
		u, err := cdp.Call(ctx, tg, runtime.GetHeapUsage, cdp.Empty{})
		if err != nil {
			return 0, err
		}
		return u.UsedSize, nil
	})
}

func abbreviate(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 100 {
		return s[:100] + "…"
	}
	return s
}
