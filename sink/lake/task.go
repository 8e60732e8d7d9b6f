package lake

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/spec"
	"github.com/binlake/binlake/internal/metrics"
	"github.com/binlake/binlake/schema"
)

// DeadLetterSender sends a record the sink cannot write to the dead-letter
// topic with the reason. The worker provides it (SetDeadLetterSender) when
// errors.deadletterqueue.topic.name is set; it is connect's hook.
type DeadLetterSender = connect.DeadLetterSender

// Task is the lake-sink task: it buffers records per table (bounded by rows
// and bytes per table and in total), deduplicates them by queue sequence
// against the table's committed position, and commits each table through
// its format's TableWriter.
type Task struct {
	tc     *connect.TaskContext
	logger *slog.Logger
	format Format
	mode   Mode

	flushRows, totalRows   int
	flushBytes, totalBytes int64
	tolerateAll            bool

	dlq DeadLetterSender

	tables map[string]*tableState // by source "db.table"
	// consumed holds, per queue, the offset after the last record Put.
	consumed map[string]int64
	// queues holds every queue the task was opened with or consumed.
	queues map[string]bool
	// opened holds the committed position per lake table name, read by
	// Open before any event is seen.
	opened map[string]Position

	// mu guards what Offsets (REST, other goroutines) reads.
	mu        sync.Mutex
	committed map[string]Position // by source "db.table"

	// bufRows and bufBytes are the totals over all table buffers.
	bufRows  int
	bufBytes int64
	// failed is set when a commit failed: its outcome may be unknown, so
	// the task refuses further work until the worker restarts it and Open
	// reads the truth from the lake.
	failed error

	// newFormat opens the format; tests may replace it.
	newFormat func(ctx context.Context, tc *connect.TaskContext) (Format, error)
}

type tableState struct {
	name      string // source db.table
	writer    TableWriter
	committed Position
	buf       *tableBuffer
}

var (
	_ connect.SinkTask        = (*Task)(nil)
	_ connect.OffsetReporter  = (*Task)(nil)
	_ connect.DeadLetterAware = (*Task)(nil)
)

// NewTask returns an unstarted task.
func NewTask() *Task { return &Task{} }

// SetDeadLetterSender installs the dead-letter sender (called by the worker
// before Start when a dead-letter topic is configured).
func (t *Task) SetDeadLetterSender(d DeadLetterSender) { t.dlq = d }

// Start opens the table format named by lake.format.
func (t *Task) Start(ctx context.Context, tc *connect.TaskContext) error {
	t.tc = tc
	t.logger = tc.Logger
	if t.logger == nil {
		t.logger = slog.Default()
	}
	cfg := tc.Config
	t.mode = Mode(spec.GetString(cfg, KeyWriteMode))
	if t.mode == "" {
		t.mode = ModeUpsert
	}
	if t.mode != ModeUpsert && t.mode != ModeAppend {
		return connect.Terminal(fmt.Errorf("unknown %s %q", KeyWriteMode, t.mode), "use upsert or append")
	}
	t.flushRows = intOr(cfg, KeyFlushMaxRows, 500000)
	t.totalRows = intOr(cfg, KeyBufferMaxRows, 2000000)
	t.flushBytes = longOr(cfg, KeyFlushMaxBytes, 64<<20)
	t.totalBytes = longOr(cfg, KeyBufferMaxBytes, 192<<20)
	t.tolerateAll = spec.GetString(cfg, spec.ErrorsTolerance) == spec.ToleranceAll
	name := spec.GetString(cfg, KeyFormat)
	if name == "" {
		name = FormatIceberg
	}
	open := t.newFormat
	if open == nil {
		factory, ok := lookupFormat(name)
		if !ok {
			return connect.Terminal(fmt.Errorf("lake.format %q is not available in this binary (have %v)", name, Formats()),
				"use one of the available formats")
		}
		open = factory
	}
	f, err := open(ctx, tc)
	if err != nil {
		return fmt.Errorf("opening lake format %s: %w", name, err)
	}
	t.format = f
	t.tables = map[string]*tableState{}
	t.consumed = map[string]int64{}
	t.queues = map[string]bool{}
	t.committed = map[string]Position{}
	return nil
}

func intOr(cfg connect.Config, key string, def int) int {
	if v := spec.GetInt(cfg, key); v > 0 {
		return v
	}
	return def
}

func longOr(cfg connect.Config, key string, def int64) int64 {
	if v := spec.GetLong(cfg, key); v > 0 {
		return v
	}
	return def
}

// Open reads the committed positions of the lake tables this connector
// wrote and returns, per queue, the highest offset that some table recorded
// as safe to resume from (every event before it is committed everywhere),
// or -1 when no table recorded the queue.
func (t *Task) Open(ctx context.Context, queues []connect.QueueID) (map[connect.QueueID]int64, error) {
	opened, err := t.format.Committed(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading committed positions: %w", err)
	}
	t.opened = opened
	out := make(map[connect.QueueID]int64, len(queues))
	for _, q := range queues {
		k := QueueKey(q)
		t.queues[k] = true
		off := int64(-1)
		for _, p := range opened {
			if o, ok := p.Offsets[k]; ok && o > off {
				off = o
			}
		}
		out[q] = off
		if off >= 0 {
			t.consumed[k] = off
		}
	}
	return out, nil
}

// Put buffers records, dropping those at or below their table's committed
// sequence for their queue. When a table's buffer reaches flush.max.rows or
// flush.max.bytes it is committed; when all buffers together reach
// buffer.max.rows or buffer.max.bytes the largest are committed first.
func (t *Task) Put(ctx context.Context, records []connect.SinkRecord) error {
	if t.failed != nil {
		return t.failed
	}
	for i := range records {
		rec := records[i]
		qk := QueueKey(rec.Queue)
		t.queues[qk] = true
		if rec.Offset+1 > t.consumed[qk] {
			t.consumed[qk] = rec.Offset + 1
		}
		ts, err := t.accept(ctx, rec)
		if err != nil {
			if connect.IsTerminal(err) && !isRecordError(err) {
				return err
			}
			if derr := t.deadLetter(ctx, rec, err); derr != nil {
				return derr
			}
			continue
		}
		if ts == nil {
			continue
		}
		if ts.buf.rows >= t.flushRows || ts.buf.bytes >= t.flushBytes {
			if err := t.commit(ctx, ts); err != nil {
				return err
			}
		}
		if err := t.relieve(ctx); err != nil {
			return err
		}
	}
	return nil
}

// recordError marks a problem with one record (not with the table).
type recordError struct{ err error }

func (e *recordError) Error() string { return e.err.Error() }
func (e *recordError) Unwrap() error { return e.err }

func isRecordError(err error) bool {
	var r *recordError
	return errors.As(err, &r)
}

// accept validates and buffers one record; it returns the table state, or
// nil when the record was a duplicate.
func (t *Task) accept(ctx context.Context, rec connect.SinkRecord) (*tableState, error) {
	ev := rec.Event
	if ev == nil || ev.Schema == nil {
		return nil, &recordError{fmt.Errorf("record at %s offset %d has no event or schema", QueueKey(rec.Queue), rec.Offset)}
	}
	if !ev.Op.Valid() {
		return nil, &recordError{fmt.Errorf("record at %s offset %d has unknown op %q", QueueKey(rec.Queue), rec.Offset, ev.Op)}
	}
	if err := CheckRow(ev.Schema, ev.Before); err != nil {
		return nil, &recordError{fmt.Errorf("before image: %w", err)}
	}
	if err := CheckRow(ev.Schema, ev.After); err != nil {
		return nil, &recordError{fmt.Errorf("after image: %w", err)}
	}
	if ev.Op != connect.OpTruncate && ev.Row() == nil {
		return nil, &recordError{fmt.Errorf("%s event at %s offset %d has no row image", ev.Op, QueueKey(rec.Queue), rec.Offset)}
	}
	ts, err := t.table(ctx, ev.Schema)
	if err != nil {
		return nil, err
	}
	qk := QueueKey(rec.Queue)
	// Within one queue a source's sequences only rise; a restarted source
	// replays from its checkpoint, and what it re-sends to this queue comes
	// after the originals. So an event at or below the highest sequence seen
	// on its queue, committed or still buffered in this cycle, is a replay.
	if seq, ok := ts.committed.Sequences[qk]; ok && ev.Source.Sequence <= seq {
		return nil, nil // committed before: a replay
	}
	if qp, ok := ts.buf.queues[qk]; ok && ev.Source.Sequence <= qp.maxSeq {
		return nil, nil // buffered in this cycle: a replay
	}
	// A TRUNCATE travels on every queue of the table's topic with one
	// sequence: the first copy counts, the others are dropped.
	committedFloor := ts.committed.Sequences[floorKey(queueTopic(qk))]
	seq := ev.Source.Sequence
	if ev.Op == connect.OpTruncate && seq <= max(committedFloor, ts.buf.floor) {
		return nil, nil
	}
	if ts.buf.mode == ModeUpsert && (seq <= committedFloor || seq < ts.buf.floor) {
		// Before a TRUNCATE seen on another queue: the truncate removes it.
		// (A changelog keeps such events: they happened.)
		return nil, nil
	}
	rows, bytes := ts.buf.rows, ts.buf.bytes
	ts.buf.add(ev, qk, rec.Offset)
	t.bufRows += ts.buf.rows - rows
	t.bufBytes += ts.buf.bytes - bytes
	return ts, nil
}

// table returns the state of an event's table, opening its writer (and the
// lake table) on first sight.
func (t *Task) table(ctx context.Context, s *schema.Table) (*tableState, error) {
	name := s.QualifiedName()
	if ts, ok := t.tables[name]; ok {
		return ts, nil
	}
	if err := s.Validate(); err != nil {
		return nil, &recordError{err}
	}
	mode := t.mode
	if !s.HasPrimaryKey() {
		mode = ModeAppend
	}
	w, err := t.format.Table(ctx, s, mode)
	if err != nil {
		return nil, fmt.Errorf("opening lake table for %s: %w", name, err)
	}
	pos, ok, err := w.Committed(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading committed position of %s: %w", name, err)
	}
	if !ok {
		pos = Position{}
	}
	ts := &tableState{name: name, writer: w, committed: pos.Clone(), buf: newTableBuffer(w.Mode())}
	t.tables[name] = ts
	t.mu.Lock()
	t.committed[name] = ts.committed.Clone()
	t.mu.Unlock()
	return ts, nil
}

// relieve commits the largest buffers while the totals exceed their limits.
func (t *Task) relieve(ctx context.Context) error {
	for t.bufRows >= t.totalRows || t.bufBytes >= t.totalBytes {
		var largest *tableState
		for _, ts := range t.tables {
			if largest == nil || ts.buf.bytes > largest.buf.bytes {
				largest = ts
			}
		}
		if largest == nil || largest.buf.empty() {
			return nil
		}
		if err := t.commit(ctx, largest); err != nil {
			return err
		}
	}
	return nil
}

// Flush commits every table with buffered changes, then runs maintenance
// that is due.
func (t *Task) Flush(ctx context.Context) error {
	if t.failed != nil {
		return t.failed
	}
	names := make([]string, 0, len(t.tables))
	for n := range t.tables {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := t.commit(ctx, t.tables[n]); err != nil {
			return err
		}
	}
	for _, n := range names {
		if err := t.tables[n].writer.Maintain(ctx); err != nil {
			// Maintenance failing does not lose data: log and retry later.
			t.logger.Warn("lake table maintenance failed", "table", n, "error", err)
		}
	}
	return nil
}

// commit writes one table's buffer as one lake commit.
func (t *Task) commit(ctx context.Context, ts *tableState) error {
	if ts.buf.empty() {
		return nil
	}
	start := time.Now()
	b := ts.buf.batch()
	pos := ts.committed.Clone()
	for q, qp := range ts.buf.queues {
		pos.Sequences[q] = max(pos.Sequences[q], qp.maxSeq)
		pos.Offsets[q] = t.safeOffset(q, ts)
	}
	if ts.buf.floor > 0 {
		// A committed TRUNCATE: in upsert mode, changes before it that still
		// come from any queue of the table's topic, now or after a restart,
		// are gone with it, so every queue's committed sequence is raised to
		// it. The topic's floor also marks the truncate's other copies.
		for q := range t.queues {
			if ts.buf.mode == ModeUpsert && queueTopic(q) == ts.buf.topic {
				pos.Sequences[q] = max(pos.Sequences[q], ts.buf.floor)
			}
		}
		fk := floorKey(ts.buf.topic)
		pos.Sequences[fk] = max(pos.Sequences[fk], ts.buf.floor)
	}
	b.Position = pos
	b.CommitID = uuid.NewString()
	if err := ts.writer.Write(ctx, b); err != nil {
		t.failed = fmt.Errorf("committing %s: %w", ts.name, err)
		return t.failed
	}
	ts.committed = pos
	t.mu.Lock()
	t.committed[ts.name] = pos.Clone()
	t.mu.Unlock()
	t.observe(ts, b, start)
	t.bufRows -= ts.buf.rows
	t.bufBytes -= ts.buf.bytes
	ts.buf = newTableBuffer(ts.buf.mode)
	return nil
}

// floorKey is the key under which a position records the sequence of the
// newest committed TRUNCATE of a topic's table: every change at or below it,
// from any queue of the topic, is gone.
func floorKey(topic string) string { return topic + ":*" }

// safeOffset is the offset of q a restart may resume from once ts is
// committed: the first offset still buffered by another table, or the
// offset after the last record consumed.
func (t *Task) safeOffset(q string, ts *tableState) int64 {
	off := t.consumed[q]
	for _, o := range t.tables {
		if o == ts {
			continue
		}
		if qp, ok := o.buf.queues[q]; ok && !o.buf.empty() && qp.first < off {
			off = qp.first
		}
	}
	return off
}

func (t *Task) observe(ts *tableState, b *Batch, start time.Time) {
	task := strconv.Itoa(t.tc.TaskID)
	conn := t.tc.Connector
	metrics.SinkCommit.WithLabelValues(conn, task, ts.name).Observe(time.Since(start).Seconds())
	metrics.SinkCommits.WithLabelValues(conn, task, ts.name).Inc()
	counts := map[connect.Op]int{}
	// Freshness is observed per committed row (in upsert mode the last
	// change of each key that still exists): commit time minus the row's
	// source commit time.
	fresh := metrics.SinkFreshness.WithLabelValues(conn, task, ts.name)
	now := time.Now().UnixMilli()
	observe := func(r *Row) {
		if r.SourceTsMs > 0 {
			fresh.Observe(float64(now-r.SourceTsMs) / 1000)
		}
	}
	for _, rows := range [][]Row{b.Changes, b.Upserts} {
		for i := range rows {
			counts[rows[i].Op]++
			observe(&rows[i])
		}
	}
	for op, n := range counts {
		metrics.SinkRecords.WithLabelValues(conn, task, ts.name, op.String()).Add(float64(n))
	}
	if deletes := len(b.Deletes) - len(b.Upserts); b.Mode == ModeUpsert && deletes > 0 {
		metrics.SinkRecords.WithLabelValues(conn, task, ts.name, connect.OpDelete.String()).Add(float64(deletes))
	}
}

// deadLetter routes a record that cannot be written: to the dead-letter
// sender under errors.tolerance=all, otherwise it fails the task.
func (t *Task) deadLetter(ctx context.Context, rec connect.SinkRecord, reason error) error {
	if !t.tolerateAll {
		return connect.Terminal(fmt.Errorf("writing record at %s offset %d: %w", QueueKey(rec.Queue), rec.Offset, reason),
			"fix the record at the source, or set errors.tolerance=all (with errors.deadletterqueue.topic.name) to skip such records")
	}
	metrics.DLQRecords.WithLabelValues(t.tc.Connector, strconv.Itoa(t.tc.TaskID)).Inc()
	if t.dlq == nil {
		t.logger.Warn("skipping record that cannot be written", "queue", QueueKey(rec.Queue), "offset", rec.Offset, "error", reason)
		return nil
	}
	if err := t.dlq.SendDeadLetter(ctx, rec, reason); err != nil {
		return fmt.Errorf("sending record at %s offset %d to the dead-letter topic: %w", QueueKey(rec.Queue), rec.Offset, err)
	}
	return nil
}

// Offsets reports the committed position per source table.
func (t *Task) Offsets(context.Context) (map[string]any, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]any, len(t.committed))
	for n, p := range t.committed {
		out[n] = p.Clone()
	}
	return out, nil
}

// Stop closes the format without committing.
func (t *Task) Stop(context.Context) error {
	if t.format == nil {
		return nil
	}
	err := t.format.Close()
	t.format = nil
	return err
}

// Format returns the table format the task opened (nil before Start).
func (t *Task) Format() Format { return t.format }
