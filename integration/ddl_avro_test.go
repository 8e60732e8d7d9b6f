//go:build integration

package integration

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/binlake/binlake/connect"
	avroconv "github.com/binlake/binlake/converter/avro"
	"github.com/binlake/binlake/integration/containers"
	"github.com/binlake/binlake/integration/workerproc"
	"github.com/binlake/binlake/internal/mq"
	"github.com/binlake/binlake/schema/registry"
)

// ddlStep is one shape of the evolving table: the DDL that leads to it and the column set it has afterwards.
type ddlStep struct {
	ddl     string
	columns []string
}

// ddlSteps is the sequence of table shapes; step 0 is the table as created.
var ddlSteps = []ddlStep{
	{"", []string{"id", "step", "qty", "price", "label", "old_name", "gone"}},
	{"ALTER TABLE evo ADD COLUMN extra VARCHAR(32) NULL", []string{"id", "step", "qty", "price", "label", "old_name", "gone", "extra"}},
	{"ALTER TABLE evo ADD COLUMN flag INT NOT NULL DEFAULT 7", []string{"id", "step", "qty", "price", "label", "old_name", "gone", "extra", "flag"}},
	{"ALTER TABLE evo MODIFY qty BIGINT NOT NULL", []string{"id", "step", "qty", "price", "label", "old_name", "gone", "extra", "flag"}},
	{"ALTER TABLE evo MODIFY price DOUBLE NOT NULL", []string{"id", "step", "qty", "price", "label", "old_name", "gone", "extra", "flag"}},
	{"ALTER TABLE evo RENAME COLUMN old_name TO new_name", []string{"id", "step", "qty", "price", "label", "new_name", "gone", "extra", "flag"}},
	{"ALTER TABLE evo DROP COLUMN gone", []string{"id", "step", "qty", "price", "label", "new_name", "extra", "flag"}},
}

// evoWriter runs writes on the evo table and remembers, per primary key, the after image each write must produce.
type evoWriter struct {
	db    *sql.DB
	step  int
	rows  map[int]map[string]any // current row values by id (column -> Go value as written)
	wants map[int][]map[string]any
	count int
}

func (w *evoWriter) exec(ctx context.Context, q string, args ...any) error {
	if _, err := w.db.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("running %q: %w", q, err)
	}
	return nil
}

// record notes the after image of row id as the next expected message for that key.
func (w *evoWriter) record(id int) {
	img := make(map[string]any, len(w.rows[id]))
	for k, v := range w.rows[id] {
		img[k] = v
	}
	w.wants[id] = append(w.wants[id], img)
	w.count++
}

// insert adds a row with values that exercise the current shape (a qty beyond int32 once qty is BIGINT, a price that
// only a double holds exactly once price is DOUBLE).
func (w *evoWriter) insert(ctx context.Context, id int) error {
	qty := int64(id * 10)
	if w.step >= 3 {
		qty = int64(1)<<40 + int64(id)
	}
	price := float64(id) + 0.25 // exact in float32
	if w.step >= 4 {
		price = float64(id) + 0.1 // not representable as float32
	}
	named := fmt.Sprintf("name-%d", id)
	row := map[string]any{"id": int64(id), "step": int64(w.step), "qty": qty, "price": price, "label": fmt.Sprintf("row %d ✓", id)}
	cols := []string{"id", "step", "qty", "price", "label"}
	nameCol := "old_name"
	if w.step >= 5 {
		nameCol = "new_name"
	}
	row[nameCol] = named
	cols = append(cols, nameCol)
	if w.step < 6 {
		row["gone"] = nil
		if id%2 == 0 {
			row["gone"] = fmt.Sprintf("g%d", id)
		}
		cols = append(cols, "gone")
	}
	if w.step >= 1 {
		row["extra"] = nil
		if id%3 != 0 {
			row["extra"] = fmt.Sprintf("x%d", id)
		}
		cols = append(cols, "extra")
	}
	if w.step >= 2 {
		row["flag"] = int64(7) // the default, not written
	}
	args := make([]any, len(cols))
	for i, c := range cols {
		args[i] = row[c]
	}
	q := fmt.Sprintf("INSERT INTO evo (%s) VALUES (?%s)", strings.Join(cols, ", "), strings.Repeat(", ?", len(cols)-1))
	if err := w.exec(ctx, q, args...); err != nil {
		return err
	}
	w.rows[id] = row
	w.record(id)
	return nil
}

// update moves an existing row to the current step and changes its label.
func (w *evoWriter) update(ctx context.Context, id int) error {
	row := w.rows[id]
	label := fmt.Sprintf("updated %d at step %d", id, w.step)
	if err := w.exec(ctx, "UPDATE evo SET step = ?, label = ? WHERE id = ?", w.step, label, id); err != nil {
		return err
	}
	row["step"] = int64(w.step)
	row["label"] = label
	w.record(id)
	return nil
}

// alter runs the DDL of step s and applies it to the remembered rows.
func (w *evoWriter) alter(ctx context.Context, s int) error {
	if err := w.exec(ctx, ddlSteps[s].ddl); err != nil {
		return err
	}
	w.step = s
	for _, row := range w.rows {
		switch s {
		case 1:
			row["extra"] = nil
		case 2:
			row["flag"] = int64(7)
		case 4:
			// FLOAT -> DOUBLE keeps the float value; all old prices are exact in float32.
		case 5:
			row["new_name"] = row["old_name"]
			delete(row, "old_name")
		case 6:
			delete(row, "gone")
		}
	}
	return nil
}

// decodedMsg is one message of the table's topic, decoded with its writer schema.
type decodedMsg struct {
	queue  connect.QueueID
	offset int64
	id     int
	step   int
	schema int
	cols   []string
	values map[string]any
	types  map[string]string
	op     connect.Op
}

// TestAvroSchemaEvolutionThroughDDL takes a table through a sequence of DDL changes while rows flow through a real
// MySQL 8 server, the binlake worker (mysql-source, Avro value converter, embedded schema registry) and RocketMQ. An
// independent consumer reads every message of the table's topic, fetches each message's writer schema from the
// worker's registry by the id in the wire header and decodes it; every shape change must produce exactly one new
// schema version, each message must carry the shape its row was written with, values must round-trip, a renamed
// column must carry its old name as an Avro alias, and the subject must list the versions in order.
func TestAvroSchemaEvolutionThroughDDL(t *testing.T) {
	t.Parallel() // mostly waits on servers and commit intervals; runs beside the other end-to-end tests
	start := time.Now()
	ctx := t.Context()
	my := containers.MySQLServer(t, containers.MySQL8)
	rmq := containers.RocketMQServer(t)
	dbName, db := openNewDatabase(t, my)
	if _, err := db.ExecContext(ctx, `CREATE TABLE evo (
		id INT PRIMARY KEY, step INT NOT NULL, qty INT NOT NULL, price FLOAT NOT NULL, label VARCHAR(64) NOT NULL,
		old_name VARCHAR(32) NULL, gone VARCHAR(16) NULL)`); err != nil {
		t.Fatal(err)
	}
	w := &evoWriter{db: db, rows: map[int]map[string]any{}, wants: map[int][]map[string]any{}}
	nextID := 0
	insertN := func(n int) {
		t.Helper()
		for range n {
			nextID++
			if err := w.insert(ctx, nextID); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Rows that exist before the connector starts arrive as snapshot reads.
	const snapshotRows = 5
	insertN(snapshotRows)

	worker := workerproc.Start(t, workerproc.Options{NamesrvAddr: rmq.NamesrvAddr})
	const prefix = "ddlavro"
	topic := connect.TopicName(prefix, dbName, "evo")
	worker.MustDo("POST", "/connectors/ddl-avro-source", sourceConfig(my, dbName, prefix, nil), 201)

	// A lake-sink mirrors the table into Iceberg while the DDL runs: the Iceberg schema must evolve with it.
	lakeDir := workerproc.TestDir(t, "lake")
	lake := lakeTable{
		sqlite:    filepath.Join(lakeDir, "evo.db"),
		warehouse: "file://" + filepath.Join(lakeDir, "warehouse"),
		ident:     dbName + ".evo",
	}
	worker.MustDo("POST", "/connectors/ddl-avro-lake", lake.sinkConfig(topic, "upsert", "1000", "2000"), 201)

	reader, err := mq.NewReader(mq.ReaderConfig{NamesrvAddr: rmq.NamesrvAddr, Group: "ddl-avro-test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := reader.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reader.Close() })
	reg, err := registry.NewClient(worker.BaseURL + "/schema-registry")
	if err != nil {
		t.Fatal(err)
	}
	conv, err := avroconv.New(reg, avroconv.Options{})
	if err != nil {
		t.Fatal(err)
	}

	// The snapshot lands before any DDL runs, so the DDL never races the snapshot.
	if got := consumeTopic(t, reader, topic, snapshotRows, 3*time.Minute); len(got) != snapshotRows {
		t.Fatalf("%d snapshot messages, want %d", len(got), snapshotRows)
	}

	// Streamed rows at the initial shape, then each DDL step with inserts and updates around it.
	insertN(3)
	for s := 1; s < len(ddlSteps); s++ {
		if err := w.alter(ctx, s); err != nil {
			t.Fatal(err)
		}
		insertN(3)
		for _, id := range []int{1, nextID - 4, nextID} {
			if err := w.update(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("%d row changes written over %d table shapes", w.count, len(ddlSteps))

	msgs := consumeTopic(t, reader, topic, w.count, 3*time.Minute)
	if len(msgs) != w.count {
		t.Fatalf("%d messages in %s, want %d", len(msgs), topic, w.count)
	}

	// Decode every message with the writer schema fetched by the id in its header.
	schemaText := map[int]string{}
	decoded := make([]decodedMsg, 0, len(msgs))
	for _, m := range msgs {
		id, err := avroconv.SchemaIDOf(m.Body)
		if err != nil {
			t.Fatalf("message %s/%d at %d: %v", m.Queue.Topic, m.Queue.Queue, m.Offset, err)
		}
		if _, ok := schemaText[id]; !ok {
			text, err := reg.SchemaByID(ctx, id)
			if err != nil {
				t.Fatalf("fetching writer schema %d from the worker's registry: %v", id, err)
			}
			schemaText[id] = text
		}
		ev, err := conv.Decode(ctx, topic, m.Body)
		if err != nil {
			t.Fatalf("message at queue %d offset %d does not decode with its writer schema %d: %v", m.Queue.Queue, m.Offset, id, err)
		}
		d := decodedMsg{queue: m.Queue, offset: m.Offset, schema: id, op: ev.Op, values: map[string]any{}, types: map[string]string{}}
		row := ev.After
		if row == nil {
			t.Fatalf("message at queue %d offset %d has no after image (op %v)", m.Queue.Queue, m.Offset, ev.Op)
		}
		for i, c := range ev.Schema.Columns {
			d.cols = append(d.cols, c.Name)
			d.values[c.Name] = row[i]
			d.types[c.Name] = c.Kind.String()
		}
		// The wire schema's field list, not only the decoder's table, must be the shape.
		if fields := valueFieldNames(t, schemaText[id]); !slices.Equal(fields, d.cols) {
			t.Fatalf("writer schema %d has value fields %v, decoded columns %v", id, fields, d.cols)
		}
		d.id = int(toInt64(t, d.values["id"]))
		d.step = int(toInt64(t, d.values["step"]))
		decoded = append(decoded, d)
	}

	// One schema id per shape, the shape of the row's step, and a new id exactly at each DDL point.
	stepID := map[int]int{}
	idStep := map[int]int{}
	for _, d := range decoded {
		if d.step < 0 || d.step >= len(ddlSteps) {
			t.Fatalf("message of row %d has step %d", d.id, d.step)
		}
		if want := ddlSteps[d.step].columns; !slices.Equal(d.cols, want) {
			t.Errorf("row %d written at step %d has writer schema %d with columns %v, want %v", d.id, d.step, d.schema, d.cols, want)
		}
		if prev, ok := stepID[d.step]; ok && prev != d.schema {
			t.Errorf("step %d rows carry schema ids %d and %d; want one id per shape", d.step, prev, d.schema)
		}
		stepID[d.step] = d.schema
		if prev, ok := idStep[d.schema]; ok && prev != d.step {
			t.Errorf("schema id %d is used by rows of steps %d and %d; want a new id at each DDL", d.schema, prev, d.step)
		}
		idStep[d.schema] = d.step
		// Kinds follow the DDL: qty widens to int64 at step 3, price to float64 at step 4.
		wantQty, wantPrice := "int32", "float32"
		if d.step >= 3 {
			wantQty = "int64"
		}
		if d.step >= 4 {
			wantPrice = "float64"
		}
		if d.types["qty"] != wantQty || d.types["price"] != wantPrice {
			t.Errorf("row %d at step %d: qty is %s (want %s), price is %s (want %s)", d.id, d.step, d.types["qty"], wantQty, d.types["price"], wantPrice)
		}
	}
	if len(stepID) != len(ddlSteps) || len(idStep) != len(ddlSteps) {
		t.Fatalf("%d distinct schema ids over %d steps seen (%v), want one per shape: %d", len(idStep), len(stepID), stepID, len(ddlSteps))
	}
	for s := 1; s < len(ddlSteps); s++ {
		if stepID[s] <= stepID[s-1] {
			t.Errorf("schema id of step %d (%d) is not above that of step %d (%d)", s, stepID[s], s-1, stepID[s-1])
		}
	}

	// Values round-trip: per primary key (one queue, in order) the after images equal what was written.
	got := map[int][]decodedMsg{}
	slices.SortStableFunc(decoded, func(a, b decodedMsg) int {
		if a.queue.Queue != b.queue.Queue {
			return a.queue.Queue - b.queue.Queue
		}
		return int(a.offset - b.offset)
	})
	for _, d := range decoded {
		got[d.id] = append(got[d.id], d)
	}
	for id, wants := range w.wants {
		gs := got[id]
		if len(gs) != len(wants) {
			t.Errorf("row %d: %d messages, want %d", id, len(gs), len(wants))
			continue
		}
		for i, want := range wants {
			g := gs[i]
			if g.queue != gs[0].queue {
				t.Errorf("row %d: messages spread over queues %d and %d", id, gs[0].queue.Queue, g.queue.Queue)
			}
			wantOp := connect.OpCreate
			if i > 0 {
				wantOp = connect.OpUpdate
			}
			if id <= snapshotRows && i == 0 {
				wantOp = connect.OpRead
			}
			if g.op != wantOp {
				t.Errorf("row %d message %d: op %s, want %s", id, i, g.op, wantOp)
			}
			if len(g.values) != len(want) {
				t.Errorf("row %d message %d: columns %v, want the %d columns of %v", id, i, g.cols, len(want), want)
			}
			for col, wv := range want {
				gv, ok := g.values[col]
				if !ok {
					t.Errorf("row %d message %d: column %s missing (columns %v)", id, i, col, g.cols)
					continue
				}
				if !sameValue(gv, wv) {
					t.Errorf("row %d message %d (step %d): %s = %v (%T), want %v (%T)", id, i, g.step, col, gv, gv, wv, wv)
				}
			}
		}
	}

	// The renamed column carries its old name as an Avro alias in the writer schema.
	for s := 5; s < len(ddlSteps); s++ {
		aliases, ok := valueFieldAliases(t, schemaText[stepID[s]], "new_name")
		if !ok {
			t.Fatalf("writer schema %d (step %d) has no new_name field", stepID[s], s)
		}
		if !slices.Contains(aliases, "old_name") {
			t.Errorf("writer schema %d (step %d): new_name has aliases %v, want old_name among them", stepID[s], s, aliases)
		}
	}

	// The subject lists the versions in order, version i holding the schema of step i-1.
	subject := topic + "-value"
	resp := worker.MustDo("GET", "/schema-registry/subjects/"+subject+"/versions", nil, 200)
	var versions []int
	if err := resp.JSON(&versions); err != nil {
		t.Fatalf("decoding the versions of %s: %v (%s)", subject, err, resp.Body)
	}
	if len(versions) != len(ddlSteps) {
		t.Fatalf("subject %s has versions %v, want %d", subject, versions, len(ddlSteps))
	}
	for i, v := range versions {
		if v != i+1 {
			t.Fatalf("subject %s has versions %v, want 1..%d in order", subject, versions, len(ddlSteps))
		}
		ss, err := reg.SchemaVersion(ctx, subject, v)
		if err != nil {
			t.Fatal(err)
		}
		if ss.ID != stepID[i] {
			t.Errorf("version %d of %s has schema id %d, want %d (the id of step %d's messages)", v, subject, ss.ID, stepID[i], i)
		}
	}
	t.Logf("%d messages decoded with %d writer schemas %v in %s", len(decoded), len(schemaText), stepID, time.Since(start).Round(time.Second))

	checkEvolvedLake(t, db, lake)
}

// checkEvolvedLake checks the Iceberg table the lake-sink wrote from the evo table after every DDL step: its rows
// equal MySQL's (read by pyiceberg after compaction), and its schema took each change the Iceberg way: the widened
// columns promoted, the added ones present, the dropped one optional, and the renamed column keeping its field id.
func checkEvolvedLake(t *testing.T, db *sql.DB, lake lakeTable) {
	t.Helper()
	final := ddlSteps[len(ddlSteps)-1].columns
	sel := make([]string, len(final))
	for i, c := range final {
		sel[i] = "CAST(" + c + " AS CHAR)"
	}
	rs, err := db.QueryContext(t.Context(), "SELECT "+strings.Join(sel, ", ")+" FROM evo")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for rs.Next() {
		vals := make([]sql.NullString, len(final))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		m := map[string]*string{}
		for i, c := range final {
			if vals[i].Valid {
				m[c] = &vals[i].String
			} else {
				m[c] = nil
			}
		}
		want = append(want, canonColumns(final, m))
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	rs.Close()
	sort.Strings(want)
	if err := poll(3*time.Minute, func() (bool, error) {
		rows, err := lake.rows(t)
		if err != nil {
			return false, err
		}
		got := make([]string, len(rows))
		for i, r := range rows {
			got[i] = canonColumns(final, r)
		}
		sort.Strings(got)
		return equalStrings(got, want), fmt.Errorf("lake has %d rows, MySQL %d; first difference: %s", len(got), len(want), firstDiff(got, want))
	}); err != nil {
		t.Fatalf("the evolved lake table does not equal MySQL: %v", err)
	}

	schemas := lake.schemas(t)
	cur := schemas.Schemas[strconv.Itoa(schemas.Current)]
	field := func(fields []icebergField, name string) (icebergField, bool) {
		for _, f := range fields {
			if f.Name == name {
				return f, true
			}
		}
		return icebergField{}, false
	}
	for _, c := range final {
		if _, ok := field(cur, c); !ok {
			t.Errorf("the current Iceberg schema %v has no column %s", cur, c)
		}
	}
	for col, typ := range map[string]string{"qty": "long", "price": "double", "extra": "string", "flag": "int"} {
		if f, _ := field(cur, col); f.Type != typ {
			t.Errorf("Iceberg column %s has type %q, want %q", col, f.Type, typ)
		}
	}
	if _, ok := field(cur, "old_name"); ok {
		t.Errorf("the current Iceberg schema still has old_name after the rename: %v", cur)
	}
	if f, ok := field(cur, "gone"); ok && f.Required {
		t.Errorf("the dropped column gone is still required in Iceberg: %v", f)
	}
	renamed, _ := field(cur, "new_name")
	var oldID int
	for _, fields := range schemas.Schemas {
		if f, ok := field(fields, "old_name"); ok {
			oldID = f.ID
		}
	}
	if oldID == 0 || renamed.ID != oldID {
		t.Errorf("new_name has Iceberg field id %d, old_name had %d: a rename must keep the field id", renamed.ID, oldID)
	}
	t.Logf("Iceberg schemas: %d versions; new_name keeps field id %d", len(schemas.Schemas), renamed.ID)
}

// consumeTopic reads every queue of topic from offset 0 until want messages have arrived (or timeout passes; then it
// returns what it has) and a short quiet period shows no more are coming.
func consumeTopic(t *testing.T, r *mq.Reader, topic string, want int, timeout time.Duration) []*mq.ReadMessage {
	t.Helper()
	ctx := t.Context()
	deadline := time.Now().Add(timeout)
	var queues []connect.QueueID
	for {
		qs, err := r.Queues(ctx, topic)
		if err == nil && len(qs) > 0 {
			queues = qs
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("topic %s has no queues after %s: %v", topic, timeout, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	offsets := make([]int64, len(queues))
	var out []*mq.ReadMessage
	var quietSince time.Time
	for {
		progressed := false
		for i, q := range queues {
			msgs, next, err := r.Pull(ctx, q, offsets[i], 32)
			var moved *mq.OffsetMovedError
			if errors.As(err, &moved) && offsets[i] == 0 {
				// The queue is still empty; the broker answers "offset moved" for offset 0 of an empty queue.
				continue
			}
			if err != nil {
				t.Fatalf("reading %s: %v", topic, err)
			}
			if len(msgs) > 0 {
				progressed = true
			}
			out = append(out, msgs...)
			offsets[i] = next
		}
		switch {
		case progressed:
			quietSince = time.Time{}
		case len(out) >= want:
			if quietSince.IsZero() {
				quietSince = time.Now()
			} else if time.Since(quietSince) > 2*time.Second {
				return out
			}
		}
		if time.Now().After(deadline) {
			t.Logf("timed out after %s with %d of %d messages of %s", timeout, len(out), want, topic)
			return out
		}
		if !progressed {
			time.Sleep(200 * time.Millisecond)
		}
	}
}

// valueRecord finds the envelope's value record in an Avro schema text: the record type of the "before" field, where it
// is defined ("after" refers to it by name).
func valueRecord(t *testing.T, text string) map[string]any {
	t.Helper()
	var env map[string]any
	if err := json.Unmarshal([]byte(text), &env); err != nil {
		t.Fatalf("parsing writer schema: %v", err)
	}
	fields, _ := env["fields"].([]any)
	for _, f := range fields {
		fm, _ := f.(map[string]any)
		if fm["name"] != "before" {
			continue
		}
		var branches []any
		switch ty := fm["type"].(type) {
		case []any:
			branches = ty
		default:
			branches = []any{ty}
		}
		for _, b := range branches {
			if rec, ok := b.(map[string]any); ok && rec["type"] == "record" {
				return rec
			}
		}
	}
	t.Fatalf("writer schema has no record-typed before field: %s", text)
	return nil
}

func valueFieldNames(t *testing.T, text string) []string {
	t.Helper()
	var names []string
	fields, _ := valueRecord(t, text)["fields"].([]any)
	for _, f := range fields {
		fm, _ := f.(map[string]any)
		name, _ := fm["name"].(string)
		names = append(names, name)
	}
	return names
}

func valueFieldAliases(t *testing.T, text, field string) ([]string, bool) {
	t.Helper()
	fields, _ := valueRecord(t, text)["fields"].([]any)
	for _, f := range fields {
		fm, _ := f.(map[string]any)
		if fm["name"] != field {
			continue
		}
		var out []string
		al, _ := fm["aliases"].([]any)
		for _, a := range al {
			s, _ := a.(string)
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

func toInt64(t *testing.T, v any) int64 {
	t.Helper()
	switch x := v.(type) {
	case int32:
		return int64(x)
	case int64:
		return x
	}
	t.Fatalf("value %v (%T) is not an integer", v, v)
	return 0
}

// sameValue compares a decoded value with the written one: integers by value, floats by value at the decoded width,
// strings and NULL exactly.
func sameValue(got, want any) bool {
	switch w := want.(type) {
	case nil:
		return got == nil
	case int64:
		switch g := got.(type) {
		case int32:
			return int64(g) == w
		case int64:
			return g == w
		}
		return false
	case float64:
		switch g := got.(type) {
		case float32:
			return g == float32(w)
		case float64:
			return g == w
		}
		return false
	case string:
		g, ok := got.(string)
		return ok && g == w
	}
	return false
}
