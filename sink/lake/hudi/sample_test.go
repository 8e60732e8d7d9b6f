package hudi

import (
	"archive/zip"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// unzipSample extracts testdata/v6_simplekeygen_nonhivestyle.zip (a table
// written by Hudi's Java writer) and returns the table directory.
func unzipSample(t *testing.T) string {
	t.Helper()
	zr, err := zip.OpenReader("testdata/v6_simplekeygen_nonhivestyle.zip")
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	dir := t.TempDir()
	for _, f := range zr.File {
		if strings.HasPrefix(f.Name, "__MACOSX") || strings.HasSuffix(f.Name, "/") {
			continue
		}
		dst := filepath.Join(dir, filepath.FromSlash(f.Name))
		if !strings.HasPrefix(dst, dir) {
			t.Fatalf("bad zip entry %q", f.Name)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.Create(dst)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, rc); err != nil {
			t.Fatal(err)
		}
		rc.Close()
		out.Close()
	}
	return filepath.Join(dir, "v6_simplekeygen_nonhivestyle")
}

func TestTableChecksum(t *testing.T) {
	cases := []struct {
		db, table string
		want      int64
	}{
		// The value Hudi's Java writer stored in the sample table.
		{"default", "v6_simplekeygen_nonhivestyle", 616688896},
		// No database: Hudi hashes ".<table>".
		{"", "t", 0x1db6aef6}, // zlib.crc32(b".t") in Python
	}
	for _, tc := range cases {
		if got := TableChecksum(tc.db, tc.table); got != tc.want {
			t.Errorf("TableChecksum(%q, %q) = %d, want %d", tc.db, tc.table, got, tc.want)
		}
	}
}

func TestSampleProperties(t *testing.T) {
	dir := unzipSample(t)
	raw, err := os.ReadFile(filepath.Join(dir, ".hoodie", "hoodie.properties"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := parseProperties(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.verifyChecksum(); err != nil {
		t.Errorf("checksum of the sample: %v", err)
	}
	if p[PropChecksum] != "616688896" || p[PropTableName] != "v6_simplekeygen_nonhivestyle" || p[PropTableVersion] != "6" {
		t.Errorf("parsed properties %v", p)
	}
	var sc map[string]any
	if err := json.Unmarshal([]byte(p[PropCreateSchema]), &sc); err != nil {
		t.Errorf("create schema (with \\: escapes) does not unescape to JSON: %v", err)
	}
	// Our encoding parses back to the same map, and Java-escapes ':'.
	enc := p.encode(time.Date(2024, 4, 18, 22, 27, 38, 0, time.UTC))
	if !strings.Contains(string(enc), `{"type"\:"record"`) {
		t.Errorf("encoded schema is not escaped like java.util.Properties: %.200s", enc)
	}
	back, err := parseProperties(enc)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != len(p) {
		t.Errorf("round trip has %d keys, want %d", len(back), len(p))
	}
	for k, v := range p {
		if back[k] != v {
			t.Errorf("round trip of %s: %q, want %q", k, back[k], v)
		}
	}
	p[PropTableName] = "other"
	if err := p.verifyChecksum(); err == nil {
		t.Error("a wrong checksum was accepted")
	}
}

func TestPropertiesEscapes(t *testing.T) {
	cases := map[string]string{
		"plain":        "abc",
		"specials":     `a=b:c#d!e\f`,
		"leading sp":   " x y",
		"unicode":      "zürich €",
		"astral":       "𝄞",
		"control":      "a\tb\nc",
		"empty":        "",
		"trailing esc": `x\`,
	}
	p := properties{}
	for k, v := range cases {
		p["k."+strings.ReplaceAll(k, " ", "_")] = v
	}
	back, err := parseProperties(p.encode(time.Unix(0, 0)))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range p {
		if back[k] != v {
			t.Errorf("%s: got %q, want %q", k, back[k], v)
		}
	}
}

// TestReadSampleTable reads the table written by Hudi's Java writer with
// this package's reader code: timeline, file groups, footers, rows.
func TestReadSampleTable(t *testing.T) {
	ctx := context.Background()
	dir := unzipSample(t)
	b, err := OpenLocalBucket(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	st := newStorage(b, "")
	tl, err := loadTimeline(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	var commits []string
	for _, in := range tl.completedCommits() {
		commits = append(commits, in.Time)
	}
	if strings.Join(commits, ",") != "20240418172802262,20240418172804498" || len(tl.pendingCommits()) != 0 {
		t.Errorf("timeline %v", tl)
	}
	cm, err := readCommitMetadata(ctx, st, tl.completedCommits()[1])
	if err != nil {
		t.Fatal(err)
	}
	ws := cm.PartitionToWriteStats["10"]
	if len(ws) != 1 || ws[0].PrevCommit != "20240418172802262" || ws[0].NumUpdateWrites != 1 || ws[0].NumWrites != 2 || !strings.Contains(cm.ExtraMetadata["schema"], "decimalField") {
		t.Errorf("commit metadata of partition 10: %+v", ws)
	}
	files, err := SnapshotFiles(ctx, b, "")
	if err != nil {
		t.Fatal(err)
	}
	wantFiles := []string{
		"10/97de74b1-2a8e-4bb7-874c-0a74e1f42a77-0_0-119-166_20240418172804498.parquet",
		"20/76e0556b-390d-4249-b7ad-9059e2bc2cbd-0_0-98-141_20240418172802262.parquet",
		"30/6db57019-98ee-480e-8eb1-fb3de48e1c24-0_1-119-167_20240418172804498.parquet",
	}
	if len(files) != len(wantFiles) {
		t.Fatalf("snapshot files %+v, want %v", files, wantFiles)
	}
	for i, f := range files {
		if f.Path != wantFiles[i] {
			t.Errorf("snapshot file %d = %s, want %s", i, f.Path, wantFiles[i])
		}
	}
	listing, err := listTable(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"10", "20", "30"} {
		if !listing.partitions[p] {
			t.Errorf("partition %s metadata not found", p)
		}
	}
	keys, footer, err := readBaseFileKeys(ctx, st, files[0].Path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(keys, ",") != "1,3" || footer[footerMinRecordKey] != "1" || footer[footerMaxRecordKey] != "3" || footer[footerBloomFilterType] != "DYNAMIC_V0" {
		t.Errorf("keys %v, footer %v", keys, footer)
	}
	names := map[string]string{}
	commitOf := map[string]string{}
	err = ReadSnapshot(ctx, b, "", func(rec arrow.RecordBatch) error {
		sc := rec.Schema()
		if sc.Field(0).Name != FieldCommitTime || sc.Field(4).Name != FieldFileName {
			t.Errorf("meta columns not first: %v", sc)
		}
		k := rec.Column(sc.FieldIndices(FieldRecordKey)[0]).(*array.String)
		ct := rec.Column(0).(*array.String)
		n := rec.Column(sc.FieldIndices("name")[0]).(*array.String)
		for i := 0; i < int(rec.NumRows()); i++ {
			names[k.Value(i)] = n.Value(i)
			commitOf[k.Value(i)] = ct.Value(i)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]string{
		"1": {"Alice", "20240418172804498"}, "2": {"Bob", "20240418172802262"},
		"3": {"Carol", "20240418172802262"}, "4": {"Diana", "20240418172804498"},
	}
	if len(names) != len(want) {
		t.Errorf("read %d keys, want %d: %v", len(names), len(want), names)
	}
	for k, w := range want {
		if names[k] != w[0] || commitOf[k] != w[1] {
			t.Errorf("key %s: name %q commit %q, want %q %q", k, names[k], commitOf[k], w[0], w[1])
		}
	}
}
