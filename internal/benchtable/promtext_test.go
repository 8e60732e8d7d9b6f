package benchtable

import (
	"math"
	"strings"
	"testing"
)

const metricsText = `# HELP binlake_sink_freshness_seconds Lake commit time minus the source commit time, per committed row.
# TYPE binlake_sink_freshness_seconds histogram
binlake_sink_freshness_seconds_bucket{connector="sink",table="db.a",task="0",le="0.05"} 1
binlake_sink_freshness_seconds_bucket{connector="sink",table="db.a",task="0",le="0.1"} 3
binlake_sink_freshness_seconds_bucket{connector="sink",table="db.a",task="0",le="+Inf"} 4
binlake_sink_freshness_seconds_bucket{connector="sink",table="db.b",task="0",le="0.05"} 0
binlake_sink_freshness_seconds_bucket{connector="sink",table="db.b",task="0",le="0.1"} 2
binlake_sink_freshness_seconds_bucket{connector="sink",table="db.b",task="0",le="+Inf"} 2
binlake_sink_freshness_seconds_bucket{connector="other",table="db.a",task="0",le="0.05"} 100
binlake_sink_freshness_seconds_bucket{connector="other",table="db.a",task="0",le="0.1"} 100
binlake_sink_freshness_seconds_bucket{connector="other",table="db.a",task="0",le="+Inf"} 100
binlake_sink_freshness_seconds_sum{connector="sink",table="db.a",task="0"} 1.5
binlake_sink_records_total{connector="sink",op="c",table="db.a",task="0"} 10
binlake_sink_records_total{connector="sink",op="r",table="db.a",task="0"} 1e+06
binlake_sink_records_total{connector="other",op="r",table="db.a",task="0"} 7
weird_label{a="x\"y,z}",b="line\nbreak"} 3 1700000000000
process_start_time_seconds 1.7e+09
`

func TestParseMetrics(t *testing.T) {
	s, err := ParseMetrics(strings.NewReader(metricsText))
	if err != nil {
		t.Fatal(err)
	}
	if got := Sum(s, "binlake_sink_records_total", map[string]string{"connector": "sink"}); got != 1_000_010 {
		t.Errorf("sink records %v, want 1000010", got)
	}
	if got := Sum(s, "binlake_sink_records_total", nil); got != 1_000_017 {
		t.Errorf("all records %v", got)
	}
	if got := Sum(s, "process_start_time_seconds", nil); got != 1.7e9 {
		t.Errorf("unlabelled sample %v", got)
	}
	var weird Sample
	for _, x := range s {
		if x.Name == "weird_label" {
			weird = x
		}
	}
	if weird.Labels["a"] != `x"y,z}` || weird.Labels["b"] != "line\nbreak" || weird.Value != 3 {
		t.Errorf("escaped labels: %+v", weird)
	}
	h, err := Histogram(s, "binlake_sink_freshness_seconds", map[string]string{"connector": "sink"})
	if err != nil {
		t.Fatal(err)
	}
	want := []Bucket{{0.05, 1}, {0.1, 5}, {math.Inf(1), 6}}
	if len(h) != len(want) {
		t.Fatalf("histogram %+v, want %+v", h, want)
	}
	for i := range want {
		if h[i] != want[i] {
			t.Errorf("bucket %d: %+v, want %+v", i, h[i], want[i])
		}
	}
}

func TestParseMetricsErrors(t *testing.T) {
	for _, bad := range []string{"name_only", `m{a="x} 1`, `m{a=x} 1`, "m notanumber"} {
		if _, err := ParseMetrics(strings.NewReader(bad + "\n")); err == nil {
			t.Errorf("%q parsed without error", bad)
		}
	}
}
