//go:build integration

package integration

import (
	"os"
	"testing"
	"time"
)

// TestEndToEndKillWorker is TestEndToEnd with the worker killed by SIGKILL 20 times at random points, commits
// included, while writes go on.
func TestEndToEndKillWorker(t *testing.T) {
	t.Parallel() // mostly waits on servers and commit intervals; runs beside the other end-to-end tests
	runEndToEnd(t, 20, 0)
}

// TestEndToEnd drives binlake like a user: a real MySQL 8 server, a real RocketMQ broker, the binlake worker binary
// managed over REST, and Iceberg tables read back by pyiceberg. Writes go on (inserts, updates, primary-key changes,
// deletes) while the worker runs; afterwards the upsert table equals the MySQL table and the append (changelog) table
// holds exactly one row per source event. TestEndToEndKillWorker runs the same with 20 SIGKILLs.
func TestEndToEnd(t *testing.T) {
	t.Parallel() // mostly waits on servers and commit intervals; runs beside the other end-to-end tests
	writeFor := 8 * time.Second
	if v := os.Getenv("BINLAKE_E2E_WRITE_FOR"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("BINLAKE_E2E_WRITE_FOR: %v", err)
		}
		writeFor = d
	}
	runEndToEnd(t, 0, writeFor)
}
