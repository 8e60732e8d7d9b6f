package iceberg

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/spec"
	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/sink/lake"
)

func init() {
	lake.RegisterFormat(lake.FormatIceberg, func(ctx context.Context, tc *connect.TaskContext) (lake.Format, error) {
		return Open(ctx, tc)
	})
}

// Format is the Iceberg format opened for one sink task: one catalog and a
// writer per table.
type Format struct {
	cat           *openedCatalog
	cfg           connect.Config
	connector     string
	namespace     string
	nameFormat    string
	partitionSpec string
	tableProps    iceberg.Properties
	commitRetries int
	maintenance   maintenanceConfig
	logger        *slog.Logger
	mem           memory.Allocator
	writers       map[string]*tableWriter

	// Hook, when set (tests), is called at each write stage; an error
	// aborts the write as a crash at that point would.
	Hook func(stage string, ident table.Identifier) error
}

var _ lake.Format = (*Format)(nil)

// Open opens the catalog of a task's config.
func Open(ctx context.Context, tc *connect.TaskContext) (*Format, error) {
	cfg := tc.Config
	cat, err := openCatalog(ctx, cfg, tc.DataDir)
	if err != nil {
		return nil, err
	}
	logger := tc.Logger
	if logger == nil {
		logger = slog.Default()
	}
	tprops := iceberg.Properties{
		"format-version":                          "2",
		table.ParquetCompressionKey:               "zstd",
		table.ParquetRowGroupLimitKey:             "1048576",
		table.MetadataDeleteAfterCommitEnabledKey: "true",
		table.MetadataPreviousVersionsMaxKey:      "20",
	}
	for k, v := range cfg {
		if name, ok := strings.CutPrefix(k, lake.PrefixTableProps); ok && name != "" {
			tprops[name] = v
		}
	}
	retries := spec.GetInt(cfg, lake.KeyCommitRetries)
	if _, ok := cfg[lake.KeyCommitRetries]; !ok {
		retries = 8
	}
	return &Format{
		cat:           cat,
		cfg:           cfg,
		connector:     tc.Connector,
		namespace:     spec.GetString(cfg, lake.KeyNamespace),
		nameFormat:    spec.GetString(cfg, lake.KeyTableNameFormat),
		partitionSpec: spec.GetString(cfg, lake.KeyPartitionSpec),
		tableProps:    tprops,
		commitRetries: retries,
		maintenance:   maintenanceFromConfig(cfg),
		logger:        logger,
		mem:           memory.DefaultAllocator,
		writers:       map[string]*tableWriter{},
	}, nil
}

// SetAllocator replaces the Arrow allocator (tests use a checked one).
func (f *Format) SetAllocator(mem memory.Allocator) { f.mem = mem }

// Catalog returns the opened catalog.
func (f *Format) Catalog() catalog.Catalog { return f.cat.Catalog }

func (f *Format) hook(stage string, ident table.Identifier) error {
	if f.Hook == nil {
		return nil
	}
	return f.Hook(stage, ident)
}

// Identifier returns the lake table identifier of a source table.
func (f *Format) Identifier(db, tbl string) table.Identifier {
	ns := f.namespace
	if ns == "" {
		ns = db
	}
	ident := strings.Split(ns, ".")
	return append(ident, lake.TableName(f.nameFormat, db, tbl))
}

// Table returns the writer of the lake table for t, creating the namespace
// and the table on first use.
func (f *Format) Table(ctx context.Context, t *schema.Table, mode lake.Mode) (lake.TableWriter, error) {
	return f.table(ctx, t, mode)
}

func (f *Format) table(ctx context.Context, t *schema.Table, mode lake.Mode) (*tableWriter, error) {
	ident := f.Identifier(t.Database, t.Name)
	key := strings.Join(ident, ".")
	if w, ok := f.writers[key]; ok {
		return w, nil
	}
	if mode == lake.ModeUpsert && !t.HasPrimaryKey() {
		mode = lake.ModeAppend
	}
	tbl, err := f.cat.LoadTable(ctx, ident)
	if errors.Is(err, catalog.ErrNoSuchTable) {
		tbl, err = f.create(ctx, ident, t, mode)
	}
	if err != nil {
		return nil, fmt.Errorf("loading lake table %s: %w", key, err)
	}
	defaults, err := loadAddedDefaults(tbl.Properties())
	if err != nil {
		return nil, fmt.Errorf("loading lake table %s: %w", key, err)
	}
	w := &tableWriter{f: f, ident: ident, tbl: tbl, mode: TableMode(tbl, mode), renames: loadRenames(tbl.Properties()),
		defaults: defaults, lastMaintained: time.Now()}
	f.writers[key] = w
	return w, nil
}

func (f *Format) create(ctx context.Context, ident table.Identifier, t *schema.Table, mode lake.Mode) (*table.Table, error) {
	if err := t.Validate(); err != nil {
		return nil, connect.Terminal(err, "the source schema is invalid; check the source connector")
	}
	sc, err := Schema(t, mode)
	if err != nil {
		return nil, connect.Terminal(err, "change the column type at the source or exclude the column")
	}
	spec, err := PartitionSpec(f.partitionSpec, t, sc, mode)
	if err != nil {
		return nil, connect.Terminal(err, "fix partition.spec")
	}
	ns := catalog.NamespaceFromIdent(ident)
	if err := f.cat.CreateNamespace(ctx, ns, nil); err != nil && !errors.Is(err, catalog.ErrNamespaceAlreadyExists) {
		return nil, fmt.Errorf("creating namespace %s: %w", strings.Join(ns, "."), err)
	}
	props := iceberg.Properties{}
	for k, v := range f.tableProps {
		props[k] = v
	}
	props[PropWriteMode] = string(mode)
	props[PropSourceVersion] = strconv.Itoa(t.Version)
	tbl, err := f.cat.CreateTable(ctx, ident, sc, catalog.WithPartitionSpec(spec), catalog.WithProperties(props))
	if errors.Is(err, catalog.ErrTableAlreadyExists) {
		return f.cat.LoadTable(ctx, ident)
	}
	if err != nil {
		return nil, fmt.Errorf("creating table: %w", err)
	}
	f.logger.Info("created lake table", "table", strings.Join(ident, "."), "mode", mode, "partition_spec", f.partitionSpec)
	return tbl, nil
}

// Committed lists the tables of the configured namespace (every namespace
// when iceberg.namespace is unset) and returns, per table this connector
// committed to, its committed position.
func (f *Format) Committed(ctx context.Context) (map[string]lake.Position, error) {
	var namespaces []table.Identifier
	if f.namespace != "" {
		namespaces = []table.Identifier{strings.Split(f.namespace, ".")}
	} else {
		ns, err := f.cat.ListNamespaces(ctx, nil)
		if err != nil {
			return nil, fmt.Errorf("listing namespaces: %w", err)
		}
		namespaces = ns
	}
	out := map[string]lake.Position{}
	for _, ns := range namespaces {
		for ident, err := range f.cat.ListTables(ctx, ns) {
			if errors.Is(err, catalog.ErrNoSuchNamespace) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("listing tables of %s: %w", strings.Join(ns, "."), err)
			}
			tbl, err := f.cat.LoadTable(ctx, ident)
			if err != nil {
				return nil, fmt.Errorf("loading table %s: %w", strings.Join(ident, "."), err)
			}
			pos, ok, err := committedPosition(tbl, f.connector)
			if err != nil {
				return nil, err
			}
			if ok {
				out[strings.Join(ident, ".")] = pos
			}
		}
	}
	return out, nil
}

// Close closes the catalog.
func (f *Format) Close() error { return f.cat.Close() }
