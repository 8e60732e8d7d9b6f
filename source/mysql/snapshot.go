package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/internal/metrics"
	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/source/mysql/decode"
)

// The snapshot is lock-free and chunked by primary key (DBLog / Flink CDC):
// for each chunk a window is opened in the binlog reader, the chunk is read
// with a plain SELECT, and the server's binlog position H is read after it.
// The chunk's rows are emitted once the binlog reader has passed H, at a
// transaction boundary, minus the rows whose key the reader saw change while
// the window was open: for those the binlog already carries a state at least
// as new. Every key's last event is therefore its state in the source.

// window collects the keys of one table changed in the binlog while a chunk
// of it is being read.
type window struct {
	table   string
	keys    map[string]struct{}
	invalid bool // the table's schema changed: read the chunk again
}

// chunkJob is one primary-key range of a table.
type chunkJob struct {
	idx    int
	table  string // db.table
	lo, hi [][]byte
	final  bool
}

// chunkResult is a read chunk waiting for the binlog reader.
type chunkResult struct {
	job     chunkJob
	tracked *schema.Table // tracked version the rows were decoded with
	out     *schema.Table
	rows    [][]any
	high    binlogPos
	win     *window
}

// snapshotRun is the running snapshot; its fields are guarded by Task.mu
// unless noted.
type snapshotRun struct {
	t       *Task
	prog    *SnapshotProgress
	windows map[string][]*window
	results map[int]*chunkResult
	next    int
	tokens  chan struct{} // bounds chunks read ahead (not guarded)
	started time.Time
	rows0   int64
	done    bool
	// replayed: keyless tables whose chunk of the previous run was emitted
	// again identically (their new read is dropped).
	replayed map[string]bool
	cancel   context.CancelFunc
	errc     chan error
}

// progress returns a copy of the emitted progress (nil: no snapshot).
func (s *snapshotRun) progress() *SnapshotProgress {
	if s == nil || s.done {
		return nil
	}
	return s.prog.clone()
}

// invalidate marks the open windows of a table whose schema changed.
func (s *snapshotRun) invalidate(db, name string) {
	if s == nil {
		return
	}
	for _, w := range s.windows[db+"."+name] {
		w.invalid = true
	}
}

// touch records changed keys in the open windows of a table. Called by the
// binlog reader with Task.mu held.
func (t *Task) touch(tbl *schema.Table, out *schema.Table, before, after []any) {
	s := t.snap
	if s == nil || len(s.windows) == 0 {
		return
	}
	ws := s.windows[tbl.QualifiedName()]
	if len(ws) == 0 {
		return
	}
	for _, img := range [][]any{before, after} {
		if img == nil {
			continue
		}
		k := connect.MessageKey(out, img)
		for _, w := range ws {
			w.keys[k] = struct{}{}
		}
	}
}

func (s *snapshotRun) openWindow(table string) *window {
	w := &window{table: table, keys: map[string]struct{}{}}
	s.windows[table] = append(s.windows[table], w)
	return w
}

func (s *snapshotRun) closeWindow(w *window) {
	ws := s.windows[w.table]
	for i := range ws {
		if ws[i] == w {
			s.windows[w.table] = append(ws[:i], ws[i+1:]...)
			break
		}
	}
	if len(s.windows[w.table]) == 0 {
		delete(s.windows, w.table)
	}
}

// startSnapshot starts a snapshot with the given progress. Task.mu must not
// be held.
func (t *Task) startSnapshot(prog *SnapshotProgress) {
	ctx, cancel := context.WithCancel(context.Background())
	s := &snapshotRun{
		t: t, prog: prog, windows: map[string][]*window{}, results: map[int]*chunkResult{}, replayed: map[string]bool{},
		tokens: make(chan struct{}, 2*t.cfg.parallelism), started: time.Now(), rows0: prog.Rows,
		cancel: cancel, errc: make(chan error, 1),
	}
	t.mu.Lock()
	t.snap = s
	t.mu.Unlock()
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		if err := s.run(ctx); err != nil && ctx.Err() == nil {
			t.mu.Lock()
			if t.streamErr == nil {
				t.streamErr = fmt.Errorf("snapshotting: %w", err)
			}
			t.wake()
			t.mu.Unlock()
		}
	}()
}

// run computes chunk boundaries table by table and reads chunks with up to
// parallelism readers. Results are emitted in chunk order by the reader.
func (s *snapshotRun) run(ctx context.Context) error {
	t := s.t
	jobs := make(chan chunkJob)
	var wg sync.WaitGroup
	errc := make(chan error, t.cfg.parallelism+1)
	for i := 0; i < t.cfg.parallelism; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if err := s.read(ctx, j); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	t.mu.Lock()
	tablesToDo := append([]string(nil), s.prog.Tables...)
	after := s.prog.After
	t.mu.Unlock()
	idx := 0
	var err error
outer:
	for ti, table := range tablesToDo {
		t.mu.Lock()
		replayed := s.replayed[table]
		t.mu.Unlock()
		if replayed {
			continue // emitted again as in the previous run
		}
		lo := [][]byte(nil)
		if ti == 0 {
			lo = after
		}
		for {
			select {
			case s.tokens <- struct{}{}:
			case <-ctx.Done():
				err = ctx.Err()
				break outer
			case err = <-errc:
				break outer
			}
			hi, bErr := s.boundary(ctx, table, lo)
			if bErr != nil {
				err = bErr
				break outer
			}
			job := chunkJob{idx: idx, table: table, lo: lo, hi: hi, final: hi == nil}
			idx++
			select {
			case jobs <- job:
			case <-ctx.Done():
				err = ctx.Err()
				break outer
			case err = <-errc:
				break outer
			}
			if hi == nil {
				break
			}
			lo = hi
		}
	}
	close(jobs)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errc:
		default:
		}
	}
	return err
}

// keyInfo returns the table's current tracked and emitted versions and its
// key column names.
func (s *snapshotRun) keyInfo(table string) (*schema.Table, *schema.Table, []string, error) {
	t := s.t
	db, name, _ := strings.Cut(table, ".")
	t.mu.Lock()
	defer t.mu.Unlock()
	tracked := t.tracker.Get(db, name)
	if tracked == nil {
		return nil, nil, nil, fmt.Errorf("table %s is not tracked", table)
	}
	out := t.emitted(tracked)
	var pk []string
	for _, i := range tracked.PrimaryKey {
		pk = append(pk, tracked.Columns[i].Name)
	}
	return tracked, out, pk, nil
}

func tableSQL(table string) string {
	db, name, _ := strings.Cut(table, ".")
	return quoteIdent(db) + "." + quoteIdent(name)
}

// keyCond returns the key comparison "(k1,k2) op (v1,v2)" for op ">" or
// "<=", expanded to "k1 > v1 OR (k1 = v1 AND k2 > v2)" because MySQL does
// not use an index range for row-constructor inequalities.
func keyCond(pk []string, op string, vals [][]byte) (string, []any) {
	last, strict := op, op
	if op == "<=" {
		strict = "<"
	}
	var ors []string
	var args []any
	for i := range pk {
		var ands []string
		for j := 0; j < i; j++ {
			ands = append(ands, quoteIdent(pk[j])+" = ?")
			args = append(args, string(vals[j]))
		}
		o := strict
		if i == len(pk)-1 {
			o = last
		}
		ands = append(ands, quoteIdent(pk[i])+" "+o+" ?")
		args = append(args, string(vals[i]))
		ors = append(ors, "("+strings.Join(ands, " AND ")+")")
	}
	return "(" + strings.Join(ors, " OR ") + ")", args
}

// boundary returns the key of the last row of the chunk starting after lo,
// or nil when that chunk reaches the end of the table.
func (s *snapshotRun) boundary(ctx context.Context, table string, lo [][]byte) ([][]byte, error) {
	_, _, pk, err := s.keyInfo(table)
	if err != nil {
		return nil, err
	}
	if len(pk) == 0 {
		return nil, nil // one chunk: tables without a key cannot be split
	}
	qpk := make([]string, len(pk))
	for i, k := range pk {
		qpk[i] = quoteIdent(k)
	}
	q := "SELECT " + strings.Join(qpk, ",") + " FROM " + tableSQL(table)
	var args []any
	if lo != nil {
		c, a := keyCond(pk, ">", lo)
		q += " WHERE " + c
		args = a
	}
	q += " ORDER BY " + strings.Join(qpk, ",") + " LIMIT 1 OFFSET " + strconv.Itoa(s.t.cfg.chunkSize-1)
	rows, err := s.t.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, classify(err, "finding chunk boundary of "+table)
	}
	defer func() { _ = rows.Close() }()
	if !rows.Next() {
		return nil, rows.Err()
	}
	raw := make([]sql.RawBytes, len(pk))
	ptrs := make([]any, len(pk))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, fmt.Errorf("finding chunk boundary of %s: %w", table, err)
	}
	out := make([][]byte, len(pk))
	for i := range raw {
		out[i] = append([]byte{}, raw[i]...)
	}
	return out, rows.Err()
}

// read reads one chunk inside a window and hands it to the binlog reader.
func (s *snapshotRun) read(ctx context.Context, j chunkJob) error {
	t := s.t
	tracked, out, pk, err := s.keyInfo(j.table)
	if err != nil {
		return err
	}
	t.mu.Lock()
	win := s.openWindow(j.table)
	t.mu.Unlock()

	res := &chunkResult{job: j, tracked: tracked, out: out, win: win}
	if res.rows, err = t.queryChunk(ctx, j, out, pk); err != nil {
		t.mu.Lock()
		s.closeWindow(win)
		t.mu.Unlock()
		return err
	}
	if res.high, err = binlogStatus(ctx, t.db); err != nil {
		return err
	}
	t.mu.Lock()
	s.results[j.idx] = res
	t.emitReadyChunks()
	t.mu.Unlock()
	t.wake()
	return nil
}

// queryChunk selects the rows of one chunk, decoded for the emitted version
// out of the table (key columns pk), in key order.
func (t *Task) queryChunk(ctx context.Context, j chunkJob, out *schema.Table, pk []string) ([][]any, error) {
	var err error
	codecs := make([]*decode.Codec, len(out.Columns))
	cols := make([]string, len(out.Columns))
	for i, c := range out.Columns {
		if codecs[i], err = decode.NewCodec(c); err != nil {
			return nil, fmt.Errorf("snapshotting %s: %w", j.table, err)
		}
		cols[i] = quoteIdent(c.Name)
	}
	q := "SELECT " + strings.Join(cols, ",") + " FROM " + tableSQL(j.table)
	var conds []string
	var args []any
	if j.lo != nil {
		c, a := keyCond(pk, ">", j.lo)
		conds, args = append(conds, c), append(args, a...)
	}
	if j.hi != nil {
		c, a := keyCond(pk, "<=", j.hi)
		conds, args = append(conds, c), append(args, a...)
	}
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	if len(pk) > 0 {
		qpk := make([]string, len(pk))
		for i, k := range pk {
			qpk[i] = quoteIdent(k)
		}
		q += " ORDER BY " + strings.Join(qpk, ",")
	}
	rows, err := t.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, classify(err, "snapshotting "+j.table)
	}
	raw := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	var res [][]any
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			_ = rows.Close()
			return nil, fmt.Errorf("snapshotting %s: %w", j.table, err)
		}
		row := make([]any, len(raw))
		for i := range raw {
			if raw[i] == nil {
				continue
			}
			v, err := codecs[i].Text(raw[i])
			if err != nil {
				_ = rows.Close()
				return nil, fmt.Errorf("snapshotting %s column %s: %w", j.table, out.Columns[i].Name, err)
			}
			row[i] = v
		}
		res = append(res, row)
	}
	_ = rows.Close()
	if err := rows.Err(); err != nil {
		return nil, classify(err, "snapshotting "+j.table)
	}
	return res, nil
}

// emitReadyChunks emits, in order, the chunks whose high watermark the
// binlog reader has passed. Task.mu must be held; the reader must be at a
// transaction boundary.
func (t *Task) emitReadyChunks() {
	s := t.snap
	if t.st.inTx || t.emitting {
		return
	}
	// At a boundary where the previous run emitted snapshot chunks, skip
	// (or emit again) them before anything else gets a sequence.
	due := len(t.replay) > 0 && t.replay[0].Base <= t.st.seq
	if !due && (s == nil || s.done) {
		return
	}
	t.emitting = true
	defer func() {
		t.emitting = false
		t.room.Broadcast()
	}()
	if due {
		t.skipReplayed()
	}
	for s != nil && !s.done {
		r := s.results[s.next]
		if r == nil || t.st.pos.less(r.high) {
			return
		}
		delete(s.results, s.next)
		s.closeWindow(r.win)
		db, name, _ := strings.Cut(r.job.table, ".")
		if cur := t.tracker.Get(db, name); r.win.invalid || cur != r.tracked {
			if cur == nil {
				// Dropped while being read: nothing left to snapshot.
				r.rows = nil
			} else {
				// The schema changed under the chunk: read it again.
				t.wg.Add(1)
				go func(j chunkJob) {
					defer t.wg.Done()
					ctx, cancel := t.lifetimeCtx()
					defer cancel()
					if err := s.read(ctx, j); err != nil {
						t.mu.Lock()
						if t.streamErr == nil {
							t.streamErr = fmt.Errorf("snapshotting: %w", err)
						}
						t.wake()
						t.mu.Unlock()
					}
				}(r.job)
				return
			}
		}
		if s.replayed[r.job.table] {
			// The previous run's chunk of this keyless table was emitted
			// again identically; this new read is not needed.
			s.next++
			s.releaseToken()
			continue
		}
		emit := r.rows
		keyed := len(r.out.PrimaryKey) > 0
		if keyed && len(r.win.keys) > 0 {
			emit = make([][]any, 0, len(r.rows))
			for _, row := range r.rows {
				if _, seen := r.win.keys[connect.MessageKey(r.out, row)]; !seen {
					emit = append(emit, row)
				}
			}
		}
		n := len(emit)
		now := time.Now().UnixMilli()
		if n > 0 {
			if len(t.replay) > 0 {
				t.skipReplayed()
			}
			res := Reservation{Base: t.st.seq, Rows: uint64(n)}
			if len(r.tracked.PrimaryKey) == 0 {
				// The table's only chunk: replayable if unchanged.
				sortRows(emit)
				res.Table, res.Digest, res.File, res.Pos, res.TsMs = r.job.table, rowsDigest(emit), r.high.File, r.high.Pos, now
			}
			if err := t.reserve(res); err != nil {
				if t.streamErr == nil {
					t.streamErr = err
				}
				t.wake()
				return
			}
		}
		t.emitChunkRows(db, name, r.out, emit, r.high, now)
		if r.job.final {
			t.tableDone(r.job.table, n)
		} else {
			t.chunkDone(r.job.table, n)
			s.prog.After = r.job.hi
		}
		s.next++
		s.releaseToken()
		if t.finishSnapshot() {
			return
		}
	}
}

// chunkDone counts n emitted snapshot rows of table. Task.mu must be held.
func (t *Task) chunkDone(table string, n int) {
	t.snap.prog.Rows += int64(n)
	metrics.SourceSnapshotRows.WithLabelValues(t.tc.Connector, strconv.Itoa(t.tc.TaskID), table).Add(float64(n))
}

// tableDone counts the n rows of table's last emitted chunk and records the
// table as snapshotted. Task.mu must be held.
func (t *Task) tableDone(table string, n int) {
	t.chunkDone(table, n)
	p := t.snap.prog
	if i := slices.Index(p.Tables, table); i >= 0 {
		p.Tables = slices.Delete(p.Tables, i, i+1)
		if i == 0 {
			p.After = nil // the key position belonged to the table in progress
		}
	}
	p.Done = append(p.Done, table)
}

// releaseToken lets the chunk planner read one more chunk ahead.
func (s *snapshotRun) releaseToken() {
	select {
	case <-s.tokens:
	default:
	}
}

// emitChunkRows hands out the rows of one snapshot chunk as 'r' events with
// the next sequences. Task.mu must be held.
func (t *Task) emitChunkRows(db, name string, out *schema.Table, rows [][]any, high binlogPos, tsMs int64) {
	for _, row := range rows {
		if t.nextSeq() <= t.st.suppress {
			continue
		}
		t.push(&connect.ChangeEvent{
			Op: connect.OpRead, After: row, Schema: out,
			Source: connect.SourceInfo{
				Connector: t.tc.Connector, ServerID: t.info.serverID, File: high.File, Pos: uint64(high.Pos),
				Database: db, Table: name, Snapshot: true, CommitTimeMs: tsMs, Sequence: t.st.seq,
			},
			TsMs: tsMs,
		})
	}
}

// finishSnapshot ends the snapshot when no table is left, records the
// boundary after the last emitted chunk, and reports whether the snapshot
// is done. Task.mu must be held.
func (t *Task) finishSnapshot() bool {
	s := t.snap
	if !s.done && len(s.prog.Tables) == 0 {
		s.done = true
		clear(s.windows) // chunks still being read are not needed
		t.snapDone = true
		t.log.Info("snapshot finished", "rows", s.prog.Rows, "tables", len(s.prog.Done))
		if t.cfg.snapshotMode == SnapshotInitialOnly {
			t.streamOff = true
		}
	}
	t.addMark()
	t.status()
	return s.done
}

// status records the snapshot progress text; the flusher publishes it
// (never under Task.mu). Task.mu must be held.
func (t *Task) status() {
	if t.snap == nil {
		return
	}
	s := t.snap
	el := time.Since(s.started).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(s.prog.Rows-s.rows0) / el
	}
	if s.done {
		t.statusText = fmt.Sprintf("snapshot done: %d tables, %d rows (%.0f rows/s); streaming", len(s.prog.Done), s.prog.Rows, rate)
		if t.cfg.snapshotMode == SnapshotInitialOnly {
			t.statusText = fmt.Sprintf("snapshot done: %d tables, %d rows (%.0f rows/s); snapshot.mode=initial_only, not streaming", len(s.prog.Done), s.prog.Rows, rate)
		}
		return
	}
	cur := ""
	if len(s.prog.Tables) > 0 {
		cur = s.prog.Tables[0]
	}
	pct := ""
	if s.prog.Total > 0 {
		pct = fmt.Sprintf(" (~%.0f%%)", 100*float64(s.prog.Rows)/float64(s.prog.Total))
	}
	t.statusText = (fmt.Sprintf("snapshot: %d/%d tables done, at %s, %d rows%s, %.0f rows/s",
		len(s.prog.Done), len(s.prog.Done)+len(s.prog.Tables), cur, s.prog.Rows, pct, rate))
}
