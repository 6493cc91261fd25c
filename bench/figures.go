package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// counts are the sizes of one run: the in full mode, small ones in
// quick mode, which only proves that every figure still works.
type counts struct {
	Calls, Warmup          int // tools/call round trips per side, and warm-up calls
	Notifications          int // notifications before the result
	NotificationRounds     int
	Events, EventSize      int // EventSource events and their data size
	EventRounds            int
	LargeBytes, LargeRound int // the large result, and how many per side
	WarmupRounds           int // rounds run and discarded first, so figures are steady state
	ColdRuns               int // cold loads per side
	Cycles                 int // start/close cycles of the memory figure
}

var fullCounts = counts{
	Calls: 300, Warmup: 30,
	Notifications: 5000, NotificationRounds: 9,
	Events: 20000, EventSize: 200, EventRounds: 7,
	LargeBytes: 8 << 20, LargeRound: 9,
	ColdRuns:     10,
	Cycles:       1000,
	WarmupRounds: 1,
}

var quickCounts = counts{
	Calls: 20, Warmup: 3,
	Notifications: 500, NotificationRounds: 1,
	Events: 2000, EventSize: 200, EventRounds: 1,
	LargeBytes: 1 << 20, LargeRound: 1,
	ColdRuns: 1,
	Cycles:   20,
}

// bench is one run: the site, the browser, the sizes, and the report.
type bench struct {
	root     string
	dist     string // the build under test: esshim.js, esshim.wasm
	versus   string // with -versus: another build, the alternative of every figure
	buildDir string
	site     *site
	browser  *chromium
	n        counts
	rep      *report
	log      func(format string, args ...any)
}

// evalTimeout bounds one page call; the slowest, 1,000 cycles, takes
// seconds, so this only catches a hung page.
const evalTimeout = 5 * time.Minute

// benchTab opens a fresh tab on the benchmark page: each figure starts
// from a clean page, so no figure pays for another's garbage.
func (b *bench) benchTab(query string) (*tab, error) {
	if b.versus != "" {
		if query == "" {
			query = "?"
		} else {
			query += "&"
		}
		query += "versus"
	}
	return b.browser.openTab(b.site.url+"/bench/bench.html"+query, false, 60*time.Second)
}

// alternative is the other side of a figure: kind (as bench.js names it)
// and label, or, with -versus, the other esshim build.
func (b *bench) alternative(kind, label string) (string, string) {
	if b.versus != "" {
		return "esshim-b", "esshim " + b.versus
	}
	return kind, label
}

// pageSamples calls a bench.js function that returns {kind: [samples]}.
func pageSamples(t *tab, call string) (map[string][]float64, error) {
	return evaluate[map[string][]float64](t, "bench."+call, evalTimeout)
}

func jsArgs(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// sessionsEnded checks that a figure's clients ended every session they
// started: each one calls terminateSession(), which must reach the server.
func sessionsEnded(srv *mcpServer, before int, figure string) error {
	if n := srv.sessionCount() - before; n != 0 {
		return fmt.Errorf("%s: %d sessions were left open on the server", figure, n)
	}
	return nil
}

func (b *bench) roundTrips() error {
	for _, srv := range []struct {
		path, label string
		server      *mcpServer
	}{{"/mcp", "SSE", b.site.mcpSSE}, {"/mcp-json", "JSON", b.site.mcpJSON}} {
		before := srv.server.sessionCount()
		t, err := b.benchTab("")
		if err != nil {
			return err
		}
		b.log("round trips (%s responses): page ready", srv.label)
		alt, altLabel := b.alternative("sdk", "SDK transport")
		s, err := pageSamples(t, "roundTrips("+jsArgs(map[string]any{"path": srv.path, "calls": b.n.Calls, "warmup": b.n.Warmup, "kinds": []string{"esshim", alt}})+")")
		t.close()
		if err != nil {
			return err
		}
		if err := sessionsEnded(srv.server, before, "round trips"); err != nil {
			return err
		}
		for _, p := range []float64{50, 95} {
			b.rep.add(row{
				Figure: fmt.Sprintf("tools/call round trip p%.0f, %s response, SDK Client, %d calls", p, srv.label, b.n.Calls),
				Unit:   "ms", Esshim: percentile(s["esshim"], p), Alternative: altLabel, AltValue: percentile(s[alt], p),
				Goal: lowerIsBetter, Target: 1.05, EsshimSamples: s["esshim"], AltSamples: s[alt],
			})
		}
		b.log("round trips (%s responses) done", srv.label)
	}
	return nil
}

func (b *bench) notifications() error {
	alt, altLabel := b.alternative("sdk", "SDK transport")
	args := jsArgs(map[string]any{"path": "/mcp", "count": b.n.Notifications, "rounds": b.n.NotificationRounds, "warmup": b.n.WarmupRounds, "kinds": []string{"esshim", alt}})
	before := b.site.mcpSSE.sessionCount()
	t, err := b.benchTab("")
	if err != nil {
		return err
	}
	s, err := pageSamples(t, "notifications("+args+")")
	t.close()
	if err != nil {
		return err
	}
	b.rep.add(row{
		Figure: fmt.Sprintf("notifications/s, %d on one POST SSE stream, transport alone", b.n.Notifications),
		Unit:   "/s", Esshim: median(s["esshim"]), Alternative: altLabel, AltValue: median(s[alt]),
		Goal: higherIsBetter, Target: 1.2, EsshimSamples: s["esshim"], AltSamples: s[alt],
	})
	t, err = b.benchTab("")
	if err != nil {
		return err
	}
	s, err = pageSamples(t, "notificationsWithClient("+args+")")
	t.close()
	if err != nil {
		return err
	}
	b.rep.add(row{
		Figure: fmt.Sprintf("notifications/s, %d on one POST SSE stream, SDK Client on top", b.n.Notifications),
		Unit:   "/s", Esshim: median(s["esshim"]), Alternative: altLabel, AltValue: median(s[alt]),
		Goal: informational, EsshimSamples: s["esshim"], AltSamples: s[alt],
	})
	b.log("notifications done")
	return sessionsEnded(b.site.mcpSSE, before, "notifications")
}

func (b *bench) eventSources() error {
	t, err := b.benchTab("")
	if err != nil {
		return err
	}
	defer t.close()
	kinds := []string{"esshim", "npm", "native"}
	if b.versus != "" {
		kinds = []string{"esshim", "esshim-b"}
	}
	run := func(kind string, n int) (float64, error) {
		return evaluate[float64](t, "bench.eventSource("+jsArgs(map[string]any{"kind": kind, "n": n, "size": b.n.EventSize})+")", evalTimeout)
	}
	if b.n.WarmupRounds > 0 {
		for _, kind := range kinds { // warm-up: compiled code, not first-call paths
			if _, err := run(kind, b.n.Events/10); err != nil {
				return err
			}
		}
	}
	rates := map[string][]float64{}
	for r := range b.n.EventRounds {
		for i := range kinds {
			kind := kinds[(i+r)%len(kinds)] // rotate who goes first
			ms, err := run(kind, b.n.Events)
			if err != nil {
				return err
			}
			rates[kind] = append(rates[kind], float64(b.n.Events)/ms*1000)
		}
	}
	figure := fmt.Sprintf("EventSource events/s, %d events of %d B", b.n.Events, b.n.EventSize)
	for _, alt := range kinds[1:] {
		label := map[string]string{"npm": "eventsource npm", "native": "native EventSource", "esshim-b": "esshim " + b.versus}[alt]
		b.rep.add(row{Figure: figure, Unit: "/s", Esshim: median(rates["esshim"]), Alternative: label, AltValue: median(rates[alt]),
			Goal: higherIsBetter, Target: 1.0, EsshimSamples: rates["esshim"], AltSamples: rates[alt]})
	}
	b.log("EventSource done")
	return nil
}

func (b *bench) largeResult() error {
	before := b.site.mcpSSE.sessionCount()
	t, err := b.benchTab("")
	if err != nil {
		return err
	}
	alt, altLabel := b.alternative("sdk", "SDK transport")
	s, err := pageSamples(t, "largeResult("+jsArgs(map[string]any{"path": "/mcp", "bytes": b.n.LargeBytes, "rounds": b.n.LargeRound, "warmup": b.n.WarmupRounds, "kinds": []string{"esshim", alt}})+")")
	t.close()
	if err != nil {
		return err
	}
	b.rep.add(row{
		Figure: fmt.Sprintf("one %s JSON result on an SSE stream, transport alone", formatBytes(float64(b.n.LargeBytes))),
		Unit:   "ms", Esshim: median(s["esshim"]), Alternative: altLabel, AltValue: median(s[alt]),
		Goal: lowerIsBetter, Target: 1.1, EsshimSamples: s["esshim"], AltSamples: s[alt],
	})
	b.log("large result done")
	return sessionsEnded(b.site.mcpSSE, before, "large result")
}

// coldLoads loads each page in a browser context of its own (no HTTP
// cache, no compiled-code cache, its own renderer), alternating sides.
func (b *bench) coldLoads() error {
	pages := []string{"esshim", "hello"}
	loaded := map[string][]float64{}
	wasmDone := map[string][]float64{}
	for r := range b.n.ColdRuns {
		for i := range pages {
			which := pages[(i+r)%2]
			t, err := b.browser.openTab(b.site.url+"/bench/cold-"+which+".html", true, 60*time.Second)
			if err != nil {
				return err
			}
			v, err := evaluate[struct {
				LoadedAt float64 `json:"loadedAt"`
				WasmEnd  float64 `json:"wasmEnd"`
			}](t, `({ loadedAt: globalThis.loadedAt, wasmEnd: performance.getEntriesByType('resource').find((e) => e.name.endsWith('.wasm')).responseEnd })`, time.Minute)
			t.close()
			if err != nil {
				return err
			}
			loaded[which] = append(loaded[which], v.LoadedAt)
			wasmDone[which] = append(wasmDone[which], v.WasmEnd)
		}
	}
	esshimSize, helloSize := fileSize(filepath.Join(b.dist, "esshim.wasm")), fileSize(filepath.Join(b.buildDir, "hello.wasm"))
	b.rep.add(row{
		Figure: "cold load, navigation → load() resolved",
		Unit:   "ms", Esshim: median(loaded["esshim"]), Alternative: "safejs hello-world wasm", AltValue: median(loaded["hello"]),
		Goal: lowerIsBetter, Target: 1.15, EsshimSamples: loaded["esshim"], AltSamples: loaded["hello"],
		Details: map[string]any{
			"wasmBytes":             map[string]int64{"esshim": esshimSize, "hello": helloSize},
			"wasmResponseEndMedian": map[string]float64{"esshim": median(wasmDone["esshim"]), "hello": median(wasmDone["hello"])},
		},
	})
	b.log("cold loads done")
	return nil
}

// wasmSizes are the raw and brotli sizes of esshim's and the hello-world's
// wasm.
type wasmSizes struct {
	esshimRaw, esshimBrotli, helloRaw, helloBrotli int64
}

// measureSizes compresses both wasm files as `make size` does (brotli
// -q 11). That takes seconds per megabyte, so quick mode runs it next to
// the browser figures, whose values do not matter there.
func (b *bench) measureSizes() (wasmSizes, error) {
	esshim := filepath.Join(b.dist, "esshim.wasm")
	hello := filepath.Join(b.buildDir, "hello.wasm")
	s := wasmSizes{esshimRaw: fileSize(esshim), helloRaw: fileSize(hello)}
	var err error
	if s.esshimBrotli, err = brotliSize(esshim); err != nil {
		return s, err
	}
	s.helloBrotli, err = brotliSize(hello)
	return s, err
}

// addSizes reports the wasm's raw and brotli sizes, next to the
// hello-world's for scale.
// They go in before the memory rows, in the order of the table.
func (b *bench) addSizes(s wasmSizes) {
	at := len(b.rep.Rows)
	for i, r := range b.rep.Rows {
		if strings.HasPrefix(r.Figure, "memory") {
			at = i
			break
		}
	}
	rest := slices.Clone(b.rep.Rows[at:])
	b.rep.Rows = b.rep.Rows[:at]
	b.rep.add(row{Figure: "wasm size, raw", Unit: "B", Esshim: float64(s.esshimRaw),
		Alternative: "hello-world " + formatBytes(float64(s.helloRaw)), Goal: absoluteLimit, Target: 3.0e6})
	b.rep.add(row{Figure: "wasm size, brotli -q 11", Unit: "B", Esshim: float64(s.esshimBrotli),
		Alternative: "hello-world " + formatBytes(float64(s.helloBrotli)), Goal: absoluteLimit, Target: 650e3})
	b.rep.Rows = append(b.rep.Rows, rest...)
}

// memory runs start/close cycles with traffic on one transport in a fresh
// tab. The baseline is taken after the first cycle, when everything a
// lifecycle allocates once (code paths, pools, the dispatcher) exists.
func (b *bench) memory() error {
	t, err := b.benchTab("")
	if err != nil {
		return err
	}
	defer t.close()
	type state struct {
		WasmBytes  float64 `json:"wasmBytes"`
		Goroutines int     `json:"goroutines"`
		Funcs      int     `json:"funcs"`
		Heap       float64 `json:"-"`
	}
	measure := func(cycles int) (state, error) {
		s, err := evaluate[state](t, "bench.cycles("+jsArgs(map[string]any{"path": "/mcp", "n": cycles})+")", evalTimeout)
		if err != nil {
			return s, err
		}
		s.Heap, err = t.heapUsed()
		return s, err
	}
	// Linear memory only grows: it is the high-water mark of the Go heap,
	// so growth that the GC's pacing explains stops early, while a leak
	// goes on. The midpoint tells them apart.
	base, err := measure(1)
	if err != nil {
		return err
	}
	half, err := measure(b.n.Cycles/2 - 1)
	if err != nil {
		return err
	}
	end, err := measure(b.n.Cycles - b.n.Cycles/2)
	if err != nil {
		return err
	}
	details := map[string]any{
		"cycles":     [3]int{1, b.n.Cycles / 2, b.n.Cycles},
		"wasmBytes":  [3]float64{base.WasmBytes, half.WasmBytes, end.WasmBytes},
		"jsHeap":     [3]float64{base.Heap, half.Heap, end.Heap},
		"goroutines": [3]int{base.Goroutines, half.Goroutines, end.Goroutines},
		"jsFuncs":    [3]int{base.Funcs, half.Funcs, end.Funcs},
	}
	// Quick mode's few cycles end before the GC's pacing settles.
	if end.WasmBytes > half.WasmBytes && b.n.Cycles >= 200 {
		b.rep.Notes = append(b.rep.Notes, fmt.Sprintf("the wasm memory still grew in the second half of the cycles (%s → %s): look for a leak", formatBytes(half.WasmBytes), formatBytes(end.WasmBytes)))
	}
	figure := fmt.Sprintf("memory after %d start/close cycles with traffic", b.n.Cycles)
	b.rep.add(row{Figure: figure + ", wasm linear memory", Unit: "+B", Esshim: end.WasmBytes - base.WasmBytes,
		Alternative: "baseline " + formatBytes(base.WasmBytes) + " after cycle 1", Goal: absoluteLimit, Target: 2e6, Details: details})
	b.rep.add(row{Figure: figure + ", JS heap", Unit: "+B", Esshim: end.Heap - base.Heap,
		Alternative: "baseline " + formatBytes(base.Heap) + " after cycle 1", Goal: absoluteLimit, Target: 2e6, Details: details})
	if end.Goroutines > base.Goroutines || end.Funcs > base.Funcs {
		b.rep.Notes = append(b.rep.Notes, fmt.Sprintf("after %d cycles esshim holds %d goroutines and %d js.Funcs; after the first, %d and %d", b.n.Cycles, end.Goroutines, end.Funcs, base.Goroutines, base.Funcs))
	}
	b.log("memory done")
	return nil
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func brotliSize(path string) (int64, error) {
	out, err := exec.Command("brotli", "-c", "-q", "11", path).Output()
	if err != nil {
		return 0, fmt.Errorf("brotli %s: %w (the size figure needs Debian's brotli: apt-get install -y brotli; `make bench` installs it)", path, err)
	}
	return int64(len(out)), nil
}
