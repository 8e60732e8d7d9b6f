//go:build integration

package integration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/integration/containers"
	"github.com/binlake/binlake/integration/workerproc"
)

// hudiTable is one Hudi table a lake-sink connector (lake.format=hudi) writes, read back with hudi-rs.
type hudiTable struct{ path string }

// errHudiNotReadable means the table does not exist yet or has no completed commit.
var errHudiNotReadable = errors.New("hudi table not readable yet")

// rows reads the table's latest snapshot with hudi-rs (an independent reader, testdata/read_hudi.py) and returns its
// rows as column -> text maps, the _hoodie_* meta columns included.
func (h hudiTable) rows(t testing.TB) ([]map[string]*string, error) {
	t.Helper()
	return pythonRows(t, pythonReader{name: "hudi-rs", install: "run `make python` or `python3 -m pip install hudi==0.5.0 pyarrow`",
		notReadable: errHudiNotReadable, notReadableCodes: []int{4}}, "read_hudi.py", h.path)
}

// hudiKills is how many times TestHudiEndToEnd kills the worker with SIGKILL.
const hudiKills = 5

// orderColumns are the columns of the partitioned test table, compared as text.
var orderColumns = []string{"id", "region", "qty"}

// orderRegions are the partition values of the orders table; "sa/x" needs escaping in a partition path.
var orderRegions = []string{"eu", "us", "ap", "sa/x"}

// hudiSide is one source table and the Hudi table a lake-sink connector mirrors it to.
type hudiSide struct {
	name    string // source table
	cols    []string
	lake    hudiTable
	sink    string // connector name
	initial int
	state   func(context.Context) ([]string, error)
}

// TestHudiEndToEnd drives binlake like a user with lake.format=hudi: a real MySQL 8 server, a real RocketMQ broker, the
// binlake worker binary managed over REST, and Hudi copy-on-write tables read back by hudi-rs. Two tables are
// mirrored by two lake-sink connectors: items (unpartitioned; inserts, updates, primary-key changes, deletes) and
// orders (partition.spec=region, hive-style paths; most updates move a record to another partition, some to the
// null partition). Writes go on while the worker is killed with SIGKILL and restarted at random points; afterwards
// each Hudi table equals its MySQL table row for row, every record key once, orders' rows in the partition of their
// region.
//
// Every change to the source tables is also recorded by triggers in an audit table of another (not captured)
// database, so that a lost or stale row can be traced to its source changes and to the kills around them. On a
// mismatch the worker's data directory, its log and the Hudi tables are kept under $TMPDIR for inspection.
func TestHudiEndToEnd(t *testing.T) {
	t.Parallel() // mostly waits on servers and commit intervals; runs beside the other end-to-end tests
	ctx := t.Context()
	my := containers.MySQLServer(t, containers.MySQL8)
	mq := containers.RocketMQServer(t)
	dbName, db := openNewDatabase(t, my)
	for _, ddl := range []string{
		`CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL, qty INT NOT NULL, price DECIMAL(10,2) NOT NULL, note TEXT NULL)`,
		`CREATE TABLE orders (id INT PRIMARY KEY, region VARCHAR(16) NULL, qty INT NOT NULL)`,
	} {
		if _, err := db.ExecContext(ctx, ddl); err != nil {
			t.Fatal(err)
		}
	}
	audit := createAudit(t, db, dbName)

	seed := uint64(time.Now().UnixNano())
	t.Logf("random seed %d", seed)
	wl := &workload{db: db, rng: rand.New(rand.NewPCG(seed, 11)), nextID: 0}
	for range 300 {
		wl.nextID++
		if _, err := db.ExecContext(ctx, "INSERT INTO items (id, name, qty, price, note) VALUES (?, ?, ?, ?, ?)", wl.nextID,
			fmt.Sprintf("item-%d", wl.nextID), wl.nextID%100, fmt.Sprintf("%d.50", wl.nextID), nil); err != nil {
			t.Fatal(err)
		}
	}
	ol := &orderWorkload{db: db, rng: rand.New(rand.NewPCG(seed, 13))}
	for range 200 {
		ol.nextID++
		if _, err := db.ExecContext(ctx, "INSERT INTO orders (id, region, qty) VALUES (?, ?, ?)", ol.nextID, ol.region(), ol.nextID); err != nil {
			t.Fatal(err)
		}
	}

	workDir := workerproc.TestDir(t, "hudi")
	dataDir := filepath.Join(workDir, "worker")
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	w := workerproc.Start(t, workerproc.Options{NamesrvAddr: mq.NamesrvAddr, DataDir: dataDir})
	w.MustDo("POST", "/connectors/hudi-source", sourceConfig(my, dbName, "hudi", nil), 201)
	sink := func(name, table string, extra map[string]string) hudiTable {
		warehouse := filepath.Join(workDir, name)
		cfg := map[string]string{
			"connector.class":    "lake-sink",
			"connect.topicnames": connect.TopicName("hudi", dbName, table),
			"lake.format":        "hudi",
			"write.mode":         "upsert",
			"iceberg.warehouse":  "file://" + warehouse,
			"commit.interval.ms": "1000",
		}
		maps.Copy(cfg, extra)
		w.MustDo("POST", "/connectors/"+name, cfg, 201)
		// Tables live at <warehouse>/<namespace (default: the source database)>/<table>.
		return hudiTable{path: filepath.Join(warehouse, dbName, table)}
	}
	sides := []hudiSide{
		{name: "items", cols: itemColumns, lake: sink("hudi-items", "items", nil), sink: "hudi-items", initial: 300,
			state: func(ctx context.Context) ([]string, error) { return mysqlState(ctx, db) }},
		{name: "orders", cols: orderColumns, sink: "hudi-orders", initial: 200,
			lake: sink("hudi-orders", "orders", map[string]string{
				"partition.spec": "region",
				"iceberg.table.properties.hoodie.datasource.write.hive_style_partitioning": "true",
			}),
			state: func(ctx context.Context) ([]string, error) {
				return tableState(ctx, db, "SELECT CAST(id AS CHAR), region, CAST(qty AS CHAR) FROM orders", orderColumns)
			}},
	}

	// The snapshots land before the concurrent writes start.
	for _, side := range sides {
		workerproc.WaitFor(t, 3*time.Minute, "the snapshot of "+side.name+" in its Hudi table", func() (bool, error) {
			rows, err := side.lake.rows(t)
			if err != nil {
				return false, err
			}
			return len(rows) >= side.initial, fmt.Errorf("%d of %d snapshot rows", len(rows), side.initial)
		})
	}

	// Writes go on while the worker is killed at random points, commits included.
	stopItems := wl.start(ctx)
	stopOrders := ol.start(ctx)
	killRng := rand.New(rand.NewPCG(seed, 5))
	var kills []string
	for i := range hudiKills {
		time.Sleep(time.Duration(300+killRng.IntN(2500)) * time.Millisecond)
		w.Kill()
		kills = append(kills, time.Now().UTC().Format("15:04:05.000000"))
		t.Logf("kill %d/%d at %s after %d items events, %d orders statements", i+1, hudiKills, kills[i], wl.events.Load(), ol.steps.Load())
		w.Restart()
	}
	time.Sleep(time.Duration(300+killRng.IntN(1500)) * time.Millisecond)
	if err := errors.Join(stopItems(), stopOrders()); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d items events and %d orders statements after the snapshot", wl.events.Load(), ol.steps.Load())

	for _, side := range sides {
		want, err := side.state(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var lastRows []map[string]*string
		var lastGot []string
		notEqual := poll(2*time.Minute, func() (bool, error) {
			rows, err := side.lake.rows(t)
			if err != nil {
				return false, err
			}
			got := make([]string, len(rows))
			for i, r := range rows {
				got[i] = canonColumns(side.cols, r)
			}
			sort.Strings(got)
			lastRows, lastGot = rows, got
			return equalStrings(got, want), fmt.Errorf("lake has %d rows, MySQL %d", len(got), len(want))
		})
		if notEqual != nil {
			report := diffByKey(ctx, db, audit, side.name, side.cols, lastRows, want)
			kept := keepEvidence(t, workDir)
			t.Fatalf("the Hudi table of %s does not equal MySQL: %v: lake %d rows, MySQL %d; first difference: %s\nkills at %s (UTC)\n%s\n%s\nevidence kept in %s",
				side.name, notEqual, len(lastGot), len(want), firstDiff(lastGot, want), strings.Join(kills, ", "), report, w.Diagnose(), kept)
		}
		keys := map[string]int{}
		for _, r := range lastRows {
			if k := r["_hoodie_record_key"]; k != nil {
				keys[*k]++
			}
			if side.name == "orders" {
				if got, want := deref(r["_hoodie_partition_path"]), "region="+partitionValue(r["region"]); got != want {
					t.Errorf("orders row %s is in partition %q, want %q", deref(r["id"]), got, want)
				}
			}
		}
		if len(keys) != len(want) {
			t.Fatalf("%s: %d distinct _hoodie_record_key values for %d rows", side.name, len(keys), len(want))
		}
		t.Logf("the Hudi table of %s equals MySQL: %d rows after %d kills", side.name, len(want), hudiKills)
	}
}

// partitionValue is a region as a Hudi partition path spells it: escaped like Hive path names, null as Hive's
// default partition.
func partitionValue(v *string) string {
	if v == nil || *v == "" {
		return "__HIVE_DEFAULT_PARTITION__"
	}
	return strings.ReplaceAll(*v, "/", "%2F")
}

// orderWorkload runs random single-row statements on orders: inserts, region changes (partition moves, some to
// NULL), qty updates and deletes.
type orderWorkload struct {
	db     *sql.DB
	rng    *rand.Rand
	nextID int
	steps  atomic.Int64
}

func (w *orderWorkload) region() any {
	if w.rng.IntN(10) == 0 {
		return nil
	}
	return orderRegions[w.rng.IntN(len(orderRegions))]
}

func (w *orderWorkload) step(ctx context.Context) error {
	id := 1 + w.rng.IntN(w.nextID)
	var err error
	switch p := w.rng.IntN(100); {
	case p < 30:
		w.nextID++
		_, err = w.db.ExecContext(ctx, "INSERT INTO orders (id, region, qty) VALUES (?, ?, ?)", w.nextID, w.region(), w.rng.IntN(1000))
	case p < 65:
		_, err = w.db.ExecContext(ctx, "UPDATE orders SET region = ? WHERE id = ?", w.region(), id)
	case p < 85:
		_, err = w.db.ExecContext(ctx, "UPDATE orders SET qty = ? WHERE id = ?", w.rng.IntN(1000), id)
	default:
		_, err = w.db.ExecContext(ctx, "DELETE FROM orders WHERE id = ?", id)
	}
	if err != nil {
		return fmt.Errorf("running the orders workload: %w", err)
	}
	w.steps.Add(1)
	return nil
}

// start runs steps in the background until the returned stop is called; stop waits for the statement in flight (never
// cancelled, see workload.start) and returns the first error.
func (w *orderWorkload) start(ctx context.Context) (stop func() error) {
	return runSteps(ctx, w.step, func() { time.Sleep(time.Duration(w.rng.IntN(3)) * time.Millisecond) })
}

// tableState runs query (which selects cols in order) and returns its rows in canonical text form, sorted.
func tableState(ctx context.Context, db *sql.DB, query string, cols []string) ([]string, error) {
	rs, err := db.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("reading the source table: %w", err)
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			return nil, err
		}
		m := map[string]*string{}
		for i, c := range cols {
			if vals[i].Valid {
				m[c] = &vals[i].String
			}
		}
		for _, c := range cols {
			if _, ok := m[c]; !ok {
				m[c] = nil
			}
		}
		out = append(out, canonColumns(cols, m))
	}
	sort.Strings(out)
	return out, rs.Err()
}

// createAudit creates <db>_audit.changes and triggers that record every change to db.items and db.orders there
// (table, op, old and new id, new qty and region, the time to the microsecond), outside the captured database, and
// returns the audit table's qualified name.
func createAudit(t *testing.T, db *sql.DB, dbName string) string {
	t.Helper()
	ctx := t.Context()
	auditDB := dbName + "_audit"
	table := "`" + auditDB + "`.changes"
	stmts := []string{
		"CREATE DATABASE `" + auditDB + "`",
		"CREATE TABLE " + table + ` (seq BIGINT AUTO_INCREMENT PRIMARY KEY, tbl VARCHAR(16) NOT NULL, op CHAR(1) NOT NULL,
			old_id INT NULL, new_id INT NULL, qty INT NULL, region VARCHAR(16) NULL, at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))`,
	}
	for _, tc := range []struct{ tbl, region string }{{"items", "NULL"}, {"orders", "NEW.region"}} {
		stmts = append(stmts,
			fmt.Sprintf("CREATE TRIGGER %[1]s_ai AFTER INSERT ON %[1]s FOR EACH ROW INSERT INTO %[2]s (tbl, op, new_id, qty, region) VALUES ('%[1]s', 'c', NEW.id, NEW.qty, %[3]s)", tc.tbl, table, tc.region),
			fmt.Sprintf("CREATE TRIGGER %[1]s_au AFTER UPDATE ON %[1]s FOR EACH ROW INSERT INTO %[2]s (tbl, op, old_id, new_id, qty, region) VALUES ('%[1]s', 'u', OLD.id, NEW.id, NEW.qty, %[3]s)", tc.tbl, table, tc.region),
			fmt.Sprintf("CREATE TRIGGER %[1]s_ad AFTER DELETE ON %[1]s FOR EACH ROW INSERT INTO %[2]s (tbl, op, old_id) VALUES ('%[1]s', 'd', OLD.id)", tc.tbl, table),
		)
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			t.Fatalf("creating the audit trail: %v", err)
		}
	}
	t.Cleanup(func() { _, _ = db.ExecContext(context.Background(), "DROP DATABASE `"+auditDB+"`") })
	return table
}

// diffByKey describes every key whose lake row of table differs from MySQL: both images (and MySQL's as re-read
// now), the lake row's Hudi commit, partition and file, and the key's source changes from the audit trail.
func diffByKey(ctx context.Context, db *sql.DB, audit, table string, cols []string, lake []map[string]*string, want []string) string {
	idOf := func(canon string) string {
		first, _, _ := strings.Cut(canon, "|")
		return strings.TrimPrefix(first, "id=")
	}
	wantBy := map[string]string{}
	for _, s := range want {
		wantBy[idOf(s)] = s
	}
	lakeBy := map[string][]map[string]*string{}
	for _, r := range lake {
		id := "<null>"
		if v := r["id"]; v != nil {
			id = *v
		}
		lakeBy[id] = append(lakeBy[id], r)
	}
	var ids []string
	for id, s := range wantBy {
		if rs := lakeBy[id]; len(rs) != 1 || canonColumns(cols, rs[0]) != s {
			ids = append(ids, id)
		}
	}
	for id := range lakeBy {
		if _, ok := wantBy[id]; !ok {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	exprs := make([]string, len(cols))
	for i, c := range cols {
		exprs[i] = fmt.Sprintf("CONCAT('%s=', IFNULL(CAST(%s AS CHAR), 'null'))", c, c)
	}
	reread := "SELECT CONCAT_WS('|', " + strings.Join(exprs, ", ") + ") FROM " + table + " WHERE id = ?"
	var sb strings.Builder
	for n, id := range ids {
		if n == 20 {
			fmt.Fprintf(&sb, "... and %d more keys\n", len(ids)-n)
			break
		}
		fmt.Fprintf(&sb, "key %s:\n  mysql: %s\n", id, wantBy[id])
		var now string
		switch err := db.QueryRowContext(ctx, reread, id).Scan(&now); {
		case errors.Is(err, sql.ErrNoRows):
			now = "(no row)"
		case err != nil:
			now = "(" + err.Error() + ")"
		}
		fmt.Fprintf(&sb, "  mysql now (re-read): %s\n", now)
		for _, r := range lakeBy[id] {
			fmt.Fprintf(&sb, "  lake:  %s (commit %s, partition %q, file %s)\n", canonColumns(cols, r), deref(r["_hoodie_commit_time"]),
				deref(r["_hoodie_partition_path"]), deref(r["_hoodie_file_name"]))
		}
		rs, err := db.QueryContext(ctx, "SELECT seq, op, IFNULL(old_id, ''), IFNULL(new_id, ''), IFNULL(qty, ''), IFNULL(region, 'null'), "+
			"DATE_FORMAT(at, '%H:%i:%s.%f') FROM "+audit+" WHERE tbl = ? AND (old_id = ? OR new_id = ?) ORDER BY seq", table, id, id)
		if err != nil {
			fmt.Fprintf(&sb, "  (audit trail: %v)\n", err)
			continue
		}
		for rs.Next() {
			var seq int64
			var op, oldID, newID, qty, region, at string
			if err := rs.Scan(&seq, &op, &oldID, &newID, &qty, &region, &at); err != nil {
				fmt.Fprintf(&sb, "  (audit trail: %v)\n", err)
				break
			}
			fmt.Fprintf(&sb, "  change #%d %s old=%s new=%s qty=%s region=%s at %s\n", seq, op, oldID, newID, qty, region, at)
		}
		_ = rs.Close()
	}
	return sb.String()
}

func deref(p *string) string {
	if p == nil {
		return "null"
	}
	return *p
}

// keepEvidence copies the test's working directory (worker data, log, Hudi table) out of the test's temporary
// directory and returns where it went.
func keepEvidence(t *testing.T, dir string) string {
	t.Helper()
	dst, err := os.MkdirTemp("", "binlake-hudi-e2e-evidence-")
	if err != nil {
		return fmt.Sprintf("(not kept: %v)", err)
	}
	if err := os.CopyFS(dst, os.DirFS(dir)); err != nil {
		return fmt.Sprintf("%s (partly: %v)", dst, err)
	}
	return dst
}
