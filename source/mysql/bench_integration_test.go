//go:build integration

package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/binlake/binlake/integration/containers"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// writeTransactions writes n transactions of 5 rows each to bench, from
// several connections.
func writeTransactions(b testing.TB, d *sql.DB, n int) {
	b.Helper()
	const writers = 4
	var wg sync.WaitGroup
	errc := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < n; i += writers {
				var sb strings.Builder
				sb.WriteString("BEGIN;")
				for j := 0; j < 5; j++ {
					id := i*5 + j
					fmt.Fprintf(&sb, "INSERT INTO bench VALUES (%d, %d, 'name-%d', %d.25, '2024-01-02 03:04:05.%06d', 12345.67);", id, id%1000, id, id, id%1000000)
				}
				sb.WriteString("COMMIT;")
				if _, err := d.Exec(sb.String()); err != nil {
					errc <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
}

// ceiling reads the binlog from start with a bare BinlogSyncer (same decode
// options as the task) until it has seen rows rows; it returns rows/s.
func ceiling(b testing.TB, m *containers.MySQL, start binlogPos, rows int) float64 {
	b.Helper()
	flavor := gomysql.MySQLFlavor
	if m.Flavor == containers.MariaDB {
		flavor = gomysql.MariaDBFlavor
	}
	s := replication.NewBinlogSyncer(replication.BinlogSyncerConfig{
		ServerID: 4_000_000_000, Flavor: flavor, Host: m.Host, Port: uint16(m.Port), User: m.User, Password: m.Password,
		UseDecimal: true, ParseTime: true, TimestampStringLocation: time.UTC, RenderJSONAsMySQLText: true,
		Logger: nil,
	})
	defer s.Close()
	t0 := time.Now()
	st, err := s.StartSync(gomysql.Position{Name: start.File, Pos: start.Pos})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	seen := 0
	for seen < rows {
		ev, err := st.GetEvent(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if re, ok := ev.Event.(*replication.RowsEvent); ok && string(re.Table.Table) == "bench" {
			seen += len(re.Rows)
		}
	}
	return float64(seen) / time.Since(t0).Seconds()
}

// BenchmarkStreaming prints the task's streaming rate for 5-row
// transactions (events produced by the task, acked at once, no broker) and
// the ceiling of a bare BinlogSyncer reading the same binlog.
// BINLAKE_BENCH_TX sets the number of transactions (default 40000).
func BenchmarkStreaming(b *testing.B) {
	for _, f := range flavors {
		b.Run(string(f), func(b *testing.B) {
			m := server(b, f)
			db := m.NewDatabase(b)
			d := openDBT(b, m, db)
			exec(b, d, "CREATE TABLE bench (id BIGINT PRIMARY KEY, a INT NOT NULL, name VARCHAR(32), x DOUBLE, ts DATETIME(6), amount DECIMAL(12,2))")
			_, _ = d.Exec("SET GLOBAL sync_binlog=0")
			_, _ = d.Exec("SET GLOBAL innodb_flush_log_at_trx_commit=0")
			// A fresh binlog file: a GTID start scans its file from the beginning.
			exec(b, d, "FLUSH BINARY LOGS")
			store := newMemStore()
			name := "bench-" + string(f)
			cfg := baseConfig(m, db)
			cfg[KeyMaxBatchSize] = "4096"
			r := startRunner(b, name, cfg, store, true)
			r.stop() // leaves a checkpoint at the position before the workload
			cp := store.checkpoint(b, name+"/0")
			if cp == nil {
				b.Fatal("no checkpoint after the first start")
			}
			tx := envInt("BINLAKE_BENCH_TX", 40000)
			w0 := time.Now()
			writeTransactions(b, d, tx)
			b.Logf("wrote %d transactions in %v", tx, time.Since(w0))
			rows := 5 * tx
			ceil := ceiling(b, m, binlogPos{File: cp.File, Pos: cp.Pos}, rows)

			b.ResetTimer()
			var rate float64
			for i := 0; i < b.N; i++ {
				// Each iteration replays the same binlog from the checkpoint.
				r := startRunnerOpts(b, name, cfg, newCopy(store), true, true)
				t0 := time.Now() // after Start: connection checks and schema loading excluded
				r.waitCount("all rows", 5*time.Minute, rows)
				rate = float64(rows) / time.Since(t0).Seconds()
				r.stop()
			}
			b.StopTimer()
			// The machine is shared: measure the ceiling again right after and
			// compare with the mean of both.
			ceil2 := ceiling(b, m, binlogPos{File: cp.File, Pos: cp.Pos}, rows)
			mean := (ceil + ceil2) / 2
			b.ReportMetric(rate, "events/s")
			b.ReportMetric(mean, "ceiling_rows/s")
			fmt.Printf("streaming %s: %d events in 5-row transactions: task %.0f events/s; bare BinlogSyncer %.0f rows/s (before %.0f, after %.0f); ratio %.2f\n",
				f, rows, rate, mean, ceil, ceil2, rate/mean)
		})
	}
}

func newCopy(s *memStore) *memStore {
	c := newMemStore()
	s.mu.Lock()
	for k, v := range s.m {
		c.m[k] = append([]byte(nil), v...)
	}
	s.mu.Unlock()
	return c
}

// BenchmarkSnapshot prints the snapshot rate of a table of
// BINLAKE_BENCH_ROWS rows (default 1,000,000) with snapshot.parallelism 2.
func BenchmarkSnapshot(b *testing.B) {
	for _, f := range flavors {
		b.Run(string(f), func(b *testing.B) {
			m := server(b, f)
			db := m.NewDatabase(b)
			d := openDBT(b, m, db)
			n := envInt("BINLAKE_BENCH_ROWS", 1_000_000)
			_, _ = d.Exec("SET GLOBAL sync_binlog=0")
			_, _ = d.Exec("SET GLOBAL innodb_flush_log_at_trx_commit=0")
			w0 := time.Now()
			fillTable(b, d, n)
			b.Logf("filled %d rows in %v", n, time.Since(w0))
			cfg := baseConfig(m, db)
			cfg[KeySnapshotMode] = SnapshotInitialOnly
			cfg[KeySnapshotParallelism] = os.Getenv("BINLAKE_BENCH_PARALLELISM")
			if cfg[KeySnapshotParallelism] == "" {
				cfg[KeySnapshotParallelism] = "2"
			}
			cfg[KeyMaxBatchSize] = "4096"
			b.ResetTimer()
			var rate float64
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				r := startRunnerOpts(b, fmt.Sprintf("snapbench-%s-%d", f, i), cfg, newMemStore(), true, true)
				r.waitCount("snapshot", 10*time.Minute, n)
				rate = float64(n) / time.Since(t0).Seconds()
				r.stop()
			}
			b.StopTimer()
			b.ReportMetric(rate, "rows/s")
			fmt.Printf("snapshot %s: %d rows, parallelism %s, chunk %s: %.0f rows/s\n", f, n, cfg[KeySnapshotParallelism], "8096", rate)
		})
	}
}
