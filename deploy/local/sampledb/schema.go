package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// ddl creates the four tables of the sample database; together they use
// every common MySQL type (signed and unsigned integers, DECIMAL, utf8mb4
// VARCHAR and TEXT, DATETIME(6), TIMESTAMP, DATE, JSON, ENUM, BLOB, BOOL)
// and nullable columns.
var ddl = []string{
	`CREATE TABLE customers (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  email VARCHAR(255) NOT NULL,
  name VARCHAR(100) NOT NULL,
  tier ENUM('bronze','silver','gold','platinum') NOT NULL DEFAULT 'bronze',
  birth_date DATE NULL,
  credit_limit DECIMAL(12,2) NULL,
  preferences JSON NULL,
  avatar BLOB NULL,
  notes TEXT NULL,
  created_at DATETIME(6) NOT NULL,
  updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
	`CREATE TABLE products (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  sku VARCHAR(32) NOT NULL,
  name VARCHAR(200) NOT NULL,
  description TEXT NULL,
  price DECIMAL(10,2) NOT NULL,
  weight_grams INT UNSIGNED NULL,
  stock INT NOT NULL,
  status ENUM('active','discontinued') NOT NULL,
  attributes JSON NULL,
  created_at DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
	`CREATE TABLE orders (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  customer_id INT NOT NULL,
  status ENUM('new','paid','shipped','delivered','cancelled') NOT NULL,
  total DECIMAL(14,2) NOT NULL,
  currency CHAR(3) NOT NULL,
  tracking_no BIGINT UNSIGNED NULL,
  ship_date DATE NULL,
  shipping_address JSON NULL,
  note VARCHAR(255) NULL,
  placed_at DATETIME(6) NOT NULL,
  updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  KEY idx_customer (customer_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
	`CREATE TABLE order_items (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  order_id BIGINT NOT NULL,
  product_id INT NOT NULL,
  quantity SMALLINT NOT NULL,
  unit_price DECIMAL(10,2) NOT NULL,
  discount DECIMAL(5,4) NULL,
  gift_wrap BOOL NOT NULL DEFAULT FALSE,
  KEY idx_order (order_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
}

// tableNames lists the sample tables in load order.
var tableNames = []string{"customers", "products", "orders", "order_items"}

// plan is how many rows each table gets.
type plan struct {
	Customers, Products, Orders, Items int64
}

// newPlan splits about total rows over the tables: 5% customers, 1%
// products (at least 20 of each), 24% orders and the rest order items (about
// three per order).
func newPlan(total int64) plan {
	p := plan{Customers: max(total*5/100, 20), Products: max(total/100, 20), Orders: max(total*24/100, 20)}
	p.Items = max(total-p.Customers-p.Products-p.Orders, p.Orders)
	return p
}

// Total is the number of rows of the plan.
func (p plan) Total() int64 { return p.Customers + p.Products + p.Orders + p.Items }

// count returns the planned rows of a table.
func (p plan) count(table string) int64 {
	switch table {
	case "customers":
		return p.Customers
	case "products":
		return p.Products
	case "orders":
		return p.Orders
	default:
		return p.Items
	}
}

// openDB opens the server (no default database) with the session settings
// the generator relies on: UTC and client-side interpolation.
func openDB(dsn string, conns int) (*sql.DB, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("parsing the MySQL DSN: %w", err)
	}
	cfg.InterpolateParams = true
	cfg.ParseTime = false
	cfg.MultiStatements = false
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["time_zone"] = "'+00:00'"
	cfg.MaxAllowedPacket = 16 << 20
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return nil, fmt.Errorf("opening MySQL: %w", err)
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	return db, nil
}

// ping checks the connection and explains the usual causes of a failure.
func ping(ctx context.Context, db *sql.DB, dsn string) error {
	if err := db.PingContext(ctx); err != nil {
		var me *mysql.MySQLError
		if errors.As(err, &me) && me.Number == 1045 {
			return fmt.Errorf("MySQL rejected the credentials of %s: %w", redact(dsn), err)
		}
		return fmt.Errorf("connecting to MySQL (%s; is the binlake-qs-mysql container running? `docker logs binlake-qs-mysql`): %w", redact(dsn), err)
	}
	return nil
}

// redact hides the password of a DSN.
func redact(dsn string) string {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	if cfg.Passwd != "" {
		cfg.Passwd = "***"
	}
	return strings.Replace(cfg.FormatDSN(), "%2A%2A%2A", "***", 1)
}

// tableCounts returns the row count of each sample table, or nil when the
// database or one of the tables does not exist.
func tableCounts(ctx context.Context, db *sql.DB, database string) (map[string]int64, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ? AND table_name IN (?, ?, ?, ?)`,
		database, tableNames[0], tableNames[1], tableNames[2], tableNames[3]).Scan(&n)
	if err != nil {
		return nil, fmt.Errorf("looking up the tables of %s: %w", database, err)
	}
	if n != len(tableNames) {
		return nil, nil
	}
	out := make(map[string]int64, len(tableNames))
	for _, t := range tableNames {
		var c int64
		if err := db.QueryRowContext(ctx, fmt.Sprintf("SELECT COUNT(*) FROM `%s`.`%s`", database, t)).Scan(&c); err != nil {
			return nil, fmt.Errorf("counting %s.%s: %w", database, t, err)
		}
		out[t] = c
	}
	return out, nil
}
