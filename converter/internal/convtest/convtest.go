// Package convtest holds fixtures shared by the converter tests: a table with
// a column of every kind, events with edge values, and an exact comparison
// of events.
package convtest

import (
	"bytes"
	"fmt"
	"math"
	"math/big"
	"reflect"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/schema"
)

// AllKinds returns a table with one NOT NULL and one nullable column of every
// kind, a two-column primary key, defaults, an alias and source types.
func AllKinds() *schema.Table {
	t := &schema.Table{Database: "shop", Name: "all_kinds", Version: 3}
	add := func(c schema.Column) { t.Columns = append(t.Columns, c) }
	add(schema.Column{Name: "id", Kind: schema.KindInt64, SourceType: "bigint"})
	add(schema.Column{Name: "region", Kind: schema.KindString, SourceType: "varchar(8)", HasDefault: true, Default: "eu"})
	kinds := []struct {
		k   schema.Kind
		typ string
	}{
		{schema.KindBool, "bit(1)"}, {schema.KindInt32, "int"}, {schema.KindInt64, "int unsigned"},
		{schema.KindFloat32, "float"}, {schema.KindFloat64, "double"}, {schema.KindDecimal, "decimal(38,10)"},
		{schema.KindString, "text"}, {schema.KindBytes, "blob"}, {schema.KindDate, "date"}, {schema.KindTime, "time(6)"},
		{schema.KindDuration, "time(6)"}, {schema.KindTimestamp, "datetime(6)"}, {schema.KindTimestampTZ, "timestamp(6)"},
	}
	for _, k := range kinds {
		c := schema.Column{Name: "c_" + k.k.String(), Kind: k.k, SourceType: k.typ}
		if k.k == schema.KindDecimal {
			c.Precision, c.Scale = 38, 10
		}
		add(c)
		n := c
		n.Name, n.Optional = "n_"+k.k.String(), true
		add(n)
	}
	add(schema.Column{Name: "price", Kind: schema.KindDecimal, Precision: 10, Scale: 2, SourceType: "decimal(10,2)",
		HasDefault: true, Default: schema.Decimal{Unscaled: big.NewInt(-150), Scale: 2}, Aliases: []string{"cost", "amount"}})
	add(schema.Column{Name: "qty", Kind: schema.KindInt32, SourceType: "int", HasDefault: true, Default: int32(7)})
	add(schema.Column{Name: "Weird Name-1", Kind: schema.KindString, Optional: true, SourceType: "varchar(10)"})
	t.PrimaryKey = []int{0, 1}
	return t
}

func dec(s string) schema.Decimal {
	d, err := schema.ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

// values returns, per kind, the edge values a row of AllKinds may hold in a
// column of that kind (the first is a typical value).
func values(c *schema.Column) []any {
	switch c.Kind {
	case schema.KindBool:
		return []any{true, false}
	case schema.KindInt32, schema.KindDate:
		return []any{int32(42), int32(0), int32(math.MinInt32), int32(math.MaxInt32), int32(-1)}
	case schema.KindInt64, schema.KindTime, schema.KindDuration, schema.KindTimestamp, schema.KindTimestampTZ:
		return []any{int64(1_700_000_000_123_456), int64(0), int64(math.MinInt64), int64(math.MaxInt64), int64(-1), int64(1<<53 + 1)}
	case schema.KindFloat32:
		return []any{float32(1.5), float32(0), float32(math.SmallestNonzeroFloat32), float32(math.MaxFloat32), float32(-0.1),
			float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
	case schema.KindFloat64:
		return []any{2.25, 0.0, math.SmallestNonzeroFloat64, math.MaxFloat64, -0.1, math.Inf(1), math.Inf(-1), 1e21, math.NaN()}
	case schema.KindDecimal:
		if c.Precision == 10 {
			return []any{dec("12.34"), dec("0.00"), dec("-99999999.99"), dec("99999999.99"), dec("-0.01")}
		}
		return []any{dec("1234567890123456789012345678.0123456789"), dec("0.0000000000"),
			dec("-9999999999999999999999999999.9999999999"), dec("9999999999999999999999999999.9999999999"),
			dec("-0.0000000001"), dec("-128.0000000000"), dec("127.0000000000")}
	case schema.KindString:
		return []any{"hello", "", "ünïcødé ✓ 𝄞", "quote\" back\\ nl\n tab\t nul\x00", "<html>&amp;</html>"}
	case schema.KindBytes:
		return []any{[]byte{0xde, 0xad, 0xbe, 0xef}, []byte{}, []byte{0x00}, bytes.Repeat([]byte{0xff}, 300)}
	}
	return nil
}

// Row returns a row of t in which column i holds its n-th edge value (cycling
// through each column's list), and NULL in nullable columns when null is set.
func Row(t *schema.Table, n int, null bool) []any {
	row := make([]any, len(t.Columns))
	for i := range t.Columns {
		c := &t.Columns[i]
		if c.Optional && null {
			continue
		}
		vs := values(c)
		row[i] = vs[(n+i)%len(vs)]
	}
	return row
}

// MaxEdges is the largest number of edge values of any kind; rows 0..MaxEdges-1
// cover every edge value of every column.
const MaxEdges = 8

// Events returns events of t covering every op, NULL and non-NULL values and
// every edge value, with and without transaction info.
func Events(t *schema.Table) []*connect.ChangeEvent {
	var evs []*connect.ChangeEvent
	src := func(n int) connect.SourceInfo {
		return connect.SourceInfo{Connector: "mysql-main", ServerID: 4_000_000_000 + uint32(n), GTID: fmt.Sprintf("3e11fa47-71ca-11e1-9e33-c80aa9429562:%d", n+1),
			File: "mysql-bin.000042", Pos: uint64(1<<40 + n), Row: n, Database: t.Database, Table: t.Name,
			Snapshot: n%2 == 1, CommitTimeMs: 1_700_000_000_000 + int64(n), Sequence: math.MaxUint64 - uint64(n)}
	}
	for n := 0; n < MaxEdges; n++ {
		ev := &connect.ChangeEvent{Op: connect.OpCreate, After: Row(t, n, n%3 == 2), Source: src(n), Schema: t, TsMs: 1_700_000_000_500 + int64(n)}
		if n%2 == 0 {
			ev.Tx = &connect.TxInfo{ID: ev.Source.GTID, TotalOrder: uint64(n + 1), TableOrder: uint64(n)}
		}
		evs = append(evs, ev)
	}
	evs = append(evs,
		&connect.ChangeEvent{Op: connect.OpUpdate, Before: Row(t, 1, true), After: Row(t, 2, false), Source: src(10), Schema: t, TsMs: 3},
		&connect.ChangeEvent{Op: connect.OpDelete, Before: Row(t, 3, false), Source: src(11), Schema: t, TsMs: 4},
		&connect.ChangeEvent{Op: connect.OpRead, After: Row(t, 4, false), Source: src(12), Schema: t},
		&connect.ChangeEvent{Op: connect.OpTruncate, Source: connect.SourceInfo{Database: t.Database, Table: t.Name}, Schema: t, TsMs: -5},
	)
	return evs
}

// EqualEvents returns "" when got equals want exactly (values compared by
// kind: decimals by digits and scale, floats by bits) or a description of the
// first difference.
func EqualEvents(want, got *connect.ChangeEvent) string {
	if want.Op != got.Op {
		return fmt.Sprintf("op %q, want %q", got.Op, want.Op)
	}
	if want.Source != got.Source {
		return fmt.Sprintf("source %+v, want %+v", got.Source, want.Source)
	}
	if want.TsMs != got.TsMs {
		return fmt.Sprintf("ts_ms %d, want %d", got.TsMs, want.TsMs)
	}
	if (want.Tx == nil) != (got.Tx == nil) || want.Tx != nil && *want.Tx != *got.Tx {
		return fmt.Sprintf("tx %+v, want %+v", got.Tx, want.Tx)
	}
	if d := EqualTables(want.Schema, got.Schema); d != "" {
		return "schema: " + d
	}
	if d := equalRows(want.Schema, want.Before, got.Before); d != "" {
		return "before: " + d
	}
	if d := equalRows(want.Schema, want.After, got.After); d != "" {
		return "after: " + d
	}
	return ""
}

// EqualTables compares two table versions field by field, defaults included.
func EqualTables(want, got *schema.Table) string {
	if got == nil {
		return "nil table"
	}
	if want.Database != got.Database || want.Name != got.Name || want.Version != got.Version {
		return fmt.Sprintf("table %s v%d, want %s v%d", got.QualifiedName(), got.Version, want.QualifiedName(), want.Version)
	}
	if !reflect.DeepEqual(want.PrimaryKey, got.PrimaryKey) {
		return fmt.Sprintf("primary key %v, want %v", got.PrimaryKey, want.PrimaryKey)
	}
	if len(want.Columns) != len(got.Columns) {
		return fmt.Sprintf("%d columns, want %d", len(got.Columns), len(want.Columns))
	}
	for i := range want.Columns {
		w, g := want.Columns[i], got.Columns[i]
		if w.Name != g.Name || w.Kind != g.Kind || w.Precision != g.Precision || w.Scale != g.Scale || w.Optional != g.Optional ||
			w.HasDefault != g.HasDefault || w.SourceType != g.SourceType || !reflect.DeepEqual(w.Aliases, g.Aliases) {
			return fmt.Sprintf("column %d: %+v, want %+v", i, g, w)
		}
		if !EqualValue(&w, w.Default, g.Default) {
			return fmt.Sprintf("column %q default %#v, want %#v", w.Name, g.Default, w.Default)
		}
	}
	return ""
}

func equalRows(t *schema.Table, want, got []any) string {
	if (want == nil) != (got == nil) {
		return fmt.Sprintf("row %v, want %v", got, want)
	}
	if len(want) != len(got) {
		return fmt.Sprintf("%d values, want %d", len(got), len(want))
	}
	for i := range want {
		if !EqualValue(&t.Columns[i], want[i], got[i]) {
			return fmt.Sprintf("column %q: %#v (%T), want %#v (%T)", t.Columns[i].Name, got[i], got[i], want[i], want[i])
		}
	}
	return ""
}

// EqualValue compares two values of column c exactly.
func EqualValue(c *schema.Column, want, got any) bool {
	switch w := want.(type) {
	case nil:
		return got == nil
	case schema.Decimal:
		g, ok := got.(schema.Decimal)
		return ok && g.Scale == w.Scale && g.String() == w.String()
	case float32:
		g, ok := got.(float32)
		return ok && math.Float32bits(g) == math.Float32bits(w)
	case float64:
		g, ok := got.(float64)
		return ok && math.Float64bits(g) == math.Float64bits(w)
	case []byte:
		g, ok := got.([]byte)
		return ok && bytes.Equal(g, w)
	default:
		return reflect.TypeOf(want) == reflect.TypeOf(got) && want == got
	}
}
