//go:build integration

package integration

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
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
)

// customerColumns are the columns of the transforms test table, compared as text.
var customerColumns = []string{"id", "email", "status", "ssn", "amount"}

const (
	tfSalt    = "pepper-2026:"
	tfSSNMask = "###-##-####"
)

// customer is one source row as MySQL holds it (nil: NULL).
type customer struct {
	id                    int
	email, status, amount string
	ssn                   *string
}

// maskedCanon is the canonical text of the row the lake must hold for c: email hashed with the salt (hex SHA-256 of
// salt+email, computed here independently of binlake), ssn replaced by the fixed mask unless NULL.
func (c customer) maskedCanon() string {
	sum := sha256.Sum256([]byte(tfSalt + c.email))
	email := hex.EncodeToString(sum[:])
	ssn := "null"
	if c.ssn != nil {
		ssn = tfSSNMask
	}
	return fmt.Sprintf("id=%d|email=%s|status=%s|ssn=%s|amount=%s", c.id, email, c.status, ssn, c.amount)
}

// canonCustomer is the canonical text of a lake row, in the same form as maskedCanon.
func canonCustomer(r map[string]*string) string { return canonColumns(customerColumns, r) }

// readCustomer reads one row from MySQL; ok is false when it does not exist.
func readCustomer(ctx context.Context, db *sql.DB, id int) (c customer, ok bool, err error) {
	var ssn sql.NullString
	err = db.QueryRowContext(ctx, "SELECT id, email, status, ssn, CAST(amount AS CHAR) FROM customers WHERE id = ?", id).
		Scan(&c.id, &c.email, &c.status, &ssn, &c.amount)
	if err == sql.ErrNoRows {
		return customer{}, false, nil
	}
	if err != nil {
		return customer{}, false, fmt.Errorf("reading customer %d: %w", id, err)
	}
	if ssn.Valid {
		c.ssn = &ssn.String
	}
	return c, true, nil
}

// allCustomers reads the whole source table.
func allCustomers(ctx context.Context, db *sql.DB) (map[int]customer, error) {
	rs, err := db.QueryContext(ctx, "SELECT id, email, status, ssn, CAST(amount AS CHAR) FROM customers")
	if err != nil {
		return nil, fmt.Errorf("reading customers: %w", err)
	}
	defer rs.Close()
	out := map[int]customer{}
	for rs.Next() {
		var c customer
		var ssn sql.NullString
		if err := rs.Scan(&c.id, &c.email, &c.status, &ssn, &c.amount); err != nil {
			return nil, err
		}
		if ssn.Valid {
			c.ssn = &ssn.String
		}
		out[c.id] = c
	}
	return out, rs.Err()
}

// lakeModel is what the upsert lake table must hold under the filter
// `op == "d" || after.status == "active"` (connect/transform/filter.go: the filter keeps or drops whole events):
//   - an insert, update or snapshot read of an active row passes and upserts the masked row;
//   - a delete passes (it carries no after image) and removes the key;
//   - an event whose after image is not active is dropped, so an update that moves a row out of the filter leaves the
//     last kept image in the lake, and an inactive row never reaches it.
type lakeModel struct {
	rows     map[int]string
	rawEmail map[string]bool // every email value MySQL ever held
}

// observe applies the event of the last statement on id, reading the row's new state from MySQL.
func (m *lakeModel) observe(ctx context.Context, t *testing.T, db *sql.DB, id int) {
	t.Helper()
	c, ok, err := readCustomer(ctx, db, id)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case !ok:
		delete(m.rows, id)
	case c.status == "active":
		m.rows[id] = c.maskedCanon()
	}
	if ok {
		m.rawEmail[c.email] = true
	}
}

func (m *lakeModel) sorted() []string {
	out := make([]string, 0, len(m.rows))
	for _, r := range m.rows {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// fieldErrors decodes a REST error body's field names.
func fieldErrors(t *testing.T, r workerproc.Response) []string {
	t.Helper()
	var body struct {
		ErrorCode int `json:"error_code"`
		Errors    []struct {
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := r.JSON(&body); err != nil {
		t.Fatalf("decoding error body %s: %v", r.Body, err)
	}
	var fields []string
	for _, e := range body.Errors {
		fields = append(fields, e.Field)
	}
	return fields
}

// TestTransformsMaskAndFilterEndToEnd runs a mysql-source with a hash mask on email, a fixed mask on ssn and a filter
// on status through a real MySQL 8 -> RocketMQ -> Iceberg flow and checks that the lake table holds exactly the masked,
// filtered rows, that no raw email reaches the lake, and that bad transform configs are rejected over REST.
func TestTransformsMaskAndFilterEndToEnd(t *testing.T) {
	t.Parallel() // mostly waits on servers and commit intervals; runs beside the other end-to-end tests
	ctx := t.Context()
	my := containers.MySQLServer(t, containers.MySQL8)
	mq := containers.RocketMQServer(t)
	dbName, db := openNewDatabase(t, my)
	if _, err := db.ExecContext(ctx, `CREATE TABLE customers (
		id INT PRIMARY KEY, email VARCHAR(128) NOT NULL, status VARCHAR(16) NOT NULL, ssn VARCHAR(11) NULL,
		amount DECIMAL(10,2) NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	model := &lakeModel{rows: map[int]string{}, rawEmail: map[string]bool{}}
	exec := func(id int, q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		model.observe(ctx, t, db, id)
	}
	insert := func(id int, status string) {
		t.Helper()
		var ssn any
		if id%2 == 0 {
			ssn = fmt.Sprintf("%03d-%02d-%04d", id, id%100, id*7)
		}
		exec(id, "INSERT INTO customers VALUES (?, ?, ?, ?, ?)", id, fmt.Sprintf("user%d@example.com", id), status, ssn,
			fmt.Sprintf("%d.%02d", id*13, id%100))
	}
	// Rows before the source starts: read by the snapshot.
	for id := 1; id <= 30; id++ {
		status := "active"
		if id%3 == 0 {
			status = "inactive"
		}
		insert(id, status)
	}

	w := workerproc.Start(t, workerproc.Options{NamesrvAddr: mq.NamesrvAddr})

	// The transform specs are documented: the plugin config lists the transforms key, and the validate route and
	// connector creation check each transforms.<alias>.<key>.
	var plugins []tfPlugin
	if err := w.MustDo("GET", "/connector-plugins", nil, 200).JSON(&plugins); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(plugins, func(p tfPlugin) bool {
		return p.Class == "mysql-source"
	}) {
		t.Fatalf("GET /connector-plugins does not list mysql-source: %+v", plugins)
	}
	var keys []tfKey
	if err := w.MustDo("GET", "/connector-plugins/mysql-source/config", nil, 200).JSON(&keys); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(keys, func(k tfKey) bool {
		return k.Name == "transforms" && k.Doc != ""
	}) {
		t.Fatalf("GET /connector-plugins/mysql-source/config has no documented transforms key: %s", keysNames(keys))
	}

	sourceCfg := func(extra map[string]string) map[string]string { return sourceConfig(my, dbName, "tf", extra) }
	emailCol := regexp.QuoteMeta(dbName) + `\.customers\.email`
	bad := []struct {
		name  string
		cfg   map[string]string
		field string
	}{
		{"unknown-type", map[string]string{"transforms": "x", "transforms.x.type": "columns.maskk"}, "transforms.x.type"},
		{"hash-without-salt", map[string]string{"transforms": "m", "transforms.m.type": "columns.mask",
			"transforms.m.columns": emailCol, "transforms.m.mode": "hash"}, "transforms.m.salt"},
		{"bad-mode", map[string]string{"transforms": "m", "transforms.m.type": "columns.mask",
			"transforms.m.columns": emailCol, "transforms.m.mode": "scramble"}, "transforms.m.mode"},
		{"bad-condition", map[string]string{"transforms": "f", "transforms.f.type": "filter",
			"transforms.f.condition": `after.status ==`}, "transforms.f.condition"},
		{"missing-condition", map[string]string{"transforms": "f", "transforms.f.type": "filter"}, "transforms.f.condition"},
	}
	for _, b := range bad {
		r := w.MustDo("POST", "/connectors/bad-"+b.name, sourceCfg(b.cfg), 400)
		if fields := fieldErrors(t, r); !slices.Contains(fields, b.field) {
			t.Errorf("%s: the 400 names fields %q, want %q; body: %s", b.name, fields, b.field, r.Body)
		}
		w.MustDo("GET", "/connectors/bad-"+b.name, nil, 404)
	}

	topic := connect.TopicName("tf", dbName, "customers")
	w.MustDo("POST", "/connectors/tf-source", sourceCfg(map[string]string{
		"transforms":                   "hashemail,maskssn,active",
		"transforms.hashemail.type":    "columns.mask",
		"transforms.hashemail.columns": emailCol,
		"transforms.hashemail.mode":    "hash",
		"transforms.hashemail.salt":    tfSalt,
		"transforms.maskssn.type":      "columns.mask",
		"transforms.maskssn.columns":   regexp.QuoteMeta(dbName) + `\.customers\.ssn`,
		"transforms.maskssn.mode":      "fixed",
		"transforms.maskssn.mask":      tfSSNMask,
		"transforms.active.type":       "filter",
		"transforms.active.condition":  `op == "d" || after.status == "active"`,
	}), 201)
	// The salt is declared secret (connect/transform/mask.go): the REST API must not echo it.
	for _, path := range []string{"/connectors/tf-source", "/connectors/tf-source/config", "/connectors/tf-source/tasks"} {
		if r := w.MustDo("GET", path, nil, 200); bytes.Contains(r.Body, []byte(tfSalt)) {
			t.Errorf("GET %s shows the columns.mask salt in clear: %s", path, r.Body)
		}
	}
	lakeDir := t.TempDir()
	lake := lakeTable{
		sqlite:    filepath.Join(lakeDir, "tf.db"),
		warehouse: "file://" + filepath.Join(lakeDir, "tf-warehouse"),
		ident:     dbName + ".customers",
	}
	w.MustDo("POST", "/connectors/tf-upsert", lake.sinkConfig(topic, "upsert", "1000", "3000"), 201)

	// waitLake waits until the lake equals the model.
	waitLake := func(what string) []map[string]*string {
		t.Helper()
		want := model.sorted()
		var lastRows []map[string]*string
		workerproc.WaitFor(t, 4*time.Minute, what, func() (bool, error) {
			rows, err := lake.rows(t)
			if err != nil {
				return false, err
			}
			got := make([]string, len(rows))
			for i, r := range rows {
				got[i] = canonCustomer(r)
			}
			sort.Strings(got)
			lastRows = rows
			return equalStrings(got, want), fmt.Errorf("lake has %d rows, want %d; first difference: %s",
				len(got), len(want), firstDiff(got, want))
		})
		return lastRows
	}
	// The snapshot lands before any binlog change, so each later statement is one binlog event. The lake table is
	// not readable by pyiceberg yet (see lakeSummary), so wait on the committed snapshot's row count.
	wantSnapshot := len(model.rows)
	workerproc.WaitFor(t, 4*time.Minute, "the snapshot's active rows committed to the lake", func() (bool, error) {
		sum, err := lakeSummary(t, lake)
		if err != nil {
			return false, err
		}
		n, _ := strconv.Atoi(sum["total-records"])
		if n > wantSnapshot {
			t.Fatalf("the lake holds %d records after the snapshot, want %d: the filter let inactive rows through", n, wantSnapshot)
		}
		return n == wantSnapshot, fmt.Errorf("snapshot summary %v, want %d records", sum, wantSnapshot)
	})

	// Binlog changes.
	for id := 31; id <= 45; id++ {
		status := "active"
		if id%4 == 0 {
			status = "inactive"
		}
		insert(id, status)
	}
	exec(1, "UPDATE customers SET email = ? WHERE id = ?", "renamed1@example.org", 1)                 // active: new hash
	exec(2, "UPDATE customers SET ssn = NULL WHERE id = ?", 2)                                        // active: masked ssn -> NULL
	exec(5, "UPDATE customers SET ssn = '555-55-5555' WHERE id = ?", 5)                               // active: NULL -> masked
	exec(4, "UPDATE customers SET status = 'inactive', amount = 1.23 WHERE id = ?", 4)                // moves out: stale in lake
	exec(7, "UPDATE customers SET status = 'closed', email = 'gone7@example.org' WHERE id = ?", 7)    // moves out
	exec(3, "UPDATE customers SET status = 'active' WHERE id = ?", 3)                                 // moves in
	exec(6, "UPDATE customers SET amount = 999.99 WHERE id = ?", 6)                                   // inactive: dropped
	exec(8, "DELETE FROM customers WHERE id = ?", 8)                                                  // active: removed
	exec(9, "DELETE FROM customers WHERE id = ?", 9)                                                  // inactive: never in lake
	exec(10, "UPDATE customers SET status = 'inactive' WHERE id = ?", 10)                             // moves out ...
	exec(10, "DELETE FROM customers WHERE id = ?", 10)                                                // ... then the delete removes it
	exec(11, "UPDATE customers SET status = 'inactive' WHERE id = ?", 11)                             // moves out ...
	exec(11, "UPDATE customers SET status = 'active', email = 'back11@example.org' WHERE id = ?", 11) // ... and back
	exec(32, "UPDATE customers SET status = 'active' WHERE id = ?", 32)                               // inserted inactive, moves in
	exec(33, "DELETE FROM customers WHERE id = ?", 33)                                                // inserted and deleted
	// A multi-row statement in a transaction: one event per row.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE customers SET amount = amount + 1 WHERE id BETWEEN 12 AND 20"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE customers SET email = CONCAT('tx-', email) WHERE id BETWEEN 34 AND 38"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	for id := 12; id <= 38; id++ {
		if id <= 20 || id >= 34 {
			model.observe(ctx, t, db, id)
		}
	}

	// The model agrees with MySQL's final state: every active row is in it, masked from MySQL's current values, and
	// every other row in it is one that moved out of the filter (its last active image).
	final, err := allCustomers(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	var stale []int
	for id, c := range final {
		if c.status == "active" {
			if model.rows[id] != c.maskedCanon() {
				t.Fatalf("model for active id %d is %q, MySQL gives %q", id, model.rows[id], c.maskedCanon())
			}
		} else if _, ok := model.rows[id]; ok {
			stale = append(stale, id)
		}
	}
	for id := range model.rows {
		if _, ok := final[id]; !ok {
			t.Fatalf("model holds deleted id %d", id)
		}
	}
	sort.Ints(stale)
	if !slices.Equal(stale, []int{4, 7}) {
		t.Fatalf("rows moved out of the filter and still in the model: %v, want [4 7]", stale)
	}

	rows := waitLake("the lake to hold exactly the masked, filtered rows")

	// No raw email anywhere in the lake: not in any column pyiceberg reads (the strong check), and not as plain bytes in
	// any warehouse file (metadata JSON, Avro manifests with column bounds, Parquet footers and statistics; the Parquet
	// pages themselves are zstd-compressed, so this part cannot see a raw value inside them).
	for _, r := range rows {
		for col, v := range r {
			if v == nil {
				continue
			}
			for e := range model.rawEmail {
				if strings.Contains(*v, e) {
					t.Errorf("lake column %s holds the raw email %q", col, e)
				}
			}
			if col == "ssn" && *v != tfSSNMask {
				t.Errorf("lake ssn is %q, want the mask or NULL", *v)
			}
		}
	}
	files := 0
	err = filepath.WalkDir(filepath.Join(lakeDir, "tf-warehouse"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for e := range model.rawEmail {
			if bytes.Contains(data, []byte(e)) {
				t.Errorf("lake file %s holds the raw email %q", path, e)
			}
		}
		if bytes.Contains(data, []byte(tfSalt)) {
			t.Errorf("lake file %s holds the salt", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Fatal("no files in the lake warehouse")
	}
	t.Logf("lake holds %d masked rows (%d moved out of the filter); %d warehouse files scanned for %d raw emails",
		len(rows), len(stale), files, len(model.rawEmail))
}

// lakeSummary returns the summary of the lake table's current Iceberg snapshot, read with pyiceberg (nil: no table
// or snapshot yet). It exists because a table whose only commit holds the snapshot keeps its (dead) equality deletes
// after maintenance, so read_iceberg.py refuses to read it; see the report on sink/lake/iceberg/maintenance.go.
func lakeSummary(t testing.TB, l lakeTable) (map[string]string, error) {
	t.Helper()
	py := os.Getenv("BINLAKE_PYTHON")
	if py == "" {
		py = "python3"
	}
	const script = `import json, sys
from pyiceberg.catalog.sql import SqlCatalog
cat = SqlCatalog("binlake", uri="sqlite:///" + sys.argv[1], warehouse=sys.argv[2])
try:
    snap = cat.load_table(sys.argv[3]).current_snapshot()
except Exception as e:
    print(json.dumps({"error": str(e)})); sys.exit(0)
print(json.dumps(dict(snap.summary.additional_properties) if snap and snap.summary else {}))
`
	cmd := osexec.Command(py, "-c", script, l.sqlite, l.warehouse, l.ident)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("reading the snapshot summary of %s: %w: %s", l.ident, err, stderr.String())
	}
	var sum map[string]string
	if err := json.Unmarshal(out, &sum); err != nil {
		return nil, fmt.Errorf("decoding the snapshot summary %q: %w", out, err)
	}
	return sum, nil
}

// tfPlugin is an entry of GET /connector-plugins.
type tfPlugin struct {
	Class string `json:"class"`
	Type  string `json:"type"`
}

// tfKey is an entry of GET /connector-plugins/<type>/config.
type tfKey struct {
	Name string `json:"name"`
	Doc  string `json:"doc"`
}

func keysNames(keys []tfKey) string {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.Name
	}
	return strings.Join(names, ",")
}
