package lake

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"sort"
	"strconv"
	"sync"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/schema"
)

// Mode is how change events become rows of a lake table.
type Mode string

// The write modes.
const (
	// ModeUpsert mirrors the source table by primary key.
	ModeUpsert Mode = "upsert"
	// ModeAppend is a changelog: every event becomes a row carrying its op,
	// sequence and source timestamp.
	ModeAppend Mode = "append"
)

// QueueKey is the stable text form of a queue used in committed positions:
// "topic:broker:queue".
func QueueKey(q connect.QueueID) string {
	return q.Topic + ":" + q.BrokerName + ":" + strconv.Itoa(q.Queue)
}

// Position is what a lake commit records besides data: per queue (QueueKey)
// the offset a restarted task resumes from, and the highest sequence
// committed to the table from that queue. Events at or below that sequence
// are duplicates of committed ones.
type Position struct {
	Offsets   map[string]int64  `json:"offsets"`
	Sequences map[string]uint64 `json:"sequences"`
}

// Clone returns a deep copy of p (never nil maps).
func (p Position) Clone() Position {
	out := Position{Offsets: maps.Clone(p.Offsets), Sequences: maps.Clone(p.Sequences)}
	if out.Offsets == nil {
		out.Offsets = map[string]int64{}
	}
	if out.Sequences == nil {
		out.Sequences = map[string]uint64{}
	}
	return out
}

// EncodeOffsets returns the JSON text of p.Offsets with sorted keys.
func (p Position) EncodeOffsets() string { return encodeSorted(p.Offsets) }

// EncodeSequences returns the JSON text of p.Sequences with sorted keys.
func (p Position) EncodeSequences() string { return encodeSorted(p.Sequences) }

func encodeSorted[V any](m map[string]V) string {
	if m == nil {
		return "{}"
	}
	b, err := json.Marshal(m) // encoding/json sorts map keys
	if err != nil {
		return "{}"
	}
	return string(b)
}

// DecodePosition parses the two JSON texts written by EncodeOffsets and
// EncodeSequences.
func DecodePosition(offsets, sequences string) (Position, error) {
	p := Position{Offsets: map[string]int64{}, Sequences: map[string]uint64{}}
	if offsets != "" {
		if err := json.Unmarshal([]byte(offsets), &p.Offsets); err != nil {
			return Position{}, fmt.Errorf("decoding committed offsets %q: %w", offsets, err)
		}
	}
	if sequences != "" {
		if err := json.Unmarshal([]byte(sequences), &p.Sequences); err != nil {
			return Position{}, fmt.Errorf("decoding committed sequences %q: %w", sequences, err)
		}
	}
	return p, nil
}

// Row is one change as a lake writer sees it: the row image in the table
// version it was written with.
type Row struct {
	Op connect.Op
	// Schema is the table version Values are aligned with.
	Schema *schema.Table
	// Values is the after image (the before image for deletes; nil for a
	// truncate).
	Values []any
	// Sequence and SourceTsMs come from the event's SourceInfo.
	Sequence   uint64
	SourceTsMs int64
}

// Batch is one commit's worth of changes for one table. A writer turns it
// into data files (and, in upsert mode, equality-delete files) and commits
// them together with Position in one atomic table commit.
type Batch struct {
	// Table is the newest table version among the rows: the writer evolves
	// the lake table to it before writing.
	Table *schema.Table
	// Mode is the table's write mode (upsert needs a primary key).
	Mode Mode
	// Truncate (upsert) removes every row before applying the batch.
	Truncate bool
	// Deletes (upsert) are the rows whose primary key must be removed
	// before Upserts are added: every key the batch touched. Only the key
	// columns are read.
	Deletes []Row
	// Upserts (upsert) are the last image of every key the batch touched
	// whose last change was not a delete. Changes (append) is every event.
	Upserts []Row
	Changes []Row
	// Position is the table's complete committed position after the batch.
	Position Position
	// CommitID identifies the commit; a writer retrying after an unknown
	// outcome checks the table for it before committing again.
	CommitID string
}

// TableWriter writes batches to one lake table. One goroutine calls it.
type TableWriter interface {
	// Committed returns the position recorded by this connector's latest
	// commit to the table (ok=false when it never committed).
	Committed(ctx context.Context) (pos Position, ok bool, err error)
	// Write commits b atomically with b.Position, retrying conflicts
	// itself (checking for b.CommitID before each retry). After an error
	// the outcome may be unknown: the task stops, and its restart reads the
	// truth back with Committed. Schema changes the format cannot take are
	// terminal (connect.Terminal).
	Write(ctx context.Context, b *Batch) error
	// Maintain compacts and expires; a no-op for formats without it.
	Maintain(ctx context.Context) error
	// Mode is the mode the table is written in: an existing table keeps
	// the mode it was created with, whatever write.mode says now.
	Mode() Mode
}

// Format is one table format (iceberg, hudi) opened for one task.
type Format interface {
	// Table returns the writer for the lake table of a source table,
	// creating the lake table when it does not exist.
	Table(ctx context.Context, t *schema.Table, mode Mode) (TableWriter, error)
	// Committed returns, for every lake table this connector committed to
	// that the format can find, the committed position keyed by the lake
	// table's name (used by SinkTask.Open before any event is seen).
	Committed(ctx context.Context) (map[string]Position, error)
	// Close releases catalogs and clients.
	Close() error
}

// FormatFactory opens a format for a task. cfg is the task's config with
// defaults applied; dataDir is private to the connector.
type FormatFactory func(ctx context.Context, tc *connect.TaskContext) (Format, error)

var (
	formatsMu sync.RWMutex
	formats   = map[string]FormatFactory{}
)

// RegisterFormat makes a table format available under name (the value of
// lake.format). Format packages call it from init.
func RegisterFormat(name string, f FormatFactory) {
	formatsMu.Lock()
	defer formatsMu.Unlock()
	formats[name] = f
}

// Formats returns the registered format names, sorted.
func Formats() []string {
	formatsMu.RLock()
	defer formatsMu.RUnlock()
	out := make([]string, 0, len(formats))
	for n := range formats {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func lookupFormat(name string) (FormatFactory, bool) {
	formatsMu.RLock()
	defer formatsMu.RUnlock()
	f, ok := formats[name]
	return f, ok
}
