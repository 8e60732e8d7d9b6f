package hudi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"gocloud.dev/blob"
	"gocloud.dev/blob/s3blob"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/spec"
	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/sink/lake"
)

func init() {
	lake.RegisterFormat(lake.FormatHudi, func(ctx context.Context, tc *connect.TaskContext) (lake.Format, error) {
		return OpenFormat(ctx, tc)
	})
}

// Format is the Hudi copy-on-write format opened for one lake-sink task:
// one bucket (the warehouse) and a Writer per table. Tables live at
// "<warehouse>/<namespace>/<table>" (namespace levels as directories).
type Format struct {
	bucket     *blob.Bucket
	root       string // key prefix of the warehouse in the bucket ("" or "a/b")
	connector  string
	namespace  string
	nameFormat string
	// partitionFields and hiveStyle lay out new tables (partition.spec,
	// identity transforms only); existing tables keep their layout.
	partitionFields []string
	hiveStyle       bool
	logger          *slog.Logger
	writers         map[string]*tableWriter
}

var _ lake.Format = (*Format)(nil)

// OpenFormat opens the warehouse of a task's config (iceberg.warehouse:
// file:///path, /path or s3://bucket/prefix; default file://<data
// dir>/warehouse) for Hudi tables.
func OpenFormat(ctx context.Context, tc *connect.TaskContext) (*Format, error) {
	cfg := tc.Config
	bucket, root, err := openWarehouse(ctx, cfg, tc.DataDir)
	if err != nil {
		return nil, err
	}
	fields, err := partitionFields(spec.GetString(cfg, lake.KeyPartitionSpec))
	if err != nil {
		_ = bucket.Close()
		return nil, err
	}
	hive, err := hiveStylePartitioning(cfg)
	if err != nil {
		_ = bucket.Close()
		return nil, err
	}
	logger := tc.Logger
	if logger == nil {
		logger = slog.Default()
	}
	return &Format{
		bucket:          bucket,
		root:            root,
		connector:       tc.Connector,
		namespace:       spec.GetString(cfg, lake.KeyNamespace),
		nameFormat:      spec.GetString(cfg, lake.KeyTableNameFormat),
		partitionFields: fields,
		hiveStyle:       hive,
		logger:          logger,
		writers:         map[string]*tableWriter{},
	}, nil
}

// KeyHiveStylePartitioning is the table property (iceberg.table.properties.
// prefix) that makes new Hudi tables use hive-style partition paths
// (field=value); Hudi's default, and binlake's, is plain values.
const KeyHiveStylePartitioning = lake.PrefixTableProps + PropHiveStylePartition

// partitionFields turns partition.spec into Hudi partition fields: Hudi's
// key generators partition by column values, so only identity terms (bare
// column names or identity(col)) are accepted.
func partitionFields(text string) ([]string, error) {
	cols, err := lake.IdentityColumns(text)
	if err != nil {
		return nil, connect.Terminal(fmt.Errorf("%s: %w", lake.KeyPartitionSpec, err), "fix "+lake.KeyPartitionSpec)
	}
	return cols, nil
}

func hiveStylePartitioning(cfg connect.Config) (bool, error) {
	v := strings.TrimSpace(cfg[KeyHiveStylePartitioning])
	switch strings.ToLower(v) {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, connect.Terminal(fmt.Errorf("%s is %q, not true or false", KeyHiveStylePartitioning, v), "set it to true or false")
}

// openWarehouse opens the bucket of the configured warehouse and returns
// it with the key prefix of the warehouse inside it.
func openWarehouse(ctx context.Context, cfg connect.Config, dataDir string) (*blob.Bucket, string, error) {
	wh := strings.TrimSpace(spec.GetString(cfg, lake.KeyWarehouse))
	switch {
	case wh == "":
		if dataDir == "" {
			return nil, "", fmt.Errorf("%s is empty and the task has no data directory", lake.KeyWarehouse)
		}
		wh = filepath.Join(dataDir, "warehouse")
	case strings.HasPrefix(wh, "file://"):
		wh = strings.TrimPrefix(wh, "file://")
	}
	if strings.HasPrefix(wh, "s3://") || strings.HasPrefix(wh, "s3a://") {
		return openS3Warehouse(ctx, cfg, wh)
	}
	if !filepath.IsAbs(wh) {
		abs, err := filepath.Abs(wh)
		if err != nil {
			return nil, "", fmt.Errorf("resolving warehouse directory: %w", err)
		}
		wh = abs
	}
	b, err := OpenLocalBucket(wh)
	if err != nil {
		return nil, "", err
	}
	return b, "", nil
}

// openS3Warehouse opens s3://bucket/prefix with the s3.* keys: endpoint,
// region, static credentials (else the default AWS chain) and path style.
func openS3Warehouse(ctx context.Context, cfg connect.Config, wh string) (*blob.Bucket, string, error) {
	rest := strings.TrimPrefix(strings.TrimPrefix(wh, "s3a://"), "s3://")
	name, prefix, _ := strings.Cut(rest, "/")
	if name == "" {
		return nil, "", connect.Terminal(fmt.Errorf("warehouse %q names no bucket", wh), "use s3://bucket/prefix")
	}
	region := spec.GetString(cfg, lake.KeyS3Region)
	if region == "" {
		region = "us-east-1"
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(region))
	if err != nil {
		return nil, "", fmt.Errorf("loading AWS configuration: %w", err)
	}
	if id := spec.GetString(cfg, lake.KeyS3AccessKeyID); id != "" {
		awsCfg.Credentials = credentials.NewStaticCredentialsProvider(id, cfg[lake.KeyS3SecretAccessKey], "")
	}
	endpoint := spec.GetString(cfg, lake.KeyS3Endpoint)
	pathStyle := strings.TrimSpace(cfg[lake.KeyS3PathStyle])
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		o.UsePathStyle = pathStyle == "" || strings.EqualFold(pathStyle, "true")
	})
	b, err := s3blob.OpenBucket(ctx, client, name, nil)
	if err != nil {
		return nil, "", fmt.Errorf("opening S3 bucket %s: %w", name, err)
	}
	return b, strings.Trim(prefix, "/"), nil
}

// Bucket returns the warehouse bucket (tests read tables through it).
func (f *Format) Bucket() *blob.Bucket { return f.bucket }

// BasePath returns the key of a source table's lake table in the bucket
// ("<warehouse prefix>/<namespace>/<table>").
func (f *Format) BasePath(db, tbl string) string {
	ns := f.namespace
	if ns == "" {
		ns = db
	}
	return joinKey(f.root, strings.ReplaceAll(ns, ".", "/"), lake.TableName(f.nameFormat, db, tbl))
}

// Table returns the writer of the lake table for t, creating the table on
// first use. Hudi tables are upsert tables keyed by the primary key: append
// mode and tables without a primary key are refused.
func (f *Format) Table(ctx context.Context, t *schema.Table, mode lake.Mode) (lake.TableWriter, error) {
	base := f.BasePath(t.Database, t.Name)
	if w, ok := f.writers[base]; ok {
		return w, nil
	}
	if mode != lake.ModeUpsert || !t.HasPrimaryKey() {
		return nil, connect.Terminal(
			fmt.Errorf("table %s: lake.format=hudi supports upsert tables with a primary key only (write.mode=%s, primary key: %v)", t.QualifiedName(), mode, t.HasPrimaryKey()),
			"use lake.format=iceberg for changelogs (write.mode=append) and tables without a primary key, or exclude the table")
	}
	if err := t.Validate(); err != nil {
		return nil, connect.Terminal(err, "the source schema is invalid; check the source connector")
	}
	if err := checkColumns(t); err != nil {
		return nil, connect.Terminal(err, "rename or exclude the column")
	}
	// partition.spec lays out new tables only: check its columns when the
	// table is to be created.
	if _, err := newStorage(f.bucket, base).read(ctx, propertiesFile); errors.Is(err, errNotFound) {
		for _, c := range f.partitionFields {
			if t.ColumnIndex(c) < 0 {
				return nil, connect.Terminal(fmt.Errorf("table %s: partition column %q (%s) is not a column of the table", t.QualifiedName(), c, lake.KeyPartitionSpec),
					"name columns every captured table has in "+lake.KeyPartitionSpec+", or use one connector per table layout")
			}
		}
	} else if err != nil {
		return nil, fmt.Errorf("opening hudi table %s: %w", base, err)
	}
	w, err := Open(ctx, Options{
		Bucket: f.bucket, BasePath: base, Table: t,
		PartitionField: strings.Join(f.partitionFields, ","), HiveStylePartitioning: f.hiveStyle, AdoptPartitioning: true,
	})
	if err != nil {
		return nil, fmt.Errorf("opening hudi table %s: %w", base, err)
	}
	if got, want := w.PartitionFields(), strings.Join(f.partitionFields, ","); !strings.EqualFold(got, want) {
		f.logger.Warn("the existing hudi table keeps its partitioning; partition.spec applies to new tables only",
			"table", base, "partition_fields", got, "partition_spec", want)
	}
	tw := &tableWriter{f: f, base: base, w: w}
	f.writers[base] = tw
	return tw, nil
}

// Committed finds the Hudi tables of the configured namespace (every
// namespace directory of the warehouse when iceberg.namespace is unset) and
// returns, per table this connector committed to, the committed position
// keyed by "<namespace>.<table>".
func (f *Format) Committed(ctx context.Context) (map[string]lake.Position, error) {
	var namespaces []string
	if f.namespace != "" {
		namespaces = []string{strings.ReplaceAll(f.namespace, ".", "/")}
	} else {
		dirs, err := listDirs(ctx, f.bucket, f.root)
		if err != nil {
			return nil, err
		}
		namespaces = dirs
	}
	out := map[string]lake.Position{}
	for _, ns := range namespaces {
		tables, err := listDirs(ctx, f.bucket, joinKey(f.root, ns))
		if err != nil {
			return nil, err
		}
		for _, tbl := range tables {
			st := newStorage(f.bucket, joinKey(f.root, ns, tbl))
			if _, err := st.read(ctx, propertiesFile); errors.Is(err, errNotFound) {
				continue // not a Hudi table
			} else if err != nil {
				return nil, err
			}
			pos, ok, err := committedPosition(ctx, st, f.connector)
			if err != nil {
				return nil, fmt.Errorf("reading committed position of %s/%s: %w", ns, tbl, err)
			}
			if ok {
				out[strings.ReplaceAll(ns, "/", ".")+"."+tbl] = pos
			}
		}
	}
	return out, nil
}

// listDirs returns the names of the direct sub-directories of dir.
func listDirs(ctx context.Context, b *blob.Bucket, dir string) ([]string, error) {
	objs, err := newStorage(b, dir).list(ctx, "", false)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, o := range objs {
		if name, ok := strings.CutSuffix(o.Key, "/"); ok && name != "" && !strings.HasPrefix(name, ".") {
			out = append(out, name)
		}
	}
	return out, nil
}

// committedPosition walks the completed commits of a table newest first to
// the latest one this connector wrote and decodes its position.
func committedPosition(ctx context.Context, st *storage, connector string) (lake.Position, bool, error) {
	tl, err := loadTimeline(ctx, st)
	if err != nil {
		return lake.Position{}, false, err
	}
	commits := tl.completedCommits()
	for i := len(commits) - 1; i >= 0; i-- {
		cm, err := readCommitMetadata(ctx, st, commits[i])
		if err != nil {
			return lake.Position{}, false, err
		}
		m := cm.ExtraMetadata
		if _, ok := m[MetaCommitID]; ok && m[MetaConnector] == connector {
			pos, err := lake.DecodePosition(m[MetaOffsets], m[MetaSequences])
			return pos, err == nil, err
		}
	}
	return lake.Position{}, false, nil
}

// Close closes the table writers and the bucket.
func (f *Format) Close() error {
	var errs []error
	for _, w := range f.writers {
		errs = append(errs, w.w.Close())
	}
	f.writers = map[string]*tableWriter{}
	errs = append(errs, f.bucket.Close())
	return errors.Join(errs...)
}

// tableWriter adapts a Writer to lake.TableWriter.
type tableWriter struct {
	f    *Format
	base string
	w    *Writer
}

var _ lake.TableWriter = (*tableWriter)(nil)

// Mode is always upsert: Hudi tables are keyed by the primary key.
func (tw *tableWriter) Mode() lake.Mode { return lake.ModeUpsert }

// Committed returns the position of the connector's latest commit.
func (tw *tableWriter) Committed(ctx context.Context) (lake.Position, bool, error) {
	last, ok, err := tw.w.LastCommitted(ctx)
	if err != nil {
		return lake.Position{}, false, fmt.Errorf("reading last commit of %s: %w", tw.base, err)
	}
	if !ok {
		return lake.Position{}, false, nil
	}
	if last.Meta[MetaConnector] != tw.f.connector {
		// Another connector committed last: find this one's latest.
		return committedPosition(ctx, tw.w.st, tw.f.connector)
	}
	pos, err := lake.DecodePosition(last.Meta[MetaOffsets], last.Meta[MetaSequences])
	if err != nil {
		return lake.Position{}, false, fmt.Errorf("reading last commit of %s: %w", tw.base, err)
	}
	return pos, true, nil
}

// Maintain is a no-op: the writer cleans old file versions and trims the
// timeline on every commit.
func (tw *tableWriter) Maintain(context.Context) error { return nil }

// Write commits a batch as one Hudi commit carrying the batch's position.
// A truncate deletes every record first; then the batch's touched keys are
// deleted and their last images upserted (the last change of a key wins).
func (tw *tableWriter) Write(ctx context.Context, b *lake.Batch) error {
	if b.Mode != lake.ModeUpsert {
		return connect.Terminal(fmt.Errorf("hudi table %s: %s batches are not supported", tw.base, b.Mode),
			"lake.format=hudi supports upsert tables with a primary key; use lake.format=iceberg for changelogs")
	}
	target, err := tw.target(b.Table)
	if err != nil {
		return err
	}
	changes := make([]Change, 0, len(b.Deletes)+len(b.Upserts))
	if b.Truncate {
		all, err := tw.w.truncateChanges(ctx)
		if err != nil {
			return fmt.Errorf("truncating hudi table %s: %w", tw.base, err)
		}
		changes = append(changes, all...)
	}
	for _, set := range []struct {
		rows   []lake.Row
		delete bool
	}{{b.Deletes, true}, {b.Upserts, false}} {
		for _, r := range set.rows {
			row, err := adaptRow(r, target)
			if err != nil {
				return connect.Terminal(fmt.Errorf("hudi table %s: %w", tw.base, err), "Hudi tables accept added nullable columns and int->long, float->double widening; recreate the table for other changes")
			}
			changes = append(changes, Change{Delete: set.delete, Row: row})
		}
	}
	meta := map[string]string{
		MetaConnector: tw.f.connector,
		MetaCommitID:  b.CommitID,
		MetaOffsets:   b.Position.EncodeOffsets(),
		MetaSequences: b.Position.EncodeSequences(),
	}
	if _, err := tw.w.Commit(ctx, target, changes, meta); err != nil {
		return fmt.Errorf("committing to hudi table %s: %w", tw.base, err)
	}
	return nil
}

// target is the table version a batch is written in: the batch's newest
// version, or the table's current one when the batch only has older rows.
// Schema changes Hudi cannot take are terminal.
func (tw *tableWriter) target(t *schema.Table) (*schema.Table, error) {
	cur := tw.w.Schema()
	if t == nil || t == cur || t.SameColumns(cur) {
		if t == nil {
			return cur, nil
		}
		return t, nil
	}
	if err := checkColumns(t); err != nil {
		return nil, connect.Terminal(err, "rename or exclude the column")
	}
	err := checkEvolution(cur, t)
	if err == nil {
		return t, nil
	}
	if checkEvolution(t, cur) == nil {
		return cur, nil
	}
	return nil, connect.Terminal(fmt.Errorf("hudi table %s: %w", tw.base, err),
		"Hudi tables accept added nullable columns and int->long, float->double widening; recreate the table for other changes")
}

// adaptRow aligns a row image with the target table version.
func adaptRow(r lake.Row, target *schema.Table) ([]any, error) {
	if r.Schema == nil || r.Schema == target || r.Schema.SameColumns(target) {
		return r.Values, nil
	}
	if err := checkEvolution(r.Schema, target); err != nil {
		return nil, err
	}
	out, err := adaptChanges(r.Schema, target, []Change{{Row: r.Values}})
	if err != nil {
		return nil, err
	}
	return out[0].Row, nil
}

// truncateChanges returns a delete of every record key of the table.
func (w *Writer) truncateChanges(ctx context.Context) ([]Change, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil, errors.New("listing record keys: writer is closed")
	}
	if w.needRecover {
		if err := w.recover(ctx); err != nil {
			return nil, err
		}
	}
	out := make([]Change, 0, len(w.index))
	for _, k := range sortedKeys(w.index) {
		out = append(out, Change{Delete: true, key: k})
	}
	return out, nil
}
