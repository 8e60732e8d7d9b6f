package schema

import (
	"fmt"
	"strings"
)

// Column is one column of a table version.
type Column struct {
	// Name is the column name as the source spells it.
	Name string `json:"name"`
	// Kind is the logical type; it decides the Go value in rows.
	Kind Kind `json:"kind"`
	// Precision and Scale are set for KindDecimal.
	Precision int `json:"precision,omitempty"`
	Scale     int `json:"scale,omitempty"`
	// Optional is true when the column accepts NULL.
	Optional bool `json:"optional"`
	// Default is the column default as a Go value of Kind (nil: no default or
	// DEFAULT NULL); HasDefault tells the two apart.
	Default    any  `json:"default,omitempty"`
	HasDefault bool `json:"has_default,omitempty"`
	// SourceType is the source's full column type, e.g. "decimal(10,2)",
	// "int unsigned", "enum('a','b')", "datetime(6)". Informational: it is
	// carried into the Avro schema as a property and shown in errors.
	SourceType string `json:"source_type,omitempty"`
	// Aliases lists earlier names of this column (oldest first) when the
	// source renamed it; readers use them to keep the column's identity.
	Aliases []string `json:"aliases,omitempty"`
}

// Table is one version of a source table's schema. Treat it as immutable.
type Table struct {
	// Database and Name identify the source table.
	Database string `json:"database"`
	Name     string `json:"name"`
	// Version increases by one exactly when the columns change.
	Version int `json:"version"`
	// Columns in source order; rows are []any aligned with it.
	Columns []Column `json:"columns"`
	// PrimaryKey holds the indexes into Columns of the key, in key order;
	// empty for a table without a primary key.
	PrimaryKey []int `json:"primary_key,omitempty"`
}

// QualifiedName returns "db.table".
func (t *Table) QualifiedName() string { return t.Database + "." + t.Name }

// ColumnIndex returns the index of the named column (case-insensitive, as
// MySQL compares column names) or -1.
func (t *Table) ColumnIndex(name string) int {
	for i := range t.Columns {
		if strings.EqualFold(t.Columns[i].Name, name) {
			return i
		}
	}
	return -1
}

// HasPrimaryKey reports whether the table has a primary key.
func (t *Table) HasPrimaryKey() bool { return len(t.PrimaryKey) > 0 }

// Validate checks the internal consistency of the table.
func (t *Table) Validate() error {
	if t.Database == "" || t.Name == "" {
		return fmt.Errorf("table has no database or name")
	}
	if len(t.Columns) == 0 {
		return fmt.Errorf("table %s has no columns", t.QualifiedName())
	}
	seen := make(map[string]bool, len(t.Columns))
	for i, c := range t.Columns {
		n := strings.ToLower(c.Name)
		if c.Name == "" {
			return fmt.Errorf("table %s: column %d has no name", t.QualifiedName(), i)
		}
		if seen[n] {
			return fmt.Errorf("table %s: duplicate column %q", t.QualifiedName(), c.Name)
		}
		seen[n] = true
		if c.Kind == KindInvalid || c.Kind > KindTimestampTZ {
			return fmt.Errorf("table %s: column %q has no valid kind", t.QualifiedName(), c.Name)
		}
		if c.Kind == KindDecimal && (c.Precision < 1 || c.Precision > 38 || c.Scale < 0 || c.Scale > c.Precision) {
			return fmt.Errorf("table %s: column %q: decimal(%d,%d) is outside 1..38 digits", t.QualifiedName(), c.Name, c.Precision, c.Scale)
		}
	}
	for _, k := range t.PrimaryKey {
		if k < 0 || k >= len(t.Columns) {
			return fmt.Errorf("table %s: primary key index %d out of range", t.QualifiedName(), k)
		}
	}
	return nil
}

// SameColumns reports whether two versions have identical columns and key,
// i.e. whether a DDL statement left the row shape unchanged.
func (t *Table) SameColumns(o *Table) bool {
	if len(t.Columns) != len(o.Columns) || len(t.PrimaryKey) != len(o.PrimaryKey) {
		return false
	}
	for i := range t.PrimaryKey {
		if t.PrimaryKey[i] != o.PrimaryKey[i] {
			return false
		}
	}
	for i := range t.Columns {
		a, b := t.Columns[i], o.Columns[i]
		if a.Name != b.Name || a.Kind != b.Kind || a.Precision != b.Precision || a.Scale != b.Scale ||
			a.Optional != b.Optional || a.HasDefault != b.HasDefault || a.SourceType != b.SourceType ||
			fmt.Sprint(a.Default) != fmt.Sprint(b.Default) {
			return false
		}
	}
	return true
}
