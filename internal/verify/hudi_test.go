package verify

import (
	"context"
	"math/big"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/sink/lake"
)

// TestHudiRead writes a Hudi copy-on-write table with the sink over several
// commits of inserts, updates and deletes, and checks that the Hudi side
// equals the model, then that a changed value is located.
func TestHudiRead(t *testing.T) {
	dir := t.TempDir()
	src := shopItems()
	warehouse := "file://" + filepath.Join(dir, "hudi")
	w := newSinkWriter(t, dir, src, lake.KeyFormat, lake.FormatHudi, lake.KeyWarehouse, warehouse)
	r := rand.New(rand.NewPCG(5, 6))
	model := map[int64][]any{}
	for range 4 {
		w.commit(randomChanges(w, r, model, 120, 150, false))
	}

	ctx := context.Background()
	lk, err := OpenLake(ctx, LakeConfig{Format: lake.FormatHudi, Warehouse: warehouse})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = lk.Close() }()
	present, err := lk.Present(ctx, []TableRef{{"shop", "items"}, {"shop", "nope"}})
	if err != nil || len(present) != 1 {
		t.Fatalf("present hudi tables = %v, %v", present, err)
	}
	base := lk.hudi.BasePath("shop", "items")
	ls, err := hudiSchema(ctx, lk.hudi.Bucket(), base)
	if err != nil || ls == nil {
		t.Fatalf("reading the hudi schema: %v, %v", ls, err)
	}
	if missing, err := hudiSchema(ctx, lk.hudi.Bucket(), lk.hudi.BasePath("shop", "nope")); missing != nil || err != nil {
		t.Errorf("schema of a missing table = %v, %v", missing, err)
	}
	plan, srcCols, fields, notes, err := planHudi(src, ls, "shop.items")
	if err != nil {
		t.Fatal(err)
	}
	if len(srcCols) != len(src.Columns) || len(notes) != 0 {
		t.Fatalf("plan compares %d of %d columns; notes %q", len(srcCols), len(src.Columns), notes)
	}
	ht := &HudiTable{bucket: lk.hudi.Bucket(), base: base, cols: plan.Columns, fields: fields, keys: plan.KeyColumns}
	res, err := Compare(ctx, plan, modelSide(plan, src, model), ht, Options{Ranges: 4, MaxKeys: 50})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusEqual || res.LakeRows != int64(len(model)) {
		var b strings.Builder
		_ = (&Report{Tables: []*TableResult{res}}).WriteText(&b)
		t.Fatalf("hudi table differs from the model (%d rows):\n%s", len(model), b.String())
	}

	var changed int64 = -1
	for id := range model {
		changed = id
		break
	}
	vals := append([]any(nil), model[changed]...)
	vals[3] = schema.Decimal{Unscaled: big.NewInt(-1), Scale: 2}
	model[changed] = vals
	res, err = Compare(ctx, plan, modelSide(plan, src, model), ht, Options{Ranges: 4, MaxKeys: 50})
	if err != nil {
		t.Fatal(err)
	}
	if res.Differences != 1 || len(res.Diffs) != 1 || res.Diffs[0].Kind != DiffChanged ||
		len(res.Diffs[0].Columns) != 1 || res.Diffs[0].Columns[0].MySQL.Text != "-0.01" {
		t.Errorf("diffs = %+v", res.Diffs)
	}
}
