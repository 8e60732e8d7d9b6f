package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/source/mysql/tables"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	driver "github.com/go-sql-driver/mysql"
)

// MySQL server error numbers the connector classifies.
const (
	erAccessDenied       = 1045 // bad user or password
	erDBAccessDenied     = 1044
	erSpecificAccess     = 1227 // a privilege such as REPLICATION CLIENT is missing
	erTableAccessDenied  = 1142
	erColumnAccessDenied = 1143
	erMasterFatalReadLog = 1236 // the binlog at the requested position is gone
)

// serverErrNumber returns the MySQL error number of err (from either
// driver), or 0.
func serverErrNumber(err error) uint16 {
	var de *driver.MySQLError
	if errors.As(err, &de) {
		return de.Number
	}
	var ge *gomysql.MyError
	if errors.As(err, &ge) {
		return ge.Code
	}
	return 0
}

// classify marks server errors that retrying cannot fix as terminal, with a
// hint for the operator.
func classify(err error, what string) error {
	if err == nil {
		return nil
	}
	switch serverErrNumber(err) {
	case erAccessDenied:
		return connect.Terminal(fmt.Errorf("%s: %w", what, err), "check database.user and database.password")
	case erDBAccessDenied, erTableAccessDenied, erColumnAccessDenied:
		return connect.Terminal(fmt.Errorf("%s: %w", what, err),
			"grant the connector's user SELECT on the captured tables (GRANT SELECT ON db.* TO user)")
	case erSpecificAccess:
		return connect.Terminal(fmt.Errorf("%s: %w", what, err),
			"grant the connector's user REPLICATION SLAVE and REPLICATION CLIENT (MariaDB: also BINLOG MONITOR)")
	case erMasterFatalReadLog:
		return connect.Terminal(fmt.Errorf("%s: %w", what, err),
			"the binlog at the checkpoint is no longer on the server; set snapshot.mode=when_needed to snapshot again, or restore the binlog")
	}
	return fmt.Errorf("%s: %w", what, err)
}

func openDB(s *settings) (*sql.DB, error) {
	cfg := driver.NewConfig()
	cfg.User = s.user
	cfg.Passwd = s.password
	cfg.Net = "tcp"
	cfg.Addr = fmt.Sprintf("%s:%d", s.host, s.port)
	cfg.Timeout = s.connectTimeout
	cfg.ParseTime = false
	cfg.InterpolateParams = true
	cfg.AllowNativePasswords = true
	cfg.Params = map[string]string{"time_zone": "'+00:00'", "sql_mode": "''"}
	c, err := driver.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("configuring database connection: %w", err)
	}
	db := sql.OpenDB(c)
	db.SetMaxOpenConns(s.parallelism + 4)
	db.SetMaxIdleConns(s.parallelism + 4)
	db.SetConnMaxLifetime(30 * time.Minute)
	return db, nil
}

func variable(ctx context.Context, db *sql.DB, name string) (string, bool, error) {
	var n, v sql.NullString
	err := db.QueryRowContext(ctx, "SHOW GLOBAL VARIABLES LIKE ?", name).Scan(&n, &v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, classify(err, "reading server variable "+name)
	}
	return v.String, true, nil
}

// serverInfo is what the startup checks learned about the server.
type serverInfo struct {
	flavor   string // gomysql.MySQLFlavor or gomysql.MariaDBFlavor
	version  string
	gtidMode bool // MySQL gtid_mode=ON (MariaDB always has GTIDs)
	serverID uint32
}

// checkServer verifies the server can feed the connector and returns what
// it learned. Misconfiguration is terminal, with the setting to change.
func checkServer(ctx context.Context, db *sql.DB, s *settings) (*serverInfo, error) {
	info := &serverInfo{}
	if err := db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&info.version); err != nil {
		return nil, classify(err, "connecting to "+s.host)
	}
	info.flavor = gomysql.MySQLFlavor
	if strings.Contains(strings.ToLower(info.version), "mariadb") {
		info.flavor = gomysql.MariaDBFlavor
	}
	if s.flavor != "" && s.flavor != info.flavor {
		return nil, connect.Terminal(fmt.Errorf("%s is %q but the server is %s", KeyFlavor, s.flavor, info.version), "fix database.flavor or leave it empty")
	}
	need := []struct{ name, want, hint string }{
		{"log_bin", "ON", "enable the binlog: start the server with log_bin (and server_id)"},
		{"binlog_format", "ROW", "set binlog_format=ROW (SET GLOBAL binlog_format=ROW and in the server config)"},
		{"binlog_row_image", "FULL", "set binlog_row_image=FULL"},
		{"binlog_row_metadata", "FULL", "set binlog_row_metadata=FULL (MySQL >= 8.0.1, MariaDB >= 10.5)"},
	}
	for _, n := range need {
		v, ok, err := variable(ctx, db, n.name)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, connect.Terminal(fmt.Errorf("the server (%s) has no %s variable", info.version, n.name), n.hint)
		}
		if !strings.EqualFold(v, n.want) {
			return nil, connect.Terminal(fmt.Errorf("server variable %s is %s, binlake needs %s", n.name, v, n.want), n.hint)
		}
	}
	if v, _, err := variable(ctx, db, "server_id"); err == nil {
		n, _ := strconv.ParseUint(v, 10, 32)
		info.serverID = uint32(n)
	}
	if info.flavor == gomysql.MySQLFlavor {
		v, _, err := variable(ctx, db, "gtid_mode")
		if err != nil {
			return nil, err
		}
		info.gtidMode = strings.EqualFold(v, "ON")
	}
	if _, err := binlogStatus(ctx, db); err != nil {
		return nil, err
	}
	return info, nil
}

// binlogPos is a binlog file and offset.
type binlogPos struct {
	File string `json:"file"`
	Pos  uint32 `json:"pos"`
}

// less orders positions (binlog file names of one server sort by number).
func (p binlogPos) less(o binlogPos) bool {
	if p.File != o.File {
		if len(p.File) != len(o.File) {
			return len(p.File) < len(o.File)
		}
		return p.File < o.File
	}
	return p.Pos < o.Pos
}

// binlogStatus returns the server's current binlog position.
func binlogStatus(ctx context.Context, db *sql.DB) (binlogPos, error) {
	rows, err := db.QueryContext(ctx, "SHOW MASTER STATUS")
	if err != nil && serverErrNumber(err) == 1064 {
		rows, err = db.QueryContext(ctx, "SHOW BINARY LOG STATUS")
	}
	if err != nil {
		return binlogPos{}, classify(err, "reading the binlog position")
	}
	defer func() { _ = rows.Close() }()
	cols, err := rows.Columns()
	if err != nil {
		return binlogPos{}, fmt.Errorf("reading the binlog position: %w", err)
	}
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return binlogPos{}, classify(err, "reading the binlog position")
		}
		return binlogPos{}, connect.Terminal(errors.New("the server reports no binlog position"), "enable the binlog (log_bin) and grant REPLICATION CLIENT")
	}
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return binlogPos{}, fmt.Errorf("reading the binlog position: %w", err)
	}
	p, err := strconv.ParseUint(string(vals[1]), 10, 32)
	if err != nil {
		return binlogPos{}, fmt.Errorf("parsing binlog position %q: %w", vals[1], err)
	}
	return binlogPos{File: string(vals[0]), Pos: uint32(p)}, nil
}

// gtidExecuted returns the server's executed GTID set in the flavor's
// syntax ("" when GTIDs are off or none were executed yet).
func gtidExecuted(ctx context.Context, db *sql.DB, info *serverInfo) (string, error) {
	var q string
	switch {
	case info.flavor == gomysql.MariaDBFlavor:
		q = "SELECT @@GLOBAL.gtid_binlog_pos"
	case info.gtidMode:
		q = "SELECT @@GLOBAL.gtid_executed"
	default:
		return "", nil
	}
	var s sql.NullString
	if err := db.QueryRowContext(ctx, q).Scan(&s); err != nil {
		return "", classify(err, "reading the executed GTID set")
	}
	return strings.ReplaceAll(strings.TrimSpace(s.String), "\n", ""), nil
}

// binlogFiles lists the binlog files still on the server.
func binlogFiles(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, "SHOW BINARY LOGS")
	if err != nil {
		return nil, classify(err, "listing binlog files")
	}
	defer func() { _ = rows.Close() }()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]sql.RawBytes, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("listing binlog files: %w", err)
		}
		out = append(out, string(vals[0]))
	}
	return out, rows.Err()
}

// listTables returns the captured base tables.
func listTables(ctx context.Context, db *sql.DB, f *Filter) ([]tables.Ref, error) {
	rows, err := db.QueryContext(ctx, "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE='BASE TABLE' ORDER BY TABLE_SCHEMA, TABLE_NAME")
	if err != nil {
		return nil, classify(err, "listing tables")
	}
	defer func() { _ = rows.Close() }()
	var out []tables.Ref
	for rows.Next() {
		var r tables.Ref
		if err := rows.Scan(&r.DB, &r.Name); err != nil {
			return nil, fmt.Errorf("listing tables: %w", err)
		}
		if f.Table(r.DB, r.Name) {
			out = append(out, r)
		}
	}
	return out, rows.Err()
}

// readTable reads a table's current definition from information_schema.
func readTable(ctx context.Context, db *sql.DB, mariadb bool, r tables.Ref) (*tables.Ref, []tables.ColumnSpec, []string, error) {
	rows, err := db.QueryContext(ctx, `SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA
		FROM information_schema.COLUMNS WHERE TABLE_SCHEMA=? AND TABLE_NAME=? ORDER BY ORDINAL_POSITION`, r.DB, r.Name)
	if err != nil {
		return nil, nil, nil, classify(err, "reading columns of "+r.String())
	}
	defer func() { _ = rows.Close() }()
	var specs []tables.ColumnSpec
	for rows.Next() {
		var name, typ, nullable string
		var def, extra sql.NullString
		if err := rows.Scan(&name, &typ, &nullable, &def, &extra); err != nil {
			return nil, nil, nil, fmt.Errorf("reading columns of %s: %w", r, err)
		}
		cs := tables.ColumnSpec{Name: name, Type: typ, Nullable: nullable == "YES"}
		ex := strings.ToLower(extra.String)
		switch {
		case strings.Contains(ex, "default_generated") || strings.Contains(ex, "auto_increment") ||
			strings.Contains(ex, "generated"):
			cs.DefaultExpr = true
		case !def.Valid:
			cs.DefaultNull = cs.Nullable
		case mariadb:
			d := def.String
			switch {
			case d == "NULL":
				cs.DefaultNull = true
			case len(d) >= 2 && d[0] == '\'' && d[len(d)-1] == '\'':
				u := strings.ReplaceAll(d[1:len(d)-1], "''", "'")
				u = strings.ReplaceAll(u, `\\`, `\`)
				cs.Default = &u
			case isNumeric(d):
				cs.Default = &d
			default:
				cs.DefaultExpr = true
			}
		default:
			d := def.String
			cs.Default = &d
		}
		specs = append(specs, cs)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, nil, classify(err, "reading columns of "+r.String())
	}
	if len(specs) == 0 {
		return nil, nil, nil, nil
	}
	krows, err := db.QueryContext(ctx, `SELECT COLUMN_NAME FROM information_schema.STATISTICS
		WHERE TABLE_SCHEMA=? AND TABLE_NAME=? AND INDEX_NAME='PRIMARY' ORDER BY SEQ_IN_INDEX`, r.DB, r.Name)
	if err != nil {
		return nil, nil, nil, classify(err, "reading the primary key of "+r.String())
	}
	defer func() { _ = krows.Close() }()
	var pk []string
	for krows.Next() {
		var c string
		if err := krows.Scan(&c); err != nil {
			return nil, nil, nil, fmt.Errorf("reading the primary key of %s: %w", r, err)
		}
		pk = append(pk, c)
	}
	return &r, specs, pk, krows.Err()
}

func isNumeric(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// quoteIdent quotes a MySQL identifier.
func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }
