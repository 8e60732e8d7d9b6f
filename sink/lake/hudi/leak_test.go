package hudi

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestNoArrowLeaks runs commits (inserts, updates, deletes, schema
// evolution, multi-row-group rewrites) and a snapshot read on a checked
// allocator: every Arrow buffer must be released.
func TestNoArrowLeaks(t *testing.T) {
	ctx := context.Background()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	dir := t.TempDir()
	tbl := ordersTable()
	w := openTestWriter(t, dir, Options{Table: tbl, Allocator: mem, RowGroupRows: 8, MaxFileBytes: 16 << 10, SmallFileBytes: 12 << 10})
	m := model{}
	if _, err := w.Commit(ctx, tbl, upserts(ids(1, 100), 1, m, w.keys), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(ctx, tbl, append(upserts(ids(50, 150), 2, m, w.keys), deletes(ids(1, 10), m, w.keys)...), nil); err != nil {
		t.Fatal(err)
	}
	v2 := evolvedOrders()
	if _, err := w.Commit(ctx, v2, []Change{{Row: evolveRow(orderRow(7, 3), "x")}}, nil); err != nil {
		t.Fatal(err)
	}
	w.Close()
	w2 := openTestWriter(t, dir, Options{Table: v2, Allocator: mem})
	w2.Close()
	mem.AssertSize(t, 0)
}
