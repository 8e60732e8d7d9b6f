package transform

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/schema"
)

// customers returns a fresh 10-column table version (every call a new
// pointer with the same content).
func customers(version int) *schema.Table {
	return &schema.Table{
		Database: "shop", Name: "customers", Version: version,
		Columns: []schema.Column{
			{Name: "id", Kind: schema.KindInt64, SourceType: "bigint"},
			{Name: "email", Kind: schema.KindString, SourceType: "varchar(255)"},
			{Name: "name", Kind: schema.KindString, Optional: true},
			{Name: "ssn", Kind: schema.KindString, Optional: true},
			{Name: "amount", Kind: schema.KindDecimal, Precision: 10, Scale: 2, Optional: true, SourceType: "decimal(10,2)"},
			{Name: "age", Kind: schema.KindInt32, Optional: true, Default: int32(18), HasDefault: true, SourceType: "int"},
			{Name: "created", Kind: schema.KindTimestamp},
			{Name: "active", Kind: schema.KindBool},
			{Name: "photo", Kind: schema.KindBytes, Optional: true},
			{Name: "score", Kind: schema.KindFloat64, Optional: true},
		},
		PrimaryKey: []int{0},
	}
}

func dec(s string) schema.Decimal {
	d, err := schema.ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

func customerRow(id int64) []any {
	return []any{id, fmt.Sprintf("u%d@example.com", id), "Ann", "123-45-6789", dec("12.50"), int32(30),
		int64(1_700_000_000_000_000), true, []byte{1, 2}, 1.5}
}

var seq uint64

// event builds an event of table t; before/after may be nil.
func event(t *schema.Table, op connect.Op, before, after []any) *connect.ChangeEvent {
	seq++
	return &connect.ChangeEvent{
		Op: op, Before: before, After: after, Schema: t,
		Source: connect.SourceInfo{Connector: "c1", Database: t.Database, Table: t.Name, File: "mysql-bin.000003",
			Pos: 4242, Sequence: seq, CommitTimeMs: 1_700_000_000_123, ServerID: 7, GTID: "uuid:12"},
	}
}

func insert(t *schema.Table, id int64) *connect.ChangeEvent {
	return event(t, connect.OpCreate, nil, customerRow(id))
}

// checkRow verifies that row agrees with t: length, kinds, nullability.
func checkRow(t *schema.Table, row []any) error {
	if row == nil {
		return nil
	}
	if len(row) != len(t.Columns) {
		return fmt.Errorf("row has %d values, table %d columns", len(row), len(t.Columns))
	}
	for i, c := range t.Columns {
		v := row[i]
		if v == nil {
			if !c.Optional {
				return fmt.Errorf("column %s is NOT NULL but the value is nil", c.Name)
			}
			continue
		}
		ok := false
		switch v.(type) {
		case bool:
			ok = c.Kind == schema.KindBool
		case int32:
			ok = c.Kind == schema.KindInt32 || c.Kind == schema.KindDate
		case int64:
			switch c.Kind {
			case schema.KindInt64, schema.KindTime, schema.KindDuration, schema.KindTimestamp, schema.KindTimestampTZ:
				ok = true
			}
		case float32:
			ok = c.Kind == schema.KindFloat32
		case float64:
			ok = c.Kind == schema.KindFloat64
		case schema.Decimal:
			ok = c.Kind == schema.KindDecimal
		case string:
			ok = c.Kind == schema.KindString
		case []byte:
			ok = c.Kind == schema.KindBytes
		}
		if !ok {
			return fmt.Errorf("column %s of kind %s holds %T", c.Name, c.Kind, v)
		}
	}
	return nil
}

// checkEvent verifies an output event against its schema.
func checkEvent(t *testing.T, ev *connect.ChangeEvent) {
	t.Helper()
	if ev.Schema == nil {
		return
	}
	if err := ev.Schema.Validate(); err != nil {
		t.Fatalf("output schema invalid: %v", err)
	}
	for _, row := range [][]any{ev.Before, ev.After} {
		if err := checkRow(ev.Schema, row); err != nil {
			t.Fatalf("output row %v does not agree with its schema: %v", row, err)
		}
	}
	if ev.Schema.Database != ev.Source.Database || ev.Schema.Name != ev.Source.Table {
		t.Fatalf("schema %s but source %s.%s", ev.Schema.QualifiedName(), ev.Source.Database, ev.Source.Table)
	}
}

// mustChain builds a chain from "transforms.<...>" pairs.
func mustChain(t testing.TB, kv ...string) *Chain {
	t.Helper()
	c, err := New(config(kv...))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func config(kv ...string) connect.Config {
	cfg := connect.Config{}
	for i := 0; i+1 < len(kv); i += 2 {
		cfg[kv[i]] = kv[i+1]
	}
	return cfg
}

// one applies c to a single event, checking the output and that the input
// was left alone.
func one(t *testing.T, c *Chain, ev *connect.ChangeEvent) (*connect.ChangeEvent, error) {
	t.Helper()
	snapshot := cloneEvent(ev)
	tbl := cloneTable(ev.Schema)
	out, err := c.Apply(context.Background(), []*connect.ChangeEvent{ev})
	if !reflect.DeepEqual(cloneEvent(ev), snapshot) {
		t.Fatalf("Apply modified its input event")
	}
	if !reflect.DeepEqual(cloneTable(ev.Schema), tbl) {
		t.Fatalf("Apply modified the input table")
	}
	if err != nil {
		return nil, err
	}
	switch len(out) {
	case 0:
		return nil, nil
	case 1:
		checkEvent(t, out[0])
		return out[0], nil
	}
	t.Fatalf("Apply returned %d events for one", len(out))
	return nil, nil
}

func cloneEvent(ev *connect.ChangeEvent) connect.ChangeEvent {
	c := *ev
	c.Before = append([]any(nil), ev.Before...)
	c.After = append([]any(nil), ev.After...)
	c.Schema = nil
	return c
}

func cloneTable(t *schema.Table) *schema.Table {
	if t == nil {
		return nil
	}
	c := *t
	c.Columns = append([]schema.Column(nil), t.Columns...)
	c.PrimaryKey = append([]int(nil), t.PrimaryKey...)
	return &c
}

func colNames(t *schema.Table) []string {
	out := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		out[i] = c.Name
	}
	return out
}
