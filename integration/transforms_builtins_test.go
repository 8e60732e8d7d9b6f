//go:build integration

package integration

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	osexec "os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/integration/containers"
	"github.com/binlake/binlake/integration/workerproc"
	"github.com/binlake/binlake/internal/mq"
	"github.com/binlake/binlake/schema/registry"
)

// This file covers the transform built-ins other than columns.mask and filter (transforms_test.go) end to end: a real
// MySQL 8 server, the binlake worker binary with connectors created over REST, RocketMQ, and Iceberg tables read back
// with pyiceberg. One worker, one database and one source connector carry the built-in scenarios (each transform is
// limited to its table with the tables key or a table-qualified rule); the error scenarios get their own sources
// because errors.tolerance is per connector. Every scenario waits for its snapshot to be committed before the binlog
// changes run, so the changes are binlog events and the expected lake state is exact.

// tfbEnv is the shared state of the built-ins test.
type tfbEnv struct {
	t      *testing.T
	ctx    context.Context
	db     *sql.DB
	dbName string
	w      *workerproc.Worker
	reader *mq.Reader
	reg    *registry.Client
}

// exec runs a statement and fails the test on error.
func (e *tfbEnv) exec(q string, args ...any) {
	e.t.Helper()
	if _, err := e.db.ExecContext(e.ctx, q, args...); err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
}

// q replaces {db} in a statement or pattern with the test database name.
func (e *tfbEnv) q(s string) string { return strings.ReplaceAll(s, "{db}", e.dbName) }

// re is q for regular expressions: the database name quoted.
func (e *tfbEnv) re(s string) string {
	return strings.ReplaceAll(s, "{db}", regexp.QuoteMeta(e.dbName))
}

// mysqlCanon runs a query whose result columns are cols (in order, as text) and returns the rows in canonical form,
// sorted.
func (e *tfbEnv) mysqlCanon(query string, cols []string) []string {
	e.t.Helper()
	rs, err := e.db.QueryContext(e.ctx, query)
	if err != nil {
		e.t.Fatalf("%s: %v", query, err)
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
			e.t.Fatal(err)
		}
		m := map[string]*string{}
		for i, c := range cols {
			m[c] = nil
			if vals[i].Valid {
				s := vals[i].String
				m[c] = &s
			}
		}
		out = append(out, canonColumns(cols, m))
	}
	if err := rs.Err(); err != nil {
		e.t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// lakeCanon returns lake rows in canonical form over cols, sorted.
func lakeCanon(rows []map[string]*string, cols []string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = canonColumns(cols, r)
	}
	sort.Strings(out)
	return out
}

// lakeField is one top-level field of an Iceberg schema as pyiceberg reports it.
type lakeField struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Required bool   `json:"required"`
}

// lakeState is what pyiceberg reads of one lake table: its schema, the current snapshot's summary and, when pyiceberg
// can read it (no equality deletes), its rows as column -> text maps.
type lakeState struct {
	Key        int                  `json:"key"`
	Missing    bool                 `json:"missing"`
	Error      string               `json:"error"`
	Fields     []lakeField          `json:"fields"`
	Identifier []string             `json:"identifier"`
	Summary    map[string]string    `json:"summary"`
	Rows       []map[string]*string `json:"rows"` // nil: not readable by pyiceberg yet
	Readable   bool                 `json:"readable"`
}

func (s lakeState) names() []string {
	out := make([]string, len(s.Fields))
	for i, f := range s.Fields {
		out[i] = f.Name
	}
	return out
}

func (s lakeState) records() int {
	n, _ := strconv.Atoi(s.Summary["total-records"])
	return n
}

// lakeDumpScript reads several lake tables in one Python process (pyiceberg's import costs seconds on a loaded
// machine): arguments are (sqlite, warehouse, namespace.table) triples; one JSON line per table. Values are text as in
// testdata/read_iceberg.py.
const lakeDumpScript = `import json, sys
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.exceptions import NoSuchTableError

def text(v):
    if v is None:
        return None
    if isinstance(v, bytes):
        return v.hex()
    return str(v)

args, cats = sys.argv[1:], {}
for i in range(0, len(args), 3):
    sqlite, wh, ident = args[i:i + 3]
    out = {"key": i // 3}
    try:
        if (sqlite, wh) not in cats:
            cats[(sqlite, wh)] = SqlCatalog("binlake", uri="sqlite:///" + sqlite, warehouse=wh)
        tbl = cats[(sqlite, wh)].load_table(ident)
        s = tbl.schema()
        out["fields"] = [{"name": f.name, "type": str(f.field_type), "required": f.required} for f in s.fields]
        out["identifier"] = sorted(s.identifier_field_names())
        snap = tbl.current_snapshot()
        out["summary"] = dict(snap.summary.additional_properties) if snap and snap.summary else {}
        if snap is None:
            out["rows"], out["readable"] = [], True
        elif int(out["summary"].get("total-equality-deletes", "0") or 0) == 0:
            out["rows"] = [{k: text(v) for k, v in r.items()} for r in tbl.scan().to_arrow().to_pylist()]
            out["readable"] = True
    except NoSuchTableError:
        out["missing"] = True
    except Exception as e:
        out["error"] = "%s: %s" % (type(e).__name__, e)
    print(json.dumps(out))
`

// dumpLake reads the given lake tables with pyiceberg in one process.
func dumpLake(t *testing.T, tables []lakeTable) (map[lakeTable]lakeState, error) {
	t.Helper()
	py := os.Getenv("BINLAKE_PYTHON")
	if py == "" {
		py = "python3"
	}
	args := []string{"-c", lakeDumpScript}
	for _, l := range tables {
		args = append(args, l.sqlite, l.warehouse, l.ident)
	}
	cmd := osexec.Command(py, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("reading lake tables with pyiceberg: %w: %s", err, stderr.String())
	}
	res := make(map[lakeTable]lakeState, len(tables))
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		var st lakeState
		if err := json.Unmarshal(line, &st); err != nil {
			return nil, fmt.Errorf("decoding pyiceberg output %q: %w", line, err)
		}
		if st.Key < 0 || st.Key >= len(tables) {
			return nil, fmt.Errorf("pyiceberg output for unknown table %d", st.Key)
		}
		res[tables[st.Key]] = st
	}
	if len(res) != len(tables) {
		return nil, fmt.Errorf("pyiceberg read %d of %d tables: %s", len(res), len(tables), stderr.String())
	}
	return res, nil
}

// lakeCheck is a condition on one lake table's state: nil when met.
type lakeCheck func(lakeState) error

// waitLake polls the lake tables (all in one pyiceberg run per round) until every check passes, and returns the
// states that passed.
func waitLake(t *testing.T, what string, timeout time.Duration, checks map[lakeTable]lakeCheck) map[lakeTable]lakeState {
	t.Helper()
	tables := slices.SortedFunc(maps.Keys(checks), func(a, b lakeTable) int { return strings.Compare(a.sqlite+a.ident, b.sqlite+b.ident) })
	var states map[lakeTable]lakeState
	workerproc.WaitFor(t, timeout, what, func() (bool, error) {
		var err error
		if states, err = dumpLake(t, tables); err != nil {
			return false, err
		}
		var pending []string
		for _, l := range tables {
			st := states[l]
			switch {
			case st.Error != "":
				pending = append(pending, l.ident+": "+st.Error)
			case st.Missing:
				pending = append(pending, l.ident+": no such table yet")
			default:
				if err := checks[l](st); err != nil {
					pending = append(pending, l.ident+": "+err.Error())
				}
			}
		}
		return len(pending) == 0, errors.New(strings.Join(pending, "; "))
	})
	return states
}

// wantRecords is a check that the current snapshot counts n records (upsert tables carrying equality deletes cannot be
// read by pyiceberg); more than n fails the test at once.
func wantRecords(t *testing.T, n int) lakeCheck {
	return func(st lakeState) error {
		if got := st.records(); got > n {
			t.Fatalf("a lake table counts %d records, want %d (summary %v)", got, n, st.Summary)
		} else if got < n {
			return fmt.Errorf("%d of %d records", got, n)
		}
		return nil
	}
}

// wantRows is a check that the table holds exactly want (canonical over cols), read by pyiceberg.
func wantRows(cols, want []string) lakeCheck {
	return func(st lakeState) error {
		if !st.Readable {
			return errors.New("equality deletes not compacted yet")
		}
		got := lakeCanon(st.Rows, cols)
		if equalStrings(got, want) {
			return nil
		}
		return fmt.Errorf("%d rows, want %d; first difference: %s", len(got), len(want), firstDiff(got, want))
	}
}

// checkLakeSchema asserts a lake table's columns (in order) and identifier (upsert key) fields.
func checkLakeSchema(t *testing.T, ident string, st lakeState, cols, key []string) {
	t.Helper()
	if !slices.Equal(st.names(), cols) {
		t.Errorf("lake table %s has columns %v, want %v", ident, st.names(), cols)
	}
	if want := slices.Sorted(slices.Values(key)); !slices.Equal(st.Identifier, want) {
		t.Errorf("lake table %s has identifier fields %v, want %v", ident, st.Identifier, want)
	}
}

// valueSubjects returns the registry's value subjects of topic (TopicRecordNameStrategy: "<topic>-<record>.Envelope").
func (e *tfbEnv) valueSubjects(topic string) []string {
	e.t.Helper()
	subjects, err := e.reg.Subjects(e.ctx)
	if err != nil {
		e.t.Fatalf("listing registry subjects: %v", err)
	}
	var out []string
	for _, s := range subjects {
		if strings.HasPrefix(s, topic+"-") && (strings.HasSuffix(s, ".Envelope") || strings.HasSuffix(s, "-value")) {
			out = append(out, s)
		}
	}
	return out
}

// subjectFieldHistory returns the value-record field names of every version of a subject, oldest first.
func (e *tfbEnv) subjectFieldHistory(subject string) [][]string {
	e.t.Helper()
	versions, err := e.reg.Versions(e.ctx, subject)
	if err != nil {
		e.t.Fatalf("listing versions of %s: %v", subject, err)
	}
	sort.Ints(versions)
	var out [][]string
	for _, v := range versions {
		ss, err := e.reg.SchemaVersion(e.ctx, subject, v)
		if err != nil {
			e.t.Fatalf("reading %s version %d: %v", subject, v, err)
		}
		out = append(out, valueFieldNames(e.t, ss.Schema))
	}
	return out
}

// topicExists reports whether the name server knows a route for topic.
func (e *tfbEnv) topicExists(topic string) bool {
	qs, err := e.reader.Queues(e.ctx, topic)
	return err == nil && len(qs) > 0
}

// binlogPosition returns the server's current binlog file and position.
func (e *tfbEnv) binlogPosition() (string, uint64) {
	e.t.Helper()
	var file string
	var pos uint64
	var doDB, ignoreDB, gtids sql.NullString
	err := e.db.QueryRowContext(e.ctx, "SHOW MASTER STATUS").Scan(&file, &pos, &doDB, &ignoreDB, &gtids)
	if err != nil {
		err = e.db.QueryRowContext(e.ctx, "SHOW BINARY LOG STATUS").Scan(&file, &pos, &doDB, &ignoreDB, &gtids)
	}
	if err != nil {
		e.t.Fatalf("reading the binlog position: %v", err)
	}
	return file, pos
}

// taskStatus is GET /connectors/{name}/status.
type taskStatus struct {
	Connector struct {
		State string `json:"state"`
		Trace string `json:"trace"`
	} `json:"connector"`
	Tasks []struct {
		ID    int    `json:"id"`
		State string `json:"state"`
		Trace string `json:"trace"`
	} `json:"tasks"`
}

// paymentEvent is one change event of the payments table the append lake table must hold as a row.
type paymentEvent struct {
	op     string
	id     int
	amount string
	status string
	lo, hi time.Time // bounds of the source commit time
}

// TestTransformsBuiltinsEndToEnd covers columns.include, columns.exclude, columns.rename (with ALTER TABLE ADD COLUMN
// mid-stream), key.replace (a table without a primary key, and a business key that differs from the primary key),
// name.case, route.regex and field.add through MySQL 8 -> RocketMQ -> Iceberg, and a transform failing on records under
// errors.tolerance=all (dead-letter topic with the reason) and none (the task fails with the record's position).
func TestTransformsBuiltinsEndToEnd(t *testing.T) {
	t.Parallel() // mostly waits on servers and commit intervals; runs beside the other end-to-end tests
	ctx := t.Context()
	my := containers.MySQLServer(t, containers.MySQL8)
	rmq := containers.RocketMQServer(t)
	dbName, db := openNewDatabase(t, my)
	e := &tfbEnv{t: t, ctx: ctx, db: db, dbName: dbName}

	// Tables and the rows the snapshots read.
	for _, ddl := range []string{
		`CREATE TABLE people (id INT PRIMARY KEY, first_name VARCHAR(32) NOT NULL, last_name VARCHAR(32) NOT NULL,
			email VARCHAR(64) NOT NULL, phone VARCHAR(20) NULL, notes TEXT NULL)`,
		`CREATE TABLE inventory (id INT PRIMARY KEY, sku VARCHAR(16) NOT NULL, qty INT NOT NULL, warehouse VARCHAR(16) NOT NULL,
			cost DECIMAL(10,2) NOT NULL, secret VARCHAR(32) NULL)`,
		`CREATE TABLE events_nopk (code VARCHAR(16) NOT NULL, region VARCHAR(8) NOT NULL, hits INT NOT NULL, note VARCHAR(32) NULL)`,
		`CREATE TABLE accounts (id INT PRIMARY KEY, account_no VARCHAR(16) NOT NULL UNIQUE, owner VARCHAR(32) NOT NULL,
			balance DECIMAL(12,2) NOT NULL)`,
		"CREATE TABLE `OrderItems` (`OrderID` INT PRIMARY KEY, `ItemName` VARCHAR(32) NOT NULL, `UnitPrice` DECIMAL(8,2) NOT NULL, `HTTPCode` INT NULL)",
		`CREATE TABLE shop_eu (id INT PRIMARY KEY, item VARCHAR(32) NOT NULL, qty INT NOT NULL)`,
		`CREATE TABLE shop_us (id INT PRIMARY KEY, item VARCHAR(32) NOT NULL, qty INT NOT NULL)`,
		`CREATE TABLE audit_log (id INT PRIMARY KEY, action VARCHAR(32) NOT NULL)`,
		`CREATE TABLE payments (id INT PRIMARY KEY, amount DECIMAL(10,2) NOT NULL, status VARCHAR(16) NOT NULL)`,
		`CREATE TABLE ledger (id INT PRIMARY KEY, qty INT NULL, label VARCHAR(16) NOT NULL)`,
		`CREATE TABLE ledger_strict (id INT PRIMARY KEY, qty INT NULL, label VARCHAR(16) NOT NULL)`,
	} {
		e.exec(ddl)
	}
	for i := 1; i <= 5; i++ {
		var phone any
		if i%2 == 1 {
			phone = fmt.Sprintf("+49-30-%04d", i)
		}
		e.exec("INSERT INTO people VALUES (?, ?, ?, ?, ?, ?)", i, fmt.Sprintf("First%d", i), fmt.Sprintf("Last%d", i),
			fmt.Sprintf("p%d@example.com", i), phone, "note "+strconv.Itoa(i))
	}
	for i := 1; i <= 4; i++ {
		e.exec("INSERT INTO inventory VALUES (?, ?, ?, ?, ?, ?)", i, fmt.Sprintf("SKU-%03d", i), i*10, "wh-"+strconv.Itoa(i%2),
			fmt.Sprintf("%d.25", i), "s3cr3t-"+strconv.Itoa(i))
	}
	for _, r := range [][]any{{"a", "eu", 1, nil}, {"a", "us", 2, "x"}, {"b", "eu", 3, nil}, {"c", "us", 4, "y"}} {
		e.exec("INSERT INTO events_nopk VALUES (?, ?, ?, ?)", r...)
	}
	for i := 1; i <= 4; i++ {
		e.exec("INSERT INTO accounts VALUES (?, ?, ?, ?)", i, fmt.Sprintf("ACC-%03d", i), fmt.Sprintf("owner%d", i), fmt.Sprintf("%d00.50", i))
	}
	for i := 1; i <= 3; i++ {
		e.exec("INSERT INTO `OrderItems` VALUES (?, ?, ?, ?)", i, fmt.Sprintf("item %d", i), fmt.Sprintf("%d.99", i), 200)
	}
	e.exec("INSERT INTO shop_eu VALUES (1, 'apple', 5), (2, 'pear', 6), (3, 'plum', 7)")
	e.exec("INSERT INTO shop_us VALUES (1, 'corn', 8), (2, 'bean', 9)")
	e.exec("INSERT INTO audit_log VALUES (1, 'login'), (2, 'logout')")
	for i := 1; i <= 3; i++ {
		e.exec("INSERT INTO payments VALUES (?, ?, ?)", i, fmt.Sprintf("%d0.00", i), "new")
	}
	// ledger: qty NULL makes the filter below fail on the record; a negative qty is filtered out.
	e.exec("INSERT INTO ledger VALUES (1, 1, 'one'), (2, 2, 'two'), (3, NULL, 'three'), (4, 4, 'four'), (5, -5, 'five'), " +
		"(6, NULL, 'six'), (7, 7, 'seven'), (8, 8, 'eight')")
	e.exec("INSERT INTO ledger_strict VALUES (1, 1, 'one'), (2, 2, 'two'), (3, 3, 'three')")

	w := workerproc.Start(t, workerproc.Options{NamesrvAddr: rmq.NamesrvAddr})
	e.w = w
	reader, err := mq.NewReader(mq.ReaderConfig{NamesrvAddr: rmq.NamesrvAddr, Group: "tfb-test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := reader.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reader.Close() })
	e.reader = reader
	if e.reg, err = registry.NewClient(w.BaseURL + "/schema-registry"); err != nil {
		t.Fatal(err)
	}

	source := func(prefix string, extra map[string]string) map[string]string {
		return sourceConfig(my, dbName, prefix, extra)
	}
	lakeDir := t.TempDir()
	sink := func(name, mode string, topics ...string) func(table string) lakeTable {
		sqlite, warehouse := filepath.Join(lakeDir, name+".db"), "file://"+filepath.Join(lakeDir, name+"-warehouse")
		w.MustDo("POST", "/connectors/"+name, lakeTable{sqlite: sqlite, warehouse: warehouse}.sinkConfig(strings.Join(topics, ","), mode, "1000", "2000"), 201)
		return func(table string) lakeTable {
			return lakeTable{sqlite: sqlite, warehouse: warehouse, ident: dbName + "." + table}
		}
	}

	// One source for the built-ins. Two tables share a routed topic, so subjects are named per record.
	topic := func(table string) string { return connect.TopicName("tfb", dbName, table) }
	const shopsTopic, auditTopic = "tfroute_shops", "tfroute_audit_events"
	builtinsStart := time.Now()
	w.MustDo("POST", "/connectors/tfb-source", source("tfb", map[string]string{
		"table.include.list":                    e.re(`{db}\.(people|inventory|events_nopk|accounts|OrderItems|shop_eu|shop_us|audit_log|payments)`),
		"value.converter.subject.name.strategy": "topic-record",
		"transforms":                            "dropcols,names,keepcols,keys,snake,toshops,toaudit,addop,addts,addorigin,addbatch",
		"transforms.dropcols.type":              "columns.exclude",
		"transforms.dropcols.columns":           e.re(`{db}\.people\.(phone.*|notes)`),
		"transforms.names.type":                 "columns.rename",
		"transforms.names.renames":              e.q("first_name:given_name,{db}.people.last_name:family_name,zip_code:postal_code"),
		"transforms.keepcols.type":              "columns.include",
		"transforms.keepcols.columns":           e.re(`{db}\.inventory\.(id|sku|qty)`),
		"transforms.keepcols.tables":            e.re(`{db}\.inventory`),
		"transforms.keys.type":                  "key.replace",
		"transforms.keys.message.key.columns":   e.re(`{db}\.events_nopk:code,region;{db}\.accounts:account_no`),
		"transforms.snake.type":                 "name.case",
		"transforms.snake.case":                 "snake",
		"transforms.snake.tables":               e.re(`{db}\.OrderItems`),
		"transforms.toshops.type":               "route.regex",
		"transforms.toshops.regex":              e.re(`{db}\.shop_(eu|us)`),
		"transforms.toshops.replacement":        shopsTopic,
		"transforms.toaudit.type":               "route.regex",
		"transforms.toaudit.regex":              e.re(`{db}\.(audit)_log`),
		"transforms.toaudit.replacement":        "tfroute_${1}_events",
		"transforms.addop.type":                 "field.add",
		"transforms.addop.field":                "change_op",
		"transforms.addop.value.from":           "op",
		"transforms.addop.tables":               e.re(`{db}\.payments`),
		"transforms.addts.type":                 "field.add",
		"transforms.addts.field":                "committed_at",
		"transforms.addts.value.from":           "commit.timestamp",
		"transforms.addts.tables":               e.re(`{db}\.payments`),
		"transforms.addorigin.type":             "field.add",
		"transforms.addorigin.field":            "origin",
		"transforms.addorigin.value":            "mysql-eu",
		"transforms.addorigin.tables":           e.re(`{db}\.payments`),
		"transforms.addbatch.type":              "field.add",
		"transforms.addbatch.field":             "batch_no",
		"transforms.addbatch.value":             "7",
		"transforms.addbatch.kind":              "int32",
		"transforms.addbatch.tables":            e.re(`{db}\.payments`),
	}), 201)
	upsert := sink("tfb-upsert", "upsert", topic("people"), topic("inventory"), topic("events_nopk"), topic("accounts"),
		topic("order_items"), shopsTopic, auditTopic)
	appendLake := sink("tfb-append", "append", topic("payments"))

	// The error scenarios: a filter that fails on a NULL qty (comparing nil with a number is an error in expr).
	nonneg := map[string]string{
		"transforms":                  "nonneg",
		"transforms.nonneg.type":      "filter",
		"transforms.nonneg.condition": `op == "d" || after.qty >= 0`,
	}
	const dlqTopic = "tfb_dlq_ledger"
	dlqCfg := source("tfd", nonneg)
	dlqCfg["table.include.list"] = e.re(`{db}\.ledger`)
	dlqCfg["errors.tolerance"] = "all"
	dlqCfg["errors.deadletterqueue.topic.name"] = dlqTopic
	w.MustDo("POST", "/connectors/tfd-source", dlqCfg, 201)
	ledgerLake := sink("tfd-upsert", "upsert", connect.TopicName("tfd", dbName, "ledger"))("ledger")
	failCfg := source("tff", nonneg)
	failCfg["table.include.list"] = e.re(`{db}\.ledger_strict`)
	w.MustDo("POST", "/connectors/tff-source", failCfg, 201)
	strictTopic := connect.TopicName("tff", dbName, "ledger_strict")

	// Snapshots first: every table's snapshot is committed before any binlog change.
	snapChecks := map[lakeTable]lakeCheck{
		ledgerLake:             wantRecords(t, 5), // 2 rows dead-lettered, 1 filtered out
		appendLake("payments"): wantRows([]string{"id", "change_op"}, []string{"id=1|change_op=r", "id=2|change_op=r", "id=3|change_op=r"}),
	}
	for table, n := range map[string]int{"people": 5, "inventory": 4, "events_nopk": 4, "accounts": 4, "order_items": 3,
		"shop_eu": 3, "shop_us": 2, "audit_log": 2} {
		snapChecks[upsert(table)] = wantRecords(t, n)
	}
	waitLake(t, "every snapshot committed to the lake", 4*time.Minute, snapChecks)
	builtinsSnapshotDone := time.Now()
	if got := consumeTopic(t, reader, strictTopic, 3, 2*time.Minute); len(got) != 3 {
		t.Fatalf("%d snapshot messages of ledger_strict, want 3", len(got))
	}
	t.Logf("snapshots committed after %s", time.Since(builtinsStart).Round(time.Second))

	// Binlog changes. payments: each statement's commit time is bounded by the clock around it.
	var payEvents []paymentEvent
	for id := 1; id <= 3; id++ {
		payEvents = append(payEvents, paymentEvent{op: "r", id: id, amount: fmt.Sprintf("%d0.00", id), status: "new",
			lo: builtinsStart, hi: builtinsSnapshotDone})
	}
	pay := func(op string, id int, amount, status, stmt string, args ...any) {
		t.Helper()
		lo := time.Now()
		e.exec(stmt, args...)
		payEvents = append(payEvents, paymentEvent{op: op, id: id, amount: amount, status: status, lo: lo, hi: time.Now()})
		time.Sleep(300 * time.Millisecond) // disjoint commit-time windows
	}
	pay("c", 4, "40.50", "new", "INSERT INTO payments VALUES (4, 40.50, 'new')")
	pay("u", 1, "10.00", "paid", "UPDATE payments SET status = 'paid' WHERE id = 1")
	pay("u", 4, "44.00", "paid", "UPDATE payments SET amount = 44.00, status = 'paid' WHERE id = 4")
	pay("d", 2, "20.00", "new", "DELETE FROM payments WHERE id = 2")

	// people: changes around two ALTER TABLE ADD COLUMN, one renamed by the transform, one excluded.
	e.exec("UPDATE people SET first_name = 'Firstly' WHERE id = 1")
	e.exec("INSERT INTO people VALUES (6, 'First6', 'Last6', 'p6@example.com', '+1-555-0006', 'n6')")
	e.exec("ALTER TABLE people ADD COLUMN zip_code VARCHAR(10) NULL")
	e.exec("INSERT INTO people VALUES (7, 'First7', 'Last7', 'p7@example.com', NULL, NULL, '75001')")
	e.exec("UPDATE people SET zip_code = '10115', last_name = 'Lastly' WHERE id = 2")
	e.exec("ALTER TABLE people ADD COLUMN phone_ext VARCHAR(8) NULL")
	e.exec("INSERT INTO people VALUES (8, 'First8', 'Last8', 'p8@example.com', '+33-1-0008', 'n8', '69001', '42')")
	e.exec("UPDATE people SET phone_ext = '99' WHERE id = 3")
	e.exec("DELETE FROM people WHERE id = 4")
	// inventory: an update of a dropped column only, and a column added later that columns.include leaves out.
	e.exec("UPDATE inventory SET qty = 11 WHERE id = 1")
	e.exec("UPDATE inventory SET cost = 99.99, secret = 'changed' WHERE id = 2")
	e.exec("DELETE FROM inventory WHERE id = 3")
	e.exec("ALTER TABLE inventory ADD COLUMN bin VARCHAR(8) NULL")
	e.exec("INSERT INTO inventory VALUES (5, 'SKU-005', 50, 'wh-1', 5.25, 'x', 'B-5')")
	// events_nopk: keyed by (code, region) through key.replace.
	e.exec("UPDATE events_nopk SET hits = hits + 10 WHERE code = 'a'")
	e.exec("DELETE FROM events_nopk WHERE code = 'b' AND region = 'eu'")
	e.exec("UPDATE events_nopk SET region = 'ap', note = 'moved' WHERE code = 'c' AND region = 'us'")
	e.exec("INSERT INTO events_nopk VALUES ('d', 'eu', 5, 'new')")
	// accounts: keyed by account_no; the business key changes on one row, the primary key on another.
	e.exec("UPDATE accounts SET account_no = 'ACC-902' WHERE id = 2")
	e.exec("UPDATE accounts SET id = 33 WHERE id = 3")
	e.exec("UPDATE accounts SET balance = balance + 1 WHERE id = 1")
	e.exec("DELETE FROM accounts WHERE id = 4")
	e.exec("INSERT INTO accounts VALUES (5, 'ACC-005', 'owner5', 500.00)")
	// OrderItems -> order_items.
	e.exec("UPDATE `OrderItems` SET `HTTPCode` = 404, `UnitPrice` = 0.50 WHERE `OrderID` = 2")
	e.exec("INSERT INTO `OrderItems` VALUES (4, 'item 4', 4.99, NULL)")
	e.exec("DELETE FROM `OrderItems` WHERE `OrderID` = 1")
	// Routed tables.
	e.exec("INSERT INTO shop_eu VALUES (4, 'fig', 1)")
	e.exec("UPDATE shop_us SET qty = 90 WHERE id = 2")
	e.exec("DELETE FROM shop_eu WHERE id = 1")
	e.exec("INSERT INTO audit_log VALUES (3, 'purge')")
	// ledger (errors.tolerance=all): NULL qty fails the filter (dead-lettered), a negative qty is filtered out.
	e.exec("INSERT INTO ledger VALUES (9, 9, 'nine'), (10, NULL, 'ten'), (11, NULL, 'eleven'), (12, -1, 'twelve')")
	e.exec("UPDATE ledger SET qty = NULL WHERE id = 1")
	e.exec("UPDATE ledger SET qty = 20 WHERE id = 2")
	e.exec("DELETE FROM ledger WHERE id IN (4, 6)")
	// ledger_strict (errors.tolerance=none): one failing insert, with its binlog position bounded.
	failFile, failLo := e.binlogPosition()
	e.exec("INSERT INTO ledger_strict VALUES (4, NULL, 'four')")
	failFile2, failHi := e.binlogPosition()
	if failFile2 != failFile {
		t.Fatalf("the binlog rotated during the failing insert (%s -> %s)", failFile, failFile2)
	}
	e.exec("INSERT INTO ledger_strict VALUES (5, 5, 'five')")

	// The expected lake state: the MySQL tables as the transforms shape them.
	peopleCols := []string{"id", "given_name", "family_name", "email", "postal_code"}
	inventoryCols := []string{"id", "sku", "qty"}
	nopkCols := []string{"code", "region", "hits", "note"}
	accountCols := []string{"id", "account_no", "owner", "balance"}
	orderCols := []string{"order_id", "item_name", "unit_price", "http_code"}
	shopCols := []string{"id", "item", "qty"}
	payCols := []string{"id", "amount", "status", "change_op", "origin", "batch_no", "_binlake_op"}
	var payWant []string
	for _, p := range payEvents {
		payWant = append(payWant, fmt.Sprintf("id=%d|amount=%s|status=%s|change_op=%s|origin=mysql-eu|batch_no=7|_binlake_op=%s",
			p.id, p.amount, p.status, p.op, p.op))
	}
	sort.Strings(payWant)
	ledgerCols := []string{"id", "qty", "label"}
	final := waitLake(t, "every lake table to hold the transformed rows", 4*time.Minute, map[lakeTable]lakeCheck{
		upsert("people"): wantRows(peopleCols,
			e.mysqlCanon("SELECT CAST(id AS CHAR), first_name, last_name, email, zip_code FROM people", peopleCols)),
		upsert("inventory"): wantRows(inventoryCols,
			e.mysqlCanon("SELECT CAST(id AS CHAR), sku, CAST(qty AS CHAR) FROM inventory", inventoryCols)),
		upsert("events_nopk"): wantRows(nopkCols,
			e.mysqlCanon("SELECT code, region, CAST(hits AS CHAR), note FROM events_nopk", nopkCols)),
		upsert("accounts"): wantRows(accountCols,
			e.mysqlCanon("SELECT CAST(id AS CHAR), account_no, owner, CAST(balance AS CHAR) FROM accounts", accountCols)),
		upsert("order_items"): wantRows(orderCols, e.mysqlCanon("SELECT CAST(`OrderID` AS CHAR), `ItemName`, "+
			"CAST(`UnitPrice` AS CHAR), CAST(`HTTPCode` AS CHAR) FROM `OrderItems`", orderCols)),
		upsert("shop_eu"): wantRows(shopCols, e.mysqlCanon("SELECT CAST(id AS CHAR), item, CAST(qty AS CHAR) FROM shop_eu", shopCols)),
		upsert("shop_us"): wantRows(shopCols, e.mysqlCanon("SELECT CAST(id AS CHAR), item, CAST(qty AS CHAR) FROM shop_us", shopCols)),
		upsert("audit_log"): wantRows([]string{"id", "action"},
			e.mysqlCanon("SELECT CAST(id AS CHAR), action FROM audit_log", []string{"id", "action"})),
		appendLake("payments"): wantRows(payCols, payWant),
		// ledger: id 1's update to NULL failed (dead-lettered), so its last kept image stays; NULL and negative
		// quantities never arrive; the deletes of 4 and 6 pass the filter.
		ledgerLake: wantRows(ledgerCols, []string{"id=1|qty=1|label=one", "id=2|qty=20|label=two", "id=7|qty=7|label=seven",
			"id=8|qty=8|label=eight", "id=9|qty=9|label=nine"}),
	})
	t.Logf("lake tables final after %s", time.Since(builtinsStart).Round(time.Second))

	t.Run("columns.exclude+rename with ALTER TABLE", func(t *testing.T) {
		checkLakeSchema(t, "people", final[upsert("people")], peopleCols, []string{"id"})
		// The registry saw the same shapes: every version without the excluded or old names, the first one the
		// initial shape and the last one equal to the lake's columns.
		subjects := e.valueSubjects(topic("people"))
		if len(subjects) != 1 {
			t.Fatalf("value subjects of %s: %v, want one", topic("people"), subjects)
		}
		history := e.subjectFieldHistory(subjects[0])
		for i, fields := range history {
			for _, bad := range []string{"phone", "notes", "phone_ext", "first_name", "last_name", "zip_code"} {
				if slices.Contains(fields, bad) {
					t.Errorf("registry %s version %d has field %q: %v", subjects[0], i+1, bad, fields)
				}
			}
		}
		if !slices.Equal(history[0], peopleCols[:4]) || !slices.Equal(history[len(history)-1], peopleCols) {
			t.Errorf("registry %s field history %v, want %v first and %v last", subjects[0], history, peopleCols[:4], peopleCols)
		}
	})

	t.Run("columns.include", func(t *testing.T) {
		checkLakeSchema(t, "inventory", final[upsert("inventory")], inventoryCols, []string{"id"})
	})

	t.Run("key.replace on a table without primary key", func(t *testing.T) {
		// An upsert table (no changelog columns) keyed by the replaced key.
		checkLakeSchema(t, "events_nopk", final[upsert("events_nopk")], nopkCols, []string{"code", "region"})
	})

	t.Run("key.replace with a business key", func(t *testing.T) {
		checkLakeSchema(t, "accounts", final[upsert("accounts")], accountCols, []string{"account_no"})
	})

	t.Run("name.case snake", func(t *testing.T) {
		checkLakeSchema(t, "order_items", final[upsert("order_items")], orderCols, []string{"order_id"})
		if e.topicExists(topic("OrderItems")) {
			t.Errorf("topic %s exists: the events of OrderItems should go to %s", topic("OrderItems"), topic("order_items"))
		}
	})

	t.Run("route.regex", func(t *testing.T) {
		for _, tbl := range []string{"shop_eu", "shop_us"} {
			checkLakeSchema(t, tbl, final[upsert(tbl)], shopCols, []string{"id"})
		}
		for _, tbl := range []string{"shop_eu", "shop_us", "audit_log"} {
			if e.topicExists(topic(tbl)) {
				t.Errorf("topic %s exists: the events of %s should only go to the routed topic", topic(tbl), tbl)
			}
		}
		// Both shop tables share the routed topic, each message tagged with its table.
		tags := map[string]int{}
		for _, m := range consumeTopic(t, reader, shopsTopic, 8, time.Minute) {
			tags[m.Tag]++
			if m.Props["binlake.table"] != m.Tag {
				t.Errorf("message tagged %q has binlake.table %q", m.Tag, m.Props["binlake.table"])
			}
		}
		wantTags := map[string]int{dbName + ".shop_eu": 5, dbName + ".shop_us": 3}
		if fmt.Sprint(tags) != fmt.Sprint(wantTags) {
			t.Errorf("messages of %s by tag: %v, want %v", shopsTopic, tags, wantTags)
		}
		if n := len(consumeTopic(t, reader, auditTopic, 3, time.Minute)); n != 3 {
			t.Errorf("%d messages in %s, want 3", n, auditTopic)
		}
	})

	t.Run("field.add", func(t *testing.T) {
		st := final[appendLake("payments")]
		checkLakeSchema(t, "payments", st, []string{"id", "amount", "status", "change_op", "committed_at", "origin", "batch_no",
			"_binlake_op", "_binlake_seq", "_binlake_source_ts"}, nil)
		types := map[string]string{}
		for _, f := range st.Fields {
			types[f.Name] = f.Type
		}
		if types["committed_at"] != "timestamptz" || types["batch_no"] != "int" || types["change_op"] != "string" || types["origin"] != "string" {
			t.Errorf("added column types %v, want committed_at timestamptz, batch_no int, change_op and origin string", types)
		}
		// committed_at is the source commit time: within the clock bounds of its statement (snapshot reads: of the
		// snapshot), to the millisecond the source gives.
		for _, r := range st.Rows {
			id, _ := strconv.Atoi(*r["id"])
			op := *r["change_op"]
			i := slices.IndexFunc(payEvents, func(p paymentEvent) bool { return p.id == id && p.op == op })
			if i < 0 {
				t.Errorf("payments row %d (%s) matches no source event", id, op)
				continue
			}
			if r["committed_at"] == nil {
				t.Errorf("payments row %d (%s) has no committed_at", id, op)
				continue
			}
			ts, err := time.Parse("2006-01-02 15:04:05.999999-07:00", *r["committed_at"])
			if err != nil {
				t.Fatalf("committed_at %q: %v", *r["committed_at"], err)
			}
			p := payEvents[i]
			if lo, hi := p.lo.Truncate(time.Millisecond).Add(-20*time.Millisecond), p.hi.Add(20*time.Millisecond); ts.Before(lo) || ts.After(hi) {
				t.Errorf("payments row %d (%s) committed_at %s, want within [%s, %s]", id, op, ts.UTC(), lo.UTC(), hi.UTC())
			}
		}
	})

	t.Run("errors.tolerance=all dead-letters", func(t *testing.T) {
		msgs := consumeTopic(t, reader, dlqTopic, 5, time.Minute)
		ops := map[string]int{}
		for _, m := range msgs {
			ops[m.Props["binlake.op"]]++
			reason := m.Props["binlake.error"]
			if !strings.Contains(reason, `transform "nonneg"`) || !strings.Contains(reason, "evaluating condition") ||
				!strings.Contains(reason, dbName+".ledger at sequence "+m.Props["binlake.seq"]) {
				t.Errorf("dead letter %s/%d has reason %q", m.Queue.Topic, m.Offset, reason)
			}
			if m.Tag != dbName+".ledger" || !bytes.Contains(m.Body, []byte(reason)) {
				t.Errorf("dead letter tag %q body %q", m.Tag, m.Body)
			}
		}
		if want := map[string]int{"r": 2, "c": 2, "u": 1}; fmt.Sprint(ops) != fmt.Sprint(want) {
			t.Errorf("dead letters by op: %v, want %v", ops, want)
		}
	})

	t.Run("errors.tolerance=none fails the task", func(t *testing.T) {
		var st taskStatus
		workerproc.WaitFor(t, time.Minute, "tff-source to fail", func() (bool, error) {
			if err := w.MustDo("GET", "/connectors/tff-source/status", nil, 200).JSON(&st); err != nil {
				return false, err
			}
			return len(st.Tasks) == 1 && st.Tasks[0].State == "FAILED", fmt.Errorf("status %+v", st)
		})
		trace := st.Tasks[0].Trace
		m := regexp.MustCompile(`transform "nonneg" on ` + regexp.QuoteMeta(dbName) + `\.ledger_strict at sequence \d+ \(binlog ([^:]+):(\d+)\): evaluating condition`).FindStringSubmatch(trace)
		if m == nil {
			t.Fatalf("task trace %q does not name the failing record's position", trace)
		}
		pos, _ := strconv.ParseUint(m[2], 10, 64)
		if m[1] != failFile || pos <= failLo || pos >= failHi {
			t.Errorf("trace names %s:%d, want %s in (%d, %d)", m[1], pos, failFile, failLo, failHi)
		}
		// Nothing from the failing record on was sent.
		if n := len(consumeTopic(t, reader, strictTopic, 3, 10*time.Second)); n != 3 {
			t.Errorf("%d messages in %s, want the 3 snapshot rows only", n, strictTopic)
		}
	})
}
