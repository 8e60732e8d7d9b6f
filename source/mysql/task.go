package mysql

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/internal/metrics"
	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/source/mysql/tables"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/prometheus/client_golang/prometheus"
)

// Task is the mysql-source task: it streams the binlog from its checkpoint,
// runs lock-free snapshots merged into the stream, and checkpoints the
// acknowledged prefix at transaction boundaries.
type Task struct {
	tc   *connect.TaskContext
	cfg  *settings
	log  *slog.Logger
	db   *sql.DB
	info *serverInfo
	key  string // checkpoint key
	lag  prometheus.Gauge

	acks      *acker
	startGSet string // GTID set the stream started from (until the first commit)

	// mu guards the reader state, the buffer and the snapshot.
	mu         sync.Mutex
	room       *sync.Cond
	buf        []*connect.ChangeEvent
	bufMax     int
	notify     chan struct{}
	closed     bool
	streamErr  error
	st         streamState
	tracker    *tables.Tracker
	ddlp       *tables.DDL
	plans      map[uint64]*plan
	outTables  map[*schema.Table]*schema.Table
	capCache   map[tableKey]bool
	schemaJSON json.RawMessage
	snap       *snapshotRun
	snapDone   bool
	emitting   bool // a snapshot chunk is being emitted; the reader waits
	statusText string
	inPoll     bool // Poll is emitting ready chunks
	// streamOff: snapshot.mode=initial_only finished; binlog events are
	// no longer emitted.
	streamOff bool
	// replay: sequence ranges the previous run reserved for snapshot chunks
	// after the checkpoint, in order; skipped when the replay reaches them.
	replay []Reservation
	// keyless: chunks of tables without a primary key that the previous
	// run emitted after the checkpoint and that are unchanged since, by
	// reservation base; emitted again identically when the replay reaches
	// them.
	keyless map[uint64]*replayChunk

	// flushMu serialises checkpoint writes and guards lastCP and reserved.
	flushMu sync.Mutex
	// lastCP is the checkpoint last written to the store.
	lastCP *Checkpoint
	// reserved: the reservations not covered by lastCP's sequence.
	reserved []Reservation

	syncer   *replication.BinlogSyncer
	streamer *replication.BinlogStreamer
	stopping chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

var (
	_ connect.SourceTask       = (*Task)(nil)
	_ connect.Snapshotter      = (*Task)(nil)
	_ connect.OffsetReporter   = (*Task)(nil)
	_ replication.EventHandler = (*Task)(nil)
)

// NewTask returns an unstarted task.
func NewTask() *Task { return &Task{} }

// queryCtx bounds one startup or DDL-time query.
func (t *Task) queryCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), t.cfg.connectTimeout)
}

// lifetimeCtx returns a context cancelled when the task stops.
func (t *Task) lifetimeCtx() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-t.stopping:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// Start checks the server, loads the checkpoint (or takes the current
// position and schemas), and starts streaming and, when due, a snapshot.
func (t *Task) Start(ctx context.Context, tc *connect.TaskContext) error {
	t.tc = tc
	t.log = tc.Logger
	if t.log == nil {
		t.log = slog.Default()
	}
	cfg, err := parseSettings(tc.Connector, tc.Config)
	if err != nil {
		return err
	}
	t.cfg = cfg
	t.key = tc.Connector + "/" + strconv.Itoa(tc.TaskID)
	t.lag = metrics.SourceLag.WithLabelValues(tc.Connector, strconv.Itoa(tc.TaskID))
	t.stopping = make(chan struct{})
	t.notify = make(chan struct{}, 1)
	t.room = sync.NewCond(&t.mu)
	t.bufMax = 4 * cfg.maxBatch
	t.plans = map[uint64]*plan{}
	t.outTables = map[*schema.Table]*schema.Table{}
	t.capCache = map[tableKey]bool{}
	t.ddlp = tables.NewDDL()
	t.st.tableOrder = map[string]uint64{}

	if t.db, err = openDB(cfg); err != nil {
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, cfg.connectTimeout)
	defer cancel()
	if t.info, err = checkServer(sctx, t.db, cfg); err != nil {
		_ = t.db.Close()
		return err
	}

	var cp *Checkpoint
	if tc.Checkpoints != nil {
		b, found, err := tc.Checkpoints.Get(sctx, t.key)
		if err != nil {
			_ = t.db.Close()
			return fmt.Errorf("reading the source checkpoint %s: %w", t.key, err)
		}
		if found {
			if cp, err = decodeCheckpoint(b); err != nil {
				_ = t.db.Close()
				return connect.Terminal(err, "delete the connector's offsets to start over")
			}
		}
	}
	if cp != nil && cp.StreamOff && cfg.snapshotMode == SnapshotInitialOnly {
		// The initial_only snapshot finished before: nothing left to do.
		_ = t.db.Close()
		t.db = nil
		t.streamOff = true
		t.lastCP = cp
		t.st.seq = cp.Sequence
		t.acks = newAcker(t.st.seq)
		t.statusText = "snapshot done (snapshot.mode=initial_only); not streaming"
		if tc.SetStatus != nil {
			tc.SetStatus(t.statusText)
		}
		t.log.Info("mysql source idle: the initial_only snapshot finished before", "sequence", cp.Sequence)
		return nil
	}
	var snapshotTables []string
	stored := false // a checkpoint this run continues from is in the store
	if cp != nil {
		purged, err := t.purged(sctx, cp)
		if err != nil {
			_ = t.db.Close()
			return err
		}
		if purged != "" {
			if cfg.snapshotMode != SnapshotWhenNeeded {
				_ = t.db.Close()
				return connect.Terminal(fmt.Errorf("the binlog at the checkpoint (%s) was purged on the server", purged),
					"set snapshot.mode=when_needed to snapshot again, or restore the binlog")
			}
			t.log.Warn("binlog at the checkpoint was purged; snapshotting again", "checkpoint", purged)
			// Continue above every sequence the previous run reserved.
			seq := reservedCeiling(cp.Sequence, cp.Reserved)
			if snapshotTables, err = t.fresh(sctx); err != nil {
				_ = t.db.Close()
				return err
			}
			t.st.seq = seq
		} else if err := t.restore(cp); err != nil {
			_ = t.db.Close()
			return err
		} else {
			stored = true
		}
	} else {
		if snapshotTables, err = t.fresh(sctx); err != nil {
			_ = t.db.Close()
			return err
		}
		if cfg.snapshotMode == SnapshotNever {
			snapshotTables = nil
		}
		t.st.seq = InitialSequence(time.Now())
	}
	t.acks = newAcker(t.st.seq)
	b, err := json.Marshal(t.tracker)
	if err != nil {
		_ = t.db.Close()
		return fmt.Errorf("encoding schema history: %w", err)
	}
	t.schemaJSON = b
	if t.st.suppress < t.st.seq {
		t.st.suppress = t.st.seq
	}

	var prog *SnapshotProgress
	switch {
	case cp != nil && cp.Snapshot != nil && snapshotTables == nil:
		prog = cp.Snapshot.clone()
	case len(snapshotTables) > 0:
		prog = &SnapshotProgress{Tables: snapshotTables, Total: t.estimateRows(sctx, snapshotTables)}
	}
	if tc.Checkpoints != nil {
		if stored {
			t.lastCP = cp
			t.reserved = pendingReservations(cp.Reserved, cp.Sequence)
			t.replay = append([]Reservation(nil), t.reserved...)
		} else {
			// Before anything is emitted, the store must hold a checkpoint
			// for this run: reservations are written into it, and a
			// restart must not start afresh at another position after
			// events were handed out.
			first := Checkpoint{
				Format: checkpointFormat, Flavor: t.info.flavor, File: t.st.bound.File, Pos: t.st.bound.Pos,
				GTIDSet: t.startGSet, Sequence: t.st.seq, Snapshot: prog.clone(), Schemas: t.schemaJSON,
			}
			if err := t.store(sctx, &first); err != nil {
				_ = t.db.Close()
				return err
			}
			t.lastCP = &first
		}
	}
	if len(t.replay) > 0 {
		t.prepareKeyless(prog)
		t.log.Info("replaying past snapshot chunks of the previous run", "reservations", len(t.replay),
			"from_sequence", t.replay[0].Base, "up_to_sequence", reservedCeiling(0, t.replay), "keyless_replays", len(t.keyless))
	}

	// The snapshot exists before the stream starts: the replay may reach
	// a chunk of the previous run at once.
	if prog != nil {
		t.startSnapshot(prog)
	}
	if err := t.startStream(); err != nil {
		t.mu.Lock()
		snap := t.snap
		t.mu.Unlock()
		if snap != nil {
			snap.cancel()
		}
		t.stopOnce.Do(func() { close(t.stopping) })
		t.wg.Wait()
		_ = t.db.Close()
		return err
	}

	t.wg.Add(2)
	go t.watch()
	go t.flusher()
	t.mu.Lock()
	if !t.st.inTx {
		t.addMark() // the start position is a boundary: checkpointable at once
	}
	bound, seq := t.st.bound, t.st.seq
	t.mu.Unlock()
	t.log.Info("mysql source started", "server", t.info.version, "flavor", t.info.flavor, "server_id", cfg.serverID,
		"file", bound.File, "pos", bound.Pos, "gtid", t.startGSet, "sequence", seq, "snapshot_tables", len(snapshotTables))
	return nil
}

// fresh takes the server's current position and the captured tables'
// schemas (re-reading until the position is the same before and after, so
// the schemas belong to it) and returns the tables to snapshot.
func (t *Task) fresh(ctx context.Context) ([]string, error) {
	mariadb := t.info.flavor == gomysql.MariaDBFlavor
	for attempt := 0; ; attempt++ {
		p1, err := binlogStatus(ctx, t.db)
		if err != nil {
			return nil, err
		}
		gs, err := gtidExecuted(ctx, t.db, t.info)
		if err != nil {
			return nil, err
		}
		refs, err := listTables(ctx, t.db, t.cfg.filter)
		if err != nil {
			return nil, err
		}
		tr := tables.NewTracker()
		var names []string
		for _, r := range refs {
			if err := checkSelect(ctx, t.db, r); err != nil {
				return nil, err
			}
			_, specs, pk, err := readTable(ctx, t.db, mariadb, r)
			if err != nil {
				return nil, err
			}
			if specs == nil {
				continue
			}
			tb, err := tables.NewTable(r.DB, r.Name, 0, specs, pk)
			if err != nil {
				return nil, connect.Terminal(err, "exclude the table with table.exclude.list or change the column type")
			}
			tr.Put(tb)
			names = append(names, r.String())
		}
		p2, err := binlogStatus(ctx, t.db)
		if err != nil {
			return nil, err
		}
		if p1 != p2 {
			// The definitions read are those at p1 if only DML ran meanwhile.
			stable, err := schemaStable(ctx, t.db, p1, p2)
			if err != nil {
				// Without SHOW BINLOG EVENTS, fall back to reading until the
				// binlog stands still, and after that to p1 as it is.
				t.log.Warn("cannot check the binlog between two reads of the table definitions; retrying the read", "error", err)
				if attempt < 10 {
					continue
				}
				stable = true
			}
			if !stable {
				if attempt < 10 {
					continue
				}
				return nil, fmt.Errorf("reading the table definitions: the binlog held statements that may change tables each of %d times they were read; retrying later", attempt+1)
			}
		}
		t.tracker = tr
		t.st.pos, t.st.bound = p1, p1
		t.startGSet = gs
		return names, nil
	}
}

func checkSelect(ctx context.Context, db *sql.DB, r tables.Ref) error {
	rows, err := db.QueryContext(ctx, "SELECT 1 FROM "+quoteIdent(r.DB)+"."+quoteIdent(r.Name)+" LIMIT 0")
	if err != nil {
		return classify(err, "checking SELECT on "+r.String())
	}
	return rows.Close()
}

// restore loads the reader state from a checkpoint.
func (t *Task) restore(cp *Checkpoint) error {
	if cp.Flavor != "" && cp.Flavor != t.info.flavor {
		return connect.Terminal(fmt.Errorf("the checkpoint was written for a %s server, this one is %s", cp.Flavor, t.info.flavor),
			"delete the connector's offsets to start over")
	}
	tr := tables.NewTracker()
	if len(cp.Schemas) > 0 {
		if err := json.Unmarshal(cp.Schemas, tr); err != nil {
			return connect.Terminal(err, "delete the connector's offsets to start over")
		}
	}
	t.tracker = tr
	t.st.pos = binlogPos{File: cp.File, Pos: cp.Pos}
	t.st.bound = t.st.pos
	t.st.seq = cp.Sequence
	t.startGSet = cp.GTIDSet
	return nil
}

// purged returns a description of the checkpoint position when the server
// no longer has the binlog for it, or "".
func (t *Task) purged(ctx context.Context, cp *Checkpoint) (string, error) {
	if t.info.flavor == gomysql.MySQLFlavor && t.info.gtidMode && cp.GTIDSet != "" {
		var p sql.NullString
		if err := t.db.QueryRowContext(ctx, "SELECT @@GLOBAL.gtid_purged").Scan(&p); err != nil {
			return "", classify(err, "reading gtid_purged")
		}
		purged, err := gomysql.ParseMysqlGTIDSet(strings.ReplaceAll(p.String, "\n", ""))
		if err != nil {
			return "", fmt.Errorf("parsing gtid_purged: %w", err)
		}
		have, err := gomysql.ParseMysqlGTIDSet(cp.GTIDSet)
		if err != nil {
			return "", connect.Terminal(fmt.Errorf("parsing the checkpoint's GTID set: %w", err), "delete the connector's offsets to start over")
		}
		if !have.Contain(purged) {
			return "GTID set " + cp.GTIDSet, nil
		}
		return "", nil
	}
	files, err := binlogFiles(ctx, t.db)
	if err != nil {
		return "", err
	}
	for _, f := range files {
		if f == cp.File {
			return "", nil
		}
	}
	return fmt.Sprintf("%s:%d", cp.File, cp.Pos), nil
}

func (t *Task) estimateRows(ctx context.Context, names []string) int64 {
	var total int64
	for _, n := range names {
		db, name, _ := strings.Cut(n, ".")
		var rows sql.NullInt64
		if err := t.db.QueryRowContext(ctx, "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA=? AND TABLE_NAME=?", db, name).Scan(&rows); err == nil {
			total += rows.Int64
		}
	}
	return total
}

// startStream opens the binlog stream at the reader's boundary.
func (t *Task) startStream() error {
	hb := min(t.cfg.heartbeat, 200*time.Millisecond)
	sc := replication.BinlogSyncerConfig{
		ServerID:                t.cfg.serverID,
		Flavor:                  t.info.flavor,
		Host:                    t.cfg.host,
		Port:                    uint16(t.cfg.port),
		User:                    t.cfg.user,
		Password:                t.cfg.password,
		UseDecimal:              true,
		ParseTime:               true,
		TimestampStringLocation: time.UTC,
		RenderJSONAsMySQLText:   true,
		HeartbeatPeriod:         hb,
		ReadTimeout:             max(30*time.Second, 10*hb),
		DisableRetrySync:        true,
		Logger:                  slog.New(slog.DiscardHandler),
		EventCacheCount:         4096,
		DumpCommandFlag:         0,
	}
	if t.info.flavor == gomysql.MySQLFlavor {
		sc.DumpCommandFlag = 0
	}
	syncer := replication.NewBinlogSyncer(sc)
	var streamer *replication.BinlogStreamer
	var err error
	gs := t.startGSet
	t.mu.Lock()
	if t.st.boundGSet != nil {
		gs = t.st.boundGSet.String()
	}
	bound := t.st.bound
	t.mu.Unlock()
	useGTID := gs != "" && (t.info.flavor == gomysql.MariaDBFlavor || t.info.gtidMode)
	if useGTID {
		set, perr := gomysql.ParseGTIDSet(t.info.flavor, gs)
		if perr != nil {
			return connect.Terminal(fmt.Errorf("parsing GTID set %q: %w", gs, perr), "delete the connector's offsets to start over")
		}
		streamer, err = syncer.StartSyncGTID(set)
	} else {
		streamer, err = syncer.StartSync(gomysql.Position{Name: bound.File, Pos: bound.Pos})
	}
	if err != nil {
		syncer.Close()
		return classify(err, "starting the binlog stream")
	}
	t.mu.Lock()
	t.syncer, t.streamer = syncer, streamer
	t.mu.Unlock()
	return nil
}

// watch reads the binlog stream (go-mysql reads and parses on its own
// goroutine, bounded by EventCacheCount) and hands every event to
// HandleEvent. When the stream breaks it reconnects with backoff from the
// last transaction boundary; events already handed out are re-read but not
// emitted again.
func (t *Task) watch() {
	defer t.wg.Done()
	ctx, cancel := t.lifetimeCtx()
	defer cancel()
	backoff := 500 * time.Millisecond
	for {
		t.mu.Lock()
		streamer, syncer := t.streamer, t.syncer
		t.mu.Unlock()
		ev, err := streamer.GetEvent(ctx)
		select {
		case <-t.stopping:
			return
		default:
		}
		if err == nil {
			if t.HandleEvent(ev) != nil {
				syncer.Close()
				return // Poll reports the error
			}
			continue
		}
		syncer.Close()
		t.mu.Lock()
		serr := t.streamErr
		t.mu.Unlock()
		if serr != nil {
			return // the handler failed: Poll reports it
		}
		cerr := classify(err, "reading the binlog")
		if connect.IsTerminal(cerr) {
			t.fail(cerr)
			return
		}
		msg, _, _ := strings.Cut(err.Error(), "\n") // go-mysql's traced errors carry stacks
		t.log.Warn("binlog stream broke; reconnecting", "error", msg, "backoff", backoff)
		for {
			jitter := time.Duration(rand.Int64N(int64(backoff) / 2))
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff + jitter):
			}
			backoff = min(2*backoff, 30*time.Second)
			t.mu.Lock()
			if t.st.seq > t.st.suppress {
				t.st.suppress = t.st.seq
			}
			t.rewindToBoundary()
			t.mu.Unlock()
			err := t.startStream()
			if err == nil {
				backoff = 500 * time.Millisecond
				break
			}
			if connect.IsTerminal(err) {
				t.fail(err)
				return
			}
			t.log.Warn("reconnecting the binlog stream", "error", err)
		}
	}
}

// rewindToBoundary drops the state of a partly read transaction so the
// stream can restart at the last boundary. Task.mu must be held.
func (t *Task) rewindToBoundary() {
	// Sequences of the partial transaction are re-assigned identically on
	// re-read: count back by the events it assigned.
	if t.st.inTx {
		t.st.seq -= t.st.totalOrder
	}
	t.st.inTx = false
	t.st.gtid = ""
	t.st.totalOrder = 0
	clear(t.st.tableOrder)
	t.st.pos = t.st.bound
	t.plans = map[uint64]*plan{}
}

func (t *Task) fail(err error) {
	t.mu.Lock()
	if t.streamErr == nil {
		t.streamErr = err
	}
	t.wake()
	t.mu.Unlock()
}

// flusher writes the newest fully acknowledged boundary to the checkpoint
// store, at most once per interval.
func (t *Task) flusher() {
	defer t.wg.Done()
	interval := min(t.cfg.heartbeat, time.Second)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	published := ""
	for {
		select {
		case <-t.stopping:
			return
		case <-tick.C:
		}
		if err := t.flush(); err != nil {
			t.log.Warn("writing the source checkpoint", "error", err)
		}
		t.mu.Lock()
		st := t.statusText
		t.mu.Unlock()
		if st != published && t.tc.SetStatus != nil {
			t.tc.SetStatus(st)
			published = st
		}
	}
}

// flush writes the newest acknowledged mark, if any.
func (t *Task) flush() error {
	t.flushMu.Lock()
	defer t.flushMu.Unlock()
	m, ok := t.acks.take()
	if !ok || t.tc.Checkpoints == nil {
		return nil
	}
	if m.gset != nil {
		m.cp.GTIDSet = m.gset.String()
	}
	cp := m.cp
	cp.Reserved = pendingReservations(t.reserved, cp.Sequence)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := t.store(ctx, &cp); err != nil {
		t.acks.mu.Lock()
		t.acks.marks = append([]mark{m}, t.acks.marks...)
		t.acks.mu.Unlock()
		return err
	}
	t.lastCP, t.reserved = &cp, cp.Reserved
	return nil
}

// store writes cp to the checkpoint store.
func (t *Task) store(ctx context.Context, cp *Checkpoint) error {
	cp.SavedAt = time.Now().UTC()
	b, err := json.Marshal(cp)
	if err != nil {
		return fmt.Errorf("encoding the source checkpoint: %w", err)
	}
	if err := t.tc.Checkpoints.Put(ctx, t.key, b); err != nil {
		return fmt.Errorf("storing the source checkpoint %s: %w", t.key, err)
	}
	return nil
}

// reserve durably records that a snapshot chunk is about to take the
// sequences r.Base+1..r.end(): the last written checkpoint is written again
// with the reservation added. Nothing of the chunk may be handed out before
// it returns nil. Task.mu is held by the caller.
func (t *Task) reserve(r Reservation) error {
	if t.tc.Checkpoints == nil {
		return nil
	}
	t.flushMu.Lock()
	defer t.flushMu.Unlock()
	if t.lastCP == nil {
		return errors.New("reserving snapshot sequences: no checkpoint was written yet")
	}
	cp := *t.lastCP
	cp.Reserved = appendReservation(append([]Reservation(nil), t.reserved...), r)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := t.store(ctx, &cp); err != nil {
		return fmt.Errorf("reserving snapshot sequences: %w", err)
	}
	t.lastCP, t.reserved = &cp, cp.Reserved
	return nil
}

// Poll returns the next batch of events in source order.
func (t *Task) Poll(ctx context.Context) ([]*connect.ChangeEvent, error) {
	idle := time.NewTimer(100 * time.Millisecond)
	defer idle.Stop()
	for {
		t.mu.Lock()
		if t.streamErr != nil && len(t.buf) == 0 {
			err := t.streamErr
			t.mu.Unlock()
			return nil, err
		}
		if len(t.buf) > 0 {
			n := min(len(t.buf), t.cfg.maxBatch)
			out := make([]*connect.ChangeEvent, n)
			copy(out, t.buf[:n])
			rest := copy(t.buf, t.buf[n:])
			clear(t.buf[rest:])
			t.buf = t.buf[:rest]
			t.room.Broadcast()
			t.mu.Unlock()
			return out, nil
		}
		t.inPoll = true
		t.emitReadyChunks()
		t.inPoll = false
		empty := len(t.buf) == 0
		t.mu.Unlock()
		if !empty {
			continue
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.notify:
		case <-idle.C:
			idle.Reset(100 * time.Millisecond)
		}
	}
}

// Ack records broker acknowledgements; the flusher checkpoints the
// contiguous prefix at the last boundary it covers.
func (t *Task) Ack(events []*connect.ChangeEvent) {
	if t.acks == nil {
		return
	}
	seqs := make([]uint64, 0, len(events))
	for _, e := range events {
		seqs = append(seqs, e.Source.Sequence)
	}
	t.acks.ack(seqs)
}

// Stop stops streaming and snapshots, writes the last acknowledged
// checkpoint and closes connections. It is idempotent.
func (t *Task) Stop(ctx context.Context) error {
	if t.stopping == nil {
		return nil
	}
	var err error
	t.stopOnce.Do(func() {
		close(t.stopping)
		t.mu.Lock()
		t.closed = true
		t.room.Broadcast()
		syncer, snap := t.syncer, t.snap
		t.mu.Unlock()
		if snap != nil {
			snap.cancel()
		}
		if syncer != nil {
			syncer.Close()
		}
		done := make(chan struct{})
		go func() { t.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
		}
		err = t.flush()
		if t.db != nil {
			_ = t.db.Close()
		}
	})
	return err
}

// Snapshot starts an ad-hoc, lock-free snapshot of the listed tables
// ("db.table") while streaming continues.
func (t *Task) Snapshot(ctx context.Context, names []string) error {
	if t.tc == nil {
		return errors.New("the task is not running")
	}
	if t.tracker == nil {
		return errors.New("the task does not stream (its snapshot.mode=initial_only snapshot finished)")
	}
	var list []string
	t.mu.Lock()
	for _, n := range names {
		db, name, ok := strings.Cut(n, ".")
		if !ok || t.tracker.Get(db, name) == nil {
			t.mu.Unlock()
			return fmt.Errorf("table %q is not captured by this connector", n)
		}
		list = append(list, n)
	}
	busy := t.snap != nil && !t.snap.done
	t.mu.Unlock()
	if busy {
		return errors.New("a snapshot is already running; try again when it has finished")
	}
	if len(list) == 0 {
		return errors.New("no tables given")
	}
	t.startSnapshot(&SnapshotProgress{Tables: list, Total: t.estimateRows(ctx, list)})
	return nil
}

// Offsets reports the last stored checkpoint and the live position.
func (t *Task) Offsets(ctx context.Context) (map[string]any, error) {
	out := map[string]any{}
	if t.tc != nil && t.tc.Checkpoints != nil {
		b, found, err := t.tc.Checkpoints.Get(ctx, t.key)
		if err != nil {
			return nil, fmt.Errorf("reading the source checkpoint: %w", err)
		}
		if found {
			var cp map[string]any
			if err := json.Unmarshal(b, &cp); err == nil {
				delete(cp, "schemas")
				out["checkpoint"] = cp
			}
		}
	}
	t.mu.Lock()
	out["file"], out["pos"], out["sequence"] = t.st.bound.File, t.st.bound.Pos, t.st.seq
	t.mu.Unlock()
	if t.acks != nil {
		out["acknowledged_sequence"] = t.acks.acked()
	}
	return out, nil
}
