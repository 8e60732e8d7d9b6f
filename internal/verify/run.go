package verify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/apache/iceberg-go/table"

	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/sink/lake"
	lakeiceberg "github.com/binlake/binlake/sink/lake/iceberg"
)

// Selection says which tables a run compares.
type Selection struct {
	// Tables, when set, are compared (and nothing else).
	Tables []TableRef
	// Databases, when set (and Tables not), select every base table of
	// these MySQL databases; a table without a lake table is a difference.
	Databases []string
	// With neither, every MySQL table whose lake table exists is compared.
}

// Run compares the selected tables. MySQL is read in one consistent
// snapshot for the whole run; each lake table at its current snapshot. A
// table that cannot be compared gets StatusError and the run goes on; the
// error returned is for failures of the run itself.
func Run(ctx context.Context, db *sql.DB, lk *Lake, sel Selection, opts Options) (*Report, error) {
	snap, err := BeginSnapshot(ctx, db)
	if err != nil {
		return nil, err
	}
	defer func() { _ = snap.Close() }()
	refs := sel.Tables
	if len(refs) == 0 {
		refs, err = ListTables(ctx, snap, sel.Databases)
		if err != nil {
			return nil, err
		}
		if len(sel.Databases) == 0 {
			if refs, err = lk.Present(ctx, refs); err != nil {
				return nil, err
			}
		}
	}
	// Comparing nothing must not pass for "equal".
	switch {
	case len(refs) > 0:
	case len(sel.Databases) > 0:
		return nil, fmt.Errorf("no table to compare: MySQL databases %s hold no base table", strings.Join(sel.Databases, ", "))
	default:
		return nil, errors.New("no table to compare: no MySQL table has a lake table; check --iceberg.catalog.uri, --iceberg.namespace and --iceberg.table.name.format, or name the tables with --tables")
	}
	rep := &Report{Tables: []*TableResult{}}
	for _, r := range refs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		res := compareTable(ctx, snap, lk, r, opts)
		rep.Tables = append(rep.Tables, res)
	}
	rep.Equal = rep.ExitCode() == 0
	return rep, nil
}

// compareTable compares one table, turning failures into an error result.
func compareTable(ctx context.Context, snap *Snapshot, lk *Lake, r TableRef, opts Options) *TableResult {
	ident := lk.Identifier(r.DB, r.Name)
	fail := func(err error) *TableResult {
		return &TableResult{MySQLTable: r.String(), LakeTable: strings.Join(ident, "."), Status: StatusError, Error: err.Error()}
	}
	src, err := ReadTable(ctx, snap, r)
	if err != nil {
		return fail(err)
	}
	if src == nil {
		return fail(fmt.Errorf("MySQL has no table %s", r))
	}
	if lk.hudi != nil {
		return compareHudi(ctx, snap, lk, src, r, opts)
	}
	tbl, err := lk.LoadTable(ctx, ident)
	if err != nil {
		return fail(err)
	}
	if tbl == nil {
		return &TableResult{MySQLTable: r.String(), LakeTable: strings.Join(ident, "."), Status: StatusMissing}
	}
	plan, srcCols, fields, notes, err := planTable(src, tbl, strings.Join(ident, "."))
	if err != nil {
		return fail(err)
	}
	my, err := NewMySQLTable(snap, src, srcCols, plan.KeyColumns)
	if err != nil {
		return fail(err)
	}
	var lt interface {
		Side
		SnapshotID() int64
	} = NewLakeTable(tbl, plan.Columns, fields, plan.KeyColumns)
	if isChangelog(tbl) {
		lt = NewChangelogTable(tbl, plan.Columns, fields, plan.KeyColumns)
		notes = append(notes, "the lake table is an append-mode changelog: compared as the rows it ends with (the last change of each key)")
	}
	res, err := Compare(ctx, plan, my, lt, opts)
	if err != nil {
		return fail(err)
	}
	res.LakeSnapshot = lt.SnapshotID()
	res.Notes = append(notes, res.Notes...)
	return res
}

// isChangelog reports whether tbl is an append-mode changelog table, as the
// sink decides it.
func isChangelog(tbl *table.Table) bool {
	return lakeiceberg.TableMode(tbl, lake.ModeUpsert) == lake.ModeAppend
}

// planTable matches the MySQL columns with the lake table's fields by
// case-insensitive name. It returns the plan, the compared source column
// indexes, the lake field names aligned with them, and notes about
// columns present on one side only.
func planTable(src *schema.Table, tbl *table.Table, lakeName string) (*Plan, []int, []string, []string, error) {
	if !src.HasPrimaryKey() {
		return nil, nil, nil, nil, fmt.Errorf("%s has no primary key; verify compares tables by key (its lake table is a changelog of events that cannot be told apart)", src.QualifiedName())
	}
	sc := tbl.Schema()
	plan := &Plan{MySQLTable: src.QualifiedName(), LakeTable: lakeName}
	var srcCols []int
	var fields, notes []string
	used := map[int]bool{}
	pos := map[int]int{} // source column index -> index in plan.Columns
	for ci, c := range src.Columns {
		f, ok := sc.FindFieldByNameCaseInsensitive(c.Name)
		if !ok {
			notes = append(notes, fmt.Sprintf("column %s is not in the lake table (excluded, or not evolved yet); not compared", c.Name))
			continue
		}
		used[f.ID] = true
		pos[ci] = len(plan.Columns)
		plan.Columns = append(plan.Columns, ColumnOf(c))
		srcCols = append(srcCols, ci)
		fields = append(fields, f.Name)
	}
	for _, k := range src.PrimaryKey {
		i, ok := pos[k]
		if !ok {
			return nil, nil, nil, nil, fmt.Errorf("lake table %s has no column for primary-key column %s", lakeName, src.Columns[k].Name)
		}
		plan.KeyColumns = append(plan.KeyColumns, i)
	}
	for _, f := range sc.Fields() {
		if !used[f.ID] && !strings.HasPrefix(f.Name, "_binlake_") {
			notes = append(notes, fmt.Sprintf("lake column %s has no MySQL column; not compared", f.Name))
		}
	}
	return plan, srcCols, fields, notes, nil
}

// compareHudi compares one table with its Hudi table.
func compareHudi(ctx context.Context, snap *Snapshot, lk *Lake, src *schema.Table, r TableRef, opts Options) *TableResult {
	base := lk.hudi.BasePath(r.DB, r.Name)
	name := strings.Join(lk.Identifier(r.DB, r.Name), ".")
	fail := func(err error) *TableResult {
		return &TableResult{MySQLTable: r.String(), LakeTable: name, Status: StatusError, Error: err.Error()}
	}
	ls, err := hudiSchema(ctx, lk.hudi.Bucket(), base)
	if err != nil {
		return fail(err)
	}
	if ls == nil {
		return &TableResult{MySQLTable: r.String(), LakeTable: name, Status: StatusMissing}
	}
	plan, srcCols, fields, notes, err := planHudi(src, ls, name)
	if err != nil {
		return fail(err)
	}
	my, err := NewMySQLTable(snap, src, srcCols, plan.KeyColumns)
	if err != nil {
		return fail(err)
	}
	ht := &HudiTable{bucket: lk.hudi.Bucket(), base: base, cols: plan.Columns, fields: fields, keys: plan.KeyColumns}
	res, err := Compare(ctx, plan, my, ht, opts)
	if err != nil {
		return fail(err)
	}
	res.Notes = append(notes, res.Notes...)
	return res
}
