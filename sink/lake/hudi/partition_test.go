package hudi

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/sink/lake"
)

// put emits row (an image of tbl) as an upsert of its key and records it in
// the model, padded to the newest schema.
func (f *lakeFeed) put(tbl *schema.Table, row []any) connect.SinkRecord {
	k, _ := f.kg.recordKey(row)
	old, exists := f.model[k]
	f.model[k] = append(slices.Clone(row), make([]any, len(ordersV2().Columns)-len(row))...)
	if exists {
		return f.emit(tbl, connect.OpUpdate, old[:len(tbl.Columns)], row)
	}
	return f.emit(tbl, connect.OpCreate, nil, row)
}

// withRegion returns version v of row id with its region (a partition
// column) replaced.
func withRegion(id int64, v int, region any) []any {
	r := orderRow(id, v)
	r[1] = region
	return r
}

// TestLakeTaskHudiPartitionSpec drives the lake-sink task with
// partition.spec: one plain partition level, and two hive-style levels
// (iceberg.table.properties.hoodie.datasource.write.hive_style_partitioning).
// Records move between partitions (the key index spans them), get a null
// partition value, are updated in place and deleted, across a restart that
// rebuilds the index; the table is checked on disk (hoodie.properties,
// .hoodie_partition_metadata per partition, partitionToWriteStats per
// partition) and read by hudi-rs. A restart with another partition.spec
// keeps the table's layout.
func TestLakeTaskHudiPartitionSpec(t *testing.T) {
	for _, tc := range []struct {
		name, spec string
		hive       bool
		fields     string
		keyGen     string
		depth      int
	}{
		{"plain region", "region", false, "region", "org.apache.hudi.keygen.SimpleKeyGenerator", 1},
		{"hive region and active", "identity(region), active", true, "region,active", "org.apache.hudi.keygen.ComplexKeyGenerator", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			cfg := lakeConfig(dir, string(lake.ModeUpsert))
			cfg[lake.KeyPartitionSpec] = tc.spec
			if tc.hive {
				cfg[KeyHiveStylePartitioning] = "true"
			}
			v1 := ordersTable()
			f := newLakeFeed(t)
			kg, err := newKeyGen(v1, tc.fields, tc.hive)
			if err != nil {
				t.Fatal(err)
			}
			base := filepath.Join(dir, "warehouse", "shop", "orders")

			task := startLakeTask(t, dir, cfg)
			openLakeTask(t, task, [2]int64{-1, -1})
			var recs []connect.SinkRecord
			for _, id := range ids(1, 31) {
				recs = append(recs, f.upsert(v1, id, 1))
			}
			putFlush(t, task, recs)
			checkPartitionedTable(t, base, v1, kg, f, tc.fields, tc.keyGen, tc.hive, tc.depth)

			recs = nil
			for _, id := range ids(1, 6) { // move to a new partition
				recs = append(recs, f.put(v1, withRegion(id, 2, "sa")))
			}
			recs = append(recs, f.put(v1, withRegion(6, 2, nil)))   // to the default partition
			recs = append(recs, f.put(v1, withRegion(7, 2, "a/b"))) // escaped
			for _, id := range ids(10, 16) {                        // in place
				recs = append(recs, f.upsert(v1, id, 2))
			}
			for _, id := range ids(20, 23) {
				recs = append(recs, f.delete(v1, id))
			}
			putFlush(t, task, recs)
			checkPartitionedTable(t, base, v1, kg, f, tc.fields, tc.keyGen, tc.hive, tc.depth)
			if err := task.Stop(ctx); err != nil {
				t.Fatal(err)
			}

			// A restart rebuilds the index from every partition; a new
			// partition.spec (even one naming a column the table lacks)
			// does not change the existing table.
			cfg[lake.KeyPartitionSpec] = "country"
			task = startLakeTask(t, dir, cfg)
			openLakeTask(t, task, f.offsets)
			putFlush(t, task, []connect.SinkRecord{
				f.put(v1, withRegion(1, 3, "eu")), // back from "sa"
				f.delete(v1, 2),                   // deleted in "sa"
				f.put(v1, withRegion(6, 3, "us")), // out of the default partition
				f.upsert(v1, 40, 3),               // new
			})
			checkPartitionedTable(t, base, v1, kg, f, tc.fields, tc.keyGen, tc.hive, tc.depth)
		})
	}
}

// checkPartitionedTable checks a partitioned table written by the lake task:
// its properties, that every partition holding files has its
// .hoodie_partition_metadata with the partition depth, that the latest
// commit's partitionToWriteStats are keyed by the partitions of the files,
// and that hudi-rs reads the model with the right partition paths.
func checkPartitionedTable(t *testing.T, base string, tbl *schema.Table, kg *keyGen, f *lakeFeed, fields, keyGen string, hive bool, depth int) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(base, ".hoodie", "hoodie.properties"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := parseProperties(raw)
	if err != nil {
		t.Fatal(err)
	}
	hs := "false"
	if hive {
		hs = "true"
	}
	if p[PropPartitionFields] != fields || p[PropKeyGenerator] != keyGen || p[PropHiveStylePartition] != hs {
		t.Errorf("hoodie.properties: partition fields %q, key generator %q, hive style %q; want %q, %q, %s",
			p[PropPartitionFields], p[PropKeyGenerator], p[PropHiveStylePartition], fields, keyGen, hs)
	}
	if err := p.verifyChecksum(); err != nil {
		t.Error(err)
	}

	// Partitions that hold base files, and their metadata files.
	parts := map[string]bool{}
	err = filepath.WalkDir(base, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".hoodie" {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(d.Name(), ".parquet") {
			rel, err := filepath.Rel(base, filepath.Dir(path))
			if err != nil {
				return err
			}
			parts[filepath.ToSlash(rel)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for part := range parts {
		if strings.Count(part, "/")+1 != depth {
			t.Errorf("partition %q has %d levels, want %d", part, strings.Count(part, "/")+1, depth)
		}
		pm, err := os.ReadFile(filepath.Join(base, filepath.FromSlash(part), partitionMetaFile))
		if err != nil {
			t.Errorf("partition %s: %v", part, err)
			continue
		}
		pp, err := parseProperties(pm)
		if err != nil || pp["partitionDepth"] != strconv.Itoa(depth) || pp["commitTime"] == "" {
			t.Errorf("partition %s metadata %q (%v)", part, pm, err)
		}
	}

	// The latest commit: one entry per partition it wrote, paths inside it.
	b, err := OpenLocalBucket(base)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	st := newStorage(b, "")
	tl, err := loadTimeline(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	commits := tl.completedCommits()
	if len(commits) == 0 {
		t.Fatal("no completed commit")
	}
	cm, err := readCommitMetadata(context.Background(), st, commits[len(commits)-1])
	if err != nil {
		t.Fatal(err)
	}
	if len(cm.PartitionToWriteStats) == 0 {
		t.Error("the latest commit has no write stats")
	}
	for part, stats := range cm.PartitionToWriteStats {
		if !parts[part] {
			t.Errorf("commit writes partition %q, which holds no base file (partitions %v)", part, sortedKeys(parts))
		}
		for _, s := range stats {
			if s.PartitionPath == nil || *s.PartitionPath != part || s.Path == nil || !strings.HasPrefix(*s.Path, part+"/"+s.FileID+"_") {
				t.Errorf("partition %s: write stat path %s, partition %s", part, deref(s.Path), deref(s.PartitionPath))
			}
		}
	}

	res := readWithHudiRS(t, base)
	assertMatches(t, res, tbl, kg, f.model)
	seen := map[string]bool{}
	for _, r := range res.Rows {
		seen[deref(r[FieldPartitionPath])] = true
	}
	var want []string
	for _, row := range f.model {
		pp, _ := kg.partitionPath(row)
		if !slices.Contains(want, pp) {
			want = append(want, pp)
		}
	}
	sort.Strings(want)
	if got := sortedKeys(seen); !slices.Equal(got, want) {
		t.Errorf("hudi-rs read partitions %v, want %v", got, want)
	}
}

// TestHudiPartitionSpecRefused checks the terminal errors for partition
// transforms Hudi cannot express, a bad hive-style flag and a partition
// column a table does not have.
func TestHudiPartitionSpecRefused(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, spec, hive, want string
	}{
		{"bucket", "bucket(4,id)", "", "transform bucket(id) is not supported"},
		{"day", "region, day(born)", "", "transform day(born) is not supported"},
		{"hive flag", "region", "yes", "not true or false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := lakeConfig(dir, string(lake.ModeUpsert))
			cfg[lake.KeyPartitionSpec] = tc.spec
			if tc.hive != "" {
				cfg[KeyHiveStylePartitioning] = tc.hive
			}
			task := lake.NewTask()
			err := task.Start(ctx, &connect.TaskContext{Connector: "c1", Config: cfg, DataDir: dir})
			if err == nil {
				_ = task.Stop(ctx)
				t.Fatal("the task started")
			}
			if !connect.IsTerminal(err) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v (terminal %v), want a terminal error containing %q", err, connect.IsTerminal(err), tc.want)
			}
		})
	}

	t.Run("missing column", func(t *testing.T) {
		dir := t.TempDir()
		cfg := lakeConfig(dir, string(lake.ModeUpsert))
		cfg[lake.KeyPartitionSpec] = "country"
		task := startLakeTask(t, dir, cfg)
		openLakeTask(t, task, [2]int64{-1, -1})
		f := newLakeFeed(t)
		err := task.Put(ctx, []connect.SinkRecord{f.upsert(ordersTable(), 1, 1)})
		if err == nil {
			err = task.Flush(ctx)
		}
		if err == nil || !connect.IsTerminal(err) || !strings.Contains(err.Error(), `partition column "country"`) {
			t.Errorf("error = %v, want a terminal error naming the missing partition column", err)
		}
	})
}

// TestPartitionPathLevels checks nested partition paths: the levels in
// partition.spec order, each escaped, null and empty values as Hive's
// default partition, plain and hive style.
func TestPartitionPathLevels(t *testing.T) {
	tbl := &schema.Table{Database: "d", Name: "t", Columns: []schema.Column{
		{Name: "id", Kind: schema.KindInt64}, {Name: "country", Kind: schema.KindString, Optional: true},
		{Name: "day", Kind: schema.KindDate, Optional: true},
	}, PrimaryKey: []int{0}}
	cases := []struct {
		row        []any
		plain, hiv string
	}{
		{[]any{int64(1), "fr", int32(19000)}, "fr/2022-01-08", "country=fr/day=2022-01-08"},
		{[]any{int64(2), "a/b", nil}, "a%2Fb/__HIVE_DEFAULT_PARTITION__", "country=a%2Fb/day=__HIVE_DEFAULT_PARTITION__"},
		{[]any{int64(3), "", int32(0)}, "__HIVE_DEFAULT_PARTITION__/1970-01-01", "country=__HIVE_DEFAULT_PARTITION__/day=1970-01-01"},
	}
	for _, hive := range []bool{false, true} {
		kg, err := newKeyGen(tbl, "country, day", hive)
		if err != nil {
			t.Fatal(err)
		}
		if kg.partitionFields() != "country,day" || kg.keyGeneratorClass() != "org.apache.hudi.keygen.ComplexKeyGenerator" {
			t.Errorf("fields %q, key generator %s", kg.partitionFields(), kg.keyGeneratorClass())
		}
		for _, c := range cases {
			want := c.plain
			if hive {
				want = c.hiv
			}
			if got, err := kg.partitionPath(c.row); err != nil || got != want {
				t.Errorf("hive=%v %v: partition path %q (%v), want %q", hive, c.row, got, err, want)
			}
		}
		if _, err := kg.partitionPath([]any{int64(1)}); err == nil {
			t.Error("a short row gave a partition path")
		}
	}
	for _, bad := range []string{"country,country", "country,nope"} {
		if _, err := newKeyGen(tbl, bad, false); err == nil {
			t.Errorf("partition fields %q accepted", bad)
		}
	}
}

// TestWriterPartitionFieldsOfExistingTable checks that an existing table's
// partition fields win when AdoptPartitioning is set and are enforced
// otherwise.
func TestWriterPartitionFieldsOfExistingTable(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	tbl := ordersTable()
	w := openTestWriter(t, dir, Options{Table: tbl, PartitionField: "region, active", HiveStylePartitioning: true})
	if _, err := w.Commit(ctx, tbl, upserts(ids(1, 5), 1, model{}, w.keys), meta(1)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := OpenLocalBucket(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := Open(ctx, Options{Bucket: b, Table: tbl, PartitionField: "region"}); err == nil {
		t.Error("opening with other partition fields succeeded")
	}
	w2, err := Open(ctx, Options{Bucket: b, Table: tbl, PartitionField: "region,active"})
	if err != nil {
		t.Fatalf("the same fields without blanks: %v", err)
	}
	_ = w2.Close()
	w3, err := Open(ctx, Options{Bucket: b, Table: tbl, PartitionField: "qty", AdoptPartitioning: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w3.Close()
	if got := w3.PartitionFields(); got != "region,active" {
		t.Errorf("adopted partition fields %q, want region,active", got)
	}
	if pp, _ := w3.keys.partitionPath(orderRow(1, 1)); pp != "region=us/active=false" {
		t.Errorf("partition path %q, want the table's hive style region=us/active=false", pp)
	}
}
