package mysql

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"
)

// checkpointFormat versions the persisted checkpoint.
const checkpointFormat = 1

// Checkpoint is the persisted source position of one task (ARCHITECTURE.md
// 3.5). It describes a transaction (or snapshot chunk) boundary whose every
// event the broker acknowledged.
type Checkpoint struct {
	Format int    `json:"format"`
	Flavor string `json:"flavor"`
	// File and Pos: the binlog position after the last complete transaction.
	File string `json:"file"`
	Pos  uint32 `json:"pos"`
	// GTIDSet is the executed set at that point (MySQL "uuid:1-n,...",
	// MariaDB "domain-server-seq,..."); empty when GTIDs are off.
	GTIDSet string `json:"gtid_set,omitempty"`
	// Sequence is the sequence of the last event before this point.
	Sequence uint64 `json:"sequence"`
	// Snapshot is the progress of a running snapshot (nil: none).
	Snapshot *SnapshotProgress `json:"snapshot,omitempty"`
	// Reserved lists the sequence ranges of snapshot chunks emitted after
	// this point (written before their events are handed out); a restarted
	// task leaves them out of its numbering (see Reservation).
	Reserved []Reservation `json:"reserved,omitempty"`
	// StreamOff: snapshot.mode=initial_only finished its snapshot; the task
	// emits nothing more, also after a restart.
	StreamOff bool `json:"stream_off,omitempty"`
	// Schemas is the schema history in use at this point.
	Schemas json.RawMessage `json:"schemas"`
	// SavedAt is when the checkpoint was written (informational).
	SavedAt time.Time `json:"saved_at"`
}

// SnapshotProgress is the resumable state of a snapshot.
type SnapshotProgress struct {
	// Tables still to finish, in order; the first is in progress.
	Tables []string `json:"tables"`
	// After holds the primary key (as text) of the last row of the last
	// emitted chunk of Tables[0]; nil when no chunk was emitted yet.
	After [][]byte `json:"after,omitempty"`
	// Rows counts rows emitted so far by this snapshot.
	Rows int64 `json:"rows"`
	// Total is the estimated row count of all snapshotted tables.
	Total int64 `json:"total"`
	// Done lists tables finished by this snapshot.
	Done []string `json:"done,omitempty"`
}

func (p *SnapshotProgress) clone() *SnapshotProgress {
	if p == nil {
		return nil
	}
	cp := *p
	cp.Tables = append([]string(nil), p.Tables...)
	cp.Done = append([]string(nil), p.Done...)
	cp.After = append([][]byte(nil), p.After...)
	return &cp
}

func decodeCheckpoint(b []byte) (*Checkpoint, error) {
	var c Checkpoint
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("decoding source checkpoint: %w", err)
	}
	if c.Format != checkpointFormat {
		return nil, fmt.Errorf("decoding source checkpoint: unknown format %d", c.Format)
	}
	return &c, nil
}

// mark is a candidate checkpoint: the state right after the event with
// sequence seq, at a transaction or chunk boundary.
type mark struct {
	seq  uint64
	cp   Checkpoint
	gset interface{ String() string } // formatted into cp.GTIDSet when written
}

// acker tracks broker acknowledgements (which arrive in any order) and the
// boundary marks, and yields the newest mark whose every event is acked.
type acker struct {
	mu      sync.Mutex
	contig  uint64              // every sequence <= contig is acknowledged
	pending map[uint64]struct{} // acked sequences above contig
	gaps    map[uint64]uint64   // skipped ranges above contig: first -> last
	marks   []mark              // in sequence order
	changed chan struct{}
}

func newAcker(start uint64) *acker {
	return &acker{contig: start, pending: map[uint64]struct{}{}, gaps: map[uint64]uint64{}, changed: make(chan struct{}, 1)}
}

// skip records that no event carries the sequences first..last (a range
// reserved by a chunk of an earlier run): they count as acknowledged.
func (a *acker) skip(first, last uint64) {
	if last < first {
		return
	}
	a.mu.Lock()
	moved := false
	switch {
	case last <= a.contig:
	case first <= a.contig+1:
		a.contig = last
		moved = true
	default:
		for f, l := range a.gaps { // drop ranges the prefix overtook (few)
			if l <= a.contig {
				delete(a.gaps, f)
			}
		}
		if l, ok := a.gaps[first]; !ok || l < last {
			a.gaps[first] = last
		}
	}
	if moved {
		a.advance()
	}
	a.mu.Unlock()
	if moved {
		a.signal()
	}
}

// advance moves contig over acknowledged sequences and skipped ranges that
// follow it. a.mu must be held.
func (a *acker) advance() bool {
	moved := false
	for {
		if _, ok := a.pending[a.contig+1]; ok {
			delete(a.pending, a.contig+1)
			a.contig++
			moved = true
			continue
		}
		if l, ok := a.gaps[a.contig+1]; ok {
			delete(a.gaps, a.contig+1)
			a.contig = max(a.contig, l)
			moved = true
			continue
		}
		return moved
	}
}

// addMark records a boundary after sequence seq. Marks with the same
// sequence replace each other (transactions that emitted nothing).
func (a *acker) addMark(m mark) {
	a.mu.Lock()
	if n := len(a.marks); n > 0 && a.marks[n-1].seq == m.seq {
		a.marks[n-1] = m
	} else {
		a.marks = append(a.marks, m)
	}
	ready := m.seq <= a.contig
	a.mu.Unlock()
	if ready {
		a.signal()
	}
}

func (a *acker) signal() {
	select {
	case a.changed <- struct{}{}:
	default:
	}
}

// ack records acknowledged sequences.
func (a *acker) ack(seqs []uint64) {
	a.mu.Lock()
	moved := false
	for _, s := range seqs {
		switch {
		case s <= a.contig:
		case s == a.contig+1:
			a.contig++ // the common case: acks in order
			moved = true
		default:
			a.pending[s] = struct{}{}
		}
	}
	if a.advance() {
		moved = true
	}
	a.mu.Unlock()
	if moved {
		a.signal()
	}
}

// take returns the newest mark whose events are all acknowledged and drops
// the marks before it.
func (a *acker) take() (mark, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	i := -1
	for j := range a.marks {
		if a.marks[j].seq > a.contig {
			break
		}
		i = j
	}
	if i < 0 {
		return mark{}, false
	}
	m := a.marks[i]
	a.marks = append(a.marks[:0], a.marks[i+1:]...)
	return m, true
}

// acked returns the contiguous acknowledged sequence.
func (a *acker) acked() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.contig
}

// InitialSequence is the sequence a task without a checkpoint starts
// numbering after: its start time in Unix milliseconds shifted left by 21
// bits. Sinks drop events at or below the highest sequence they committed
// per queue, so a connector whose offsets were deleted (DELETE
// /connectors/{name}?purge=true) and that is created again, or a new
// connector writing to the same topics, must number above everything the
// earlier run sent: it does unless the earlier run averaged more than two
// billion events a second. The values stay below 2^63 (Avro longs, Iceberg
// longs) until the year 2109.
func InitialSequence(now time.Time) uint64 { return uint64(now.UnixMilli()) << 21 }
