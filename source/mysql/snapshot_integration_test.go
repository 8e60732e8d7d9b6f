//go:build integration

package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/integration/containers"
)

// fillTable creates big(id, k2, v, pad) with a composite primary key and n rows.
func fillTable(t testing.TB, d *sql.DB, n int) {
	t.Helper()
	exec(t, d, "CREATE TABLE big (id INT NOT NULL, k2 VARCHAR(8) NOT NULL, v BIGINT NOT NULL, pad VARCHAR(40) NULL, PRIMARY KEY (id, k2))")
	const batch = 2000
	for i := 0; i < n; i += batch {
		var sb strings.Builder
		sb.WriteString("INSERT INTO big VALUES ")
		for j := i; j < min(n, i+batch); j++ {
			if j > i {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, "(%d,'k%d',%d,'pad-%d')", j/2, j%2, j, j)
		}
		exec(t, d, sb.String())
	}
}

// tableState reads big as key -> values text.
func tableState(t testing.TB, d *sql.DB) map[string]string {
	t.Helper()
	rows, err := d.Query("SELECT id, k2, v, pad FROM big")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rows.Close() }()
	out := map[string]string{}
	for rows.Next() {
		var id int64
		var k2 string
		var v int64
		var pad sql.NullString
		if err := rows.Scan(&id, &k2, &v, &pad); err != nil {
			t.Fatal(err)
		}
		out[fmt.Sprintf("%d/%s", id, k2)] = fmt.Sprintf("%d|%v", v, pad.String)
	}
	return out
}

// applyEvents folds events of big into key -> values text, checking that
// updates and deletes see the state they expect.
func applyEvents(t testing.TB, evs []*connect.ChangeEvent) map[string]string {
	t.Helper()
	out := map[string]string{}
	key := func(row []any) string { return fmt.Sprintf("%d/%s", row[0], row[1]) }
	val := func(row []any) string {
		pad := ""
		if row[3] != nil {
			pad = row[3].(string)
		}
		return fmt.Sprintf("%d|%v", row[2], pad)
	}
	for _, e := range evs {
		if e.Source.Table != "big" {
			continue
		}
		switch e.Op {
		case connect.OpRead, connect.OpCreate:
			out[key(e.After)] = val(e.After)
		case connect.OpUpdate:
			if key(e.Before) != key(e.After) {
				delete(out, key(e.Before))
			}
			out[key(e.After)] = val(e.After)
		case connect.OpDelete:
			delete(out, key(e.Before))
		}
	}
	return out
}

// writer runs random inserts, updates (including key changes) and deletes
// on big until stop is closed.
func writer(t testing.TB, d *sql.DB, n int, stop <-chan struct{}, wg *sync.WaitGroup, count *int) {
	defer wg.Done()
	r := rand.New(rand.NewPCG(1, 2))
	next := n
	for {
		select {
		case <-stop:
			return
		default:
		}
		id := r.IntN(n / 2)
		var q string
		switch r.IntN(5) {
		case 0:
			q = fmt.Sprintf("INSERT INTO big VALUES (%d,'k9',%d,'new') ON DUPLICATE KEY UPDATE v=v+1", next, next)
			next++
		case 1:
			q = fmt.Sprintf("DELETE FROM big WHERE id=%d AND k2='k1'", id)
		case 2:
			q = fmt.Sprintf("UPDATE big SET id=id+%d WHERE id=%d AND k2='k0'", n, id)
		default:
			q = fmt.Sprintf("UPDATE big SET v=v+1, pad=NULL WHERE id=%d", id)
		}
		if _, err := d.Exec(q); err != nil && !strings.Contains(err.Error(), "Duplicate") {
			t.Errorf("writer: %s: %v", q, err)
			return
		}
		*count++
	}
}

// waitCaughtUp waits until the task has read the binlog up to the server's
// current position.
func waitCaughtUp(t testing.TB, r *runner, d *sql.DB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	file, pos, err := containers.BinlogPosition(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	want := binlogPos{File: file, Pos: uint32(pos)}
	for {
		r.task.mu.Lock()
		got := r.task.st.pos
		n := len(r.task.buf)
		r.task.mu.Unlock()
		if !got.less(want) && n == 0 {
			time.Sleep(100 * time.Millisecond) // let the runner take the last batch
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("binlog reader at %v, server at %v", got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSnapshotWithConcurrentWrites snapshots a 100k-row table while a
// writer changes it, and checks that folding the events gives exactly the
// table's final state.
func TestSnapshotWithConcurrentWrites(t *testing.T) {
	for _, f := range flavors {
		t.Run(string(f), func(t *testing.T) {
			m := server(t, f)
			db := m.NewDatabase(t)
			d := openDBT(t, m, db)
			const n = 100_000
			fillTable(t, d, n)
			cfg := baseConfig(m, db)
			cfg[KeySnapshotMode] = SnapshotInitial
			cfg[KeySnapshotChunkSize] = "4000"
			cfg[KeySnapshotParallelism] = "2"
			store := newMemStore()
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			writes := 0
			go writer(t, openDBT(t, m, db), n, stop, &wg, &writes)
			time.Sleep(200 * time.Millisecond)
			r := startRunner(t, "snap-"+string(f), cfg, store, true)
			defer r.stop()
			start := time.Now()
			r.waitFor("snapshot end", 5*time.Minute, func([]*connect.ChangeEvent) bool {
				r.task.mu.Lock()
				defer r.task.mu.Unlock()
				return r.task.snap != nil && r.task.snap.done
			})
			el := time.Since(start)
			close(stop)
			wg.Wait()
			waitCaughtUp(t, r, d)
			evs := r.snapshot()
			reads := countOps(evs, "big", connect.OpRead)
			t.Logf("%s: snapshot read %d rows in %v with %d concurrent writes; %d events total", f, reads, el, writes, len(evs))
			if writes == 0 || reads < n/2 {
				t.Fatalf("test did not exercise the merge: %d writes, %d reads", writes, reads)
			}
			got, want := applyEvents(t, evs), tableState(t, d)
			if len(got) != len(want) {
				t.Errorf("folded events have %d rows, table has %d", len(got), len(want))
			}
			diffs := 0
			for k, v := range want {
				if got[k] != v {
					if diffs < 5 {
						t.Errorf("key %s: events say %q, table says %q", k, got[k], v)
					}
					diffs++
				}
			}
			if diffs > 0 {
				t.Errorf("%d keys differ", diffs)
			}
			// Per-key order: sequences increase.
			for i := 1; i < len(evs); i++ {
				if evs[i].Source.Sequence <= evs[i-1].Source.Sequence {
					t.Fatalf("sequence not increasing at %d", i)
				}
			}
			time.Sleep(1500 * time.Millisecond)
			cp := store.checkpoint(t, "snap-"+string(f)+"/0")
			if cp == nil || cp.Snapshot != nil || cp.Sequence != evs[len(evs)-1].Source.Sequence {
				t.Errorf("checkpoint after snapshot = %+v, want sequence %d and no snapshot", cp, evs[len(evs)-1].Source.Sequence)
			}
		})
	}
}

// TestRestartFromCheckpoint stops a task without acknowledging the tail of
// its events, restarts it from the checkpoint, and checks that nothing is
// lost and every replayed event has the same sequence and content.
func TestRestartFromCheckpoint(t *testing.T) {
	for _, f := range flavors {
		t.Run(string(f), func(t *testing.T) {
			m := server(t, f)
			db := m.NewDatabase(t)
			d := openDBT(t, m, db)
			exec(t, d, "CREATE TABLE r (id INT PRIMARY KEY, v INT NOT NULL)")
			store := newMemStore()
			name := "restart-" + string(f)
			r1 := startRunner(t, name, baseConfig(m, db), store, true)
			write := func(from, to int) {
				for i := from; i < to; i++ {
					tx, err := d.Begin()
					if err != nil {
						t.Fatal(err)
					}
					for j := 0; j < 5; j++ {
						if _, err := tx.Exec("INSERT INTO r (id, v) VALUES (?, ?)", i*5+j, i); err != nil {
							t.Fatal(err)
						}
					}
					if err := tx.Commit(); err != nil {
						t.Fatal(err)
					}
				}
			}
			write(0, 20)
			r1.waitFor("first 100", 30*time.Second, atLeast("r", connect.OpCreate, 100))
			time.Sleep(1500 * time.Millisecond) // the flusher writes the acked checkpoint
			r1.mu.Lock()
			r1.ack = false
			r1.mu.Unlock()
			write(20, 40)
			exec(t, d, "ALTER TABLE r ADD COLUMN w INT NULL")
			write(40, 60)
			first := r1.waitFor("all 300", 30*time.Second, atLeast("r", connect.OpCreate, 300))
			r1.stop()
			cp := store.checkpoint(t, name+"/0")
			base := first[0].Source.Sequence - 1 // where a connector without a checkpoint starts numbering
			if cp == nil || cp.Sequence != base+100 {
				t.Fatalf("checkpoint = %+v, want sequence %d (the 100th)", cp, base+100)
			}
			r2 := startRunner(t, name, baseConfig(m, db), store, true)
			defer r2.stop()
			write(60, 70)
			second := r2.waitFor("replay", 30*time.Second, atLeast("r", connect.OpCreate, 250))
			bySeq := map[uint64]*connect.ChangeEvent{}
			for _, e := range first {
				bySeq[e.Source.Sequence] = e
			}
			if second[0].Source.Sequence != base+101 {
				t.Errorf("replay starts at sequence %d, want %d (the 101st)", second[0].Source.Sequence, base+101)
			}
			for i, e := range second {
				if i > 0 && e.Source.Sequence != second[i-1].Source.Sequence+1 {
					t.Fatalf("gap in replay: %s after %s", describe(e), describe(second[i-1]))
				}
				if old := bySeq[e.Source.Sequence]; old != nil {
					if !reflect.DeepEqual(old.After, e.After) || old.Source.GTID != e.Source.GTID || old.Source.Pos != e.Source.Pos ||
						old.Schema.Version != e.Schema.Version || *old.Tx != *e.Tx {
						t.Errorf("replayed event differs:\n  first  %s\n  replay %s", describe(old), describe(e))
					}
				}
			}
			last := second[len(second)-1]
			if last.Source.Sequence != base+350 || last.Schema.Version != 2 || len(last.After) != 3 {
				t.Errorf("last event %s, want sequence %d (the 350th) with schema version 2", describe(last), base+350)
			}
		})
	}
}

// TestReconnectAndAdHocSnapshot kills the binlog connection mid-stream and
// checks that the task reconnects without losing or repeating events, then
// runs an ad-hoc snapshot of one table.
func TestReconnectAndAdHocSnapshot(t *testing.T) {
	for _, f := range flavors {
		t.Run(string(f), func(t *testing.T) {
			m := server(t, f)
			db := m.NewDatabase(t)
			d := openDBT(t, m, db)
			exec(t, d, "CREATE TABLE k (id INT PRIMARY KEY, v INT)")
			r := startRunner(t, "reconnect-"+string(f), baseConfig(m, db), newMemStore(), true)
			defer r.stop()
			for i := 0; i < 50; i++ {
				exec(t, d, "INSERT INTO k VALUES (?, ?)", i, i)
			}
			r.waitFor("first inserts", 30*time.Second, atLeast("k", connect.OpCreate, 50))
			// Kill every binlog dump thread serving this task.
			rows, err := d.Query("SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'")
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for rows.Next() {
				var id int64
				_ = rows.Scan(&id)
				ids = append(ids, id)
			}
			_ = rows.Close()
			if len(ids) == 0 {
				t.Fatal("no binlog dump thread found")
			}
			for _, id := range ids {
				_, _ = d.Exec(fmt.Sprintf("KILL %d", id))
			}
			for i := 50; i < 100; i++ {
				exec(t, d, "INSERT INTO k VALUES (?, ?)", i, i)
			}
			deadline := time.Now().Add(60 * time.Second)
			for countOps(r.snapshot(), "k", connect.OpCreate) < 100 && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			evs := r.snapshot()
			seen := map[any]int{}
			for i, e := range evs {
				seen[e.After[0]]++
				if i > 0 && e.Source.Sequence != evs[i-1].Source.Sequence+1 {
					t.Fatalf("sequence gap after reconnect: %s then %s", describe(evs[i-1]), describe(e))
				}
			}
			for i := 0; i < 100; i++ {
				if seen[int32(i)] != 1 {
					t.Errorf("id %d seen %d times", i, seen[int32(i)])
				}
			}
			if t.Failed() {
				t.FailNow()
			}
			if err := r.task.Snapshot(context.Background(), []string{db + ".k"}); err != nil {
				t.Fatal(err)
			}
			evs = r.waitFor("ad-hoc snapshot", 60*time.Second, atLeast("k", connect.OpRead, 100))
			if n := countOps(evs, "k", connect.OpRead); n != 100 {
				t.Errorf("ad-hoc snapshot read %d rows, want 100", n)
			}
			if err := r.task.Snapshot(context.Background(), []string{db + ".nope"}); err == nil {
				t.Error("snapshot of an unknown table accepted")
			}
		})
	}
}
