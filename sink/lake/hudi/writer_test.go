package hudi

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/binlake/binlake/schema"
)

// ordersTable is the test table: every kind the writer maps.
func ordersTable() *schema.Table {
	return &schema.Table{
		Database: "shop", Name: "orders", Version: 1,
		Columns: []schema.Column{
			{Name: "id", Kind: schema.KindInt64},
			{Name: "region", Kind: schema.KindString, Optional: true},
			{Name: "qty", Kind: schema.KindInt32, Optional: true},
			{Name: "price", Kind: schema.KindDecimal, Precision: 10, Scale: 2, Optional: true},
			{Name: "score", Kind: schema.KindFloat32, Optional: true},
			{Name: "ratio", Kind: schema.KindFloat64, Optional: true},
			{Name: "active", Kind: schema.KindBool, Optional: true},
			{Name: "born", Kind: schema.KindDate, Optional: true},
			{Name: "at", Kind: schema.KindTimestamp, Optional: true},
			{Name: "at_utc", Kind: schema.KindTimestampTZ, Optional: true},
			{Name: "tod", Kind: schema.KindTime, Optional: true},
			{Name: "blob", Kind: schema.KindBytes, Optional: true},
		},
		PrimaryKey: []int{0},
	}
}

var regions = []string{"eu", "us", "ap"}

// orderRow builds a row of ordersTable for id in version v of its content.
func orderRow(id int64, v int) []any {
	r := []any{
		id,
		regions[id%3],
		int32(id*10 + int64(v)),
		schema.Decimal{Unscaled: big.NewInt(id*100 + int64(v)), Scale: 2},
		float32(id) + 0.5,
		float64(id)/4 + float64(v),
		id%2 == 0,
		int32(19000 + id),
		int64(1_700_000_000_000_000 + id*1_000_000 + int64(v)),
		int64(1_600_000_000_000_000 + id),
		int64(3_600_000_000 + id),
		[]byte(fmt.Sprintf("b%d-%d", id, v)),
	}
	if id%7 == 0 { // some nulls
		r[2], r[5], r[11] = nil, nil, nil
	}
	return r
}

func upserts(ids []int64, v int, m model, kg *keyGen) []Change {
	out := make([]Change, 0, len(ids))
	for _, id := range ids {
		r := orderRow(id, v)
		out = append(out, Change{Row: r})
		k, _ := kg.recordKey(r)
		m[k] = r
	}
	return out
}

func deletes(ids []int64, m model, kg *keyGen) []Change {
	out := make([]Change, 0, len(ids))
	for _, id := range ids {
		r := make([]any, len(ordersTable().Columns))
		r[0] = id
		out = append(out, Change{Delete: true, Row: r})
		k, _ := kg.recordKey(r)
		delete(m, k)
	}
	return out
}

func ids(from, to int64) []int64 {
	var out []int64
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

func meta(n int) map[string]string {
	return map[string]string{
		MetaConnector: "c1",
		MetaCommitID:  fmt.Sprintf("commit-%d", n),
		MetaOffsets:   fmt.Sprintf(`{"0":%d,"1":%d}`, n*10, n*20),
		MetaSequences: fmt.Sprintf(`{"0":%d}`, n*100),
	}
}

// TestWriterReadByHudiRS writes a table over several commits (inserts,
// updates, deletes, a crash, reopen) and checks after each step that
// hudi-rs reads exactly the model.
func TestWriterReadByHudiRS(t *testing.T) {
	cases := []struct {
		name      string
		partition string
		hive      bool
		rowGroup  int64
	}{
		{"unpartitioned", "", false, 0},
		{"partitioned", "region", false, 0},
		{"hive-style", "region", true, 0},
		{"small row groups", "", false, 16}, // rewrites stream many row groups
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			tbl := ordersTable()
			opts := Options{Table: tbl, PartitionField: tc.partition, HiveStylePartitioning: tc.hive,
				MaxFileBytes: 8 << 10, SmallFileBytes: 6 << 10, // small files: several file groups
				RowGroupRows: tc.rowGroup}
			w := openTestWriter(t, dir, opts)
			kg := w.keys
			m := model{}

			// 1: inserts
			st, err := w.Commit(ctx, tbl, upserts(ids(1, 201), 1, m, kg), meta(1))
			if err != nil {
				t.Fatalf("commit 1: %v", err)
			}
			if st.Inserts != 200 || st.Updates != 0 || st.FilesWritten < 2 {
				t.Errorf("commit 1 stats %+v: want 200 inserts in several files", st)
			}
			res := readWithHudiRS(t, dir)
			assertMatches(t, res, tbl, kg, m)
			if res.LatestExtra[MetaCommitID] != "commit-1" || res.LatestExtra[MetaOffsets] != meta(1)[MetaOffsets] {
				t.Errorf("hudi-rs sees extra metadata %v", res.LatestExtra)
			}
			if res.TableName != "orders" {
				t.Errorf("hudi-rs table name %q", res.TableName)
			}

			// 2: updates, inserts and deletes in one commit; a key changed
			// twice keeps its last image; deleting an unknown key is a no-op.
			ch := upserts(ids(150, 260), 2, m, kg)
			ch = append(ch, deletes([]int64{3, 4, 5, 999}, m, kg)...)
			ch = append(ch, upserts([]int64{10}, 3, m, kg)...)
			st, err = w.Commit(ctx, tbl, ch, meta(2))
			if err != nil {
				t.Fatalf("commit 2: %v", err)
			}
			if st.Updates != 52 || st.Inserts != 59 || st.Deletes != 3 {
				t.Errorf("commit 2 stats %+v: want 52 updates, 59 inserts, 3 deletes", st)
			}
			assertMatches(t, readWithHudiRS(t, dir), tbl, kg, m)

			// 3: a crash after the data files were written, before the
			// commit completed: readers must not see it.
			testHookBeforeComplete = func(string) error { return errors.New("simulated crash") }
			crashed := model{}
			for k, v := range m {
				crashed[k] = v
			}
			_, err = w.Commit(ctx, tbl, append(upserts(ids(1, 50), 9, crashed, kg), deletes(ids(60, 70), crashed, kg)...), meta(3))
			testHookBeforeComplete = nil
			if err == nil {
				t.Fatal("commit 3 should have failed")
			}
			pending := pendingInstantFiles(t, dir)
			if len(pending) != 2 {
				t.Fatalf("after the crash the timeline should hold requested+inflight, has %v", pending)
			}
			res = readWithHudiRS(t, dir)
			assertMatches(t, res, tbl, kg, m)
			if res.LatestExtra[MetaCommitID] != "commit-2" {
				t.Errorf("hudi-rs sees commit %q after the crash, want commit-2", res.LatestExtra[MetaCommitID])
			}

			// Reopen (a new process): the inflight instant is rolled back.
			w2 := openTestWriter(t, dir, opts)
			if p := pendingInstantFiles(t, dir); len(p) != 0 {
				t.Errorf("pending instant files left after reopen: %v", p)
			}
			crashInstant := strings.SplitN(pending[0], ".", 2)[0]
			if n := filesOfInstant(t, dir, crashInstant); n != 0 {
				t.Errorf("%d base files of the rolled back instant %s remain", n, crashInstant)
			}
			last, ok, err := w2.LastCommitted(ctx)
			if err != nil || !ok || last.Meta[MetaCommitID] != "commit-2" || last.Meta[MetaSequences] != meta(2)[MetaSequences] {
				t.Fatalf("LastCommitted after reopen = %+v, %v, %v; want commit-2", last, ok, err)
			}
			if _, has := last.Meta[MetaSchema]; has {
				t.Errorf("LastCommitted returns the schema key")
			}

			// 4: the reopened writer continues (index rebuilt from files).
			ch = append(upserts(ids(1, 50), 4, m, kg), deletes(ids(60, 70), m, kg)...)
			if _, err := w2.Commit(ctx, tbl, ch, meta(4)); err != nil {
				t.Fatalf("commit 4: %v", err)
			}
			// 5: an empty commit records new offsets.
			if _, err := w2.Commit(ctx, tbl, nil, meta(5)); err != nil {
				t.Fatalf("commit 5: %v", err)
			}
			res = readWithHudiRS(t, dir)
			assertMatches(t, res, tbl, kg, m)
			if len(res.Commits) != 4 || res.LatestExtra[MetaCommitID] != "commit-5" {
				t.Errorf("hudi-rs sees commits %v (latest %q), want 4 ending with commit-5", res.Commits, res.LatestExtra[MetaCommitID])
			}
			last, _, _ = w2.LastCommitted(ctx)
			if last.Meta[MetaCommitID] != "commit-5" || last.Instant != res.Commits[3] {
				t.Errorf("LastCommitted = %+v, want commit-5 at %s", last, res.Commits[3])
			}
			if err := w2.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := w2.Commit(ctx, tbl, nil, meta(6)); err == nil {
				t.Error("Commit after Close succeeded")
			}
		})
	}
}

// pendingInstantFiles lists the requested and inflight files of instants
// that have no completed file.
func pendingInstantFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(dir, ".hoodie"))
	if err != nil {
		t.Fatal(err)
	}
	done := map[string]bool{}
	for _, e := range ents {
		if in, ok := parseInstantFile(e.Name()); ok && in.State == stateCompleted {
			done[in.Time] = true
		}
	}
	var out []string
	for _, e := range ents {
		if in, ok := parseInstantFile(e.Name()); ok && in.State != stateCompleted && !done[in.Time] {
			out = append(out, e.Name())
		}
	}
	return out
}

// filesOfInstant counts base files written by an instant.
func filesOfInstant(t *testing.T, dir, instant string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if _, _, in, ok := parseBaseFileName(d.Name()); ok && in == instant {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRecoverLeftovers covers what a crash can leave besides an inflight
// commit: a requested-only instant with a base file, temporary files of
// interrupted atomic writes, and surplus old versions.
func TestRecoverLeftovers(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	tbl := ordersTable()
	opts := Options{Table: tbl, RetainFileVersions: 3}
	w := openTestWriter(t, dir, opts)
	m := model{}
	for c := 1; c <= 3; c++ {
		if _, err := w.Commit(ctx, tbl, upserts(ids(1, 20), c, m, w.keys), meta(c)); err != nil {
			t.Fatal(err)
		}
	}
	files, err := SnapshotFiles(ctx, w.opts.Bucket, "")
	if err != nil || len(files) != 1 {
		t.Fatalf("snapshot files %v, %v", files, err)
	}
	data, err := os.ReadFile(filepath.Join(dir, files[0].Path))
	if err != nil {
		t.Fatal(err)
	}
	const pending = "29990101000000000"
	leftovers := []string{
		filepath.Join(".hoodie", pending+".commit.requested"),
		baseFileName(files[0].FileID, "0-0-0", pending),
		"x.parquet.18f2a3b4c5d6e7f8.tmp",
		filepath.Join(".hoodie", "1234.commit.18f2a3b4c5d6e7f9.tmp"),
	}
	for i, l := range leftovers {
		body := []byte{}
		if i == 1 {
			body = data
		}
		if err := os.WriteFile(filepath.Join(dir, l), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A reader sees the last commit only.
	files2, err := SnapshotFiles(ctx, w.opts.Bucket, "")
	if err != nil || len(files2) != 1 || files2[0].Path != files[0].Path {
		t.Errorf("snapshot with a pending instant: %v, %v", files2, err)
	}
	opts.RetainFileVersions = 1
	w2 := openTestWriter(t, dir, opts)
	for _, l := range leftovers {
		if _, err := os.Stat(filepath.Join(dir, l)); !os.IsNotExist(err) {
			t.Errorf("leftover %s survived reopening: %v", l, err)
		}
	}
	if n := filesOfInstant(t, dir, files[0].Instant); n != 1 {
		t.Errorf("latest version removed? %d files of %s", n, files[0].Instant)
	}
	var parquet int
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if strings.HasSuffix(p, ".parquet") {
			parquet++
		}
		return err
	})
	if parquet != 1 {
		t.Errorf("%d base files after reopening with RetainFileVersions=1, want 1", parquet)
	}
	if len(w2.index) != 19 {
		t.Errorf("rebuilt index has %d keys, want 19", len(w2.index))
	}
	assertMatches(t, readWithHudiRS(t, dir), tbl, w2.keys, m)
}

// TestTimelineTrim checks that only KeepCommits completed commits stay in
// the active timeline, and that files of trimmed instants stay readable
// (by hudi-rs and by a reopened writer's index).
func TestTimelineTrim(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	tbl := ordersTable()
	opts := Options{Table: tbl, PartitionField: "region", KeepCommits: 3}
	w := openTestWriter(t, dir, opts)
	m := model{}
	// Commit 1 writes all three partitions; later commits touch "us" only
	// (ids 1 mod 3), so the "eu" and "ap" files keep commit 1's instant.
	if _, err := w.Commit(ctx, tbl, upserts(ids(1, 31), 1, m, w.keys), meta(1)); err != nil {
		t.Fatal(err)
	}
	for c := 2; c <= 6; c++ {
		if _, err := w.Commit(ctx, tbl, upserts([]int64{1, 4, 7}, c, m, w.keys), meta(c)); err != nil {
			t.Fatal(err)
		}
	}
	ents, err := os.ReadDir(filepath.Join(dir, ".hoodie"))
	if err != nil {
		t.Fatal(err)
	}
	var instantFiles int
	for _, e := range ents {
		if _, ok := parseInstantFile(e.Name()); ok {
			instantFiles++
		}
	}
	if instantFiles != 9 {
		t.Errorf("%d instant files, want 3 commits x 3 files", instantFiles)
	}
	res := readWithHudiRS(t, dir)
	if len(res.Commits) != 3 {
		t.Errorf("hudi-rs sees %d commits, want 3", len(res.Commits))
	}
	assertMatches(t, res, tbl, w.keys, m)
	w2 := openTestWriter(t, dir, opts)
	if len(w2.index) != 30 {
		t.Errorf("index after reopening a trimmed timeline has %d keys, want 30", len(w2.index))
	}
	if _, err := w2.Commit(ctx, tbl, upserts([]int64{3, 6}, 9, m, w2.keys), meta(7)); err != nil {
		t.Fatal(err)
	}
	assertMatches(t, readWithHudiRS(t, dir), tbl, w2.keys, m)
}
