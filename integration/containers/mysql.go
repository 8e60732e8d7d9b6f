package containers

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/testcontainers/testcontainers-go"
)

// Flavor is the kind of MySQL-protocol server.
type Flavor string

// Flavors of MySQL-protocol servers.
const (
	MySQL8  Flavor = "mysql"   // MySQL 8.0 (GTID mode on)
	MariaDB Flavor = "mariadb" // MariaDB 10.11 (MariaDB GTIDs)
)

// rootPassword is the password of the root-equivalent user of every MySQL-protocol server.
const rootPassword = "binlake"

// MySQL is a running MySQL or MariaDB server with a row-based binlog (binlog_row_image=FULL,
// binlog_row_metadata=FULL). User is root-equivalent and authenticates with mysql_native_password.
type MySQL struct {
	Flavor   Flavor
	Host     string
	Port     int
	User     string
	Password string
	ServerID uint32 // server_id of the server
}

// Addr returns "host:port".
func (m *MySQL) Addr() string { return net.JoinHostPort(m.Host, strconv.Itoa(m.Port)) }

// DSN returns a go-sql-driver/mysql DSN for database db ("" for none), with parseTime=false.
func (m *MySQL) DSN(db string) string {
	cfg := mysql.NewConfig()
	cfg.User = m.User
	cfg.Passwd = m.Password
	cfg.Net = "tcp"
	cfg.Addr = m.Addr()
	cfg.DBName = db
	cfg.ParseTime = false
	cfg.MultiStatements = true
	return cfg.FormatDSN()
}

var dbCounter atomic.Int64

var unsafeName = regexp.MustCompile(`[^a-z0-9_]+`)

// NewDatabase creates a fresh, uniquely named database and returns its name.
func (m *MySQL) NewDatabase(t testing.TB) string {
	t.Helper()
	base := strings.Trim(unsafeName.ReplaceAllString(strings.ToLower(t.Name()), "_"), "_")
	if len(base) > 40 {
		base = base[:40]
	}
	name := fmt.Sprintf("t_%s_%d", base, dbCounter.Add(1))
	db, err := sql.Open("mysql", m.DSN(""))
	if err != nil {
		t.Fatalf("opening %s: %v", m.Addr(), err)
	}
	defer func() { _ = db.Close() }()
	if _, err := db.ExecContext(context.Background(), "CREATE DATABASE `"+name+"`"); err != nil {
		t.Fatalf("creating database %s on %s: %v", name, m.Addr(), err)
	}
	return name
}

// MySQLServer returns the shared server of flavor f, starting it on first use.
func MySQLServer(t testing.TB, f Flavor) *MySQL {
	t.Helper()
	if f != MySQL8 && f != MariaDB {
		t.Fatalf("unknown MySQL flavor %q", f)
	}
	return shared(t, string(f), func(ctx context.Context) (any, error) { return startMySQL(ctx, f) }).(*MySQL)
}

func startMySQL(ctx context.Context, f Flavor) (*MySQL, error) {
	img, err := imageFor(string(f))
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	m := &MySQL{Flavor: f, Host: "127.0.0.1", Port: port, User: "root", Password: rootPassword, ServerID: uint32(100 + port%1000)}
	s := spec{role: string(f), image: img, cmd: serverFlags(f, img, m)}
	switch {
	case isLocalImage(img):
		s.env = map[string]string{"MYSQL_ROOT_PASSWORD": rootPassword, "MYSQL_TCP_PORT": strconv.Itoa(port)}
	case f == MariaDB:
		s.env = map[string]string{"MARIADB_ROOT_PASSWORD": rootPassword, "MARIADB_ROOT_HOST": "%"}
	default:
		s.env = map[string]string{"MYSQL_ROOT_PASSWORD": rootPassword, "MYSQL_ROOT_HOST": "%"}
		if !mysql80(img) {
			// MySQL 8.4+ creates root with caching_sha2_password: switch it to native.
			s.files = []testcontainers.ContainerFile{{
				Reader: strings.NewReader("ALTER USER 'root'@'%' IDENTIFIED WITH mysql_native_password BY '" + rootPassword + "';\n" +
					"ALTER USER 'root'@'localhost' IDENTIFIED WITH mysql_native_password BY '" + rootPassword + "';\n"),
				ContainerFilePath: "/docker-entrypoint-initdb.d/binlake-native-password.sql",
				FileMode:          0o644,
			}}
		}
	}
	c, err := startContainer(ctx, s)
	if err != nil {
		return nil, err
	}
	if err := waitReady(ctx, c, fmt.Sprintf("%s on %s", f, m.Addr()), m.probe); err != nil {
		return nil, err
	}
	return m, nil
}

// serverFlags returns the mysqld/mariadbd options every image gets (the local images' entry
// points and the official images both pass arguments to the server).
func serverFlags(f Flavor, img string, m *MySQL) []string {
	flags := []string{
		"--port=" + strconv.Itoa(m.Port),
		"--bind-address=127.0.0.1",
		"--server-id=" + strconv.FormatUint(uint64(m.ServerID), 10),
		"--log-bin=mysql-bin",
		"--binlog-format=ROW",
		"--binlog-row-image=FULL",
		"--binlog-row-metadata=FULL",
		"--character-set-server=utf8mb4",
		"--skip-name-resolve",
		"--max-connections=500",
	}
	if f == MariaDB {
		return flags
	}
	flags = append(flags, "--gtid-mode=ON", "--enforce-gtid-consistency=ON", "--mysqlx=OFF")
	switch {
	case isLocalImage(img) || mysql80(img):
		flags = append(flags, "--default-authentication-plugin=mysql_native_password")
	default:
		flags = append(flags, "--mysql-native-password=ON")
	}
	return flags
}

// mysql80 reports whether an official MySQL image reference is MySQL 8.0 (which still has
// --default-authentication-plugin and loads mysql_native_password by default).
func mysql80(img string) bool {
	tag := imageTag(img)
	return tag == "8" || tag == "8.0" || strings.HasPrefix(tag, "8.0.") || strings.HasPrefix(tag, "8.0-")
}

// probe succeeds when a query runs and the server reports a binlog position.
func (m *MySQL) probe(ctx context.Context) error {
	db, err := sql.Open("mysql", m.DSN(""))
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	var one int
	if err := db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("querying: %w", err)
	}
	file, pos, err := BinlogPosition(ctx, db)
	if err != nil {
		return err
	}
	if file == "" || pos == 0 {
		return fmt.Errorf("binary log is off (status %q/%d)", file, pos)
	}
	return nil
}

// BinlogPosition returns the server's current binlog file and position (SHOW MASTER STATUS, or
// SHOW BINARY LOG STATUS on MySQL 8.4+).
func BinlogPosition(ctx context.Context, db *sql.DB) (string, uint64, error) {
	var lastErr error
	for _, q := range []string{"SHOW MASTER STATUS", "SHOW BINARY LOG STATUS"} {
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			lastErr = err
			continue
		}
		file, pos, err := scanPosition(rows)
		if err != nil {
			return "", 0, fmt.Errorf("reading %s: %w", q, err)
		}
		return file, pos, nil
	}
	return "", 0, fmt.Errorf("reading binlog status: %w", lastErr)
}

func scanPosition(rows *sql.Rows) (string, uint64, error) {
	defer func() { _ = rows.Close() }()
	cols, err := rows.Columns()
	if err != nil {
		return "", 0, err
	}
	if !rows.Next() {
		return "", 0, rows.Err()
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return "", 0, err
	}
	if len(vals) < 2 {
		return "", 0, fmt.Errorf("unexpected binlog status columns %v", cols)
	}
	pos, err := strconv.ParseUint(vals[1].String, 10, 64)
	if err != nil {
		return "", 0, fmt.Errorf("parsing position %q: %w", vals[1].String, err)
	}
	return vals[0].String, pos, rows.Err()
}
