package benchtable

import (
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Figure is one row of the table: where its value comes from, its target and its setup.
type Figure struct {
	// Name is the figure as the table shows it.
	Name string
	// Pkg is the suffix of the benchmark's package ("" for any).
	Pkg string
	// Bench is the benchmark name without the GOMAXPROCS suffix.
	Bench string
	// Unit is the b.ReportMetric unit holding the value.
	Unit string
	// Divide, when set, is a second unit of the same result: the value is Unit / Divide (a ratio).
	Divide string
	// Show formats the value; Plain when nil.
	Show func(float64) string
	// Target is the target of ARCHITECTURE.md section 4, or the reference point.
	Target string
	// SetupKey is the "<BenchmarkName> <topic>" of the benchsetup line describing the setup.
	SetupKey string
	// SetupLine, when set, finds the setup in a benchmark's own output line; SetupTemplate expands its submatches
	// ($1, ${name}).
	SetupLine     *regexp.Regexp
	SetupTemplate string
	// Setup is the fixed part of the setup, shown before the benchmark's own description.
	Setup string
}

// Row is a rendered figure.
type Row struct {
	Figure, Value, Target, Setup string
	// Measured is false when the benchmark did not report the figure.
	Measured bool
}

// Rows evaluates figures against out.
func Rows(out *Output, figures []Figure) []Row {
	rows := make([]Row, 0, len(figures))
	for _, f := range figures {
		row := Row{Figure: f.Name, Target: f.Target, Setup: f.setup(out), Value: "not measured"}
		if res, ok := out.Find(f.Pkg, f.Bench); ok {
			if v, ok := res.Metrics[f.Unit]; ok {
				if f.Divide != "" {
					d, ok := res.Metrics[f.Divide]
					if ok && d != 0 {
						v /= d
					} else {
						v = math.NaN()
					}
				}
				if !math.IsNaN(v) {
					show := f.Show
					if show == nil {
						show = Plain
					}
					row.Value, row.Measured = show(v), true
				}
			}
		}
		rows = append(rows, row)
	}
	return rows
}

func (f Figure) setup(out *Output) string {
	parts := []string{}
	if f.Setup != "" {
		parts = append(parts, f.Setup)
	}
	if f.SetupKey != "" {
		if s, ok := out.Setups[f.SetupKey]; ok {
			parts = append(parts, s)
		}
	}
	if f.SetupLine != nil {
		for i := len(out.Lines) - 1; i >= 0; i-- {
			m := f.SetupLine.FindStringSubmatchIndex(out.Lines[i])
			if m != nil {
				parts = append(parts, string(f.SetupLine.ExpandString(nil, f.SetupTemplate, out.Lines[i], m)))
				break
			}
		}
	}
	return strings.Join(parts, "; ")
}

// Markdown writes rows as a markdown table (figure | value | target | setup).
func Markdown(w io.Writer, rows []Row) error {
	var b strings.Builder
	b.WriteString("| figure | value | target | setup |\n|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", cell(r.Figure), cell(r.Value), cell(r.Target), cell(r.Setup))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func cell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ")
}

// Plain formats v with up to three significant decimals.
func Plain(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// Thousands formats v rounded to an integer with comma thousands separators.
func Thousands(v float64) string {
	n := int64(math.Round(v))
	neg := n < 0
	if neg {
		n = -n
	}
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// WithUnit returns a formatter printing Thousands(v) followed by unit.
func WithUnit(unit string) func(float64) string {
	return func(v float64) string { return Thousands(v) + " " + unit }
}

// Fixed returns a formatter printing v with prec decimals followed by unit (no unit when empty).
func Fixed(prec int, unit string) func(float64) string {
	return func(v float64) string {
		s := strconv.FormatFloat(v, 'f', prec, 64)
		if unit != "" {
			s += " " + unit
		}
		return s
	}
}
