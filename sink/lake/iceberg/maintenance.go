package iceberg

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/apache/iceberg-go"
	iceio "github.com/apache/iceberg-go/io"
	"github.com/apache/iceberg-go/table"
	"github.com/apache/iceberg-go/table/compaction"
	"github.com/google/uuid"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/spec"
	"github.com/binlake/binlake/sink/lake"
)

// maintenanceConfig holds the maintenance.* settings.
type maintenanceConfig struct {
	every          time.Duration
	targetFileSize int64
	retain         int
	maxAge         time.Duration
	orphanAge      time.Duration
}

func maintenanceFromConfig(cfg connect.Config) maintenanceConfig {
	m := maintenanceConfig{
		every:          time.Hour,
		targetFileSize: 128 << 20,
		retain:         5,
		maxAge:         time.Hour,
		orphanAge:      24 * time.Hour,
	}
	if _, ok := cfg[lake.KeyOrphanMinAge]; ok {
		m.orphanAge = spec.GetDuration(cfg, lake.KeyOrphanMinAge)
	}
	if _, ok := cfg[lake.KeyMaintenanceEvery]; ok {
		m.every = spec.GetDuration(cfg, lake.KeyMaintenanceEvery)
	}
	if v := spec.GetLong(cfg, lake.KeyTargetFileSize); v > 0 {
		m.targetFileSize = v
	}
	if v := spec.GetInt(cfg, lake.KeySnapshotsRetain); v > 0 {
		m.retain = v
	}
	if _, ok := cfg[lake.KeySnapshotMaxAge]; ok {
		m.maxAge = spec.GetDuration(cfg, lake.KeySnapshotMaxAge)
	}
	// The sink's committed position lives in snapshot summaries: keep at
	// least two snapshots so one that carries it always survives expiry
	// (manifest rewrites carry no summary of their own).
	m.retain = max(m.retain, 2)
	return m
}

// MaintenanceResult says what one maintenance run did.
type MaintenanceResult struct {
	RewrittenDataFiles    int
	AddedDataFiles        int
	RemovedEqDeleteFiles  int
	RemainingDeleteFiles  int
	RewrittenManifests    int
	ExpiredSnapshotsAfter int
	DeletedOrphanFiles    int
}

// Maintain runs maintenance when maintenance.interval.ms has passed since
// the last run (0 disables it).
func (w *tableWriter) Maintain(ctx context.Context) error {
	m := w.f.maintenance
	if m.every <= 0 || time.Since(w.lastMaintained) < m.every {
		return nil
	}
	_, err := w.MaintainNow(ctx)
	return err
}

// MaintainNow compacts the table (rewriting data files with the equality
// and position deletes that apply to them, then removing the delete files
// no live data file needs any more), merges manifests and expires old
// snapshots. Compaction reads through iceberg-go's scan, which applies
// equality deletes by sequence number; the result is verified by the tests
// against a model, with equality deletes present (see apache/iceberg-go#2042
// for the copy-on-write delete path that does not apply them: the sink
// never uses Table.Delete on tables with rows).
func (w *tableWriter) MaintainNow(ctx context.Context) (MaintenanceResult, error) {
	var res MaintenanceResult
	w.lastMaintained = time.Now()
	if err := w.refresh(ctx); err != nil {
		return res, err
	}
	if w.tbl.CurrentSnapshot() == nil {
		return res, nil
	}
	if err := w.compact(ctx, &res); err != nil {
		return res, err
	}
	txn := w.tbl.NewTransaction()
	mr, err := txn.RewriteManifests(ctx)
	if err != nil {
		return res, fmt.Errorf("merging manifests of %s: %w", w.ident, err)
	}
	if !mr.IsNoOp() {
		tbl, err := txn.Commit(ctx)
		if err != nil {
			return res, fmt.Errorf("committing merged manifests of %s: %w", w.ident, err)
		}
		w.tbl = tbl
		res.RewrittenManifests = len(mr.RewrittenManifests)
	}
	txn = w.tbl.NewTransaction()
	if err := txn.ExpireSnapshots(table.WithRetainLast(w.f.maintenance.retain), table.WithOlderThan(w.f.maintenance.maxAge)); err != nil {
		return res, fmt.Errorf("expiring snapshots of %s: %w", w.ident, err)
	}
	tbl, err := txn.Commit(ctx)
	if err != nil {
		return res, fmt.Errorf("committing snapshot expiry of %s: %w", w.ident, err)
	}
	w.tbl = tbl
	res.ExpiredSnapshotsAfter = len(w.tbl.Metadata().Snapshots())
	if age := w.f.maintenance.orphanAge; age > 0 {
		or, err := w.tbl.DeleteOrphanFiles(ctx, table.WithFilesOlderThan(age))
		if err != nil {
			return res, fmt.Errorf("deleting orphan files of %s: %w", w.ident, err)
		}
		res.DeletedOrphanFiles = len(or.DeletedFiles)
	}
	w.f.logger.Info("maintained lake table", "table", w.ident, "rewritten_files", res.RewrittenDataFiles,
		"added_files", res.AddedDataFiles, "removed_eq_deletes", res.RemovedEqDeleteFiles,
		"remaining_delete_files", res.RemainingDeleteFiles, "snapshots", res.ExpiredSnapshotsAfter, "deleted_orphans", res.DeletedOrphanFiles)
	return res, nil
}

// compact rewrites every data file that a delete file applies to, every
// data file older than the newest equality delete, and small files, in
// per-partition groups of about the target size, and drops the equality
// deletes that are dead afterwards, in one atomic rewrite snapshot that
// carries the sink's committed position.
func (w *tableWriter) compact(ctx context.Context, res *MaintenanceResult) error {
	snap := w.tbl.CurrentSnapshot()
	fs, err := w.tbl.FS(ctx)
	if err != nil {
		return fmt.Errorf("opening file IO of %s: %w", w.ident, err)
	}
	maxEqSeq, eqDeletes, err := equalityDeleteSeqs(fs, snap)
	if err != nil {
		return fmt.Errorf("listing delete files of %s: %w", w.ident, err)
	}
	tasks, err := w.tbl.Scan().PlanFiles(ctx)
	if err != nil {
		return fmt.Errorf("planning compaction of %s: %w", w.ident, err)
	}
	small := w.f.maintenance.targetFileSize * 3 / 4
	type part struct {
		key   string
		tasks []table.FileScanTask
		dirty bool
	}
	parts := map[string]*part{}
	seenFile := map[string]bool{}
	for _, t := range tasks {
		path := t.File.FilePath()
		if seenFile[path] {
			continue // a split of a file already taken whole
		}
		seenFile[path] = true
		hasDeletes := len(t.EqualityDeleteFiles)+len(t.DeleteFiles)+len(t.DeletionVectorFiles) > 0
		olderThanDeletes := t.DataSequenceNumber != nil && *t.DataSequenceNumber < maxEqSeq
		if !hasDeletes && !olderThanDeletes && t.File.FileSizeBytes() >= small {
			continue
		}
		t.Start, t.Length = 0, t.File.FileSizeBytes()
		key := fmt.Sprint(t.File.SpecID(), t.File.Partition())
		p := parts[key]
		if p == nil {
			p = &part{key: key}
			parts[key] = p
		}
		p.tasks = append(p.tasks, t)
		p.dirty = p.dirty || hasDeletes || olderThanDeletes
	}
	var groups []table.CompactionTaskGroup
	for _, key := range slices.Sorted(maps.Keys(parts)) {
		p := parts[key]
		if len(p.tasks) < 2 && !p.dirty {
			continue // one clean small file: nothing to gain
		}
		groups = append(groups, binPack(p.key, p.tasks, w.f.maintenance.targetFileSize)...)
	}
	if len(groups) == 0 && len(eqDeletes) == 0 {
		return nil
	}
	if len(groups) == 0 {
		// Equality deletes are present but no file needs them (e.g. a table whose only commit wrote rows and the
		// deletes of their keys with one sequence number). Rewrite the files anyway so the dead deletes go with the
		// same commit: readers without equality-delete support (pyiceberg) can then read the table.
		for _, key := range slices.Sorted(maps.Keys(parts)) {
			p := parts[key]
			groups = append(groups, binPack(p.key, p.tasks, w.f.maintenance.targetFileSize)...)
		}
	}
	rewritten := map[string]struct{}{}
	for _, g := range groups {
		for _, t := range g.Tasks {
			rewritten[t.File.FilePath()] = struct{}{}
		}
	}
	dead, err := compaction.CollectDeadEqualityDeletesWithSpecs(ctx, fs, w.tbl.Metadata(), snap, rewritten)
	if err != nil {
		return fmt.Errorf("collecting dead equality deletes of %s: %w", w.ident, err)
	}
	if len(groups) == 0 {
		return nil
	}
	props := iceberg.Properties{PropConnector: w.f.connector, PropCommitID: "maintenance-" + uuid.NewString()}
	if pos, ok, err := committedPosition(w.tbl, w.f.connector); err == nil && ok {
		props[PropOffsets], props[PropSequences] = pos.EncodeOffsets(), pos.EncodeSequences()
	} else {
		delete(props, PropConnector)
	}
	txn := w.tbl.NewTransaction()
	rr, err := txn.RewriteDataFiles(ctx, groups, table.RewriteDataFilesOptions{
		SnapshotProps:            props,
		ExtraDeleteFilesToRemove: dead,
		GroupOptions:             []table.CompactionGroupOption{table.WithCompactionTargetFileSize(w.f.maintenance.targetFileSize)},
	})
	if err != nil {
		return fmt.Errorf("compacting %s: %w", w.ident, err)
	}
	tbl, err := txn.Commit(ctx)
	if err != nil {
		return fmt.Errorf("committing compaction of %s: %w", w.ident, err)
	}
	w.tbl = tbl
	res.RewrittenDataFiles = rr.RemovedDataFiles
	res.AddedDataFiles = rr.AddedDataFiles
	res.RemovedEqDeleteFiles = rr.RemovedEqualityDeleteFiles
	_, left, err := equalityDeleteSeqs(fs, w.tbl.CurrentSnapshot())
	if err != nil {
		return fmt.Errorf("listing delete files of %s: %w", w.ident, err)
	}
	res.RemainingDeleteFiles = len(left)
	return nil
}

// equalityDeleteSeqs returns the live delete files of a snapshot and the
// highest data sequence number among its equality deletes.
func equalityDeleteSeqs(iofs iceio.IO, snap *table.Snapshot) (int64, []iceberg.DataFile, error) {
	if snap == nil {
		return 0, nil, nil
	}
	manifests, err := snap.Manifests(iofs)
	if err != nil {
		return 0, nil, err
	}
	var (
		maxSeq int64
		files  []iceberg.DataFile
	)
	for _, m := range manifests {
		if m.ManifestContent() != iceberg.ManifestContentDeletes {
			continue
		}
		for e, err := range m.Entries(iofs, true) {
			if err != nil {
				return 0, nil, err
			}
			files = append(files, e.DataFile())
			if e.DataFile().ContentType() == iceberg.EntryContentEqDeletes {
				maxSeq = max(maxSeq, e.SequenceNum())
			}
		}
	}
	return maxSeq, files, nil
}

// binPack splits one partition's tasks into groups of about target bytes.
func binPack(key string, tasks []table.FileScanTask, target int64) []table.CompactionTaskGroup {
	sort.Slice(tasks, func(i, j int) bool { return tasks[i].File.FilePath() < tasks[j].File.FilePath() })
	var (
		out []table.CompactionTaskGroup
		cur table.CompactionTaskGroup
	)
	for _, t := range tasks {
		if len(cur.Tasks) > 0 && cur.TotalSizeBytes+t.File.FileSizeBytes() > target {
			out = append(out, cur)
			cur = table.CompactionTaskGroup{}
		}
		cur.PartitionKey = key
		cur.Tasks = append(cur.Tasks, t)
		cur.TotalSizeBytes += t.File.FileSizeBytes()
	}
	if len(cur.Tasks) > 0 {
		out = append(out, cur)
	}
	return out
}

// MaintainNow runs maintenance on the lake table of a source table now,
// whatever maintenance.interval.ms says. The table must have been opened
// (written) by this format.
func (f *Format) MaintainNow(ctx context.Context, db, tbl string) (MaintenanceResult, error) {
	key := strings.Join(f.Identifier(db, tbl), ".")
	w, ok := f.writers[key]
	if !ok {
		return MaintenanceResult{}, fmt.Errorf("table %s was not opened by this task", key)
	}
	return w.MaintainNow(ctx)
}
