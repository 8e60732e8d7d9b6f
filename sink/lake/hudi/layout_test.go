package hudi

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/binlake/binlake/schema"
)

// TestLayout checks the files a commit leaves, against what Hudi's Java
// writer leaves in the sample table.
func TestLayout(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	tbl := ordersTable()
	w := openTestWriter(t, dir, Options{Table: tbl, PartitionField: "region", HiveStylePartitioning: true})
	m := model{}
	st, err := w.Commit(ctx, tbl, upserts(ids(1, 31), 1, m, w.keys), meta(1))
	if err != nil {
		t.Fatal(err)
	}
	// hoodie.properties
	raw, err := os.ReadFile(filepath.Join(dir, ".hoodie", "hoodie.properties"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := parseProperties(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		PropTableName: "orders", PropDatabaseName: "shop", PropTableType: "COPY_ON_WRITE", PropTableVersion: "6",
		PropTimelineLayout: "1", PropRecordKeyFields: "id", PropPartitionFields: "region",
		PropKeyGenerator: "org.apache.hudi.keygen.SimpleKeyGenerator", PropHiveStylePartition: "true",
		PropChecksum: "714211571", // zlib.crc32(b"shop.orders") in Python
	}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("hoodie.properties %s = %q, want %q", k, p[k], v)
		}
	}
	// Timeline: requested (empty), inflight, commit.
	for _, suffix := range []string{".commit.requested", ".inflight", ".commit"} {
		fi, err := os.Stat(filepath.Join(dir, ".hoodie", st.Instant+suffix))
		if err != nil {
			t.Errorf("timeline file %s%s: %v", st.Instant, suffix, err)
		} else if suffix == ".commit.requested" && fi.Size() != 0 {
			t.Errorf("requested file has %d bytes, Hudi's is empty", fi.Size())
		}
	}
	raw, err = os.ReadFile(filepath.Join(dir, ".hoodie", st.Instant+".commit"))
	if err != nil {
		t.Fatal(err)
	}
	var cm CommitMetadata
	if err := json.Unmarshal(raw, &cm); err != nil {
		t.Fatal(err)
	}
	var parts []string
	var written int64
	for part, stats := range cm.PartitionToWriteStats {
		parts = append(parts, part)
		for _, s := range stats {
			written += s.NumWrites
			if s.Path == nil || !strings.HasPrefix(*s.Path, part+"/"+s.FileID+"_") || s.PrevCommit != "null" || s.FileSizeInBytes <= 0 {
				t.Errorf("write stat %+v", s)
			}
			// The footer of each base file.
			data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(*s.Path)))
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(data)) != s.FileSizeInBytes {
				t.Errorf("%s: stat says %d bytes, file has %d", *s.Path, s.FileSizeInBytes, len(data))
			}
			var avro struct {
				Fields []struct{ Name string } `json:"fields"`
			}
			if err := json.Unmarshal([]byte(footerValue(t, data, footerAvroSchema)), &avro); err != nil {
				t.Fatal(err)
			}
			if len(avro.Fields) != numMetaFields+len(tbl.Columns) || avro.Fields[0].Name != FieldCommitTime || avro.Fields[4].Name != FieldFileName || avro.Fields[5].Name != "id" {
				t.Errorf("parquet.avro.schema fields %v", avro.Fields)
			}
			keys, _, err := readBaseFileKeys(ctx, w.st, *s.Path, nil)
			if err != nil {
				t.Fatal(err)
			}
			sort.Strings(keys)
			if footerValue(t, data, footerMinRecordKey) != keys[0] || footerValue(t, data, footerMaxRecordKey) != keys[len(keys)-1] {
				t.Errorf("%s: min/max record key footers do not match keys %v", *s.Path, keys)
			}
			bf, err := parseBloomFilter(footerValue(t, data, footerBloomFilter), footerValue(t, data, footerBloomFilterType))
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range keys {
				if !bf[0].mightContain(k) {
					t.Errorf("bloom filter of %s lacks %s", *s.Path, k)
				}
			}
		}
	}
	sort.Strings(parts)
	if strings.Join(parts, ",") != "region=ap,region=eu,region=us" || written != 30 {
		t.Errorf("partitions %v with %d records, want 3 hive-style partitions with 30", parts, written)
	}
	if cm.ExtraMetadata["schema"] == "" || cm.ExtraMetadata[MetaCommitID] != "commit-1" || cm.OperationType != "UPSERT" {
		t.Errorf("commit extra metadata %v", cm.ExtraMetadata)
	}
	var sc schema.Table
	if err := json.Unmarshal([]byte(cm.ExtraMetadata[MetaSchema]), &sc); err != nil || !sc.SameColumns(tbl) {
		t.Errorf("binlake.schema does not round-trip: %v", err)
	}
	pm, err := os.ReadFile(filepath.Join(dir, "region=eu", ".hoodie_partition_metadata"))
	if err != nil {
		t.Fatal(err)
	}
	pp, err := parseProperties(pm)
	if err != nil || pp["commitTime"] != st.Instant || pp["partitionDepth"] != "1" {
		t.Errorf("partition metadata %q", pm)
	}
}

// TestCleaningAndSmallFiles checks that old file versions are cleaned down
// to RetainFileVersions and that inserts fill small file groups before new
// ones are created.
func TestCleaningAndSmallFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	tbl := ordersTable()
	opts := Options{Table: tbl, RetainFileVersions: 2, MaxFileBytes: 64 << 10, SmallFileBytes: 32 << 10}
	w := openTestWriter(t, dir, opts)
	m := model{}
	if _, err := w.Commit(ctx, tbl, upserts(ids(1, 11), 1, m, w.keys), meta(1)); err != nil {
		t.Fatal(err)
	}
	if n := len(w.groups); n != 1 {
		t.Fatalf("%d file groups after 10 inserts", n)
	}
	// Small inserts go into the one small file group.
	for c := 2; c <= 5; c++ {
		st, err := w.Commit(ctx, tbl, upserts(ids(int64(c*10+1), int64(c*10+11)), c, m, w.keys), meta(c))
		if err != nil {
			t.Fatal(err)
		}
		if st.FilesWritten != 1 || len(w.groups) != 1 {
			t.Errorf("commit %d wrote %d files, table has %d groups; want 1 and 1", c, st.FilesWritten, len(w.groups))
		}
		if c >= 3 && st.FilesCleaned != 1 {
			t.Errorf("commit %d cleaned %d files, want 1", c, st.FilesCleaned)
		}
	}
	var parquet []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if strings.HasSuffix(p, ".parquet") {
			parquet = append(parquet, p)
		}
		return err
	})
	if len(parquet) != 2 {
		t.Errorf("%d base files on disk, want 2 retained versions: %v", len(parquet), parquet)
	}
	assertMatches(t, readWithHudiRS(t, dir), tbl, w.keys, m)

	// Many inserts: new file groups, each bounded by MaxFileBytes.
	if _, err := w.Commit(ctx, tbl, upserts(ids(1000, 4000), 1, m, w.keys), meta(6)); err != nil {
		t.Fatal(err)
	}
	files, err := SnapshotFiles(ctx, w.opts.Bucket, "")
	if err == nil {
		t.Log(files)
	}
	if len(w.groups) < 3 {
		t.Errorf("3000 inserts with 64 KiB files made only %d file groups", len(w.groups))
	}
	for _, g := range w.groups {
		if g.latest().size > 2*opts.MaxFileBytes {
			t.Errorf("file group %s is %d bytes, far above the %d target", g.fileID, g.latest().size, opts.MaxFileBytes)
		}
	}
	assertMatches(t, readWithHudiRS(t, dir), tbl, w.keys, m)
}

// TestCompositeKeyAndPartitionMove covers a two-column key and an update
// that moves a record to another partition.
func TestCompositeKeyAndPartitionMove(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	tbl := &schema.Table{Database: "d", Name: "kv", Version: 1, Columns: []schema.Column{
		{Name: "a", Kind: schema.KindInt32}, {Name: "b", Kind: schema.KindString}, {Name: "part", Kind: schema.KindDate, Optional: true},
		{Name: "v", Kind: schema.KindString, Optional: true},
	}, PrimaryKey: []int{0, 1}}
	w := openTestWriter(t, dir, Options{Table: tbl, PartitionField: "part"})
	m := model{}
	put := func(a int32, b string, part any, v string) Change {
		r := []any{a, b, part, v}
		k, _ := w.keys.recordKey(r)
		m[k] = r
		return Change{Row: r}
	}
	if _, err := w.Commit(ctx, tbl, []Change{put(1, "x", int32(19000), "v1"), put(1, "y", int32(19000), "v1"), put(2, "x", nil, "v1")}, meta(1)); err != nil {
		t.Fatal(err)
	}
	if k, _ := w.keys.recordKey([]any{int32(1), "x", nil, nil}); k != "a:1,b:x" {
		t.Errorf("composite key %q, want a:1,b:x", k)
	}
	if pp, _ := w.keys.partitionPath([]any{int32(1), "x", int32(19000), nil}); pp != "2022-01-08" {
		t.Errorf("date partition %q, want 2022-01-08", pp)
	}
	st, err := w.Commit(ctx, tbl, []Change{put(1, "x", int32(19001), "v2")}, meta(2))
	if err != nil {
		t.Fatal(err)
	}
	if st.Inserts != 1 || st.Deletes != 0 || st.FilesWritten != 2 {
		t.Errorf("moving a record: stats %+v, want 1 insert into a new partition and a rewrite of the old file", st)
	}
	res := readWithHudiRS(t, dir)
	assertMatches(t, res, tbl, w.keys, m)
	if w.keys.keyGeneratorClass() != "org.apache.hudi.keygen.ComplexKeyGenerator" {
		t.Errorf("key generator %s", w.keys.keyGeneratorClass())
	}
}

func TestRecordKeysAndPartitionPaths(t *testing.T) {
	dec := func(s string) schema.Decimal {
		d, err := schema.ParseDecimal(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	cases := []struct {
		name    string
		col     schema.Column
		v       any
		key     string
		part    string
		hivePrt string
	}{
		{"int", schema.Column{Name: "k", Kind: schema.KindInt64}, int64(-42), "-42", "-42", "k=-42"},
		{"string", schema.Column{Name: "k", Kind: schema.KindString}, "a/b:c", "a/b:c", "a%2Fb%3Ac", "k=a%2Fb%3Ac"},
		{"empty string", schema.Column{Name: "k", Kind: schema.KindString}, "", "__empty__", "__HIVE_DEFAULT_PARTITION__", "k=__HIVE_DEFAULT_PARTITION__"},
		{"null", schema.Column{Name: "k", Kind: schema.KindString, Optional: true}, nil, "__null__", "__HIVE_DEFAULT_PARTITION__", "k=__HIVE_DEFAULT_PARTITION__"},
		{"decimal rescaled", schema.Column{Name: "k", Kind: schema.KindDecimal, Precision: 10, Scale: 2}, dec("1.5"), "1.50", "1.50", "k=1.50"},
		{"date", schema.Column{Name: "k", Kind: schema.KindDate}, int32(19000), "2022-01-08", "2022-01-08", "k=2022-01-08"},
		{"bool", schema.Column{Name: "k", Kind: schema.KindBool}, true, "true", "true", "k=true"},
		{"bytes", schema.Column{Name: "k", Kind: schema.KindBytes}, []byte{0xff, 0}, "/wA=", "%2FwA%3D", "k=%2FwA%3D"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tbl := &schema.Table{Database: "d", Name: "t", Columns: []schema.Column{tc.col}, PrimaryKey: []int{0}}
			for _, hive := range []bool{false, true} {
				kg, err := newKeyGen(tbl, "k", hive)
				if err != nil {
					t.Fatal(err)
				}
				k, err := kg.recordKey([]any{tc.v})
				if err != nil || k != tc.key {
					t.Errorf("record key %q, %v; want %q", k, err, tc.key)
				}
				p, err := kg.partitionPath([]any{tc.v})
				want := tc.part
				if hive {
					want = tc.hivePrt
				}
				if err != nil || p != want {
					t.Errorf("hive=%v: partition path %q, %v; want %q", hive, p, err, want)
				}
			}
		})
	}
	if _, err := newKeyGen(&schema.Table{Database: "d", Name: "t", Columns: []schema.Column{{Name: "a", Kind: schema.KindInt32}}}, "", false); err == nil {
		t.Error("a table without primary key was accepted")
	}
	kg, _ := newKeyGen(&schema.Table{Database: "d", Name: "t", Columns: []schema.Column{{Name: "a", Kind: schema.KindInt32}}, PrimaryKey: []int{0}}, "", false)
	if _, err := kg.recordKey(nil); err == nil {
		t.Error("a short row gave a key")
	}
}
