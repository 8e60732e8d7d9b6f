// Package benchtable turns the output of `go test -bench` runs into the one table `make bench` prints: for each
// figure its value, its target (ARCHITECTURE.md section 4) and its setup. It also reads Prometheus text exposition
// and computes histogram quantiles the way Prometheus' histogram_quantile does, for benchmarks that measure a running
// worker through its /metrics endpoint.
package benchtable

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// SetupPrefix starts a line a benchmark prints to describe the setup of one of its figures:
// "benchsetup: <BenchmarkName> <topic>: <text>".
const SetupPrefix = "benchsetup: "

// Result is one benchmark result line.
type Result struct {
	// Pkg is the import path from the preceding "pkg:" line ("" when there was none).
	Pkg string
	// Name is the benchmark name without the GOMAXPROCS suffix, e.g. "BenchmarkStreaming/mysql".
	Name string
	// N is the number of iterations.
	N int
	// Metrics maps a unit ("ns/op", "rows/s", ...) to its value.
	Metrics map[string]float64
}

// Output is a parsed `go test -bench` output (several packages concatenated).
type Output struct {
	Results []Result
	// Setups maps "<BenchmarkName> <topic>" to the text of a benchsetup line (the last one wins).
	Setups map[string]string
	// Lines are all lines, for figures whose setup comes from a benchmark's own free-form print.
	Lines []string
	// Failures are the "--- FAIL:" and "FAIL" lines.
	Failures []string
}

// Parse reads go test output.
func Parse(r io.Reader) (*Output, error) {
	out := &Output{Setups: map[string]string{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	pkg := ""
	pending := "" // a benchmark name printed before the benchmark's own output (go test -v, -benchtime above 1x)
	for sc.Scan() {
		line := sc.Text()
		out.Lines = append(out.Lines, line)
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "pkg: "):
			pkg = strings.TrimSpace(strings.TrimPrefix(trimmed, "pkg: "))
		case strings.HasPrefix(trimmed, SetupPrefix):
			if key, text, ok := parseSetup(strings.TrimPrefix(trimmed, SetupPrefix)); ok {
				out.Setups[key] = text
			}
		case strings.HasPrefix(trimmed, "--- FAIL:") || trimmed == "FAIL" || strings.HasPrefix(trimmed, "FAIL\t"):
			out.Failures = append(out.Failures, trimmed)
		case strings.HasPrefix(line, "Benchmark"):
			if res, ok := parseResult(line); ok {
				res.Pkg = pkg
				out.Results = append(out.Results, res)
				pending = ""
			} else if name, _, _ := strings.Cut(line, "\t"); strings.HasPrefix(strings.TrimSpace(name), "Benchmark") &&
				!strings.ContainsAny(strings.TrimSpace(name), " ") {
				pending = strings.TrimSpace(name)
			}
		case pending != "" && line != trimmed && trimmed != "":
			// The rest of a result line whose name came before the benchmark's output: "   1	123 ns/op ...".
			if res, ok := parseResult(pending + " " + trimmed); ok {
				res.Pkg = pkg
				out.Results = append(out.Results, res)
				pending = ""
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading benchmark output: %w", err)
	}
	return out, nil
}

// parseSetup splits "<BenchmarkName> <topic>: <text>" into "<BenchmarkName> <topic>" and text.
func parseSetup(s string) (key, text string, ok bool) {
	head, text, found := strings.Cut(s, ": ")
	if !found {
		return "", "", false
	}
	f := strings.Fields(head)
	if len(f) != 2 {
		return "", "", false
	}
	return f[0] + " " + f[1], strings.TrimSpace(text), true
}

// parseResult parses "BenchmarkX/sub-2   1   123 ns/op   4.5 rows/s"; ok is false for other lines starting with
// "Benchmark" (a benchmark's own prints).
func parseResult(line string) (Result, bool) {
	f := strings.Fields(line)
	if len(f) < 4 || len(f)%2 != 0 {
		return Result{}, false
	}
	n, err := strconv.Atoi(f[1])
	if err != nil || n <= 0 {
		return Result{}, false
	}
	res := Result{Name: stripProcs(f[0]), N: n, Metrics: make(map[string]float64, len(f)/2-1)}
	for i := 2; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return Result{}, false
		}
		res.Metrics[f[i+1]] = v
	}
	return res, true
}

// stripProcs removes the "-<GOMAXPROCS>" suffix go test appends to a benchmark's name.
func stripProcs(name string) string {
	i := strings.LastIndexByte(name, '-')
	if i <= 0 || i == len(name)-1 {
		return name
	}
	if _, err := strconv.Atoi(name[i+1:]); err != nil {
		return name
	}
	return name[:i]
}

// Find returns the last result of the benchmark name whose package ends with pkgSuffix ("" matches any package).
func (o *Output) Find(pkgSuffix, name string) (Result, bool) {
	for i := len(o.Results) - 1; i >= 0; i-- {
		r := o.Results[i]
		if r.Name == name && strings.HasSuffix(r.Pkg, pkgSuffix) {
			return r, true
		}
	}
	return Result{}, false
}
