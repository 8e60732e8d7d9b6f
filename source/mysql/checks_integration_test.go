//go:build integration

package mysql

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/integration/containers"
)

func startErr(t *testing.T, name string, cfg connect.Config, store *memStore) error {
	t.Helper()
	task := NewTask()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := task.Start(ctx, &connect.TaskContext{Connector: name, Config: cfg, Checkpoints: store, Logger: slog.New(slog.DiscardHandler)})
	if err == nil {
		_ = task.Stop(ctx)
	}
	return err
}

// TestStartupChecks checks that misconfiguration fails terminally with a
// message that names the fix.
func TestStartupChecks(t *testing.T) {
	for _, f := range flavors {
		t.Run(string(f), func(t *testing.T) {
			m := server(t, f)
			db := m.NewDatabase(t)
			d := openDBT(t, m, db)
			exec(t, d, "CREATE TABLE c (id INT PRIMARY KEY)")
			cfg := baseConfig(m, db)

			bad := cfg.Clone()
			bad[KeyPassword] = "wrong-password"
			if err := startErr(t, "chk", bad, newMemStore()); !connect.IsTerminal(err) || !strings.Contains(err.Error(), "database.password") {
				t.Errorf("bad credentials: %v", err)
			}

			user := "lim" + strings.ReplaceAll(db[len(db)-4:], "_", "")
			exec(t, d, fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY 'pw'", user))
			defer exec(t, d, fmt.Sprintf("DROP USER '%s'@'%%'", user))
			lim := cfg.Clone()
			lim[KeyUser], lim[KeyPassword] = user, "pw"
			if err := startErr(t, "chk", lim, newMemStore()); !connect.IsTerminal(err) || !strings.Contains(err.Error(), "REPLICATION") {
				t.Errorf("no replication privileges: %v", err)
			}
			exec(t, d, fmt.Sprintf("GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '%s'@'%%'", user))
			if f == containers.MariaDB {
				exec(t, d, fmt.Sprintf("GRANT BINLOG MONITOR ON *.* TO '%s'@'%%'", user))
			}
			exec(t, d, fmt.Sprintf("GRANT SELECT ON mysql.* TO '%s'@'%%'", user))
			lim[KeyDatabaseInclude] = db + ",mysql"
			lim[KeyTableInclude] = db + `\..*,mysql\.db`
			// SHOW DATABASES-less users cannot see db's tables in information_schema;
			// a grant on a table they can see but not read is what the check must catch.
			exec(t, d, fmt.Sprintf("GRANT INSERT ON `%s`.* TO '%s'@'%%'", db, user))
			if err := startErr(t, "chk", lim, newMemStore()); !connect.IsTerminal(err) || !strings.Contains(err.Error(), "SELECT") {
				t.Errorf("no SELECT: %v", err)
			}

			exec(t, d, "SET GLOBAL binlog_row_metadata='MINIMAL'")
			err := startErr(t, "chk", cfg, newMemStore())
			exec(t, d, "SET GLOBAL binlog_row_metadata='FULL'")
			if !connect.IsTerminal(err) || !strings.Contains(err.Error(), "binlog_row_metadata=FULL") {
				t.Errorf("binlog_row_metadata MINIMAL: %v", err)
			}
			exec(t, d, "SET GLOBAL binlog_row_image='MINIMAL'")
			err = startErr(t, "chk", cfg, newMemStore())
			exec(t, d, "SET GLOBAL binlog_row_image='FULL'")
			if !connect.IsTerminal(err) || !strings.Contains(err.Error(), "binlog_row_image=FULL") {
				t.Errorf("binlog_row_image MINIMAL: %v", err)
			}
			if err := startErr(t, "chk", cfg, newMemStore()); err != nil {
				t.Errorf("good config: %v", err)
			}
		})
	}
}

// TestPurgedBinlog checks that a checkpoint whose binlog was purged fails
// terminally, and that snapshot.mode=when_needed snapshots again with
// sequences continuing after the checkpoint's.
func TestPurgedBinlog(t *testing.T) {
	for _, f := range flavors {
		t.Run(string(f), func(t *testing.T) {
			m := server(t, f)
			db := m.NewDatabase(t)
			d := openDBT(t, m, db)
			exec(t, d, "CREATE TABLE p (id INT PRIMARY KEY)")
			exec(t, d, "INSERT INTO p VALUES (1),(2),(3)")
			store := newMemStore()
			name := "purge-" + string(f)
			cfg := baseConfig(m, db)
			r := startRunner(t, name, cfg, store, true)
			exec(t, d, "INSERT INTO p VALUES (4)")
			evs := r.waitFor("insert", 30*time.Second, atLeast("p", connect.OpCreate, 1))
			time.Sleep(1500 * time.Millisecond)
			r.stop()
			cp := store.checkpoint(t, name+"/0")
			if cp == nil || cp.Sequence != evs[0].Source.Sequence {
				t.Fatalf("checkpoint %+v", cp)
			}
			// Make the checkpoint point at a file the server no longer has.
			cp.File = "gone-bin.000001"
			if f == containers.MySQL8 {
				cp.GTIDSet = strings.Split(cp.GTIDSet, ":")[0] + ":1"
				exec(t, d, "FLUSH BINARY LOGS")
				var last string
				rows, err := d.Query("SHOW BINARY LOGS")
				if err != nil {
					t.Fatal(err)
				}
				for rows.Next() {
					var n, size string
					cols, _ := rows.Columns()
					vals := []any{&n, &size}
					for len(vals) < len(cols) {
						vals = append(vals, new(string))
					}
					_ = rows.Scan(vals...)
					last = n
				}
				_ = rows.Close()
				exec(t, d, "PURGE BINARY LOGS TO '"+last+"'")
			}
			b, _ := json.Marshal(cp)
			_ = store.Put(context.Background(), name+"/0", b)
			err := startErr(t, name, cfg, store)
			if !connect.IsTerminal(err) || !strings.Contains(err.Error(), "when_needed") {
				t.Fatalf("purged binlog: %v", err)
			}
			cfg[KeySnapshotMode] = SnapshotWhenNeeded
			r2 := startRunner(t, name, cfg, store, true)
			defer r2.stop()
			evs = r2.waitFor("snapshot again", 30*time.Second, atLeast("p", connect.OpRead, 4))
			if evs[0].Source.Sequence != cp.Sequence+1 {
				t.Errorf("sequence after re-snapshot starts at %d, want %d", evs[0].Source.Sequence, cp.Sequence+1)
			}
		})
	}
}
