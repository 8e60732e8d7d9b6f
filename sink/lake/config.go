package lake

import (
	"fmt"
	"strings"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/spec"
)

// Names of the lake-sink keys (ARCHITECTURE.md 3.8). Format packages read
// their keys through these constants.
const (
	KeyFormat             = "lake.format"
	KeyWriteMode          = "write.mode"
	KeyCatalogType        = "iceberg.catalog.type"
	KeyCatalogURI         = "iceberg.catalog.uri"
	KeyCatalogName        = "iceberg.catalog.name"
	KeyWarehouse          = "iceberg.warehouse"
	KeyNamespace          = "iceberg.namespace"
	KeyTableNameFormat    = "iceberg.table.name.format"
	KeyPartitionSpec      = "partition.spec"
	KeyFlushMaxRows       = "flush.max.rows"
	KeyFlushMaxBytes      = "flush.max.bytes"
	KeyBufferMaxRows      = "buffer.max.rows"
	KeyBufferMaxBytes     = "buffer.max.bytes"
	KeyMaintenanceEvery   = "maintenance.interval.ms"
	KeyTargetFileSize     = "maintenance.target.file.size.bytes"
	KeySnapshotsRetain    = "maintenance.snapshots.retain"
	KeySnapshotMaxAge     = "maintenance.snapshots.max.age.ms"
	KeyOrphanMinAge       = "maintenance.orphan.files.min.age.ms"
	KeyCommitRetries      = "commit.retries"
	KeyS3Endpoint         = "s3.endpoint"
	KeyS3Region           = "s3.region"
	KeyS3AccessKeyID      = "s3.access-key-id"
	KeyS3SecretAccessKey  = "s3.secret-access-key"
	KeyS3PathStyle        = "s3.path-style-access"
	PrefixCatalogProps    = "iceberg.catalog.properties."
	PrefixTableProps      = "iceberg.table.properties."
	CatalogTypeSQL        = "sql"
	CatalogTypeREST       = "rest"
	FormatIceberg         = "iceberg"
	FormatHudi            = "hudi"
	DefaultTableNameFmt   = "{table}"
	DefaultCatalogName    = "binlake"
	tableNamePlaceholders = "{db}, {table}"
)

// Spec declares the lake-sink keys; the common and sink keys come from
// spec.Common and spec.Sink.
var Spec = &spec.Spec{
	Keys: []spec.Key{
		{Name: KeyFormat, Type: spec.String, Default: FormatIceberg, Enum: []string{FormatIceberg, FormatHudi}, Group: "Lake", Doc: "The table format written: iceberg, or hudi (copy-on-write)."},
		{Name: KeyWriteMode, Type: spec.String, Default: string(ModeUpsert), Enum: []string{string(ModeUpsert), string(ModeAppend)}, Group: "Lake", Doc: "upsert mirrors each source table by primary key (tables without one are appended); append writes a changelog row per event with _binlake_op, _binlake_seq and _binlake_source_ts."},
		{Name: KeyCatalogType, Type: spec.String, Default: CatalogTypeSQL, Enum: []string{CatalogTypeSQL, CatalogTypeREST}, Group: "Iceberg", Doc: "sql: an embedded SQLite catalog under the connector's data directory (or iceberg.catalog.uri, a SQLite file path); rest: an Iceberg REST catalog at iceberg.catalog.uri."},
		{Name: KeyCatalogURI, Type: spec.String, Group: "Iceberg", Doc: "REST catalog URL (required for rest), or the SQLite file of the sql catalog (default <data dir>/iceberg_catalog.db)."},
		{Name: KeyCatalogName, Type: spec.String, Default: DefaultCatalogName, Group: "Iceberg", Doc: "The catalog name; for the sql catalog it is the catalog_name column other readers (pyiceberg, Java JdbcCatalog) must use."},
		{Name: KeyWarehouse, Type: spec.String, Group: "Iceberg", Doc: "Where tables live: file:///path or s3://bucket/prefix (default file://<data dir>/warehouse). With a rest catalog it is passed to the server as its warehouse property, which may also be a warehouse name (Polaris, Lakekeeper); empty lets the server place tables."},
		{Name: KeyNamespace, Type: spec.String, Group: "Iceberg", Doc: "The namespace of the lake tables (dots separate levels); default: the source database."},
		{Name: KeyTableNameFormat, Type: spec.String, Default: DefaultTableNameFmt, Validate: validateNameFormat, Group: "Iceberg", Doc: "The lake table name; " + tableNamePlaceholders + " are replaced by the source database and table."},
		{Name: KeyPartitionSpec, Type: spec.String, Validate: validatePartitionSpec, Group: "Iceberg", Doc: "Partition spec for new tables, comma-separated transforms such as bucket(16,id), identity(region), day(created_at), truncate(4,code). Upsert tables accept only transforms of primary-key columns; lake.format=hudi takes identity terms (bare column names) only."},
		{Name: KeyFlushMaxRows, Type: spec.Int, Default: "500000", Validate: spec.AtLeast(1), Group: "Buffering", Doc: "A table's buffered rows that trigger a commit before commit.interval.ms."},
		{Name: KeyFlushMaxBytes, Type: spec.Long, Default: "67108864", Validate: spec.AtLeast(1024), Group: "Buffering", Doc: "A table's buffered bytes (estimated) that trigger a commit before commit.interval.ms."},
		{Name: KeyBufferMaxRows, Type: spec.Int, Default: "2000000", Validate: spec.AtLeast(1), Group: "Buffering", Doc: "Buffered rows over all tables of a task; when reached, the largest tables are committed before more records are accepted."},
		{Name: KeyBufferMaxBytes, Type: spec.Long, Default: "201326592", Validate: spec.AtLeast(1024), Group: "Buffering", Doc: "Buffered bytes (estimated) over all tables of a task; when reached, the largest tables are committed first."},
		{Name: KeyMaintenanceEvery, Type: spec.Duration, Default: "3600000", Group: "Maintenance", Doc: "How often each table is compacted (data files rewritten with equality deletes applied, dead delete files removed), its manifests merged and old snapshots expired; 0 disables maintenance."},
		{Name: KeyTargetFileSize, Type: spec.Long, Default: "134217728", Validate: spec.AtLeast(1 << 20), Group: "Maintenance", Doc: "Target size of data files written by compaction."},
		{Name: KeySnapshotsRetain, Type: spec.Int, Default: "5", Validate: spec.AtLeast(1), Group: "Maintenance", Doc: "Snapshots always kept by expiry."},
		{Name: KeySnapshotMaxAge, Type: spec.Duration, Default: "3600000", Group: "Maintenance", Doc: "Snapshots older than this (beyond the retained ones) are expired and their unreferenced files deleted."},
		{Name: KeyOrphanMinAge, Type: spec.Duration, Default: "86400000", Group: "Maintenance", Doc: "Files under the table location that no snapshot references (left by a crash between writing files and committing them) are deleted once older than this; 0 disables orphan cleanup. Keep it above the longest commit of any writer of the table."},
		{Name: KeyCommitRetries, Type: spec.Int, Default: "8", Validate: spec.Range(0, 100), Group: "Commit", Doc: "Attempts to retry a conflicting or failed table commit (exponential backoff with jitter) before the task fails and restarts from its last commit."},
		{Name: KeyS3Endpoint, Type: spec.String, Group: "S3", Doc: "S3 endpoint URL for s3:// warehouses, e.g. http://127.0.0.1:9000 for MinIO; empty uses AWS."},
		{Name: KeyS3Region, Type: spec.String, Default: "us-east-1", Group: "S3", Doc: "S3 region."},
		{Name: KeyS3AccessKeyID, Type: spec.String, Group: "S3", Doc: "S3 access key id; empty uses the default AWS credential chain."},
		{Name: KeyS3SecretAccessKey, Type: spec.Password, Group: "S3", Doc: "S3 secret access key."},
		{Name: KeyS3PathStyle, Type: spec.Bool, Default: "true", Group: "S3", Doc: "Path-style S3 addressing (needed by MinIO); false uses virtual-hosted buckets."},
	},
	Prefixes: []string{PrefixCatalogProps, PrefixTableProps},
}

func validateWarehouse(v string) error {
	if v == "" || strings.HasPrefix(v, "file://") || strings.HasPrefix(v, "s3://") || strings.HasPrefix(v, "s3a://") || strings.HasPrefix(v, "/") {
		return nil
	}
	return fmt.Errorf("must start with file://, s3:// or /")
}

// ValidateConfig checks what single keys cannot (it runs on a config with
// defaults applied): a rest catalog needs iceberg.catalog.uri; the
// warehouse of the embedded sql catalog or of a Hudi table must be a
// location, while a REST server may take the name of one of its
// warehouses; Hudi tables take only identity partition terms.
func ValidateConfig(cfg connect.Config) []spec.FieldError {
	var errs []spec.FieldError
	hudi := spec.GetString(cfg, KeyFormat) == FormatHudi
	rest := !hudi && spec.GetString(cfg, KeyCatalogType) == CatalogTypeREST
	if rest && strings.TrimSpace(spec.GetString(cfg, KeyCatalogURI)) == "" {
		errs = append(errs, spec.FieldError{Field: KeyCatalogURI,
			Message: "required with iceberg.catalog.type=rest: the REST catalog's URL, e.g. http://127.0.0.1:8181"})
	}
	if hudi {
		if _, err := IdentityColumns(spec.GetString(cfg, KeyPartitionSpec)); err != nil {
			errs = append(errs, spec.FieldError{Field: KeyPartitionSpec, Message: err.Error()})
		}
	}
	if !rest {
		if err := validateWarehouse(strings.TrimSpace(spec.GetString(cfg, KeyWarehouse))); err != nil {
			errs = append(errs, spec.FieldError{Field: KeyWarehouse, Message: err.Error() +
				" (a warehouse name is only meaningful to a rest catalog)"})
		}
	}
	return errs
}

func validateNameFormat(v string) error {
	if strings.TrimSpace(v) == "" {
		return fmt.Errorf("must not be empty")
	}
	if !strings.Contains(v, "{table}") {
		return fmt.Errorf("must contain {table} so that tables do not collide")
	}
	return nil
}

// IdentityColumns returns the columns of a partition spec made of identity
// terms only (bare column names or identity(col)), as Hudi tables, which
// are partitioned by column values, need; any other transform is an error.
func IdentityColumns(text string) ([]string, error) {
	terms, err := ParsePartitionSpec(text)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range terms {
		if f.Transform != "identity" {
			return nil, fmt.Errorf("transform %s(%s) is not supported by lake.format=hudi: Hudi tables are partitioned by column values; "+
				"use identity(%s) or the bare column name (several make nested partition levels), or lake.format=iceberg", f.Transform, f.Column, f.Column)
		}
		out = append(out, f.Column)
	}
	return out, nil
}

func validatePartitionSpec(v string) error {
	_, err := ParsePartitionSpec(v)
	return err
}

// TableName applies a table name format to a source table.
func TableName(format, db, table string) string {
	if format == "" {
		format = DefaultTableNameFmt
	}
	return strings.NewReplacer("{db}", db, "{table}", table).Replace(format)
}
