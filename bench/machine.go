package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// machine describes where the figures were measured: they only compare
// within one run, and the README labels its table with this.
type machine struct {
	CPU      string `json:"cpu"`
	Cores    int    `json:"cores"`
	OS       string `json:"os"`
	Kernel   string `json:"kernel"`
	Chromium string `json:"chromium"`
	Go       string `json:"go"`
	// BusyBefore is the share of CPU time other work used during the second
	// before the bench started (-1 where /proc/stat is missing). Other work
	// skews the ratios: these machines are shared.
	BusyBefore float64 `json:"busyBefore"`
}

// cpuBusy samples /proc/stat over d and returns the busy share of all
// CPUs, from 0 to 1, or -1 when it cannot tell.
func cpuBusy(d time.Duration) float64 {
	read := func() (busy, total float64, ok bool) {
		b, err := os.ReadFile("/proc/stat")
		if err != nil {
			return 0, 0, false
		}
		line, _, _ := strings.Cut(string(b), "\n")
		fields := strings.Fields(line)
		if len(fields) < 5 || fields[0] != "cpu" {
			return 0, 0, false
		}
		for i, f := range fields[1:] {
			v, _ := strconv.ParseFloat(f, 64)
			total += v
			if i != 3 && i != 4 { // idle, iowait
				busy += v
			}
		}
		return busy, total, true
	}
	b0, t0, ok0 := read()
	time.Sleep(d)
	b1, t1, ok1 := read()
	if !ok0 || !ok1 || t1 == t0 {
		return -1
	}
	return (b1 - b0) / (t1 - t0)
}

// busyNote warns when other work kept the machine busy before the run.
func (m machine) busyNote() string {
	if m.BusyBefore < 0.25 {
		return ""
	}
	return fmt.Sprintf("other work kept the CPUs %.0f%% busy before the bench started: the ratios are less reliable than on an idle machine", 100*m.BusyBefore)
}

func describeMachine(chromiumVersion string, busyBefore float64) machine {
	m := machine{Cores: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH, Chromium: chromiumVersion, Go: runtime.Version(), CPU: "unknown CPU", BusyBefore: busyBefore}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if name, ok := strings.CutPrefix(line, "model name"); ok {
				m.CPU = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), ":"))
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}

func (m machine) String() string {
	return fmt.Sprintf("%s, %d cores, %s %s, %s, %s", m.CPU, m.Cores, m.OS, m.Kernel, m.Chromium, m.Go)
}
