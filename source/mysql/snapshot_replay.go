package mysql

import (
	"slices"
	"strings"

	"github.com/binlake/binlake/schema"
)

// replayChunk is the chunk of a table without a primary key that the
// previous run emitted after its checkpoint, read again at start and found
// identical; it is emitted again, with the same sequences, where the replay
// of the binlog reaches it.
type replayChunk struct {
	tracked *schema.Table
	out     *schema.Table
	rows    [][]any
}

// prepareKeyless reads the keyless tables whose chunk the previous run
// emitted after the checkpoint and keeps those that still hold exactly the
// rows emitted then. A table that changed is snapshotted again instead.
func (t *Task) prepareKeyless(prog *SnapshotProgress) {
	if prog == nil {
		return
	}
	ctx, cancel := t.lifetimeCtx()
	defer cancel()
	for _, r := range t.replay {
		if !r.keyless() || !slices.Contains(prog.Tables, r.Table) {
			continue
		}
		db, name, _ := strings.Cut(r.Table, ".")
		tracked := t.tracker.Get(db, name)
		if tracked == nil || len(tracked.PrimaryKey) > 0 {
			continue
		}
		out := t.emitted(tracked)
		rows, err := t.queryChunk(ctx, chunkJob{table: r.Table, final: true}, out, nil)
		if err != nil {
			t.log.Warn("reading a keyless table again to replay its snapshot chunk", "table", r.Table, "error", err)
			continue
		}
		if uint64(len(rows)) != r.Rows {
			continue
		}
		sortRows(rows)
		if rowsDigest(rows) != r.Digest {
			continue
		}
		if t.keyless == nil {
			t.keyless = map[uint64]*replayChunk{}
		}
		t.keyless[r.Base] = &replayChunk{tracked: tracked, out: out, rows: rows}
	}
}

// emitReplayedChunk emits a keyless chunk of the previous run again, with
// the sequences it had (r.Base is the current sequence), and records the
// table as snapshotted. It returns false when the chunk no longer fits (its
// schema changed during the replay, or the snapshot is not at that table);
// then the caller leaves a gap and the table is read again. Task.mu must be
// held.
func (t *Task) emitReplayedChunk(r Reservation, c *replayChunk) bool {
	s := t.snap
	db, name, _ := strings.Cut(r.Table, ".")
	i := -1
	if s != nil && !s.done {
		i = slices.Index(s.prog.Tables, r.Table)
	}
	if i < 0 || t.tracker.Get(db, name) != c.tracked || t.st.seq != r.Base {
		return false
	}
	t.emitChunkRows(db, name, c.out, c.rows, binlogPos{File: r.File, Pos: r.Pos}, r.TsMs)
	t.tableDone(r.Table, len(c.rows))
	s.replayed[r.Table] = true
	t.log.Info("snapshot chunk of a keyless table emitted again as in the previous run", "table", r.Table, "rows", len(c.rows))
	t.finishSnapshot()
	return true
}
