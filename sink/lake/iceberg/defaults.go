package iceberg

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/sink/lake"
)

// PropAddedDefaults is the table property recording the columns that were
// added with a value MySQL gives every existing row (JSON: lower-case column
// name -> addedDefault). Rows of source table versions from before the column
// existed are written with that value, as MySQL's ALTER TABLE ... ADD COLUMN
// filled it into them.
const PropAddedDefaults = "binlake.added-defaults"

// addedDefault is a column added to the source table with a value for the
// rows that existed before: Version is the first source table version that
// has it.
type addedDefault struct {
	Version int           `json:"version"`
	Column  schema.Column `json:"column"`
}

// fillValue returns the value MySQL gives existing rows when c is added:
// its non-null default, or for a NOT NULL column without one the implicit
// default of numeric and character types. ok is false when the rows get NULL
// or a value binlake cannot know (a default expression such as
// CURRENT_TIMESTAMP, evaluated by the server at ALTER time).
func fillValue(c schema.Column) (v any, ok bool) {
	if c.HasDefault {
		return c.Default, c.Default != nil
	}
	if c.Optional {
		return nil, false
	}
	st := strings.ToLower(c.SourceType)
	switch c.Kind {
	case schema.KindInt32:
		return int32(0), true
	case schema.KindInt64:
		return int64(0), true
	case schema.KindFloat32:
		return float32(0), true
	case schema.KindFloat64:
		return float64(0), true
	case schema.KindDecimal:
		return schema.Decimal{}, true
	case schema.KindString:
		for _, p := range []string{"char", "varchar", "tinytext", "text", "mediumtext", "longtext"} {
			if st == p || strings.HasPrefix(st, p+"(") {
				return "", true
			}
		}
	}
	return nil, false
}

// loadAddedDefaults reads PropAddedDefaults.
func loadAddedDefaults(props iceberg.Properties) (map[string]addedDefault, error) {
	out := map[string]addedDefault{}
	v := props[PropAddedDefaults]
	if v == "" {
		return out, nil
	}
	if err := json.Unmarshal([]byte(v), &out); err != nil {
		return nil, fmt.Errorf("decoding table property %s: %w", PropAddedDefaults, err)
	}
	return out, nil
}

// addedColumns returns the columns of t the Iceberg schema has neither under
// their name nor under an earlier name.
func addedColumns(cur *iceberg.Schema, t *schema.Table) []schema.Column {
	var out []schema.Column
	for _, c := range t.Columns {
		if _, ok := cur.FindFieldByNameCaseInsensitive(c.Name); ok {
			continue
		}
		renamed := false
		for _, a := range c.Aliases {
			if _, ok := cur.FindFieldByNameCaseInsensitive(a); ok {
				renamed = true
				break
			}
		}
		if !renamed {
			out = append(out, c)
		}
	}
	return out
}

// defaultFor returns the value a row of table version t gets for the lake
// column named name (lower case) when t has no such column: the added
// column's fill value when t predates the column.
func (w *tableWriter) defaultFor(name string, t *schema.Table) (any, bool) {
	d, ok := w.defaults[name]
	// A changelog row shows the row as the event had it.
	if !ok || t == nil || t.Version >= d.Version || w.mode != lake.ModeUpsert {
		return nil, false
	}
	return fillValue(d.Column)
}

// backfill rewrites every live row of the table as of the transaction's base
// snapshot with the fill values of the columns in fills (lower-case names)
// set, inside txn, whose staged schema already has those columns. The
// rewrite replaces every data file and drops every delete file (the rows are
// read with deletes applied), in one snapshot carrying the committed
// position, so readers see either the table before the ALTER or after it.
func (w *tableWriter) backfill(ctx context.Context, txn *table.Transaction, fills map[string]any) error {
	snap := w.tbl.CurrentSnapshot()
	if snap == nil {
		return nil
	}
	tasks, err := w.tbl.Scan().PlanFiles(ctx)
	if err != nil {
		return fmt.Errorf("planning the default backfill of %s: %w", w.ident, err)
	}
	var oldData []iceberg.DataFile
	seen := map[string]bool{}
	for _, t := range tasks {
		if p := t.File.FilePath(); !seen[p] {
			seen[p] = true
			oldData = append(oldData, t.File)
		}
	}
	if len(oldData) == 0 {
		return nil
	}
	fs, err := w.tbl.FS(ctx)
	if err != nil {
		return fmt.Errorf("opening file IO of %s: %w", w.ident, err)
	}
	_, oldDeletes, err := equalityDeleteSeqs(fs, snap)
	if err != nil {
		return fmt.Errorf("listing delete files of %s: %w", w.ident, err)
	}
	staged, err := txn.StagedTable()
	if err != nil {
		return fmt.Errorf("staging the evolved schema of %s: %w", w.ident, err)
	}
	scan, err := txn.Scan()
	if err != nil {
		return fmt.Errorf("scanning %s for the default backfill: %w", w.ident, err)
	}
	asc, recs, err := scan.ToArrowRecords(ctx)
	if err != nil {
		return fmt.Errorf("scanning %s for the default backfill: %w", w.ident, err)
	}
	filled := func(yield func(arrow.RecordBatch, error) bool) {
		for rec, err := range recs {
			if err != nil {
				yield(nil, err)
				return
			}
			out, err := fillColumns(w, asc, rec, fills)
			rec.Release()
			if !yield(out, err) || err != nil {
				return
			}
		}
	}
	var newData []iceberg.DataFile
	var rows int64
	for df, err := range table.WriteRecords(ctx, staged.Table, asc, iter.Seq2[arrow.RecordBatch, error](filled)) {
		if err != nil {
			return fmt.Errorf("writing the default backfill of %s: %w", w.ident, err)
		}
		newData = append(newData, df)
		rows += df.Count()
	}
	props := iceberg.Properties{PropConnector: w.f.connector, PropCommitID: "backfill-" + snapIDText(snap)}
	if pos, ok, err := committedPosition(w.tbl, w.f.connector); err == nil && ok {
		props[PropOffsets], props[PropSequences] = pos.EncodeOffsets(), pos.EncodeSequences()
	} else {
		delete(props, PropConnector)
	}
	if err := txn.ReplaceFiles(ctx, oldData, newData, oldDeletes, props); err != nil {
		return fmt.Errorf("staging the default backfill of %s: %w", w.ident, err)
	}
	w.f.logger.Info("filled added column defaults into existing lake rows", "table", w.ident,
		"columns", len(fills), "rows", rows, "files_replaced", len(oldData), "files_written", len(newData))
	return nil
}

func snapIDText(s *table.Snapshot) string { return fmt.Sprint(s.SnapshotID) }

// fillColumns returns rec with the columns named in fills replaced by
// constant arrays of their fill value.
func fillColumns(w *tableWriter, sc *arrow.Schema, rec arrow.RecordBatch, fills map[string]any) (arrow.RecordBatch, error) {
	cols := make([]arrow.Array, rec.NumCols())
	defer func() {
		for i, c := range cols {
			if c != nil && c != rec.Column(i) {
				c.Release()
			}
		}
	}()
	for i := range cols {
		v, ok := fills[columnName(sc.Field(i).Name)]
		if !ok {
			cols[i] = rec.Column(i)
			continue
		}
		b := array.NewBuilder(w.f.mem, sc.Field(i).Type)
		b.Reserve(int(rec.NumRows()))
		for range rec.NumRows() {
			if err := appendValue(b, v); err != nil {
				b.Release()
				return nil, fmt.Errorf("filling the default of column %q: %w", sc.Field(i).Name, err)
			}
		}
		cols[i] = b.NewArray()
		b.Release()
	}
	return array.NewRecordBatch(sc, cols, rec.NumRows()), nil
}
