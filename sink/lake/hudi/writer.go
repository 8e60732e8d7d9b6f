package hudi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"gocloud.dev/blob"

	"github.com/binlake/binlake/schema"
)

// Keys of the exactly-once protocol in a commit's extraMetadata
// (ARCHITECTURE.md 3.6). The sink encodes offsets and sequences as JSON.
const (
	MetaConnector = "binlake.connector"
	MetaCommitID  = "binlake.commit-id"
	MetaOffsets   = "binlake.offsets"
	MetaSequences = "binlake.sequences"
	// MetaSchema holds the binlake schema.Table (JSON) the commit was
	// written with; Open uses it to check schema evolution.
	MetaSchema = "binlake.schema"
)

// Defaults of Options.
const (
	DefaultMaxFileBytes       = 120 << 20 // hoodie.parquet.max.file.size
	DefaultSmallFileBytes     = 100 << 20 // hoodie.parquet.small.file.limit
	DefaultRetainFileVersions = 2         // hoodie.cleaner.fileversions.retained
	DefaultKeepCommits        = 30        // hoodie.keep.max.commits
	DefaultRowGroupRows       = 128 << 10 // bounds the memory of a rewrite
	defaultRecordBytes        = 1024      // hoodie.copyonwrite.record.size.estimate
)

// Options configure a Writer. Bucket, Table and (for a new table) the key
// layout are required; the rest have defaults.
type Options struct {
	// Bucket and BasePath locate the table: its files live under BasePath
	// in Bucket. OpenLocalBucket opens a local directory; any gocloud.dev
	// bucket (s3blob, ...) works.
	Bucket   *blob.Bucket
	BasePath string
	// Table is the current schema; its primary key is the record key.
	Table *schema.Table
	// PartitionField names the partition columns of a new table ("" for
	// none): comma-separated column names, each an identity partition level
	// in that order ("region" or "region,country"), as in
	// hoodie.table.partition.fields. For an existing table it must match
	// that property unless AdoptPartitioning is set.
	PartitionField string
	// HiveStylePartitioning writes partition directories as field=value.
	// An existing table keeps the style it was created with.
	HiveStylePartitioning bool
	// AdoptPartitioning makes an existing table keep its partition fields
	// whatever PartitionField says (PartitionField then only applies to
	// new tables, like partition.spec).
	AdoptPartitioning bool
	// MaxFileBytes bounds base files (hoodie.parquet.max.file.size);
	// file groups smaller than SmallFileBytes receive new records
	// (hoodie.parquet.small.file.limit).
	MaxFileBytes   int64
	SmallFileBytes int64
	// KeepCommits is how many completed commits stay in the active
	// timeline (hoodie.keep.max.commits); older instant files are removed
	// so the timeline does not grow without bound. Their base files stay
	// readable: Hudi readers treat files older than the active timeline as
	// committed. The archived timeline (.hoodie/archived) is not written.
	KeepCommits int
	// RetainFileVersions is how many versions of each file group the
	// cleaner keeps (KEEP_LATEST_FILE_VERSIONS); older ones are deleted.
	RetainFileVersions int
	// Compression of base files: snappy (default), zstd, gzip or none.
	Compression string
	// NoBloomFilter leaves the record-key bloom filter out of base-file
	// footers. Readers do not need it; Hudi's Java writers with the bloom
	// index (their default) do, if they ever write to the table.
	NoBloomFilter bool
	// RowGroupRows caps the rows of one Parquet row group.
	RowGroupRows int64
	// Allocator for Arrow buffers (default: the Go allocator).
	Allocator memory.Allocator
	// Now is the clock for instant times (default time.Now).
	Now func() time.Time
}

// Change is one row change of a commit: an upsert of Row, or with Delete
// set the removal of the record with Row's key. Row is aligned with the
// commit's table columns; a delete needs only the key columns set (the
// record is found through the key index, whatever its partition).
type Change struct {
	Delete bool
	Row    []any
	// key, when set on a delete, is the record key itself (Row unused):
	// truncation deletes every key of the index.
	key string
}

// Committed is what LastCommitted returns: the instant of the latest
// completed commit that carried binlake metadata and that metadata.
type Committed struct {
	Instant string
	// Meta holds the commit's extraMetadata entries whose keys start with
	// "binlake." (MetaConnector, MetaCommitID, MetaOffsets, MetaSequences,
	// and whatever else the caller put there).
	Meta map[string]string
}

// CommitStats summarise one Commit.
type CommitStats struct {
	Instant                    string
	Inserts, Updates, Deletes  int64
	FilesWritten, FilesCleaned int
	BytesWritten               int64
	RowsRewritten              int64 // unchanged rows copied into new versions
}

// Writer writes one Hudi copy-on-write table. Its methods are safe for
// concurrent use but serialize; only one Writer (in any process) may write
// a table at a time.
type Writer struct {
	mu   sync.Mutex
	st   *storage
	opts Options
	mem  memory.Allocator

	props    properties
	tbl      *schema.Table
	keys     *keyGen
	sc       *arrow.Schema
	avroMeta string
	avroData string

	groups      map[string]*fileGroup
	index       map[string]*fileGroup // record key -> file group
	partitions  map[string]bool
	lastTime    string
	commits     []Instant // completed commits in the active timeline
	recordBytes int64
	last        *Committed
	needRecover bool
	closed      bool
}

// Open opens the table at opts.BasePath, creating it when it does not
// exist. It rolls back commits a crash left requested or inflight, removes
// leftovers of interrupted writes, cleans surplus file versions and rebuilds
// the record-key index from the latest base files.
func Open(ctx context.Context, opts Options) (*Writer, error) {
	if opts.Bucket == nil {
		return nil, errors.New("opening hudi table: no bucket")
	}
	if opts.Table == nil {
		return nil, errors.New("opening hudi table: no table schema")
	}
	if err := opts.Table.Validate(); err != nil {
		return nil, fmt.Errorf("opening hudi table: %w", err)
	}
	if err := checkColumns(opts.Table); err != nil {
		return nil, err
	}
	if opts.MaxFileBytes <= 0 {
		opts.MaxFileBytes = DefaultMaxFileBytes
	}
	if opts.SmallFileBytes <= 0 {
		opts.SmallFileBytes = DefaultSmallFileBytes
	}
	if opts.SmallFileBytes > opts.MaxFileBytes {
		opts.SmallFileBytes = opts.MaxFileBytes
	}
	if opts.RetainFileVersions <= 0 {
		opts.RetainFileVersions = DefaultRetainFileVersions
	}
	if opts.KeepCommits <= 0 {
		opts.KeepCommits = DefaultKeepCommits
	}
	if opts.RowGroupRows <= 0 {
		opts.RowGroupRows = DefaultRowGroupRows
	}
	if _, err := compressionCodec(opts.Compression); err != nil {
		return nil, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	w := &Writer{st: newStorage(opts.Bucket, opts.BasePath), opts: opts, mem: opts.Allocator}
	if w.mem == nil {
		w.mem = memory.DefaultAllocator
	}
	if err := w.loadOrCreateProperties(ctx); err != nil {
		return nil, err
	}
	if err := w.setSchema(opts.Table); err != nil {
		return nil, err
	}
	if err := w.recover(ctx); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *Writer) loadOrCreateProperties(ctx context.Context) error {
	t := w.opts.Table
	b, err := w.st.read(ctx, propertiesFile)
	if errors.Is(err, errNotFound) {
		kg, err := newKeyGen(t, w.opts.PartitionField, w.opts.HiveStylePartitioning)
		if err != nil {
			return err
		}
		p := properties{
			PropTableName:          t.Name,
			PropDatabaseName:       t.Database,
			PropTableType:          tableTypeCopyOnWrite,
			PropTableVersion:       supportedTableVersion,
			PropTimelineLayout:     supportedTimelineLayout,
			PropTimelineTimezone:   "UTC",
			PropRecordKeyFields:    strings.Join(kg.keyNames, ","),
			PropKeyGenerator:       kg.keyGeneratorClass(),
			PropHiveStylePartition: strconv.FormatBool(w.opts.HiveStylePartitioning),
			PropPartitionURLEncode: "false",
			PropDropPartitionCols:  "false",
			PropBaseFileFormat:     "PARQUET",
			PropPopulateMetaFields: "true",
			PropArchiveLogFolder:   "archived",
			PropCreateSchema:       avroSchemaJSON(t, false),
			PropChecksum:           strconv.FormatInt(TableChecksum(t.Database, t.Name), 10),
		}
		if f := kg.partitionFields(); f != "" {
			p[PropPartitionFields] = f
		}
		if err := w.st.writeNew(ctx, propertiesFile, p.encode(w.opts.Now())); err != nil {
			return fmt.Errorf("creating hudi table %s: %w", t.QualifiedName(), err)
		}
		w.props = p
		return nil
	}
	if err != nil {
		return fmt.Errorf("opening hudi table %s: %w", t.QualifiedName(), err)
	}
	p, err := parseProperties(b)
	if err != nil {
		return fmt.Errorf("opening hudi table %s: %w", t.QualifiedName(), err)
	}
	if err := p.verifyChecksum(); err != nil {
		return fmt.Errorf("opening hudi table %s: %w", t.QualifiedName(), err)
	}
	if tt := p[PropTableType]; tt != "" && tt != tableTypeCopyOnWrite {
		return fmt.Errorf("hudi table %s is %s; only COPY_ON_WRITE tables are supported", t.QualifiedName(), tt)
	}
	if v := p[PropTableVersion]; v != supportedTableVersion {
		return fmt.Errorf("hudi table %s has table version %q; only version %s is supported", t.QualifiedName(), v, supportedTableVersion)
	}
	if v := p[PropTimelineLayout]; v != "" && v != supportedTimelineLayout {
		return fmt.Errorf("hudi table %s has timeline layout %q; only %s is supported", t.QualifiedName(), v, supportedTimelineLayout)
	}
	if part := p[PropPartitionFields]; !w.opts.AdoptPartitioning && !strings.EqualFold(normalizeFields(part), normalizeFields(w.opts.PartitionField)) {
		return fmt.Errorf("hudi table %s is partitioned by %q, the writer was configured with %q", t.QualifiedName(), part, w.opts.PartitionField)
	}
	w.opts.PartitionField = p[PropPartitionFields]
	w.opts.HiveStylePartitioning = p[PropHiveStylePartition] == "true"
	kg, err := newKeyGen(t, w.opts.PartitionField, w.opts.HiveStylePartitioning)
	if err != nil {
		return err
	}
	if rk := p[PropRecordKeyFields]; rk != strings.Join(kg.keyNames, ",") {
		return fmt.Errorf("hudi table %s has record key %q, the table's primary key is %q; Hudi's record key cannot change: recreate the table", t.QualifiedName(), rk, strings.Join(kg.keyNames, ","))
	}
	w.props = p
	return nil
}

// normalizeFields removes the blanks around the names of a comma-separated
// field list.
func normalizeFields(s string) string {
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return strings.Join(parts, ",")
}

// setSchema makes t the schema of the rows the next commit writes.
func (w *Writer) setSchema(t *schema.Table) error {
	if err := checkColumns(t); err != nil {
		return err
	}
	kg, err := newKeyGen(t, w.opts.PartitionField, w.opts.HiveStylePartitioning)
	if err != nil {
		return err
	}
	sc, err := arrowSchema(t)
	if err != nil {
		return err
	}
	w.tbl, w.keys, w.sc = t, kg, sc
	w.avroMeta, w.avroData = avroSchemaJSON(t, true), avroSchemaJSON(t, false)
	return nil
}

// recover brings the in-memory view in line with storage: it rolls back
// pending commits, removes temporary leftovers, rebuilds file groups and
// the key index, and cleans surplus versions.
func (w *Writer) recover(ctx context.Context) (err error) {
	tl, err := loadTimeline(ctx, w.st)
	if err != nil {
		return err
	}
	listing, err := listTable(ctx, w.st)
	if err != nil {
		return err
	}
	for _, k := range listing.tempFiles {
		if err := w.st.delete(ctx, k); err != nil {
			return err
		}
	}
	for _, in := range tl.pendingCommits() {
		if err := w.rollback(ctx, in, listing.baseFiles[in.Time]); err != nil {
			return err
		}
		delete(listing.baseFiles, in.Time)
	}
	for _, in := range tl.pendingCommits() {
		tl = tl.without(in.Time)
	}
	commits := tl.completedCommits()
	completed := map[string]bool{}
	for _, in := range commits {
		completed[in.Time] = true
	}
	// Base files of an instant inside the active timeline that did not
	// complete are not committed (a rollback interrupted between its data
	// and instant files leaves none, but be safe): remove them, so trimming
	// the timeline later cannot make them look committed.
	if len(tl) > 0 {
		for instant, objs := range listing.baseFiles {
			if !completed[instant] && instant >= tl[0].Time {
				for _, o := range objs {
					if err := w.st.delete(ctx, o.Key); err != nil {
						return err
					}
				}
				delete(listing.baseFiles, instant)
			}
		}
	}
	w.lastTime = tl.lastTime()
	w.partitions = listing.partitions
	w.groups = buildFileGroups(listing, tl)
	w.commits = commits
	w.index = make(map[string]*fileGroup)
	w.recordBytes = defaultRecordBytes
	var totalBytes, totalRows int64
	for _, g := range w.groups {
		lf := g.latest()
		keys, _, err := readBaseFileKeys(ctx, w.st, g.path(lf), w.mem)
		if err != nil {
			return err
		}
		g.records = int64(len(keys))
		totalBytes += lf.size
		totalRows += g.records
		for _, k := range keys {
			if prev, dup := w.index[k]; dup {
				return fmt.Errorf("record key %q is in file groups %s/%s and %s/%s; the table is inconsistent", k, prev.partition, prev.fileID, g.partition, g.fileID)
			}
			w.index[k] = g
		}
	}
	if totalRows > 0 {
		w.recordBytes = max(1, totalBytes/totalRows)
	}
	if _, err := w.cleanGroups(ctx, w.allGroups()); err != nil {
		return err
	}
	w.last = nil
	defer func() {
		if err == nil {
			err = w.trimTimeline(ctx)
		}
	}()
	for i := len(commits) - 1; i >= 0; i-- {
		cm, err := readCommitMetadata(ctx, w.st, commits[i])
		if err != nil {
			return err
		}
		if i == len(commits)-1 {
			if err := w.checkStoredSchema(cm); err != nil {
				return err
			}
		}
		if _, ok := cm.ExtraMetadata[MetaCommitID]; ok {
			w.last = &Committed{Instant: commits[i].Time, Meta: binlakeMeta(cm.ExtraMetadata)}
			break
		}
	}
	w.needRecover = false
	return nil
}

// checkStoredSchema verifies that the writer's schema can follow the one
// the latest commit was written with.
func (w *Writer) checkStoredSchema(cm *CommitMetadata) error {
	js, ok := cm.ExtraMetadata[MetaSchema]
	if !ok {
		return nil
	}
	var prev schema.Table
	if err := json.Unmarshal([]byte(js), &prev); err != nil {
		return fmt.Errorf("parsing the schema of the latest commit: %w", err)
	}
	if prev.SameColumns(w.tbl) {
		return nil
	}
	return checkEvolution(&prev, w.tbl)
}

func binlakeMeta(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if strings.HasPrefix(k, "binlake.") && k != MetaSchema {
			out[k] = v
		}
	}
	return out
}

// rollback undoes a commit that never completed, as Hudi's eager rollback
// of failed writes does for copy-on-write tables: the base files it wrote
// are deleted, then its inflight and requested instant files (in that
// order, so an interrupted rollback is simply repeated on the next open).
func (w *Writer) rollback(ctx context.Context, in Instant, files []object) error {
	for _, o := range files {
		if err := w.st.delete(ctx, o.Key); err != nil {
			return fmt.Errorf("rolling back instant %s: %w", in.Time, err)
		}
	}
	for _, st := range []string{stateInflight, stateRequested} {
		f := Instant{Time: in.Time, Action: in.Action, State: st}.fileName()
		if err := w.st.delete(ctx, metaFolder+"/"+f); err != nil {
			return fmt.Errorf("rolling back instant %s: %w", in.Time, err)
		}
	}
	return nil
}

// trimTimeline removes the instant files of the oldest completed commits
// beyond KeepCommits. Requested and inflight files go first, the .commit
// last, so an interrupted trim never makes a completed commit look pending
// (which would roll it back). The latest commit carrying binlake metadata
// is always kept.
func (w *Writer) trimTimeline(ctx context.Context) error {
	for len(w.commits) > w.opts.KeepCommits {
		in := w.commits[0]
		if w.last != nil && in.Time >= w.last.Instant {
			return nil
		}
		for _, st := range []string{stateRequested, stateInflight, stateCompleted} {
			f := Instant{Time: in.Time, Action: in.Action, State: st}.fileName()
			if err := w.st.delete(ctx, metaFolder+"/"+f); err != nil {
				return fmt.Errorf("archiving instant %s: %w", in.Time, err)
			}
		}
		w.commits = w.commits[1:]
	}
	return nil
}

func (w *Writer) allGroups() []*fileGroup {
	out := make([]*fileGroup, 0, len(w.groups))
	for _, g := range w.groups {
		out = append(out, g)
	}
	return out
}

// cleanGroups deletes the oldest versions of file groups that have more
// than RetainFileVersions (Hudi's KEEP_LATEST_FILE_VERSIONS policy). A
// snapshot read only uses the latest version, so this never affects readers
// of the latest commit.
func (w *Writer) cleanGroups(ctx context.Context, groups []*fileGroup) (int, error) {
	n := 0
	for _, g := range groups {
		for len(g.files) > w.opts.RetainFileVersions {
			if err := w.st.delete(ctx, g.path(g.files[0])); err != nil {
				return n, fmt.Errorf("cleaning file group %s: %w", g.fileID, err)
			}
			g.files = g.files[1:]
			n++
		}
	}
	return n, nil
}

// LastCommitted returns the binlake metadata of the latest completed commit
// that carried a MetaCommitID; ok is false when no commit did.
func (w *Writer) LastCommitted(ctx context.Context) (Committed, bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return Committed{}, false, errors.New("reading last commit: writer is closed")
	}
	if w.needRecover {
		if err := w.recover(ctx); err != nil {
			return Committed{}, false, err
		}
	}
	if w.last == nil {
		return Committed{}, false, nil
	}
	c := Committed{Instant: w.last.Instant, Meta: make(map[string]string, len(w.last.Meta))}
	for k, v := range w.last.Meta {
		c.Meta[k] = v
	}
	return c, true, nil
}

// PartitionFields returns the table's partition columns as in
// hoodie.table.partition.fields ("" when not partitioned).
func (w *Writer) PartitionFields() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.keys.partitionFields()
}

// Schema returns the schema the writer currently writes.
func (w *Writer) Schema() *schema.Table {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.tbl
}

// Close releases the writer. It is idempotent; the table needs no closing
// step (every Commit completes or is rolled back by the next Open).
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	w.groups, w.index = nil, nil
	return nil
}

// sortedKeys returns the keys of a map in order (for deterministic plans).
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
