package hudi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"gocloud.dev/blob"
)

// Footer keys of Hudi base files.
const (
	footerAvroSchema      = "parquet.avro.schema"
	footerWriterModel     = "writer.model.name"
	footerMinRecordKey    = "hoodie_min_record_key"
	footerMaxRecordKey    = "hoodie_max_record_key"
	footerBloomFilter     = "org.apache.hudi.bloomfilter"
	footerBloomFilterType = "hoodie_bloom_filter_type_code"
)

// baseFileName is "<fileId>_<writeToken>_<instant>.parquet".
func baseFileName(fileID, writeToken, instant string) string {
	return fileID + "_" + writeToken + "_" + instant + ".parquet"
}

// parseBaseFileName splits a base file name; ok is false for other files.
func parseBaseFileName(name string) (fileID, writeToken, instant string, ok bool) {
	base, found := strings.CutSuffix(name, ".parquet")
	if !found {
		return "", "", "", false
	}
	parts := strings.Split(base, "_")
	if len(parts) != 3 || parts[0] == "" || parts[2] == "" {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

// compressionCodec maps a configured name to a Parquet codec.
func compressionCodec(name string) (compress.Compression, error) {
	switch strings.ToLower(name) {
	case "", "snappy":
		return compress.Codecs.Snappy, nil
	case "zstd":
		return compress.Codecs.Zstd, nil
	case "gzip":
		return compress.Codecs.Gzip, nil
	case "none", "uncompressed":
		return compress.Codecs.Uncompressed, nil
	}
	return compress.Codecs.Uncompressed, fmt.Errorf("unknown parquet compression %q (snappy, zstd, gzip, none)", name)
}

// baseFileSpec is what a base file's footer says besides the data.
type baseFileSpec struct {
	avroSchema   string
	minKey       string
	maxKey       string
	bloom        string // serialized bloom filter, "" for none
	bloomType    string
	codec        compress.Compression
	rowGroupRows int64
	// uniqueColumns hold a different value in every row (a one-column
	// record key): a dictionary would only cost memory and time before
	// the encoder falls back to plain.
	uniqueColumns []string
}

// countingWriter counts the bytes of a file as it is written.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// baseFileWriter streams rows into a new base file. Rows are buffered per
// row group (RowGroupRows), so memory is bounded by one row group whatever
// the file size; the object appears atomically on close.
type baseFileWriter struct {
	rel    string
	cancel context.CancelFunc
	bw     *blob.Writer
	cw     *countingWriter
	fw     *pqarrow.FileWriter
	rows   int64
	closed bool
}

func newBaseFileWriter(ctx context.Context, st *storage, rel string, sc *arrow.Schema, spec baseFileSpec) (*baseFileWriter, error) {
	ctx, cancel := context.WithCancel(ctx) // cancelling discards an unfinished blob write
	bw, err := st.bucket.NewWriter(ctx, st.key(rel), nil)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("creating base file %s: %w", rel, err)
	}
	cw := &countingWriter{w: bw}
	opts := []parquet.WriterProperty{
		parquet.WithCompression(spec.codec),
		parquet.WithMaxRowGroupLength(spec.rowGroupRows),
		parquet.WithStats(true),
		parquet.WithDictionaryDefault(true),
		// Unique per row: a dictionary only costs time before it falls back.
		parquet.WithDictionaryFor(FieldCommitSeqno, false),
		parquet.WithDictionaryFor(FieldRecordKey, false),
		parquet.WithCreatedBy("binlake hudi writer (parquet-go arrow v18)"),
	}
	for _, c := range spec.uniqueColumns {
		opts = append(opts, parquet.WithDictionaryFor(c, false))
	}
	props := parquet.NewWriterProperties(opts...)
	fw, err := pqarrow.NewFileWriter(sc, cw, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		cancel()
		_ = bw.Close()
		return nil, fmt.Errorf("starting parquet writer for %s: %w", rel, err)
	}
	return &baseFileWriter{rel: rel, cancel: cancel, bw: bw, cw: cw, fw: fw}, nil
}

// writeTable appends the rows of tbl (any chunking) to the current row
// group, starting new ones at the row-group limit.
func (b *baseFileWriter) writeTable(tbl arrow.Table) error {
	tr := array.NewTableReader(tbl, 64<<10)
	defer tr.Release()
	for tr.Next() {
		rec := tr.RecordBatch()
		if err := b.fw.WriteBuffered(rec); err != nil {
			return fmt.Errorf("writing rows of %s: %w", b.rel, err)
		}
		b.rows += rec.NumRows()
	}
	if err := tr.Err(); err != nil {
		return fmt.Errorf("writing rows of %s: %w", b.rel, err)
	}
	return nil
}

// close writes the footer (Hudi's key-value metadata) and publishes the
// file; it returns the file size.
func (b *baseFileWriter) close(spec baseFileSpec) (int64, error) {
	b.closed = true
	kv := [][2]string{
		{footerAvroSchema, spec.avroSchema},
		{footerWriterModel, "avro"},
	}
	if b.rows > 0 {
		kv = append(kv, [2]string{footerMinRecordKey, spec.minKey}, [2]string{footerMaxRecordKey, spec.maxKey})
		if spec.bloom != "" {
			kv = append(kv, [2]string{footerBloomFilter, spec.bloom}, [2]string{footerBloomFilterType, spec.bloomType})
		}
	}
	for _, p := range kv {
		if err := b.fw.AppendKeyValueMetadata(p[0], p[1]); err != nil {
			b.abort()
			return 0, fmt.Errorf("adding footer %s to %s: %w", p[0], b.rel, err)
		}
	}
	if err := b.fw.Close(); err != nil {
		b.abort()
		return 0, fmt.Errorf("closing parquet writer of %s: %w", b.rel, err)
	}
	defer b.cancel()
	if err := b.bw.Close(); err != nil {
		return 0, fmt.Errorf("publishing base file %s: %w", b.rel, err)
	}
	return b.cw.n, nil
}

// abort discards the file; safe to call after close.
func (b *baseFileWriter) abort() {
	b.cancel()
	_ = b.bw.Close() // with the context cancelled the object is not published
}

// baseFileReader streams a base file in record batches through range
// reads.
type baseFileReader struct {
	pf *file.Reader
	fr *pqarrow.FileReader
}

// readBatchRows is the size of the record batches a base file is read in:
// a rewrite holds a few copies of one batch, not of a whole row group.
const readBatchRows = 16 << 10

func openBaseFile(ctx context.Context, st *storage, rel string, mem memory.Allocator) (*baseFileReader, error) {
	ra, err := st.readerAt(ctx, rel)
	if err != nil {
		return nil, err
	}
	pf, err := file.NewParquetReader(ra, file.WithReadProps(parquet.NewReaderProperties(mem)))
	if err != nil {
		return nil, fmt.Errorf("opening base file %s: %w", rel, err)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: readBatchRows}, mem)
	if err != nil {
		_ = pf.Close()
		return nil, fmt.Errorf("opening base file %s: %w", rel, err)
	}
	return &baseFileReader{pf: pf, fr: fr}, nil
}

// batches calls fn with every record batch of the file, every column, in
// order; a batch is released when fn returns.
func (r *baseFileReader) batches(ctx context.Context, fn func(arrow.RecordBatch) error) error {
	if r.pf.NumRowGroups() == 0 {
		return nil
	}
	rr, err := r.fr.GetRecordReader(ctx, nil, nil)
	if err != nil {
		return err
	}
	defer rr.Release()
	for rr.Next() {
		if err := fn(rr.RecordBatch()); err != nil {
			return err
		}
	}
	if err := rr.Err(); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

func (r *baseFileReader) close() { _ = r.pf.Close() }

// readBaseFileKeys reads the _hoodie_record_key column of a base file, and
// the footer's key-value metadata.
func readBaseFileKeys(ctx context.Context, st *storage, rel string, mem memory.Allocator) ([]string, map[string]string, error) {
	ra, err := st.readerAt(ctx, rel)
	if err != nil {
		return nil, nil, err
	}
	pf, err := file.NewParquetReader(ra, file.WithReadProps(parquet.NewReaderProperties(mem)))
	if err != nil {
		return nil, nil, fmt.Errorf("opening base file %s: %w", rel, err)
	}
	defer func() { _ = pf.Close() }()
	kv := map[string]string{}
	for _, k := range pf.MetaData().KeyValueMetadata().Keys() {
		if k == footerBloomFilter {
			continue
		}
		if v := pf.MetaData().KeyValueMetadata().FindValue(k); v != nil {
			kv[k] = *v
		}
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 64 << 10}, mem)
	if err != nil {
		return nil, nil, fmt.Errorf("opening base file %s: %w", rel, err)
	}
	sc, err := fr.Schema()
	if err != nil {
		return nil, nil, fmt.Errorf("reading schema of %s: %w", rel, err)
	}
	idx := sc.FieldIndices(FieldRecordKey)
	if len(idx) != 1 {
		return nil, nil, fmt.Errorf("base file %s has no %s column", rel, FieldRecordKey)
	}
	tbl, err := fr.ReadRowGroups(ctx, idx, allRowGroups(pf.NumRowGroups()))
	if err != nil {
		return nil, nil, fmt.Errorf("reading record keys of %s: %w", rel, err)
	}
	defer tbl.Release()
	keys := make([]string, 0, tbl.NumRows())
	for _, ch := range tbl.Column(0).Data().Chunks() {
		sa, ok := ch.(*array.String)
		if !ok {
			return nil, nil, fmt.Errorf("base file %s: %s is %s, not a string", rel, FieldRecordKey, ch.DataType())
		}
		for i := 0; i < sa.Len(); i++ {
			if sa.IsNull(i) {
				return nil, nil, fmt.Errorf("base file %s has a null record key at row %d", rel, i)
			}
			keys = append(keys, strings.Clone(sa.Value(i))) // outlives the buffer
		}
	}
	return keys, kv, nil
}

func allRowGroups(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}
