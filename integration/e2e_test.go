//go:build integration

package integration

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/integration/containers"
	"github.com/binlake/binlake/integration/workerproc"
	"github.com/binlake/binlake/internal/mq"
)

// lakeTable is one Iceberg table a lake-sink connector writes, read back with pyiceberg.
type lakeTable struct {
	sqlite, warehouse, ident string
}

// errNotReadable means pyiceberg cannot read the table yet (not created, or equality deletes not compacted away).
var errNotReadable = errors.New("lake table not readable by pyiceberg yet")

// rows reads the table with pyiceberg (an independent reader) and returns its rows as column -> text maps.
func (l lakeTable) rows(t testing.TB) ([]map[string]*string, error) {
	t.Helper()
	return pythonRows(t, pythonReader{name: "pyiceberg", install: "run `make python`", notReadable: errNotReadable,
		notReadableCodes: []int{4, 5}}, "read_iceberg.py", l.sqlite, l.warehouse, l.ident)
}

// pythonReader describes an independent reader script of testdata: what it is, how to install it, and the exit codes
// meaning "not readable yet".
type pythonReader struct {
	name, install    string
	notReadable      error
	notReadableCodes []int
}

// pythonRows runs a reader script of testdata with $BINLAKE_PYTHON (python3 when unset) and decodes the JSON lines it
// prints, one row each, every value as text. Exit code 3 (the reader's library is missing) fails the test; the
// reader's not-readable codes return its notReadable error.
func pythonRows(t testing.TB, r pythonReader, script string, args ...string) ([]map[string]*string, error) {
	t.Helper()
	py := os.Getenv("BINLAKE_PYTHON")
	if py == "" {
		py = "python3"
	}
	cmd := exec.Command(py, append([]string{filepath.Join("testdata", script)}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ee.ExitCode() == 3 {
			t.Fatalf("%s is not installed for %s: %s (or set BINLAKE_PYTHON): %s", r.name, py, r.install, stderr.String())
		}
		if slices.Contains(r.notReadableCodes, ee.ExitCode()) {
			return nil, fmt.Errorf("%w: %s", r.notReadable, strings.TrimSpace(stderr.String()))
		}
	}
	if err != nil {
		return nil, fmt.Errorf("reading %v with %s: %w: %s", args, r.name, err, stderr.String())
	}
	var rows []map[string]*string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		var row map[string]*string
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			return nil, fmt.Errorf("decoding %s output %q: %w", r.name, sc.Text(), err)
		}
		rows = append(rows, row)
	}
	return rows, sc.Err()
}

// icebergField is one field of an Iceberg schema as pyiceberg prints it.
type icebergField struct {
	ID       int    `json:"id"`
	Name     string `json:"name"`
	Type     string `json:"type"`
	Required bool   `json:"required"`
}

// icebergSchemas are a table's schemas by id and the current schema's id.
type icebergSchemas struct {
	Current int                       `json:"current"`
	Schemas map[string][]icebergField `json:"schemas"`
}

// schemas reads the table's schemas with pyiceberg.
func (l lakeTable) schemas(t testing.TB) icebergSchemas {
	t.Helper()
	py := os.Getenv("BINLAKE_PYTHON")
	if py == "" {
		py = "python3"
	}
	out, err := exec.Command(py, filepath.Join("testdata", "iceberg_schema.py"), l.sqlite, l.warehouse, l.ident).Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.Fatalf("reading the schemas of %s with pyiceberg: exit %d: %s", l.ident, ee.ExitCode(), ee.Stderr)
	}
	if err != nil {
		t.Fatalf("reading the schemas of %s with pyiceberg: %v", l.ident, err)
	}
	var s icebergSchemas
	if err := json.Unmarshal(out, &s); err != nil {
		t.Fatalf("decoding the schemas of %s (%s): %v", l.ident, out, err)
	}
	return s
}

// createItemsTable creates the items table the workload writes.
func createItemsTable(t *testing.T, db *sql.DB) {
	t.Helper()
	if _, err := db.ExecContext(t.Context(), `CREATE TABLE items (
		id INT PRIMARY KEY, name VARCHAR(64) NOT NULL, qty INT NOT NULL, price DECIMAL(10,2) NOT NULL, note TEXT NULL)`); err != nil {
		t.Fatal(err)
	}
}

// itemColumns are the columns of the test table, compared as text.
var itemColumns = []string{"id", "name", "qty", "price", "note"}

// openNewDatabase creates a fresh database on my and opens it; it is closed when the test ends.
func openNewDatabase(t *testing.T, my *containers.MySQL) (string, *sql.DB) {
	t.Helper()
	name := my.NewDatabase(t)
	db, err := sql.Open("mysql", my.DSN(name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return name, db
}

func canonRow(r map[string]*string) string { return canonColumns(itemColumns, r) }

// canonColumns is the canonical text of a lake row over cols: "col=value|..." with null and <missing> spelled out.
func canonColumns(cols []string, r map[string]*string) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		v, ok := r[c]
		switch {
		case !ok:
			parts[i] = c + "=<missing>"
		case v == nil:
			parts[i] = c + "=null"
		default:
			parts[i] = c + "=" + *v
		}
	}
	return strings.Join(parts, "|")
}

// mysqlState returns the source table's rows in canonical text form, sorted.
func mysqlState(ctx context.Context, db *sql.DB) ([]string, error) {
	rs, err := db.QueryContext(ctx, "SELECT CAST(id AS CHAR), name, CAST(qty AS CHAR), CAST(price AS CHAR), note FROM items ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("reading the source table: %w", err)
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		vals := make([]sql.NullString, len(itemColumns))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			return nil, err
		}
		m := map[string]*string{}
		for i, c := range itemColumns {
			if vals[i].Valid {
				s := vals[i].String
				m[c] = &s
			} else {
				m[c] = nil
			}
		}
		out = append(out, canonRow(m))
	}
	sort.Strings(out)
	return out, rs.Err()
}

// workload runs random single-row inserts, updates (including primary-key changes) and deletes on items and counts
// the change events they produce: one per affected row, two for a primary-key change (delete + create).
type workload struct {
	db     *sql.DB
	rng    *rand.Rand
	nextID int
	events atomic.Int64
}

func (w *workload) step(ctx context.Context) error {
	var res sql.Result
	var err error
	perRow := int64(1) // events per affected row
	id := 1 + w.rng.IntN(w.nextID)
	switch p := w.rng.IntN(100); {
	case p < 40:
		w.nextID++
		res, err = w.db.ExecContext(ctx, "INSERT INTO items (id, name, qty, price, note) VALUES (?, ?, ?, ?, ?)",
			w.nextID, fmt.Sprintf("item-%d", w.nextID), w.rng.IntN(1000), fmt.Sprintf("%d.%02d", w.rng.IntN(10000), w.rng.IntN(100)),
			nullable(w.rng, fmt.Sprintf("note %d ✓", w.nextID)))
	case p < 75:
		res, err = w.db.ExecContext(ctx, "UPDATE items SET qty = ?, price = ?, note = ? WHERE id = ?",
			w.rng.IntN(1000), fmt.Sprintf("%d.%02d", w.rng.IntN(10000), w.rng.IntN(100)), nullable(w.rng, "updated"), id)
	case p < 85:
		// A primary-key change: the source emits it as a delete of the old key and a create of the new one.
		w.nextID++
		perRow = 2
		res, err = w.db.ExecContext(ctx, "UPDATE items SET id = ? WHERE id = ?", w.nextID, id)
	default:
		res, err = w.db.ExecContext(ctx, "DELETE FROM items WHERE id = ?", id)
	}
	if err != nil {
		return fmt.Errorf("running the workload: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	w.events.Add(n * perRow)
	return nil
}

// start runs steps in the background until the returned stop is called; stop waits for the step in flight and
// returns the first error. Each statement runs to completion under ctx, never cancelled by stop: a statement cancelled
// mid-flight can still commit on the server, uncounted, or after the test has read MySQL's final state.
func (w *workload) start(ctx context.Context) (stop func() error) {
	return runSteps(ctx, w.step, func() { time.Sleep(time.Duration(w.rng.IntN(3)) * time.Millisecond) })
}

// runSteps calls step in a goroutine, then pause, until the returned stop is called; stop waits for the step in
// flight (never cancelled: see workload.start) and returns the first error.
func runSteps(ctx context.Context, step func(context.Context) error, pause func()) (stop func() error) {
	var (
		stopping atomic.Bool
		wg       sync.WaitGroup
		err      error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stopping.Load() {
			if err = step(ctx); err != nil {
				return
			}
			pause()
		}
	}()
	return func() error {
		stopping.Store(true)
		wg.Wait()
		return err
	}
}

func nullable(rng *rand.Rand, s string) any {
	if rng.IntN(4) == 0 {
		return nil
	}
	return s
}

// runEndToEnd runs the end-to-end scenario; the worker is killed kills times (or the writes run for writeFor when kills
// is 0) and restarted each time.
func runEndToEnd(t *testing.T, kills int, writeFor time.Duration) {
	ctx := t.Context()
	my := containers.MySQLServer(t, containers.MySQL8)
	mq := containers.RocketMQServer(t)
	dbName, db := openNewDatabase(t, my)
	createItemsTable(t, db)
	const initialRows = 300
	wl := &workload{db: db, rng: rand.New(rand.NewPCG(7, 11)), nextID: 0}
	for range initialRows {
		wl.nextID++
		if _, err := db.ExecContext(ctx, "INSERT INTO items VALUES (?, ?, ?, ?, ?)", wl.nextID, fmt.Sprintf("item-%d", wl.nextID),
			wl.nextID%100, fmt.Sprintf("%d.50", wl.nextID), nil); err != nil {
			t.Fatal(err)
		}
	}

	lakeDir := workerproc.TestDir(t, "lake")
	w := workerproc.Start(t, workerproc.Options{NamesrvAddr: mq.NamesrvAddr})
	topic := connect.TopicName("e2e", dbName, "items")
	// Connector names differ per scenario: the source's replica server id is derived from its name, and two
	// replicas with one server id on the same MySQL server disconnect each other.
	name := fmt.Sprintf("e2e%d", kills)
	w.MustDo("POST", "/connectors/"+name+"-source", sourceConfig(my, dbName, "e2e", nil), 201)
	sink := func(name, mode string) lakeTable {
		l := lakeTable{
			sqlite:    filepath.Join(lakeDir, name+".db"),
			warehouse: "file://" + filepath.Join(lakeDir, name+"-warehouse"),
			ident:     dbName + ".items",
		}
		w.MustDo("POST", "/connectors/"+name, l.sinkConfig(topic, mode, "1000", "3000"), 201)
		return l
	}
	upsert := sink(name+"-upsert", "upsert")
	changelog := sink(name+"-append", "append")

	// The snapshot must land before the concurrent writes start, so that the changelog's row count is known exactly.
	workerproc.WaitFor(t, 3*time.Minute, "the snapshot in the changelog table", func() (bool, error) {
		rows, err := changelog.rows(t)
		if err != nil {
			return false, err
		}
		return len(rows) >= initialRows, fmt.Errorf("%d of %d snapshot rows", len(rows), initialRows)
	})

	// Writes go on while the worker is killed at random points, commits included.
	stopWrites := wl.start(ctx)
	killRng := rand.New(rand.NewPCG(3, 5))
	if kills == 0 {
		time.Sleep(writeFor)
	}
	for i := range kills {
		time.Sleep(time.Duration(300+killRng.IntN(2500)) * time.Millisecond)
		w.Kill()
		t.Logf("kill %d/%d after %d source events", i+1, kills, wl.events.Load())
		w.Restart()
	}
	if err := stopWrites(); err != nil {
		t.Fatal(err)
	}
	events := wl.events.Load()
	want, err := mysqlState(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d source events after the snapshot; %d rows in MySQL", events, len(want))

	// Upsert: the lake table equals MySQL (read after compaction: pyiceberg does not apply equality deletes).
	var last []string
	upsertEqual := poll(4*time.Minute, func() (bool, error) {
		rows, err := upsert.rows(t)
		if err != nil {
			return false, err
		}
		got := make([]string, len(rows))
		for i, r := range rows {
			got[i] = canonRow(r)
		}
		sort.Strings(got)
		last = got
		return equalStrings(got, want), fmt.Errorf("lake has %d rows, MySQL %d; first difference: %s", len(got), len(want), firstDiff(got, want))
	})
	if upsertEqual != nil {
		t.Errorf("the upsert table does not equal MySQL: %v", upsertEqual)
		explainDiff(t, changelog, last, want)
		t.Log(w.Diagnose())
		t.FailNow()
	}
	// binlake verify, as users run it before a cutover, agrees.
	code, out, errOut := runVerifyCmd(t, "--mysql.host", my.Host, "--mysql.port", fmt.Sprint(my.Port), "--mysql.user", my.User,
		"--mysql.password", my.Password, "--tables", dbName+".items", "--iceberg.catalog.uri", upsert.sqlite)
	if code != 0 {
		t.Fatalf("binlake verify exited %d after the lake equalled MySQL\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}

	// Append: exactly one row per source event, no sequence twice.
	wantRows := int64(initialRows) + events
	workerproc.WaitFor(t, 4*time.Minute, "one changelog row per source event", func() (bool, error) {
		rows, err := changelog.rows(t)
		if err != nil {
			return false, err
		}
		seen := make(map[string]bool, len(rows))
		snapshotRows := 0
		for _, r := range rows {
			seq := r["_binlake_seq"]
			if seq == nil {
				return false, errors.New("a changelog row has no _binlake_seq")
			}
			if seen[*seq] {
				t.Fatalf("sequence %s appears twice in the changelog table", *seq)
			}
			seen[*seq] = true
			if op := r["_binlake_op"]; op != nil && *op == "r" {
				snapshotRows++
			}
		}
		if snapshotRows > initialRows {
			t.Fatalf("%d snapshot rows in the changelog, want %d", snapshotRows, initialRows)
		}
		if int64(len(rows)) > wantRows {
			t.Fatalf("changelog has %d rows, more than the %d source events: duplicates", len(rows), wantRows)
		}
		return int64(len(rows)) == wantRows, fmt.Errorf("changelog has %d rows, want %d", len(rows), wantRows)
	})
	// verify reads the changelog as the rows it ends with: equal to MySQL too.
	code, out, errOut = runVerifyCmd(t, "--mysql.host", my.Host, "--mysql.port", fmt.Sprint(my.Port), "--mysql.user", my.User,
		"--mysql.password", my.Password, "--tables", dbName+".items", "--iceberg.catalog.uri", changelog.sqlite)
	if code != 0 || !strings.Contains(out, "changelog") {
		t.Fatalf("binlake verify of the changelog table exited %d (want 0, with a note that it read a changelog)\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

// poll calls cond every 200ms until it returns true (nil) or timeout passes (the last error cond returned).
func poll(timeout time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %s: %w", timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// explainDiff logs, for every key whose lake row differs from MySQL, the key's events as the changelog table holds
// them, so a failing run says whether the events reached the lake at all.
func explainDiff(t *testing.T, changelog lakeTable, got, want []string) {
	t.Helper()
	idOf := func(canon string) string { return strings.TrimPrefix(strings.SplitN(canon, "|", 2)[0], "id=") }
	g, w := map[string]string{}, map[string]string{}
	for _, s := range got {
		g[idOf(s)] = s
	}
	for _, s := range want {
		w[idOf(s)] = s
	}
	ids := map[string]bool{}
	for id, s := range w {
		if g[id] != s {
			ids[id] = true
		}
	}
	for id := range g {
		if _, ok := w[id]; !ok {
			ids[id] = true
		}
	}
	rows, err := changelog.rows(t)
	if err != nil {
		t.Logf("cannot read the changelog table to explain the difference: %v", err)
		return
	}
	cols := append([]string{"_binlake_seq", "_binlake_op"}, itemColumns...)
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		t.Logf("key %s: MySQL %q, lake %q", id, w[id], g[id])
		var events []string
		for _, r := range rows {
			if v := r["id"]; v != nil && *v == id {
				events = append(events, canonColumns(cols, r))
			}
		}
		sort.Slice(events, func(i, j int) bool { // by sequence: the text starts with it
			if len(events[i]) != len(events[j]) && strings.IndexByte(events[i], '|') != strings.IndexByte(events[j], '|') {
				return strings.IndexByte(events[i], '|') < strings.IndexByte(events[j], '|')
			}
			return events[i] < events[j]
		})
		for _, e := range events {
			t.Logf("  changelog: %s", e)
		}
		if len(events) == 0 {
			t.Logf("  changelog: no event of key %s", id)
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func firstDiff(got, want []string) string {
	g := map[string]bool{}
	for _, s := range got {
		g[s] = true
	}
	w := map[string]bool{}
	for _, s := range want {
		w[s] = true
	}
	var missing, extra []string
	for _, s := range want {
		if !g[s] {
			missing = append(missing, s)
		}
	}
	for _, s := range got {
		if !w[s] {
			extra = append(extra, s)
		}
	}
	switch {
	case len(missing) > 0:
		return fmt.Sprintf("missing in lake: %s (%d missing, %d extra; %s)", missing[0], len(missing), len(extra), byQueue(missing, extra))
	case len(extra) > 0:
		return fmt.Sprintf("extra in lake: %s (%d extra; %s)", extra[0], len(extra), byQueue(missing, extra))
	}
	return "none"
}

// byQueue tells on which of the topic's queues (binlake's default of mq.DefaultTopicQueues, hashed from the id
// column) the differing rows travel: a difference confined to some queues points at the consumer of those queues.
func byQueue(missing, extra []string) string {
	count := func(rows []string) []int {
		n := make([]int, mq.DefaultTopicQueues)
		for _, r := range rows {
			id, _, _ := strings.Cut(strings.TrimPrefix(r, "id="), "|")
			n[mq.QueueIndex(id, mq.DefaultTopicQueues)]++
		}
		return n
	}
	return fmt.Sprintf("by queue: missing %v, extra %v", count(missing), count(extra))
}
