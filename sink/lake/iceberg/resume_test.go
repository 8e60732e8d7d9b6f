package iceberg_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/apache/iceberg-go/table"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/sink/lake"
	lakeiceberg "github.com/binlake/binlake/sink/lake/iceberg"
)

var errCrash = errors.New("simulated crash")

// redeliver returns the logged records at or after the given per-queue
// offsets, in log order (per-queue order kept), as the broker would after
// the consumer seeks there.
func (f *feed) redeliver(from map[connect.QueueID]int64) []connect.SinkRecord {
	var out []connect.SinkRecord
	for _, r := range f.log {
		if off, ok := from[r.Queue]; ok && r.Offset >= off {
			out = append(out, r)
		}
	}
	return out
}

func (f *feed) queueIDs() []connect.QueueID {
	out := make([]connect.QueueID, f.queues)
	for q := range out {
		out[q] = connect.QueueID{Topic: f.topic, BrokerName: "b0", Queue: q}
	}
	return out
}

func (f *feed) positions() map[connect.QueueID]int64 {
	out := map[connect.QueueID]int64{}
	for q, off := range f.offsets {
		out[connect.QueueID{Topic: f.topic, BrokerName: "b0", Queue: q}] = off
	}
	return out
}

func snapshotCount(t *testing.T, f *lakeiceberg.Format) int {
	t.Helper()
	tbl, err := f.Catalog().LoadTable(context.Background(), itemsIdent)
	if err != nil {
		t.Fatal(err)
	}
	return len(tbl.Metadata().Snapshots())
}

// TestCrashBeforeCommitLosesNothing crashes after the data and delete files
// of a cycle are written but before the commit; the restarted task resumes
// from the committed offsets and the table ends equal to the model.
func TestCrashBeforeCommitLosesNothing(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	cfg := taskConfig(dir, nil)
	feed := newFeed(11, itemsTable(1), 3)
	cols := columnNames(feed.tbl)

	task, _ := startTask(t, dir, cfg)
	if _, err := task.Open(ctx, feed.queueIDs()); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		mustPut(t, task, feed.next(150, 80))
		mustFlush(t, task)
	}
	committedAt := feed.positions()

	// Crash between writing the files and committing them.
	task2, f2 := startTask(t, dir, cfg)
	if _, err := task2.Open(ctx, feed.queueIDs()); err != nil {
		t.Fatal(err)
	}
	f2.Hook = func(stage string, _ table.Identifier) error {
		if stage == lakeiceberg.StageFilesWritten {
			return errCrash
		}
		return nil
	}
	mustPut(t, task2, feed.redeliver(committedAt)) // nothing new yet: all duplicates or none
	mustPut(t, task2, feed.next(150, 80))
	if err := task2.Flush(ctx); !errors.Is(err, errCrash) {
		t.Fatalf("flush error = %v, want the simulated crash", err)
	}
	_ = task2.Stop(ctx)

	// Restart: Open must return the offsets of the last real commit.
	cfg = taskConfig(dir, map[string]string{lake.KeyOrphanMinAge: "1"})
	task3, f3 := startTask(t, dir, cfg)
	offsets, err := task3.Open(ctx, feed.queueIDs())
	if err != nil {
		t.Fatal(err)
	}
	for q, want := range committedAt {
		if offsets[q] != want {
			t.Errorf("Open offset of queue %d = %d, want %d (the last committed position)", q.Queue, offsets[q], want)
		}
	}
	mustPut(t, task3, feed.redeliver(offsets))
	mustFlush(t, task3)
	diffLines(t, "after restart", scanLines(t, f3, itemsIdent, cols), modelLines(feed.tbl, feed.model, cols))

	// The crashed cycle's files are orphans; maintenance deletes them and
	// the table still reads right.
	time.Sleep(5 * time.Millisecond)
	res, err := f3.MaintainNow(ctx, "shop", "items")
	if err != nil {
		t.Fatalf("maintaining: %v", err)
	}
	if res.DeletedOrphanFiles < 2 {
		t.Errorf("maintenance deleted %d orphan files, want the crashed cycle's data and delete files (>= 2)", res.DeletedOrphanFiles)
	}
	diffLines(t, "after orphan cleanup", scanLines(t, f3, itemsIdent, cols), modelLines(feed.tbl, feed.model, cols))
}

// TestCrashAfterCommitDuplicatesNothing crashes after the commit but before
// the broker acknowledgement; the broker redelivers from its older offsets
// (here: from the very beginning) and the sink drops every event at or
// below the committed sequences.
func TestCrashAfterCommitDuplicatesNothing(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	cfg := taskConfig(dir, nil)
	feed := newFeed(13, itemsTable(1), 4)
	cols := columnNames(feed.tbl)

	task, f := startTask(t, dir, cfg)
	if _, err := task.Open(ctx, feed.queueIDs()); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		mustPut(t, task, feed.next(150, 80))
		mustFlush(t, task)
	}
	f.Hook = func(stage string, _ table.Identifier) error {
		if stage == lakeiceberg.StageCommitted {
			return errCrash
		}
		return nil
	}
	mustPut(t, task, feed.next(150, 80))
	if err := task.Flush(ctx); !errors.Is(err, errCrash) {
		t.Fatalf("flush error = %v, want the simulated crash", err)
	}
	_ = task.Stop(ctx)

	task2, f2 := startTask(t, dir, cfg)
	before := snapshotCount(t, f2)
	offsets, err := task2.Open(ctx, feed.queueIDs())
	if err != nil {
		t.Fatal(err)
	}
	for q, want := range feed.positions() {
		if offsets[q] != want {
			t.Errorf("Open offset of queue %d = %d, want %d (the crashed cycle was committed)", q.Queue, offsets[q], want)
		}
	}
	// The broker never got the ack: it redelivers everything.
	fromStart := map[connect.QueueID]int64{}
	for _, q := range feed.queueIDs() {
		fromStart[q] = 0
	}
	mustPut(t, task2, feed.redeliver(fromStart))
	mustFlush(t, task2)
	if after := snapshotCount(t, f2); after != before {
		t.Errorf("replaying committed events made %d new snapshots, want none", after-before)
	}
	diffLines(t, "after replay", scanLines(t, f2, itemsIdent, cols), modelLines(feed.tbl, feed.model, cols))

	// New events after the replay are still written.
	mustPut(t, task2, feed.next(100, 80))
	mustFlush(t, task2)
	diffLines(t, "after new events", scanLines(t, f2, itemsIdent, cols), modelLines(feed.tbl, feed.model, cols))
}
