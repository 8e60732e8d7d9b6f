package verify

import (
	"context"
	"fmt"
	"math/big"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/iceberg-go/table"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/spec"
	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/sink/lake"
)

// shopItems has a column of every kind the sink maps.
func shopItems() *schema.Table {
	return &schema.Table{
		Database: "shop", Name: "items", Version: 1,
		Columns: []schema.Column{
			{Name: "id", Kind: schema.KindInt64, SourceType: "bigint"},
			{Name: "name", Kind: schema.KindString, Optional: true, SourceType: "varchar(64)"},
			{Name: "qty", Kind: schema.KindInt32, Optional: true, SourceType: "int"},
			{Name: "price", Kind: schema.KindDecimal, Precision: 10, Scale: 2, Optional: true, SourceType: "decimal(10,2)"},
			{Name: "big", Kind: schema.KindDecimal, Precision: 20, Scale: 0, Optional: true, SourceType: "bigint unsigned"},
			{Name: "updated", Kind: schema.KindTimestampTZ, Optional: true, SourceType: "timestamp(6)"},
			{Name: "day", Kind: schema.KindDate, Optional: true, SourceType: "date"},
			{Name: "blob", Kind: schema.KindBytes, Optional: true, SourceType: "blob"},
			{Name: "flag", Kind: schema.KindBool, Optional: true, SourceType: "bit(1)"},
			{Name: "ratio", Kind: schema.KindFloat64, Optional: true, SourceType: "double"},
			{Name: "f32", Kind: schema.KindFloat32, Optional: true, SourceType: "float"},
			{Name: "at", Kind: schema.KindTimestamp, Optional: true, SourceType: "datetime(6)"},
			{Name: "tod", Kind: schema.KindTime, Optional: true, SourceType: "time(6)"},
			{Name: "doc", Kind: schema.KindString, Optional: true, SourceType: "json"},
		},
		PrimaryKey: []int{0},
	}
}

func randomItem(r *rand.Rand, id int64) []any {
	row := []any{
		id,
		fmt.Sprintf("item-%d-%d", id, r.IntN(1000)),
		int32(r.IntN(100) - 50),
		schema.Decimal{Unscaled: big.NewInt(r.Int64N(10_000_000) - 5_000_000), Scale: 2},
		schema.Decimal{Unscaled: new(big.Int).SetUint64(r.Uint64()), Scale: 0},
		int64(1_700_000_000_000_000 + r.Int64N(1e12)),
		int32(19000 + r.IntN(1000)),
		[]byte{byte(r.IntN(256)), 0, byte(r.IntN(256))},
		r.IntN(2) == 0,
		r.Float64() * 1e6,
		float32(r.IntN(100000)) / 7,
		int64(1_600_000_000_000_000 + r.Int64N(1e12)),
		r.Int64N(86_400_000_000),
		fmt.Sprintf(`{"n":%d,"tags":["a","b"]}`, r.IntN(10)),
	}
	for i := 1; i < len(row); i++ {
		if r.IntN(8) == 0 {
			row[i] = nil
		}
	}
	return row
}

// sinkWriter writes change events into a lake table with the real sink.
type sinkWriter struct {
	t       testing.TB
	task    *lake.Task
	tbl     *schema.Table
	seq     uint64
	offsets [2]int64
}

func newSinkWriter(t testing.TB, dir string, tbl *schema.Table, extra ...string) *sinkWriter {
	task := lake.NewTask()
	cfg := connect.Config{
		spec.ConnectorClass:      lake.PluginName,
		spec.TopicNames:          "cdc_shop_items",
		lake.KeyFormat:           lake.FormatIceberg,
		lake.KeyWriteMode:        string(lake.ModeUpsert),
		lake.KeyCatalogURI:       filepath.Join(dir, "catalog.db"),
		lake.KeyWarehouse:        "file://" + filepath.Join(dir, "warehouse"),
		lake.KeyMaintenanceEvery: "0", // no compaction: equality deletes stay
	}
	for i := 0; i+1 < len(extra); i += 2 {
		cfg[extra[i]] = extra[i+1]
	}
	if err := task.Start(context.Background(), &connect.TaskContext{Connector: "c1", Config: cfg, DataDir: dir}); err != nil {
		t.Fatalf("starting the sink task: %v", err)
	}
	t.Cleanup(func() { _ = task.Stop(context.Background()) })
	return &sinkWriter{t: t, task: task, tbl: tbl}
}

func (w *sinkWriter) record(op connect.Op, before, after []any) connect.SinkRecord {
	w.seq++
	ev := &connect.ChangeEvent{Op: op, Before: before, After: after, Schema: w.tbl,
		Source: connect.SourceInfo{Database: w.tbl.Database, Table: w.tbl.Name, Sequence: w.seq, CommitTimeMs: 1_700_000_000_000}}
	q := int(w.seq % 2)
	rec := connect.SinkRecord{Event: ev, Queue: connect.QueueID{Topic: "cdc_shop_items", BrokerName: "b0", Queue: q}, Offset: w.offsets[q]}
	w.offsets[q]++
	return rec
}

func (w *sinkWriter) commit(recs []connect.SinkRecord) {
	w.t.Helper()
	if err := w.task.Put(context.Background(), recs); err != nil {
		w.t.Fatalf("put: %v", err)
	}
	if err := w.task.Flush(context.Background()); err != nil {
		w.t.Fatalf("flush: %v", err)
	}
}

// modelSide is the MySQL side of a model: rows by id.
func modelSide(p *Plan, tbl *schema.Table, model map[int64][]any) *fakeSide {
	f := &fakeSide{}
	for id, vals := range model {
		r := Row{Key: []any{id}, Cells: make([]Cell, len(tbl.Columns))}
		for i := range tbl.Columns {
			r.Cells[i] = Canon(p.Columns[i], vals[i])
		}
		f.rows = append(f.rows, r)
	}
	return f
}

// TestLakeReadAppliesEqualityDeletes writes a table with the sink over
// several commits of inserts, updates, deletes and delete-then-reinserts
// (no compaction, so the deletes are equality-delete files) and checks
// that the lake side equals the model: verify sees the merged table.
func TestLakeReadAppliesEqualityDeletes(t *testing.T) {
	dir := t.TempDir()
	src := shopItems()
	w := newSinkWriter(t, dir, src)
	r := rand.New(rand.NewPCG(3, 4))
	model := map[int64][]any{}
	for range 6 {
		w.commit(randomChanges(w, r, model, 150, 200, true))
	}

	ctx := context.Background()
	_, tbl, ident := loadShopItems(t, dir)
	if got := tbl.CurrentSnapshot().Summary.Properties["total-equality-deletes"]; got == "" || got == "0" {
		t.Fatalf("the table has no equality deletes (summary %q): the test would not exercise merge-on-read", got)
	}
	plan, srcCols, fields, notes, err := planTable(src, tbl, strings.Join(ident, "."))
	if err != nil {
		t.Fatal(err)
	}
	if len(srcCols) != len(src.Columns) || len(notes) != 0 {
		t.Fatalf("plan compares %d of %d columns; notes %q", len(srcCols), len(src.Columns), notes)
	}
	lt := NewLakeTable(tbl, plan.Columns, fields, plan.KeyColumns)
	res, err := Compare(ctx, plan, modelSide(plan, src, model), lt, Options{Ranges: 8, MaxKeys: 50})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusEqual || res.LakeRows != int64(len(model)) {
		var b strings.Builder
		_ = (&Report{Tables: []*TableResult{res}}).WriteText(&b)
		t.Fatalf("lake differs from the model (%d rows):\n%s", len(model), b.String())
	}

	// A model that differs in one value, one missing and one extra key is
	// located exactly.
	var ids []int64
	for id := range model {
		ids = append(ids, id)
	}
	changed, gone := ids[0], ids[1]
	vals := append([]any(nil), model[changed]...)
	vals[3] = schema.Decimal{Unscaled: big.NewInt(123456), Scale: 2}
	model[changed] = vals
	delete(model, gone) // the lake has it: extra in lake
	model[100_000] = randomItem(r, 100_000)
	res, err = Compare(ctx, plan, modelSide(plan, src, model), lt, Options{Ranges: 8, MaxKeys: 50})
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]string{}
	for _, d := range res.Diffs {
		found[d.Key] = d.Kind
		if d.Kind == DiffChanged && (len(d.Columns) != 1 || d.Columns[0].Column != "price" || d.Columns[0].MySQL.Text != "1234.56") {
			t.Errorf("changed columns = %+v", d.Columns)
		}
	}
	want := map[string]string{
		"id=" + strconv.FormatInt(changed, 10): DiffChanged,
		"id=" + strconv.FormatInt(gone, 10):    DiffExtra,
		"id=100000":                            DiffMissing,
	}
	if res.Differences != 3 || fmt.Sprint(found) != fmt.Sprint(want) {
		t.Errorf("diffs = %v, want %v", found, want)
	}
}

// TestPlanTable matches columns by name and rejects changelog tables.
func TestPlanTable(t *testing.T) {
	dir := t.TempDir()
	src := shopItems()
	w := newSinkWriter(t, dir, src)
	w.commit([]connect.SinkRecord{w.record(connect.OpCreate, nil, randomItem(rand.New(rand.NewPCG(1, 1)), 1))})
	ctx := context.Background()
	lk, tbl, _ := loadShopItems(t, dir)
	present, err := lk.Present(ctx, []TableRef{{"shop", "nope"}, {"shop", "items"}, {"other", "items"}})
	if err != nil || len(present) != 1 || present[0] != (TableRef{"shop", "items"}) {
		t.Fatalf("present lake tables = %v, %v", present, err)
	}
	// MySQL gained a column the lake lacks, and renamed NAME's case.
	grown := *src
	grown.Columns = append(append([]schema.Column(nil), src.Columns...), schema.Column{Name: "later", Kind: schema.KindInt32, Optional: true, SourceType: "int"})
	grown.Columns[1].Name = "NAME"
	plan, srcCols, fields, notes, err := planTable(&grown, tbl, "shop.items")
	if err != nil {
		t.Fatal(err)
	}
	if len(srcCols) != len(src.Columns) || fields[1] != "name" || plan.Columns[1].Name != "NAME" {
		t.Errorf("plan columns %v, fields %v", srcCols, fields)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "later") {
		t.Errorf("notes = %q", notes)
	}
	if missing, err := lk.LoadTable(ctx, lk.Identifier("shop", "nope")); missing != nil || err != nil {
		t.Errorf("loading a missing table = %v, %v", missing, err)
	}
	keyless := *src
	keyless.PrimaryKey = nil
	if _, _, _, _, err := planTable(&keyless, tbl, "shop.items"); err == nil {
		t.Error("a table without a primary key was planned")
	}
}

// TestChangelogReadEndsWithTheSourceRows writes an append-mode (changelog) table with the real sink, with inserts,
// updates, deletes, re-inserts and a TRUNCATE in the middle, and checks that verify reads it as the rows the changes
// end with, and locates a difference.
func TestChangelogReadEndsWithTheSourceRows(t *testing.T) {
	dir := t.TempDir()
	src := shopItems()
	w := newSinkWriter(t, dir, src, lake.KeyWriteMode, string(lake.ModeAppend))
	r := rand.New(rand.NewPCG(5, 6))
	model := map[int64][]any{}
	for round := range 6 {
		var recs []connect.SinkRecord
		if round == 3 {
			recs = append(recs, w.record(connect.OpTruncate, nil, nil))
			clear(model)
		}
		w.commit(append(recs, randomChanges(w, r, model, 120, 150, false)...))
	}
	ctx := context.Background()
	_, tbl, ident := loadShopItems(t, dir)
	if !isChangelog(tbl) {
		t.Fatal("the append-mode table is not recognised as a changelog")
	}
	plan, srcCols, fields, notes, err := planTable(src, tbl, strings.Join(ident, "."))
	if err != nil || len(srcCols) != len(src.Columns) || len(notes) != 0 {
		t.Fatalf("plan: %d of %d columns, notes %q, %v", len(srcCols), len(src.Columns), notes, err)
	}
	// The raw changelog holds every event (far more rows than keys): read as a plain table it differs.
	raw, err := Compare(ctx, plan, modelSide(plan, src, model), NewLakeTable(tbl, plan.Columns, fields, plan.KeyColumns), Options{Ranges: 4})
	if err != nil || raw.Status == StatusEqual {
		t.Fatalf("the raw changelog compared equal to the model (%v): the test would not exercise the reduction", err)
	}
	ct := NewChangelogTable(tbl, plan.Columns, fields, plan.KeyColumns)
	res, err := Compare(ctx, plan, modelSide(plan, src, model), ct, Options{Ranges: 4, MaxKeys: 50})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusEqual || res.LakeRows != int64(len(model)) {
		var b strings.Builder
		_ = (&Report{Tables: []*TableResult{res}}).WriteText(&b)
		t.Fatalf("the changelog's end state differs from the model (%d rows):\n%s", len(model), b.String())
	}
	// A key deleted in MySQL whose delete the changelog lacks shows up as extra.
	var gone int64 = -1
	for id := range model {
		gone = id
		break
	}
	delete(model, gone)
	res, err = Compare(ctx, plan, modelSide(plan, src, model), ct, Options{Ranges: 4, MaxKeys: 50})
	if err != nil {
		t.Fatal(err)
	}
	if res.Differences != 1 || len(res.Diffs) != 1 || res.Diffs[0].Kind != DiffExtra || res.Diffs[0].Key != "id="+strconv.FormatInt(gone, 10) {
		t.Errorf("diffs = %+v, want id=%d extra", res.Diffs, gone)
	}
}

// randomChanges returns n random changes of keys below keys against model (updating it): an insert of an absent key,
// else a delete (a third of the time, followed by a re-insert half of those times when reinsert is set) or an update.
func randomChanges(w *sinkWriter, r *rand.Rand, model map[int64][]any, n, keys int, reinsert bool) []connect.SinkRecord {
	var recs []connect.SinkRecord
	for range n {
		id := int64(r.IntN(keys))
		old, exists := model[id]
		switch {
		case !exists:
			row := randomItem(r, id)
			recs = append(recs, w.record(connect.OpCreate, nil, row))
			model[id] = row
		case r.IntN(3) == 0:
			recs = append(recs, w.record(connect.OpDelete, old, nil))
			delete(model, id)
			if reinsert && r.IntN(2) == 0 {
				row := randomItem(r, id)
				recs = append(recs, w.record(connect.OpCreate, nil, row))
				model[id] = row
			}
		default:
			row := randomItem(r, id)
			recs = append(recs, w.record(connect.OpUpdate, old, row))
			model[id] = row
		}
	}
	return recs
}

// loadShopItems opens the lake newSinkWriter wrote under dir (closed when the test ends) and loads shop.items.
func loadShopItems(t *testing.T, dir string) (*Lake, *table.Table, table.Identifier) {
	t.Helper()
	lk, err := OpenLake(context.Background(), LakeConfig{CatalogURI: filepath.Join(dir, "catalog.db"), Warehouse: "file://" + filepath.Join(dir, "warehouse")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lk.Close() })
	ident := lk.Identifier("shop", "items")
	tbl, err := lk.LoadTable(context.Background(), ident)
	if err != nil || tbl == nil {
		t.Fatalf("loading %v: %v", ident, err)
	}
	return lk, tbl, ident
}
