package hudi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/google/uuid"

	"github.com/binlake/binlake/schema"
)

// testHookBeforeComplete lets tests simulate a crash after the data files
// of an instant are written and before it completes. Nil in production.
var testHookBeforeComplete func(instant string) error

// groupWrite is the plan for one file group in a commit.
type groupWrite struct {
	partition string
	fileID    string
	prev      *fileGroup      // nil for a new file group
	drop      map[string]bool // keys of prev's rows not to copy
	deletes   int64           // how many of drop are deletes (or moves away)
	updates   []newRow        // new images of rows in prev
	inserts   []newRow        // rows new to this file group
	index     int             // position in the commit: write token and seqno
	stat      WriteStat       // filled by the write
	fileName  string          // filled by the write
}

// Commit writes one Hudi commit: the changes (the last change of each record
// key wins) applied copy-on-write to the file groups they touch, new keys
// packed into small file groups, and extraMeta stored in the commit's
// extraMetadata together with the Avro schema. tbl is the schema of the
// rows; when it differs from the writer's schema the table evolves first
// (added columns, int->long, float->double). An empty change list still
// writes a commit (it records extraMeta, e.g. advanced offsets). Commit
// returns when the commit is complete; on error nothing of it is visible to
// readers and the next call (or Open) rolls it back.
func (w *Writer) Commit(ctx context.Context, tbl *schema.Table, changes []Change, extraMeta map[string]string) (CommitStats, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return CommitStats{}, errors.New("committing to hudi table: writer is closed")
	}
	if err := ctx.Err(); err != nil {
		return CommitStats{}, err
	}
	if w.needRecover {
		if err := w.recover(ctx); err != nil {
			return CommitStats{}, err
		}
	}
	if tbl != nil && tbl != w.tbl && !tbl.SameColumns(w.tbl) {
		switch evolveErr := checkEvolution(w.tbl, tbl); {
		case evolveErr == nil: // a newer schema: evolve the table
			if err := w.setSchema(tbl); err != nil {
				return CommitStats{}, err
			}
		case checkEvolution(tbl, w.tbl) == nil: // rows of an older version
			var err error
			if changes, err = adaptChanges(tbl, w.tbl, changes); err != nil {
				return CommitStats{}, err
			}
		default:
			return CommitStats{}, evolveErr
		}
	}
	if _, reserved := extraMeta[extraMetaSchemaKey]; reserved {
		return CommitStats{}, fmt.Errorf("committing to hudi table: extra metadata key %q is reserved for the Avro schema", extraMetaSchemaKey)
	}
	plan, stats, err := w.plan(changes)
	if err != nil {
		return CommitStats{}, err
	}
	instant := newInstantTime(w.opts.Now(), w.lastTime)
	stats.Instant = instant
	w.lastTime = instant
	w.needRecover = true // until the commit is complete and the view updated
	if err := w.writeCommit(ctx, instant, plan, extraMeta, &stats); err != nil {
		return CommitStats{}, fmt.Errorf("committing instant %s to hudi table %s: %w", instant, w.tbl.QualifiedName(), err)
	}
	w.apply(plan)
	w.commits = append(w.commits, Instant{Time: instant, Action: actionCommit, State: stateCompleted})
	meta := binlakeMeta(extraMeta)
	if _, ok := meta[MetaCommitID]; ok {
		w.last = &Committed{Instant: instant, Meta: meta}
	}
	w.needRecover = false
	// Cleaning is housekeeping after the commit: a failure leaves extra old
	// versions, which the next Open cleans; it does not fail the commit.
	touched := make([]*fileGroup, 0, len(plan))
	for _, gw := range plan {
		touched = append(touched, w.groups[groupKey(gw.partition, gw.fileID)])
	}
	stats.FilesCleaned, _ = w.cleanGroups(ctx, touched)
	_ = w.trimTimeline(ctx)
	return stats, nil
}

// adaptChanges converts rows of an older table version to the writer's
// newer one: columns matched by name, ints and floats widened, added
// columns null.
func adaptChanges(from, to *schema.Table, changes []Change) ([]Change, error) {
	src := make([]int, len(to.Columns))
	for j, c := range to.Columns {
		src[j] = from.ColumnIndex(c.Name)
	}
	out := make([]Change, len(changes))
	for i, ch := range changes {
		if len(ch.Row) != len(from.Columns) {
			return nil, fmt.Errorf("change %d has %d values, table %s version %d has %d columns", i, len(ch.Row), from.QualifiedName(), from.Version, len(from.Columns))
		}
		row := make([]any, len(to.Columns))
		for j, si := range src {
			if si < 0 {
				continue
			}
			v := ch.Row[si]
			switch x := v.(type) {
			case int32:
				if to.Columns[j].Kind == schema.KindInt64 {
					v = int64(x)
				}
			case float32:
				if to.Columns[j].Kind == schema.KindFloat64 {
					v = float64(x)
				}
			}
			row[j] = v
		}
		out[i] = Change{Delete: ch.Delete, Row: row}
	}
	return out, nil
}

// plan assigns every change to a file group.
func (w *Writer) plan(changes []Change) ([]*groupWrite, CommitStats, error) {
	var stats CommitStats
	type last struct {
		del  bool
		row  []any
		part string
	}
	latest := make(map[string]last, len(changes))
	order := make([]string, 0, len(changes))
	for i, ch := range changes {
		k := ch.key
		var err error
		if k == "" || !ch.Delete {
			if k, err = w.keys.recordKey(ch.Row); err != nil {
				return nil, stats, fmt.Errorf("change %d: %w", i, err)
			}
		}
		l := last{del: ch.Delete, row: ch.Row}
		if !ch.Delete {
			if len(ch.Row) != len(w.tbl.Columns) {
				return nil, stats, fmt.Errorf("change %d (key %s) has %d values, table %s has %d columns", i, k, len(ch.Row), w.tbl.QualifiedName(), len(w.tbl.Columns))
			}
			if l.part, err = w.keys.partitionPath(ch.Row); err != nil {
				return nil, stats, fmt.Errorf("change %d: %w", i, err)
			}
		}
		if _, seen := latest[k]; !seen {
			order = append(order, k)
		}
		latest[k] = l
	}
	byGroup := map[string]*groupWrite{}
	existing := func(g *fileGroup) *groupWrite {
		gk := groupKey(g.partition, g.fileID)
		gw := byGroup[gk]
		if gw == nil {
			gw = &groupWrite{partition: g.partition, fileID: g.fileID, prev: g, drop: map[string]bool{}}
			byGroup[gk] = gw
		}
		return gw
	}
	inserts := map[string][]newRow{} // partition -> rows
	for _, k := range order {
		l := latest[k]
		g := w.index[k]
		switch {
		case l.del && g == nil:
			// deleting a key the table does not have: nothing to do
		case l.del:
			gw := existing(g)
			gw.drop[k] = true
			gw.deletes++
			stats.Deletes++
		case g != nil && g.partition == l.part:
			gw := existing(g)
			gw.drop[k] = true
			gw.updates = append(gw.updates, newRow{key: k, partition: l.part, row: l.row})
			stats.Updates++
		default:
			if g != nil { // the partition value changed: move the record
				gw := existing(g)
				gw.drop[k] = true
				gw.deletes++
			}
			inserts[l.part] = append(inserts[l.part], newRow{key: k, partition: l.part, row: l.row})
			stats.Inserts++
		}
	}
	w.assignInserts(inserts, byGroup, existing)
	plan := make([]*groupWrite, 0, len(byGroup))
	for _, gk := range sortedKeys(byGroup) {
		gw := byGroup[gk]
		gw.index = len(plan)
		plan = append(plan, gw)
	}
	return plan, stats, nil
}

// assignInserts packs new records into the partition's small file groups
// (latest version under SmallFileBytes, up to MaxFileBytes estimated with
// the table's average record size), then into new file groups.
func (w *Writer) assignInserts(inserts map[string][]newRow, byGroup map[string]*groupWrite, existing func(*fileGroup) *groupWrite) {
	perFile := max(1, w.opts.MaxFileBytes/w.recordBytes)
	for _, part := range sortedKeys(inserts) {
		rows := inserts[part]
		var small []*fileGroup
		for _, g := range w.groups {
			if g.partition == part && g.latest().size < w.opts.SmallFileBytes {
				small = append(small, g)
			}
		}
		sortGroupsBySize(small)
		for _, g := range small {
			if len(rows) == 0 {
				break
			}
			capacity := (w.opts.MaxFileBytes - g.latest().size) / w.recordBytes
			if gw := byGroup[groupKey(g.partition, g.fileID)]; gw != nil {
				capacity -= int64(len(gw.inserts))
			}
			if capacity <= 0 {
				continue
			}
			n := int(min(capacity, int64(len(rows))))
			gw := existing(g)
			gw.inserts = append(gw.inserts, rows[:n]...)
			rows = rows[n:]
		}
		for len(rows) > 0 {
			n := int(min(perFile, int64(len(rows))))
			fileID := uuid.NewString() + "-0"
			byGroup[groupKey(part, fileID)] = &groupWrite{partition: part, fileID: fileID, drop: map[string]bool{}, inserts: rows[:n:n]}
			rows = rows[n:]
		}
	}
}

func sortGroupsBySize(gs []*fileGroup) {
	for i := 1; i < len(gs); i++ {
		for j := i; j > 0 && lessGroup(gs[j], gs[j-1]); j-- {
			gs[j], gs[j-1] = gs[j-1], gs[j]
		}
	}
}

func lessGroup(a, b *fileGroup) bool {
	if a.latest().size != b.latest().size {
		return a.latest().size < b.latest().size
	}
	return a.fileID < b.fileID
}

// writeCommit runs the instant through requested, inflight and completed.
func (w *Writer) writeCommit(ctx context.Context, instant string, plan []*groupWrite, extraMeta map[string]string, stats *CommitStats) error {
	req := Instant{Time: instant, Action: actionCommit, State: stateRequested}
	if err := w.st.writeNew(ctx, metaFolder+"/"+req.fileName(), nil); err != nil {
		return err
	}
	inflight := &CommitMetadata{PartitionToWriteStats: map[string][]WriteStat{}, ExtraMetadata: map[string]string{}, OperationType: operationTypeUpsert}
	for _, gw := range plan {
		prev := "null"
		fileID := ""
		if gw.prev != nil {
			prev, fileID = gw.prev.latest().instant, gw.fileID
		}
		inflight.PartitionToWriteStats[gw.partition] = append(inflight.PartitionToWriteStats[gw.partition], WriteStat{
			FileID: fileID, PrevCommit: prev, NumInserts: int64(len(gw.inserts)), NumUpdateWrites: int64(len(gw.updates)), NumDeletes: gw.deletes,
		})
	}
	b, err := encodeCommitMetadata(inflight)
	if err != nil {
		return err
	}
	if err := w.st.writeNew(ctx, metaFolder+"/"+Instant{Time: instant, Action: actionCommit, State: stateInflight}.fileName(), b); err != nil {
		return err
	}
	for _, gw := range plan {
		if err := w.ensurePartition(ctx, gw.partition, instant); err != nil {
			return err
		}
	}
	for _, gw := range plan {
		if err := w.writeGroup(ctx, instant, gw); err != nil {
			return err
		}
		stats.FilesWritten++
		stats.BytesWritten += gw.stat.FileSizeInBytes
		stats.RowsRewritten += gw.stat.NumWrites - gw.stat.NumInserts - gw.stat.NumUpdateWrites
	}
	done := &CommitMetadata{PartitionToWriteStats: map[string][]WriteStat{}, ExtraMetadata: map[string]string{}, OperationType: operationTypeUpsert}
	for k, v := range extraMeta {
		done.ExtraMetadata[k] = v
	}
	done.ExtraMetadata[extraMetaSchemaKey] = w.avroData
	sj, err := json.Marshal(w.tbl)
	if err != nil {
		return fmt.Errorf("encoding table schema: %w", err)
	}
	done.ExtraMetadata[MetaSchema] = string(sj)
	for _, gw := range plan {
		done.PartitionToWriteStats[gw.partition] = append(done.PartitionToWriteStats[gw.partition], gw.stat)
	}
	b, err = encodeCommitMetadata(done)
	if err != nil {
		return err
	}
	if testHookBeforeComplete != nil {
		if err := testHookBeforeComplete(instant); err != nil {
			return err
		}
	}
	// Publishing the .commit file is the atomic step that makes the commit
	// visible to readers.
	return w.st.writeNew(ctx, metaFolder+"/"+Instant{Time: instant, Action: actionCommit, State: stateCompleted}.fileName(), b)
}

// ensurePartition writes a partition's .hoodie_partition_metadata the
// first time the partition is used.
func (w *Writer) ensurePartition(ctx context.Context, partition, instant string) error {
	if w.partitions[partition] {
		return nil
	}
	depth := 0
	if partition != "" {
		depth = strings.Count(partition, "/") + 1
	}
	now := w.opts.Now().UTC()
	body := fmt.Sprintf("#partition metadata\n#%s\ncommitTime=%s\npartitionDepth=%d\n", now.Format(time.UnixDate), instant, depth)
	if err := w.st.write(ctx, joinKey(partition, partitionMetaFile), []byte(body)); err != nil {
		return err
	}
	w.partitions[partition] = true
	return nil
}

// writeGroup writes the new version of one file group: the previous
// version's rows minus the dropped keys (converted to the current schema,
// their commit time and sequence number kept), streamed row group by row
// group, then the updated and inserted rows.
func (w *Writer) writeGroup(ctx context.Context, instant string, gw *groupWrite) (err error) {
	start := time.Now()
	gw.fileName = baseFileName(gw.fileID, fmt.Sprintf("%d-0-0", gw.index), instant)
	rel := joinKey(gw.partition, gw.fileName)
	spec := baseFileSpec{avroSchema: w.avroMeta, codec: mustCodec(w.opts.Compression), rowGroupRows: w.opts.RowGroupRows}
	if len(w.keys.keyNames) == 1 {
		spec.uniqueColumns = w.keys.keyNames
	}
	out, err := newBaseFileWriter(ctx, w.st, rel, w.sc, spec)
	if err != nil {
		return err
	}
	published := false
	defer func() {
		if !published {
			out.abort()
		}
	}()
	keys := newKeySummary(gw.expectedRecords(), !w.opts.NoBloomFilter)
	if gw.prev != nil {
		if err := w.copyPrevious(ctx, gw, out, keys); err != nil {
			return err
		}
	}
	kept := keys.n
	// The new images follow, in batches: the Arrow copy of a batch is
	// released once the Parquet writer has encoded it.
	var fresh int
	for _, rows := range [][]newRow{gw.updates, gw.inserts} {
		for from := 0; from < len(rows); from += readBatchRows {
			chunk := rows[from:min(len(rows), from+readBatchRows)]
			for i := range chunk {
				keys.add(chunk[i].key)
			}
			if err := w.writeNewRows(out, chunk, instant, gw, fresh); err != nil {
				return err
			}
			fresh += len(chunk)
		}
	}
	if keys.n > 0 {
		spec.minKey, spec.maxKey = keys.min, keys.max
		if keys.bloom != nil {
			spec.bloom, spec.bloomType = keys.bloom.serialize(), bloomTypeSimple
		}
	}
	published = true // close publishes or discards by itself
	size, err := out.close(spec)
	if err != nil {
		return err
	}
	prev := "null"
	if gw.prev != nil {
		prev = gw.prev.latest().instant
	}
	elapsed := time.Since(start).Milliseconds()
	rs := &RuntimeStats{TotalCreateTime: elapsed}
	if gw.prev != nil {
		rs = &RuntimeStats{TotalUpsertTime: elapsed}
	}
	total := kept + int64(fresh)
	p, part := rel, gw.partition
	gw.stat = WriteStat{
		FileID: gw.fileID, Path: &p, PrevCommit: prev, NumWrites: total, NumDeletes: gw.deletes,
		NumUpdateWrites: int64(len(gw.updates)), NumInserts: int64(len(gw.inserts)), TotalWriteBytes: size,
		PartitionPath: &part, FileSizeInBytes: size, RuntimeStats: rs,
	}
	return nil
}

// writeNewRows appends rows to out; the first gets commit sequence number
// "<instant>_<group index>_<firstSeq>".
func (w *Writer) writeNewRows(out *baseFileWriter, rows []newRow, instant string, gw *groupWrite, firstSeq int) error {
	arrs, err := buildRecords(w.mem, w.sc, w.tbl, rows, instant, gw.fileName, fmt.Sprintf("%s_%d_", instant, gw.index), firstSeq)
	if err != nil {
		return err
	}
	rec := array.NewRecordBatch(w.sc, arrs, int64(len(rows)))
	for _, a := range arrs {
		a.Release()
	}
	tbl := array.NewTableFromRecords(w.sc, []arrow.RecordBatch{rec})
	rec.Release()
	err = out.writeTable(tbl)
	tbl.Release()
	return err
}

// copyPrevious streams the kept rows of the group's latest base file into
// out, one record batch at a time, and adds their keys to keys.
func (w *Writer) copyPrevious(ctx context.Context, gw *groupWrite, out *baseFileWriter, keys *keySummary) error {
	prevPath := gw.prev.path(gw.prev.latest())
	r, err := openBaseFile(ctx, w.st, prevPath, w.mem)
	if err != nil {
		return err
	}
	defer r.close()
	err = r.batches(ctx, func(rec arrow.RecordBatch) error {
		old := array.NewTableFromRecords(rec.Schema(), []arrow.RecordBatch{rec})
		kept, err := w.keptRows(old, gw, keys)
		keys.own() // the keys came from old's buffers
		old.Release()
		if err != nil || kept == nil {
			return err
		}
		err = out.writeTable(kept)
		kept.Release()
		return err
	})
	if err != nil {
		return fmt.Errorf("rewriting %s: %w", prevPath, err)
	}
	return nil
}

// keptRows returns the rows of old whose keys the commit does not drop, in
// the writer's schema and with the new file name; nil when none is kept.
func (w *Writer) keptRows(old arrow.Table, gw *groupWrite, keys *keySummary) (arrow.Table, error) {
	keyIdx := old.Schema().FieldIndices(FieldRecordKey)
	if len(keyIdx) != 1 {
		return nil, fmt.Errorf("no %s column", FieldRecordKey)
	}
	var runs [][2]int64 // rows to keep, [from, to)
	var row, kept int64
	for _, ch := range old.Column(keyIdx[0]).Data().Chunks() {
		sa, ok := ch.(*array.String)
		if !ok {
			return nil, fmt.Errorf("%s is %s, not a string", FieldRecordKey, ch.DataType())
		}
		for i := 0; i < sa.Len(); i, row = i+1, row+1 {
			k := sa.Value(i)
			if gw.drop[k] {
				continue
			}
			keys.add(k)
			kept++
			if n := len(runs); n > 0 && runs[n-1][1] == row {
				runs[n-1][1] = row + 1
			} else {
				runs = append(runs, [2]int64{row, row + 1})
			}
		}
	}
	if kept == 0 {
		return nil, nil
	}
	columns := make([]arrow.Column, len(w.sc.Fields()))
	defer func() {
		for i := range columns {
			columns[i].Release()
		}
	}()
	for fi, f := range w.sc.Fields() {
		var chunks []arrow.Array
		if f.Name == FieldFileName {
			b := array.NewStringBuilder(w.mem)
			b.Reserve(int(kept))
			for range kept {
				b.Append(gw.fileName)
			}
			a := b.NewArray()
			b.Release()
			defer a.Release()
			chunks = []arrow.Array{a}
		} else {
			var src *arrow.Chunked
			if idx := old.Schema().FieldIndices(f.Name); len(idx) == 1 {
				src = old.Column(idx[0]).Data()
			}
			conformed, err := conformColumn(w.mem, src, f.Type, int(old.NumRows()))
			if err != nil {
				return nil, fmt.Errorf("column %q: %w", f.Name, err)
			}
			defer conformed.Release()
			var pieces []arrow.Array
			for _, r := range runs {
				sl := array.NewChunkedSlice(conformed, r[0], r[1])
				defer sl.Release()
				pieces = append(pieces, sl.Chunks()...)
			}
			// One contiguous array per column: the Parquet writer's cost
			// is per batch, and scattered deletes make many small runs.
			whole, err := array.Concatenate(pieces, w.mem)
			if err != nil {
				return nil, fmt.Errorf("column %q: %w", f.Name, err)
			}
			defer whole.Release()
			chunks = []arrow.Array{whole}
		}
		ch := arrow.NewChunked(f.Type, chunks)
		columns[fi] = *arrow.NewColumn(f, ch)
		ch.Release()
	}
	return array.NewTable(w.sc, columns, kept), nil
}

// expectedRecords bounds the records of the group's new version (to size
// its bloom filter).
func (gw *groupWrite) expectedRecords() int64 {
	n := int64(len(gw.updates) + len(gw.inserts))
	if gw.prev != nil {
		n += gw.prev.records
	}
	return n
}

// keySummary accumulates what a base file's footer says about its record
// keys without keeping them: count, min, max and the bloom filter.
type keySummary struct {
	n        int64
	min, max string
	bloom    *bloomFilter
}

func newKeySummary(expected int64, withBloom bool) *keySummary {
	s := &keySummary{}
	if withBloom {
		s.bloom = newBloomFilter(int(min(expected, 1<<31-1)))
	}
	return s
}

// add counts a key. The key may point into an Arrow buffer; call own
// before that buffer is released.
func (s *keySummary) add(k string) {
	if s.n == 0 || k < s.min {
		s.min = k
	}
	if s.n == 0 || k > s.max {
		s.max = k
	}
	s.n++
	if s.bloom != nil {
		s.bloom.add(k)
	}
}

// own copies min and max so they no longer share memory with a buffer.
func (s *keySummary) own() {
	s.min, s.max = strings.Clone(s.min), strings.Clone(s.max)
}

func mustCodec(name string) compress.Compression {
	c, _ := compressionCodec(name) // validated by Open
	return c
}

// apply updates the file groups and the key index after a completed commit.
func (w *Writer) apply(plan []*groupWrite) {
	var bytes, rows int64
	for _, gw := range plan {
		gk := groupKey(gw.partition, gw.fileID)
		g := w.groups[gk]
		if g == nil {
			g = &fileGroup{partition: gw.partition, fileID: gw.fileID}
			w.groups[gk] = g
		}
		g.files = append(g.files, baseFile{name: gw.fileName, instant: strings.TrimSuffix(gw.fileName[strings.LastIndexByte(gw.fileName, '_')+1:], ".parquet"), size: gw.stat.FileSizeInBytes})
		g.records = gw.stat.NumWrites
		for k := range gw.drop {
			if w.index[k] == g {
				delete(w.index, k)
			}
		}
		bytes += gw.stat.FileSizeInBytes
		rows += gw.stat.NumWrites
	}
	for _, gw := range plan {
		g := w.groups[groupKey(gw.partition, gw.fileID)]
		for _, r := range gw.updates {
			w.index[r.key] = g
		}
		for _, r := range gw.inserts {
			w.index[r.key] = g
		}
	}
	if rows > 0 {
		w.recordBytes = max(1, bytes/rows)
	}
}
