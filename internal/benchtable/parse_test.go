package benchtable

import (
	"strings"
	"testing"
)

const sampleOutput = `goos: linux
goarch: amd64
pkg: github.com/binlake/binlake/integration
cpu: Intel(R) Xeon(R) CPU @ 2.20GHz
BenchmarkStreamingToRocketMQ-2   	benchsetup: BenchmarkStreamingToRocketMQ streaming: 200000 events | 5-row transactions
benchsetup: BenchmarkStreamingToRocketMQ ceiling: bare syncer
streaming to RocketMQ: 200000 events
       1	5123456789 ns/op	     61234 ceiling_rows/s	     30617 events/s
BenchmarkMigration-2   	       1	12000000000 ns/op	    83333 rows/s	       210.5 peak_rss_MiB	         1.25 fresh_p99_s
--- FAIL: BenchmarkBroken
FAIL
pkg: github.com/binlake/binlake/source/mysql
BenchmarkStreaming/mysql-2         	       1	  9000 ns/op	     24000 events/s
streaming mysql: 200000 events in 5-row transactions: task 24000 events/s
BenchmarkStreaming/mysql-2         	       1	  9000 ns/op	     26000 events/s
ok  	github.com/binlake/binlake/source/mysql	12.3s
`

func TestParse(t *testing.T) {
	out, err := Parse(strings.NewReader(sampleOutput))
	if err != nil {
		t.Fatal(err)
	}
	// The streaming result's line was split by the benchmark's own prints: the name and its continuation join.
	st, ok := out.Find("/integration", "BenchmarkStreamingToRocketMQ")
	if !ok || st.Metrics["events/s"] != 30617 || st.Metrics["ceiling_rows/s"] != 61234 || st.N != 1 {
		t.Errorf("split streaming result: %+v %v", st, ok)
	}
	mig, ok := out.Find("/integration", "BenchmarkMigration")
	if !ok {
		t.Fatalf("BenchmarkMigration not found in %+v", out.Results)
	}
	if mig.N != 1 || mig.Metrics["rows/s"] != 83333 || mig.Metrics["peak_rss_MiB"] != 210.5 || mig.Metrics["fresh_p99_s"] != 1.25 {
		t.Errorf("migration result %+v", mig)
	}
	if mig.Pkg != "github.com/binlake/binlake/integration" {
		t.Errorf("migration package %q", mig.Pkg)
	}
	src, ok := out.Find("/source/mysql", "BenchmarkStreaming/mysql")
	if !ok {
		t.Fatal("BenchmarkStreaming/mysql not found")
	}
	if src.Metrics["events/s"] != 26000 {
		t.Errorf("Find must return the last result, got %v events/s", src.Metrics["events/s"])
	}
	if _, ok := out.Find("/integration", "BenchmarkStreaming/mysql"); ok {
		t.Error("Find matched a benchmark of another package")
	}
	if got := out.Setups["BenchmarkStreamingToRocketMQ ceiling"]; got != "bare syncer" {
		t.Errorf("ceiling setup %q", got)
	}
	if len(out.Failures) != 2 {
		t.Errorf("failures %q, want the --- FAIL and FAIL lines", out.Failures)
	}
}

func TestParseResultLine(t *testing.T) {
	cases := []struct {
		line string
		ok   bool
		name string
		n    int
		m    map[string]float64
	}{
		{"BenchmarkX-8   \t 3\t 100 ns/op\t 2.5 rows/s", true, "BenchmarkX", 3, map[string]float64{"ns/op": 100, "rows/s": 2.5}},
		{"BenchmarkSink/upsert-new-keys-2 1 7 ns/op", true, "BenchmarkSink/upsert-new-keys", 1, map[string]float64{"ns/op": 7}},
		{"BenchmarkNoProcs 1 7 ns/op", true, "BenchmarkNoProcs", 1, map[string]float64{"ns/op": 7}},
		{"BenchmarkX-2 filled 100 rows", false, "", 0, nil},
		{"BenchmarkX-2", false, "", 0, nil},
		{"BenchmarkX-2 1 abc ns/op", false, "", 0, nil},
		{"BenchmarkX-2 0 1 ns/op", false, "", 0, nil},
	}
	for _, c := range cases {
		r, ok := parseResult(c.line)
		if ok != c.ok {
			t.Errorf("%q: ok %v, want %v", c.line, ok, c.ok)
			continue
		}
		if !ok {
			continue
		}
		if r.Name != c.name || r.N != c.n || len(r.Metrics) != len(c.m) {
			t.Errorf("%q: got %+v", c.line, r)
		}
		for k, v := range c.m {
			if r.Metrics[k] != v {
				t.Errorf("%q: %s = %v, want %v", c.line, k, r.Metrics[k], v)
			}
		}
	}
}

func TestParseSetup(t *testing.T) {
	key, text, ok := parseSetup("BenchmarkMigration freshness: 5,000 events/s: paced")
	if !ok || key != "BenchmarkMigration freshness" || text != "5,000 events/s: paced" {
		t.Errorf("got %q %q %v", key, text, ok)
	}
	for _, bad := range []string{"no colon here", "OneWord: text", "three words here: text"} {
		if _, _, ok := parseSetup(bad); ok {
			t.Errorf("%q parsed as a setup line", bad)
		}
	}
}
