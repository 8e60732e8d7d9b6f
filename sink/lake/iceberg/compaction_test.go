package iceberg_test

import (
	"context"
	"testing"
)

// TestCompactionAppliesEqualityDeletes writes cycles with equality deletes
// (updates, deletes, delete-then-reinsert), compacts, and checks that the
// table still equals the model through iceberg-go's scan, that no delete
// files are left, and that pyiceberg (which cannot apply equality deletes)
// reads the model too.
func TestCompactionAppliesEqualityDeletes(t *testing.T) {
	dir := t.TempDir()
	task, f := startTask(t, dir, taskConfig(dir, nil))
	feed := newFeed(7, itemsTable(1), 3)
	cols := columnNames(feed.tbl)
	for cycle := 0; cycle < 8; cycle++ {
		mustPut(t, task, feed.next(200, 120))
		mustFlush(t, task)
	}
	res, err := f.MaintainNow(context.Background(), "shop", "items")
	if err != nil {
		t.Fatalf("maintaining: %v", err)
	}
	t.Logf("maintenance: %+v", res)
	if res.RewrittenDataFiles == 0 || res.RemovedEqDeleteFiles == 0 {
		t.Errorf("compaction rewrote %d files and removed %d equality-delete files; want both > 0", res.RewrittenDataFiles, res.RemovedEqDeleteFiles)
	}
	if res.RemainingDeleteFiles != 0 {
		t.Errorf("%d delete files remain after compaction", res.RemainingDeleteFiles)
	}
	want := modelLines(feed.tbl, feed.model, cols)
	diffLines(t, "iceberg-go scan after compaction", scanLines(t, f, itemsIdent, cols), want)
	diffLines(t, "pyiceberg after compaction", pyicebergLines(t, dir, itemsIdent, cols), want)

	// The sink keeps working after maintenance and resumes from the
	// position the rewrite snapshot carries.
	mustPut(t, task, feed.next(100, 120))
	mustFlush(t, task)
	if _, err := f.MaintainNow(context.Background(), "shop", "items"); err != nil {
		t.Fatalf("maintaining again: %v", err)
	}
	want = modelLines(feed.tbl, feed.model, cols)
	diffLines(t, "iceberg-go scan after second compaction", scanLines(t, f, itemsIdent, cols), want)
	diffLines(t, "pyiceberg after second compaction", pyicebergLines(t, dir, itemsIdent, cols), want)
}
