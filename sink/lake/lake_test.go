package lake

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"testing"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/spec"
	"github.com/binlake/binlake/schema"
)

func TestParsePartitionSpec(t *testing.T) {
	tests := []struct {
		in      string
		want    []PartitionField
		wantErr bool
	}{
		{in: "", want: nil},
		{in: "bucket(16,id)", want: []PartitionField{{Transform: "bucket", Param: 16, Column: "id"}}},
		{in: " bucket( 16 , id ), day(created_at),region", want: []PartitionField{
			{Transform: "bucket", Param: 16, Column: "id"}, {Transform: "day", Column: "created_at"}, {Transform: "identity", Column: "region"}}},
		{in: "truncate(4,code)", want: []PartitionField{{Transform: "truncate", Param: 4, Column: "code"}}},
		{in: "bucket(0,id)", wantErr: true},
		{in: "bucket(id)", wantErr: true},
		{in: "hash(id)", wantErr: true},
		{in: "day(a,b)", wantErr: true},
		{in: "bucket(16,id", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParsePartitionSpec(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParsePartitionSpec(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParsePartitionSpec(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestPositionRoundTrip(t *testing.T) {
	p := Position{Offsets: map[string]int64{"t:b:1": 42, "t:b:0": 7}, Sequences: map[string]uint64{"t:b:1": 1 << 63, "t:b:0": 3}}
	if got := p.EncodeOffsets(); got != `{"t:b:0":7,"t:b:1":42}` {
		t.Errorf("EncodeOffsets = %s", got)
	}
	back, err := DecodePosition(p.EncodeOffsets(), p.EncodeSequences())
	if err != nil || !reflect.DeepEqual(back, p) {
		t.Errorf("DecodePosition = %+v, %v; want %+v", back, err, p)
	}
	if _, err := DecodePosition("{bad", ""); err == nil {
		t.Error("DecodePosition accepted bad JSON")
	}
}

func TestTaskConfigsAssignsWholeTopics(t *testing.T) {
	c := &Connector{}
	cfg := connect.Config{spec.TopicNames: "a,b,c,d,e", KeyWriteMode: "upsert"}
	got, err := c.TaskConfigs(context.Background(), cfg, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0][spec.TopicNames] != "a,c,e" || got[1][spec.TopicNames] != "b,d" || got[1][KeyWriteMode] != "upsert" {
		t.Errorf("TaskConfigs = %v", got)
	}
	got, _ = c.TaskConfigs(context.Background(), cfg, 10)
	if len(got) != 5 {
		t.Errorf("TaskConfigs with more tasks than topics = %d configs, want 5", len(got))
	}
	if _, err := c.TaskConfigs(context.Background(), connect.Config{}, 1); err == nil {
		t.Error("TaskConfigs without topics succeeded")
	}
}

func TestSpecChecks(t *testing.T) {
	if err := Spec.Check(); err != nil {
		t.Fatalf("spec: %v", err)
	}
	errs := Spec.Validate(connect.Config{KeyPartitionSpec: "hash(id)", KeyTableNameFormat: "t"})
	fields := map[string]bool{}
	for _, e := range errs {
		fields[e.Field] = true
	}
	for _, f := range []string{KeyPartitionSpec, KeyTableNameFormat} {
		if !fields[f] {
			t.Errorf("Validate did not flag %s: %v", f, errs)
		}
	}
}

// TestValidateConfig covers the checks across keys: a rest catalog needs a URI and may take a warehouse name; the
// sql catalog and Hudi need a warehouse location.
func TestValidateConfig(t *testing.T) {
	cases := []struct {
		cfg  connect.Config
		want []string // fields flagged
	}{
		{connect.Config{}, nil},
		{connect.Config{KeyWarehouse: "s3://b/lake"}, nil},
		{connect.Config{KeyWarehouse: "/var/lake"}, nil},
		{connect.Config{KeyWarehouse: "hdfs://x"}, []string{KeyWarehouse}},
		{connect.Config{KeyWarehouse: "analytics"}, []string{KeyWarehouse}},
		{connect.Config{KeyFormat: FormatHudi, KeyCatalogType: CatalogTypeREST, KeyWarehouse: "analytics"}, []string{KeyWarehouse}},
		{connect.Config{KeyCatalogType: CatalogTypeREST}, []string{KeyCatalogURI}},
		{connect.Config{KeyCatalogType: CatalogTypeREST, KeyCatalogURI: " "}, []string{KeyCatalogURI}},
		{connect.Config{KeyCatalogType: CatalogTypeREST, KeyCatalogURI: "http://127.0.0.1:8181", KeyWarehouse: "analytics"}, nil},
		{connect.Config{KeyCatalogType: CatalogTypeREST, KeyCatalogURI: "http://127.0.0.1:8181", KeyWarehouse: "s3://b/w"}, nil},
		{connect.Config{KeyFormat: FormatHudi, KeyPartitionSpec: "region, identity(day)"}, nil},
		{connect.Config{KeyFormat: FormatHudi, KeyPartitionSpec: "bucket(16,id)"}, []string{KeyPartitionSpec}},
		{connect.Config{KeyPartitionSpec: "bucket(16,id)"}, nil}, // Iceberg takes any transform
	}
	for _, c := range cases {
		var got []string
		for _, e := range ValidateConfig(Spec.WithDefaults(c.cfg)) {
			got = append(got, e.Field)
			if e.Message == "" {
				t.Errorf("%v: empty message for %s", c.cfg, e.Field)
			}
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%v: flagged %v, want %v", c.cfg, got, c.want)
		}
	}
}

func kvTable(name string) *schema.Table {
	return &schema.Table{Database: "db", Name: name, Version: 1, PrimaryKey: []int{0}, Columns: []schema.Column{
		{Name: "k", Kind: schema.KindInt64}, {Name: "v", Kind: schema.KindString, Optional: true},
	}}
}

func TestBufferKeepsLastChangePerKey(t *testing.T) {
	tbl := kvTable("t")
	b := newTableBuffer(ModeUpsert)
	ev := func(op connect.Op, seq uint64, before, after []any) *connect.ChangeEvent {
		return &connect.ChangeEvent{Op: op, Before: before, After: after, Schema: tbl, Source: connect.SourceInfo{Sequence: seq}}
	}
	b.add(ev(connect.OpCreate, 1, nil, []any{int64(1), "a"}), "q", 0)
	b.add(ev(connect.OpDelete, 2, []any{int64(1), "a"}, nil), "q", 1)
	b.add(ev(connect.OpCreate, 3, nil, []any{int64(1), "b"}), "q", 2) // re-insert wins
	b.add(ev(connect.OpCreate, 4, nil, []any{int64(2), "x"}), "q", 3)
	b.add(ev(connect.OpDelete, 5, []any{int64(2), "x"}, nil), "q", 4) // deleted at the end
	b.add(ev(connect.OpUpdate, 6, []any{int64(3), "p"}, []any{int64(4), "p"}), "q", 5)
	got := b.batch()
	keys := func(rows []Row) []string {
		var out []string
		for _, r := range rows {
			out = append(out, fmt.Sprint(r.Values))
		}
		sort.Strings(out)
		return out
	}
	if want := []string{"[1 b]", "[4 p]"}; !slices.Equal(keys(got.Upserts), want) {
		t.Errorf("upserts = %v, want %v", keys(got.Upserts), want)
	}
	if want := []string{"[1 a]", "[2 x]", "[3 p]", "[4 p]"}; !slices.Equal(keys(got.Deletes), want) {
		t.Errorf("deletes = %v, want %v (every key touched, incl. the old key of a key change)", keys(got.Deletes), want)
	}
	if qp := b.queues["q"]; qp.first != 0 || qp.next != 6 || qp.maxSeq != 6 {
		t.Errorf("queue position = %+v", *qp)
	}
}

// memFormat is an in-memory format: tables keep committed rows by key and
// the position; failNext makes the next Write of a table fail (a crash).
type memFormat struct {
	tables   map[string]*memTable
	failNext map[string]bool
}

type memTable struct {
	f     *memFormat
	name  string
	rows  map[string][]any
	pos   Position
	ok    bool
	count int
}

func (f *memFormat) Table(_ context.Context, t *schema.Table, _ Mode) (TableWriter, error) {
	n := t.QualifiedName()
	if f.tables[n] == nil {
		f.tables[n] = &memTable{f: f, name: n, rows: map[string][]any{}}
	}
	return f.tables[n], nil
}

func (f *memFormat) Committed(context.Context) (map[string]Position, error) {
	out := map[string]Position{}
	for n, t := range f.tables {
		if t.ok {
			out[n] = t.pos.Clone()
		}
	}
	return out, nil
}

func (f *memFormat) Close() error { return nil }

func (m *memTable) Committed(context.Context) (Position, bool, error) {
	return m.pos.Clone(), m.ok, nil
}
func (m *memTable) Maintain(context.Context) error { return nil }

// Mode is always upsert.
func (m *memTable) Mode() Mode { return ModeUpsert }
func (m *memTable) Write(_ context.Context, b *Batch) error {
	if m.f.failNext[m.name] {
		m.f.failNext[m.name] = false
		return errors.New("crash")
	}
	for _, r := range b.Deletes {
		delete(m.rows, connect.MessageKey(r.Schema, r.Values))
	}
	for _, r := range b.Upserts {
		m.rows[connect.MessageKey(r.Schema, r.Values)] = r.Values
	}
	m.pos, m.ok = b.Position.Clone(), true
	m.count++
	return nil
}

// TestSharedQueueCrashBetweenTables: two tables share one queue (one topic
// for all tables); table a commits, the task crashes before table b
// commits. Resuming from the offset Open returns must re-read b's events
// (nothing lost) and drop a's committed ones (nothing duplicated).
func TestSharedQueueCrashBetweenTables(t *testing.T) {
	ctx := context.Background()
	fm := &memFormat{tables: map[string]*memTable{}, failNext: map[string]bool{}}
	start := func() *Task {
		task := NewTask()
		task.newFormat = func(context.Context, *connect.TaskContext) (Format, error) { return fm, nil }
		if err := task.Start(ctx, &connect.TaskContext{Connector: "c", Config: connect.Config{}}); err != nil {
			t.Fatal(err)
		}
		return task
	}
	q := connect.QueueID{Topic: "all", BrokerName: "b", Queue: 0}
	tabs := []*schema.Table{kvTable("a"), kvTable("b")}
	var log []connect.SinkRecord
	want := map[string]map[string]string{"db.a": {}, "db.b": {}}
	for i := range 20 {
		tbl := tabs[i%2]
		row := []any{int64(i % 5), fmt.Sprint("v", i)}
		log = append(log, connect.SinkRecord{Queue: q, Offset: int64(i), Event: &connect.ChangeEvent{
			Op: connect.OpCreate, After: row, Schema: tbl, Source: connect.SourceInfo{Sequence: uint64(i + 1)}}})
		want[tbl.QualifiedName()][fmt.Sprint(row[0])] = row[1].(string)
	}
	task := start()
	if _, err := task.Open(ctx, []connect.QueueID{q}); err != nil {
		t.Fatal(err)
	}
	if err := task.Put(ctx, log[:10]); err != nil {
		t.Fatal(err)
	}
	if err := task.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	fm.failNext["db.b"] = true
	if err := task.Put(ctx, log[10:]); err != nil {
		t.Fatal(err)
	}
	if err := task.Flush(ctx); err == nil {
		t.Fatal("flush succeeded despite the crash of table b")
	}
	if err := task.Put(ctx, log[:1]); err == nil {
		t.Error("Put after a failed commit succeeded; the task must stop until restarted")
	}
	commitsA := fm.tables["db.a"].count

	task2 := start()
	offs, err := task2.Open(ctx, []connect.QueueID{q})
	if err != nil {
		t.Fatal(err)
	}
	if offs[q] != 11 {
		t.Errorf("resume offset = %d, want 11 (b's first uncommitted event)", offs[q])
	}
	if err := task2.Put(ctx, log[offs[q]:]); err != nil {
		t.Fatal(err)
	}
	if err := task2.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if fm.tables["db.a"].count != commitsA {
		t.Errorf("table a got %d more commits from a replay of committed events", fm.tables["db.a"].count-commitsA)
	}
	for n, rows := range want {
		got := map[string]string{}
		for k, r := range fm.tables[n].rows {
			got[k] = r[1].(string)
		}
		if !reflect.DeepEqual(got, rows) {
			t.Errorf("table %s = %v, want %v", n, got, rows)
		}
	}
}

func TestCheckRow(t *testing.T) {
	tbl := kvTable("t")
	if err := CheckRow(tbl, []any{int64(1), nil}); err != nil {
		t.Errorf("valid row: %v", err)
	}
	for _, bad := range [][]any{{int32(1), nil}, {nil, "x"}, {int64(1)}, {int64(1), 5}} {
		if err := CheckRow(tbl, bad); err == nil {
			t.Errorf("CheckRow(%v) accepted a bad row", bad)
		}
	}
}
