package hudi

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"gocloud.dev/blob"
)

// SnapshotFile is the latest base file of one file group as of the latest
// completed commit.
type SnapshotFile struct {
	Partition string
	FileID    string
	Instant   string
	Path      string // relative to the table's base path
	Size      int64
}

// SnapshotFiles lists the files a snapshot query of the table reads: for
// every file group the latest base file written by a completed commit
// (requested and inflight instants are ignored, as Hudi readers do).
func SnapshotFiles(ctx context.Context, bucket *blob.Bucket, basePath string) ([]SnapshotFile, error) {
	if bucket == nil {
		return nil, errors.New("listing hudi snapshot: no bucket")
	}
	st := newStorage(bucket, basePath)
	return snapshotFiles(ctx, st)
}

func snapshotFiles(ctx context.Context, st *storage) ([]SnapshotFile, error) {
	tl, err := loadTimeline(ctx, st)
	if err != nil {
		return nil, err
	}
	listing, err := listTable(ctx, st)
	if err != nil {
		return nil, err
	}
	groups := buildFileGroups(listing, tl)
	out := make([]SnapshotFile, 0, len(groups))
	for _, g := range groups {
		f := g.latest()
		out = append(out, SnapshotFile{Partition: g.partition, FileID: g.fileID, Instant: f.instant, Path: g.path(f), Size: f.size})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Path < out[b].Path })
	return out, nil
}

// ReadSnapshot reads the latest snapshot of a copy-on-write table and hands
// each record batch to fn (released after fn returns; retain what you keep).
// Batches of files written with older schemas have those schemas.
func ReadSnapshot(ctx context.Context, bucket *blob.Bucket, basePath string, fn func(arrow.RecordBatch) error) error {
	if bucket == nil {
		return errors.New("reading hudi snapshot: no bucket")
	}
	st := newStorage(bucket, basePath)
	files, err := snapshotFiles(ctx, st)
	if err != nil {
		return err
	}
	mem := memory.DefaultAllocator
	for _, f := range files {
		if err := readFileBatches(ctx, st, f.Path, mem, fn); err != nil {
			return err
		}
	}
	return nil
}

func readFileBatches(ctx context.Context, st *storage, rel string, mem memory.Allocator, fn func(arrow.RecordBatch) error) error {
	r, err := openBaseFile(ctx, st, rel, mem)
	if err != nil {
		return err
	}
	defer r.close()
	if err := r.batches(ctx, fn); err != nil {
		return fmt.Errorf("reading %s: %w", rel, err)
	}
	return nil
}
