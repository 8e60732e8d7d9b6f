//go:build integration

package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/binlake/binlake/checkpoint"
	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/integration/containers"
	driver "github.com/go-sql-driver/mysql"
)

func TestMain(m *testing.M) {
	code := m.Run()
	containers.TerminateAll()
	os.Exit(code)
}

// server returns a MySQL-protocol server of flavor f. BINLAKE_TEST_<FLAVOR>_ADDR
// (host:port, user root, password in BINLAKE_TEST_PASSWORD) points the tests at a
// server the developer runs on loopback; otherwise the shared container is used.
func server(t testing.TB, f containers.Flavor) *containers.MySQL {
	t.Helper()
	if addr := os.Getenv("BINLAKE_TEST_" + strings.ToUpper(string(f)) + "_ADDR"); addr != "" {
		host, port, _ := strings.Cut(addr, ":")
		p, _ := strconv.Atoi(port)
		return &containers.MySQL{Flavor: f, Host: host, Port: p, User: "root", Password: os.Getenv("BINLAKE_TEST_PASSWORD")}
	}
	return containers.MySQLServer(t, f)
}

var flavors = []containers.Flavor{containers.MariaDB, containers.MySQL8}

// openDBT opens a connection to db with the given session time zone.
func openDBT(t testing.TB, m *containers.MySQL, db string) *sql.DB {
	t.Helper()
	cfg := driver.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = m.User, m.Password, "tcp", m.Addr(), db
	cfg.MultiStatements = true
	cfg.Params = map[string]string{"sql_mode": "''"}
	c, err := driver.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d := sql.OpenDB(c)
	t.Cleanup(func() { d.Close() })
	return d
}

func exec(t testing.TB, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("exec %q: %v", q, err)
	}
}

// memStore is an in-memory checkpoint.Store.
type memStore struct {
	mu   sync.Mutex
	m    map[string][]byte
	puts int
}

var _ checkpoint.Store = (*memStore)(nil)

func newMemStore() *memStore { return &memStore{m: map[string][]byte{}} }

func (s *memStore) Get(_ context.Context, k string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[k]
	return append([]byte(nil), v...), ok, nil
}

func (s *memStore) Put(_ context.Context, k string, v []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[k] = append([]byte(nil), v...)
	s.puts++
	return nil
}

func (s *memStore) Delete(_ context.Context, k string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, k)
	return nil
}

func (s *memStore) List(_ context.Context, p string) (map[string][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]byte{}
	for k, v := range s.m {
		if strings.HasPrefix(k, p) {
			out[k] = v
		}
	}
	return out, nil
}

func (s *memStore) Close() error { return nil }

func (s *memStore) checkpoint(t testing.TB, key string) *Checkpoint {
	t.Helper()
	b, ok, _ := s.Get(context.Background(), key)
	if !ok {
		return nil
	}
	cp, err := decodeCheckpoint(b)
	if err != nil {
		t.Fatal(err)
	}
	return cp
}

// runner drives a task like the worker does: Poll in a loop, Ack (when
// acking is on) every polled event.
type runner struct {
	t      testing.TB
	task   *Task
	mu     sync.Mutex
	events []*connect.ChangeEvent
	ack    bool
	err    error
	cancel context.CancelFunc
	done   chan struct{}
	status string
	// count is the number of events polled; with discard set (benchmarks)
	// the events themselves are not kept, as a worker would not keep them.
	count   int
	discard bool
}

func baseConfig(m *containers.MySQL, db string) connect.Config {
	return connect.Config{
		KeyHostname: m.Host, KeyPort: strconv.Itoa(m.Port), KeyUser: m.User, KeyPassword: m.Password,
		KeyDatabaseInclude: db, KeySnapshotMode: SnapshotNever, KeyHeartbeatInterval: "200",
	}
}

func startRunner(t testing.TB, name string, cfg connect.Config, store checkpoint.Store, ack bool) *runner {
	t.Helper()
	return startRunnerOpts(t, name, cfg, store, ack, false)
}

func startRunnerOpts(t testing.TB, name string, cfg connect.Config, store checkpoint.Store, ack, discard bool) *runner {
	t.Helper()
	r := &runner{t: t, task: NewTask(), ack: ack, discard: discard, done: make(chan struct{})}
	tc := &connect.TaskContext{
		Connector: name, Config: cfg, Checkpoints: store,
		Logger:    slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		SetStatus: func(s string) { r.mu.Lock(); r.status = s; r.mu.Unlock() },
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := r.task.Start(ctx, tc); err != nil {
		t.Fatalf("starting task: %v", err)
	}
	pctx, pcancel := context.WithCancel(context.Background())
	r.cancel = pcancel
	go func() {
		defer close(r.done)
		for {
			evs, err := r.task.Poll(pctx)
			if err != nil {
				if pctx.Err() == nil {
					r.mu.Lock()
					r.err = err
					r.mu.Unlock()
				}
				return
			}
			r.mu.Lock()
			r.count += len(evs)
			if !r.discard {
				r.events = append(r.events, evs...)
			}
			ack := r.ack
			r.mu.Unlock()
			if ack {
				r.task.Ack(evs)
			}
		}
	}()
	return r
}

// stop stops polling and the task.
func (r *runner) stop() {
	r.cancel()
	<-r.done
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.task.Stop(ctx); err != nil {
		r.t.Errorf("stopping task: %v", err)
	}
}

func (r *runner) snapshot() []*connect.ChangeEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*connect.ChangeEvent(nil), r.events...)
}

// waitFor polls until cond holds on the events collected so far.
func (r *runner) waitFor(what string, timeout time.Duration, cond func([]*connect.ChangeEvent) bool) []*connect.ChangeEvent {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		r.mu.Lock()
		err, evs := r.err, r.events // appends never change existing elements
		r.mu.Unlock()
		ok := err == nil && cond(evs)
		if err != nil {
			r.t.Fatalf("task failed while waiting for %s: %v", what, err)
		}
		if ok {
			return r.snapshot()
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("timed out waiting for %s (%d events so far)", what, len(r.snapshot()))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func countOps(evs []*connect.ChangeEvent, table string, op connect.Op) int {
	n := 0
	for _, e := range evs {
		if e.Source.Table == table && e.Op == op {
			n++
		}
	}
	return n
}

func atLeast(table string, op connect.Op, n int) func([]*connect.ChangeEvent) bool {
	return func(evs []*connect.ChangeEvent) bool { return countOps(evs, table, op) >= n }
}

func describe(e *connect.ChangeEvent) string {
	return fmt.Sprintf("seq=%d op=%s %s.%s v%d before=%v after=%v", e.Source.Sequence, e.Op, e.Source.Database,
		e.Source.Table, e.Schema.Version, e.Before, e.After)
}

// waitCount waits until n events were polled.
func (r *runner) waitCount(what string, timeout time.Duration, n int) {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		r.mu.Lock()
		err, c := r.err, r.count
		r.mu.Unlock()
		if err != nil {
			r.t.Fatalf("task failed while waiting for %s: %v", what, err)
		}
		if c >= n {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("timed out waiting for %s (%d events so far)", what, c)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
