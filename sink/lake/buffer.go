package lake

import (
	"strings"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/schema"
)

// queuePos is what a table buffer holds from one queue.
type queuePos struct {
	first  int64  // offset of the first buffered event
	next   int64  // offset after the last buffered event
	maxSeq uint64 // highest buffered sequence
}

// tableBuffer collects one table's changes between commits. In upsert mode
// it keeps only the last change per primary key (a delete followed by a
// re-insert ends as the re-inserted row) and remembers every key touched;
// in append mode it keeps every change.
type tableBuffer struct {
	mode     Mode
	newest   *schema.Table
	truncate bool
	// floor is the sequence of the newest TRUNCATE in the buffer: in upsert
	// mode changes below it are gone with the table's rows.
	floor uint64
	topic string // of the queue the TRUNCATE came from
	// upsert: entries in first-touch order, byKey indexes them.
	entries []upsertEntry
	byKey   map[string]int
	// append: every change.
	changes []Row
	queues  map[string]*queuePos
	rows    int
	bytes   int64
}

// upsertEntry is the state of one key in the batch: the key image that
// must be deleted (its first image, in the schema it came with) and the
// last change.
type upsertEntry struct {
	keyRow Row
	last   Row
}

func newTableBuffer(mode Mode) *tableBuffer {
	return &tableBuffer{mode: mode, byKey: map[string]int{}, queues: map[string]*queuePos{}}
}

func (b *tableBuffer) empty() bool { return b.rows == 0 && !b.truncate }

// add buffers one event.
func (b *tableBuffer) add(ev *connect.ChangeEvent, q string, offset int64) {
	if b.newest == nil || ev.Schema.Version > b.newest.Version {
		b.newest = ev.Schema
	}
	qp := b.queues[q]
	if qp == nil {
		qp = &queuePos{first: offset}
		b.queues[q] = qp
	}
	qp.next = max(qp.next, offset+1)
	qp.maxSeq = max(qp.maxSeq, ev.Source.Sequence)
	row := Row{Op: ev.Op, Schema: ev.Schema, Values: ev.Row(), Sequence: ev.Source.Sequence, SourceTsMs: ev.Source.CommitTimeMs}
	size := rowBytes(row.Values)
	if ev.Op == connect.OpTruncate {
		b.topic = queueTopic(q)
		b.floor = max(b.floor, ev.Source.Sequence)
	}
	if b.mode == ModeAppend {
		b.changes = append(b.changes, row)
		b.rows++
		b.bytes += size
		return
	}
	if ev.Op == connect.OpTruncate {
		b.truncateBefore(ev.Source.Sequence)
		return
	}
	// An update that changed the key deletes the old key first.
	if ev.Op == connect.OpUpdate && ev.Before != nil && ev.After != nil {
		oldKey := connect.MessageKey(ev.Schema, ev.Before)
		if oldKey != connect.MessageKey(ev.Schema, ev.After) {
			b.put(oldKey, Row{Op: connect.OpDelete, Schema: ev.Schema, Values: ev.Before, Sequence: row.Sequence, SourceTsMs: row.SourceTsMs}, rowBytes(ev.Before))
		}
	}
	b.put(connect.MessageKey(ev.Schema, row.Values), row, size)
}

// truncateBefore applies a TRUNCATE with sequence seq: changes before it
// are dropped (the commit removes every row first), changes after it, which
// can have arrived earlier from other queues, stay.
func (b *tableBuffer) truncateBefore(seq uint64) {
	b.truncate = true
	kept := b.entries[:0]
	b.byKey = make(map[string]int, len(b.entries))
	b.rows, b.bytes = 0, 0
	for _, e := range b.entries {
		if e.last.Sequence < seq {
			continue
		}
		// The old image needs no equality delete any more: the truncate
		// removes it.
		e.keyRow = e.last
		b.byKey[connect.MessageKey(e.last.Schema, e.last.Values)] = len(kept)
		kept = append(kept, e)
		b.rows++
		b.bytes += rowBytes(e.last.Values) + 64
	}
	clear(b.entries[len(kept):])
	b.entries = kept
}

func (b *tableBuffer) put(key string, row Row, size int64) {
	if i, ok := b.byKey[key]; ok {
		if row.Sequence < b.entries[i].last.Sequence {
			return // an older change of the key (a replay): the newer one stays
		}
		b.bytes += size - rowBytes(b.entries[i].last.Values)
		b.entries[i].last = row
		return
	}
	b.byKey[key] = len(b.entries)
	b.entries = append(b.entries, upsertEntry{keyRow: row, last: row})
	b.rows++
	b.bytes += size + int64(len(key)) + 64
}

// batch turns the buffer into a writer batch.
func (b *tableBuffer) batch() *Batch {
	out := &Batch{Table: b.newest, Mode: b.mode, Truncate: b.truncate}
	if b.mode == ModeAppend {
		out.Changes = b.changes
		return out
	}
	out.Deletes = make([]Row, 0, len(b.entries))
	out.Upserts = make([]Row, 0, len(b.entries))
	for _, e := range b.entries {
		out.Deletes = append(out.Deletes, e.keyRow)
		if e.last.Op != connect.OpDelete {
			out.Upserts = append(out.Upserts, e.last)
		}
	}
	return out
}

// rowBytes estimates the memory a row image holds.
func rowBytes(values []any) int64 {
	n := int64(24 + 16*len(values))
	for _, v := range values {
		switch x := v.(type) {
		case string:
			n += int64(len(x))
		case []byte:
			n += int64(len(x))
		case schema.Decimal:
			n += 32
		}
	}
	return n
}

// queueTopic returns the topic of a QueueKey.
func queueTopic(q string) string {
	if i := strings.IndexByte(q, ':'); i >= 0 {
		return q[:i]
	}
	return q
}
