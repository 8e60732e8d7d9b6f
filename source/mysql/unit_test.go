package mysql

import (
	"reflect"
	"testing"
	"time"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/plugin"
	"github.com/binlake/binlake/schema"
)

func TestFilter(t *testing.T) {
	f, err := NewFilter([]string{"shop.*", "crm"}, nil, []string{`shop\.tmp_.*`}, []string{`crm\.users\.(password|ssn)`})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		db, table string
		want      bool
	}{
		{"shop", "orders", true}, {"shop_eu", "orders", true}, {"SHOP", "orders", true}, {"crm", "users", true},
		{"crm2", "users", false}, {"shop", "tmp_x", false}, {"mysql", "user", false},
	}
	for _, c := range cases {
		if got := f.Table(c.db, c.table); got != c.want {
			t.Errorf("Table(%s.%s) = %v", c.db, c.table, got)
		}
	}
	if f.Column("crm", "users", "password") || !f.Column("crm", "users", "name") || !f.Column("shop", "users", "password") {
		t.Error("column filter wrong")
	}
	g, _ := NewFilter(nil, []string{`a\.t[0-9]+`}, nil, nil)
	if !g.Table("a", "t12") || g.Table("a", "t12x") || g.Table("b", "t1") || g.Table("sys", "t1") {
		t.Error("table include list wrong")
	}
	if _, err := NewFilter([]string{"("}, nil, nil, nil); err == nil {
		t.Error("bad regex accepted")
	}
}

func TestAckerCheckpointsContiguousPrefixAtBoundaries(t *testing.T) {
	a := newAcker(10)
	// Two transactions: events 11-13 and 14-15; a third boundary with no events.
	a.addMark(mark{seq: 13, cp: Checkpoint{Pos: 1}})
	a.addMark(mark{seq: 15, cp: Checkpoint{Pos: 2}})
	a.addMark(mark{seq: 15, cp: Checkpoint{Pos: 3}})
	if _, ok := a.take(); ok {
		t.Fatal("mark taken before any ack")
	}
	a.ack([]uint64{12, 14, 15})
	if _, ok := a.take(); ok {
		t.Fatal("mark taken with 11 and 13 unacked")
	}
	a.ack([]uint64{11})
	if _, ok := a.take(); ok {
		t.Fatal("mark taken with 13 unacked")
	}
	a.ack([]uint64{13})
	m, ok := a.take()
	if !ok || m.seq != 15 || m.cp.Pos != 3 {
		t.Fatalf("take = %+v %v, want the last boundary at 15", m, ok)
	}
	if a.acked() != 15 {
		t.Errorf("acked = %d", a.acked())
	}
	if _, ok := a.take(); ok {
		t.Error("mark taken twice")
	}
	a.ack([]uint64{5, 15}) // old acks are ignored
	if a.acked() != 15 || len(a.pending) != 0 {
		t.Errorf("old acks changed state: %d %v", a.acked(), a.pending)
	}
}

func TestKeyCond(t *testing.T) {
	c, args := keyCond([]string{"a", "b"}, ">", [][]byte{[]byte("1"), []byte("x")})
	if c != "((`a` > ?) OR (`a` = ? AND `b` > ?))" || !reflect.DeepEqual(args, []any{"1", "1", "x"}) {
		t.Errorf("got %s %v", c, args)
	}
	c, args = keyCond([]string{"a", "b"}, "<=", [][]byte{[]byte("1"), []byte("x")})
	if c != "((`a` < ?) OR (`a` = ? AND `b` <= ?))" || len(args) != 3 {
		t.Errorf("got %s %v", c, args)
	}
	c, _ = keyCond([]string{"id"}, "<=", [][]byte{[]byte("9")})
	if c != "((`id` <= ?))" {
		t.Errorf("got %s", c)
	}
}

func TestPositionOrder(t *testing.T) {
	a := binlogPos{File: "bin.000009", Pos: 900}
	b := binlogPos{File: "bin.000010", Pos: 4}
	c := binlogPos{File: "bin.1000000", Pos: 4}
	if !a.less(b) || b.less(a) || !b.less(c) || a.less(a) {
		t.Error("binlog position order wrong")
	}
}

func TestSettings(t *testing.T) {
	cfg := connect.Config{KeyHostname: "127.0.0.1", KeyUser: "u", "max.tasks": "3"}
	s, err := parseSettings("orders", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if s.serverID != DeriveServerID("orders") || s.serverID < 1_000_000 || s.serverID == DeriveServerID("orders2") {
		t.Errorf("server id %d", s.serverID)
	}
	if s.parallelism != 3 || s.port != 3306 || s.snapshotMode != SnapshotInitial {
		t.Errorf("defaults wrong: %+v", s)
	}
	cfg[KeyServerID] = "42"
	cfg[KeySnapshotParallelism] = "5"
	if s, _ = parseSettings("orders", cfg); s.serverID != 42 || s.parallelism != 5 {
		t.Errorf("explicit values ignored: %+v", s)
	}
	cfg[KeySnapshotMode] = "sometimes"
	if _, err := parseSettings("orders", cfg); !connect.IsTerminal(err) {
		t.Errorf("bad snapshot.mode: %v", err)
	}
}

func TestRegistered(t *testing.T) {
	p, ok := plugin.Lookup(PluginName)
	if !ok || p.Kind != plugin.Source {
		t.Fatal("mysql-source is not registered")
	}
	full := p.FullSpec()
	if errs := full.Validate(connect.Config{"connector.class": PluginName, KeyHostname: "h", KeyUser: "u"}); len(errs) != 0 {
		t.Errorf("minimal config rejected: %v", errs)
	}
	errs := full.Validate(connect.Config{"connector.class": PluginName, KeyHostname: "h", KeyUser: "u",
		KeyTableInclude: "a(", KeySnapshotMode: "x"})
	if len(errs) != 2 {
		t.Errorf("want 2 field errors, got %v", errs)
	}
	red := full.Redact(connect.Config{KeyPassword: "secret"})
	if red[KeyPassword] == "secret" {
		t.Error("password not redacted")
	}
	if _, ok := p.New().(connect.SourceConnector); !ok {
		t.Error("New does not return a SourceConnector")
	}
}

func TestColumnExclusion(t *testing.T) {
	f, _ := NewFilter(nil, nil, nil, []string{`db\.t\.(secret|k2)`})
	task := &Task{cfg: &settings{filter: f}, outTables: map[*schema.Table]*schema.Table{}}
	tbl := &schema.Table{Database: "db", Name: "t", Version: 3, Columns: []schema.Column{
		{Name: "k1", Kind: schema.KindInt32}, {Name: "secret", Kind: schema.KindString}, {Name: "k2", Kind: schema.KindInt32},
		{Name: "v", Kind: schema.KindString},
	}, PrimaryKey: []int{0, 2}}
	out := task.emitted(tbl)
	if len(out.Columns) != 2 || out.Columns[0].Name != "k1" || out.Columns[1].Name != "v" || !reflect.DeepEqual(out.PrimaryKey, []int{0}) ||
		out.Version != 3 || len(tbl.Columns) != 4 {
		t.Errorf("emitted = %+v", out)
	}
	if task.emitted(tbl) != out {
		t.Error("emitted version not cached")
	}
	other := &schema.Table{Database: "db", Name: "u", Columns: tbl.Columns}
	if task.emitted(other) != other {
		t.Error("table without excluded columns was copied")
	}
}

func TestInitialSequence(t *testing.T) {
	// A run started a day earlier that sent a billion events (over 11k a second all day) stays below a new start.
	day := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	if earlier, now := InitialSequence(day)+1_000_000_000, InitialSequence(day.Add(24*time.Hour)); earlier >= now {
		t.Errorf("a run that started a day earlier reached %d with 10^9 events, at or above the new start %d", earlier, now)
	}
	// Even one second apart: a run that averaged a million events a second for that second stays below.
	if earlier, now := InitialSequence(day)+1_000_000, InitialSequence(day.Add(time.Second)); earlier >= now {
		t.Errorf("a run that started a second earlier reached %d with 10^6 events, at or above the new start %d", earlier, now)
	}
	if late := InitialSequence(time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)); late >= 1<<63 {
		t.Errorf("the base of 2100 (%d) does not fit a signed 64-bit long", late)
	}
}

func TestBoundaryStatement(t *testing.T) {
	for q, want := range map[string]bool{
		"BEGIN": true, "begin": true, "COMMIT": true, "COMMIT /* implicit */": true, "ROLLBACK": true,
		"SAVEPOINT s1": true, "XA START 'x'": true, "XA END 'x'": true,
		"use `shop`; ALTER TABLE items ADD COLUMN c INT": false, "CREATE DATABASE x": false,
		"BEGINNING": false, "TRUNCATE TABLE t": false, "": false,
	} {
		if got := boundaryStatement(q); got != want {
			t.Errorf("boundaryStatement(%q) = %v, want %v", q, got, want)
		}
	}
}
