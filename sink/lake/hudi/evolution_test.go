package hudi

import (
	"context"
	"strings"
	"testing"

	"github.com/binlake/binlake/schema"
)

// evolvedOrders is ordersTable after ALTERs: qty INT -> BIGINT, score FLOAT
// -> DOUBLE, a new nullable column note.
func evolvedOrders() *schema.Table {
	t := ordersTable()
	cols := append([]schema.Column(nil), t.Columns...)
	cols[2].Kind = schema.KindInt64
	cols[4].Kind = schema.KindFloat64
	cols = append(cols, schema.Column{Name: "note", Kind: schema.KindString, Optional: true})
	return &schema.Table{Database: t.Database, Name: t.Name, Version: 2, Columns: cols, PrimaryKey: t.PrimaryKey}
}

// evolveRow converts a row of ordersTable to evolvedOrders.
func evolveRow(r []any, note any) []any {
	out := append([]any(nil), r...)
	if v, ok := out[2].(int32); ok {
		out[2] = int64(v)
	}
	if v, ok := out[4].(float32); ok {
		out[4] = float64(v)
	}
	return append(out, note)
}

func TestSchemaEvolutionReadByHudiRS(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	v1 := ordersTable()
	opts := Options{Table: v1, PartitionField: "region", MaxFileBytes: 8 << 10, SmallFileBytes: 6 << 10}
	w := openTestWriter(t, dir, opts)
	m := model{}
	if _, err := w.Commit(ctx, v1, upserts(ids(1, 121), 1, m, w.keys), meta(1)); err != nil {
		t.Fatal(err)
	}
	// Evolve: rows of the new schema touch some file groups only, so
	// the table holds base files of both schemas.
	v2 := evolvedOrders()
	for k, r := range m {
		m[k] = evolveRow(r, nil)
	}
	var ch []Change
	for _, id := range []int64{1, 2, 3, 200, 201} {
		r := evolveRow(orderRow(id, 2), "n"+string(rune('a'+id%26)))
		r[4] = float64(id) + 0.1 // a double that no float holds
		ch = append(ch, Change{Row: r})
		k, _ := w.keys.recordKey(r)
		m[k] = r
	}
	st, err := w.Commit(ctx, v2, ch, meta(2))
	if err != nil {
		t.Fatalf("commit with the evolved schema: %v", err)
	}
	if st.Updates != 3 || st.Inserts != 2 {
		t.Errorf("stats %+v", st)
	}
	res := readWithHudiRS(t, dir)
	assertMatches(t, res, v2, w.keys, m)
	if !strings.Contains(res.AvroSchema, `"note"`) || !strings.Contains(res.AvroSchema, `"long"`) {
		t.Errorf("latest Avro schema seen by hudi-rs lacks the evolution: %s", res.AvroSchema)
	}

	// A reopened writer with the new schema accepts the table; one with an
	// incompatible change is refused with a clear message.
	w.Close()
	w2 := openTestWriter(t, dir, Options{Table: v2, PartitionField: "region"})
	if _, err := w2.Commit(ctx, v2, upserts(nil, 0, m, w2.keys), meta(3)); err != nil {
		t.Fatal(err)
	}
	// Rows of the older version are adapted to the newer schema.
	old := orderRow(300, 1)
	if _, err := w2.Commit(ctx, v1, []Change{{Row: old}}, meta(4)); err != nil {
		t.Fatalf("committing rows of the older version: %v", err)
	}
	k, _ := w2.keys.recordKey(old)
	m[k] = evolveRow(old, nil)
	assertMatches(t, readWithHudiRS(t, dir), v2, w2.keys, m)
	if w2.Schema() != v2 {
		t.Error("committing older rows regressed the writer's schema")
	}
	bad := evolvedOrders()
	bad.Columns = append([]schema.Column(nil), bad.Columns...)
	bad.Columns[3] = schema.Column{Name: "price", Kind: schema.KindString, Optional: true}
	if _, err := w2.Commit(ctx, bad, nil, meta(4)); err == nil || !strings.Contains(err.Error(), "price") {
		t.Errorf("retyping decimal to string: err = %v, want a refusal naming the column", err)
	}
	b, err := OpenLocalBucket(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := Open(ctx, Options{Bucket: b, Table: v1, PartitionField: "region"}); err == nil {
		t.Error("opening with the older schema (long -> int narrowing) succeeded")
	}
}

func TestCheckEvolution(t *testing.T) {
	base := ordersTable()
	mod := func(f func(t *schema.Table)) *schema.Table {
		c := *base
		c.Columns = append([]schema.Column(nil), base.Columns...)
		f(&c)
		return &c
	}
	cases := []struct {
		name string
		next *schema.Table
		ok   bool
	}{
		{"same", base, true},
		{"add column", mod(func(t *schema.Table) {
			t.Columns = append(t.Columns, schema.Column{Name: "x", Kind: schema.KindBool, Optional: true})
		}), true},
		{"int to long", mod(func(t *schema.Table) { t.Columns[2].Kind = schema.KindInt64 }), true},
		{"float to double", mod(func(t *schema.Table) { t.Columns[4].Kind = schema.KindFloat64 }), true},
		{"long to int", mod(func(t *schema.Table) { t.Columns[0].Kind = schema.KindInt32 }), false},
		{"drop column", mod(func(t *schema.Table) { t.Columns = t.Columns[:len(t.Columns)-1] }), false},
		{"rename", mod(func(t *schema.Table) { t.Columns[1].Name = "zone" }), false},
		{"decimal precision", mod(func(t *schema.Table) { t.Columns[3].Precision = 12 }), false},
		{"key change", mod(func(t *schema.Table) { t.PrimaryKey = []int{0, 1} }), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := checkEvolution(base, tc.next)
			if (err == nil) != tc.ok {
				t.Errorf("checkEvolution = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
