//go:build integration

package integration

import (
	"fmt"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/integration/containers"
	"github.com/binlake/binlake/integration/workerproc"
)

// TestSourceDeletedWithOffsetsAndCreatedAgain: a user deletes a source connector with its offsets
// (DELETE ?purge=true) and creates it again, which snapshots the tables again into the same topics. The sink has
// committed the first run's sequences; the new run must number above them, or the sink drops every event of the new
// run as a replay and the lake silently stops following MySQL.
func TestSourceDeletedWithOffsetsAndCreatedAgain(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	my := containers.MySQLServer(t, containers.MySQL8)
	mq := containers.RocketMQServer(t)
	dbName, db := openNewDatabase(t, my)
	createItemsTable(t, db)
	insert := func(from, to int) {
		t.Helper()
		for id := from; id < to; id++ {
			if _, err := db.ExecContext(ctx, "INSERT INTO items VALUES (?, ?, ?, ?, ?)", id, fmt.Sprintf("item-%d", id), id%7,
				fmt.Sprintf("%d.25", id), nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	insert(1, 51)
	lakeDir := workerproc.TestDir(t, "lake")
	w := workerproc.Start(t, workerproc.Options{NamesrvAddr: mq.NamesrvAddr})
	source := sourceConfig(my, dbName, "purge", nil)
	w.MustDo("POST", "/connectors/purge-source", source, 201)
	lake := lakeTable{
		sqlite:    filepath.Join(lakeDir, "purge.db"),
		warehouse: "file://" + filepath.Join(lakeDir, "warehouse"),
		ident:     dbName + ".items",
	}
	w.MustDo("POST", "/connectors/purge-lake", lake.sinkConfig(connect.TopicName("purge", dbName, "items"), "upsert", "500", "2000"), 201)
	lakeEquals := func(when string) {
		t.Helper()
		want, err := mysqlState(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if err := poll(2*time.Minute, func() (bool, error) {
			rows, err := lake.rows(t)
			if err != nil {
				return false, err
			}
			got := make([]string, len(rows))
			for i, r := range rows {
				got[i] = canonRow(r)
			}
			sort.Strings(got)
			return equalStrings(got, want), fmt.Errorf("lake has %d rows, MySQL %d; first difference: %s", len(got), len(want), firstDiff(got, want))
		}); err != nil {
			t.Fatalf("%s: the lake table does not equal MySQL: %v\n%s", when, err, w.Diagnose())
		}
	}
	lakeEquals("after the first run's snapshot")

	w.MustDo("DELETE", "/connectors/purge-source?purge=true", nil, 204)
	insert(51, 81)
	if _, err := db.ExecContext(ctx, "UPDATE items SET qty = qty + 100 WHERE id <= 10"); err != nil {
		t.Fatal(err)
	}
	// Created again without offsets: it snapshots the table again and streams from there.
	w.MustDo("POST", "/connectors/purge-source", source, 201)
	insert(81, 91)
	lakeEquals("after the source was deleted with its offsets and created again")
	// The new run streams too. (The deletes come only now: rows deleted before the new run read its start position
	// would stay in the lake, since a snapshot has no delete events.)
	if _, err := db.ExecContext(ctx, "DELETE FROM items WHERE id BETWEEN 11 AND 15"); err != nil {
		t.Fatal(err)
	}
	insert(91, 101)
	lakeEquals("after deletes and inserts streamed by the new run")
}
