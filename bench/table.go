package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// goal is which way a figure is better.
type goal string

const (
	lowerIsBetter  goal = "lower"  // times: met when ratio <= target
	higherIsBetter goal = "higher" // rates: met when ratio >= target
	absoluteLimit  goal = "limit"  // sizes, growth: met when esshim <= target, in the figure's unit
	informational  goal = "info"   // no target: context for the other rows
)

// row is one line of the results table.
type row struct {
	Figure      string  `json:"figure"`
	Unit        string  `json:"unit"`
	Esshim      float64 `json:"esshim"`
	Alternative string  `json:"alternative"` // what esshim is compared with
	AltValue    float64 `json:"alternativeValue"`
	Ratio       float64 `json:"ratio"` // esshim / alternative; 0 where there is no alternative
	Goal        goal    `json:"goal"`
	Target      float64 `json:"target"` // a ratio, or an absolute limit in Unit (see Goal)
	Met         *bool   `json:"met"`    // null for informational rows
	// Samples are the raw measurements, for anyone who wants to look again.
	EsshimSamples []float64      `json:"esshimSamples,omitempty"`
	AltSamples    []float64      `json:"alternativeSamples,omitempty"`
	Details       map[string]any `json:"details,omitempty"`
}

// judge sets Ratio and Met from the values and the goal.
func (r *row) judge() {
	if r.AltValue != 0 {
		r.Ratio = r.Esshim / r.AltValue
	}
	var met bool
	switch r.Goal {
	case lowerIsBetter:
		met = r.Ratio <= r.Target
	case higherIsBetter:
		met = r.Ratio >= r.Target
	case absoluteLimit:
		met = r.Esshim <= r.Target
	default:
		return
	}
	r.Met = &met
}

// report is what bench/results.json holds.
type report struct {
	Mode    string   `json:"mode"` // "full", "quick", or "versus DIR"
	Time    string   `json:"time"`
	Machine machine  `json:"machine"`
	Rows    []row    `json:"rows"`
	Notes   []string `json:"notes,omitempty"`
}

func (rep *report) add(r row) {
	if strings.HasPrefix(rep.Mode, "versus") {
		r.Goal = informational // two esshim builds: the ratio is the answer
	}
	r.judge()
	rep.Rows = append(rep.Rows, r)
}

// missed counts the rows whose target was missed.
func (rep *report) missed() int {
	n := 0
	for _, r := range rep.Rows {
		if r.Met != nil && !*r.Met {
			n++
		}
	}
	return n
}

func (rep *report) write(path string) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// cells renders a row as the table's six columns; no is how a missed
// target reads.
func (r *row) cells(no string) []string {
	alt := "–"
	if r.AltValue != 0 {
		alt = formatValue(r.AltValue, r.Unit) + " (" + r.Alternative + ")"
	} else if r.Alternative != "" {
		alt = r.Alternative
	}
	ratio := "–"
	if r.Ratio != 0 {
		ratio = fmt.Sprintf("%.2f×", r.Ratio)
	}
	target, met := "–", "–"
	switch r.Goal {
	case lowerIsBetter:
		target = fmt.Sprintf("≤ %.2f×", r.Target)
	case higherIsBetter:
		target = fmt.Sprintf("≥ %.2f×", r.Target)
	case absoluteLimit:
		target = "≤ " + formatValue(r.Target, r.Unit)
	}
	if r.Met != nil {
		met = "yes"
		if !*r.Met {
			met = no
		}
	}
	return []string{r.Figure, formatValue(r.Esshim, r.Unit), alt, ratio, target, met}
}

// print writes the table: figure, esshim, alternative, ratio, target, met?
func (rep *report) print(w io.Writer) {
	fmt.Fprintf(w, "esshim benchmark (%s mode) on %s\n", rep.Mode, rep.Machine)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\tesshim\talternative\tratio\ttarget\tmet?")
	for i := range rep.Rows {
		fmt.Fprintln(tw, strings.Join(rep.Rows[i].cells("NO"), "\t"))
	}
	tw.Flush()
	for _, n := range rep.Notes {
		fmt.Fprintln(w, "note:", n)
	}
}

// markdown renders the table for bench/README.md's Performance section.
func (rep *report) markdown() string {
	var b strings.Builder
	b.WriteString("| figure | esshim | alternative | ratio | target | met? |\n|---|---|---|---|---|---|\n")
	for i := range rep.Rows {
		b.WriteString("| " + strings.Join(rep.Rows[i].cells("**no**"), " | ") + " |\n")
	}
	return b.String()
}

func formatValue(v float64, unit string) string {
	switch unit {
	case "ms":
		if v < 10 {
			return fmt.Sprintf("%.2f ms", v)
		}
		return fmt.Sprintf("%.0f ms", v)
	case "/s":
		return fmt.Sprintf("%.0f/s", v)
	case "B":
		return formatBytes(v)
	case "+B":
		sign := "+"
		if v < 0 {
			sign = "−"
			v = -v
		}
		return sign + formatBytes(v)
	}
	return fmt.Sprintf("%g %s", v, unit)
}

func formatBytes(v float64) string {
	switch {
	case math.Abs(v) >= 1e6:
		return fmt.Sprintf("%.2f MB", v/1e6)
	case math.Abs(v) >= 1e3:
		return fmt.Sprintf("%.0f KB", v/1e3)
	}
	return fmt.Sprintf("%.0f B", v)
}

// median returns the middle sample (the mean of the two middle ones).
func median(xs []float64) float64 { return percentile(xs, 50) }

// percentile returns the p-th percentile by linear interpolation between
// closest ranks.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	pos := p / 100 * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	return s[lo] + (s[hi]-s[lo])*(pos-float64(lo))
}

func nowString() string { return time.Now().UTC().Format(time.RFC3339) }
