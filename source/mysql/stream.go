package mysql

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/internal/metrics"
	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/source/mysql/decode"
	"github.com/binlake/binlake/source/mysql/tables"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
)

// streamState is the reader's position; guarded by Task.mu.
type streamState struct {
	pos binlogPos // end of the last event read
	// boundary: after the last complete transaction
	bound     binlogPos
	boundGSet gomysql.GTIDSet
	seq       uint64 // last assigned sequence
	// suppress: events with a sequence up to this were already handed out
	// before a reconnect; they are re-read but not emitted again.
	suppress uint64

	inTx       bool
	txID       string
	gtid       string
	commitMs   int64
	totalOrder uint64
	tableOrder map[string]uint64
}

// plan is how rows of one table version decode; cached per table id.
type plan struct {
	tbl     *schema.Table // tracked version (all columns)
	out     *schema.Table // emitted version (excluded columns dropped)
	keep    []int         // indexes into tbl.Columns of emitted columns
	codecs  []*decode.Codec
	enums   [][]string
	sets    [][]string
	counter [3]prometheus.Counter // c, u, d
	tm      *replication.TableMapEvent
}

func (t *Task) planFor(tm *replication.TableMapEvent, tbl *schema.Table) (*plan, error) {
	if p := t.plans[tm.TableID]; p != nil && p.tbl == tbl && (p.tm == tm || sameTableMap(p.tm, tm)) {
		return p, nil
	}
	if int(tm.ColumnCount) != len(tbl.Columns) {
		return nil, connect.Terminal(fmt.Errorf("table %s has %d columns in the binlog but %d in the tracked schema (version %d)",
			tbl.QualifiedName(), tm.ColumnCount, len(tbl.Columns), tbl.Version),
			"the schema history is out of step with the binlog; reset the connector's offsets and snapshot again")
	}
	names := tm.ColumnNameString()
	for i, n := range names {
		if i < len(tbl.Columns) && !strings.EqualFold(n, tbl.Columns[i].Name) {
			return nil, connect.Terminal(fmt.Errorf("column %d of %s is %q in the binlog but %q in the tracked schema (version %d)",
				i, tbl.QualifiedName(), n, tbl.Columns[i].Name, tbl.Version),
				"the schema history is out of step with the binlog; reset the connector's offsets and snapshot again")
		}
	}
	p := &plan{tbl: tbl, tm: tm}
	out := t.emitted(tbl)
	p.out = out
	for i := range tbl.Columns {
		if out.ColumnIndex(tbl.Columns[i].Name) < 0 {
			continue
		}
		c, err := decode.NewCodec(tbl.Columns[i])
		if err != nil {
			return nil, connect.Terminal(fmt.Errorf("decoding %s: %w", tbl.QualifiedName(), err), "")
		}
		p.keep = append(p.keep, i)
		p.codecs = append(p.codecs, c)
	}
	enums, sets := tm.EnumStrValueMap(), tm.SetStrValueMap()
	p.enums = make([][]string, len(p.keep))
	p.sets = make([][]string, len(p.keep))
	for j, i := range p.keep {
		p.enums[j] = enums[i]
		p.sets[j] = sets[i]
	}
	for k, op := range []string{"c", "u", "d"} {
		p.counter[k] = metrics.SourceEvents.WithLabelValues(t.tc.Connector, strconv.Itoa(t.tc.TaskID), tbl.QualifiedName(), op)
	}
	if len(t.plans) >= 4096 {
		clear(t.plans) // table ids grow with DDL and table-cache churn
	}
	t.plans[tm.TableID] = p
	return p, nil
}

// emitted returns the version of tbl with excluded columns dropped (cached).
func (t *Task) emitted(tbl *schema.Table) *schema.Table {
	if o := t.outTables[tbl]; o != nil {
		return o
	}
	out := tbl
	var drop bool
	for _, c := range tbl.Columns {
		if !t.cfg.filter.Column(tbl.Database, tbl.Name, c.Name) {
			drop = true
		}
	}
	if drop {
		cp := *tbl
		cp.Columns = nil
		cp.PrimaryKey = nil
		idx := map[int]int{}
		for i, c := range tbl.Columns {
			if t.cfg.filter.Column(tbl.Database, tbl.Name, c.Name) {
				idx[i] = len(cp.Columns)
				cp.Columns = append(cp.Columns, c)
			}
		}
		for _, k := range tbl.PrimaryKey {
			if j, ok := idx[k]; ok {
				cp.PrimaryKey = append(cp.PrimaryKey, j)
			}
		}
		out = &cp
	}
	t.outTables[tbl] = out
	return out
}

// sameTableMap reports whether two TABLE_MAP events describe the same
// columns (MySQL repeats the map before every transaction's rows).
func sameTableMap(a, b *replication.TableMapEvent) bool {
	if a.ColumnCount != b.ColumnCount || string(a.Schema) != string(b.Schema) || string(a.Table) != string(b.Table) ||
		string(a.ColumnType) != string(b.ColumnType) || len(a.ColumnMeta) != len(b.ColumnMeta) ||
		len(a.ColumnName) != len(b.ColumnName) || len(a.EnumStrValue) != len(b.EnumStrValue) || len(a.SetStrValue) != len(b.SetStrValue) {
		return false
	}
	for i := range a.ColumnMeta {
		if a.ColumnMeta[i] != b.ColumnMeta[i] {
			return false
		}
	}
	for i := range a.ColumnName {
		if string(a.ColumnName[i]) != string(b.ColumnName[i]) {
			return false
		}
	}
	for i := range a.EnumStrValue {
		if len(a.EnumStrValue[i]) != len(b.EnumStrValue[i]) {
			return false
		}
		for j := range a.EnumStrValue[i] {
			if string(a.EnumStrValue[i][j]) != string(b.EnumStrValue[i][j]) {
				return false
			}
		}
	}
	for i := range a.SetStrValue {
		if len(a.SetStrValue[i]) != len(b.SetStrValue[i]) {
			return false
		}
		for j := range a.SetStrValue[i] {
			if string(a.SetStrValue[i][j]) != string(b.SetStrValue[i][j]) {
				return false
			}
		}
	}
	return true
}

// row decodes one row image into out (len(p.keep) values).
func (p *plan) rowInto(raw []any, out []any) ([]any, error) {
	for j, i := range p.keep {
		if i >= len(raw) {
			return nil, fmt.Errorf("row of %s has %d values, want %d", p.tbl.QualifiedName(), len(raw), len(p.tbl.Columns))
		}
		v, err := p.codecs[j].Binlog(raw[i], p.enums[j], p.sets[j])
		if err != nil {
			return nil, fmt.Errorf("decoding column %s of %s: %w", p.tbl.Columns[i].Name, p.tbl.QualifiedName(), err)
		}
		out[j] = v
	}
	return out, nil
}

// captured caches the table filter's answer.
func (t *Task) captured(db, name string) bool {
	k := tableKey{db, name}
	if v, ok := t.capCache[k]; ok {
		return v
	}
	v := t.cfg.filter.Table(db, name)
	if len(t.capCache) > 10000 {
		clear(t.capCache)
	}
	t.capCache[k] = v
	return v
}

type tableKey struct{ db, name string }

// HandleEvent processes one binlog event; the reader calls it for every
// event, in order.
func (t *Task) HandleEvent(e *replication.BinlogEvent) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for t.emitting && !t.closed {
		t.room.Wait() // a snapshot chunk is being emitted at this boundary
	}
	if t.closed {
		return errors.New("task stopped")
	}
	if err := t.handle(e); err != nil {
		if t.streamErr == nil {
			t.streamErr = err
		}
		t.wake()
		return err
	}
	return nil
}

func (t *Task) handle(e *replication.BinlogEvent) error {
	h := e.Header
	if t.streamOff {
		return nil
	}
	switch ev := e.Event.(type) {
	case *replication.RotateEvent:
		np := binlogPos{File: string(ev.NextLogName), Pos: uint32(ev.Position)}
		if np.File != t.st.pos.File || t.st.pos.less(np) {
			t.st.pos = np
		}
		if !t.st.inTx {
			t.st.bound = t.st.pos
		}
		return nil
	case *replication.HeartbeatEvent:
		if !t.st.inTx && ev.Filename != "" {
			off := uint32(ev.Offset)
			if off == 0 {
				off = h.LogPos
			}
			p := binlogPos{File: ev.Filename, Pos: off}
			if t.st.pos.less(p) {
				t.st.pos = p
			}
		}
		t.emitReadyChunks()
		return nil
	case *replication.TransactionPayloadEvent:
		for _, inner := range ev.Events {
			if err := t.handle(inner); err != nil {
				return err
			}
		}
		if h.LogPos > 0 {
			t.st.pos.Pos = h.LogPos
		}
		return nil
	}
	if h.LogPos > 0 && h.Flags&replication.LOG_EVENT_ARTIFICIAL_F == 0 {
		t.st.pos.Pos = h.LogPos
	}
	switch ev := e.Event.(type) {
	case *replication.GTIDEvent:
		u, err := uuid.FromBytes(ev.SID)
		if err != nil {
			return fmt.Errorf("decoding GTID event: %w", err)
		}
		t.st.gtid = u.String() + ":" + strconv.FormatInt(ev.GNO, 10)
		t.st.commitMs = int64(ev.OriginalCommitTimestamp / 1000)
		t.beginTx(h)
	case *replication.GtidTaggedLogEvent:
		u, err := uuid.FromBytes(ev.SID)
		if err != nil {
			return fmt.Errorf("decoding GTID event: %w", err)
		}
		t.st.gtid = u.String() + ":" + ev.Tag.String() + ":" + strconv.FormatInt(ev.GNO, 10)
		t.st.commitMs = int64(ev.OriginalCommitTimestamp / 1000)
		t.beginTx(h)
	case *replication.MariadbGTIDEvent:
		t.st.gtid = ev.GTID.String()
		t.st.commitMs = 0
		t.beginTx(h)
	case *replication.QueryEvent:
		q := strings.TrimSpace(string(ev.Query))
		switch {
		case strings.EqualFold(q, "BEGIN"):
			if !t.st.inTx && t.st.gtid == "" {
				t.beginTx(h)
			}
			t.st.inTx = true
		case strings.EqualFold(q, "COMMIT"):
			t.commit(h, ev.GSet)
		default:
			if err := t.ddl(h, string(ev.Schema), q); err != nil {
				return err
			}
			t.commit(h, ev.GSet)
		}
	case *replication.XIDEvent:
		t.commit(h, ev.GSet)
	case *replication.RowsEvent:
		return t.rows(h, ev)
	case *replication.TableMapEvent:
		// go-mysql keeps the table map for the rows events that follow.
	}
	return nil
}

func (t *Task) beginTx(h *replication.EventHeader) {
	t.st.inTx = true
	t.st.totalOrder = 0
	clear(t.st.tableOrder)
	if t.st.gtid != "" {
		t.st.txID = t.st.gtid
	} else {
		t.st.txID = t.st.pos.File + ":" + strconv.FormatUint(uint64(h.LogPos-h.EventSize), 10)
	}
	if t.st.commitMs == 0 {
		t.st.commitMs = int64(h.Timestamp) * 1000
	}
}

// commit ends a transaction: the position after it is a boundary.
func (t *Task) commit(h *replication.EventHeader, gset gomysql.GTIDSet) {
	t.st.inTx = false
	t.st.gtid = ""
	t.st.commitMs = 0
	t.st.bound = t.st.pos
	if gset != nil {
		t.st.boundGSet = gset
	}
	if h.Timestamp > 0 {
		t.lag.Set(time.Since(time.Unix(int64(h.Timestamp), 0)).Seconds())
	}
	t.addMark()
	t.emitReadyChunks()
}

// addMark records a checkpoint candidate for the current boundary.
func (t *Task) addMark() {
	cp := Checkpoint{
		Format:    checkpointFormat,
		Flavor:    t.info.flavor,
		File:      t.st.bound.File,
		Pos:       t.st.bound.Pos,
		Sequence:  t.st.seq,
		Snapshot:  t.snap.progress(),
		Schemas:   t.schemaJSON,
		StreamOff: t.streamOff,
	}
	m := mark{seq: t.st.seq, cp: cp}
	if t.st.boundGSet != nil {
		m.gset = t.st.boundGSet // go-mysql hands out a fresh clone per commit
	} else {
		cp.GTIDSet = t.startGSet
	}
	m.cp = cp
	t.acks.addMark(m)
}

func rowsOp(et replication.EventType) (connect.Op, bool) {
	switch et {
	case replication.WRITE_ROWS_EVENTv0, replication.WRITE_ROWS_EVENTv1, replication.WRITE_ROWS_EVENTv2,
		replication.MARIADB_WRITE_ROWS_COMPRESSED_EVENT_V1:
		return connect.OpCreate, true
	case replication.UPDATE_ROWS_EVENTv0, replication.UPDATE_ROWS_EVENTv1, replication.UPDATE_ROWS_EVENTv2,
		replication.MARIADB_UPDATE_ROWS_COMPRESSED_EVENT_V1:
		return connect.OpUpdate, true
	case replication.DELETE_ROWS_EVENTv0, replication.DELETE_ROWS_EVENTv1, replication.DELETE_ROWS_EVENTv2,
		replication.MARIADB_DELETE_ROWS_COMPRESSED_EVENT_V1:
		return connect.OpDelete, true
	}
	return 0, false
}

func (t *Task) rows(h *replication.EventHeader, ev *replication.RowsEvent) error {
	tm := ev.Table
	if tm == nil {
		return nil
	}
	db, name := string(tm.Schema), string(tm.Table)
	if !t.captured(db, name) {
		return nil
	}
	op, ok := rowsOp(h.EventType)
	if !ok {
		return connect.Terminal(fmt.Errorf("unsupported rows event %s for %s.%s", h.EventType, db, name),
			"set binlog_row_value_options='' (partial JSON updates are not supported)")
	}
	tbl := t.tracker.Get(db, name)
	if tbl == nil {
		return connect.Terminal(fmt.Errorf("rows event for %s.%s, which has no tracked schema", db, name),
			"the table was created while its DDL was not read; reset the connector's offsets and snapshot again")
	}
	for _, sk := range ev.SkippedColumns {
		if len(sk) > 0 {
			return connect.Terminal(fmt.Errorf("rows event for %s.%s lacks columns (binlog_row_image is not FULL)", db, name),
				"set binlog_row_image=FULL")
		}
	}
	p, err := t.planFor(tm, tbl)
	if err != nil {
		return err
	}
	if !t.st.inTx {
		t.beginTx(h)
	}
	q := tbl.QualifiedName()
	start := uint64(h.LogPos - h.EventSize)
	step := 1
	if op == connect.OpUpdate {
		step = 2
	}
	n := len(ev.Rows) / step
	// One allocation each for the events, transaction infos and values of
	// the whole rows event.
	evs := make([]connect.ChangeEvent, n)
	txs := make([]connect.TxInfo, n)
	width := len(p.keep)
	vals := make([]any, n*step*width)
	now := time.Now().UnixMilli()
	counter := p.counter[0]
	switch op {
	case connect.OpUpdate:
		counter = p.counter[1]
	case connect.OpDelete:
		counter = p.counter[2]
	}
	tableOrder := t.st.tableOrder[q]
	for k := 0; k < n; k++ {
		i := k * step
		img := vals[i*width : (i+1)*width : (i+1)*width]
		decoded, err := p.rowInto(ev.Rows[i], img)
		if err != nil {
			return err
		}
		var before, after []any
		switch op {
		case connect.OpCreate:
			after = decoded
		case connect.OpDelete:
			before = decoded
		case connect.OpUpdate:
			before = decoded
			img2 := vals[(i+1)*width : (i+2)*width : (i+2)*width]
			if after, err = p.rowInto(ev.Rows[i+1], img2); err != nil {
				return err
			}
		}
		t.touch(tbl, p.out, before, after)
		kind := op
		if op == connect.OpUpdate && p.out.HasPrimaryKey() && connect.MessageKey(p.out, before) != connect.MessageKey(p.out, after) {
			// A primary-key change is emitted as a delete of the old key and a create of the new one (as Debezium
			// does): each is routed by its own key, so per-key order holds in both keys' queues. Without the split the
			// old key's removal would travel in the new key's queue and could overtake earlier changes of the old key.
			t.st.totalOrder++
			tableOrder++
			if t.nextSeq() > t.st.suppress {
				t.push(&connect.ChangeEvent{
					Op: connect.OpDelete, Before: before, Schema: p.out,
					Source: connect.SourceInfo{
						Connector: t.tc.Connector, ServerID: h.ServerID, GTID: t.st.gtid,
						File: t.st.pos.File, Pos: start, Row: k, Database: db, Table: name,
						CommitTimeMs: t.st.commitMs, Sequence: t.st.seq,
					},
					Tx:   &connect.TxInfo{ID: t.st.txID, TotalOrder: t.st.totalOrder, TableOrder: tableOrder},
					TsMs: now,
				})
			}
			kind, before = connect.OpCreate, nil
		}
		t.st.totalOrder++
		tableOrder++
		if t.nextSeq() <= t.st.suppress {
			continue
		}
		ce := &evs[k]
		*ce = connect.ChangeEvent{
			Op: kind, Before: before, After: after, Schema: p.out,
			Source: connect.SourceInfo{
				Connector: t.tc.Connector, ServerID: h.ServerID, GTID: t.st.gtid,
				File: t.st.pos.File, Pos: start, Row: k, Database: db, Table: name,
				CommitTimeMs: t.st.commitMs, Sequence: t.st.seq,
			},
			TsMs: now,
		}
		txs[k] = connect.TxInfo{ID: t.st.txID, TotalOrder: t.st.totalOrder, TableOrder: tableOrder}
		ce.Tx = &txs[k]
		t.push(ce)
	}
	t.st.tableOrder[q] = tableOrder
	counter.Add(float64(n))
	return nil
}

// ddl applies a DDL statement to the schema history.
func (t *Task) ddl(h *replication.EventHeader, defaultDB, q string) error {
	ch, err := t.ddlp.Apply(t.tracker, defaultDB, q, t.cfg.filter.Table)
	var ue *tables.UnparsedError
	if errors.As(err, &ue) {
		ch = tables.Change{Reread: ue.Tables}
		err = nil
	}
	if ch.Ignored != "" {
		t.log.Info("DDL not parsed; it defines a "+ch.Ignored+", which changes no table's columns", "database", defaultDB,
			"statement", shorten(q, 200), "file", t.st.pos.File, "pos", h.LogPos)
	}
	if err != nil {
		return connect.Terminal(fmt.Errorf("applying DDL at %s:%d: %w", t.st.pos.File, h.LogPos, err),
			"binlake cannot follow this schema change; reset the connector's offsets and snapshot again")
	}
	if len(ch.Reread) > 0 {
		if err := t.reread(ch.Reread, q); err != nil {
			return err
		}
	}
	changed := len(ch.Changed) > 0 || len(ch.Dropped) > 0 || len(ch.Reread) > 0
	for _, r := range ch.Truncated {
		tbl := t.tracker.Get(r.DB, r.Name)
		if tbl == nil {
			continue
		}
		if t.nextSeq() <= t.st.suppress {
			continue
		}
		t.push(&connect.ChangeEvent{
			Op: connect.OpTruncate, Schema: t.emitted(tbl),
			Source: connect.SourceInfo{
				Connector: t.tc.Connector, ServerID: h.ServerID, GTID: t.st.gtid, File: t.st.pos.File,
				Pos: uint64(h.LogPos - h.EventSize), Database: r.DB, Table: r.Name, CommitTimeMs: int64(h.Timestamp) * 1000,
				Sequence: t.st.seq,
			},
			TsMs: time.Now().UnixMilli(),
		})
	}
	if changed {
		for _, tb := range ch.Changed {
			t.snap.invalidate(tb.Database, tb.Name)
			t.log.Info("schema changed", "table", tb.QualifiedName(), "version", tb.Version, "ddl", q)
		}
		for _, r := range ch.Dropped {
			t.snap.invalidate(r.DB, r.Name)
		}
		for _, r := range ch.Reread {
			t.snap.invalidate(r.DB, r.Name)
		}
		b, err := json.Marshal(t.tracker)
		if err != nil {
			return fmt.Errorf("encoding schema history: %w", err)
		}
		t.schemaJSON = b
	}
	return nil
}

// reread replaces tables the DDL parser could not follow with their
// definition from information_schema, but only when that is provably the
// state right after this statement: between this statement and the end of
// the binlog after the read there are only row events and transaction
// boundaries (schemaStable), so no later change is in what was read.
func (t *Task) reread(refs []tables.Ref, q string) error {
	fail := func(why string) error {
		return connect.Terminal(fmt.Errorf("cannot follow DDL %q on %v: %s", q, refs, why),
			"binlake could not parse this statement and the server has moved on since; reset the connector's offsets and snapshot again")
	}
	ctx, cancel := t.queryCtx()
	defer cancel()
	var next []*schema.Table
	for _, r := range refs {
		_, specs, pk, err := readTable(ctx, t.db, t.info.flavor == gomysql.MariaDBFlavor, r)
		if err != nil {
			return fail(err.Error())
		}
		if specs == nil {
			t.tracker.Drop(r.DB, r.Name)
			continue
		}
		tb, err := tables.NewTable(r.DB, r.Name, 0, specs, pk)
		if err != nil {
			return connect.Terminal(err, "the table uses a column type binlake does not support; exclude it with table.exclude.list")
		}
		next = append(next, tb)
	}
	after, err := binlogStatus(ctx, t.db)
	if err != nil {
		return fail(err.Error())
	}
	stable, err := schemaStable(ctx, t.db, t.st.pos, after)
	if err != nil {
		return fail(err.Error())
	}
	if !stable {
		return fail(fmt.Sprintf("the binlog after this statement (%s:%d to %s:%d) holds another statement that may change tables, or more than %d events",
			t.st.pos.File, t.st.pos.Pos, after.File, after.Pos, maxStableScan))
	}
	for _, tb := range next {
		if cur := t.tracker.Get(tb.Database, tb.Name); cur != nil {
			for i := range tb.Columns {
				if j := cur.ColumnIndex(tb.Columns[i].Name); j >= 0 {
					tb.Columns[i].Aliases = cur.Columns[j].Aliases
				}
			}
		}
		got := t.tracker.Put(tb)
		t.log.Info("schema re-read after DDL", "table", got.QualifiedName(), "version", got.Version, "ddl", q)
	}
	return nil
}

// nextSeq assigns the next sequence. When the replay after a restart
// reaches the place where the previous run emitted snapshot chunks, their
// reserved ranges are skipped first (or, for unchanged keyless chunks, the
// chunks are emitted again identically), so every binlog event gets the
// sequence it had in the previous run. Task.mu must be held.
func (t *Task) nextSeq() uint64 {
	if len(t.replay) > 0 {
		t.skipReplayed()
	}
	t.st.seq++
	return t.st.seq
}

// skipReplayed applies the previous run's reservations due at the current
// sequence. Task.mu must be held.
func (t *Task) skipReplayed() {
	j := skipReserved(t.st.seq, t.replay)
	if j.diverged {
		t.log.Error("the replay after a restart numbered events differently from the previous run; continuing above every reserved sequence",
			"sequence", t.st.seq, "continuing_after", j.seq)
	}
	t.replay = j.rest
	for _, r := range j.skipped {
		if c := t.keyless[r.Base]; c != nil {
			delete(t.keyless, r.Base)
			if !j.diverged && t.emitReplayedChunk(r, c) {
				continue
			}
		}
		if r.keyless() {
			t.log.Warn("a keyless snapshot chunk of the previous run cannot be replayed (the table changed); it is read again",
				"table", r.Table, "rows", r.Rows)
		}
		t.st.seq = max(t.st.seq, r.end())
		t.acks.skip(r.Base+1, r.end())
	}
	t.st.seq = max(t.st.seq, j.seq)
}

// push appends an event to the bounded buffer, waiting for room.
func (t *Task) push(ev *connect.ChangeEvent) {
	// Poll emits ready chunks itself when idle; it is the consumer, so it
	// must not wait (the buffer then overshoots by at most one chunk).
	for len(t.buf) >= t.bufMax && !t.closed && !t.inPoll {
		t.room.Wait()
	}
	t.buf = append(t.buf, ev)
	if len(t.buf) == 1 || len(t.buf) >= t.cfg.maxBatch {
		t.wake()
	}
}

func (t *Task) wake() {
	select {
	case t.notify <- struct{}{}:
	default:
	}
}

// shorten returns s cut to at most n bytes (on a rune boundary), marked with
// an ellipsis when cut.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
