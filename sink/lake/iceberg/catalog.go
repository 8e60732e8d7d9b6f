package iceberg

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/catalog/rest" // the REST catalog (registered by its init)
	sqlcat "github.com/apache/iceberg-go/catalog/sql"
	iceio "github.com/apache/iceberg-go/io"
	_ "github.com/apache/iceberg-go/io/gocloud/s3" // registers s3:// file IO
	_ "modernc.org/sqlite"                         // the pure-Go SQLite driver "sqlite"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/spec"
	"github.com/binlake/binlake/sink/lake"
)

// CatalogFile is the SQLite file of the embedded sql catalog, under the
// connector's data directory.
const CatalogFile = "iceberg_catalog.db"

// catalogProps builds the Iceberg catalog properties (warehouse, S3 file IO,
// pass-through iceberg.catalog.properties.*) from a task config.
func catalogProps(cfg connect.Config, dataDir string) (iceberg.Properties, error) {
	props := iceberg.Properties{}
	wh := spec.GetString(cfg, lake.KeyWarehouse)
	rest := spec.GetString(cfg, lake.KeyCatalogType) == lake.CatalogTypeREST
	switch {
	case wh == "" && rest:
		// A REST catalog places tables itself, and servers that host several
		// warehouses (Polaris, Lakekeeper, Nessie) read "warehouse" as the
		// name of one: send none unless one is configured.
	case wh == "":
		if dataDir == "" {
			return nil, fmt.Errorf("%s is empty and the task has no data directory", lake.KeyWarehouse)
		}
		abs, err := filepath.Abs(filepath.Join(dataDir, "warehouse"))
		if err != nil {
			return nil, fmt.Errorf("resolving warehouse directory: %w", err)
		}
		wh = "file://" + abs
	case strings.HasPrefix(wh, "/"):
		wh = "file://" + wh
	}
	if wh != "" {
		props["warehouse"] = strings.TrimSuffix(wh, "/")
	}
	if v := spec.GetString(cfg, lake.KeyS3Endpoint); v != "" {
		props[iceio.S3EndpointURL] = v
	}
	if v := spec.GetString(cfg, lake.KeyS3Region); v != "" {
		props[iceio.S3Region] = v
	}
	if v := spec.GetString(cfg, lake.KeyS3AccessKeyID); v != "" {
		props[iceio.S3AccessKeyID] = v
	}
	if v := cfg[lake.KeyS3SecretAccessKey]; v != "" {
		props[iceio.S3SecretAccessKey] = v
	}
	if strings.HasPrefix(wh, "s3") {
		props[iceio.S3ForceVirtualAddressing] = fmt.Sprint(!pathStyle(cfg))
	}
	for k, v := range cfg {
		if name, ok := strings.CutPrefix(k, lake.PrefixCatalogProps); ok && name != "" {
			props[name] = v
		}
	}
	return props, nil
}

// restOpenError explains why a REST catalog could not be opened: rejected
// credentials are terminal (retrying cannot help); an unreachable server, a
// failed OAuth token request or any other answer is retried.
func restOpenError(uri string, err error) error {
	var netErr net.Error
	switch {
	case errors.Is(err, rest.ErrUnauthorized) || errors.Is(err, rest.ErrForbidden):
		return connect.Terminal(fmt.Errorf("opening rest catalog %s: %w", uri, err),
			"the catalog rejected the credentials: check iceberg.catalog.properties.token or iceberg.catalog.properties.credential")
	case errors.Is(err, rest.ErrOAuthError):
		return fmt.Errorf("opening rest catalog %s (getting an OAuth token: check iceberg.catalog.properties.credential and oauth2-server-uri): %w", uri, err)
	case errors.As(err, &netErr):
		return fmt.Errorf("opening rest catalog %s (is the server up and reachable from the worker?): %w", uri, err)
	default:
		return fmt.Errorf("opening rest catalog %s (is %s the catalog's base URL, without /v1?): %w", uri, lake.KeyCatalogURI, err)
	}
}

func pathStyle(cfg connect.Config) bool {
	v := strings.TrimSpace(cfg[lake.KeyS3PathStyle])
	return v == "" || strings.EqualFold(v, "true")
}

// openedCatalog is a catalog and what must be closed with it.
type openedCatalog struct {
	catalog.Catalog
	db *sql.DB
}

func (c *openedCatalog) Close() error {
	var err error
	if cl, ok := c.Catalog.(catalog.Closer); ok {
		err = cl.Close()
	}
	if c.db != nil {
		if e := c.db.Close(); e != nil && err == nil {
			err = e
		}
	}
	return err
}

// openCatalog opens the catalog a task config names. The sql catalog keeps
// the same tables as Java's JdbcCatalog and pyiceberg's SqlCatalog.
func openCatalog(ctx context.Context, cfg connect.Config, dataDir string) (*openedCatalog, error) {
	props, err := catalogProps(cfg, dataDir)
	if err != nil {
		return nil, err
	}
	name := spec.GetString(cfg, lake.KeyCatalogName)
	if name == "" {
		name = lake.DefaultCatalogName
	}
	uri := spec.GetString(cfg, lake.KeyCatalogURI)
	switch typ := spec.GetString(cfg, lake.KeyCatalogType); typ {
	case "", lake.CatalogTypeSQL:
		path := uri
		if path == "" {
			if dataDir == "" {
				return nil, fmt.Errorf("the sql catalog needs %s or a task data directory", lake.KeyCatalogURI)
			}
			path = filepath.Join(dataDir, CatalogFile)
		}
		path = strings.TrimPrefix(path, "sqlite://")
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("creating catalog directory: %w", err)
		}
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
		if err != nil {
			return nil, fmt.Errorf("opening sqlite catalog %s: %w", path, err)
		}
		props["init_catalog_tables"] = "true"
		cat, err := sqlcat.NewCatalog(name, db, sqlcat.SQLite, props)
		if err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("opening sql catalog %s: %w", path, err)
		}
		return &openedCatalog{Catalog: cat, db: db}, nil
	case lake.CatalogTypeREST:
		if uri == "" {
			return nil, connect.Terminal(fmt.Errorf("%s=rest needs %s", lake.KeyCatalogType, lake.KeyCatalogURI),
				"set iceberg.catalog.uri to the REST catalog's base URL")
		}
		props["uri"] = uri
		props["type"] = "rest"
		cat, err := catalog.Load(ctx, name, props)
		if err != nil {
			return nil, restOpenError(uri, err)
		}
		return &openedCatalog{Catalog: cat}, nil
	default:
		return nil, connect.Terminal(fmt.Errorf("unknown %s %q", lake.KeyCatalogType, typ), "use sql or rest")
	}
}
