//go:build integration

package integration

// The end-to-end benchmarks `make bench` runs: the real worker binary (workerproc) with mysql-source and lake-sink
// created over REST, MySQL 8 and RocketMQ in local containers, figures read from the worker's /metrics. Each figure's
// setup is printed on a "benchsetup:" line that internal/benchtable puts in the table next to the figure.

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/integration/containers"
	"github.com/binlake/binlake/integration/workerproc"
	"github.com/binlake/binlake/internal/benchtable"
)

// benchEnvInt reads a positive integer from the environment, def when unset or invalid.
func benchEnvInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// benchSetup prints the setup of one figure of b for internal/benchtable.
func benchSetup(b *testing.B, topic, format string, args ...any) {
	fmt.Printf("%s%s %s: %s\n", benchtable.SetupPrefix, b.Name(), topic, fmt.Sprintf(format, args...))
}

// benchDatabase creates a fresh database and opens it with a pool big enough for the parallel writers.
func benchDatabase(b *testing.B, my *containers.MySQL) (string, *sql.DB) {
	b.Helper()
	name := my.NewDatabase(b)
	db, err := sql.Open("mysql", my.DSN(name))
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	b.Cleanup(func() { _ = db.Close() })
	// Benchmarks measure binlake, not the server's fsyncs; the setting is global on the shared benchmark server.
	for _, q := range []string{"SET GLOBAL sync_binlog=0", "SET GLOBAL innodb_flush_log_at_trx_commit=0"} {
		if _, err := db.Exec(q); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
	return name, db
}

// benchScrape reads the worker's /metrics.
func benchScrape(w *workerproc.Worker) ([]benchtable.Sample, error) {
	resp, err := http.Get(w.BaseURL + "/metrics")
	if err != nil {
		return nil, fmt.Errorf("scraping the worker's metrics: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scraping the worker's metrics: status %d", resp.StatusCode)
	}
	return benchtable.ParseMetrics(resp.Body)
}

// benchMustScrape is benchScrape that fails the benchmark on an error.
func benchMustScrape(b *testing.B, w *workerproc.Worker) []benchtable.Sample {
	b.Helper()
	s, err := benchScrape(w)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// benchSentCount is the number of messages of connector the broker acknowledged (the producer send histogram's count).
func benchSentCount(s []benchtable.Sample, connector string) float64 {
	return benchtable.Sum(s, "binlake_producer_send_seconds_count", map[string]string{"connector": connector})
}

// benchSinkCount is the number of records connector committed to the lake.
func benchSinkCount(s []benchtable.Sample, connector string) float64 {
	return benchtable.Sum(s, "binlake_sink_records_total", map[string]string{"connector": connector})
}

// benchWorkerCPU is the worker process's CPU seconds (user + system) so far.
func benchWorkerCPU(s []benchtable.Sample) float64 {
	return benchtable.Sum(s, "process_cpu_seconds_total", nil)
}

// benchWaitTaskState waits until every task of the connector reports state.
func benchWaitTaskState(b *testing.B, w *workerproc.Worker, name, state string) {
	b.Helper()
	workerproc.WaitFor(b, 2*time.Minute, name+" "+state, func() (bool, error) {
		r, err := w.Do("GET", "/connectors/"+name+"/status", nil)
		if err != nil {
			return false, err
		}
		var st struct {
			Tasks []struct {
				State string `json:"state"`
				Trace string `json:"trace"`
			} `json:"tasks"`
		}
		if err := r.JSON(&st); err != nil {
			return false, fmt.Errorf("decoding %s: %w", r.Body, err)
		}
		if len(st.Tasks) == 0 {
			return false, fmt.Errorf("no task yet: %s", r.Body)
		}
		for _, t := range st.Tasks {
			if t.State == "FAILED" {
				b.Fatalf("%s failed: %s", name, t.Trace)
			}
			if t.State != state {
				return false, fmt.Errorf("task state %s", t.State)
			}
		}
		return true, nil
	})
}

// benchSourceConfig is the mysql-source config of the benchmarks.
func benchSourceConfig(my *containers.MySQL, dbName, table string, extra map[string]string) map[string]string {
	cfg := sourceConfig(my, dbName, "bench", map[string]string{
		"table.include.list":    dbName + `\.` + table,
		"heartbeat.interval.ms": "60000",
		"max.batch.size":        "4096",
	})
	maps.Copy(cfg, extra)
	return cfg
}

// benchBinlogEnd returns the server's current binlog file and position (SHOW MASTER STATUS, MySQL 8.0).
func benchBinlogEnd(b *testing.B, db *sql.DB) gomysql.Position {
	b.Helper()
	rows, err := db.Query("SHOW MASTER STATUS")
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		b.Fatal(err)
	}
	if !rows.Next() {
		b.Fatalf("SHOW MASTER STATUS returned no row (binary log off?): %v", rows.Err())
	}
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		b.Fatal(err)
	}
	pos, err := strconv.ParseUint(string(vals[1]), 10, 32)
	if err != nil {
		b.Fatalf("parsing the binlog position %q: %v", vals[1], err)
	}
	return gomysql.Position{Name: string(vals[0]), Pos: uint32(pos)}
}

// benchBinlogCeiling reads the binlog from start with a bare BinlogSyncer (the source's decode options, events discarded)
// until it has seen rows row changes of table; it returns rows/s.
func benchBinlogCeiling(b *testing.B, my *containers.MySQL, start gomysql.Position, table string, rows int) float64 {
	b.Helper()
	s := replication.NewBinlogSyncer(replication.BinlogSyncerConfig{
		ServerID: 3_900_000_000, Flavor: gomysql.MySQLFlavor, Host: my.Host, Port: uint16(my.Port), User: my.User,
		Password: my.Password, UseDecimal: true, ParseTime: true, TimestampStringLocation: time.UTC,
		RenderJSONAsMySQLText: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	defer s.Close()
	t0 := time.Now()
	st, err := s.StartSync(start)
	if err != nil {
		b.Fatalf("starting the bare BinlogSyncer: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	seen := 0
	for seen < rows {
		ev, err := st.GetEvent(ctx)
		if err != nil {
			b.Fatalf("reading the binlog with the bare BinlogSyncer after %d rows: %v", seen, err)
		}
		if re, ok := ev.Event.(*replication.RowsEvent); ok && string(re.Table.Table) == table {
			seen += len(re.Rows)
		}
	}
	return float64(seen) / time.Since(t0).Seconds()
}

// benchWriteFiveRowTransactions writes n transactions of 5 inserted rows each to the streaming table from 4 connections.
func benchWriteFiveRowTransactions(b *testing.B, db *sql.DB, n int) {
	b.Helper()
	const writers = 4
	var wg sync.WaitGroup
	errc := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += writers {
				var sb strings.Builder
				sb.WriteString("INSERT INTO stream VALUES ")
				for j := range 5 {
					id := 10 + i*5 + j
					if j > 0 {
						sb.WriteByte(',')
					}
					fmt.Fprintf(&sb, "(%d, %d, 'name-%d', %d.25, '2024-01-02 03:04:05.%06d', 12345.67)", id, id%1000, id, id, id%1000000)
				}
				// One statement is one transaction of 5 row changes (autocommit).
				if _, err := db.Exec(sb.String()); err != nil {
					errc <- fmt.Errorf("writing the streaming workload: %w", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
}

// BenchmarkStreamingToRocketMQ measures the real worker streaming 5-row transactions from MySQL 8 into RocketMQ:
// the source is paused, BINLAKE_BENCH_TX transactions (default 40,000) are written, the source is resumed and the
// rate is the broker-acknowledged messages per second (binlake_producer_send_seconds_count) from the first to the
// last. The ceiling is a bare BinlogSyncer reading the same binlog, measured before and after (the mean is
// reported).
func BenchmarkStreamingToRocketMQ(b *testing.B) {
	my := containers.MySQLServer(b, containers.MySQL8)
	mq := containers.RocketMQServer(b)
	dbName, db := benchDatabase(b, my)
	if _, err := db.Exec("CREATE TABLE stream (id BIGINT PRIMARY KEY, a INT NOT NULL, name VARCHAR(32), x DOUBLE, ts DATETIME(6), amount DECIMAL(12,2))"); err != nil {
		b.Fatal(err)
	}
	w := workerproc.Start(b, workerproc.Options{NamesrvAddr: mq.NamesrvAddr})
	const name = "bench-stream"
	w.MustDo("POST", "/connectors/"+name, benchSourceConfig(my, dbName, "stream", map[string]string{"snapshot.mode": "never"}), 201)
	benchWaitTaskState(b, w, name, "RUNNING")
	// A warm-up transaction: the topic exists and the source has a checkpoint before the measured run.
	if _, err := db.Exec("INSERT INTO stream VALUES (1,1,'warm',1,NULL,1),(2,1,'warm',1,NULL,1),(3,1,'warm',1,NULL,1),(4,1,'warm',1,NULL,1),(5,1,'warm',1,NULL,1)"); err != nil {
		b.Fatal(err)
	}
	workerproc.WaitFor(b, 2*time.Minute, "the warm-up transaction in RocketMQ", func() (bool, error) {
		s, err := benchScrape(w)
		if err != nil {
			return false, err
		}
		n := benchSentCount(s, name)
		return n >= 5, fmt.Errorf("%v messages acknowledged", n)
	})
	w.MustDo("PUT", "/connectors/"+name+"/pause", nil, 202)
	benchWaitTaskState(b, w, name, "PAUSED")
	// A poll in flight when the pause came may still send the first transactions written below: the run is done when
	// the count passes paused+rows, and the rate counts from the first send after the resume.
	paused := benchSentCount(benchMustScrape(b, w), name)

	tx := benchEnvInt("BINLAKE_BENCH_TX", 40_000)
	rows := 5 * tx
	start := benchBinlogEnd(b, db)
	w0 := time.Now()
	benchWriteFiveRowTransactions(b, db, tx)
	b.Logf("wrote %d transactions in %v", tx, time.Since(w0))
	ceil1 := benchBinlogCeiling(b, my, start, "stream", rows)

	atResume := benchMustScrape(b, w)
	resumed, cpu0 := benchSentCount(atResume, name), benchWorkerCPU(atResume)
	b.ResetTimer()
	tResume := time.Now()
	w.MustDo("PUT", "/connectors/"+name+"/resume", nil, 202)
	profiled := benchCPUProfile(b, w, 10*time.Second)
	defer profiled()
	var (
		t0, t1 time.Time
		c0, c1 float64
		cpu1   float64
	)
	deadline := time.Now().Add(5 * time.Minute)
	for {
		now := time.Now()
		sc := benchMustScrape(b, w)
		c := benchSentCount(sc, name)
		cpu1 = benchWorkerCPU(sc)
		if t0.IsZero() && c > resumed {
			t0, c0 = now, c
		}
		if c-paused >= float64(rows) {
			t1, c1 = now, c
			break
		}
		if now.After(deadline) {
			b.Fatalf("only %v of %d events acknowledged by RocketMQ after 5 minutes; worker log:\n%s", c-paused, rows, w.Log())
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.StopTimer()
	if !t1.After(t0) { // everything arrived between two scrapes
		t0, c0 = tResume, resumed
	}
	rate := (c1 - c0) / t1.Sub(t0).Seconds()
	ceil2 := benchBinlogCeiling(b, my, start, "stream", rows)
	ceil := (ceil1 + ceil2) / 2
	b.ReportMetric(rate, "events/s")
	b.ReportMetric(ceil, "ceiling_rows/s")
	if cpu1 > cpu0 {
		b.ReportMetric((c1-resumed)/(cpu1-cpu0), "events/worker-cpu-s")
	}
	benchSetup(b, "streaming", "real worker (mysql-source, Avro, embedded registry) into RocketMQ 5 (container), MySQL 8 container; "+
		"%d events in 5-row transactions written while the source was paused, then resumed; events acknowledged by the broker per second, first to last",
		rows)
	benchSetup(b, "ceiling", "the same %d-row binlog read by a bare go-mysql BinlogSyncer (same decode options), mean of a read before (%.0f rows/s) and after (%.0f rows/s) the worker's run",
		rows, ceil1, ceil2)
	fmt.Printf("streaming to RocketMQ: %d events: %.0f events/s; ceiling %.0f rows/s (before %.0f, after %.0f); ratio %.2f\n",
		rows, rate, ceil, ceil1, ceil2, rate/ceil)
}

// benchMigrationTable is the 12-column table of BenchmarkMigration.
const benchMigrationTable = `CREATE TABLE orders (
	id BIGINT PRIMARY KEY,
	customer_id INT NOT NULL,
	qty SMALLINT NOT NULL,
	name VARCHAR(64) NOT NULL,
	email VARCHAR(128) NULL,
	price DECIMAL(12,2) NOT NULL,
	score DOUBLE NOT NULL,
	created DATETIME(6) NOT NULL,
	updated TIMESTAMP(3) NOT NULL,
	birthday DATE NULL,
	active TINYINT(1) NOT NULL,
	note TEXT NULL)`

// benchFillOrders inserts rows 1..n into orders, generated on the server (INSERT ... SELECT over a digits table) in chunks
// of 100,000 rows from 2 connections.
func benchFillOrders(b *testing.B, db *sql.DB, n int) {
	b.Helper()
	for _, q := range []string{
		"CREATE TABLE digits (d INT PRIMARY KEY)",
		"INSERT INTO digits VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9)",
	} {
		if _, err := db.Exec(q); err != nil {
			b.Fatal(err)
		}
	}
	const chunk = 100_000
	const fill = `INSERT INTO orders
SELECT id, id %% 100000, id %% 1000, CONCAT('customer-', id), IF(id %% 7 = 0, NULL, CONCAT('user', id, '@example.com')),
	(id %% 100000) / 100, id * 0.37, TIMESTAMP('2024-01-01 00:00:00') + INTERVAL id * 1001 MICROSECOND,
	TIMESTAMP('2024-06-01 00:00:00') + INTERVAL id * 500 MICROSECOND, IF(id %% 5 = 0, NULL, DATE('1950-01-01') + INTERVAL id %% 20000 DAY),
	id %% 2, IF(id %% 3 = 0, NULL, CONCAT('note ', id, ' ', REPEAT('x', id %% 40)))
FROM (SELECT %d + d1.d + 10*d2.d + 100*d3.d + 1000*d4.d + 10000*d5.d + 1 AS id
	FROM digits d1, digits d2, digits d3, digits d4, digits d5) g
WHERE id <= %d`
	chunks := make(chan int, (n+chunk-1)/chunk)
	for off := 0; off < n; off += chunk {
		chunks <- off
	}
	close(chunks)
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for off := range chunks {
				if _, err := db.Exec(fmt.Sprintf(fill, off, n)); err != nil {
					errc <- fmt.Errorf("filling orders from row %d: %w", off+1, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	var got int
	if err := db.QueryRow("SELECT COUNT(*) FROM orders").Scan(&got); err != nil {
		b.Fatal(err)
	}
	if got != n {
		b.Fatalf("orders has %d rows after the fill, want %d", got, n)
	}
}

// BenchmarkMigration measures the end-to-end migration of a 12-column MySQL 8 table of BINLAKE_BENCH_ROWS rows
// (default 1,000,000) into Iceberg by the real worker: lake-sink (upsert, SQLite catalog, local warehouse) and
// mysql-source (initial snapshot) created over REST, timed from the first REST call until the sink's committed
// records (binlake_sink_records_total) reach the table size. It also reports the snapshot's rate into RocketMQ, the
// worker's peak RSS (VmHWM) over the migration, and then the freshness p50/p99 (binlake_sink_freshness_seconds,
// bucket deltas over the window) while a writer updates rows at BINLAKE_BENCH_RATE events/s (default 5,000) for
// BINLAKE_BENCH_FRESH_SECONDS (default 30). The sink's commit.interval.ms is BINLAKE_BENCH_COMMIT_MS (default 1000).
func BenchmarkMigration(b *testing.B) {
	n := benchEnvInt("BINLAKE_BENCH_ROWS", 1_000_000)
	rate := benchEnvInt("BINLAKE_BENCH_RATE", 5_000)
	window := time.Duration(benchEnvInt("BINLAKE_BENCH_FRESH_SECONDS", 30)) * time.Second
	commitInterval := strconv.Itoa(benchEnvInt("BINLAKE_BENCH_COMMIT_MS", 1000))
	my := containers.MySQLServer(b, containers.MySQL8)
	mq := containers.RocketMQServer(b)
	dbName, db := benchDatabase(b, my)
	if _, err := db.Exec(benchMigrationTable); err != nil {
		b.Fatal(err)
	}
	f0 := time.Now()
	benchFillOrders(b, db, n)
	b.Logf("filled %d rows in %v", n, time.Since(f0))

	lakeDir := workerproc.TestDir(b, "lake")
	w := workerproc.Start(b, workerproc.Options{NamesrvAddr: mq.NamesrvAddr})
	const source, sink = "bench-mig-source", "bench-mig-sink"
	topic := connect.TopicName("bench", dbName, "orders")

	cpu0 := benchWorkerCPU(benchMustScrape(b, w))
	b.ResetTimer()
	t0 := time.Now()
	w.MustDo("POST", "/connectors/"+sink, lakeTable{sqlite: filepath.Join(lakeDir, "catalog.db"), warehouse: "file://" + filepath.Join(lakeDir, "warehouse")}.
		sinkConfig(topic, "upsert", commitInterval, "0"), 201)
	w.MustDo("POST", "/connectors/"+source, benchSourceConfig(my, dbName, "orders", map[string]string{"snapshot.mode": "initial", "snapshot.parallelism": "2"}), 201)
	var (
		snapDone time.Duration
		s        []benchtable.Sample
	)
	deadline := t0.Add(30 * time.Minute)
	for {
		s = benchMustScrape(b, w)
		if snapDone == 0 && benchSentCount(s, source) >= float64(n) {
			snapDone = time.Since(t0)
		}
		if benchSinkCount(s, sink) >= float64(n) {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("the lake has %v of %d rows after 30 minutes; worker log:\n%s", benchSinkCount(s, sink), n, w.Log())
		}
		time.Sleep(250 * time.Millisecond)
	}
	elapsed := time.Since(t0)
	b.StopTimer()
	peak, err := w.PeakRSS()
	if err != nil {
		b.Fatal(err)
	}
	if snapDone == 0 {
		snapDone = elapsed
	}
	b.ReportMetric(float64(n)/elapsed.Seconds(), "rows/s")
	b.ReportMetric(float64(n)/snapDone.Seconds(), "snapshot_mq_rows/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak_rss_MiB")
	cpu := benchWorkerCPU(s) - cpu0
	if cpu > 0 {
		b.ReportMetric(float64(n)/cpu, "rows/worker-cpu-s")
	}
	sinkLabels := map[string]string{"connector": sink}
	commits := benchtable.Sum(s, "binlake_sink_commits_total", sinkLabels)
	if commits > 0 {
		b.ReportMetric(1000*benchtable.Sum(s, "binlake_sink_commit_seconds_sum", sinkLabels)/commits, "ms/commit")
	}
	benchSetup(b, "migration", "%s rows x 12 columns (bigint, int, smallint, 2 varchar, decimal, double, datetime(6), timestamp(3), date, tinyint(1), text) "+
		"MySQL 8 -> RocketMQ -> Iceberg: one worker process, mysql-source (snapshot.mode initial, snapshot.parallelism 2, max.batch.size 4096) + lake-sink (upsert, SQLite catalog, local file warehouse, commit.interval.ms %s, maintenance off); "+
		"from the first REST call until binlake_sink_records_total reached the row count (%.1f s)",
		benchtable.Thousands(float64(n)), commitInterval, elapsed.Seconds())
	benchSetup(b, "snapshot", "same run: from the first REST call until RocketMQ acknowledged all %s snapshot rows (%.1f s), the sink consuming concurrently",
		benchtable.Thousands(float64(n)), snapDone.Seconds())
	benchSetup(b, "rss", "VmHWM of the worker process from its start to the end of the %s-row migration", benchtable.Thousands(float64(n)))
	benchSetup(b, "cpu", "the worker process's CPU time over the migration (process_cpu_seconds_total: %.1f s); MySQL and RocketMQ not counted", cpu)
	fmt.Printf("migration: %d rows in %.1fs: %.0f rows/s; snapshot into RocketMQ %.0f rows/s; peak RSS %.0f MiB; worker CPU %.1fs; %.0f lake commits\n",
		n, elapsed.Seconds(), float64(n)/elapsed.Seconds(), float64(n)/snapDone.Seconds(), float64(peak)/(1<<20), cpu, commits)

	benchMeasureFreshness(b, w, db, sink, n, rate, window, commitInterval)
}

// benchMeasureFreshness runs the fixed-rate writer for window and reports the freshness quantiles of the rows it changed.
func benchMeasureFreshness(b *testing.B, w *workerproc.Worker, db *sql.DB, sink string, n, rate int, window time.Duration, commitInterval string) {
	b.Helper()
	time.Sleep(3 * time.Second) // the last migration commit settles
	labels := map[string]string{"connector": sink}
	before := benchMustScrape(b, w)
	h0, err := benchtable.Histogram(before, "binlake_sink_freshness_seconds", labels)
	if err != nil {
		b.Fatal(err)
	}
	recs0 := benchSinkCount(before, sink)

	events, elapsed := benchFixedRateUpdates(b, db, n, rate, window)
	achieved := float64(events) / elapsed.Seconds()
	b.Logf("writer: %d events in %v (%.0f events/s, asked %d)", events, elapsed, achieved, rate)

	var after []benchtable.Sample
	workerproc.WaitFor(b, 3*time.Minute, "the writer's rows in the lake", func() (bool, error) {
		s, err := benchScrape(w)
		if err != nil {
			return false, err
		}
		after = s
		got := benchSinkCount(s, sink) - recs0
		return got >= float64(events), fmt.Errorf("%v of %d rows committed", got, events)
	})
	h1, err := benchtable.Histogram(after, "binlake_sink_freshness_seconds", labels)
	if err != nil {
		b.Fatal(err)
	}
	d, err := benchtable.Delta(h0, h1)
	if err != nil {
		b.Fatal(err)
	}
	p50, p99 := benchtable.Quantile(0.5, d), benchtable.Quantile(0.99, d)
	if math.IsNaN(p50) || math.IsNaN(p99) {
		b.Fatalf("no freshness observation in the window (%v observations)", benchtable.Total(d))
	}
	b.ReportMetric(p50, "fresh_p50_s")
	b.ReportMetric(p99, "fresh_p99_s")
	b.ReportMetric(achieved, "writer_events/s")
	benchSetup(b, "freshness", "after the migration, updates of 5 rows per transaction at %s events/s asked (%s sustained) for %s; commit.interval.ms %s; "+
		"quantiles of the bucket deltas of binlake_sink_freshness_seconds over the window (%s observations), interpolated like histogram_quantile",
		benchtable.Thousands(float64(rate)), benchtable.Thousands(achieved), window, commitInterval, benchtable.Thousands(benchtable.Total(d)))
	benchSetup(b, "writer", "%s events/s asked; 4 connections, UPDATE of 5 consecutive rows per autocommit statement, paced on a fixed schedule", benchtable.Thousands(float64(rate)))
	fmt.Printf("freshness at %.0f events/s (asked %d), commit.interval.ms %s: p50 %.2fs p99 %.2fs over %.0f rows\n",
		achieved, rate, commitInterval, p50, p99, benchtable.Total(d))
}

// benchFixedRateUpdates updates rows of orders, 5 consecutive ids per statement (one transaction), from 4 connections
// paced to rate events/s in total for window; a connection that falls behind its schedule catches up without
// sleeping. It returns the row changes made and the time taken.
func benchFixedRateUpdates(b *testing.B, db *sql.DB, n, rate int, window time.Duration) (int64, time.Duration) {
	b.Helper()
	const writers, perTx = 4, 5
	interval := time.Duration(float64(time.Second) * perTx * writers / float64(rate)) // per connection
	var (
		events atomic.Int64
		next   atomic.Int64 // next statement number: the ids it updates
		wg     sync.WaitGroup
	)
	errc := make(chan error, writers)
	start := time.Now()
	end := start.Add(window)
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			due := start.Add(time.Duration(g) * interval / writers)
			for due.Before(end) {
				if d := time.Until(due); d > 0 {
					time.Sleep(d)
				}
				first := (next.Add(1)-1)*perTx%int64(n-perTx) + 1
				res, err := db.Exec("UPDATE orders SET qty = qty + 1, updated = NOW(3) WHERE id BETWEEN ? AND ?", first, first+perTx-1)
				if err != nil {
					errc <- fmt.Errorf("running the fixed-rate writer: %w", err)
					return
				}
				k, err := res.RowsAffected()
				if err != nil {
					errc <- err
					return
				}
				events.Add(k)
				due = due.Add(interval)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errc)
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	return events.Load(), elapsed
}

// benchCPUProfile, when BINLAKE_BENCH_CPUPROFILE names a file (and the worker runs with BINLAKE_DEBUG_PPROF=true),
// records the worker's CPU profile for d from now into that file; the returned function waits for it.
func benchCPUProfile(b *testing.B, w *workerproc.Worker, d time.Duration) func() {
	path := os.Getenv("BINLAKE_BENCH_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		url := fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", w.BaseURL, int(d.Seconds()))
		resp, err := http.Get(url) //nolint:gosec // the test's own worker
		if err != nil {
			b.Logf("CPU profile: %v", err)
			return
		}
		defer func() { _ = resp.Body.Close() }()
		data, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Logf("CPU profile: HTTP %d, %v (run with BINLAKE_DEBUG_PPROF=true)", resp.StatusCode, err)
			return
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			b.Logf("CPU profile: %v", err)
			return
		}
		b.Logf("worker CPU profile of %v in %s", d, path)
	}()
	return func() { <-done }
}
