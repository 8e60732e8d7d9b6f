package iceberg_test

import (
	"context"
	"testing"

	"github.com/apache/iceberg-go/table"
)

var itemsIdent = table.Identifier{"shop", "items"}

// TestUpsertMatchesModel writes many cycles of random creates, updates,
// deletes and delete-then-reinserts and compares iceberg-go's scan (which
// applies the equality deletes) with a model after each cycle.
func TestUpsertMatchesModel(t *testing.T) {
	dir := t.TempDir()
	task, f := startTask(t, dir, taskConfig(dir, nil))
	feed := newFeed(1, itemsTable(1), 4)
	cols := columnNames(feed.tbl)
	for cycle := 0; cycle < 12; cycle++ {
		mustPut(t, task, feed.next(250, 150))
		mustFlush(t, task)
		diffLines(t, "after cycle", scanLines(t, f, itemsIdent, cols), modelLines(feed.tbl, feed.model, cols))
		if t.Failed() {
			t.Fatalf("cycle %d differs from the model", cycle)
		}
	}
	if len(feed.model) == 0 {
		t.Fatal("the model is empty; the test exercises nothing")
	}
	ctx := context.Background()
	tbl, err := f.Catalog().LoadTable(ctx, itemsIdent)
	if err != nil {
		t.Fatal(err)
	}
	summary := tbl.CurrentSnapshot().Summary.Properties
	for _, k := range []string{"binlake.connector", "binlake.commit-id", "binlake.offsets", "binlake.sequences"} {
		if summary[k] == "" {
			t.Errorf("snapshot summary lacks %s: %v", k, summary)
		}
	}
	if got := summary["total-equality-deletes"]; got == "" || got == "0" {
		t.Errorf("expected equality deletes in the table, summary says %q", got)
	}
}
