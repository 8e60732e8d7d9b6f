package hudi

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/spec"
	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/sink/lake"
)

const lakeTopic = "cdc_shop_orders"

// ordersV2 is ordersTable with an added nullable column.
func ordersV2() *schema.Table {
	t := ordersTable()
	t.Version = 2
	t.Columns = append(t.Columns, schema.Column{Name: "note", Kind: schema.KindString, Optional: true})
	return t
}

// lakeFeed produces change events of shop.orders over two queues with
// increasing sequences, and the model of the expected table (record key ->
// row in the newest schema).
type lakeFeed struct {
	seq     uint64
	offsets [2]int64
	log     []connect.SinkRecord
	model   model
	kg      *keyGen
}

func newLakeFeed(t *testing.T) *lakeFeed {
	kg, err := newKeyGen(ordersV2(), "", false)
	if err != nil {
		t.Fatal(err)
	}
	return &lakeFeed{model: model{}, kg: kg}
}

func (f *lakeFeed) emit(tbl *schema.Table, op connect.Op, before, after []any) connect.SinkRecord {
	f.seq++
	q := 0
	if row := after; row != nil || before != nil {
		if row == nil {
			row = before
		}
		q = int(row[0].(int64) % 2)
	}
	ev := &connect.ChangeEvent{Op: op, Before: before, After: after, Schema: tbl,
		Source: connect.SourceInfo{Database: tbl.Database, Table: tbl.Name, Sequence: f.seq, CommitTimeMs: 1_700_000_000_000 + int64(f.seq)}}
	rec := connect.SinkRecord{Event: ev, Queue: connect.QueueID{Topic: lakeTopic, BrokerName: "b0", Queue: q}, Offset: f.offsets[q]}
	f.offsets[q]++
	f.log = append(f.log, rec)
	return rec
}

// upsert emits version v of row id in tbl's layout, recording it in the
// model (padded to the newest schema).
func (f *lakeFeed) upsert(tbl *schema.Table, id int64, v int) connect.SinkRecord {
	row := orderRow(id, v)
	if len(tbl.Columns) > len(row) {
		row = append(row, "note-"+strings.Repeat("x", v))
	}
	k, _ := f.kg.recordKey(row)
	old, exists := f.model[k]
	f.model[k] = append(slices.Clone(row), make([]any, len(ordersV2().Columns)-len(row))...)
	if exists {
		return f.emit(tbl, connect.OpUpdate, old[:len(tbl.Columns)], row)
	}
	return f.emit(tbl, connect.OpCreate, nil, row)
}

func (f *lakeFeed) delete(tbl *schema.Table, id int64) connect.SinkRecord {
	k, _ := f.kg.recordKey(orderRow(id, 0))
	old := f.model[k]
	delete(f.model, k)
	return f.emit(tbl, connect.OpDelete, old[:len(tbl.Columns)], nil)
}

func (f *lakeFeed) truncate(tbl *schema.Table) connect.SinkRecord {
	f.model = model{}
	return f.emit(tbl, connect.OpTruncate, nil, nil)
}

func lakeConfig(dir, mode string) connect.Config {
	return connect.Config{
		spec.ConnectorClass:      lake.PluginName,
		spec.TopicNames:          lakeTopic,
		lake.KeyFormat:           lake.FormatHudi,
		lake.KeyWriteMode:        mode,
		lake.KeyWarehouse:        "file://" + filepath.Join(dir, "warehouse"),
		lake.KeyMaintenanceEvery: "0",
	}
}

func startLakeTask(t *testing.T, dir string, cfg connect.Config) *lake.Task {
	t.Helper()
	task := lake.NewTask()
	if err := task.Start(context.Background(), &connect.TaskContext{Connector: "c1", Config: cfg, DataDir: dir}); err != nil {
		t.Fatalf("starting task: %v", err)
	}
	t.Cleanup(func() { _ = task.Stop(context.Background()) })
	if _, ok := task.Format().(*Format); !ok {
		t.Fatalf("format is %T, want *hudi.Format", task.Format())
	}
	return task
}

var lakeQueues = []connect.QueueID{{Topic: lakeTopic, BrokerName: "b0", Queue: 0}, {Topic: lakeTopic, BrokerName: "b0", Queue: 1}}

// openLakeTask opens the task's queues and checks the resume offsets
// against want (-1: nothing committed).
func openLakeTask(t *testing.T, task *lake.Task, want [2]int64) {
	t.Helper()
	got, err := task.Open(context.Background(), lakeQueues)
	if err != nil {
		t.Fatalf("opening queues: %v", err)
	}
	for i, q := range lakeQueues {
		if got[q] != want[i] {
			t.Errorf("resume offset of queue %d = %d, want %d", i, got[q], want[i])
		}
	}
}

func putFlush(t *testing.T, task *lake.Task, recs []connect.SinkRecord) {
	t.Helper()
	ctx := context.Background()
	if err := task.Put(ctx, recs); err != nil {
		t.Fatalf("put: %v", err)
	}
	if err := task.Flush(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
}

// TestLakeTaskWritesHudi drives the lake-sink task with lake.format=hudi:
// commits, a restart that resumes from the committed offsets, a replay
// dropped by sequence, a crash losing buffered records, schema evolution
// and a truncate; the table is checked with ReadSnapshot and hudi-rs.
func TestLakeTaskWritesHudi(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := lakeConfig(dir, string(lake.ModeUpsert))
	v1, v2 := ordersTable(), ordersV2()
	f := newLakeFeed(t)

	task := startLakeTask(t, dir, cfg)
	openLakeTask(t, task, [2]int64{-1, -1})
	var recs []connect.SinkRecord
	for _, id := range ids(1, 60) {
		recs = append(recs, f.upsert(v1, id, 1))
	}
	putFlush(t, task, recs)
	recs = nil
	for _, id := range ids(40, 80) { // updates and inserts
		recs = append(recs, f.upsert(v1, id, 2))
	}
	for _, id := range ids(1, 10) { // deletes, some re-inserted in the same batch
		recs = append(recs, f.delete(v1, id))
		if id%3 == 0 {
			recs = append(recs, f.upsert(v1, id, 3))
		}
	}
	putFlush(t, task, recs)
	if err := task.Stop(ctx); err != nil {
		t.Fatal(err)
	}

	// Restart: resume from the committed offsets; replaying everything is
	// dropped by sequence and commits nothing.
	task = startLakeTask(t, dir, cfg)
	openLakeTask(t, task, f.offsets)
	base := filepath.Join(dir, "warehouse", "shop", "orders")
	commits := completedCommitCount(t, base)
	putFlush(t, task, f.log)
	if n := completedCommitCount(t, base); n != commits {
		t.Errorf("replaying committed events made %d commits, want none", n-commits)
	}

	// Buffered but never flushed: lost by the "crash", replayed after the
	// restart from the committed offsets.
	committedOffsets := f.offsets
	mark := len(f.log)
	recs = nil
	for _, id := range ids(70, 90) {
		recs = append(recs, f.upsert(v1, id, 4))
	}
	if err := task.Put(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if err := task.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	task = startLakeTask(t, dir, cfg)
	openLakeTask(t, task, committedOffsets)
	// The redelivery starts at the committed offsets; events already
	// committed (the whole log again) are dropped by sequence.
	putFlush(t, task, f.log)
	if len(f.log) == mark {
		t.Fatal("no new events were fed")
	}

	// Schema evolution: v2 rows mixed with v1 rows in one batch.
	recs = []connect.SinkRecord{f.upsert(v1, 85, 5)}
	for _, id := range ids(88, 100) {
		recs = append(recs, f.upsert(v2, id, 6))
	}
	recs = append(recs, f.delete(v2, 50))
	putFlush(t, task, recs)

	checkHudiTable(t, base, v2, f)

	// Truncate followed by new rows in the same batch.
	recs = []connect.SinkRecord{f.upsert(v2, 200, 7), f.truncate(v2)}
	for _, id := range ids(300, 305) {
		recs = append(recs, f.upsert(v2, id, 8))
	}
	putFlush(t, task, recs)
	checkHudiTable(t, base, v2, f)

	// The committed position is in the latest commit and the task reports it.
	b, err := OpenLocalBucket(base)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	w, err := Open(ctx, Options{Bucket: b, Table: v2})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	last, ok, err := w.LastCommitted(ctx)
	if err != nil || !ok {
		t.Fatalf("LastCommitted = %v, %v", ok, err)
	}
	pos, err := lake.DecodePosition(last.Meta[MetaOffsets], last.Meta[MetaSequences])
	if err != nil {
		t.Fatal(err)
	}
	for i, q := range lakeQueues {
		if pos.Offsets[lake.QueueKey(q)] != f.offsets[i] {
			t.Errorf("committed offset of %s = %d, want %d", lake.QueueKey(q), pos.Offsets[lake.QueueKey(q)], f.offsets[i])
		}
	}
	if got := max(pos.Sequences[lake.QueueKey(lakeQueues[0])], pos.Sequences[lake.QueueKey(lakeQueues[1])]); got != f.seq {
		t.Errorf("highest committed sequence = %d, want %d", got, f.seq)
	}
	if last.Meta[MetaConnector] != "c1" || last.Meta[MetaCommitID] == "" {
		t.Errorf("commit metadata = %v, want connector c1 and a commit id", last.Meta)
	}
	offs, err := task.Offsets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := offs["shop.orders"].(lake.Position); !ok || p.EncodeOffsets() != pos.EncodeOffsets() {
		t.Errorf("task reports %v, the table holds %s", offs["shop.orders"], pos.EncodeOffsets())
	}
}

// completedCommitCount counts the table's completed commit instants.
func completedCommitCount(t *testing.T, base string) int {
	t.Helper()
	b, err := OpenLocalBucket(base)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	tl, err := loadTimeline(context.Background(), newStorage(b, ""))
	if err != nil {
		t.Fatal(err)
	}
	return len(tl.completedCommits())
}

// checkHudiTable compares the table with the feed's model through this
// package's reader and through hudi-rs.
func checkHudiTable(t *testing.T, base string, tbl *schema.Table, f *lakeFeed) {
	t.Helper()
	b, err := OpenLocalBucket(base)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	seen := map[string]string{} // record key -> region
	err = ReadSnapshot(context.Background(), b, "", func(rec arrow.RecordBatch) error {
		keys := rec.Column(rec.Schema().FieldIndices(FieldRecordKey)[0]).(*array.String)
		regions := rec.Column(rec.Schema().FieldIndices("region")[0]).(*array.String)
		for i := 0; i < keys.Len(); i++ {
			if _, dup := seen[keys.Value(i)]; dup {
				t.Errorf("ReadSnapshot: key %s twice", keys.Value(i))
			}
			seen[keys.Value(i)] = regions.Value(i)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("ReadSnapshot: %v", err)
	}
	if len(seen) != len(f.model) {
		t.Errorf("ReadSnapshot read %d keys, the model has %d", len(seen), len(f.model))
	}
	for k, row := range f.model {
		if got, ok := seen[k]; !ok || got != row[1] {
			t.Errorf("ReadSnapshot: key %s region %q (present %v), want %v", k, got, ok, row[1])
		}
	}
	assertMatches(t, readWithHudiRS(t, base), tbl, f.kg, f.model)
}

// TestLakeTaskHudiRefusesChangelogs checks the terminal errors for append
// mode and for tables without a primary key.
func TestLakeTaskHudiRefusesChangelogs(t *testing.T) {
	ctx := context.Background()
	noKey := ordersTable()
	noKey.Name, noKey.PrimaryKey = "events", nil
	for _, tc := range []struct {
		name, mode string
		tbl        *schema.Table
	}{
		{"append mode", string(lake.ModeAppend), ordersTable()},
		{"no primary key", string(lake.ModeUpsert), noKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			task := startLakeTask(t, dir, lakeConfig(dir, tc.mode))
			openLakeTask(t, task, [2]int64{-1, -1})
			f := newLakeFeed(t)
			err := task.Put(ctx, []connect.SinkRecord{f.upsert(tc.tbl, 1, 1)})
			if err == nil {
				t.Fatal("put succeeded")
			}
			if !connect.IsTerminal(err) || !strings.Contains(err.Error(), "lake.format=hudi supports upsert tables with a primary key") {
				t.Errorf("error = %v (terminal %v), want a terminal error explaining Hudi's limits", err, connect.IsTerminal(err))
			}
		})
	}
}

func TestHudiFormatRegistered(t *testing.T) {
	if !slices.Contains(lake.Formats(), lake.FormatHudi) {
		t.Errorf("lake.Formats() = %v, want it to include %q", lake.Formats(), lake.FormatHudi)
	}
}

// TestLakeTaskHudiNamespaceAndConnectors checks iceberg.namespace (levels
// as directories) and that each connector resumes from its own commits
// when two connectors take turns on a table.
func TestLakeTaskHudiNamespaceAndConnectors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := lakeConfig(dir, string(lake.ModeUpsert))
	cfg[lake.KeyNamespace] = "lake.cdc"
	v1 := ordersTable()
	f := newLakeFeed(t)
	start := func(connector string) *lake.Task {
		task := lake.NewTask()
		if err := task.Start(ctx, &connect.TaskContext{Connector: connector, Config: cfg, DataDir: dir}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = task.Stop(ctx) })
		return task
	}

	c1 := start("c1")
	openLakeTask(t, c1, [2]int64{-1, -1})
	putFlush(t, c1, []connect.SinkRecord{f.upsert(v1, 1, 1), f.upsert(v1, 2, 1)})
	c1Offsets := f.offsets
	if err := c1.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(dir, "warehouse", "lake", "cdc", "orders")
	if n := completedCommitCount(t, base); n != 1 {
		t.Fatalf("table at %s has %d commits, want 1", base, n)
	}

	// c2 never committed: it starts from scratch, then commits once.
	c2 := start("c2")
	openLakeTask(t, c2, [2]int64{-1, -1})
	putFlush(t, c2, []connect.SinkRecord{f.upsert(v1, 3, 1)})
	if err := c2.Stop(ctx); err != nil {
		t.Fatal(err)
	}

	// c1 resumes from its own commit, behind c2's.
	c1 = start("c1")
	openLakeTask(t, c1, c1Offsets)
	checkHudiTable(t, base, v1, f)
}
