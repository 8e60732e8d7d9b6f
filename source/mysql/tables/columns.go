// Package tables tracks the schema of captured MySQL/MariaDB tables: it maps
// column definitions (from information_schema or from DDL) to binlake's
// schema.Column, and applies DDL statements read from the binlog to a
// versioned set of *schema.Table so that every row event decodes with the
// schema it was written with.
package tables

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/source/mysql/decode"
)

// ColumnSpec is a column definition as MySQL describes it, independent of
// where it was read (information_schema or a parsed DDL statement).
type ColumnSpec struct {
	Name string
	// Type is the full column type as information_schema.COLUMNS.COLUMN_TYPE
	// spells it, e.g. "decimal(10,2) unsigned", "enum('a','b')".
	Type     string
	Nullable bool
	// Default is the default's literal text (unquoted); nil for no default.
	// DefaultNull marks DEFAULT NULL; DefaultExpr marks an expression such as
	// CURRENT_TIMESTAMP (not carried as a value).
	Default     *string
	DefaultNull bool
	DefaultExpr bool
}

// NormalizeType lower-cases a column type and drops integer display widths
// and YEAR(4), which MySQL 8 and MariaDB print differently for the same
// column, so that the same column always gets the same SourceType.
func NormalizeType(t string) string {
	t = strings.ToLower(strings.Join(strings.Fields(t), " "))
	base, _ := decode.SplitType(t)
	switch base {
	case "tinyint", "smallint", "mediumint", "int", "integer", "bigint", "year":
		if i := strings.IndexByte(t, '('); i >= 0 {
			if j := strings.IndexByte(t[i:], ')'); j >= 0 {
				t = t[:i] + t[i+j+1:]
			}
		}
	}
	if base == "integer" {
		t = "int" + strings.TrimPrefix(t, "integer")
	}
	return strings.TrimSpace(t)
}

// KindOf maps a normalized MySQL column type to its logical kind and, for
// decimals, precision and scale (ARCHITECTURE.md 3.3).
func KindOf(typ string) (kind schema.Kind, precision, scale int, err error) {
	base, args := decode.SplitType(typ)
	unsigned := strings.Contains(typ, " unsigned")
	switch base {
	case "tinyint", "smallint", "mediumint", "year":
		return schema.KindInt32, 0, 0, nil
	case "int":
		if unsigned {
			return schema.KindInt64, 0, 0, nil
		}
		return schema.KindInt32, 0, 0, nil
	case "bigint":
		if unsigned {
			return schema.KindDecimal, 20, 0, nil
		}
		return schema.KindInt64, 0, 0, nil
	case "float":
		return schema.KindFloat32, 0, 0, nil
	case "double", "real", "double precision":
		return schema.KindFloat64, 0, 0, nil
	case "decimal", "numeric", "dec", "fixed":
		p, s := 10, 0
		if len(args) >= 1 {
			if p, err = strconv.Atoi(args[0]); err != nil {
				return 0, 0, 0, fmt.Errorf("parsing precision of %q: %w", typ, err)
			}
		}
		if len(args) >= 2 {
			if s, err = strconv.Atoi(args[1]); err != nil {
				return 0, 0, 0, fmt.Errorf("parsing scale of %q: %w", typ, err)
			}
		}
		if p > 38 {
			return schema.KindString, 0, 0, nil
		}
		return schema.KindDecimal, p, s, nil
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set", "json":
		return schema.KindString, 0, 0, nil
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob":
		return schema.KindBytes, 0, 0, nil
	case "bit":
		if len(args) == 0 || args[0] == "1" {
			return schema.KindBool, 0, 0, nil
		}
		return schema.KindBytes, 0, 0, nil
	case "date":
		return schema.KindDate, 0, 0, nil
	case "time":
		return schema.KindTime, 0, 0, nil
	case "datetime":
		return schema.KindTimestamp, 0, 0, nil
	case "timestamp":
		return schema.KindTimestampTZ, 0, 0, nil
	}
	if decode.IsGeometry(base) {
		return schema.KindBytes, 0, 0, nil
	}
	return schema.KindInvalid, 0, 0, fmt.Errorf("column type %q is not supported", typ)
}

// ToColumn maps a column definition to a schema.Column.
func ToColumn(cs ColumnSpec) (schema.Column, error) {
	typ := NormalizeType(cs.Type)
	kind, p, s, err := KindOf(typ)
	if err != nil {
		return schema.Column{}, fmt.Errorf("mapping column %q: %w", cs.Name, err)
	}
	col := schema.Column{Name: cs.Name, Kind: kind, Precision: p, Scale: s, Optional: cs.Nullable, SourceType: typ}
	switch {
	case cs.DefaultExpr:
	case cs.DefaultNull:
		col.HasDefault = cs.Nullable
	case cs.Default != nil:
		codec, err := decode.NewCodec(col)
		if err != nil {
			return schema.Column{}, fmt.Errorf("mapping column %q: %w", cs.Name, err)
		}
		base, _ := decode.SplitType(typ)
		if base == "bit" || decode.IsGeometry(base) {
			break // b'..' literals are not carried as values
		}
		if v, err := codec.Text([]byte(*cs.Default)); err == nil {
			col.Default, col.HasDefault = v, true
		}
	case cs.Nullable:
		col.HasDefault = true // an implicit DEFAULT NULL
	}
	return col, nil
}

// NewTable builds a table version from column specs and primary key names.
func NewTable(db, name string, version int, specs []ColumnSpec, pk []string) (*schema.Table, error) {
	t := &schema.Table{Database: db, Name: name, Version: version}
	for _, cs := range specs {
		c, err := ToColumn(cs)
		if err != nil {
			return nil, fmt.Errorf("reading table %s.%s: %w", db, name, err)
		}
		t.Columns = append(t.Columns, c)
	}
	for _, k := range pk {
		i := t.ColumnIndex(k)
		if i < 0 {
			return nil, fmt.Errorf("reading table %s.%s: primary key column %q not found", db, name, k)
		}
		t.PrimaryKey = append(t.PrimaryKey, i)
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return t, nil
}
