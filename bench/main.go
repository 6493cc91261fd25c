// Command bench is esshim's benchmark against its alternatives: the MCP
// TypeScript SDK's StreamableHTTPClientTransport, the `eventsource` npm
// package and the browser's native EventSource. It drives headless
// Chromium with chromedp against servers on 127.0.0.1 that it starts
// itself, measures every figure side by side with its alternative in the
// same run, prints the table and writes it to bench/results.json.
//
// It is a benchmark, not a test: a missed target never makes it fail. It
// fails when it cannot measure, for example when a page throws or a
// client receives the wrong data.
//
//	go run ./bench            # the full run (`make bench`)
//	go run ./bench -quick     # every figure once with small counts (`make bench-quick`)
//	go run ./bench -profile=notifications   # a CPU profile of esshim in one figure
//
// Run `make build npm` first: the bench loads dist/esshim.js and the npm
// bundles of dist/test/. See bench/README.md.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	quick := flag.Bool("quick", false, "run every figure once with small counts, to prove that the bench works")
	out := flag.String("out", "", "where to write the results as JSON (default bench/results.json)")
	chromiumPath := flag.String("chromium", envOr("CHROMIUM", "/usr/bin/chromium"), "the Chromium binary")
	profile := flag.String("profile", "", "instead of the figures, record a CPU profile of esshim in one figure: "+profileNames())
	profileOut := flag.String("profile-out", "", "with -profile: also write the raw .cpuprofile (DevTools can open it) to this file")
	verbose := flag.Bool("v", false, "log progress to stderr")
	eval := flag.String("eval", "", "instead of the figures, evaluate this JS expression in the bench page (bench.* are the functions of bench/pages/bench.js) and print its JSON value")
	query := flag.String("query", "", "with -eval: the bench page's query string, e.g. ?crossings to count Go↔JS crossings (see bench.takeCrossings)")
	versus := flag.String("versus", "", "compare the build under test with the esshim build in this dist directory instead of with the alternatives (round trips, notifications, EventSource, large result), e.g. to measure a change")
	distFlag := flag.String("dist", "", "the dist directory to benchmark (default dist/ of the module), e.g. another build to compare; dist/test/ is always taken from the module")
	cycles := flag.Int("cycles", 0, "start/close cycles of the memory figure, instead of the mode's count (to tell a leak from the GC's pacing)")
	markdown := flag.Bool("markdown", false, "print the table as Markdown too, for bench/README.md's Performance section")
	only := flag.String("only", "", "run only these figures, comma-separated: "+strings.Join(figureNames, ", "))
	flag.Parse()

	root, err := moduleRoot()
	if err != nil {
		return err
	}
	dist := filepath.Join(root, "dist")
	if *distFlag != "" {
		if dist, err = filepath.Abs(*distFlag); err != nil {
			return err
		}
	}
	for _, f := range []string{filepath.Join(dist, "esshim.wasm"), filepath.Join(dist, "esshim.js"), filepath.Join(root, "dist/test/sdk.js"), filepath.Join(root, "dist/test/eventsource.js")} {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("%s is missing: run `make build npm` first (`make bench` does)", f)
		}
	}
	buildDir, err := os.MkdirTemp("", "esshim-bench-build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(buildDir)

	b := &bench{root: root, dist: dist, buildDir: buildDir, n: fullCounts, log: func(string, ...any) {}}
	mode := "full"
	if *quick {
		b.n, mode = quickCounts, "quick"
	}
	if *cycles > 1 {
		b.n.Cycles = *cycles
	}
	start := time.Now()
	if *verbose {
		b.log = func(format string, args ...any) {
			fmt.Fprintf(os.Stderr, "bench: %5.1fs "+format+"\n", append([]any{time.Since(start).Seconds()}, args...)...)
		}
	}

	busyBefore := cpuBusy(time.Second)
	if err := buildHello(root, buildDir); err != nil {
		return fmt.Errorf("building the hello-world wasm: %w", err)
	}
	if *versus != "" {
		if b.versus, err = filepath.Abs(*versus); err != nil {
			return err
		}
		if _, err := os.Stat(filepath.Join(b.versus, "esshim.js")); err != nil {
			return fmt.Errorf("-versus: %w", err)
		}
		if *only == "" {
			*only = "roundtrip,notifications,eventsource,large"
		}
	}
	b.site, err = startSite(dist, filepath.Join(root, "dist", "test"), filepath.Join(root, "bench", "pages"), buildDir, b.versus)
	if err != nil {
		return err
	}
	defer b.site.close()
	b.browser, err = startChromium(*chromiumPath)
	if err != nil {
		return err
	}
	defer b.browser.close()
	b.log("Chromium %s, site %s", b.browser.version, b.site.url)

	if *eval != "" {
		return b.eval(*eval, *query)
	}
	if *profile != "" {
		return b.profile(*profile, *profileOut)
	}

	if b.versus != "" {
		mode = "versus " + b.versus
	}
	selected, err := selectFigures(*only)
	if err != nil {
		return err
	}
	if b.versus != "" && (selected["cold"] || selected["size"] || selected["memory"]) {
		return errors.New("-versus compares roundtrip, notifications, eventsource and large only")
	}
	b.rep = &report{Mode: mode, Time: nowString(), Machine: describeMachine(b.browser.version, busyBefore)}
	if err := b.runFigures(selected, *quick); err != nil {
		return err
	}
	if note := b.rep.Machine.busyNote(); note != "" {
		b.rep.Notes = append(b.rep.Notes, note)
	}
	b.rep.print(os.Stdout)
	if *markdown {
		fmt.Print("\n" + b.rep.markdown() + "\n")
	}
	if *out == "" {
		*out = filepath.Join(root, "bench", "results.json")
	}
	if err := b.rep.write(*out); err != nil {
		return err
	}
	fmt.Printf("wrote %s in %.0f s\n", *out, time.Since(start).Seconds())
	if missed := b.rep.missed(); missed > 0 {
		fmt.Printf("%d target(s) missed; bench/README.md says where the time goes. A benchmark never fails the build on a missed target.\n", missed)
	}
	return nil
}

// runFigures runs the selected figures in the order of figureNames. The
// size figure compresses with brotli -q 11, which takes seconds per
// megabyte: in a full run it goes first, alone, so that it does not steal
// the CPU from the browser figures; in quick mode, whose values do not
// matter, it runs next to them.
func (b *bench) runFigures(selected map[string]bool, quick bool) error {
	type sized struct {
		s   wasmSizes
		err error
	}
	sizes := make(chan sized, 1)
	if selected["size"] {
		measure := func() {
			s, err := b.measureSizes()
			sizes <- sized{s, err}
		}
		if quick {
			go measure()
		} else {
			measure()
		}
	}
	figures := map[string]func() error{
		"roundtrip": b.roundTrips, "notifications": b.notifications, "eventsource": b.eventSources,
		"large": b.largeResult, "cold": b.coldLoads, "memory": b.memory,
	}
	for _, name := range figureNames {
		if !selected[name] || name == "size" {
			continue
		}
		if err := figures[name](); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	if selected["size"] {
		sz := <-sizes
		if sz.err != nil {
			return sz.err
		}
		b.addSizes(sz.s)
		b.log("sizes done")
	}
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

var errUnknownProfile = errors.New("unknown -profile figure")

// figureNames are the figures in the order they run and -only names them.
var figureNames = []string{"roundtrip", "notifications", "eventsource", "large", "cold", "size", "memory"}

func selectFigures(only string) (map[string]bool, error) {
	selected := map[string]bool{}
	if only == "" {
		for _, name := range figureNames {
			selected[name] = true
		}
		return selected, nil
	}
	for name := range strings.SplitSeq(only, ",") {
		if !slices.Contains(figureNames, name) {
			return nil, fmt.Errorf("unknown figure %q in -only; want some of %s", name, strings.Join(figureNames, ","))
		}
		selected[name] = true
	}
	return selected, nil
}
