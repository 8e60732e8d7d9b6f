package verify

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/binlake/binlake/connect"
)

// BenchmarkCompareLake compares a 200k-row lake table of every kind
// (written by the sink in 4 commits, no deletes) with an in-memory MySQL
// side and reports rows/s of the whole comparison (both sides' passes).
func BenchmarkCompareLake(b *testing.B) {
	const rows = 200_000
	dir := b.TempDir()
	src := shopItems()
	w := newSinkWriter(b, dir, src)
	r := rand.New(rand.NewPCG(9, 9))
	model := make(map[int64][]any, rows)
	for c := range 4 {
		recs := make([]connect.SinkRecord, 0, rows/4)
		for i := range rows / 4 {
			id := int64(c*rows/4 + i)
			row := randomItem(r, id)
			model[id] = row
			recs = append(recs, w.record(connect.OpRead, nil, row))
		}
		w.commit(recs)
	}
	ctx := context.Background()
	lk, err := OpenLake(ctx, LakeConfig{CatalogURI: filepath.Join(dir, "catalog.db")})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = lk.Close() }()
	ident := lk.Identifier("shop", "items")
	tbl, err := lk.LoadTable(ctx, ident)
	if err != nil || tbl == nil {
		b.Fatal(err)
	}
	plan, _, fields, _, err := planTable(src, tbl, strings.Join(ident, "."))
	if err != nil {
		b.Fatal(err)
	}
	my := modelSide(plan, src, model)
	lt := NewLakeTable(tbl, plan.Columns, fields, plan.KeyColumns)
	cpu0 := cpuSeconds()
	b.ResetTimer()
	for b.Loop() {
		res, err := Compare(ctx, plan, my, lt, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if res.Status != StatusEqual {
			b.Fatalf("status %s", res.Status)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	// The machine is shared: rows per CPU-second (user+system, all threads)
	// is the steadier figure.
	b.ReportMetric(float64(rows)*float64(b.N)/(cpuSeconds()-cpu0), "rows/cpu-s")
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// BenchmarkCanonRow measures rendering and hashing one 14-column row.
func BenchmarkCanonRow(b *testing.B) {
	src := shopItems()
	cols := make([]Column, len(src.Columns))
	for i, c := range src.Columns {
		cols[i] = ColumnOf(c)
	}
	row := randomItem(rand.New(rand.NewPCG(1, 2)), 42)
	cells := make([]Cell, len(cols))
	for b.Loop() {
		for i, c := range cols {
			cells[i] = Canon(c, row[i])
		}
		_ = RowHash(cells)
	}
}
