package iceberg

import (
	"context"
	"fmt"
	"iter"
	"math/rand/v2"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/sink/lake"
)

// Snapshot summary and table property keys written by the sink.
const (
	PropConnector = "binlake.connector"
	PropCommitID  = "binlake.commit-id"
	PropOffsets   = "binlake.offsets"
	PropSequences = "binlake.sequences"
	// PropWriteMode is the table property recording the mode a table was
	// created with; it wins over write.mode for existing tables.
	PropWriteMode = "binlake.write-mode"
	// PropSourceVersion is the table property holding the newest source
	// table version the schema was evolved to; PropRenames the earlier
	// column names (JSON, lower-case old -> new) that rows of older
	// versions are mapped through.
	PropSourceVersion = "binlake.source-version"
	PropRenames       = "binlake.renames"
)

// Hook stages, for tests that simulate crashes.
const (
	StageFilesWritten = "files-written"
	StageCommitted    = "committed"
)

// tableWriter writes batches to one Iceberg table. One goroutine uses it.
type tableWriter struct {
	f     *Format
	ident table.Identifier
	tbl   *table.Table
	mode  lake.Mode
	// evolvedVersion is the newest source table version the Iceberg
	// schema was evolved to; renames maps lower-cased earlier column names
	// to their current lower-cased names.
	evolvedVersion int
	renames        map[string]string
	// defaults holds the columns added with a value for existing rows, by
	// lower-cased current name (PropAddedDefaults).
	defaults       map[string]addedDefault
	lastMaintained time.Time
}

var _ lake.TableWriter = (*tableWriter)(nil)

// Mode returns the mode the table is written in.
func (w *tableWriter) Mode() lake.Mode { return w.mode }

// Committed walks the snapshot history back from the current snapshot to
// the newest snapshot written by this connector and returns its position.
func (w *tableWriter) Committed(context.Context) (lake.Position, bool, error) {
	return committedPosition(w.tbl, w.f.connector)
}

func committedPosition(tbl *table.Table, connector string) (lake.Position, bool, error) {
	for snap := tbl.CurrentSnapshot(); snap != nil; {
		if snap.Summary != nil && snap.Summary.Properties[PropConnector] == connector {
			p := snap.Summary.Properties
			pos, err := lake.DecodePosition(p[PropOffsets], p[PropSequences])
			if err != nil {
				return lake.Position{}, false, fmt.Errorf("reading snapshot %d of %s: %w", snap.SnapshotID, tbl.Identifier(), err)
			}
			return pos, true, nil
		}
		if snap.ParentSnapshotID == nil {
			break
		}
		snap = tbl.SnapshotByID(*snap.ParentSnapshotID)
	}
	return lake.Position{}, false, nil
}

// hasCommit reports whether a snapshot with the commit id is in the
// current snapshot's history.
func hasCommit(tbl *table.Table, commitID string) bool {
	for snap := tbl.CurrentSnapshot(); snap != nil; {
		if snap.Summary != nil && snap.Summary.Properties[PropCommitID] == commitID {
			return true
		}
		if snap.ParentSnapshotID == nil {
			break
		}
		snap = tbl.SnapshotByID(*snap.ParentSnapshotID)
	}
	return false
}

func (w *tableWriter) summary(b *lake.Batch) iceberg.Properties {
	return iceberg.Properties{
		PropConnector: w.f.connector,
		PropCommitID:  b.CommitID,
		PropOffsets:   b.Position.EncodeOffsets(),
		PropSequences: b.Position.EncodeSequences(),
	}
}

// Write evolves the schema to b.Table, writes the data and delete files,
// and commits them with the position in one snapshot, retrying conflicts.
func (w *tableWriter) Write(ctx context.Context, b *lake.Batch) error {
	if err := w.evolve(ctx, b.Table); err != nil {
		return err
	}
	data, deletes, err := w.writeFiles(ctx, b)
	if err != nil {
		return err
	}
	if err := w.f.hook(StageFilesWritten, w.ident); err != nil {
		return err
	}
	if err := w.commit(ctx, b, data, deletes); err != nil {
		return err
	}
	return w.f.hook(StageCommitted, w.ident)
}

// writeFiles writes the batch's Parquet data files and equality-delete
// files without committing them.
func (w *tableWriter) writeFiles(ctx context.Context, b *lake.Batch) (data, deletes []iceberg.DataFile, err error) {
	sc := w.tbl.Schema()
	asc, err := ArrowSchema(sc)
	if err != nil {
		return nil, nil, err
	}
	rows := b.Upserts
	if w.mode == lake.ModeAppend {
		rows = b.Changes
	}
	if len(rows) > 0 {
		src := w.rowSource(asc)
		for df, err := range table.WriteRecords(ctx, w.tbl, asc, records(w.f.mem, asc, rows, src)) {
			if err != nil {
				return nil, nil, fmt.Errorf("writing data files of %s: %w", w.ident, err)
			}
			data = append(data, df)
		}
	}
	if w.mode == lake.ModeUpsert && len(b.Deletes) > 0 {
		ids, names, err := w.keyFields(b.Table)
		if err != nil {
			return nil, nil, err
		}
		dsc, err := sc.Select(false, names...)
		if err != nil {
			return nil, nil, fmt.Errorf("selecting key columns of %s: %w", w.ident, err)
		}
		dasc, err := ArrowSchema(dsc)
		if err != nil {
			return nil, nil, err
		}
		// Key records are small: build them all first, so that a bad key
		// value is an error here rather than inside the library's writer
		// (whose batch packing panics on iterator errors).
		var keys []arrow.RecordBatch
		defer func() {
			for _, r := range keys {
				r.Release()
			}
		}()
		for rec, err := range records(w.f.mem, dasc, b.Deletes, w.rowSource(dasc)) {
			if err != nil {
				return nil, nil, fmt.Errorf("building equality deletes of %s: %w", w.ident, err)
			}
			keys = append(keys, rec)
		}
		txn := w.tbl.NewTransaction()
		deletes, err = txn.WriteEqualityDeletes(ctx, ids, recordSeq(keys))
		if err != nil {
			return nil, nil, fmt.Errorf("writing equality deletes of %s: %w", w.ident, err)
		}
	}
	return data, deletes, nil
}

// keyFields returns the field ids and names of the table's primary key.
func (w *tableWriter) keyFields(t *schema.Table) ([]int, []string, error) {
	sc := w.tbl.Schema()
	ids := make([]int, 0, len(t.PrimaryKey))
	names := make([]string, 0, len(t.PrimaryKey))
	for _, k := range t.PrimaryKey {
		f, ok := sc.FindFieldByNameCaseInsensitive(t.Columns[k].Name)
		if !ok {
			return nil, nil, fmt.Errorf("table %s has no column for primary-key column %q", w.ident, t.Columns[k].Name)
		}
		ids = append(ids, f.ID)
		names = append(names, f.Name)
	}
	if len(ids) == 0 {
		return nil, nil, fmt.Errorf("table %s: upsert needs a primary key", w.ident)
	}
	return ids, names, nil
}

// rowSource maps rows of any table version onto the fields of sc by column
// name, following renames, and fills the changelog columns.
func (w *tableWriter) rowSource(sc *arrow.Schema) rowSource {
	cache := map[*schema.Table][]int{}
	fieldOf := make(map[string]int, sc.NumFields())
	for i, f := range sc.Fields() {
		fieldOf[columnName(f.Name)] = i
	}
	extra := map[int]string{}
	for _, n := range []string{ColOp, ColSequence, ColSourceTs} {
		if i, ok := fieldOf[n]; ok {
			extra[i] = n
		}
	}
	names := make([]string, sc.NumFields())
	for i, f := range sc.Fields() {
		names[i] = columnName(f.Name)
	}
	return rowSource{
		columns: func(t *schema.Table) ([]int, error) {
			if cols, ok := cache[t]; ok {
				return cols, nil
			}
			cols := make([]int, sc.NumFields())
			for i := range cols {
				cols[i] = -1
			}
			for ci, c := range t.Columns {
				n := columnName(c.Name)
				fi, ok := fieldOf[n]
				if !ok {
					if to, renamed := w.renames[n]; renamed {
						fi, ok = fieldOf[to]
					}
				}
				if ok {
					if _, isExtra := extra[fi]; !isExtra && cols[fi] < 0 {
						cols[fi] = ci
					}
				}
			}
			cache[t] = cols
			return cols, nil
		},
		extra: func(field int, r *lake.Row) (any, bool) {
			switch extra[field] {
			case ColOp:
				return r.Op.String(), true
			case ColSequence:
				return int64(r.Sequence), true
			case ColSourceTs:
				if r.SourceTsMs == 0 {
					return nil, true
				}
				return r.SourceTsMs * 1000, true
			}
			// A column the row's table version predates: the value MySQL
			// filled into existing rows when the column was added.
			return w.defaultFor(names[field], r.Schema)
		},
	}
}

// commit commits the files in one snapshot. On failure it refreshes the
// table, checks whether the commit landed after all (unknown outcome), and
// retries with exponential backoff and jitter.
func (w *tableWriter) commit(ctx context.Context, b *lake.Batch, data, deletes []iceberg.DataFile) error {
	props := w.summary(b)
	wait := 100 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := w.commitOnce(ctx, b, props, data, deletes)
		if err == nil {
			return nil
		}
		if connect.IsTerminal(err) || ctx.Err() != nil || attempt >= w.f.commitRetries {
			return fmt.Errorf("committing %d data and %d delete files to %s: %w", len(data), len(deletes), w.ident, err)
		}
		w.f.logger.Warn("lake commit failed; retrying", "table", w.ident, "attempt", attempt+1, "error", err)
		sleep := wait/2 + time.Duration(rand.Int64N(int64(wait)))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(sleep):
		}
		wait = min(wait*2, 10*time.Second)
		if rerr := w.refresh(ctx); rerr != nil {
			continue
		}
		if hasCommit(w.tbl, b.CommitID) {
			return nil
		}
	}
}

func (w *tableWriter) commitOnce(ctx context.Context, b *lake.Batch, props iceberg.Properties, data, deletes []iceberg.DataFile) error {
	txn := w.tbl.NewTransaction()
	if b.Truncate && w.tbl.CurrentSnapshot() != nil {
		if err := txn.Delete(ctx, iceberg.AlwaysTrue{}, props); err != nil {
			return fmt.Errorf("truncating: %w", err)
		}
	}
	if len(data)+len(deletes) > 0 {
		if err := txn.NewRowDelta(props).AddRows(data...).AddDeletes(deletes...).Commit(ctx); err != nil {
			return fmt.Errorf("staging row delta: %w", err)
		}
	} else if !b.Truncate || w.tbl.CurrentSnapshot() == nil {
		// Nothing to write (a truncate of an empty table): replaying it
		// is harmless, so no snapshot is made.
		return nil
	}
	tbl, err := txn.Commit(ctx)
	if err != nil {
		return err
	}
	w.tbl = tbl
	return nil
}

func (w *tableWriter) refresh(ctx context.Context) error {
	tbl, err := w.f.cat.LoadTable(ctx, w.ident)
	if err != nil {
		return fmt.Errorf("loading table %s: %w", w.ident, err)
	}
	w.tbl = tbl
	return nil
}

// TableMode reads the write mode recorded on a table (binlake.write-mode,
// else changelog columns mean append), or fallback when neither says.
func TableMode(tbl *table.Table, fallback lake.Mode) lake.Mode {
	switch lake.Mode(tbl.Properties()[PropWriteMode]) {
	case lake.ModeUpsert:
		return lake.ModeUpsert
	case lake.ModeAppend:
		return lake.ModeAppend
	}
	if _, ok := tbl.Schema().FindFieldByName(ColOp); ok {
		return lake.ModeAppend
	}
	return fallback
}

// recordSeq yields records the caller keeps ownership of.
func recordSeq(recs []arrow.RecordBatch) iter.Seq2[arrow.RecordBatch, error] {
	return func(yield func(arrow.RecordBatch, error) bool) {
		for _, r := range recs {
			if !yield(r, nil) {
				return
			}
		}
	}
}
