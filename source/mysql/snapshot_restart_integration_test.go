//go:build integration

package mysql

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/binlake/binlake/connect"
)

// sameEvent reports whether two events carry the same change (what the sink keeps of an event).
func sameEvent(a, b *connect.ChangeEvent) bool {
	return a.Op == b.Op && a.Source.Database == b.Source.Database && a.Source.Table == b.Source.Table &&
		reflect.DeepEqual(a.Before, b.Before) && reflect.DeepEqual(a.After, b.After) && a.Schema.Version == b.Schema.Version
}

// checkRestartSequences checks the invariant the sink relies on across a restart: every event of the restarted run
// with a sequence the killed run used is the very event the killed run sent with it, and sequences strictly increase
// in each run. It returns the killed run's highest sequence.
func checkRestartSequences(t *testing.T, first, second []*connect.ChangeEvent) uint64 {
	t.Helper()
	bySeq := map[uint64]*connect.ChangeEvent{}
	var maxFirst uint64
	for i, e := range first {
		bySeq[e.Source.Sequence] = e
		maxFirst = max(maxFirst, e.Source.Sequence)
		if i > 0 && e.Source.Sequence <= first[i-1].Source.Sequence {
			t.Fatalf("killed run: sequence does not increase: %s after %s", describe(e), describe(first[i-1]))
		}
	}
	bad := 0
	for i, e := range second {
		if i > 0 && e.Source.Sequence <= second[i-1].Source.Sequence {
			t.Fatalf("restarted run: sequence does not increase: %s after %s", describe(e), describe(second[i-1]))
		}
		if e.Source.Sequence > maxFirst {
			continue
		}
		old := bySeq[e.Source.Sequence]
		if old == nil || !sameEvent(old, e) {
			if bad < 5 {
				if old == nil {
					t.Errorf("restarted run used sequence %d, which the killed run left free, at or below its highest %d: %s",
						e.Source.Sequence, maxFirst, describe(e))
				} else {
					t.Errorf("sequence %d names another event after the restart:\n  killed    %s\n  restarted %s",
						e.Source.Sequence, describe(old), describe(e))
				}
			}
			bad++
		}
	}
	if bad > 0 {
		t.Fatalf("%d events of the restarted run reuse a sequence for another event", bad)
	}
	return maxFirst
}

// sinkView is what a sink that dedupes by sequence (one queue: the strictest case) keeps when it received the killed
// run's events up to sequence seen and then the restarted run's events.
func sinkView(first, second []*connect.ChangeEvent, seen uint64) []*connect.ChangeEvent {
	var out []*connect.ChangeEvent
	for _, e := range first {
		if e.Source.Sequence <= seen {
			out = append(out, e)
		}
	}
	for _, e := range second {
		if e.Source.Sequence > seen {
			out = append(out, e)
		}
	}
	return out
}

// TestSnapshotRestartMidway snapshots a table in small chunks while a writer changes it, stops acknowledging events
// after a few chunks (so the checkpoint stays behind while more chunks and binlog events are emitted), stops the task
// and restarts it from the checkpoint: the replayed binlog events keep their sequences, the chunks read again get
// sequences above everything the first run sent, and whatever prefix of the first run a sink had received, folding
// what it keeps gives exactly the table's final state.
func TestSnapshotRestartMidway(t *testing.T) {
	for _, f := range flavors {
		t.Run(string(f), func(t *testing.T) {
			m := server(t, f)
			db := m.NewDatabase(t)
			d := openDBT(t, m, db)
			const n = 60_000
			fillTable(t, d, n)
			cfg := baseConfig(m, db)
			cfg[KeySnapshotMode] = SnapshotInitial
			cfg[KeySnapshotChunkSize] = "500"
			cfg[KeySnapshotParallelism] = "2"
			store := newMemStore()
			name := "snaprestart-" + string(f)
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			writes := 0
			go writer(t, openDBT(t, m, db), n, stop, &wg, &writes)
			defer func() {
				select {
				case <-stop:
				default:
					close(stop)
				}
				wg.Wait()
			}()

			r1 := startRunner(t, name, cfg, store, true)
			// Stop acknowledging once the flusher wrote a checkpoint with some snapshot progress.
			deadline := time.Now().Add(time.Minute)
			for {
				if cp := store.checkpoint(t, name+"/0"); cp != nil && cp.Snapshot != nil && cp.Snapshot.Rows >= 1000 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("no checkpoint with snapshot progress within a minute")
				}
				time.Sleep(5 * time.Millisecond)
			}
			r1.mu.Lock()
			r1.ack = false
			reads := countOps(r1.events, "big", connect.OpRead)
			r1.mu.Unlock()
			r1.waitFor("more chunks", time.Minute, atLeast("big", connect.OpRead, reads+5000))
			r1.stop()
			first := r1.snapshot()
			cp := store.checkpoint(t, name+"/0")
			if cp == nil || cp.Snapshot == nil {
				t.Fatalf("checkpoint = %+v, want one mid-snapshot", cp)
			}
			if len(pendingReservations(cp.Reserved, cp.Sequence)) == 0 {
				t.Fatalf("the checkpoint at sequence %d holds no reservation of the chunks emitted after it: %+v", cp.Sequence, cp.Reserved)
			}

			r2 := startRunner(t, name, cfg, store, true)
			defer r2.stop()
			r2.waitFor("snapshot end", 3*time.Minute, func([]*connect.ChangeEvent) bool {
				r2.task.mu.Lock()
				defer r2.task.mu.Unlock()
				return r2.task.snap != nil && r2.task.snap.done
			})
			close(stop)
			wg.Wait()
			waitCaughtUp(t, r2, d)
			second := r2.snapshot()
			t.Logf("%d writes; killed run %d events (checkpoint at %d, %d reservations), restarted run %d events",
				writes, len(first), cp.Sequence, len(cp.Reserved), len(second))

			maxFirst := checkRestartSequences(t, first, second)
			for _, e := range second {
				if e.Op == connect.OpRead && e.Source.Sequence <= maxFirst {
					t.Fatalf("a snapshot row of the restarted run has sequence %d, not above the killed run's %d: %s",
						e.Source.Sequence, maxFirst, describe(e))
				}
			}
			want := tableState(t, d)
			for _, seen := range []uint64{cp.Sequence, (cp.Sequence + maxFirst) / 2, maxFirst} {
				got := applyEvents(t, sinkView(first, second, seen))
				diffs := 0
				for k, v := range want {
					if got[k] != v {
						if diffs < 5 {
							t.Errorf("sink saw the killed run up to %d: key %s is %q, table has %q", seen, k, got[k], v)
						}
						diffs++
					}
				}
				for k := range got {
					if _, ok := want[k]; !ok {
						if diffs < 5 {
							t.Errorf("sink saw the killed run up to %d: key %s is not in the table", seen, k)
						}
						diffs++
					}
				}
				if diffs > 0 {
					t.Fatalf("sink saw the killed run up to %d: %d keys differ", seen, diffs)
				}
			}
		})
	}
}

// TestSnapshotRestartKeylessTable restarts a task whose killed run emitted the snapshot of a table without a primary
// key after its checkpoint: the table is unchanged, so the restarted run emits the identical events with the same
// sequences (a sink drops them as duplicates) and reads no copy of it with new sequences.
func TestSnapshotRestartKeylessTable(t *testing.T) {
	for _, f := range flavors {
		t.Run(string(f), func(t *testing.T) {
			m := server(t, f)
			db := m.NewDatabase(t)
			d := openDBT(t, m, db)
			exec(t, d, "CREATE TABLE a_keyed (id INT PRIMARY KEY, v INT NOT NULL)")
			exec(t, d, "CREATE TABLE b_nokey (x INT NULL, s VARCHAR(20) NULL)")
			var vals []string
			for i := range 3000 {
				vals = append(vals, fmt.Sprintf("(%d,%d)", i, i))
			}
			exec(t, d, "INSERT INTO a_keyed VALUES "+strings.Join(vals, ","))
			vals = vals[:0]
			for i := range 1500 {
				vals = append(vals, fmt.Sprintf("(%d,'row %d')", i%700, i%300)) // duplicate rows included
			}
			vals = append(vals, "(NULL,NULL)", "(NULL,NULL)")
			exec(t, d, "INSERT INTO b_nokey VALUES "+strings.Join(vals, ","))
			cfg := baseConfig(m, db)
			cfg[KeySnapshotMode] = SnapshotInitial
			cfg[KeySnapshotChunkSize] = "400"
			cfg[KeySnapshotParallelism] = "1"
			store := newMemStore()
			name := "snapkeyless-" + string(f)

			// The killed run acknowledges nothing: its checkpoint is the first one, before every chunk.
			r1 := startRunner(t, name, cfg, store, false)
			r1.waitFor("snapshot end", 2*time.Minute, func([]*connect.ChangeEvent) bool {
				r1.task.mu.Lock()
				defer r1.task.mu.Unlock()
				return r1.task.snap != nil && r1.task.snap.done
			})
			exec(t, d, "UPDATE a_keyed SET v = v + 1 WHERE id < 50") // the keyed table changes; the keyless one does not
			waitCaughtUp(t, r1, d)
			r1.stop()
			first := r1.snapshot()
			cp := store.checkpoint(t, name+"/0")
			if cp == nil || cp.Snapshot == nil || len(first) == 0 || cp.Sequence != first[0].Source.Sequence-1 {
				t.Fatalf("checkpoint = %+v, want the first one", cp)
			}

			r2 := startRunner(t, name, cfg, store, true)
			defer r2.stop()
			r2.waitFor("snapshot end", 2*time.Minute, func([]*connect.ChangeEvent) bool {
				r2.task.mu.Lock()
				defer r2.task.mu.Unlock()
				return r2.task.snap != nil && r2.task.snap.done
			})
			waitCaughtUp(t, r2, d)
			second := r2.snapshot()
			maxFirst := checkRestartSequences(t, first, second)

			var firstKeyless, againKeyless, newKeyless []string
			for _, e := range first {
				if e.Source.Table == "b_nokey" && e.Op == connect.OpRead {
					firstKeyless = append(firstKeyless, fmt.Sprint(e.Source.Sequence, e.After))
				}
			}
			for _, e := range second {
				if e.Source.Table != "b_nokey" || e.Op != connect.OpRead {
					continue
				}
				if e.Source.Sequence <= maxFirst {
					againKeyless = append(againKeyless, fmt.Sprint(e.Source.Sequence, e.After))
				} else {
					newKeyless = append(newKeyless, fmt.Sprint(e.Source.Sequence, e.After))
				}
			}
			if len(firstKeyless) != 1502 {
				t.Fatalf("the killed run emitted %d rows of the keyless table, want 1502", len(firstKeyless))
			}
			if len(newKeyless) != 0 {
				t.Errorf("the restarted run emitted %d rows of the unchanged keyless table with new sequences (duplicates in the lake)", len(newKeyless))
			}
			sort.Strings(firstKeyless)
			sort.Strings(againKeyless)
			if !reflect.DeepEqual(firstKeyless, againKeyless) {
				t.Errorf("the restarted run emitted %d keyless rows with old sequences, want the killed run's %d identical ones",
					len(againKeyless), len(firstKeyless))
			}
			// The keyed chunks were read again, above the killed run's sequences (minus the keys the replayed updates
			// touched while the chunks were read), and a sink ends with the keyed table's state whatever it had received.
			if reads := countOps(second, "a_keyed", connect.OpRead); reads < 2950 {
				t.Errorf("the restarted run read %d rows of the keyed table again, want at least 2950", reads)
			}
			for _, seen := range []uint64{0, maxFirst} {
				state := map[any]any{}
				for _, e := range sinkView(first, second, seen) {
					if e.Source.Table == "a_keyed" && e.After != nil {
						state[e.After[0]] = e.After[1]
					}
				}
				wrong := 0
				for id := range 3000 {
					want := int32(id)
					if id < 50 {
						want++
					}
					if state[int32(id)] != want {
						wrong++
					}
				}
				if wrong > 0 || len(state) != 3000 {
					t.Errorf("sink saw the killed run up to %d: %d of %d keys of the keyed table wrong", seen, wrong, len(state))
				}
			}
			for _, e := range second {
				if e.Source.Table == "a_keyed" && e.Op == connect.OpRead && e.Source.Sequence <= maxFirst {
					t.Fatalf("a keyed chunk read again reuses sequence %d: %s", e.Source.Sequence, describe(e))
				}
			}
		})
	}
}

// TestInitialOnlyStopsAndStaysStopped checks snapshot.mode=initial_only: the task stops emitting when the snapshot
// is done, the checkpoint says so, and a restart neither snapshots again nor streams.
func TestInitialOnlyStopsAndStaysStopped(t *testing.T) {
	for _, f := range flavors {
		t.Run(string(f), func(t *testing.T) {
			m := server(t, f)
			db := m.NewDatabase(t)
			d := openDBT(t, m, db)
			fillTable(t, d, 5000)
			cfg := baseConfig(m, db)
			cfg[KeySnapshotMode] = SnapshotInitialOnly
			cfg[KeySnapshotChunkSize] = "1000"
			store := newMemStore()
			name := "initialonly-" + string(f)
			r1 := startRunner(t, name, cfg, store, true)
			r1.waitFor("snapshot end", 2*time.Minute, func([]*connect.ChangeEvent) bool {
				r1.task.mu.Lock()
				defer r1.task.mu.Unlock()
				return r1.task.snap != nil && r1.task.snap.done
			})
			exec(t, d, "INSERT INTO big VALUES (900000,'x',1,'after the snapshot')")
			exec(t, d, "UPDATE big SET v = -1 WHERE id < 10")
			time.Sleep(1500 * time.Millisecond) // the reader passes the writes; the flusher writes the checkpoint
			r1.stop()
			first := r1.snapshot()
			if reads := countOps(first, "big", connect.OpRead); reads != 5000 || len(first) != 5000 {
				t.Fatalf("initial_only run emitted %d events (%d snapshot rows), want exactly the 5000 rows", len(first), reads)
			}
			cp := store.checkpoint(t, name+"/0")
			if cp == nil || cp.Snapshot != nil || !cp.StreamOff || cp.Sequence != first[len(first)-1].Source.Sequence {
				t.Fatalf("checkpoint after the initial_only snapshot = %+v, want it done, stream off, at sequence %d",
					cp, first[len(first)-1].Source.Sequence)
			}
			r2 := startRunner(t, name, cfg, store, true)
			exec(t, d, "INSERT INTO big VALUES (900001,'x',1,'after the restart')")
			time.Sleep(2 * time.Second)
			r2.stop()
			if evs := r2.snapshot(); len(evs) != 0 {
				t.Fatalf("the restarted initial_only task emitted %d events, first %s", len(evs), describe(evs[0]))
			}
			r2.mu.Lock()
			status := r2.status
			r2.mu.Unlock()
			if !strings.Contains(status, "initial_only") {
				t.Errorf("status %q does not say the initial_only snapshot is done", status)
			}
			if cp2 := store.checkpoint(t, name+"/0"); cp2 == nil || !cp2.StreamOff || cp2.Sequence != cp.Sequence {
				t.Errorf("checkpoint after the restart = %+v, want it unchanged", cp2)
			}
		})
	}
}
