package hudi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
	"gocloud.dev/gcerrors"
)

// OpenLocalBucket opens a directory of the local file system as a bucket the
// way the writer needs it: the directory is created when missing, objects are
// written to a temporary file beside the target and renamed into place (an
// atomic publish on one file system), and no metadata sidecar files are
// written (they would be foreign files in the table).
func OpenLocalBucket(dir string) (*blob.Bucket, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating table directory %s: %w", dir, err)
	}
	b, err := fileblob.OpenBucket(dir, &fileblob.Options{
		CreateDir: true,
		NoTempDir: true,
		Metadata:  fileblob.MetadataDontWrite,
	})
	if err != nil {
		return nil, fmt.Errorf("opening directory %s as a bucket: %w", dir, err)
	}
	return b, nil
}

// storage addresses the objects of one table: a bucket and the table's key
// prefix in it ("" or "path/to/table/"). Keys passed to its methods are
// relative to the table's base path, with "/" separators.
type storage struct {
	bucket *blob.Bucket
	prefix string
}

func newStorage(b *blob.Bucket, base string) *storage {
	base = strings.Trim(base, "/")
	if base != "" {
		base += "/"
	}
	return &storage{bucket: b, prefix: base}
}

func (s *storage) key(rel string) string { return s.prefix + rel }

// errNotFound is returned (wrapped) when an object does not exist.
var errNotFound = errors.New("object not found")

func (s *storage) read(ctx context.Context, rel string) ([]byte, error) {
	b, err := s.bucket.ReadAll(ctx, s.key(rel))
	if err != nil {
		if gcerrors.Code(err) == gcerrors.NotFound {
			return nil, fmt.Errorf("reading %s: %w", rel, errNotFound)
		}
		return nil, fmt.Errorf("reading %s: %w", rel, err)
	}
	return b, nil
}

// write publishes data under rel atomically: readers see the whole object or
// none of it (fileblob renames a temporary file, object stores publish on
// close).
func (s *storage) write(ctx context.Context, rel string, data []byte) error {
	if err := s.bucket.WriteAll(ctx, s.key(rel), data, nil); err != nil {
		return fmt.Errorf("writing %s: %w", rel, err)
	}
	return nil
}

// writeNew is write that fails when the object already exists: the
// precondition is checked by the store (fileblob, S3 If-None-Match), so two
// writers cannot both publish the same instant.
func (s *storage) writeNew(ctx context.Context, rel string, data []byte) error {
	if err := s.bucket.WriteAll(ctx, s.key(rel), data, &blob.WriterOptions{IfNotExist: true}); err != nil {
		if gcerrors.Code(err) == gcerrors.FailedPrecondition {
			return fmt.Errorf("writing %s: the object already exists (another writer?): %w", rel, err)
		}
		return fmt.Errorf("writing %s: %w", rel, err)
	}
	return nil
}

func (s *storage) delete(ctx context.Context, rel string) error {
	if err := s.bucket.Delete(ctx, s.key(rel)); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return fmt.Errorf("deleting %s: %w", rel, err)
	}
	return nil
}

// object is one listed object.
type object struct {
	Key  string // relative to the table's base path
	Size int64
}

// list returns the objects under the relative prefix dir ("" for the whole
// table), recursively when recursive is set, else only the direct children
// (directories are returned with a trailing "/" and IsDir semantics).
func (s *storage) list(ctx context.Context, dir string, recursive bool) ([]object, error) {
	opts := &blob.ListOptions{Prefix: s.key(dir)}
	if !recursive {
		opts.Delimiter = "/"
	}
	it := s.bucket.List(opts)
	var out []object
	for {
		o, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", dir, err)
		}
		rel := strings.TrimPrefix(o.Key, s.prefix)
		if o.IsDir && !strings.HasSuffix(rel, "/") {
			rel += "/"
		}
		out = append(out, object{Key: rel, Size: o.Size})
	}
}

// readerAt opens an object for random access: each ReadAt is a range read,
// which is what a Parquet reader needs (footer first, then column chunks).
func (s *storage) readerAt(ctx context.Context, rel string) (*rangeReader, error) {
	attrs, err := s.bucket.Attributes(ctx, s.key(rel))
	if err != nil {
		return nil, fmt.Errorf("reading attributes of %s: %w", rel, err)
	}
	return &rangeReader{ctx: ctx, s: s, key: s.key(rel), size: attrs.Size}, nil
}

// rangeReader implements parquet.ReaderAtSeeker over a blob. It keeps the
// context of the read it serves; it never outlives that call.
type rangeReader struct {
	ctx  context.Context //nolint:containedctx // lives only for one read call
	s    *storage
	key  string
	size int64
	pos  int64
}

func (r *rangeReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= r.size {
		return 0, io.EOF
	}
	n := int64(len(p))
	if off+n > r.size {
		n = r.size - off
	}
	rd, err := r.s.bucket.NewRangeReader(r.ctx, r.key, off, n, nil)
	if err != nil {
		return 0, fmt.Errorf("opening range of %s: %w", r.key, err)
	}
	defer func() { _ = rd.Close() }() // read-only: nothing to lose on close
	got, err := io.ReadFull(rd, p[:n])
	if err != nil {
		return got, fmt.Errorf("reading range of %s: %w", r.key, err)
	}
	if got < len(p) {
		return got, io.EOF
	}
	return got, nil
}

func (r *rangeReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.pos
	case io.SeekEnd:
		offset += r.size
	default:
		return 0, fmt.Errorf("seeking %s: bad whence %d", r.key, whence)
	}
	if offset < 0 {
		return 0, fmt.Errorf("seeking %s: negative position", r.key)
	}
	r.pos = offset
	return offset, nil
}

// joinKey joins relative key parts with "/" (partition "" is the base path).
func joinKey(parts ...string) string {
	var nz []string
	for _, p := range parts {
		if p != "" {
			nz = append(nz, p)
		}
	}
	return path.Join(nz...)
}
