package iceberg_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"math/big"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go/table"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/spec"
	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/sink/lake"
	lakeiceberg "github.com/binlake/binlake/sink/lake/iceberg"
)

// itemsTable is the test table: every kind the sink maps, key id.
func itemsTable(version int) *schema.Table {
	return &schema.Table{
		Database: "shop", Name: "items", Version: version,
		Columns: []schema.Column{
			{Name: "id", Kind: schema.KindInt64},
			{Name: "name", Kind: schema.KindString, Optional: true},
			{Name: "qty", Kind: schema.KindInt32, Optional: true},
			{Name: "price", Kind: schema.KindDecimal, Precision: 10, Scale: 2, Optional: true},
			{Name: "updated", Kind: schema.KindTimestampTZ, Optional: true},
			{Name: "day", Kind: schema.KindDate, Optional: true},
			{Name: "blob", Kind: schema.KindBytes, Optional: true},
			{Name: "flag", Kind: schema.KindBool, Optional: true},
			{Name: "ratio", Kind: schema.KindFloat64, Optional: true},
			{Name: "at", Kind: schema.KindTimestamp, Optional: true},
			{Name: "tod", Kind: schema.KindTime, Optional: true},
			{Name: "f32", Kind: schema.KindFloat32, Optional: true},
		},
		PrimaryKey: []int{0},
	}
}

// randomRow returns a row of itemsTable for key id.
func randomRow(r *rand.Rand, id int64) []any {
	row := []any{
		id,
		fmt.Sprintf("item-%d-%d", id, r.IntN(1000)),
		int32(r.IntN(100)),
		schema.Decimal{Unscaled: big.NewInt(r.Int64N(10_000_000) - 5_000_000), Scale: 2},
		int64(1_700_000_000_000_000 + r.Int64N(1e12)),
		int32(19000 + r.IntN(1000)),
		[]byte{byte(r.IntN(256)), byte(r.IntN(256))},
		r.IntN(2) == 0,
		r.Float64(),
		int64(1_600_000_000_000_000 + r.Int64N(1e12)),
		int64(r.Int64N(86_400_000_000)),
		float32(r.IntN(1000)) / 4,
	}
	for i := 1; i < len(row); i++ {
		if r.IntN(10) == 0 {
			row[i] = nil
		}
	}
	return row
}

// feed produces change events over a key space with a model of the
// expected table, assigning sequences and per-queue offsets like the
// source and RocketMQ would.
type feed struct {
	r       *rand.Rand
	tbl     *schema.Table
	topic   string
	queues  int
	seq     uint64
	offsets []int64
	model   map[string][]any // key text -> row
	log     []connect.SinkRecord
}

func newFeed(seed uint64, tbl *schema.Table, queues int) *feed {
	return &feed{r: rand.New(rand.NewPCG(seed, seed+1)), tbl: tbl, topic: "cdc_shop_items", queues: queues,
		offsets: make([]int64, queues), model: map[string][]any{}}
}

func (f *feed) queueOf(key string) int {
	h := 0
	for _, c := range key {
		h = h*31 + int(c)
	}
	if h < 0 {
		h = -h
	}
	return h % f.queues
}

func (f *feed) emit(op connect.Op, before, after []any) connect.SinkRecord {
	f.seq++
	ev := &connect.ChangeEvent{Op: op, Before: before, After: after, Schema: f.tbl,
		Source: connect.SourceInfo{Database: f.tbl.Database, Table: f.tbl.Name, Sequence: f.seq, CommitTimeMs: 1_700_000_000_000 + int64(f.seq)}}
	key := connect.MessageKey(f.tbl, ev.Row())
	q := 0
	if key != "" {
		q = f.queueOf(key)
	}
	rec := connect.SinkRecord{Event: ev, Queue: connect.QueueID{Topic: f.topic, BrokerName: "b0", Queue: q}, Offset: f.offsets[q]}
	f.offsets[q]++
	f.log = append(f.log, rec)
	return rec
}

// next returns n random events over keys [0, keys), applying them to the
// model. Some keys are deleted and re-inserted within the same run.
func (f *feed) next(n, keys int) []connect.SinkRecord {
	out := make([]connect.SinkRecord, 0, n)
	for len(out) < n {
		id := int64(f.r.IntN(keys))
		key := strconv.FormatInt(id, 10)
		old, exists := f.model[key]
		switch {
		case !exists:
			row := randomRow(f.r, id)
			op := connect.OpCreate
			if f.r.IntN(5) == 0 {
				op = connect.OpRead
			}
			out = append(out, f.emit(op, nil, row))
			f.model[key] = row
		case f.r.IntN(4) == 0:
			out = append(out, f.emit(connect.OpDelete, old, nil))
			delete(f.model, key)
			if f.r.IntN(2) == 0 { // delete then re-insert in the same batch
				row := randomRow(f.r, id)
				out = append(out, f.emit(connect.OpCreate, nil, row))
				f.model[key] = row
			}
		default:
			row := randomRow(f.r, id)
			out = append(out, f.emit(connect.OpUpdate, old, row))
			f.model[key] = row
		}
	}
	return out
}

func taskConfig(dir string, extra map[string]string) connect.Config {
	cfg := connect.Config{
		spec.ConnectorClass:      lake.PluginName,
		spec.TopicNames:          "cdc_shop_items",
		lake.KeyFormat:           lake.FormatIceberg,
		lake.KeyWriteMode:        string(lake.ModeUpsert),
		lake.KeyWarehouse:        "file://" + filepath.Join(dir, "warehouse"),
		lake.KeyMaintenanceEvery: "0",
	}
	for k, v := range extra {
		cfg[k] = v
	}
	return cfg
}

func startTask(t testing.TB, dir string, cfg connect.Config) (*lake.Task, *lakeiceberg.Format) {
	t.Helper()
	task := lake.NewTask()
	tc := &connect.TaskContext{Connector: "c1", TaskID: 0, Config: cfg, DataDir: dir}
	if err := task.Start(context.Background(), tc); err != nil {
		t.Fatalf("starting task: %v", err)
	}
	t.Cleanup(func() { _ = task.Stop(context.Background()) })
	f, ok := task.Format().(*lakeiceberg.Format)
	if !ok {
		t.Fatalf("format is %T, want *iceberg.Format", task.Format())
	}
	return task, f
}

// canon formats a binlake value the way canonArrow formats the Arrow value
// the table returns for it.
func canon(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case schema.Decimal:
		return x.String()
	case []byte:
		return hex.EncodeToString(x)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}

func canonArrow(col arrow.Array, i int) string {
	if col.IsNull(i) {
		return "null"
	}
	switch a := col.(type) {
	case *array.Int32:
		return strconv.FormatInt(int64(a.Value(i)), 10)
	case *array.Int64:
		return strconv.FormatInt(a.Value(i), 10)
	case *array.String:
		return a.Value(i)
	case *array.LargeString:
		return a.Value(i)
	case *array.Decimal128:
		dt := a.DataType().(*arrow.Decimal128Type)
		return schema.Decimal{Unscaled: a.Value(i).BigInt(), Scale: dt.Scale}.String()
	case *array.Timestamp:
		return strconv.FormatInt(int64(a.Value(i)), 10)
	case *array.Date32:
		return strconv.FormatInt(int64(a.Value(i)), 10)
	case *array.Time64:
		return strconv.FormatInt(int64(a.Value(i)), 10)
	case *array.Binary:
		return hex.EncodeToString(a.Value(i))
	case *array.LargeBinary:
		return hex.EncodeToString(a.Value(i))
	case *array.Boolean:
		return strconv.FormatBool(a.Value(i))
	case *array.Float64:
		return strconv.FormatFloat(a.Value(i), 'g', -1, 64)
	case *array.Float32:
		return strconv.FormatFloat(float64(a.Value(i)), 'g', -1, 32)
	default:
		return a.ValueStr(i)
	}
}

// modelLines renders the model as sorted "col=value|..." lines over the
// given column names (missing columns are null).
func modelLines(tbl *schema.Table, model map[string][]any, cols []string) []string {
	out := make([]string, 0, len(model))
	for _, row := range model {
		parts := make([]string, len(cols))
		for i, c := range cols {
			v := any(nil)
			if ci := tbl.ColumnIndex(c); ci >= 0 {
				v = row[ci]
			}
			parts[i] = c + "=" + canon(v)
		}
		out = append(out, strings.Join(parts, "|"))
	}
	sort.Strings(out)
	return out
}

// scanLines reads the whole table with iceberg-go's scan (which applies
// equality deletes) and renders it like modelLines.
func scanLines(t testing.TB, f *lakeiceberg.Format, ident table.Identifier, cols []string) []string {
	t.Helper()
	ctx := context.Background()
	tbl, err := f.Catalog().LoadTable(ctx, ident)
	if err != nil {
		t.Fatalf("loading %v: %v", ident, err)
	}
	at, err := tbl.Scan().ToArrowTable(ctx)
	if err != nil {
		t.Fatalf("scanning %v: %v", ident, err)
	}
	defer at.Release()
	rdr := array.NewTableReader(at, 4096)
	defer rdr.Release()
	var out []string
	for rdr.Next() {
		rec := rdr.RecordBatch()
		idx := make([]int, len(cols))
		for i, c := range cols {
			fi := rec.Schema().FieldIndices(c)
			if len(fi) == 0 {
				t.Fatalf("table %v has no column %q (schema %s)", ident, c, rec.Schema())
			}
			idx[i] = fi[0]
		}
		for r := 0; r < int(rec.NumRows()); r++ {
			parts := make([]string, len(cols))
			for i, c := range cols {
				parts[i] = c + "=" + canonArrow(rec.Column(idx[i]), r)
			}
			out = append(out, strings.Join(parts, "|"))
		}
	}
	sort.Strings(out)
	return out
}

func columnNames(tbl *schema.Table) []string {
	out := make([]string, len(tbl.Columns))
	for i, c := range tbl.Columns {
		out[i] = c.Name
	}
	return out
}

func diffLines(t testing.TB, what string, got, want []string) {
	t.Helper()
	if slices.Equal(got, want) {
		return
	}
	t.Errorf("%s: got %d rows, want %d", what, len(got), len(want))
	gs, ws := map[string]bool{}, map[string]bool{}
	for _, g := range got {
		gs[g] = true
	}
	for _, w := range want {
		ws[w] = true
	}
	n := 0
	for _, w := range want {
		if !gs[w] && n < 5 {
			t.Errorf("  missing: %s", w)
			n++
		}
	}
	n = 0
	for _, g := range got {
		if !ws[g] && n < 5 {
			t.Errorf("  unexpected: %s", g)
			n++
		}
	}
}

func mustPut(t testing.TB, task *lake.Task, recs []connect.SinkRecord) {
	t.Helper()
	if err := task.Put(context.Background(), recs); err != nil {
		t.Fatalf("put: %v", err)
	}
}

func mustFlush(t testing.TB, task *lake.Task) {
	t.Helper()
	if err := task.Flush(context.Background()); err != nil {
		t.Fatalf("flush: %v", err)
	}
}
