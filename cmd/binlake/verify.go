package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/binlake/binlake/internal/verify"
	"github.com/binlake/binlake/sink/lake"
)

// verifyConfig is the verify command's configuration.
type verifyConfig struct {
	mysql     verify.MySQLConfig
	lake      verify.LakeConfig
	sel       verify.Selection
	opts      verify.Options
	json      bool
	wait      time.Duration
	waitEvery time.Duration
	timeout   time.Duration
}

// parseVerifyFlags parses the verify command line; every flag can also be
// set through its BINLAKE_* environment variable (the flag wins).
func parseVerifyFlags(args []string, getenv func(string) string, out io.Writer) (*verifyConfig, error) {
	c := &verifyConfig{}
	var databases, tables string
	fs := flag.NewFlagSet("binlake verify", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		_, _ = fmt.Fprint(fs.Output(), `usage: binlake verify [flags]

Compares MySQL tables with their lake tables (Iceberg, or Hudi) by primary-key range
(row counts and checksums) and lists the differing keys.
Exit code: 0 all equal, 1 a difference, 2 an error.

flags (each also as BINLAKE_<FLAG>, e.g. BINLAKE_MYSQL_PASSWORD):
`)
		fs.PrintDefaults()
	}
	fs.StringVar(&c.mysql.Host, "mysql.host", "127.0.0.1", "MySQL host")
	fs.IntVar(&c.mysql.Port, "mysql.port", 3306, "MySQL port")
	fs.StringVar(&c.mysql.User, "mysql.user", "root", "MySQL user (needs SELECT on the compared tables)")
	fs.StringVar(&c.mysql.Password, "mysql.password", "", "MySQL password")
	fs.StringVar(&databases, "databases", "", "comma-separated MySQL databases: compare all their tables (default: every MySQL table that has a lake table)")
	fs.StringVar(&tables, "tables", "", "comma-separated db.table list to compare (overrides --databases)")
	fs.StringVar(&c.lake.Format, "lake.format", lake.FormatIceberg, "the sink's lake.format: iceberg, or hudi (tables under --iceberg.warehouse; no catalog)")
	fs.StringVar(&c.lake.CatalogType, "iceberg.catalog.type", lake.CatalogTypeSQL, "catalog type: sql (SQLite file) or rest")
	fs.StringVar(&c.lake.CatalogURI, "iceberg.catalog.uri", "", "the sql catalog's SQLite file (the sink's iceberg.catalog.uri, default <data dir>/iceberg_catalog.db), or the REST catalog URL")
	fs.StringVar(&c.lake.CatalogName, "iceberg.catalog.name", lake.DefaultCatalogName, "catalog name (the sink's iceberg.catalog.name)")
	fs.StringVar(&c.lake.Warehouse, "iceberg.warehouse", "", "warehouse: file:///path or s3://bucket/prefix (the sink's iceberg.warehouse)")
	fs.StringVar(&c.lake.Namespace, "iceberg.namespace", "", "lake namespace (default: the source database, as the sink does)")
	fs.StringVar(&c.lake.TableNameFormat, "iceberg.table.name.format", lake.DefaultTableNameFmt, "lake table name format; {db} and {table} are replaced")
	fs.StringVar(&c.lake.S3Endpoint, "s3.endpoint", "", "S3 endpoint URL for s3:// warehouses (e.g. http://127.0.0.1:9000 for MinIO)")
	fs.StringVar(&c.lake.S3Region, "s3.region", "us-east-1", "S3 region")
	fs.StringVar(&c.lake.S3AccessKeyID, "s3.access-key-id", "", "S3 access key id (empty: the default AWS credential chain)")
	fs.StringVar(&c.lake.S3SecretAccessKey, "s3.secret-access-key", "", "S3 secret access key")
	fs.BoolVar(&c.lake.S3PathStyle, "s3.path-style-access", true, "path-style S3 addressing (MinIO needs it)")
	fs.IntVar(&c.opts.Ranges, "ranges", verify.DefaultRanges, "primary-key ranges per table")
	fs.IntVar(&c.opts.MaxKeys, "max-keys", verify.DefaultMaxKeys, "differing keys listed per table (all are counted)")
	fs.IntVar(&c.opts.MaxDiffRows, "max-diff-rows", verify.DefaultMaxDiffRows, "rows of differing ranges held in memory to list their keys, counting each range's larger side (ranges beyond it are reported, their keys not listed)")
	fs.BoolVar(&c.json, "json", false, "print the report as JSON")
	fs.DurationVar(&c.wait, "wait", 0, "while tables differ, compare them again until they are equal or this long has passed (lets the sink catch up)")
	fs.DurationVar(&c.waitEvery, "wait.interval", 2*time.Second, "pause between comparisons with --wait")
	fs.DurationVar(&c.timeout, "timeout", 0, "give up after this long (0: no limit)")
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if v := getenv(envName(f.Name)); v != "" {
			if err := f.Value.Set(v); err != nil && envErr == nil {
				envErr = fmt.Errorf("parsing %s=%q: %w", envName(f.Name), v, err)
			}
		}
	})
	if envErr != nil {
		return nil, envErr
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	c.sel.Databases = splitList(databases)
	for _, t := range splitList(tables) {
		db, name, ok := strings.Cut(t, ".")
		if !ok || db == "" || name == "" {
			return nil, fmt.Errorf("--tables: %q is not db.table", t)
		}
		c.sel.Tables = append(c.sel.Tables, verify.TableRef{DB: db, Name: name})
	}
	switch {
	case c.lake.Format != lake.FormatIceberg && c.lake.Format != lake.FormatHudi:
		return nil, fmt.Errorf("--lake.format=%q: use iceberg or hudi", c.lake.Format)
	case c.lake.Format == lake.FormatHudi && c.lake.Warehouse == "":
		return nil, errors.New("--lake.format=hudi needs --iceberg.warehouse (the sink's warehouse)")
	case c.lake.Format == lake.FormatIceberg && c.lake.CatalogURI == "":
		return nil, errors.New("--iceberg.catalog.uri is required (the sink's SQLite catalog file or REST catalog URL)")
	case c.lake.CatalogType != lake.CatalogTypeSQL && c.lake.CatalogType != lake.CatalogTypeREST:
		return nil, fmt.Errorf("--iceberg.catalog.type=%q: use sql or rest", c.lake.CatalogType)
	case !strings.Contains(c.lake.TableNameFormat, "{table}"):
		return nil, fmt.Errorf("--iceberg.table.name.format=%q must contain {table}", c.lake.TableNameFormat)
	case c.opts.Ranges < 1 || c.opts.Ranges > 1_000_000:
		return nil, fmt.Errorf("--ranges=%d: use 1..1000000", c.opts.Ranges)
	case c.opts.MaxKeys < 0 || c.opts.MaxDiffRows < 1:
		return nil, errors.New("--max-keys must not be negative and --max-diff-rows must be positive")
	case c.wait < 0 || c.waitEvery <= 0 || c.timeout < 0:
		return nil, errors.New("--wait and --timeout must not be negative and --wait.interval must be positive")
	case c.mysql.Port < 1 || c.mysql.Port > 65535:
		return nil, fmt.Errorf("--mysql.port=%d is not a port", c.mysql.Port)
	}
	return c, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// runVerify runs `binlake verify`: 0 equal, 1 a difference, 2 an error.
func runVerify(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, err := parseVerifyFlags(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		_, _ = fmt.Fprintln(stderr, "binlake verify:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if cfg.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.timeout)
		defer cancel()
	}
	rep, err := verifyOnce(ctx, cfg, stderr)
	if err != nil {
		_, _ = fmt.Fprintln(stderr, "binlake verify:", err)
		return 2
	}
	if cfg.json {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		_, _ = fmt.Fprintln(stderr, "binlake verify:", err)
		return 2
	}
	return rep.ExitCode()
}

// verifyOnce compares the tables, and with --wait compares the differing
// ones again until they are equal or the wait is over.
func verifyOnce(ctx context.Context, cfg *verifyConfig, stderr io.Writer) (*verify.Report, error) {
	db, err := verify.OpenMySQL(cfg.mysql)
	if err != nil {
		return nil, err
	}
	defer func() { _ = db.Close() }()
	lk, err := verify.OpenLake(ctx, cfg.lake)
	if err != nil {
		return nil, err
	}
	defer func() { _ = lk.Close() }()
	rep, err := verify.Run(ctx, db, lk, cfg.sel, cfg.opts)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(cfg.wait)
	for rep.ExitCode() == 1 && time.Now().Add(cfg.waitEvery).Before(deadline) {
		var again []verify.TableRef
		for _, t := range rep.Tables {
			if t.Different() {
				db, name, _ := strings.Cut(t.MySQLTable, ".")
				again = append(again, verify.TableRef{DB: db, Name: name})
			}
		}
		_, _ = fmt.Fprintf(stderr, "binlake verify: %d table(s) differ; comparing again in %s\n", len(again), cfg.waitEvery)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(cfg.waitEvery):
		}
		next, err := verify.Run(ctx, db, lk, verify.Selection{Tables: again}, cfg.opts)
		if err != nil {
			return nil, err
		}
		byName := map[string]*verify.TableResult{}
		for _, t := range next.Tables {
			byName[t.MySQLTable] = t
		}
		for i, t := range rep.Tables {
			if n, ok := byName[t.MySQLTable]; ok {
				rep.Tables[i] = n
			}
		}
		rep.Equal = rep.ExitCode() == 0
	}
	return rep, nil
}
