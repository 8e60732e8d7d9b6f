package benchtable

import (
	"regexp"
	"strings"
	"testing"
)

func TestRowsAndMarkdown(t *testing.T) {
	out, err := Parse(strings.NewReader(`pkg: example.com/m/integration
benchsetup: BenchmarkB streaming: 200,000 events | paused
BenchmarkB-2 1 10 ns/op 30000 events/s 60000 ceiling_rows/s
pkg: example.com/m/source/mysql
snapshot mysql: 1000000 rows, parallelism 2, chunk 8096: 5 rows/s
BenchmarkS/mysql-2 1 10 ns/op 150000.4 rows/s
`))
	if err != nil {
		t.Fatal(err)
	}
	figs := []Figure{
		{Name: "stream", Pkg: "/integration", Bench: "BenchmarkB", Unit: "events/s", Show: WithUnit("events/s"), Target: ">= 125k", SetupKey: "BenchmarkB streaming"},
		{Name: "ratio", Pkg: "/integration", Bench: "BenchmarkB", Unit: "events/s", Divide: "ceiling_rows/s", Show: Fixed(2, ""), Target: ">= 0.5", Setup: "fixed"},
		{Name: "snap", Pkg: "/source/mysql", Bench: "BenchmarkS/mysql", Unit: "rows/s", Show: WithUnit("rows/s"), Setup: "container",
			SetupLine: regexp.MustCompile(`^snapshot mysql: (\d+) rows, parallelism (\d+)`), SetupTemplate: "$1 rows, parallelism $2"},
		{Name: "missing", Pkg: "/integration", Bench: "BenchmarkMissing", Unit: "rows/s"},
		{Name: "bad ratio", Pkg: "/integration", Bench: "BenchmarkB", Unit: "events/s", Divide: "nope"},
	}
	rows := Rows(out, figs)
	want := []Row{
		{Figure: "stream", Value: "30,000 events/s", Target: ">= 125k", Setup: "200,000 events | paused", Measured: true},
		{Figure: "ratio", Value: "0.50", Target: ">= 0.5", Setup: "fixed", Measured: true},
		{Figure: "snap", Value: "150,000 rows/s", Setup: "container; 1000000 rows, parallelism 2", Measured: true},
		{Figure: "missing", Value: "not measured"},
		{Figure: "bad ratio", Value: "not measured"},
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("row %d: %+v\nwant    %+v", i, rows[i], want[i])
		}
	}
	var b strings.Builder
	if err := Markdown(&b, rows[:1]); err != nil {
		t.Fatal(err)
	}
	wantMD := "| figure | value | target | setup |\n|---|---|---|---|\n| stream | 30,000 events/s | >= 125k | 200,000 events \\| paused |\n"
	if b.String() != wantMD {
		t.Errorf("markdown:\n%s\nwant:\n%s", b.String(), wantMD)
	}
}

func TestThousands(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 1234567.6: "1,234,568", -45000: "-45,000", 100000: "100,000"} {
		if got := Thousands(v); got != want {
			t.Errorf("Thousands(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestFiguresReferToDistinctSetups(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range Figures {
		if f.Name == "" || f.Bench == "" || f.Unit == "" || f.Target == "" {
			t.Errorf("incomplete figure %+v", f)
		}
		if seen[f.Name] {
			t.Errorf("figure %q twice", f.Name)
		}
		seen[f.Name] = true
		if f.Setup == "" && f.SetupKey == "" && f.SetupLine == nil {
			t.Errorf("figure %q has no setup", f.Name)
		}
	}
}
