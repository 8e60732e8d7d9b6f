//go:build integration

package iceberg_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/iceberg-go/table"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/spec"
	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/sink/lake"
	lakeiceberg "github.com/binlake/binlake/sink/lake/iceberg"
)

// sparkTable is itemsTable without its TIME column: Spark 3.5 has no time
// type, and the Iceberg Spark runtime refuses to read a table with one.
func sparkTable(name string) *schema.Table {
	t := itemsTable(1)
	t.Name = name
	cols := make([]schema.Column, 0, len(t.Columns))
	for _, c := range t.Columns {
		if c.Kind != schema.KindTime {
			cols = append(cols, c)
		}
	}
	t.Columns = cols
	return t
}

// sparkRow is randomRow without the TIME value, aligned with sparkTable.
func sparkRow(f *feed, id int64) []any {
	full, ref := randomRow(f.r, id), itemsTable(1)
	row := make([]any, 0, len(full))
	for i, c := range ref.Columns {
		if c.Kind != schema.KindTime {
			row = append(row, full[i])
		}
	}
	return row
}

// nextSpark is feed.next over sparkTable rows: n random creates (some as
// snapshot reads), updates, deletes and delete-then-reinserts (in one batch)
// over keys [0, keys), applied to the model.
func nextSpark(f *feed, n, keys int) []connect.SinkRecord {
	out := make([]connect.SinkRecord, 0, n)
	for len(out) < n {
		id := int64(f.r.IntN(keys))
		key := strconv.FormatInt(id, 10)
		old, exists := f.model[key]
		switch {
		case !exists:
			row := sparkRow(f, id)
			op := connect.OpCreate
			if f.r.IntN(5) == 0 {
				op = connect.OpRead // a snapshot row
			}
			out = append(out, f.emit(op, nil, row))
			f.model[key] = row
		case f.r.IntN(4) == 0:
			out = append(out, f.emit(connect.OpDelete, old, nil))
			delete(f.model, key)
			if f.r.IntN(2) == 0 {
				row := sparkRow(f, id)
				out = append(out, f.emit(connect.OpCreate, nil, row))
				f.model[key] = row
			}
		default:
			row := sparkRow(f, id)
			out = append(out, f.emit(connect.OpUpdate, old, row))
			f.model[key] = row
		}
	}
	return out
}

// pyFloat spells a float the way Python's repr does (the reader prints
// str(float)): shortest round-trip digits, ".0" on integral values,
// exponent form below 1e-4 and from 1e16.
func pyFloat(f float64) string {
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	exp, err := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	if err != nil {
		return e
	}
	if exp < -4 || exp >= 16 {
		return e
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// pyMicros spells epoch microseconds like Python's str(datetime).
func pyMicros(us int64, utc bool) string {
	tm := time.UnixMicro(us).UTC()
	s := tm.Format("2006-01-02 15:04:05")
	if frac := tm.Nanosecond() / 1000; frac != 0 {
		s += fmt.Sprintf(".%06d", frac)
	}
	if utc {
		s += "+00:00"
	}
	return s
}

// pyText spells a binlake value of kind k the way read_iceberg_spark.py
// (and read_iceberg.py) print it.
func pyText(k schema.Kind, v any) string {
	if v == nil {
		return "null"
	}
	switch k {
	case schema.KindTimestampTZ:
		return pyMicros(v.(int64), true)
	case schema.KindTimestamp:
		return pyMicros(v.(int64), false)
	case schema.KindDate:
		return time.Unix(int64(v.(int32))*86400, 0).UTC().Format("2006-01-02")
	case schema.KindBool:
		if v.(bool) {
			return "True"
		}
		return "False"
	case schema.KindFloat32:
		return pyFloat(float64(v.(float32)))
	case schema.KindFloat64:
		return pyFloat(v.(float64))
	case schema.KindBytes:
		return hex.EncodeToString(v.([]byte))
	default:
		return canon(v)
	}
}

// pyLine renders one row over tbl's columns like sparkLines renders a row
// Spark read.
func pyLine(tbl *schema.Table, row []any, extra ...string) string {
	parts := make([]string, 0, len(tbl.Columns)+len(extra))
	for i, c := range tbl.Columns {
		v := any(nil)
		if row != nil {
			v = row[i]
		}
		parts = append(parts, c.Name+"="+pyText(c.Kind, v))
	}
	return strings.Join(append(parts, extra...), "|")
}

// upsertWant is the upsert model as sorted lines.
func upsertWant(f *feed) []string {
	out := make([]string, 0, len(f.model))
	for _, row := range f.model {
		out = append(out, pyLine(f.tbl, row))
	}
	sort.Strings(out)
	return out
}

// changelogWant is the feed's log as the append table holds it: one row per
// event with op, sequence and source commit time.
func changelogWant(f *feed) []string {
	out := make([]string, 0, len(f.log))
	for _, r := range f.log {
		ev := r.Event
		out = append(out, pyLine(f.tbl, ev.Row(),
			lakeiceberg.ColOp+"="+ev.Op.String(),
			lakeiceberg.ColSequence+"="+strconv.FormatUint(ev.Source.Sequence, 10),
			lakeiceberg.ColSourceTs+"="+pyMicros(ev.Source.CommitTimeMs*1000, true)))
	}
	sort.Strings(out)
	return out
}

// sparkFiles is the per-table file census read_iceberg_spark.py prints.
type sparkFiles struct {
	Table                 string `json:"table"`
	SnapshotID            int64  `json:"snapshot_id"`
	DataFiles             int64  `json:"data_files"`
	PositionDeleteFiles   int64  `json:"position_delete_files"`
	EqualityDeleteFiles   int64  `json:"equality_delete_files"`
	EqualityDeleteRecords int64  `json:"equality_delete_records"`
	Rows                  int64  `json:"rows"`
}

// sparkResult is what one Spark run read: rows per table (as "col=value|..."
// lines over the requested columns, sorted) and the file census.
type sparkResult struct {
	lines map[string][]string
	files map[string]sparkFiles
}

// errSparkMissing means pyspark or the jars are not installed.
var errSparkMissing = errors.New("spark reader not set up")

// runSpark reads the tables (ident -> columns to render) of the sql catalog
// in dir with one Spark process running testdata/read_iceberg_spark.py.
func runSpark(ctx context.Context, dir string, tables map[string][]string) (sparkResult, error) {
	py := os.Getenv("BINLAKE_PYTHON")
	if py == "" {
		py = "python3"
	}
	script, err := filepath.Abs(filepath.Join("..", "..", "..", "integration", "testdata", "read_iceberg_spark.py"))
	if err != nil {
		return sparkResult{}, err
	}
	idents := make([]string, 0, len(tables))
	for id := range tables {
		idents = append(idents, id)
	}
	sort.Strings(idents)
	args := append([]string{script, filepath.Join(dir, lakeiceberg.CatalogFile), "file://" + filepath.Join(dir, "warehouse")}, idents...)
	cmd := exec.CommandContext(ctx, py, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 3 {
		return sparkResult{}, fmt.Errorf("%w for %s: %s", errSparkMissing, py, strings.TrimSpace(stderr.String()))
	}
	if err != nil {
		return sparkResult{}, fmt.Errorf("running %s %s: %w\n%s", py, strings.Join(args, " "), err, tail(stderr.String(), 4000))
	}
	res := sparkResult{lines: map[string][]string{}, files: map[string]sparkFiles{}}
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		var row map[string]*string
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			return res, fmt.Errorf("decoding spark output %q: %w", sc.Text(), err)
		}
		id := idents[0]
		if len(idents) > 1 {
			if row["@table"] == nil {
				return res, fmt.Errorf("spark output row without @table: %s", sc.Text())
			}
			id = *row["@table"]
		}
		cols, ok := tables[id]
		if !ok {
			return res, fmt.Errorf("spark output row of unrequested table %q", id)
		}
		parts := make([]string, len(cols))
		for i, c := range cols {
			v, ok := row[c]
			switch {
			case !ok:
				parts[i] = c + "=<missing>"
			case v == nil:
				parts[i] = c + "=null"
			default:
				parts[i] = c + "=" + *v
			}
		}
		res.lines[id] = append(res.lines[id], strings.Join(parts, "|"))
	}
	if err := sc.Err(); err != nil {
		return res, err
	}
	for _, l := range strings.Split(stderr.String(), "\n") {
		if js, ok := strings.CutPrefix(l, "BINLAKE_SPARK_FILES "); ok {
			var f sparkFiles
			if err := json.Unmarshal([]byte(js), &f); err != nil {
				return res, fmt.Errorf("decoding spark file census %q: %w", js, err)
			}
			res.files[f.Table] = f
		}
	}
	for _, id := range idents {
		sort.Strings(res.lines[id])
		if _, ok := res.files[id]; !ok {
			return res, fmt.Errorf("spark printed no file census for %s:\n%s", id, tail(stderr.String(), 4000))
		}
	}
	return res, nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// readWithSpark runs runSpark; when pyspark or the jars are missing it runs
// deploy/local/setup-spark.sh once and retries, and fails the test with the
// way to set Spark up when that does not help.
func readWithSpark(t *testing.T, dir string, tables map[string][]string) sparkResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	start := time.Now()
	res, err := runSpark(ctx, dir, tables)
	if errors.Is(err, errSparkMissing) {
		setup, aerr := filepath.Abs(filepath.Join("..", "..", "..", "deploy", "local", "setup-spark.sh"))
		if aerr != nil {
			t.Fatal(aerr)
		}
		t.Logf("%v; running %s", err, setup)
		out, serr := exec.CommandContext(ctx, "bash", setup).CombinedOutput()
		if serr != nil {
			t.Fatalf("Spark with the Iceberg runtime is not set up and %s failed (%v):\n%s\n"+
				"set it up with `make python` (which runs deploy/local/setup-spark.sh) and point BINLAKE_PYTHON at the venv's python", setup, serr, out)
		}
		start = time.Now()
		res, err = runSpark(ctx, dir, tables)
	}
	if errors.Is(err, errSparkMissing) {
		t.Fatalf("%v\nset Spark up with `make python` or `bash deploy/local/setup-spark.sh`, and set BINLAKE_PYTHON to "+
			"${BINLAKE_CACHE:-~/.cache/binlake}/venv/bin/python", err)
	}
	if err != nil {
		t.Fatalf("reading with Spark: %v", err)
	}
	t.Logf("Spark read %d tables in %s", len(tables), time.Since(start).Round(time.Millisecond))
	return res
}

// snapshotSummary returns the current snapshot summary of a table.
func snapshotSummary(t *testing.T, f *lakeiceberg.Format, ident table.Identifier) map[string]string {
	t.Helper()
	tbl, err := f.Catalog().LoadTable(context.Background(), ident)
	if err != nil {
		t.Fatalf("loading %v: %v", ident, err)
	}
	snap := tbl.CurrentSnapshot()
	if snap == nil || snap.Summary == nil {
		t.Fatalf("%v has no current snapshot", ident)
	}
	return snap.Summary.Properties
}

func summaryInt(t *testing.T, s map[string]string, key string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s[key], 10, 64)
	if err != nil {
		t.Fatalf("snapshot summary %s=%q: %v (summary %v)", key, s[key], err, s)
	}
	return n
}

// TestSparkReadsMergeOnRead writes upsert tables (one unpartitioned, one
// bucket-partitioned) over several commits of creates, updates, deletes and
// delete-then-reinserts, without maintenance, so they hold data files plus
// equality-delete files, and a changelog table in append mode; then reads
// all three with one Spark process (the Iceberg Spark runtime, the reference
// implementation, applying the deletes itself) and compares them row for row
// with the model.
func TestSparkReadsMergeOnRead(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()

	type written struct {
		feed    *feed
		ident   table.Identifier
		upsert  bool
		summary map[string]string
	}
	var tables []written
	request := map[string][]string{} // ident -> columns compared
	write := func(name string, seed uint64, queues, cycles, events, keys int, extra map[string]string) {
		feed := newFeed(seed, sparkTable(name), queues)
		feed.topic = "cdc_shop_" + name
		cfg := taskConfig(dir, extra)
		cfg[spec.TopicNames] = feed.topic
		task, f := startTask(t, dir, cfg)
		if _, err := task.Open(ctx, feed.queueIDs()); err != nil {
			t.Fatalf("opening queues of %s: %v", name, err)
		}
		for range cycles {
			mustPut(t, task, nextSpark(feed, events, keys))
			mustFlush(t, task)
		}
		ident := table.Identifier{"shop", name}
		id := strings.Join(ident, ".")
		cols := columnNames(feed.tbl)
		upsert := extra[lake.KeyWriteMode] != string(lake.ModeAppend)
		s := snapshotSummary(t, f, ident)
		if upsert {
			if len(feed.model) == 0 {
				t.Fatalf("the model of %s is empty; the test exercises nothing", id)
			}
			// Before Spark: the table really is merge-on-read.
			if summaryInt(t, s, "total-equality-deletes") == 0 || summaryInt(t, s, "total-delete-files") == 0 {
				t.Fatalf("%s has no equality-delete files (summary %v); the test would not exercise merge-on-read", id, s)
			}
			diffLines(t, "iceberg-go scan of "+id, scanLines(t, f, ident, cols), modelLines(feed.tbl, feed.model, cols))
		} else {
			cols = append(cols, lakeiceberg.ColOp, lakeiceberg.ColSequence, lakeiceberg.ColSourceTs)
		}
		request[id] = cols
		tables = append(tables, written{feed: feed, ident: ident, upsert: upsert, summary: s})
		// Stop closes the catalog, so Spark reads a quiet SQLite file.
		if err := task.Stop(ctx); err != nil {
			t.Fatalf("stopping the task of %s: %v", name, err)
		}
	}
	write("items", 61, 3, 6, 220, 120, nil)
	write("parts", 62, 2, 5, 200, 100, map[string]string{lake.KeyPartitionSpec: "bucket(4,id)"})
	write("events", 63, 2, 3, 120, 60, map[string]string{lake.KeyWriteMode: string(lake.ModeAppend)})

	res := readWithSpark(t, dir, request)
	for _, w := range tables {
		id := strings.Join(w.ident, ".")
		files := res.files[id]
		s := w.summary
		var want []string
		if w.upsert {
			want = upsertWant(w.feed)
			// Spark saw the same delete files iceberg-go committed, and the
			// data files hold more rows than the table: the deletes were
			// merged on read, not compacted away.
			if files.EqualityDeleteFiles == 0 || files.EqualityDeleteRecords != summaryInt(t, s, "total-equality-deletes") {
				t.Errorf("%s: Spark counts %d equality-delete files with %d records, the snapshot summary says %s records",
					id, files.EqualityDeleteFiles, files.EqualityDeleteRecords, s["total-equality-deletes"])
			}
			if total := summaryInt(t, s, "total-records"); total <= int64(len(want)) {
				t.Errorf("%s: data files hold %d rows for %d live rows; nothing for Spark to merge", id, total, len(want))
			}
		} else {
			want = changelogWant(w.feed)
			if files.EqualityDeleteFiles != 0 || files.PositionDeleteFiles != 0 {
				t.Errorf("%s: a changelog table with delete files: %+v", id, files)
			}
		}
		if files.Rows != int64(len(res.lines[id])) {
			t.Errorf("%s: census says %d rows, output has %d", id, files.Rows, len(res.lines[id]))
		}
		diffLines(t, "Spark read of "+id, res.lines[id], want)
		t.Logf("%s: Spark read %d rows (model %d) from %d data files, %d equality-delete files (%d delete records), %d position-delete files",
			id, len(res.lines[id]), len(want), files.DataFiles, files.EqualityDeleteFiles, files.EqualityDeleteRecords, files.PositionDeleteFiles)
	}
}
