package iceberg_test

import (
	"context"
	"strings"
	"testing"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/schema"
)

func evoV1() *schema.Table {
	return &schema.Table{Database: "shop", Name: "evo", Version: 1, PrimaryKey: []int{0}, Columns: []schema.Column{
		{Name: "id", Kind: schema.KindInt32},
		{Name: "qty", Kind: schema.KindInt32, Optional: true},
		{Name: "score", Kind: schema.KindFloat32, Optional: true},
		{Name: "price", Kind: schema.KindDecimal, Precision: 10, Scale: 2, Optional: true},
		{Name: "code", Kind: schema.KindString},
		{Name: "old_name", Kind: schema.KindString, Optional: true},
	}}
}

// evoV2 adds a column, widens int->long, float->double and the decimal
// precision, makes code optional and renames old_name to new_name.
func evoV2() *schema.Table {
	return &schema.Table{Database: "shop", Name: "evo", Version: 2, PrimaryKey: []int{0}, Columns: []schema.Column{
		{Name: "id", Kind: schema.KindInt32},
		{Name: "qty", Kind: schema.KindInt64, Optional: true},
		{Name: "score", Kind: schema.KindFloat64, Optional: true},
		{Name: "price", Kind: schema.KindDecimal, Precision: 14, Scale: 2, Optional: true},
		{Name: "code", Kind: schema.KindString, Optional: true},
		{Name: "new_name", Kind: schema.KindString, Optional: true, Aliases: []string{"old_name"}},
		{Name: "note", Kind: schema.KindString, Optional: true},
	}}
}

func dec(s string) schema.Decimal {
	d, err := schema.ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

func evRec(tbl *schema.Table, seq uint64, q int, off int64, row []any) connect.SinkRecord {
	return connect.SinkRecord{
		Event: &connect.ChangeEvent{Op: connect.OpCreate, After: row, Schema: tbl,
			Source: connect.SourceInfo{Database: tbl.Database, Table: tbl.Name, Sequence: seq}},
		Queue:  connect.QueueID{Topic: "cdc_shop_evo", BrokerName: "b0", Queue: q},
		Offset: off,
	}
}

// TestSchemaEvolutionKeepsFieldIDs evolves a table through every promotion
// the sink supports plus a rename and checks that field ids survive, that
// rows of both versions (also v1 rows arriving after v2 from another queue)
// read back right, and that an incompatible change fails the table with a
// terminal error that says what to do.
func TestSchemaEvolutionKeepsFieldIDs(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	task, f := startTask(t, dir, taskConfig(dir, nil))
	v1, v2 := evoV1(), evoV2()
	mustPut(t, task, []connect.SinkRecord{
		evRec(v1, 1, 0, 0, []any{int32(1), int32(10), float32(1.5), dec("12.34"), "a", "first"}),
		evRec(v1, 2, 1, 0, []any{int32(2), nil, nil, nil, "b", nil}),
	})
	mustFlush(t, task)
	ident := []string{"shop", "evo"}
	tbl1, err := f.Catalog().LoadTable(ctx, ident)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int{}
	for _, fld := range tbl1.Schema().Fields() {
		ids[fld.Name] = fld.ID
	}

	mustPut(t, task, []connect.SinkRecord{
		evRec(v2, 3, 0, 1, []any{int32(3), int64(1) << 40, 2.25, dec("123456789012.50"), nil, "third", "n3"}),
		// a v1 row from another queue, read after v2 was seen
		evRec(v1, 4, 1, 1, []any{int32(4), int32(40), float32(4.5), dec("4.00"), "d", "fourth"}),
	})
	mustFlush(t, task)

	tbl2, err := f.Catalog().LoadTable(ctx, ident)
	if err != nil {
		t.Fatal(err)
	}
	sc := tbl2.Schema()
	for name, want := range map[string]string{"qty": "qty", "score": "score", "price": "price", "code": "code", "old_name": "new_name", "id": "id"} {
		fld, ok := sc.FindFieldByName(want)
		if !ok {
			t.Fatalf("evolved schema lacks %q: %s", want, sc)
		}
		if fld.ID != ids[name] {
			t.Errorf("field %q has id %d, want %d (the id of %q before evolution)", want, fld.ID, ids[name], name)
		}
	}
	for name, typ := range map[string]string{"qty": "long", "score": "double", "price": "decimal(14, 2)", "note": "string"} {
		fld, _ := sc.FindFieldByName(name)
		if fld.Type == nil || fld.Type.String() != typ {
			t.Errorf("field %q has type %v, want %s", name, fld.Type, typ)
		}
	}
	if fld, _ := sc.FindFieldByName("code"); fld.Required {
		t.Errorf("code is still required after the source made it optional")
	}
	cols := []string{"id", "qty", "score", "price", "code", "new_name", "note"}
	want := []string{
		"id=1|qty=10|score=1.5|price=12.34|code=a|new_name=first|note=null",
		"id=2|qty=null|score=null|price=null|code=b|new_name=null|note=null",
		"id=3|qty=1099511627776|score=2.25|price=123456789012.50|code=null|new_name=third|note=n3",
		"id=4|qty=40|score=4.5|price=4.00|code=d|new_name=fourth|note=null",
	}
	diffLines(t, "evolved table", scanLines(t, f, ident, cols), want)

	// After a restart, a v1 row (a replay from a queue behind the others)
	// is written through the recorded rename; no old_name column returns.
	_ = task.Stop(ctx)
	task, f = startTask(t, dir, taskConfig(dir, nil))
	mustPut(t, task, []connect.SinkRecord{evRec(v1, 10, 1, 2, []any{int32(6), int32(60), nil, nil, "f", "sixth"})})
	mustFlush(t, task)
	want = append(want, "id=6|qty=60|score=null|price=null|code=f|new_name=sixth|note=null")
	diffLines(t, "v1 row after restart", scanLines(t, f, ident, cols), want)
	tbl3, err := f.Catalog().LoadTable(ctx, ident)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tbl3.Schema().FindFieldByName("old_name"); ok {
		t.Errorf("old_name came back as a column after a restart: %s", tbl3.Schema())
	}

	// qty long -> string cannot be promoted: terminal, with a hint.
	v3 := evoV2()
	v3.Version = 3
	v3.Columns[1] = schema.Column{Name: "qty", Kind: schema.KindString, Optional: true, SourceType: "varchar(10)"}
	mustPut(t, task, []connect.SinkRecord{evRec(v3, 5, 0, 2, []any{int32(5), "many", nil, nil, nil, nil, nil})})
	err = task.Flush(ctx)
	if err == nil || !connect.IsTerminal(err) {
		t.Fatalf("flush after an incompatible change = %v, want a terminal error", err)
	}
	if !strings.Contains(err.Error(), "qty") || !strings.Contains(err.Error(), "re-snapshot") {
		t.Errorf("terminal error does not name the column and what to do: %v", err)
	}
}
