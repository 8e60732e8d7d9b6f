package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunPrintsTableAndFailures(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.out")
	b := filepath.Join(dir, "b.out")
	if err := os.WriteFile(a, []byte("pkg: github.com/binlake/binlake/integration\nBenchmarkMigration-2 1 5 ns/op 3308 rows/s 288 peak_rss_MiB\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b, []byte("pkg: github.com/binlake/binlake/sink/lake/iceberg\n--- FAIL: BenchmarkSinkAppend\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := run([]string{a, b}, strings.NewReader(""), &out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"| figure | value | target | setup |",
		"| migration MySQL -> Iceberg, end to end | 3,308 rows/s | >= 100k rows/s |",
		"| peak RSS of the worker (VmHWM) | 288 MiB |",
		"| Iceberg sink alone, append | not measured |",
		"benchmark failure: --- FAIL: BenchmarkSinkAppend",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if err := run([]string{filepath.Join(dir, "missing")}, nil, &out); err == nil {
		t.Error("a missing input file must be an error")
	}
}

func TestRunReadsStdin(t *testing.T) {
	var out strings.Builder
	in := "pkg: github.com/binlake/binlake/source/mysql\nBenchmarkSnapshot/mysql-2 1 5 ns/op 61425 rows/s\n"
	if err := run(nil, strings.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "| snapshot, no broker | 61,425 rows/s |") {
		t.Errorf("stdin not read:\n%s", out.String())
	}
}
