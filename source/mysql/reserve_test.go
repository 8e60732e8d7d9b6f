package mysql

import (
	"log/slog"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/binlake/binlake/schema"
)

func TestPendingReservations(t *testing.T) {
	rs := []Reservation{{Base: 50, Rows: 10}, {Base: 20, Rows: 5}, {Base: 30, Rows: 0}, {Base: 40, Rows: 3}, {Base: 60, Rows: 2}}
	got := pendingReservations(rs, 40)
	want := []Reservation{{Base: 40, Rows: 3}, {Base: 50, Rows: 10}, {Base: 60, Rows: 2}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("pending after 40 = %v, want %v", got, want)
	}
	if got := pendingReservations(rs, 43); !reflect.DeepEqual(got, want[1:]) {
		t.Errorf("pending after 43 = %v, want %v", got, want[1:])
	}
	// A checkpoint between two chunks merged into one reservation keeps the part above it.
	merged := appendReservation(appendReservation(nil, Reservation{Base: 10, Rows: 5}), Reservation{Base: 15, Rows: 3})
	if got := pendingReservations(merged, 15); !reflect.DeepEqual(got, []Reservation{{Base: 15, Rows: 3}}) {
		t.Errorf("pending after 15 of %v = %v", merged, got)
	}
	if got := pendingReservations(rs, 62); len(got) != 0 {
		t.Errorf("pending after 62 = %v, want none", got)
	}
	if c := reservedCeiling(7, rs); c != 62 {
		t.Errorf("ceiling = %d, want 62", c)
	}
	if c := reservedCeiling(100, rs); c != 100 {
		t.Errorf("ceiling = %d, want 100", c)
	}
}

func TestSkipReserved(t *testing.T) {
	rs := []Reservation{{Base: 10, Rows: 5}, {Base: 15, Rows: 3}, {Base: 30, Rows: 4}}
	j := skipReserved(9, rs)
	if j.seq != 9 || len(j.skipped) != 0 || !reflect.DeepEqual(j.rest, rs) || j.diverged {
		t.Errorf("before the first base: %+v", j)
	}
	j = skipReserved(10, rs)
	if j.seq != 18 || !reflect.DeepEqual(j.skipped, rs[:2]) || !reflect.DeepEqual(j.rest, rs[2:]) || j.diverged {
		t.Errorf("at a chain of two chunks: %+v", j)
	}
	j = skipReserved(j.seq+5, j.rest) // 23: below the next base
	if j.seq != 23 || len(j.rest) != 1 {
		t.Errorf("between chunks: %+v", j)
	}
	j = skipReserved(31, j.rest)
	if !j.diverged || j.seq != 34 || len(j.rest) != 0 || len(j.skipped) != 1 {
		t.Errorf("past a base (diverged): %+v", j)
	}
}

func TestAppendReservationMergesBackToBackChunks(t *testing.T) {
	var rs []Reservation
	rs = appendReservation(rs, Reservation{Base: 10, Rows: 5})
	rs = appendReservation(rs, Reservation{Base: 15, Rows: 5})
	rs = appendReservation(rs, Reservation{Base: 22, Rows: 1})
	rs = appendReservation(rs, Reservation{Base: 23, Rows: 4, Table: "db.nokey", Digest: 9})
	rs = appendReservation(rs, Reservation{Base: 27, Rows: 2})
	want := []Reservation{{Base: 10, Rows: 10}, {Base: 22, Rows: 1}, {Base: 23, Rows: 4, Table: "db.nokey", Digest: 9}, {Base: 27, Rows: 2}}
	if !reflect.DeepEqual(rs, want) {
		t.Errorf("got %v, want %v", rs, want)
	}
}

func TestAckerSkippedRanges(t *testing.T) {
	a := newAcker(10)
	a.addMark(mark{seq: 12, cp: Checkpoint{Pos: 1}})
	a.addMark(mark{seq: 25, cp: Checkpoint{Pos: 2}}) // after a skipped range 13..20 and events 21..25
	a.skip(13, 20)
	a.ack([]uint64{21, 22, 23, 24, 25})
	if a.acked() != 10 {
		t.Fatalf("acked = %d with 11 and 12 missing", a.acked())
	}
	a.ack([]uint64{12})
	if _, ok := a.take(); ok {
		t.Fatal("mark taken with 11 unacked")
	}
	a.ack([]uint64{11})
	m, ok := a.take()
	if !ok || m.seq != 25 || a.acked() != 25 {
		t.Fatalf("take = %+v %v, acked %d; want the mark at 25 over the skipped range", m, ok, a.acked())
	}
	// A range starting right after the prefix moves it at once.
	a.skip(26, 30)
	if a.acked() != 30 {
		t.Errorf("acked = %d after skipping 26..30", a.acked())
	}
	a.skip(5, 8) // old range: ignored
	if a.acked() != 30 || len(a.gaps) != 0 {
		t.Errorf("old range changed state: %d %v", a.acked(), a.gaps)
	}
}

// TestReplayNumbering models a killed run that interleaves binlog transactions and snapshot chunks, checkpoints at
// some boundary, and is killed; then a restarted run replays the binlog from the checkpoint and reads the lost chunks
// again. Every binlog event must get the sequence it had before, and every chunk read again must get sequences above
// everything the killed run handed out.
func TestReplayNumbering(t *testing.T) {
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 7))
		type step struct {
			chunk bool
			n     int // events of the transaction or rows of the chunk
		}
		var steps []step
		for range 5 + rng.IntN(30) {
			if rng.IntN(3) == 0 {
				steps = append(steps, step{chunk: true, n: rng.IntN(5)}) // empty chunks happen (all rows in the window)
			} else {
				steps = append(steps, step{n: rng.IntN(4)}) // transactions on other tables emit nothing
			}
		}
		cut := rng.IntN(len(steps) + 1) // the last checkpoint is before step cut
		// The killed run.
		var seq, cpSeq uint64
		binlogSeqs := map[int][]uint64{} // step -> sequences of its events
		var reserved []Reservation
		for i, s := range steps {
			if i == cut {
				cpSeq = seq
			}
			if s.chunk {
				if s.n > 0 {
					reserved = appendReservation(reserved, Reservation{Base: seq, Rows: uint64(s.n)})
					seq += uint64(s.n)
				}
				continue
			}
			for range s.n {
				seq++
				binlogSeqs[i] = append(binlogSeqs[i], seq)
			}
		}
		if cut == len(steps) {
			cpSeq = seq
		}
		killedMax := seq
		// The restarted run: same binlog from the checkpoint; the chunks after it are not emitted in place.
		task := &Task{log: slog.New(slog.DiscardHandler), acks: newAcker(cpSeq)}
		task.st.seq = cpSeq
		task.replay = pendingReservations(reserved, cpSeq)
		for i := cut; i < len(steps); i++ {
			if steps[i].chunk {
				continue
			}
			for k := range steps[i].n {
				if got, want := task.nextSeq(), binlogSeqs[i][k]; got != want {
					t.Fatalf("seed %d: step %d event %d replayed with sequence %d, had %d", seed, i, k, got, want)
				}
			}
		}
		first := task.nextSeq() // the first row of a chunk read again
		if first <= killedMax {
			t.Fatalf("seed %d: a chunk read again starts at %d, the killed run handed out up to %d", seed, first, killedMax)
		}
		// Every sequence up to the chunk is accounted for: the skipped ranges plus the replayed events.
		var acks []uint64
		for i := cut; i < len(steps); i++ {
			acks = append(acks, binlogSeqs[i]...)
		}
		task.acks.ack(acks)
		if got := task.acks.acked(); got != first-1 {
			t.Fatalf("seed %d: acknowledged prefix %d, want %d (skipped ranges not counted)", seed, got, first-1)
		}
	}
}

func TestKeylessRowsCanonicalOrderAndDigest(t *testing.T) {
	d := schema.Decimal{}
	ts := time.Date(2024, 2, 29, 12, 0, 0, 123000, time.UTC)
	rows := [][]any{
		{int32(2), "b", nil, []byte{1, 2}, ts, d},
		{int32(1), "a", 1.5, []byte{}, nil, d},
		{int32(2), "b", nil, []byte{1, 2}, ts, d}, // a duplicate row: keyless tables may hold them
		{int32(1), "a", nil, nil, nil, nil},
	}
	shuffled := [][]any{rows[2], rows[3], rows[0], rows[1]}
	a := append([][]any(nil), rows...)
	sortRows(a)
	sortRows(shuffled)
	if !reflect.DeepEqual(a, shuffled) {
		t.Fatalf("canonical order depends on the read order:\n%v\n%v", a, shuffled)
	}
	if rowsDigest(a) != rowsDigest(shuffled) {
		t.Fatal("equal rows, different digests")
	}
	changed := append([][]any(nil), a...)
	changed[1] = []any{int32(1), "a", 1.25, []byte{}, nil, d}
	if rowsDigest(changed) == rowsDigest(a) {
		t.Error("a changed value keeps the digest")
	}
	if rowsDigest(a[:3]) == rowsDigest(a) {
		t.Error("a removed row keeps the digest")
	}
	// NULL and empty differ; a value cannot run into the next column.
	if string(canonRow([]any{nil})) == string(canonRow([]any{""})) || string(canonRow([]any{"ab", "c"})) == string(canonRow([]any{"a", "bc"})) {
		t.Error("canonical row encoding is ambiguous")
	}
}
