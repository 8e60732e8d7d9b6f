//go:build integration

package iceberg_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/iceberg-go/table"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/integration/containers"
	"github.com/binlake/binlake/sink/lake"
	lakeiceberg "github.com/binlake/binlake/sink/lake/iceberg"
)

// restTaskConfig is taskConfig with the REST catalog of srv, the namespace ns and, for an S3
// warehouse, the sink's S3 keys.
func restTaskConfig(dir string, srv *containers.IcebergREST, ns string) connect.Config {
	extra := map[string]string{
		lake.KeyCatalogType: lake.CatalogTypeREST,
		lake.KeyCatalogURI:  srv.URI,
		lake.KeyWarehouse:   srv.Warehouse,
		lake.KeyNamespace:   ns,
	}
	if m := srv.MinIO; m != nil {
		extra[lake.KeyS3Endpoint] = m.Endpoint
		extra[lake.KeyS3Region] = m.Region
		extra[lake.KeyS3AccessKeyID] = m.AccessKey
		extra[lake.KeyS3SecretAccessKey] = m.SecretKey
		extra[lake.KeyS3PathStyle] = "true"
	}
	return taskConfig(dir, extra)
}

// pyicebergREST reads a table with pyiceberg through the REST catalog of srv and renders it
// like modelLines.
func pyicebergREST(t testing.TB, srv *containers.IcebergREST, ident table.Identifier, cols []string) []string {
	t.Helper()
	py := os.Getenv("BINLAKE_PYTHON")
	if py == "" {
		py = "python3"
	}
	script, err := filepath.Abs(filepath.Join("..", "..", "..", "integration", "testdata", "read_iceberg_rest.py"))
	if err != nil {
		t.Fatal(err)
	}
	args := []string{script, srv.URI, strings.Join(ident, "."), strings.Join(cols, ",")}
	props := srv.ClientProperties()
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, k+"="+props[k])
	}
	cmd := exec.Command(py, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if strings.Contains(stderr.String(), "PYICEBERG_MISSING") {
			t.Fatalf("pyiceberg is not installed for %s: run deploy/local/setup-python.sh and set BINLAKE_PYTHON (%s)", py, strings.TrimSpace(stderr.String()))
		}
		t.Fatalf("pyiceberg reading %v through %s with %s: %v\n%s", ident, srv.URI, py, err, stderr.String())
	}
	out := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	if len(out) == 1 && out[0] == "" {
		return nil
	}
	return out
}

func currentSnapshot(t testing.TB, f *lakeiceberg.Format, ident table.Identifier) *table.Snapshot {
	t.Helper()
	tbl, err := f.Catalog().LoadTable(context.Background(), ident)
	if err != nil {
		t.Fatalf("loading %v: %v", ident, err)
	}
	snap := tbl.CurrentSnapshot()
	if snap == nil {
		t.Fatalf("%v has no snapshot", ident)
	}
	return snap
}

// TestRESTCatalog drives the sink's Iceberg format with iceberg.catalog.type=rest against a real
// Iceberg REST catalog server, with the warehouse on the local file system and on MinIO:
// upserts, updates and deletes over several commits, a restart from a fresh data directory
// (the position comes back from the snapshot summary through the catalog), a redelivery that
// must not commit again, compaction, and a read by pyiceberg through the same catalog.
func TestRESTCatalog(t *testing.T) {
	t.Run("file", func(t *testing.T) {
		testRESTCatalog(t, containers.IcebergRESTServer(t, containers.IcebergRESTOptions{}))
	})
	t.Run("s3", func(t *testing.T) {
		testRESTCatalog(t, containers.IcebergRESTServer(t, containers.IcebergRESTOptions{MinIO: containers.MinIOServer(t)}))
	})
}

func testRESTCatalog(t *testing.T, srv *containers.IcebergREST) {
	ctx := context.Background()
	ns := srv.NewNamespace(t)
	ident := table.Identifier{ns, "items"}
	cfg := restTaskConfig(t.TempDir(), srv, ns)
	feed := newFeed(211, itemsTable(1), 2)
	cols := columnNames(feed.tbl)

	task, f := startTask(t, t.TempDir(), cfg)
	if _, err := task.Open(ctx, feed.queueIDs()); err != nil {
		t.Fatal(err)
	}
	var last []connect.SinkRecord
	for range 3 {
		last = feed.next(200, 100)
		mustPut(t, task, last)
		mustFlush(t, task)
	}
	want := modelLines(feed.tbl, feed.model, cols)
	diffLines(t, "REST table after 3 commits", scanLines(t, f, ident, cols), want)
	snap := currentSnapshot(t, f, ident)
	if got := snap.Summary.Properties[lakeiceberg.PropConnector]; got != "c1" {
		t.Errorf("snapshot summary %s = %q, want c1", lakeiceberg.PropConnector, got)
	}
	if got := snap.Summary.Properties[lakeiceberg.PropSequences]; !strings.Contains(got, fmt.Sprint(feed.seq)) {
		t.Errorf("snapshot summary %s = %s, want the last sequence %d in it", lakeiceberg.PropSequences, got, feed.seq)
	}
	tbl, err := f.Catalog().LoadTable(ctx, ident)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tbl.Location(), srv.Warehouse+"/") {
		t.Errorf("table location %s is not under the server's warehouse %s", tbl.Location(), srv.Warehouse)
	}
	_ = task.Stop(ctx)

	// A new task with an empty data directory: everything it knows comes from the catalog.
	task2, f2 := startTask(t, t.TempDir(), cfg)
	offsets, err := task2.Open(ctx, feed.queueIDs())
	if err != nil {
		t.Fatal(err)
	}
	for q, want := range feed.positions() {
		if offsets[q] != want {
			t.Errorf("Open offset of queue %d = %d, want %d (from the snapshot summary)", q.Queue, offsets[q], want)
		}
	}
	// The broker redelivers the last, committed cycle: nothing may be committed for it.
	before := currentSnapshot(t, f2, ident).SnapshotID
	mustPut(t, task2, last)
	mustFlush(t, task2)
	if after := currentSnapshot(t, f2, ident).SnapshotID; after != before {
		t.Errorf("redelivered events were committed again: snapshot %d -> %d", before, after)
	}
	for range 2 {
		mustPut(t, task2, feed.next(200, 100))
		mustFlush(t, task2)
	}
	want = modelLines(feed.tbl, feed.model, cols)
	diffLines(t, "REST table after the restart", scanLines(t, f2, ident, cols), want)

	res, err := f2.MaintainNow(ctx, "shop", "items")
	if err != nil {
		t.Fatalf("maintaining through the REST catalog: %v", err)
	}
	if res.RewrittenDataFiles == 0 || res.RemainingDeleteFiles != 0 {
		t.Errorf("compaction rewrote %d data files and left %d delete files; want some and none", res.RewrittenDataFiles, res.RemainingDeleteFiles)
	}
	diffLines(t, "REST table after compaction", scanLines(t, f2, ident, cols), want)
	_ = task2.Stop(ctx)

	// The position survives compaction, manifest merging and snapshot expiry.
	task3, _ := startTask(t, t.TempDir(), cfg)
	offsets, err = task3.Open(ctx, feed.queueIDs())
	if err != nil {
		t.Fatal(err)
	}
	for q, want := range feed.positions() {
		if offsets[q] != want {
			t.Errorf("after maintenance: Open offset of queue %d = %d, want %d", q.Queue, offsets[q], want)
		}
	}
	_ = task3.Stop(ctx)

	diffLines(t, "pyiceberg through the REST catalog", pyicebergREST(t, srv, ident, cols), want)
}

// TestRESTCommitConflict: another writer commits between our file write and our commit. The
// REST server rejects our commit (409, its base snapshot is stale); the writer reloads the
// table, finds its commit absent, retries on the new head, and both writes survive.
func TestRESTCommitConflict(t *testing.T) {
	srv := containers.IcebergRESTServer(t, containers.IcebergRESTOptions{})
	ctx := context.Background()
	ns := srv.NewNamespace(t)
	ident := table.Identifier{ns, "items"}
	cfg := restTaskConfig(t.TempDir(), srv, ns)
	feed := newFeed(221, itemsTable(1), 1)
	other := newFeed(222, itemsTable(1), 1)
	other.topic = "other_topic"

	task, f := startTask(t, t.TempDir(), cfg)
	mustPut(t, task, feed.next(100, 50))
	mustFlush(t, task)

	otherTask := lake.NewTask()
	if err := otherTask.Start(ctx, &connect.TaskContext{Connector: "c2", Config: cfg, DataDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = otherTask.Stop(ctx) }()
	otherRecs := other.nextInserts(30)

	interfered := false
	f.Hook = func(stage string, _ table.Identifier) error {
		if stage != lakeiceberg.StageFilesWritten || interfered {
			return nil
		}
		interfered = true
		if err := otherTask.Put(ctx, otherRecs); err != nil {
			return err
		}
		return otherTask.Flush(ctx)
	}
	mustPut(t, task, feed.next(100, 50))
	mustFlush(t, task)
	if !interfered {
		t.Fatal("the other writer never ran")
	}
	for k, v := range other.model {
		feed.model[k] = v
	}
	cols := columnNames(feed.tbl)
	diffLines(t, "after a conflicting commit", scanLines(t, f, ident, cols), modelLines(feed.tbl, feed.model, cols))

	tbl, err := f.Catalog().LoadTable(ctx, ident)
	if err != nil {
		t.Fatal(err)
	}
	cur := tbl.CurrentSnapshot()
	if cur.Summary.Properties[lakeiceberg.PropConnector] != "c1" || cur.ParentSnapshotID == nil {
		t.Fatalf("current snapshot is not ours: %v", cur.Summary)
	}
	if parent := tbl.SnapshotByID(*cur.ParentSnapshotID); parent.Summary.Properties[lakeiceberg.PropConnector] != "c2" {
		t.Errorf("our retried commit does not follow the other writer's: parent summary %v", parent.Summary)
	}
}

// TestRESTConcurrentWriters: two connectors write disjoint keys of one table at the same time
// through the REST catalog; the server serialises their commits (rejecting stale ones) and
// every commit of both survives.
func TestRESTConcurrentWriters(t *testing.T) {
	srv := containers.IcebergRESTServer(t, containers.IcebergRESTOptions{})
	ctx := context.Background()
	ns := srv.NewNamespace(t)
	ident := table.Identifier{ns, "items"}
	cfg := restTaskConfig(t.TempDir(), srv, ns)
	cfg[lake.KeyCommitRetries] = "30"
	const cycles = 6
	feeds := []*feed{newFeed(231, itemsTable(1), 1), newFeed(232, itemsTable(1), 1)}
	feeds[1].topic = "other_topic"
	// Create the table first, so that both writers race on commits rather than on creation.
	first, f := startTask(t, t.TempDir(), cfg)
	mustPut(t, first, feeds[0].next(50, 40))
	mustFlush(t, first)

	batches := make([][][]connect.SinkRecord, len(feeds))
	for i := range cycles {
		batches[0] = append(batches[0], feeds[0].next(80, 40)) // keys 0..39: updates and deletes
		batches[1] = append(batches[1], feeds[1].nextInserts(60+i))
	}
	second := lake.NewTask()
	if err := second.Start(ctx, &connect.TaskContext{Connector: "c2", Config: cfg, DataDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = second.Stop(ctx) }()
	tasks := []*lake.Task{first, second}
	var wg sync.WaitGroup
	errs := make([]error, len(tasks))
	for w := range tasks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, b := range batches[w] {
				if err := tasks[w].Put(ctx, b); err != nil {
					errs[w] = err
					return
				}
				if err := tasks[w].Flush(ctx); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent writers: %v", err)
	}
	model := map[string][]any{}
	for _, fd := range feeds {
		for k, v := range fd.model {
			model[k] = v
		}
	}
	cols := columnNames(feeds[0].tbl)
	diffLines(t, "after concurrent writers", scanLines(t, f, ident, cols), modelLines(feeds[0].tbl, model, cols))

	tbl, err := f.Catalog().LoadTable(ctx, ident)
	if err != nil {
		t.Fatal(err)
	}
	commits := map[string]int{}
	for snap := tbl.CurrentSnapshot(); snap != nil; {
		commits[snap.Summary.Properties[lakeiceberg.PropConnector]]++
		if snap.ParentSnapshotID == nil {
			break
		}
		snap = tbl.SnapshotByID(*snap.ParentSnapshotID)
	}
	if commits["c1"] != cycles+1 || commits["c2"] != cycles {
		t.Errorf("snapshots in the history per connector = %v, want c1:%d c2:%d", commits, cycles+1, cycles)
	}
}

// TestRESTCatalogErrors: a task whose REST catalog cannot be used fails to start with an error
// that names the catalog URI (retryable when the server may come back, terminal when the
// config is incomplete).
func TestRESTCatalogErrors(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + l.Addr().String()
	_ = l.Close()
	notCatalog := httptest.NewServer(http.NotFoundHandler())
	defer notCatalog.Close()
	denied := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":{"message":"Not authorized","type":"NotAuthorizedException","code":401}}`))
	}))
	defer denied.Close()

	for _, tc := range []struct {
		name, uri string
		terminal  bool
	}{
		{"unreachable", down, false},
		{"not a catalog", notCatalog.URL, false},
		{"credentials rejected", denied.URL, true},
		{"no uri", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := taskConfig(dir, map[string]string{lake.KeyCatalogType: lake.CatalogTypeREST, lake.KeyCatalogURI: tc.uri})
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			task := lake.NewTask()
			err := task.Start(ctx, &connect.TaskContext{Connector: "c1", Config: cfg, DataDir: dir})
			if err == nil {
				_ = task.Stop(ctx)
				t.Fatalf("task started with catalog uri %q", tc.uri)
			}
			t.Logf("error: %v", err)
			if tc.uri != "" && !strings.Contains(err.Error(), tc.uri) {
				t.Errorf("error %q does not name the catalog URI %s", err, tc.uri)
			}
			if tc.uri == "" && !strings.Contains(err.Error(), lake.KeyCatalogURI) {
				t.Errorf("error %q does not name %s", err, lake.KeyCatalogURI)
			}
			if got := connect.IsTerminal(err); got != tc.terminal {
				t.Errorf("terminal = %v, want %v", got, tc.terminal)
			}
		})
	}
}

// TestRESTWithoutWarehouse: with iceberg.warehouse unset and no data directory, a REST task
// sends no warehouse to the catalog (servers hosting several warehouses read it as the name of
// one), the server places the table in its own warehouse, and the task writes there.
func TestRESTWithoutWarehouse(t *testing.T) {
	srv := containers.IcebergRESTServer(t, containers.IcebergRESTOptions{})
	target, err := url.Parse(srv.URI)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu      sync.Mutex
		queries []string
	)
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/v1/config") {
			mu.Lock()
			queries = append(queries, r.URL.RawQuery)
			mu.Unlock()
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()

	ctx := context.Background()
	ns := srv.NewNamespace(t)
	cfg := restTaskConfig("", srv, ns)
	cfg[lake.KeyCatalogURI] = front.URL
	delete(cfg, lake.KeyWarehouse)
	task := lake.NewTask()
	if err := task.Start(ctx, &connect.TaskContext{Connector: "c1", Config: cfg}); err != nil {
		t.Fatalf("starting a REST task without warehouse or data directory: %v", err)
	}
	defer func() { _ = task.Stop(ctx) }()
	f := task.Format().(*lakeiceberg.Format)
	feed := newFeed(241, itemsTable(1), 1)
	mustPut(t, task, feed.next(100, 60))
	mustFlush(t, task)
	cols := columnNames(feed.tbl)
	ident := table.Identifier{ns, "items"}
	diffLines(t, "REST table without a configured warehouse", scanLines(t, f, ident, cols), modelLines(feed.tbl, feed.model, cols))

	mu.Lock()
	defer mu.Unlock()
	if len(queries) == 0 {
		t.Fatal("the task never asked the catalog for its config")
	}
	for _, q := range queries {
		if strings.Contains(q, "warehouse") {
			t.Errorf("GET /v1/config?%s: a warehouse was sent although none is configured", q)
		}
	}
	tbl, err := f.Catalog().LoadTable(ctx, ident)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tbl.Location(), srv.Warehouse+"/") {
		t.Errorf("table location %s is not under the server's warehouse %s", tbl.Location(), srv.Warehouse)
	}
}

// TestRESTTableShapes runs what the REST server validates on its own side through it: schema
// evolution (promotions, a rename keeping the field id, an added column, a column made
// optional), a truncate, a partition spec with a nested namespace, and an append-mode
// changelog.
func TestRESTTableShapes(t *testing.T) {
	srv := containers.IcebergRESTServer(t, containers.IcebergRESTOptions{})
	ctx := context.Background()

	t.Run("schema evolution", func(t *testing.T) {
		ns := srv.NewNamespace(t)
		cfg := restTaskConfig("", srv, ns)
		task, f := startTask(t, t.TempDir(), cfg)
		v1, v2 := evoV1(), evoV2()
		mustPut(t, task, []connect.SinkRecord{
			evRec(v1, 1, 0, 0, []any{int32(1), int32(10), float32(1.5), dec("12.34"), "a", "first"}),
			evRec(v1, 2, 1, 0, []any{int32(2), nil, nil, nil, "b", nil}),
		})
		mustFlush(t, task)
		ident := table.Identifier{ns, "evo"}
		tbl1, err := f.Catalog().LoadTable(ctx, ident)
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]int{}
		for _, fld := range tbl1.Schema().Fields() {
			ids[fld.Name] = fld.ID
		}
		mustPut(t, task, []connect.SinkRecord{
			evRec(v2, 3, 0, 1, []any{int32(3), int64(1) << 40, 2.25, dec("123456789012.50"), nil, "third", "n3"}),
			evRec(v1, 4, 1, 1, []any{int32(4), int32(40), float32(4.5), dec("4.00"), "d", "fourth"}),
		})
		mustFlush(t, task)
		_ = task.Stop(ctx)

		// A new task (empty data directory) writes a v1 row through the rename it reads back
		// from the table's properties in the catalog.
		task2, f2 := startTask(t, t.TempDir(), cfg)
		mustPut(t, task2, []connect.SinkRecord{evRec(v1, 10, 1, 2, []any{int32(6), int32(60), nil, nil, "f", "sixth"})})
		mustFlush(t, task2)
		tbl2, err := f2.Catalog().LoadTable(ctx, ident)
		if err != nil {
			t.Fatal(err)
		}
		sc := tbl2.Schema()
		for name, want := range map[string]string{"id": "id", "qty": "qty", "score": "score", "price": "price", "code": "code", "old_name": "new_name"} {
			fld, ok := sc.FindFieldByName(want)
			if !ok {
				t.Fatalf("evolved schema lacks %q: %s", want, sc)
			}
			if fld.ID != ids[name] {
				t.Errorf("field %q has id %d, want %d (the id of %q before evolution)", want, fld.ID, ids[name], name)
			}
		}
		for name, typ := range map[string]string{"qty": "long", "score": "double", "price": "decimal(14, 2)", "note": "string"} {
			if fld, _ := sc.FindFieldByName(name); fld.Type == nil || fld.Type.String() != typ {
				t.Errorf("field %q has type %v, want %s", name, fld.Type, typ)
			}
		}
		if _, ok := sc.FindFieldByName("old_name"); ok {
			t.Errorf("old_name came back as a column: %s", sc)
		}
		cols := []string{"id", "qty", "score", "price", "code", "new_name", "note"}
		diffLines(t, "evolved table", scanLines(t, f2, ident, cols), []string{
			"id=1|qty=10|score=1.5|price=12.34|code=a|new_name=first|note=null",
			"id=2|qty=null|score=null|price=null|code=b|new_name=null|note=null",
			"id=3|qty=1099511627776|score=2.25|price=123456789012.50|code=null|new_name=third|note=n3",
			"id=4|qty=40|score=4.5|price=4.00|code=d|new_name=fourth|note=null",
			"id=6|qty=60|score=null|price=null|code=f|new_name=sixth|note=null",
		})
	})

	t.Run("truncate", func(t *testing.T) {
		ns := srv.NewNamespace(t)
		task, f := startTask(t, t.TempDir(), restTaskConfig("", srv, ns))
		feed := newFeed(251, itemsTable(1), 2)
		cols := columnNames(feed.tbl)
		for range 2 {
			mustPut(t, task, feed.next(100, 50))
			mustFlush(t, task)
		}
		trunc := feed.emit(connect.OpTruncate, nil, nil)
		feed.model = map[string][]any{}
		mustPut(t, task, append([]connect.SinkRecord{trunc}, feed.next(40, 50)...))
		mustFlush(t, task)
		if len(feed.model) == 0 {
			t.Fatal("no rows after the truncate; the test checks nothing")
		}
		diffLines(t, "after truncate", scanLines(t, f, table.Identifier{ns, "items"}, cols), modelLines(feed.tbl, feed.model, cols))
	})

	t.Run("partitioned in a nested namespace", func(t *testing.T) {
		ns := srv.NewNamespace(t) + ".lake"
		cfg := restTaskConfig("", srv, ns)
		cfg[lake.KeyPartitionSpec] = "bucket(4,id)"
		task, f := startTask(t, t.TempDir(), cfg)
		feed := newFeed(261, itemsTable(1), 2)
		if _, err := task.Open(ctx, feed.queueIDs()); err != nil {
			t.Fatal(err)
		}
		cols := columnNames(feed.tbl)
		for range 3 {
			mustPut(t, task, feed.next(150, 100))
			mustFlush(t, task)
		}
		ident := append(strings.Split(ns, "."), "items")
		want := modelLines(feed.tbl, feed.model, cols)
		diffLines(t, "partitioned table", scanLines(t, f, ident, cols), want)
		tbl, err := f.Catalog().LoadTable(ctx, ident)
		if err != nil {
			t.Fatal(err)
		}
		if spec := tbl.Spec(); spec.NumFields() != 1 {
			t.Fatalf("table spec = %s, want one bucket field", spec.String())
		}
		if _, err := f.MaintainNow(ctx, "shop", "items"); err != nil {
			t.Fatalf("maintaining: %v", err)
		}
		diffLines(t, "partitioned table after compaction", scanLines(t, f, ident, cols), want)
		_ = task.Stop(ctx)
		task2, _ := startTask(t, t.TempDir(), cfg)
		offsets, err := task2.Open(ctx, feed.queueIDs())
		if err != nil {
			t.Fatal(err)
		}
		for q, want := range feed.positions() {
			if offsets[q] != want {
				t.Errorf("Open offset of queue %d = %d, want %d", q.Queue, offsets[q], want)
			}
		}
		diffLines(t, "pyiceberg read of the nested namespace", pyicebergREST(t, srv, ident, cols), want)
	})

	t.Run("append", func(t *testing.T) {
		ns := srv.NewNamespace(t)
		cfg := restTaskConfig("", srv, ns)
		cfg[lake.KeyWriteMode] = string(lake.ModeAppend)
		task, f := startTask(t, t.TempDir(), cfg)
		feed := newFeed(271, itemsTable(1), 2)
		for range 2 {
			mustPut(t, task, feed.next(120, 60))
			mustFlush(t, task)
		}
		cols := columnNames(feed.tbl)
		all := append(append([]string{}, cols...), "_binlake_op", "_binlake_seq")
		want := changelogLines(feed.log, cols)
		ident := table.Identifier{ns, "items"}
		diffLines(t, "changelog through REST", scanLines(t, f, ident, all), want)
		diffLines(t, "pyiceberg read of the changelog", pyicebergREST(t, srv, ident, all), want)
	})
}

// TestRESTCommitOutcomeUnknown puts a proxy between the sink and the catalog that answers a
// commit with 502 after the server applied it (the sink cannot know whether it landed), and
// another with 503 without passing it on. The sink must find its commit id in the table after
// the first, retry after the second, and commit every cycle exactly once.
func TestRESTCommitOutcomeUnknown(t *testing.T) {
	srv := containers.IcebergRESTServer(t, containers.IcebergRESTOptions{})
	target, err := url.Parse(srv.URI)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ns := srv.NewNamespace(t)
	commitPath := "/v1/namespaces/" + ns + "/tables/items"
	var (
		mu      sync.Mutex
		commits int
		faults  []string
	)
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != commitPath {
			proxy.ServeHTTP(w, r)
			return
		}
		mu.Lock()
		commits++
		n := commits
		mu.Unlock()
		switch n {
		case 2: // applied upstream, answered as a gateway error
			rec := httptest.NewRecorder()
			proxy.ServeHTTP(rec, r)
			mu.Lock()
			faults = append(faults, fmt.Sprintf("commit %d applied (upstream %d), answered 502", n, rec.Code))
			mu.Unlock()
			w.WriteHeader(http.StatusBadGateway)
		case 4: // never reaches the server
			mu.Lock()
			faults = append(faults, fmt.Sprintf("commit %d dropped, answered 503", n))
			mu.Unlock()
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			proxy.ServeHTTP(w, r)
		}
	}))
	defer front.Close()

	cfg := restTaskConfig("", srv, ns)
	cfg[lake.KeyCatalogURI] = front.URL
	task, f := startTask(t, t.TempDir(), cfg)
	feed := newFeed(281, itemsTable(1), 2)
	if _, err := task.Open(ctx, feed.queueIDs()); err != nil {
		t.Fatal(err)
	}
	const cycles = 4
	for range cycles {
		mustPut(t, task, feed.next(120, 80))
		mustFlush(t, task)
	}
	mu.Lock()
	t.Logf("faults: %v (%d commit requests)", faults, commits)
	if len(faults) != 2 {
		t.Fatalf("faults injected = %v, want 2", faults)
	}
	mu.Unlock()
	cols := columnNames(feed.tbl)
	ident := table.Identifier{ns, "items"}
	diffLines(t, "after commits of unknown outcome", scanLines(t, f, ident, cols), modelLines(feed.tbl, feed.model, cols))
	tbl, err := f.Catalog().LoadTable(ctx, ident)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	n := 0
	for snap := tbl.CurrentSnapshot(); snap != nil; {
		seen[snap.Summary.Properties[lakeiceberg.PropCommitID]]++
		n++
		if snap.ParentSnapshotID == nil {
			break
		}
		snap = tbl.SnapshotByID(*snap.ParentSnapshotID)
	}
	if n != cycles {
		t.Errorf("%d snapshots in the history, want one per cycle (%d)", n, cycles)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("commit id %q is in %d snapshots", id, c)
		}
	}
	offsets, err := startTaskOpen(t, cfg, feed)
	if err != nil {
		t.Fatal(err)
	}
	for q, want := range feed.positions() {
		if offsets[q] != want {
			t.Errorf("Open offset of queue %d = %d, want %d", q.Queue, offsets[q], want)
		}
	}
}

// startTaskOpen starts a new task on cfg with an empty data directory and opens the feed's
// queues.
func startTaskOpen(t *testing.T, cfg connect.Config, feed *feed) (map[connect.QueueID]int64, error) {
	t.Helper()
	task, _ := startTask(t, t.TempDir(), cfg)
	defer func() { _ = task.Stop(context.Background()) }()
	return task.Open(context.Background(), feed.queueIDs())
}

// TestRESTCredentials: catalog credentials given as iceberg.catalog.properties.* reach the
// server. With `credential` the sink gets an OAuth2 token from the catalog's token endpoint and
// sends it as a bearer token; with `token` it sends that token; a token endpoint that refuses
// the client makes a start error that says so.
func TestRESTCredentials(t *testing.T) {
	srv := containers.IcebergRESTServer(t, containers.IcebergRESTOptions{})
	target, err := url.Parse(srv.URI)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu          sync.Mutex
		tokenForms  []url.Values
		authHeaders = map[string]bool{}
	)
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/oauth/tokens") {
			body, _ := io.ReadAll(r.Body)
			form, _ := url.ParseQuery(string(body))
			mu.Lock()
			tokenForms = append(tokenForms, form)
			mu.Unlock()
			if form.Get("client_id") == "intruder" {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write([]byte(`{"error":"invalid_client","error_description":"unknown client"}`))
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
		} else {
			mu.Lock()
			authHeaders[r.Header.Get("Authorization")] = true
			mu.Unlock()
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()
	ctx := context.Background()

	write := func(t *testing.T, props map[string]string) {
		t.Helper()
		ns := srv.NewNamespace(t)
		cfg := restTaskConfig("", srv, ns)
		cfg[lake.KeyCatalogURI] = front.URL
		for k, v := range props {
			cfg[lake.PrefixCatalogProps+k] = v
		}
		task, f := startTask(t, t.TempDir(), cfg)
		feed := newFeed(291, itemsTable(1), 1)
		mustPut(t, task, feed.next(50, 30))
		mustFlush(t, task)
		cols := columnNames(feed.tbl)
		diffLines(t, "table written with credentials", scanLines(t, f, table.Identifier{ns, "items"}, cols), modelLines(feed.tbl, feed.model, cols))
		_ = task.Stop(ctx)
	}

	t.Run("credential", func(t *testing.T) {
		write(t, map[string]string{"credential": "binlake:s3cret", "scope": "catalog"})
		mu.Lock()
		defer mu.Unlock()
		if len(tokenForms) == 0 {
			t.Fatal("no OAuth token was requested")
		}
		if f := tokenForms[0]; f.Get("grant_type") != "client_credentials" || f.Get("client_id") != "binlake" || f.Get("client_secret") != "s3cret" {
			t.Errorf("token request form = %v", f)
		}
		var bearer bool
		for h := range authHeaders {
			bearer = bearer || strings.HasPrefix(h, "Bearer ") && len(h) > len("Bearer ")
		}
		if !bearer {
			t.Errorf("no catalog request carried a bearer token: %v", authHeaders)
		}
	})

	t.Run("token", func(t *testing.T) {
		write(t, map[string]string{"token": "static-token-123"})
		mu.Lock()
		defer mu.Unlock()
		if !authHeaders["Bearer static-token-123"] {
			t.Errorf("no catalog request carried the configured token: %v", authHeaders)
		}
	})

	t.Run("refused", func(t *testing.T) {
		dir := t.TempDir()
		cfg := restTaskConfig(dir, srv, srv.NewNamespace(t))
		cfg[lake.KeyCatalogURI] = front.URL
		cfg[lake.PrefixCatalogProps+"credential"] = "intruder:guess"
		task := lake.NewTask()
		err := task.Start(ctx, &connect.TaskContext{Connector: "c1", Config: cfg, DataDir: dir})
		if err == nil {
			_ = task.Stop(ctx)
			t.Fatal("task started with a refused credential")
		}
		t.Logf("error: %v", err)
		if !strings.Contains(err.Error(), front.URL) || !strings.Contains(err.Error(), "OAuth") {
			t.Errorf("error %q does not name the catalog and the OAuth failure", err)
		}
		if strings.Contains(err.Error(), "guess") {
			t.Errorf("error %q shows the secret", err)
		}
	})
}
