package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// chunk is a range of row ids [from, to] of one table, loaded with one
// multi-row INSERT.
type chunk struct {
	table    string
	from, to int64
}

// chunks splits every table of p into ranges of at most size rows.
func chunks(p plan, size int64) []chunk {
	var out []chunk
	for _, t := range tableNames {
		n := p.count(t)
		for from := int64(1); from <= n; from += size {
			out = append(out, chunk{table: t, from: from, to: min(from+size-1, n)})
		}
	}
	return out
}

// insertSQL builds the multi-row INSERT of c and its arguments.
func insertSQL(p plan, database string, c chunk) (string, []any) {
	cols := columns[c.table]
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", strings.Count(cols, ",")+1), ",") + ")"
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT INTO `%s`.`%s` (%s) VALUES ", database, c.table, cols)
	args := make([]any, 0, int(c.to-c.from+1)*(strings.Count(cols, ",")+1))
	for id := c.from; id <= c.to; id++ {
		if id > c.from {
			b.WriteByte(',')
		}
		b.WriteString(one)
		args = append(args, row(p, c.table, id)...)
	}
	return b.String(), args
}

func runLoad(ctx context.Context, args []string) error {
	var c common
	fs := flag.NewFlagSet("sampledb load", flag.ContinueOnError)
	c.register(fs)
	rows := fs.Int64("rows", 1_000_000, "about how many rows to generate over the four tables")
	conns := fs.Int("conns", 4, "loader connections")
	batch := fs.Int64("batch", 1000, "rows per INSERT statement")
	binlog := fs.Bool("binlog", false, "write the bulk load to the binlog (off: faster; the connector snapshots the tables anyway)")
	recreate := fs.Bool("recreate", false, "drop and regenerate the database even when it holds the planned rows")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *rows < 100 || *conns < 1 || *batch < 1 {
		return fmt.Errorf("-rows must be at least 100, -conns and -batch at least 1")
	}
	p := newPlan(*rows)
	db, err := openDB(c.dsn, *conns+1)
	if err != nil {
		return err
	}
	defer db.Close() //nolint:errcheck // closing at exit
	if err := ping(ctx, db, c.dsn); err != nil {
		return err
	}
	have, err := tableCounts(ctx, db, c.db)
	if err != nil {
		return err
	}
	if have != nil && !*recreate {
		same := true
		for _, t := range tableNames {
			same = same && have[t] == p.count(t)
		}
		if same {
			fmt.Printf("database %s already holds the planned %s rows (customers %s, products %s, orders %s, order_items %s): reusing it\n",
				c.db, thousands(p.Total()), thousands(p.Customers), thousands(p.Products), thousands(p.Orders), thousands(p.Items))
			return nil
		}
	}
	if have != nil {
		fmt.Printf("dropping database %s (it holds other data than planned)\n", c.db)
	}
	if err := createSchema(ctx, db, c.db); err != nil {
		return err
	}
	fmt.Printf("loading %s rows into %s: customers %s, products %s, orders %s, order_items %s (%d connections, %d rows per INSERT)\n",
		thousands(p.Total()), c.db, thousands(p.Customers), thousands(p.Products), thousands(p.Orders), thousands(p.Items), *conns, *batch)
	start := time.Now()
	if err := load(ctx, db, c.db, p, *conns, *batch, *binlog); err != nil {
		return err
	}
	el := time.Since(start).Seconds()
	fmt.Printf("loaded %s rows in %.1fs (%s rows/s)\n", thousands(p.Total()), el, thousands(int64(float64(p.Total())/el)))
	return nil
}

func createSchema(ctx context.Context, db *sql.DB, database string) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connecting to MySQL: %w", err)
	}
	defer conn.Close() //nolint:errcheck // returned to the pool
	stmts := []string{"DROP DATABASE IF EXISTS `" + database + "`",
		"CREATE DATABASE `" + database + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_ai_ci", "USE `" + database + "`"}
	for _, s := range append(stmts, ddl...) {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("creating the sample schema (%.60s...): %w", s, err)
		}
	}
	return nil
}

// load inserts every chunk of p over conns connections and prints progress
// every two seconds.
func load(ctx context.Context, db *sql.DB, database string, p plan, conns int, batch int64, binlog bool) error {
	work := chunks(p, batch)
	var next, done atomic.Int64
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := loadWorker(ctx, db, database, p, work, &next, &done, binlog); err != nil {
				errs <- err
				cancel()
			}
		}()
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	start := time.Now()
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-finished:
			select {
			case err := <-errs:
				return err
			default:
			}
			if ctx.Err() != nil {
				return fmt.Errorf("loading interrupted: %w", ctx.Err())
			}
			return nil
		case <-tick.C:
			n := done.Load()
			fmt.Printf("[%s] loaded %s/%s rows (%.0f%%, %s rows/s)\n", since(start), thousands(n), thousands(p.Total()),
				100*float64(n)/float64(p.Total()), thousands(int64(float64(n)/time.Since(start).Seconds())))
		}
	}
}

func loadWorker(ctx context.Context, db *sql.DB, database string, p plan, work []chunk, next, done *atomic.Int64, binlog bool) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connecting to MySQL: %w", err)
	}
	defer conn.Close() //nolint:errcheck // returned to the pool
	if !binlog {
		if _, err := conn.ExecContext(ctx, "SET SESSION sql_log_bin = 0"); err != nil {
			return fmt.Errorf("turning the binlog off for the bulk load (needs SYSTEM_VARIABLES_ADMIN; or pass -binlog): %w", err)
		}
		defer conn.ExecContext(context.Background(), "SET SESSION sql_log_bin = 1") //nolint:errcheck // the connection is discarded on error
	}
	for {
		i := next.Add(1) - 1
		if i >= int64(len(work)) {
			return nil
		}
		c := work[i]
		q, args := insertSQL(p, database, c)
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return fmt.Errorf("inserting %s rows %d-%d: %w", c.table, c.from, c.to, err)
		}
		done.Add(c.to - c.from + 1)
	}
}
