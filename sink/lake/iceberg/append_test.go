package iceberg_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/iceberg-go/table"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/sink/lake"
)

// changelogLines renders the feed's log (or part of it) as the append-mode
// table should hold it: one row per event with op and sequence.
func changelogLines(recs []connect.SinkRecord, cols []string) []string {
	var out []string
	for _, r := range recs {
		ev := r.Event
		row := ev.Row()
		parts := make([]string, 0, len(cols)+2)
		for _, c := range cols {
			v := any(nil)
			if ci := ev.Schema.ColumnIndex(c); ci >= 0 && row != nil {
				v = row[ci]
			}
			parts = append(parts, c+"="+canon(v))
		}
		parts = append(parts, "_binlake_op="+ev.Op.String(), "_binlake_seq="+strconv.FormatUint(ev.Source.Sequence, 10))
		out = append(out, strings.Join(parts, "|"))
	}
	return sortedCopy(out)
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// TestAppendModeChangelog writes a changelog (every event a row), replays
// committed events (which must be dropped) and reads the table with
// iceberg-go and pyiceberg.
func TestAppendModeChangelog(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	cfg := taskConfig(dir, map[string]string{lake.KeyWriteMode: string(lake.ModeAppend)})
	feed := newFeed(21, itemsTable(1), 2)
	task, _ := startTask(t, dir, cfg)
	if _, err := task.Open(ctx, feed.queueIDs()); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		mustPut(t, task, feed.next(120, 60))
		mustFlush(t, task)
	}
	_ = task.Stop(ctx)

	task2, f2 := startTask(t, dir, cfg)
	if _, err := task2.Open(ctx, feed.queueIDs()); err != nil {
		t.Fatal(err)
	}
	from := map[connect.QueueID]int64{}
	for _, q := range feed.queueIDs() {
		from[q] = 0
	}
	mustPut(t, task2, feed.redeliver(from)) // all duplicates
	mustPut(t, task2, feed.next(50, 60))
	mustFlush(t, task2)

	cols := columnNames(feed.tbl)
	all := append(append([]string{}, cols...), "_binlake_op", "_binlake_seq")
	want := changelogLines(feed.log, cols)
	diffLines(t, "iceberg-go scan of the changelog", scanLines(t, f2, itemsIdent, all), want)
	diffLines(t, "pyiceberg read of the changelog", pyicebergLines(t, dir, itemsIdent, all), want)
}

// TestTableWithoutKeyIsAppended checks that in upsert mode a table without
// a primary key becomes a changelog, including its deletes and truncates.
func TestTableWithoutKeyIsAppended(t *testing.T) {
	dir := t.TempDir()
	task, f := startTask(t, dir, taskConfig(dir, nil))
	tbl := &schema.Table{Database: "shop", Name: "logs", Version: 1, Columns: []schema.Column{
		{Name: "msg", Kind: schema.KindString, Optional: true},
		{Name: "n", Kind: schema.KindInt64},
	}}
	var recs []connect.SinkRecord
	for i := range 5 {
		op, before, after := connect.OpCreate, []any(nil), []any{fmt.Sprint("m", i), int64(i)}
		if i == 3 {
			op, before, after = connect.OpDelete, []any{"m1", int64(1)}, nil
		}
		recs = append(recs, connect.SinkRecord{
			Event: &connect.ChangeEvent{Op: op, Before: before, After: after, Schema: tbl,
				Source: connect.SourceInfo{Database: "shop", Table: "logs", Sequence: uint64(i + 1)}},
			Queue: connect.QueueID{Topic: "cdc_shop_logs", BrokerName: "b0"}, Offset: int64(i),
		})
	}
	recs = append(recs, connect.SinkRecord{
		Event: &connect.ChangeEvent{Op: connect.OpTruncate, Schema: tbl, Source: connect.SourceInfo{Database: "shop", Table: "logs", Sequence: 6}},
		Queue: connect.QueueID{Topic: "cdc_shop_logs", BrokerName: "b0"}, Offset: 5,
	})
	mustPut(t, task, recs)
	mustFlush(t, task)
	cols := []string{"msg", "n", "_binlake_op", "_binlake_seq"}
	want := changelogLines(recs, []string{"msg", "n"})
	diffLines(t, "changelog of a keyless table", scanLines(t, f, table.Identifier{"shop", "logs"}, cols), want)
}

// TestExistingTableKeepsItsMode: a table created in append mode stays a
// changelog when the connector is later configured for upsert.
func TestExistingTableKeepsItsMode(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	feed := newFeed(91, itemsTable(1), 1)
	task, _ := startTask(t, dir, taskConfig(dir, map[string]string{lake.KeyWriteMode: string(lake.ModeAppend)}))
	mustPut(t, task, feed.next(50, 30))
	mustFlush(t, task)
	_ = task.Stop(ctx)

	task2, f2 := startTask(t, dir, taskConfig(dir, map[string]string{lake.KeyWriteMode: string(lake.ModeUpsert)}))
	mustPut(t, task2, feed.next(50, 30))
	mustFlush(t, task2)
	cols := columnNames(feed.tbl)
	all := append(append([]string{}, cols...), "_binlake_op", "_binlake_seq")
	diffLines(t, "changelog after a mode change", scanLines(t, f2, itemsIdent, all), changelogLines(feed.log, cols))
}
