package verify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	_ "github.com/apache/iceberg-go/catalog/rest" // registers the REST catalog
	sqlcat "github.com/apache/iceberg-go/catalog/sql"
	iceio "github.com/apache/iceberg-go/io"
	_ "github.com/apache/iceberg-go/io/gocloud/s3" // registers s3:// file IO
	"github.com/apache/iceberg-go/table"
	_ "modernc.org/sqlite" // the pure-Go SQLite driver "sqlite"

	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/sink/lake"
	"github.com/binlake/binlake/sink/lake/hudi"
)

// LakeConfig says where the lake tables are and how the sink named them;
// the fields mirror the lake-sink keys (sink/lake/config.go).
type LakeConfig struct {
	// Format is the sink's lake.format: iceberg (default) or hudi. Hudi
	// tables are found under Warehouse; the catalog keys are unused.
	Format string
	// CatalogType is sql (a SQLite file, CatalogURI) or rest (CatalogURI is
	// the REST catalog's URL).
	CatalogType string
	CatalogURI  string
	CatalogName string
	// Warehouse is file:///path or s3://bucket/prefix.
	Warehouse         string
	S3Endpoint        string
	S3Region          string
	S3AccessKeyID     string
	S3SecretAccessKey string
	S3PathStyle       bool
	// Namespace of the lake tables (dots separate levels); empty: the
	// source database, as the sink does.
	Namespace string
	// TableNameFormat is iceberg.table.name.format ({db}, {table}).
	TableNameFormat string
}

// Lake is an opened Iceberg catalog, or a Hudi warehouse.
type Lake struct {
	cat        catalog.Catalog
	db         *sql.DB
	hudi       *hudi.Format
	namespace  string
	nameFormat string
}

// OpenLake opens the catalog (or the Hudi warehouse). An sql catalog's
// SQLite file must exist: verify never creates one.
func OpenLake(ctx context.Context, c LakeConfig) (*Lake, error) {
	switch c.Format {
	case "", lake.FormatIceberg:
	case lake.FormatHudi:
		f, err := openHudi(ctx, c)
		if err != nil {
			return nil, err
		}
		return &Lake{hudi: f, namespace: c.Namespace, nameFormat: c.TableNameFormat}, nil
	default:
		return nil, fmt.Errorf("unknown lake format %q: use iceberg or hudi", c.Format)
	}
	props := iceberg.Properties{}
	if wh := c.Warehouse; wh != "" {
		if strings.HasPrefix(wh, "/") {
			wh = "file://" + wh
		}
		props["warehouse"] = strings.TrimSuffix(wh, "/")
	}
	if c.S3Endpoint != "" {
		props[iceio.S3EndpointURL] = c.S3Endpoint
	}
	if c.S3Region != "" {
		props[iceio.S3Region] = c.S3Region
	}
	if c.S3AccessKeyID != "" {
		props[iceio.S3AccessKeyID] = c.S3AccessKeyID
	}
	if c.S3SecretAccessKey != "" {
		props[iceio.S3SecretAccessKey] = c.S3SecretAccessKey
	}
	props[iceio.S3ForceVirtualAddressing] = fmt.Sprint(!c.S3PathStyle)
	name := c.CatalogName
	if name == "" {
		name = lake.DefaultCatalogName
	}
	l := &Lake{namespace: c.Namespace, nameFormat: c.TableNameFormat}
	switch c.CatalogType {
	case "", lake.CatalogTypeSQL:
		path := strings.TrimPrefix(c.CatalogURI, "sqlite://")
		if path == "" {
			return nil, errors.New("the sql catalog needs its SQLite file (--iceberg.catalog.uri)")
		}
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("opening sql catalog: %w", err)
		}
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
		if err != nil {
			return nil, fmt.Errorf("opening sqlite catalog %s: %w", path, err)
		}
		props["init_catalog_tables"] = "false" // verify only reads
		cat, err := sqlcat.NewCatalog(name, db, sqlcat.SQLite, props)
		if err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("opening sql catalog %s: %w", path, err)
		}
		l.cat, l.db = cat, db
	case lake.CatalogTypeREST:
		if c.CatalogURI == "" {
			return nil, errors.New("the rest catalog needs its URL (--iceberg.catalog.uri)")
		}
		props["uri"] = c.CatalogURI
		props["type"] = "rest"
		cat, err := catalog.Load(ctx, name, props)
		if err != nil {
			return nil, fmt.Errorf("opening rest catalog %s: %w", c.CatalogURI, err)
		}
		l.cat = cat
	default:
		return nil, fmt.Errorf("unknown catalog type %q: use sql or rest", c.CatalogType)
	}
	return l, nil
}

// Close closes the catalog.
func (l *Lake) Close() error {
	if l.hudi != nil {
		return l.hudi.Close()
	}
	var err error
	if cl, ok := l.cat.(catalog.Closer); ok {
		err = cl.Close()
	}
	if l.db != nil {
		if e := l.db.Close(); e != nil && err == nil {
			err = e
		}
	}
	return err
}

// Identifier returns the lake table a source table is written to, named
// as the sink names it.
func (l *Lake) Identifier(db, tbl string) table.Identifier {
	ns := l.namespace
	if ns == "" {
		ns = db
	}
	return append(strings.Split(ns, "."), lake.TableName(l.nameFormat, db, tbl))
}

// Present returns the tables of refs that have a lake table.
func (l *Lake) Present(ctx context.Context, refs []TableRef) ([]TableRef, error) {
	var out []TableRef
	if l.hudi != nil {
		for _, r := range refs {
			ok, err := l.hudi.Bucket().Exists(ctx, l.hudi.BasePath(r.DB, r.Name)+"/.hoodie/hoodie.properties")
			if err != nil {
				return nil, fmt.Errorf("looking for the hudi table of %s: %w", r, err)
			}
			if ok {
				out = append(out, r)
			}
		}
		return out, nil
	}
	present, err := l.tables(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range refs {
		if present[strings.Join(l.Identifier(r.DB, r.Name), ".")] {
			out = append(out, r)
		}
	}
	return out, nil
}

// tables returns the Iceberg tables (joined identifiers) of the configured
// namespace, or of every top-level namespace when none is configured.
func (l *Lake) tables(ctx context.Context) (map[string]bool, error) {
	var namespaces []table.Identifier
	if l.namespace != "" {
		namespaces = []table.Identifier{strings.Split(l.namespace, ".")}
	} else {
		ns, err := l.cat.ListNamespaces(ctx, nil)
		if err != nil {
			return nil, fmt.Errorf("listing lake namespaces: %w", err)
		}
		namespaces = ns
	}
	out := map[string]bool{}
	for _, ns := range namespaces {
		for ident, err := range l.cat.ListTables(ctx, ns) {
			if errors.Is(err, catalog.ErrNoSuchNamespace) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("listing lake tables of %s: %w", strings.Join(ns, "."), err)
			}
			out[strings.Join(ident, ".")] = true
		}
	}
	return out, nil
}

// LoadTable loads a lake table; it returns nil, nil when there is none.
func (l *Lake) LoadTable(ctx context.Context, ident table.Identifier) (*table.Table, error) {
	tbl, err := l.cat.LoadTable(ctx, ident)
	if errors.Is(err, catalog.ErrNoSuchTable) || errors.Is(err, catalog.ErrNoSuchNamespace) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("loading lake table %s: %w", strings.Join(ident, "."), err)
	}
	return tbl, nil
}

// LakeTable reads the compared columns of one lake table at one snapshot,
// with equality and position deletes applied by iceberg-go's scan.
type LakeTable struct {
	tbl    *table.Table
	snap   int64
	cols   []Column
	fields []string
	keys   []int
}

var _ Side = (*LakeTable)(nil)

// NewLakeTable reads fields (lake field names, aligned with cols) of tbl at
// its current snapshot; keys index the key columns in cols.
func NewLakeTable(tbl *table.Table, cols []Column, fields []string, keys []int) *LakeTable {
	t := &LakeTable{tbl: tbl, cols: cols, fields: fields, keys: keys}
	if s := tbl.CurrentSnapshot(); s != nil {
		t.snap = s.SnapshotID
	}
	return t
}

// SnapshotID returns the snapshot read (0: the table has none).
func (t *LakeTable) SnapshotID() int64 { return t.snap }

// Scan reads every live row of the snapshot.
func (t *LakeTable) Scan(ctx context.Context, fn func(Row) error) error {
	return t.scanValues(ctx, func(vals []any) error { return fn(t.row(vals)) })
}

// scanValues calls fn with the Go values of every live row of the
// snapshot, aligned with t.fields; fn must not keep vals.
func (t *LakeTable) scanValues(ctx context.Context, fn func(vals []any) error) error {
	if t.snap == 0 {
		return nil // no snapshot yet: an empty table
	}
	scan := t.tbl.Scan(table.WithSelectedFields(t.fields...), table.WithSnapshotID(t.snap))
	defer func() { _ = scan.Close() }()
	_, recs, err := scan.ToArrowRecords(ctx)
	if err != nil {
		return fmt.Errorf("planning the scan: %w", err)
	}
	for rec, err := range recs {
		if err != nil {
			return fmt.Errorf("scanning: %w", err)
		}
		err = t.record(rec, fn)
		rec.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

func (t *LakeTable) record(rec arrow.RecordBatch, fn func(vals []any) error) error {
	cols := make([]arrow.Array, len(t.fields))
	for i, f := range t.fields {
		idx := rec.Schema().FieldIndices(f)
		if len(idx) == 0 {
			return fmt.Errorf("the scan returned no column %q", f)
		}
		cols[i] = rec.Column(idx[0])
	}
	vals := make([]any, len(cols))
	for ri := 0; ri < int(rec.NumRows()); ri++ {
		for i, a := range cols {
			v, err := arrowValue(a, ri, t.cols[i])
			if err != nil {
				return fmt.Errorf("reading column %q: %w", t.fields[i], err)
			}
			vals[i] = v
		}
		if err := fn(vals); err != nil {
			return err
		}
	}
	return nil
}

// row builds the compared row of the values of t.cols (extra trailing
// values are ignored).
func (t *LakeTable) row(vals []any) Row {
	r := Row{Key: make([]any, len(t.keys)), Cells: make([]Cell, len(t.cols))}
	for i := range r.Cells {
		r.Cells[i] = Canon(t.cols[i], vals[i])
	}
	for j, ci := range t.keys {
		r.Key[j] = vals[ci]
	}
	return r
}

// arrowValue returns the binlake Go value of an Arrow cell for column c:
// the inverse of the sink's appendValue, narrowing an Iceberg-promoted
// long back to an int32 kind when it fits.
func arrowValue(a arrow.Array, i int, c Column) (any, error) {
	if a.IsNull(i) {
		return nil, nil
	}
	switch x := a.(type) {
	case *array.Boolean:
		return x.Value(i), nil
	case *array.Int32:
		v := x.Value(i)
		if c.Kind == schema.KindInt64 {
			return int64(v), nil
		}
		return v, nil
	case *array.Int64:
		v := x.Value(i)
		if (c.Kind == schema.KindInt32 || c.Kind == schema.KindDate) && v == int64(int32(v)) {
			return int32(v), nil
		}
		return v, nil
	case *array.Float32:
		return x.Value(i), nil
	case *array.Float64:
		return x.Value(i), nil
	case *array.Decimal128:
		dt := x.DataType().(*arrow.Decimal128Type)
		return schema.Decimal{Unscaled: x.Value(i).BigInt(), Scale: dt.Scale}, nil
	case *array.String:
		return x.Value(i), nil
	case *array.LargeString:
		return x.Value(i), nil
	case *array.Binary:
		return append([]byte(nil), x.Value(i)...), nil
	case *array.LargeBinary:
		return append([]byte(nil), x.Value(i)...), nil
	case *array.FixedSizeBinary:
		return append([]byte(nil), x.Value(i)...), nil
	case *array.Date32:
		return int32(x.Value(i)), nil
	case *array.Time64:
		return toMicros(int64(x.Value(i)), x.DataType().(*arrow.Time64Type).Unit), nil
	case *array.Timestamp:
		return toMicros(int64(x.Value(i)), x.DataType().(*arrow.TimestampType).Unit), nil
	}
	return nil, fmt.Errorf("unsupported arrow type %s", a.DataType())
}

func toMicros(v int64, unit arrow.TimeUnit) int64 {
	switch unit {
	case arrow.Second:
		return v * 1_000_000
	case arrow.Millisecond:
		return v * 1_000
	case arrow.Nanosecond:
		return v / 1_000
	}
	return v
}
