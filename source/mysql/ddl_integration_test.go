//go:build integration

package mysql

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/schema"
)

// TestSchemaChangesMidStream checks that ADD/RENAME/MODIFY/DROP COLUMN and
// RENAME TABLE change the schema version exactly at the events written
// after them, and that events before a change keep the old version.
func TestSchemaChangesMidStream(t *testing.T) {
	for _, f := range flavors {
		t.Run(string(f), func(t *testing.T) {
			m := server(t, f)
			db := m.NewDatabase(t)
			d := openDBT(t, m, db)
			exec(t, d, "CREATE TABLE evo (id INT PRIMARY KEY, a VARCHAR(10) NOT NULL)")
			r := startRunner(t, "ddl-"+string(f), baseConfig(m, db), newMemStore(), true)
			defer r.stop()
			steps := []struct {
				ddl  string
				cols []string
				kind map[string]schema.Kind
			}{
				{"", []string{"id", "a"}, nil},
				{"ALTER TABLE evo ADD COLUMN b INT NULL AFTER id", []string{"id", "b", "a"}, map[string]schema.Kind{"b": schema.KindInt32}},
				{"ALTER TABLE evo CHANGE COLUMN b c INT NULL", []string{"id", "c", "a"}, nil},
				{"ALTER TABLE evo MODIFY COLUMN c BIGINT NULL", []string{"id", "c", "a"}, map[string]schema.Kind{"c": schema.KindInt64}},
				{"ALTER TABLE evo DROP COLUMN a", []string{"id", "c"}, nil},
				{"ALTER TABLE evo ADD COLUMN p DECIMAL(12,3) NOT NULL DEFAULT 1.5, ADD COLUMN g POINT NULL", []string{"id", "c", "p", "g"},
					map[string]schema.Kind{"p": schema.KindDecimal, "g": schema.KindBytes}},
				{"CREATE INDEX ix ON evo (c)", []string{"id", "c", "p", "g"}, nil}, // no column change: same version
			}
			for i, s := range steps {
				if s.ddl != "" {
					exec(t, d, s.ddl)
				}
				if s.cols[len(s.cols)-1] == "a" {
					exec(t, d, "INSERT INTO evo (id, a) VALUES (?, 'x')", i)
				} else {
					exec(t, d, "INSERT INTO evo (id) VALUES (?)", i)
				}
			}
			evs := r.waitFor("inserts", 30*time.Second, atLeast("evo", connect.OpCreate, len(steps)))
			wantVersion := []int{1, 2, 3, 4, 5, 6, 6}
			for i, e := range evs {
				var names []string
				for _, c := range e.Schema.Columns {
					names = append(names, c.Name)
				}
				if !reflect.DeepEqual(names, steps[i].cols) || e.Schema.Version != wantVersion[i] {
					t.Errorf("event %d: columns %v version %d, want %v version %d", i, names, e.Schema.Version, steps[i].cols, wantVersion[i])
				}
				for n, k := range steps[i].kind {
					if got := e.Schema.Columns[e.Schema.ColumnIndex(n)].Kind; got != k {
						t.Errorf("event %d: column %s kind %s, want %s", i, n, got, k)
					}
				}
				if len(e.After) != len(e.Schema.Columns) || e.After[0] != int32(i) {
					t.Errorf("event %d: row %v does not fit %v", i, e.After, names)
				}
			}
			if len(evs) == len(steps) {
				c := evs[2].Schema.Columns[1]
				if !reflect.DeepEqual(c.Aliases, []string{"b"}) {
					t.Errorf("renamed column aliases = %v, want [b]", c.Aliases)
				}
				p := evs[5].Schema.Columns[2]
				if p.Precision != 12 || p.Scale != 3 || !p.HasDefault || p.Default.(schema.Decimal).String() != "1.500" {
					t.Errorf("decimal column = %+v", p)
				}
				if got := evs[5].After[2].(schema.Decimal).String(); got != "1.500" {
					t.Errorf("default value row = %s", got)
				}
			}
			// A renamed table keeps being captured under its new name.
			exec(t, d, "RENAME TABLE evo TO evo2")
			exec(t, d, "INSERT INTO evo2 (id) VALUES (100)")
			evs = r.waitFor("insert into renamed table", 30*time.Second, atLeast("evo2", connect.OpCreate, 1))
			last := evs[len(evs)-1]
			if last.Source.Table != "evo2" || last.Schema.Name != "evo2" || len(last.Schema.Columns) != 4 {
				t.Errorf("renamed table event: %s", describe(last))
			}
		})
	}
}

// TestRereadOnABusyServer: a statement whose effect binlake reads back from information_schema (here an ALTER TABLE
// clause it does not model) is followed while other writes keep the binlog moving. The re-read is accepted because the
// binlog between the statement and the read holds only row events; before, any movement failed the source.
func TestRereadOnABusyServer(t *testing.T) {
	for _, f := range flavors {
		t.Run(string(f), func(t *testing.T) {
			m := server(t, f)
			db := m.NewDatabase(t)
			d := openDBT(t, m, db)
			exec(t, d, "CREATE TABLE conv (id INT PRIMARY KEY, a VARCHAR(10) NOT NULL) CHARACTER SET utf8mb4")
			exec(t, d, "CREATE TABLE noise (id INT AUTO_INCREMENT PRIMARY KEY, v INT)")
			cfg := baseConfig(m, db)
			cfg[KeyTableInclude] = db + `\.conv`
			r := startRunner(t, "busy-"+string(f), cfg, newMemStore(), true)
			defer r.stop()
			exec(t, d, "INSERT INTO conv VALUES (1, 'before')")
			r.waitFor("the first insert", 30*time.Second, atLeast("conv", connect.OpCreate, 1))

			stop := make(chan struct{})
			done := make(chan error, 1)
			go func() { // keeps the binlog moving, with row events only
				for {
					select {
					case <-stop:
						done <- nil
						return
					default:
					}
					if _, err := d.Exec("INSERT INTO noise (v) VALUES (1)"); err != nil {
						done <- err
						return
					}
				}
			}()
			time.Sleep(300 * time.Millisecond)
			exec(t, d, "ALTER TABLE conv CONVERT TO CHARACTER SET latin1")
			exec(t, d, "INSERT INTO conv VALUES (2, 'after')")
			time.Sleep(500 * time.Millisecond)
			close(stop)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			evs := r.waitFor("the insert after the re-read", 60*time.Second, atLeast("conv", connect.OpCreate, 2))
			last := evs[len(evs)-1]
			if last.After[0] != int32(2) || last.After[1] != "after" {
				t.Errorf("event after the ALTER: %s", describe(last))
			}
		})
	}
}

// TestRereadRefusedWhenALaterStatementFollows: when the binlog after a re-read statement already holds another
// statement that may change tables (the source was stopped while both ran), what information_schema says is not the
// state right after the first one, so the source fails with a terminal error instead of guessing.
func TestRereadRefusedWhenALaterStatementFollows(t *testing.T) {
	for _, f := range flavors {
		t.Run(string(f), func(t *testing.T) {
			m := server(t, f)
			db := m.NewDatabase(t)
			d := openDBT(t, m, db)
			exec(t, d, "CREATE TABLE conv (id INT PRIMARY KEY, a VARCHAR(10) NOT NULL) CHARACTER SET utf8mb4")
			cfg := baseConfig(m, db)
			store := newMemStore()
			name := "reread-later-" + string(f)
			r1 := startRunner(t, name, cfg, store, true)
			exec(t, d, "INSERT INTO conv VALUES (1, 'before')")
			r1.waitFor("the first insert", 30*time.Second, atLeast("conv", connect.OpCreate, 1))
			time.Sleep(1500 * time.Millisecond) // the flusher writes the acknowledged checkpoint
			r1.stop()
			exec(t, d, "ALTER TABLE conv CONVERT TO CHARACTER SET latin1")
			exec(t, d, "ALTER TABLE conv ADD COLUMN b INT NULL")
			exec(t, d, "INSERT INTO conv VALUES (2, 'after', 7)")
			r2 := startRunner(t, name, cfg, store, true)
			defer r2.stop()
			deadline := time.Now().Add(30 * time.Second)
			for {
				r2.mu.Lock()
				err := r2.err
				r2.mu.Unlock()
				if err != nil {
					if !connect.IsTerminal(err) || !strings.Contains(err.Error(), "may change tables") {
						t.Fatalf("the source failed, but not as expected: %v", err)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the source followed a re-read it cannot prove; events: %d", len(r2.snapshot()))
				}
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
}
