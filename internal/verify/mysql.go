package verify

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	driver "github.com/go-sql-driver/mysql"

	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/source/mysql/decode"
	"github.com/binlake/binlake/source/mysql/tables"
)

// MySQLConfig says how to reach the MySQL (or MariaDB) server.
type MySQLConfig struct {
	Host     string
	Port     int
	User     string
	Password string
	// ConnectTimeout bounds dialing the server.
	ConnectTimeout time.Duration
}

// OpenMySQL opens a connection pool. Sessions run with time_zone '+00:00'
// (TIMESTAMP text in UTC) and an empty sql_mode (zero dates readable); no
// I/O happens until first use.
func OpenMySQL(c MySQLConfig) (*sql.DB, error) {
	cfg := driver.NewConfig()
	cfg.User = c.User
	cfg.Passwd = c.Password
	cfg.Net = "tcp"
	cfg.Addr = fmt.Sprintf("%s:%d", c.Host, c.Port)
	cfg.Timeout = c.ConnectTimeout
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	cfg.ParseTime = false
	cfg.InterpolateParams = true // the text protocol: every value arrives as MySQL's text
	cfg.AllowNativePasswords = true
	cfg.Params = map[string]string{"time_zone": "'+00:00'", "sql_mode": "''"}
	conn, err := driver.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("configuring the MySQL connection: %w", err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(4)
	return db, nil
}

// TableRef names a MySQL table.
type TableRef struct{ DB, Name string }

// String returns db.table.
func (r TableRef) String() string { return r.DB + "." + r.Name }

// systemSchemas are never compared.
var systemSchemas = map[string]bool{"mysql": true, "information_schema": true, "performance_schema": true, "sys": true}

// ListTables returns the base tables of the given databases (every
// non-system database when none are given), sorted.
func ListTables(ctx context.Context, q Querier, databases []string) ([]TableRef, error) {
	rows, err := q.QueryContext(ctx, "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE='BASE TABLE' ORDER BY TABLE_SCHEMA, TABLE_NAME")
	if err != nil {
		return nil, fmt.Errorf("listing MySQL tables: %w", err)
	}
	defer func() { _ = rows.Close() }()
	want := map[string]bool{}
	for _, d := range databases {
		want[d] = true
	}
	var out []TableRef
	for rows.Next() {
		var r TableRef
		if err := rows.Scan(&r.DB, &r.Name); err != nil {
			return nil, fmt.Errorf("listing MySQL tables: %w", err)
		}
		if (len(want) == 0 && !systemSchemas[strings.ToLower(r.DB)]) || want[r.DB] {
			out = append(out, r)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing MySQL tables: %w", err)
	}
	return out, nil
}

// Querier is what reading MySQL needs: a *sql.DB, *sql.Conn or *sql.Tx.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// ReadTable reads a table's columns and primary key from information_schema
// and maps them with the source connector's type mapping. It returns nil
// when the table does not exist.
func ReadTable(ctx context.Context, q Querier, r TableRef) (*schema.Table, error) {
	rows, err := q.QueryContext(ctx, `SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE
		FROM information_schema.COLUMNS WHERE TABLE_SCHEMA=? AND TABLE_NAME=? ORDER BY ORDINAL_POSITION`, r.DB, r.Name)
	if err != nil {
		return nil, fmt.Errorf("reading columns of %s: %w", r, err)
	}
	defer func() { _ = rows.Close() }()
	var specs []tables.ColumnSpec
	for rows.Next() {
		var name, typ, nullable string
		if err := rows.Scan(&name, &typ, &nullable); err != nil {
			return nil, fmt.Errorf("reading columns of %s: %w", r, err)
		}
		specs = append(specs, tables.ColumnSpec{Name: name, Type: typ, Nullable: nullable == "YES", DefaultExpr: true})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading columns of %s: %w", r, err)
	}
	if len(specs) == 0 {
		return nil, nil
	}
	krows, err := q.QueryContext(ctx, `SELECT COLUMN_NAME FROM information_schema.STATISTICS
		WHERE TABLE_SCHEMA=? AND TABLE_NAME=? AND INDEX_NAME='PRIMARY' ORDER BY SEQ_IN_INDEX`, r.DB, r.Name)
	if err != nil {
		return nil, fmt.Errorf("reading the primary key of %s: %w", r, err)
	}
	defer func() { _ = krows.Close() }()
	var pk []string
	for krows.Next() {
		var c string
		if err := krows.Scan(&c); err != nil {
			return nil, fmt.Errorf("reading the primary key of %s: %w", r, err)
		}
		pk = append(pk, c)
	}
	if err := krows.Err(); err != nil {
		return nil, fmt.Errorf("reading the primary key of %s: %w", r, err)
	}
	t, err := tables.NewTable(r.DB, r.Name, 1, specs, pk)
	if err != nil {
		return nil, fmt.Errorf("mapping %s: %w", r, err)
	}
	return t, nil
}

// ColumnOf returns the compared column of a source column.
func ColumnOf(c schema.Column) Column {
	base, _ := decode.SplitType(c.SourceType)
	return Column{Name: c.Name, Kind: c.Kind, Scale: c.Scale, JSON: base == "json"}
}

// Snapshot is a MySQL connection inside a consistent-snapshot transaction:
// every read through it sees the same state of the database.
type Snapshot struct {
	conn *sql.Conn
}

// BeginSnapshot takes a connection and starts a REPEATABLE READ transaction
// WITH CONSISTENT SNAPSHOT on it. Close ends it.
func BeginSnapshot(ctx context.Context, db *sql.DB) (*Snapshot, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("connecting to MySQL: %w", err)
	}
	for _, stmt := range []string{
		"SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
		"START TRANSACTION WITH CONSISTENT SNAPSHOT",
	} {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			_ = conn.Close()
			return nil, fmt.Errorf("starting a consistent snapshot (%s): %w", stmt, err)
		}
	}
	return &Snapshot{conn: conn}, nil
}

// QueryContext runs a query inside the snapshot.
func (s *Snapshot) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return s.conn.QueryContext(ctx, query, args...)
}

// Close ends the transaction and returns the connection to the pool.
func (s *Snapshot) Close() error {
	_, rerr := s.conn.ExecContext(context.Background(), "ROLLBACK")
	if err := s.conn.Close(); err != nil {
		return fmt.Errorf("closing the MySQL connection: %w", err)
	}
	if rerr != nil {
		return fmt.Errorf("ending the snapshot transaction: %w", rerr)
	}
	return nil
}

// MySQLTable reads one table's rows through a snapshot.
type MySQLTable struct {
	q       Querier
	ref     TableRef
	cols    []Column
	srcCols []schema.Column
	codecs  []*decode.Codec
	keys    []int
}

var _ Source = (*MySQLTable)(nil)

// NewMySQLTable prepares reading the columns cols (indexes into t.Columns)
// of t, whose key columns are keys (indexes into cols).
func NewMySQLTable(q Querier, t *schema.Table, cols []int, keys []int) (*MySQLTable, error) {
	m := &MySQLTable{q: q, ref: TableRef{DB: t.Database, Name: t.Name}, keys: keys}
	for _, ci := range cols {
		c := t.Columns[ci]
		codec, err := decode.NewCodec(c)
		if err != nil {
			return nil, fmt.Errorf("decoding column %q of %s: %w", c.Name, m.ref, err)
		}
		m.cols = append(m.cols, ColumnOf(c))
		m.srcCols = append(m.srcCols, c)
		m.codecs = append(m.codecs, codec)
	}
	return m, nil
}

// selectExpr is the select-list expression of a column. FLOAT is read as
// DOUBLE: its exact value, where FLOAT text may be rounded to 6 digits.
func selectExpr(c schema.Column) string {
	q := quoteIdent(c.Name)
	if c.Kind == schema.KindFloat32 {
		return "CAST(" + q + " AS DOUBLE)"
	}
	return q
}

func (m *MySQLTable) from() string { return quoteIdent(m.ref.DB) + "." + quoteIdent(m.ref.Name) }

// ScanKeys reads the primary keys.
func (m *MySQLTable) ScanKeys(ctx context.Context, fn func(key []any) error) error {
	exprs := make([]string, len(m.keys))
	codecs := make([]*decode.Codec, len(m.keys))
	for j, ci := range m.keys {
		exprs[j] = selectExpr(m.srcCols[ci])
		codecs[j] = m.codecs[ci]
	}
	return m.query(ctx, "SELECT "+strings.Join(exprs, ", ")+" FROM "+m.from(), len(m.keys), func(raw []sql.RawBytes) error {
		key := make([]any, len(raw))
		for j, b := range raw {
			v, err := codecs[j].Text(b)
			if err != nil {
				return fmt.Errorf("decoding key column %q: %w", m.cols[m.keys[j]].Name, err)
			}
			key[j] = v
		}
		return fn(key)
	})
}

// Scan reads every row.
func (m *MySQLTable) Scan(ctx context.Context, fn func(Row) error) error {
	exprs := make([]string, len(m.srcCols))
	for i, c := range m.srcCols {
		exprs[i] = selectExpr(c)
	}
	return m.query(ctx, "SELECT "+strings.Join(exprs, ", ")+" FROM "+m.from(), len(exprs), func(raw []sql.RawBytes) error {
		r := Row{Key: make([]any, len(m.keys)), Cells: make([]Cell, len(raw))}
		vals := make([]any, len(raw))
		for i, b := range raw {
			v, err := m.codecs[i].Text(b)
			if err != nil {
				return fmt.Errorf("decoding column %q: %w", m.cols[i].Name, err)
			}
			vals[i] = v
			r.Cells[i] = Canon(m.cols[i], v)
		}
		for j, ci := range m.keys {
			r.Key[j] = vals[ci]
		}
		return fn(r)
	})
}

func (m *MySQLTable) query(ctx context.Context, query string, n int, fn func([]sql.RawBytes) error) error {
	rows, err := m.q.QueryContext(ctx, query)
	if err != nil {
		return fmt.Errorf("querying %s: %w", m.ref, err)
	}
	defer func() { _ = rows.Close() }()
	raw := make([]sql.RawBytes, n)
	ptrs := make([]any, n)
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("reading %s: %w", m.ref, err)
		}
		if err := fn(raw); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", m.ref, err)
	}
	return nil
}

// quoteIdent quotes a MySQL identifier.
func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }
