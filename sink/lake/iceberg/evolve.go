package iceberg

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/sink/lake"
)

// evolve brings the Iceberg schema up to the source table version t before
// rows of t are written: new columns are added (optional), int->long,
// float->double and decimal precision widening are applied, columns become
// optional, and a column whose Aliases name an existing field is renamed
// keeping its field id. Changes Iceberg cannot take fail the table with a
// terminal error. Versions at or below the last evolved one are no-ops.
func (w *tableWriter) evolve(ctx context.Context, t *schema.Table) error {
	if t == nil || (w.evolvedVersion > 0 && t.Version <= w.evolvedVersion) {
		return nil
	}
	if v, err := strconv.Atoi(w.tbl.Properties()[PropSourceVersion]); err == nil && t.Version <= v {
		// Already evolved (before a restart, or by another run): older
		// versions are written by name, following the recorded renames.
		w.evolvedVersion = v
		return nil
	}
	for _, c := range t.Columns {
		for _, a := range c.Aliases {
			w.renames[columnName(a)] = columnName(c.Name)
		}
	}
	for old, d := range w.defaults {
		if to, ok := w.renames[old]; ok && to != old {
			delete(w.defaults, old)
			w.defaults[to] = d
		}
	}
	// Columns added with a value for existing rows: MySQL filled it into
	// every row when the column was added, so the lake does too.
	fills := map[string]any{}
	for _, c := range addedColumns(w.tbl.Schema(), t) {
		if v, ok := fillValue(c); ok {
			w.defaults[columnName(c.Name)] = addedDefault{Version: t.Version, Column: c}
			fills[columnName(c.Name)] = v
		}
	}
	changes, err := planEvolution(w.tbl.Schema(), t, w.mode)
	if err != nil {
		return connect.Terminal(fmt.Errorf("evolving %s to %s version %d: %w", w.ident, t.QualifiedName(), t.Version, err),
			"Iceberg cannot take this change in place: create a new lake table (drop the table or change iceberg.table.name.format) and re-snapshot the source table, or revert the column change at the source")
	}
	txn := w.tbl.NewTransaction()
	if len(changes) > 0 {
		upd := txn.UpdateSchema(false, false)
		for _, ch := range changes {
			ch(upd)
		}
		if err := upd.Commit(); err != nil {
			return connect.Terminal(fmt.Errorf("evolving %s to %s version %d: %w", w.ident, t.QualifiedName(), t.Version, err),
				"Iceberg rejected the schema change; create a new lake table and re-snapshot the source table")
		}
	}
	renames, err := json.Marshal(w.renames)
	if err != nil {
		return fmt.Errorf("encoding renames of %s: %w", w.ident, err)
	}
	defaults, err := json.Marshal(w.defaults)
	if err != nil {
		return fmt.Errorf("encoding added column defaults of %s: %w", w.ident, err)
	}
	if err := txn.SetProperties(iceberg.Properties{PropSourceVersion: strconv.Itoa(t.Version), PropRenames: string(renames),
		PropAddedDefaults: string(defaults)}); err != nil {
		return fmt.Errorf("recording schema version of %s: %w", w.ident, err)
	}
	if len(fills) > 0 && w.mode == lake.ModeUpsert {
		if err := w.backfill(ctx, txn, fills); err != nil {
			return err
		}
	}
	{
		tbl, err := txn.Commit(ctx)
		if err != nil {
			return fmt.Errorf("committing schema of %s for %s version %d: %w", w.ident, t.QualifiedName(), t.Version, err)
		}
		w.tbl = tbl
		if len(changes) > 0 {
			w.f.logger.Info("evolved lake table schema", "table", w.ident, "source_version", t.Version, "changes", len(changes))
		}
	}
	w.evolvedVersion = t.Version
	return nil
}

// loadRenames reads the renames recorded on the table.
func loadRenames(props iceberg.Properties) map[string]string {
	out := map[string]string{}
	if v := props[PropRenames]; v != "" {
		_ = json.Unmarshal([]byte(v), &out) // a damaged value only loses old-name lookups
	}
	return out
}

// schemaChange is one staged update.
type schemaChange func(u *table.UpdateSchema)

// planEvolution compares the current Iceberg schema with a source table
// version and returns the updates that make the schema accept its rows.
func planEvolution(cur *iceberg.Schema, t *schema.Table, mode lake.Mode) ([]schemaChange, error) {
	var changes []schemaChange
	seen := map[int]bool{}
	for _, c := range t.Columns {
		want, err := ColumnType(c)
		if err != nil {
			return nil, err
		}
		f, ok := cur.FindFieldByNameCaseInsensitive(c.Name)
		if !ok {
			for _, a := range slices.Backward(c.Aliases) {
				if af, found := cur.FindFieldByNameCaseInsensitive(a); found && !seen[af.ID] {
					f, ok = af, true
					from, to := af.Name, c.Name
					changes = append(changes, func(u *table.UpdateSchema) { u.RenameColumn([]string{from}, to) })
					break
				}
			}
		}
		if !ok {
			name := c.Name
			changes = append(changes, func(u *table.UpdateSchema) { u.AddColumn([]string{name}, want, "", false, nil) })
			continue
		}
		seen[f.ID] = true
		path := []string{f.Name}
		if !f.Type.Equals(want) {
			switch {
			case promotable(f.Type, want):
				typ := want
				changes = append(changes, func(u *table.UpdateSchema) {
					u.UpdateColumn(path, table.ColumnUpdate{FieldType: iceberg.Optional[iceberg.Type]{Val: typ, Valid: true}})
				})
			case promotable(want, f.Type):
				// The source narrowed the column; its values still fit the
				// wider Iceberg type, which is kept.
			default:
				return nil, fmt.Errorf("column %q changed from %s to %s (source type %q), which Iceberg cannot promote", c.Name, f.Type, want, c.SourceType)
			}
		}
		if f.Required && (c.Optional || mode == lake.ModeAppend) {
			changes = append(changes, func(u *table.UpdateSchema) {
				u.UpdateColumn(path, table.ColumnUpdate{Required: iceberg.Optional[bool]{Val: false, Valid: true}})
			})
		}
	}
	// Columns the source dropped stay in the table (old rows keep their
	// values) and are written as null from now on, so they must be optional.
	for _, f := range cur.Fields() {
		if seen[f.ID] || !f.Required || isChangelogColumn(f.Name) {
			continue
		}
		if slices.Contains(cur.IdentifierFieldIDs, f.ID) {
			return nil, fmt.Errorf("primary-key column %q was dropped or renamed without an alias", f.Name)
		}
		path := []string{f.Name}
		changes = append(changes, func(u *table.UpdateSchema) {
			u.UpdateColumn(path, table.ColumnUpdate{Required: iceberg.Optional[bool]{Val: false, Valid: true}})
		})
	}
	return changes, nil
}

func isChangelogColumn(name string) bool {
	return name == ColOp || name == ColSequence || name == ColSourceTs
}

// promotable reports whether Iceberg can widen from to to in place.
func promotable(from, to iceberg.Type) bool {
	switch f := from.(type) {
	case iceberg.Int32Type:
		_, ok := to.(iceberg.Int64Type)
		return ok
	case iceberg.Float32Type:
		_, ok := to.(iceberg.Float64Type)
		return ok
	case iceberg.DecimalType:
		t, ok := to.(iceberg.DecimalType)
		return ok && t.Scale() == f.Scale() && t.Precision() >= f.Precision()
	}
	return false
}
