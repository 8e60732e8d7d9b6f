//go:build integration

package integration

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/integration/containers"
	"github.com/binlake/binlake/integration/workerproc"
)

// TestTruncateEndToEnd runs TRUNCATE TABLE in the middle of concurrent writes through the real worker: the source
// sends the truncate to every queue of the table's topic, and the upsert sink must drop exactly the changes before it,
// whichever queue they travel on, and keep every change after it. The lake table ends equal to MySQL.
func TestTruncateEndToEnd(t *testing.T) {
	t.Parallel() // mostly waits on servers and commit intervals; runs beside the other end-to-end tests
	ctx := t.Context()
	my := containers.MySQLServer(t, containers.MySQL8)
	mq := containers.RocketMQServer(t)
	dbName, db := openNewDatabase(t, my)
	createItemsTable(t, db)
	wl := &workload{db: db, rng: rand.New(rand.NewPCG(17, 19))}
	for range 200 {
		wl.nextID++
		if _, err := db.ExecContext(ctx, "INSERT INTO items VALUES (?, ?, ?, ?, ?)", wl.nextID, fmt.Sprintf("item-%d", wl.nextID),
			wl.nextID%100, fmt.Sprintf("%d.50", wl.nextID), nil); err != nil {
			t.Fatal(err)
		}
	}
	lakeDir := workerproc.TestDir(t, "lake")
	w := workerproc.Start(t, workerproc.Options{NamesrvAddr: mq.NamesrvAddr})
	w.MustDo("POST", "/connectors/trunc-source", sourceConfig(my, dbName, "trunc", nil), 201)
	lake := lakeTable{
		sqlite:    filepath.Join(lakeDir, "trunc.db"),
		warehouse: "file://" + filepath.Join(lakeDir, "warehouse"),
		ident:     dbName + ".items",
	}
	w.MustDo("POST", "/connectors/trunc-lake", lake.sinkConfig(connect.TopicName("trunc", dbName, "items"), "upsert", "500", "2000"), 201)

	stop := wl.start(ctx)
	time.Sleep(4 * time.Second)
	if _, err := db.ExecContext(ctx, "TRUNCATE TABLE items"); err != nil {
		_ = stop()
		t.Fatal(err)
	}
	t.Logf("TRUNCATE after %d source events", wl.events.Load())
	// New keys after the truncate; the workload's updates and deletes of old keys now touch nothing.
	time.Sleep(4 * time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	want, err := mysqlState(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 {
		t.Fatal("no rows after the truncate; the test checks nothing")
	}
	var last []string
	if err := poll(3*time.Minute, func() (bool, error) {
		rows, err := lake.rows(t)
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
	}); err != nil {
		t.Fatalf("the lake table does not equal MySQL after a TRUNCATE: %v\n%s", err, w.Diagnose())
	}
	t.Logf("%d rows after the truncate, equal in the lake (%d source events)", len(last), wl.events.Load())
}
