package iceberg_test

import (
	"context"
	"testing"

	"github.com/apache/iceberg-go/table"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/sink/lake"
	lakeiceberg "github.com/binlake/binlake/sink/lake/iceberg"
)

// TestCommitConflictIsRetried: another writer commits to the table between
// our file write and our commit. Our first attempt conflicts; the writer
// refreshes, finds its commit id absent, retries on the new head and both
// writes survive.
func TestCommitConflictIsRetried(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	cfg := taskConfig(dir, nil)
	feed := newFeed(101, itemsTable(1), 1)
	other := newFeed(102, itemsTable(1), 1)
	other.topic = "other_topic"

	task, f := startTask(t, dir, cfg)
	mustPut(t, task, feed.next(100, 50)) // keys 0..49
	mustFlush(t, task)

	// The other writer: a second task (connector c2) on the same catalog.
	otherTask := lake.NewTask()
	if err := otherTask.Start(ctx, &connect.TaskContext{Connector: "c2", Config: cfg, DataDir: dir}); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = otherTask.Stop(ctx) }()
	otherRecs := other.nextInserts(30) // keys far away from ours

	interfered := false
	f.Hook = func(stage string, _ table.Identifier) error {
		if stage != lakeiceberg.StageFilesWritten || interfered {
			return nil
		}
		interfered = true
		if err := otherTask.Put(ctx, otherRecs); err != nil {
			return err
		}
		return otherTask.Flush(ctx)
	}
	mustPut(t, task, feed.next(100, 50))
	mustFlush(t, task)
	if !interfered {
		t.Fatal("the other writer never ran")
	}
	for k, v := range other.model {
		feed.model[k] = v
	}
	cols := columnNames(feed.tbl)
	diffLines(t, "after a conflicting commit", scanLines(t, f, itemsIdent, cols), modelLines(feed.tbl, feed.model, cols))

	tbl, err := f.Catalog().LoadTable(ctx, itemsIdent)
	if err != nil {
		t.Fatal(err)
	}
	cur := tbl.CurrentSnapshot()
	if cur.Summary.Properties[lakeiceberg.PropConnector] != "c1" || cur.ParentSnapshotID == nil {
		t.Fatalf("current snapshot is not ours: %v", cur.Summary)
	}
	if parent := tbl.SnapshotByID(*cur.ParentSnapshotID); parent.Summary.Properties[lakeiceberg.PropConnector] != "c2" {
		t.Errorf("our retried commit does not follow the other writer's: parent summary %v", parent.Summary)
	}
}
