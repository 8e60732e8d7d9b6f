package mysql

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/binlake/binlake/schema"
)

// Sequence reservations make a crash in the middle of a snapshot safe for the
// sink, which drops every event whose sequence is at or below the highest it
// has seen on that queue.
//
// Binlog events are numbered in binlog order, so a restarted task that
// replays the binlog from its checkpoint gives them the same sequences, but
// only if it also leaves room for the snapshot chunks the killed run emitted
// between them: a chunk read again after the crash has other contents (the
// table changed) and is emitted at another place in the stream. So, before a
// chunk's first event is handed out, the range of sequences it takes is
// written durably into the checkpoint (a Reservation). A restarted task that
// finds reservations above its checkpoint's sequence skips each range when
// its replay reaches the range's base (Task.nextSeq): the binlog events
// around the chunk get exactly their old sequences, and the chunk itself,
// read again and emitted later (after the high watermark of the new read,
// which lies beyond everything the killed run read), gets sequences above
// everything the killed run could have sent.
//
// A keyed chunk read again therefore shows up a second time in an append
// (changelog) table as 'r' rows with new sequences, as with Debezium or
// Flink CDC re-reading a chunk; an upsert table stays exact. A chunk of a
// table without a primary key is sorted canonically and its reservation
// carries a digest of its rows: if the table still holds exactly those rows
// after the restart, the chunk is emitted again at the same place with the
// same sequences (identical events, which the sink drops as duplicates), so
// keyless tables get no duplicates either unless they changed in between.

// Reservation records that a snapshot chunk took the sequences
// Base+1..Base+Rows, right after the event with sequence Base.
type Reservation struct {
	Base uint64 `json:"base"`
	Rows uint64 `json:"rows"`
	// The fields below are set for a chunk of a table without a primary
	// key only; they let a restarted task emit the identical chunk again.
	// Table is "db.table".
	Table string `json:"table,omitempty"`
	// Digest is rowsDigest of the chunk's rows.
	Digest uint64 `json:"digest,omitempty"`
	// File and Pos are the chunk's high watermark, TsMs its timestamp.
	File string `json:"file,omitempty"`
	Pos  uint32 `json:"pos,omitempty"`
	TsMs int64  `json:"ts_ms,omitempty"`
}

// end returns the last sequence the reservation covers.
func (r Reservation) end() uint64 { return r.Base + r.Rows }

// keyless reports whether the reservation is a chunk of a table without a
// primary key (replayable when unchanged).
func (r Reservation) keyless() bool { return r.Table != "" }

// pendingReservations returns, sorted by base, the reservations a task
// restarting from a checkpoint at sequence seq must honour: those of
// non-empty chunks not covered by the checkpoint. A chunk is emitted
// atomically between two boundaries, so a checkpoint is either before a
// chunk (seq <= Base) or after it (seq >= Base+Rows); only a reservation
// merged from chunks emitted back to back can contain the checkpoint (at a
// boundary between them), and then only its part above seq is pending.
func pendingReservations(rs []Reservation, seq uint64) []Reservation {
	var out []Reservation
	for _, r := range rs {
		if r.Rows == 0 || r.end() <= seq {
			continue
		}
		if r.Base < seq && !r.keyless() {
			r.Rows = r.end() - seq
			r.Base = seq
		}
		out = append(out, r)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Base < out[j].Base })
	return out
}

// reservedCeiling returns the highest sequence any of rs covers, or seq if higher.
func reservedCeiling(seq uint64, rs []Reservation) uint64 {
	for _, r := range rs {
		seq = max(seq, r.end())
	}
	return seq
}

// jump is the outcome of skipReserved: the sequence to continue from and
// the ranges skipped (to be treated as acknowledged).
type jump struct {
	seq      uint64
	skipped  []Reservation
	rest     []Reservation
	diverged bool
}

// skipReserved applies the reservations due before the sequence after seq
// is assigned: every reservation whose base is seq (chunks emitted back to
// back chain) is skipped. A reservation below seq means the replay did not
// reproduce the killed run's numbering; then every pending range is skipped
// at once so that nothing below their ceiling is assigned again from here.
// Keyless reservations are returned in skipped too; the caller decides
// whether it emits them again instead of leaving a gap.
func skipReserved(seq uint64, rs []Reservation) jump {
	j := jump{seq: seq}
	for len(rs) > 0 {
		r := rs[0]
		switch {
		case r.Base == j.seq:
			j.skipped = append(j.skipped, r)
			j.seq = r.end()
			rs = rs[1:]
		case r.Base < j.seq:
			j.diverged = true
			j.skipped = append(j.skipped, rs...)
			j.seq = reservedCeiling(j.seq, rs)
			rs = nil
		default:
			j.rest = rs
			return j
		}
	}
	return j
}

// appendReservation adds r to the open reservations, merging it into the
// last one when it directly follows it (chunks emitted back to back) and
// neither needs replaying.
func appendReservation(rs []Reservation, r Reservation) []Reservation {
	if n := len(rs); n > 0 && !rs[n-1].keyless() && !r.keyless() && rs[n-1].end() == r.Base {
		rs[n-1].Rows += r.Rows
		return rs
	}
	return append(rs, r)
}

// canonRow encodes a row so that equal rows (by value) encode equally and
// sorting the encodings orders rows deterministically.
func canonRow(row []any) []byte {
	var b []byte
	for _, v := range row {
		if v == nil {
			b = append(b, 0)
			continue
		}
		b = append(b, 1)
		var s []byte
		switch x := v.(type) {
		case []byte:
			s = x
		case string:
			s = []byte(x)
		case float32:
			s = binary.BigEndian.AppendUint32(nil, math.Float32bits(x))
		case float64:
			s = binary.BigEndian.AppendUint64(nil, math.Float64bits(x))
		case time.Time:
			s = []byte(x.UTC().Format(time.RFC3339Nano))
		case schema.Decimal:
			s = []byte(x.String())
		default:
			s = []byte(fmt.Sprintf("%T:%v", v, v))
		}
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	return b
}

// sortRows orders rows canonically, in place.
func sortRows(rows [][]any) {
	type keyed struct {
		key []byte
		row []any
	}
	tmp := make([]keyed, len(rows))
	for i, r := range rows {
		tmp[i] = keyed{canonRow(r), r}
	}
	slices.SortStableFunc(tmp, func(a, b keyed) int { return bytes.Compare(a.key, b.key) })
	for i := range tmp {
		rows[i] = tmp[i].row
	}
}

// rowsDigest is a 64-bit digest of rows in order (FNV-1a of their canonical
// encodings, each preceded by its length).
func rowsDigest(rows [][]any) uint64 {
	h := fnv.New64a()
	var n [4]byte
	for _, r := range rows {
		c := canonRow(r)
		binary.BigEndian.PutUint32(n[:], uint32(len(c)))
		_, _ = h.Write(n[:])
		_, _ = h.Write(c)
	}
	return h.Sum64()
}
