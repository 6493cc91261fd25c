package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/profiler"
	"github.com/chromedp/chromedp"
)

// profileWorkload is one figure's page call for one side alone, so that
// its profile holds nothing of the other side.
type profileWorkload struct {
	kinds []string // the sides it can run; the first is the default
	call  func(n counts, kind string) string
}

var profileWorkloads = map[string]profileWorkload{
	"roundtrip": {[]string{"esshim", "sdk"}, func(n counts, kind string) string {
		return "roundTrips(" + jsArgs(map[string]any{"path": "/mcp", "calls": n.Calls, "warmup": 0, "kinds": []string{kind}}) + ")"
	}},
	"notifications": {[]string{"esshim", "sdk"}, func(n counts, kind string) string {
		return "notifications(" + jsArgs(map[string]any{"path": "/mcp", "count": n.Notifications, "rounds": n.NotificationRounds, "kinds": []string{kind}}) + ")"
	}},
	"notifications-client": {[]string{"esshim", "sdk"}, func(n counts, kind string) string {
		return "notificationsWithClient(" + jsArgs(map[string]any{"path": "/mcp", "count": n.Notifications, "rounds": n.NotificationRounds, "kinds": []string{kind}}) + ")"
	}},
	"large": {[]string{"esshim", "sdk"}, func(n counts, kind string) string {
		return "largeResult(" + jsArgs(map[string]any{"path": "/mcp", "bytes": n.LargeBytes, "rounds": n.LargeRound, "kinds": []string{kind}}) + ")"
	}},
	"eventsource": {[]string{"esshim", "npm", "native"}, func(n counts, kind string) string {
		var calls []string
		for range n.EventRounds {
			calls = append(calls, "await bench.eventSource("+jsArgs(map[string]any{"kind": kind, "n": n.Events, "size": n.EventSize})+");")
		}
		return "(async () => { " + strings.Join(calls, " ") + " })()"
	}},
}

func profileNames() string {
	var names []string
	for name, w := range profileWorkloads {
		names = append(names, name+"[:"+strings.Join(w.kinds, "|")+"]")
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// profile records a CPU profile of one figure's workload with Chromium's
// Profiler domain, on a build of esshim's wasm that keeps function names,
// and prints where the time went: by category, then by function.
func (b *bench) profile(spec, outFile string) error {
	name, kind, _ := strings.Cut(spec, ":")
	w, ok := profileWorkloads[name]
	if !ok {
		return fmt.Errorf("%w %q; want one of %s", errUnknownProfile, spec, profileNames())
	}
	if kind == "" {
		kind = w.kinds[0]
	}
	if !slices.Contains(w.kinds, kind) {
		return fmt.Errorf("%w %q: %s runs %s", errUnknownProfile, spec, name, strings.Join(w.kinds, ", "))
	}
	if _, err := buildNamedWasm(b.root, b.buildDir); err != nil {
		return err
	}
	t, err := b.benchTab("?wasm=/build/esshim-named.wasm")
	if err != nil {
		return err
	}
	defer t.close()
	call := w.call(b.n, kind)
	expr := call
	if !strings.HasPrefix(call, "(") {
		expr = "bench." + call
	}
	// One run first, so the profile shows steady state rather than
	// compilation and first-call paths.
	if _, err := evaluate[any](t, expr, evalTimeout); err != nil {
		return err
	}
	if _, err := chromedp.Run(t.ctx, func(ctx context.Context, tg *chromedp.Target) (cdp.Empty, error) {
		if _, err := cdp.Call(ctx, tg, profiler.Enable, cdp.Empty{}); err != nil {
			return cdp.Empty{}, err
		}
		if _, err := cdp.Call(ctx, tg, profiler.SetSamplingInterval, profiler.SetSamplingIntervalParams{Interval: 100}); err != nil {
			return cdp.Empty{}, err
		}
		return cdp.Call(ctx, tg, profiler.Start, cdp.Empty{})
	}); err != nil {
		return err
	}
	started := time.Now()
	if _, err := evaluate[any](t, expr, evalTimeout); err != nil {
		return err
	}
	wall := time.Since(started)
	res, err := chromedp.Run(t.ctx, func(ctx context.Context, tg *chromedp.Target) (profiler.StopResult, error) {
		return cdp.Call(ctx, tg, profiler.Stop, cdp.Empty{})
	})
	if err != nil {
		return err
	}
	if outFile != "" {
		raw, err := json.Marshal(res.Profile)
		if err != nil {
			return err
		}
		if err := os.WriteFile(outFile, raw, 0o644); err != nil {
			return err
		}
	}
	wasmExecLines, err := bundledWasmExecLines(filepath.Join(b.dist, "esshim.js"))
	if err != nil {
		return err
	}
	fmt.Printf("CPU profile of %s (%s), %s, wall %.0f ms, sampled every 100 µs\n", name, kind, b.n.describe(name), float64(wall.Microseconds())/1000)
	summarize(res.Profile, wasmExecLines).print()
	if kind == "esshim" {
		return b.printCrossings(name, expr)
	}
	return nil
}

// printCrossings runs the workload again in a page that counts every call
// from Go into wasm_exec.js, and prints them per unit of work (call,
// message, event): each one is a crossing of the Go↔JS boundary.
func (b *bench) printCrossings(name, expr string) error {
	t, err := b.benchTab("?crossings")
	if err != nil {
		return err
	}
	defer t.close()
	if _, err := evaluate[any](t, expr, evalTimeout); err != nil {
		return err
	}
	if _, err := evaluate[any](t, "bench.takeCrossings()", time.Minute); err != nil {
		return err
	}
	if _, err := evaluate[any](t, expr, evalTimeout); err != nil {
		return err
	}
	counts, err := evaluate[map[string]float64](t, "bench.takeCrossings()", time.Minute)
	if err != nil {
		return err
	}
	units, unit := b.n.units(name)
	type kv struct {
		k string
		v float64
	}
	var list []kv
	total := 0.0
	for k, v := range counts {
		list = append(list, kv{k, v})
		total += v
	}
	slices.SortFunc(list, func(a, b kv) int { return cmp.Compare(b.v, a.v) })
	fmt.Printf("\nGo→JS crossings (calls into wasm_exec.js imports) per %s: %.1f\n", unit, total/units)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "import\tper %s\n", unit)
	for _, c := range list {
		fmt.Fprintf(tw, "%s\t%.2f\n", c.k, c.v/units)
	}
	return tw.Flush()
}

// units is how many units of work one run of the workload does.
func (n counts) units(name string) (float64, string) {
	switch name {
	case "roundtrip":
		return float64(n.Calls), "tools/call"
	case "notifications", "notifications-client":
		return float64(n.NotificationRounds * (n.Notifications + 1)), "message"
	case "large":
		return float64(n.LargeRound), "large result"
	case "eventsource":
		return float64(n.EventRounds * n.Events), "event"
	}
	return 1, "run"
}

func (n counts) describe(name string) string {
	switch name {
	case "roundtrip":
		return fmt.Sprintf("%d calls", n.Calls)
	case "notifications", "notifications-client":
		return fmt.Sprintf("%d rounds of %d notifications", n.NotificationRounds, n.Notifications)
	case "large":
		return fmt.Sprintf("%d results of %s", n.LargeRound, formatBytes(float64(n.LargeBytes)))
	case "eventsource":
		return fmt.Sprintf("%d rounds of %d events of %d B", n.EventRounds, n.Events, n.EventSize)
	}
	return ""
}

// eval evaluates expr in a fresh bench page and prints its value as JSON.
func (b *bench) eval(expr, query string) error {
	t, err := b.benchTab(query)
	if err != nil {
		return err
	}
	defer t.close()
	v, err := evaluate[json.RawMessage](t, expr, evalTimeout)
	if err != nil {
		return err
	}
	fmt.Println(string(v))
	return nil
}

// bundledWasmExecLines is how many lines of dist/esshim.js are Go's
// wasm_exec.js (the build puts it first), so that the profile can tell
// the syscall/js glue from esshim's own wrappers.
func bundledWasmExecLines(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	before, _, ok := strings.Cut(string(b), "const bundledGo = globalThis.Go;")
	if !ok {
		return 0, fmt.Errorf("%s does not look like the Makefile's bundle", path)
	}
	return int64(strings.Count(before, "\n")), nil
}

// profileSummary is self time by category and by function, and total
// (inclusive) time by function.
type profileSummary struct {
	total      float64 // ms sampled
	categories map[string]float64
	functions  map[[2]string]float64 // {category, function} → self ms
	inclusive  map[[2]string]float64 // {category, function} → ms with it on the stack
}

func summarize(p *profiler.Profile, wasmExecLines int64) profileSummary {
	nodes := map[int64]*profiler.ProfileNode{}
	parent := map[int64]int64{}
	for _, n := range p.Nodes {
		nodes[n.ID] = n
		for _, c := range n.Children {
			parent[c] = n.ID
		}
	}
	key := func(n *profiler.ProfileNode) [2]string {
		fn := n.CallFrame.FunctionName
		if fn == "" {
			fn = "(anonymous)"
		}
		if n.CallFrame.URL != "" {
			fn += " " + filepath.Base(n.CallFrame.URL) + ":" + fmt.Sprint(n.CallFrame.LineNumber+1)
		}
		return [2]string{category(n, wasmExecLines), fn}
	}
	s := profileSummary{categories: map[string]float64{}, functions: map[[2]string]float64{}, inclusive: map[[2]string]float64{}}
	for i, id := range p.Samples {
		// timeDeltas[i] is the time since the previous sample; it is spent
		// in what sample i shows, as DevTools counts it.
		ms := float64(p.TimeDeltas[i]) / 1000
		n := nodes[id]
		if n == nil {
			continue
		}
		k := key(n)
		s.total += ms
		s.categories[k[0]] += ms
		s.functions[k] += ms
		// Inclusive: once per function on the stack, however deep the
		// recursion.
		seen := map[[2]string]bool{}
		for id, ok := n.ID, true; ok; id, ok = parent[id] {
			if k := key(nodes[id]); !seen[k] {
				seen[k] = true
				s.inclusive[k] += ms
			}
		}
	}
	return s
}

// category sorts a frame into where its time belongs.
func category(n *profiler.ProfileNode, wasmExecLines int64) string {
	f := n.CallFrame
	switch {
	case f.FunctionName == "(idle)":
		return "idle (waiting for the network or a timer)"
	case f.FunctionName == "(garbage collector)":
		return "JS garbage collector"
	case f.FunctionName == "(program)":
		return "browser native (network, streams, event loop)"
	case strings.HasSuffix(f.URL, ".wasm") || strings.HasPrefix(f.URL, "wasm://"):
		return "Go (wasm)"
	case strings.HasSuffix(f.URL, "/esshim.js"):
		if f.LineNumber < wasmExecLines {
			return "wasm_exec.js (Go↔JS glue)"
		}
		return "esshim.js (wrappers)"
	case strings.HasSuffix(f.URL, "/sdk.js"):
		return "MCP SDK (JS)"
	case strings.HasSuffix(f.URL, "/eventsource.js"):
		return "eventsource npm (JS)"
	case strings.HasSuffix(f.URL, "/bench.js"):
		return "bench harness (JS)"
	case f.URL == "":
		return "V8 built-ins"
	}
	return f.URL
}

func (s profileSummary) print() {
	busy := s.total - s.categories["idle (waiting for the network or a timer)"]
	fmt.Printf("sampled %.0f ms, of which %.0f ms busy\n\n", s.total, busy)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "category\tself ms\t% of busy")
	type kv struct {
		k string
		v float64
	}
	var cats []kv
	for k, v := range s.categories {
		cats = append(cats, kv{k, v})
	}
	slices.SortFunc(cats, func(a, b kv) int { return cmp.Compare(b.v, a.v) })
	for _, c := range cats {
		pct := "–"
		if !strings.HasPrefix(c.k, "idle") && busy > 0 {
			pct = fmt.Sprintf("%.1f%%", 100*c.v/busy)
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%s\n", c.k, c.v, pct)
	}
	tw.Flush()
	fmt.Println()
	type fnTime struct {
		cat, fn string
		ms      float64
	}
	var fns []fnTime
	for k, v := range s.functions {
		if strings.HasPrefix(k[0], "idle") {
			continue
		}
		fns = append(fns, fnTime{k[0], k[1], v})
	}
	slices.SortFunc(fns, func(a, b fnTime) int { return cmp.Compare(b.ms, a.ms) })
	tw = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "self ms\t% of busy\tfunction\tcategory")
	for _, f := range fns[:min(len(fns), 40)] {
		fmt.Fprintf(tw, "%.1f\t%.1f%%\t%s\t%s\n", f.ms, 100*f.ms/busy, f.fn, f.cat)
	}
	tw.Flush()
	fmt.Println()
	fns = fns[:0]
	for k, v := range s.inclusive {
		if strings.HasPrefix(k[1], "(") {
			continue // (root), (program), (idle), (garbage collector)
		}
		fns = append(fns, fnTime{k[0], k[1], v})
	}
	slices.SortFunc(fns, func(a, b fnTime) int { return cmp.Compare(b.ms, a.ms) })
	tw = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "total ms\t% of busy\tfunction (with what it calls)\tcategory")
	for _, f := range fns[:min(len(fns), 60)] {
		fmt.Fprintf(tw, "%.1f\t%.1f%%\t%s\t%s\n", f.ms, 100*f.ms/busy, f.fn, f.cat)
	}
	tw.Flush()
}
