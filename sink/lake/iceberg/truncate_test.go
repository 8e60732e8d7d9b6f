package iceberg_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/sink/lake"
	lakeiceberg "github.com/binlake/binlake/sink/lake/iceberg"
)

// TestTruncateAcrossQueues sends a TRUNCATE the way the source does, one copy on every queue with one sequence, and
// delivers the queues in an adversarial order: one queue (marker and the changes after it) far ahead of the others,
// commits in between, a restart, and every record delivered again after it. Changes before the truncate must vanish
// wherever they arrive from, changes after it must stay.
func TestTruncateAcrossQueues(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	const queues = 4
	feed := newFeed(77, itemsTable(1), queues)
	cols := columnNames(feed.tbl)
	pre := feed.next(400, 120)

	// The truncate: one sequence, a copy at the end of every queue.
	feed.seq++
	var markers []connect.SinkRecord
	for q := range queues {
		ev := &connect.ChangeEvent{Op: connect.OpTruncate, Schema: feed.tbl,
			Source: connect.SourceInfo{Database: feed.tbl.Database, Table: feed.tbl.Name, Sequence: feed.seq}}
		markers = append(markers, connect.SinkRecord{Event: ev, Queue: connect.QueueID{Topic: feed.topic, BrokerName: "b0", Queue: q}, Offset: feed.offsets[q]})
		feed.offsets[q]++
	}
	feed.model = map[string][]any{}
	post := feed.next(300, 120)

	byQueue := make([][]connect.SinkRecord, queues)
	for _, r := range pre {
		byQueue[r.Queue.Queue] = append(byQueue[r.Queue.Queue], r)
	}
	for _, r := range markers {
		byQueue[r.Queue.Queue] = append(byQueue[r.Queue.Queue], r)
	}
	for _, r := range post {
		byQueue[r.Queue.Queue] = append(byQueue[r.Queue.Queue], r)
	}

	task, _ := startTask(t, dir, taskConfig(dir, nil))
	// Queue 1 runs ahead: its old changes, the truncate and its new changes are committed first.
	mustPut(t, task, byQueue[1])
	mustFlush(t, task)
	// Queue 0: half of its old changes (they come after the truncate was committed), then a commit.
	mustPut(t, task, byQueue[0][:len(byQueue[0])/2])
	mustFlush(t, task)
	// A restart, then everything again from the start of every queue: replays and late old changes alike.
	_ = task.Stop(ctx)
	task, f := startTask(t, dir, taskConfig(dir, nil))
	for q := range queues {
		mustPut(t, task, byQueue[q])
	}
	mustFlush(t, task)
	want := modelLines(feed.tbl, feed.model, cols)
	if len(want) == 0 {
		t.Fatal("no rows after the truncate; the test checks nothing")
	}
	diffLines(t, "after a truncate across queues", scanLines(t, f, itemsIdent, cols), want)
	_ = task.Stop(ctx)

	// A changelog keeps every event once, the truncate once although it came on every queue, however the queues
	// are delivered.
	adir := t.TempDir()
	atask, af := startTask(t, adir, taskConfig(adir, map[string]string{lake.KeyWriteMode: string(lake.ModeAppend)}))
	mustPut(t, atask, byQueue[2])
	mustFlush(t, atask)
	for q := range queues {
		mustPut(t, atask, byQueue[q])
	}
	mustFlush(t, atask)
	var wantLog []string
	for _, r := range slices.Concat(pre, markers[:1], post) {
		wantLog = append(wantLog, fmt.Sprintf("%s=%d|%s=%s", lakeiceberg.ColSequence, r.Event.Source.Sequence, lakeiceberg.ColOp, r.Event.Op))
	}
	slices.Sort(wantLog)
	diffLines(t, "changelog with a truncate across queues", scanLines(t, af, itemsIdent, []string{lakeiceberg.ColSequence, lakeiceberg.ColOp}), wantLog)
	_ = atask.Stop(ctx)
}
