package verify

import (
	"context"
	"fmt"

	"github.com/apache/iceberg-go/table"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/schema"
	lakeiceberg "github.com/binlake/binlake/sink/lake/iceberg"
)

// ChangelogTable reads an append-mode lake table (a changelog: one row per
// change event, with the event's op and sequence) as the table it
// describes: for every key its change with the highest sequence, unless
// that change is a delete or comes before the newest TRUNCATE. It holds one
// row per key in memory.
type ChangelogTable struct {
	rows  *LakeTable // the compared columns
	inner *LakeTable // the compared columns, then op and sequence
}

var _ Side = (*ChangelogTable)(nil)

// NewChangelogTable reads fields (aligned with cols; keys index the key
// columns in cols) of the changelog tbl at its current snapshot.
func NewChangelogTable(tbl *table.Table, cols []Column, fields []string, keys []int) *ChangelogTable {
	rows := NewLakeTable(tbl, cols, fields, keys)
	inner := NewLakeTable(tbl,
		append(append([]Column(nil), cols...), Column{Name: lakeiceberg.ColOp, Kind: schema.KindString},
			Column{Name: lakeiceberg.ColSequence, Kind: schema.KindInt64}),
		append(append([]string(nil), fields...), lakeiceberg.ColOp, lakeiceberg.ColSequence), keys)
	return &ChangelogTable{rows: rows, inner: inner}
}

// SnapshotID returns the snapshot read (0: the table has none).
func (t *ChangelogTable) SnapshotID() int64 { return t.rows.SnapshotID() }

// Scan reduces the changelog to the rows it ends with and yields them.
func (t *ChangelogTable) Scan(ctx context.Context, fn func(Row) error) error {
	type last struct {
		seq     int64
		deleted bool
		row     Row
	}
	n := len(t.rows.cols)
	keyOf := &Plan{KeyColumns: t.rows.keys}
	latest := map[string]*last{}
	truncated := int64(-1) // sequence of the newest TRUNCATE
	err := t.inner.scanValues(ctx, func(vals []any) error {
		op, _ := vals[n].(string)
		seq, ok := vals[n+1].(int64)
		if !ok || len(op) != 1 || !connect.Op(op[0]).Valid() {
			return fmt.Errorf("changelog row with op %v and sequence %v: not a binlake changelog", vals[n], vals[n+1])
		}
		if connect.Op(op[0]) == connect.OpTruncate {
			truncated = max(truncated, seq)
			return nil
		}
		r := t.rows.row(vals)
		k := keyString(keyOf, r.Cells)
		if cur := latest[k]; cur != nil && cur.seq >= seq {
			return nil
		}
		latest[k] = &last{seq: seq, deleted: connect.Op(op[0]) == connect.OpDelete, row: r}
		return nil
	})
	if err != nil {
		return err
	}
	for _, l := range latest {
		if l.deleted || l.seq < truncated {
			continue
		}
		if err := fn(l.row); err != nil {
			return err
		}
	}
	return nil
}
