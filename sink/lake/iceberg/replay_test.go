package iceberg_test

import (
	"context"
	"testing"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/sink/lake"
)

// resendFrom models a source that restarted from a checkpoint at sequence seq: it sends every event after seq again,
// each to the same queue as its original, at the end of that queue (new offsets). The log of distinct events is kept.
func (f *feed) resendFrom(seq uint64) []connect.SinkRecord {
	var out []connect.SinkRecord
	for _, rec := range f.log {
		if rec.Event.Source.Sequence <= seq {
			continue
		}
		r := rec
		r.Offset = f.offsets[r.Queue.Queue]
		f.offsets[r.Queue.Queue]++
		out = append(out, r)
	}
	return out
}

// TestSourceReplayWithinOneCycle checks that events a restarted source sends again are dropped even when they arrive in
// the same commit cycle as their originals (not committed yet): in upsert mode an old change replayed after a newer one
// of the same key must not win, in append mode no event may be written twice.
func TestSourceReplayWithinOneCycle(t *testing.T) {
	for _, mode := range []lake.Mode{lake.ModeUpsert, lake.ModeAppend} {
		t.Run(string(mode), func(t *testing.T) {
			dir := t.TempDir()
			ctx := context.Background()
			cfg := taskConfig(dir, map[string]string{lake.KeyWriteMode: string(mode)})
			feed := newFeed(99, itemsTable(1), 4)
			task, f := startTask(t, dir, cfg)
			if _, err := task.Open(ctx, feed.queueIDs()); err != nil {
				t.Fatal(err)
			}
			mustPut(t, task, feed.next(60, 10))
			mustFlush(t, task)
			// One cycle: new events, then the source restarts from an old checkpoint and replays events of this
			// cycle and of the committed one, then goes on.
			mustPut(t, task, feed.next(200, 10))
			mustPut(t, task, feed.resendFrom(40))
			mustPut(t, task, feed.next(50, 10))
			mustPut(t, task, feed.resendFrom(200))
			mustFlush(t, task)

			cols := columnNames(feed.tbl)
			if mode == lake.ModeUpsert {
				diffLines(t, "upsert table after replays", scanLines(t, f, itemsIdent, cols), modelLines(feed.tbl, feed.model, cols))
				return
			}
			all := append(append([]string{}, cols...), "_binlake_op", "_binlake_seq")
			diffLines(t, "changelog after replays", scanLines(t, f, itemsIdent, all), changelogLines(feed.log, cols))
		})
	}
}
