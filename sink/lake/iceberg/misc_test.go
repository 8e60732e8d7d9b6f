package iceberg_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/spec"
	"github.com/binlake/binlake/sink/lake"
)

// TestTruncateWithEqualityDeletes truncates an upsert table that carries
// equality deletes (the situation of apache/iceberg-go#2042) in the middle
// of a batch: rows before the truncate vanish, rows after it stay.
func TestTruncateWithEqualityDeletes(t *testing.T) {
	dir := t.TempDir()
	task, f := startTask(t, dir, taskConfig(dir, nil))
	feed := newFeed(31, itemsTable(1), 2)
	cols := columnNames(feed.tbl)
	for range 3 {
		mustPut(t, task, feed.next(100, 50))
		mustFlush(t, task)
	}
	// truncate, then new rows, in one batch
	trunc := feed.emit(connect.OpTruncate, nil, nil)
	feed.model = map[string][]any{}
	mustPut(t, task, append([]connect.SinkRecord{trunc}, feed.next(40, 50)...))
	mustFlush(t, task)
	diffLines(t, "after truncate", scanLines(t, f, itemsIdent, cols), modelLines(feed.tbl, feed.model, cols))
	if len(feed.model) == 0 {
		t.Fatal("no rows after the truncate; the test checks nothing")
	}
}

// TestPartitionedUpsert writes a bucket-partitioned upsert table, compacts
// it and compares with the model.
func TestPartitionedUpsert(t *testing.T) {
	dir := t.TempDir()
	task, f := startTask(t, dir, taskConfig(dir, map[string]string{lake.KeyPartitionSpec: "bucket(4,id)"}))
	feed := newFeed(41, itemsTable(1), 2)
	cols := columnNames(feed.tbl)
	for range 4 {
		mustPut(t, task, feed.next(150, 100))
		mustFlush(t, task)
	}
	want := modelLines(feed.tbl, feed.model, cols)
	diffLines(t, "partitioned table", scanLines(t, f, itemsIdent, cols), want)
	tbl, err := f.Catalog().LoadTable(context.Background(), itemsIdent)
	if err != nil {
		t.Fatal(err)
	}
	if spec := tbl.Spec(); spec.NumFields() != 1 {
		t.Fatalf("table spec = %s, want one bucket field", spec.String())
	}
	res, err := f.MaintainNow(context.Background(), "shop", "items")
	if err != nil {
		t.Fatalf("maintaining: %v", err)
	}
	if res.RemainingDeleteFiles != 0 || res.AddedDataFiles < 2 {
		t.Errorf("compaction of 4 buckets: %+v; want no delete files left and a file per bucket", res)
	}
	diffLines(t, "partitioned table after compaction", scanLines(t, f, itemsIdent, cols), want)

	// Upsert tables may only be partitioned by key columns.
	dir2 := t.TempDir()
	task2, _ := startTask(t, dir2, taskConfig(dir2, map[string]string{lake.KeyPartitionSpec: "day(updated)"}))
	err = task2.Put(context.Background(), feed.next(1, 100))
	if err == nil || !connect.IsTerminal(err) || !strings.Contains(err.Error(), "primary-key") {
		t.Errorf("partitioning an upsert table by a non-key column: %v, want a terminal error", err)
	}
}

// TestFlushMaxRowsCommitsDuringPut checks the per-table row bound: Put
// commits by itself when a table's buffer is full.
func TestFlushMaxRowsCommitsDuringPut(t *testing.T) {
	dir := t.TempDir()
	task, f := startTask(t, dir, taskConfig(dir, map[string]string{lake.KeyFlushMaxRows: "50"}))
	feed := newFeed(51, itemsTable(1), 2)
	mustPut(t, task, feed.next(400, 100000)) // distinct keys: 400 buffered rows without Flush
	if n := snapshotCount(t, f); n < 7 {
		t.Errorf("Put made %d commits for 400 distinct keys with flush.max.rows=50, want at least 7", n)
	}
	mustFlush(t, task)
	cols := columnNames(feed.tbl)
	diffLines(t, "after bounded puts", scanLines(t, f, itemsIdent, cols), modelLines(feed.tbl, feed.model, cols))
}

type fakeDLQ struct {
	mu   sync.Mutex
	recs []connect.SinkRecord
	why  []error
}

func (d *fakeDLQ) SendDeadLetter(_ context.Context, rec connect.SinkRecord, reason error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.recs = append(d.recs, rec)
	d.why = append(d.why, reason)
	return nil
}

// TestBadRecordsGoToDeadLetters sends a record whose value does not match
// its column kind: with errors.tolerance=all it goes to the dead-letter
// sender with the reason and the rest is written; with none the task fails.
func TestBadRecordsGoToDeadLetters(t *testing.T) {
	dir := t.TempDir()
	task, f := startTask(t, dir, taskConfig(dir, map[string]string{spec.ErrorsTolerance: spec.ToleranceAll}))
	dlq := &fakeDLQ{}
	task.SetDeadLetterSender(dlq)
	feed := newFeed(61, itemsTable(1), 1)
	good := feed.next(20, 1000)
	bad := feed.emit(connect.OpCreate, nil, []any{int64(99999), "x", "not an int32", nil, nil, nil, nil, nil, nil, nil, nil, nil})
	mustPut(t, task, append(good, bad))
	mustFlush(t, task)
	if len(dlq.recs) != 1 || dlq.recs[0].Offset != bad.Offset || !strings.Contains(dlq.why[0].Error(), "qty") {
		t.Fatalf("dead letters = %d (%v), want the one bad record with a reason naming qty", len(dlq.recs), dlq.why)
	}
	cols := columnNames(feed.tbl)
	diffLines(t, "good records", scanLines(t, f, itemsIdent, cols), modelLines(feed.tbl, feed.model, cols))

	dir2 := t.TempDir()
	task2, _ := startTask(t, dir2, taskConfig(dir2, nil))
	err := task2.Put(context.Background(), []connect.SinkRecord{bad})
	var te *connect.TerminalError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "errors.tolerance") {
		t.Errorf("bad record with errors.tolerance=none: %v, want a terminal error with a hint", err)
	}
}
