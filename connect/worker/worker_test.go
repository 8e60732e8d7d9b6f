package worker_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/spec"
	"github.com/binlake/binlake/connect/testplugin"
	"github.com/binlake/binlake/connect/worker"
	"github.com/binlake/binlake/internal/metrics"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

type env struct {
	t      *testing.T
	dir    string
	broker *testplugin.Broker
	store  *testplugin.MemStore
	w      *worker.Worker
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), broker: testplugin.NewBroker(4), store: testplugin.NewMemStore()}
	e.w = e.start(nil)
	return e
}

func (e *env) start(edit func(*worker.Options)) *worker.Worker {
	e.t.Helper()
	opts := testplugin.WorkerOptions(e.dir, e.broker, e.store)
	if edit != nil {
		edit(&opts)
	}
	w, err := worker.New(opts)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := w.Start(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := w.Shutdown(ctx); err != nil {
			e.t.Error(err)
		}
	})
	return w
}

// name returns a connector name unique to the test (the test plugins keep
// global per-name state).
func name(t *testing.T, suffix string) string {
	return fmt.Sprintf("%s-%d-%s", strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()), nameSeq.Add(1), suffix)
}

var nameSeq atomic.Int64

func sourceCfg(extra ...string) connect.Config {
	cfg := connect.Config{spec.ConnectorClass: testplugin.SourceName, spec.ValueConverter: "json"}
	for i := 0; i+1 < len(extra); i += 2 {
		cfg[extra[i]] = extra[i+1]
	}
	return cfg
}

func sinkCfg(topics string, extra ...string) connect.Config {
	cfg := connect.Config{spec.ConnectorClass: testplugin.SinkName, spec.ValueConverter: "json",
		spec.TopicNames: topics, spec.CommitIntervalMs: "20"}
	for i := 0; i+1 < len(extra); i += 2 {
		cfg[extra[i]] = extra[i+1]
	}
	return cfg
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (e *env) status(name string) *worker.Status {
	e.t.Helper()
	st, err := e.w.Status(name)
	if err != nil {
		e.t.Fatal(err)
	}
	return st
}

func (e *env) waitTaskState(name string, want worker.State) *worker.Status {
	e.t.Helper()
	var st *worker.Status
	waitFor(e.t, name+" task state "+string(want), func() bool {
		st = e.status(name)
		return len(st.Tasks) > 0 && st.Tasks[0].State == want
	})
	return st
}

func TestSourceToSink(t *testing.T) {
	e := newEnv(t)
	src, snk := name(t, "src"), name(t, "snk")
	if err := e.w.Create(src, sourceCfg(testplugin.KeyEvents, "50", testplugin.KeyPassword, "s3cret")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "all events acknowledged", func() bool { return testplugin.Acked(src) == 50 })
	topic := connect.TopicName(src, "db", "t")
	msgs := e.broker.Messages(topic)
	if len(msgs) != 50 {
		t.Fatalf("topic %s has %d messages, want 50 (topics: %v)", topic, len(msgs), e.broker.Topics())
	}
	seen := map[string]bool{}
	for _, m := range msgs {
		seq := m.Props[worker.PropSeq]
		if seen[seq] {
			t.Errorf("sequence %s sent twice", seq)
		}
		seen[seq] = true
		if m.Key != seq { // the key is the id column, equal to the sequence
			t.Errorf("message key %q, want %q", m.Key, seq)
		}
		if m.Props[worker.PropTable] != "db.t" || m.Props[worker.PropOp] != "c" || m.Tag != "" {
			t.Errorf("props %v tag %q", m.Props, m.Tag)
		}
	}
	// The connector owns the event and lag metrics (the test source reports
	// none): the worker must not count them a second time.
	for _, m := range []string{"binlake_source_events_total", "binlake_source_lag_seconds"} {
		if n := series(t, m, src); n != 0 {
			t.Errorf("the worker wrote %d series of %s for %s", n, m, src)
		}
	}
	if got := testutil.ToFloat64(metrics.TaskState.WithLabelValues(src, "0", "RUNNING")); got != 1 {
		t.Errorf("task state RUNNING gauge = %v", got)
	}

	if err := e.w.Create(snk, sinkCfg(topic)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "all events in the sink", func() bool { return len(testplugin.Sunk(snk)) >= 50 })
	got := map[uint64]bool{}
	for _, ev := range testplugin.Sunk(snk) {
		got[ev.Source.Sequence] = true
	}
	for seq := uint64(1); seq <= 50; seq++ {
		if !got[seq] {
			t.Errorf("sequence %d missing in the sink", seq)
		}
	}
	waitFor(t, "broker offsets committed", func() bool {
		var sum int64
		for q := 0; q < 4; q++ {
			sum += max(e.broker.Committed(worker.GroupName(snk), connect.QueueID{Topic: topic, BrokerName: "fake", Queue: q}), 0)
		}
		return sum == 50
	})
	if n := series(t, "binlake_sink_records_total", snk); n != 0 {
		t.Errorf("the worker wrote %d series of binlake_sink_records_total for %s (the sink owns it)", n, snk)
	}
	off, err := e.w.Offsets(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if cp := string(off.Checkpoints[src+"/0"]); cp != `{"sequence":50}` {
		t.Errorf("source checkpoint = %s", cp)
	}
	off, err = e.w.Offsets(context.Background(), snk)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, v := range off.Tasks["0"] {
		total += v.(int64)
	}
	if total != 50 {
		t.Errorf("sink offsets %v sum to %d, want 50", off.Tasks, total)
	}
	cfg, err := e.w.Config(src)
	if err != nil {
		t.Fatal(err)
	}
	if cfg[testplugin.KeyPassword] != spec.Redacted || cfg[spec.Name] != src {
		t.Errorf("config = %v, want the password redacted and the name set", cfg)
	}
	tasks, err := e.w.Tasks(src)
	if err != nil || len(tasks) != 1 || tasks[0].Config[testplugin.KeyPassword] != spec.Redacted {
		t.Errorf("tasks = %v, %v", tasks, err)
	}
}

func TestSingleTopic(t *testing.T) {
	e := newEnv(t)
	src := name(t, "src")
	if err := e.w.Create(src, sourceCfg(testplugin.KeyEvents, "5", spec.TopicNameKey, "all_tables")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "acks", func() bool { return testplugin.Acked(src) == 5 })
	msgs := e.broker.Messages("all_tables")
	if len(msgs) != 5 {
		t.Fatalf("got %d messages in the single topic", len(msgs))
	}
	for _, m := range msgs {
		if m.Tag != "db.t" {
			t.Errorf("tag = %q, want db.t", m.Tag)
		}
	}
}

func TestLifecycle(t *testing.T) {
	e := newEnv(t)
	src := name(t, "src")
	if err := e.w.Create(src, sourceCfg(testplugin.KeyEvents, "0")); err != nil {
		t.Fatal(err)
	}
	e.waitTaskState(src, worker.Running)
	steps := []struct {
		do        func() error
		connState worker.State
		taskState worker.State // "" = no tasks
	}{
		{func() error { return e.w.Pause(src) }, worker.Paused, worker.Paused},
		{func() error { return e.w.Resume(src) }, worker.Running, worker.Running},
		{func() error { return e.w.Stop(src) }, worker.Stopped, ""},
		{func() error { return e.w.Pause(src) }, worker.Paused, worker.Paused},
		{func() error { return e.w.Stop(src) }, worker.Stopped, ""},
		{func() error { return e.w.Resume(src) }, worker.Running, worker.Running},
		{func() error { return e.w.Restart(src) }, worker.Running, worker.Running},
	}
	for i, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		waitFor(t, "step "+strconv.Itoa(i), func() bool {
			st := e.status(src)
			if st.Connector.State != s.connState {
				return false
			}
			if s.taskState == "" {
				return len(st.Tasks) == 0
			}
			return len(st.Tasks) == 1 && st.Tasks[0].State == s.taskState
		})
	}
	if err := e.w.Stop(src); err != nil {
		t.Fatal(err)
	}
	var ce *worker.ConflictError
	if err := e.w.Restart(src); !errors.As(err, &ce) {
		t.Fatalf("restart of a stopped connector: %v, want a conflict", err)
	}
	if err := e.w.Create(src, sourceCfg()); !errors.As(err, &ce) {
		t.Fatalf("duplicate create: %v, want a conflict", err)
	}
	if err := e.w.Delete(context.Background(), src, false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.w.Status(src); !errors.Is(err, worker.ErrNotFound) {
		t.Fatalf("status after delete: %v", err)
	}
	if err := e.w.Pause(src); !errors.Is(err, worker.ErrNotFound) {
		t.Fatalf("pause after delete: %v", err)
	}
}

func TestTerminalFailureAndTaskRestart(t *testing.T) {
	e := newEnv(t)
	src := name(t, "src")
	err := e.w.Create(src, sourceCfg(testplugin.KeyEvents, "3", testplugin.KeyFail, testplugin.FailStartTerminal,
		testplugin.KeyFailTimes, "1"))
	if err != nil {
		t.Fatal(err)
	}
	st := e.waitTaskState(src, worker.Failed)
	if tr := st.Tasks[0].Trace; !strings.Contains(tr, "injected failure") || !strings.Contains(tr, "remove test.fail") {
		t.Errorf("trace %q lacks the error and the hint", tr)
	}
	if n := testplugin.Attempts(src); n != 1 {
		t.Errorf("terminal error was retried: %d attempts", n)
	}
	if got := testutil.ToFloat64(metrics.TaskErrors.WithLabelValues(src, "0")); got != 1 {
		t.Errorf("task errors metric = %v, want 1", got)
	}
	if _, err := e.w.TaskStatus(src, 7); !errors.Is(err, worker.ErrNotFound) {
		t.Errorf("status of a missing task: %v", err)
	}
	if err := e.w.RestartTask(src, 0); err != nil {
		t.Fatal(err)
	}
	e.waitTaskState(src, worker.Running)
	waitFor(t, "acks after restart", func() bool { return testplugin.Acked(src) == 3 })
}

func TestRetryableThenHealthy(t *testing.T) {
	e := newEnv(t)
	src := name(t, "src")
	if err := e.w.Create(src, sourceCfg(testplugin.KeyEvents, "3", testplugin.KeyFail, testplugin.FailStartRetryable,
		testplugin.KeyFailTimes, "3")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "acks", func() bool { return testplugin.Acked(src) == 3 })
	if n := testplugin.Attempts(src); n != 4 {
		t.Errorf("attempts = %d, want 3 failures and 1 success", n)
	}
	if st := e.status(src); st.Tasks[0].State != worker.Running || st.Tasks[0].Trace != "" {
		t.Errorf("status after recovery = %+v", st.Tasks[0])
	}
}

func TestPersistentErrorGivesUp(t *testing.T) {
	e := newEnv(t)
	e.w = e.start(func(o *worker.Options) {
		o.Retry.GiveUpAfter = 100 * time.Millisecond
	})
	src := name(t, "src")
	if err := e.w.Create(src, sourceCfg(testplugin.KeyFail, testplugin.FailPollRetryable)); err != nil {
		t.Fatal(err)
	}
	st := e.waitTaskState(src, worker.Failed)
	if !strings.Contains(st.Tasks[0].Trace, "giving up") {
		t.Errorf("trace = %q", st.Tasks[0].Trace)
	}
	n := testplugin.Attempts(src)
	if n < 2 {
		t.Errorf("only %d attempts before giving up", n)
	}
	time.Sleep(100 * time.Millisecond)
	if testplugin.Attempts(src) != n {
		t.Error("a FAILED task kept restarting")
	}
}

func TestSendFailureIsRetried(t *testing.T) {
	e := newEnv(t)
	src := name(t, "src")
	e.broker.FailSends(errors.New("broker busy"))
	if err := e.w.Create(src, sourceCfg(testplugin.KeyEvents, "8")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a restart after the send failure", func() bool {
		st := e.status(src)
		return len(st.Tasks) == 1 && strings.Contains(st.Tasks[0].Trace, "broker busy")
	})
	if testplugin.Acked(src) != 0 {
		t.Fatal("events acknowledged although every send failed")
	}
	e.broker.FailSends(nil)
	waitFor(t, "acks after recovery", func() bool { return testplugin.Acked(src) == 8 })
}

func TestConnectorLevelFailure(t *testing.T) {
	e := newEnv(t)
	src := name(t, "src")
	if err := e.w.Create(src, sourceCfg(testplugin.KeyFail, testplugin.FailTaskConfigs, testplugin.KeyFailTimes, "1")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "connector FAILED", func() bool { return e.status(src).Connector.State == worker.Failed })
	if tr := e.status(src).Connector.Trace; !strings.Contains(tr, "computing task configs") {
		t.Errorf("trace = %q", tr)
	}
	if err := e.w.Restart(src); err != nil {
		t.Fatal(err)
	}
	e.waitTaskState(src, worker.Running)
}

func TestValidationErrors(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name   string
		cfg    connect.Config
		fields []string
	}{
		{"no class", connect.Config{}, []string{spec.ConnectorClass}},
		{"unknown class", connect.Config{spec.ConnectorClass: "nope"}, []string{spec.ConnectorClass}},
		{"bad keys", sourceCfg(testplugin.KeyEvents, "many", "bogus", "1", spec.ValueConverter, "xml"),
			[]string{"bogus", testplugin.KeyEvents, spec.ValueConverter}},
		{"missing converter", sourceCfg(spec.ValueConverter, "avro"), nil},
		{"sink without topics", connect.Config{spec.ConnectorClass: testplugin.SinkName}, []string{spec.TopicNames}},
		{"transforms unsupported", sourceCfg(spec.Transforms, "a"), []string{spec.Transforms}},
		{"name mismatch", sourceCfg(spec.Name, "other"), []string{spec.Name}},
		{"plugin cross-field check", sinkCfg("a," + testplugin.ForbiddenTopic), []string{spec.TopicNames}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.w.Create("c"+strconv.Itoa(i), tt.cfg)
			if tt.fields == nil {
				if err != nil {
					t.Fatalf("Create = %v", err)
				}
				return
			}
			var ve *worker.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Create = %v, want a validation error", err)
			}
			var got []string
			for _, f := range ve.Fields {
				got = append(got, f.Field)
			}
			if strings.Join(got, ",") != strings.Join(tt.fields, ",") {
				t.Errorf("fields = %v, want %v (%v)", got, tt.fields, ve)
			}
		})
	}
	if err := e.w.Create("bad/name", sourceCfg()); !errors.Is(err, worker.ErrBadRequest) {
		t.Errorf("bad name: %v", err)
	}
}

func TestWorkerRestartKeepsStates(t *testing.T) {
	e := newEnv(t)
	run, paused, stopped, snk := name(t, "run"), name(t, "paused"), name(t, "stopped"), name(t, "snk")
	for _, n := range []string{run, paused, stopped} {
		if err := e.w.Create(n, sourceCfg(testplugin.KeyEvents, "20", testplugin.KeyBatch, "1", testplugin.KeyPassword, "pw")); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "first events", func() bool { return testplugin.Acked(run) >= 2 })
	if err := e.w.Pause(paused); err != nil {
		t.Fatal(err)
	}
	if err := e.w.Stop(stopped); err != nil {
		t.Fatal(err)
	}
	topic := connect.TopicName(run, "db", "t")
	if err := e.w.Create(snk, sinkCfg(topic)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.w.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	ackedBefore := testplugin.Acked(run)

	w2 := e.start(nil)
	e.w = w2
	want := []string{paused, run, snk, stopped}
	sort.Strings(want)
	if got := strings.Join(w2.Connectors(), ","); got != strings.Join(want, ",") {
		t.Fatalf("connectors after restart = %s", got)
	}
	for n, want := range map[string]worker.State{run: worker.Running, paused: worker.Paused, stopped: worker.Stopped, snk: worker.Running} {
		waitFor(t, n+" back in "+string(want), func() bool { return e.status(n).Connector.State == want })
	}
	cfg, err := w2.Config(run)
	if err != nil || cfg[testplugin.KeyEvents] != "20" || cfg[testplugin.KeyPassword] != spec.Redacted {
		t.Fatalf("config after restart = %v, %v", cfg, err)
	}
	waitFor(t, "all events", func() bool { return testplugin.Acked(run) == 20 })
	// The source resumed after its checkpoint: no sequence at or below it was
	// sent twice.
	count := map[string]int{}
	for _, m := range e.broker.Messages(topic) {
		count[m.Props[worker.PropSeq]]++
	}
	for seq := uint64(1); seq <= ackedBefore; seq++ {
		if c := count[strconv.FormatUint(seq, 10)]; c != 1 {
			t.Errorf("acknowledged sequence %d sent %d times", seq, c)
		}
	}
	waitFor(t, "sink caught up", func() bool {
		got := map[uint64]bool{}
		for _, ev := range testplugin.Sunk(snk) {
			got[ev.Source.Sequence] = true
		}
		return len(got) == 20
	})
}

func TestCorruptStateRefusesToStart(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state", "connectors")
	if err := os.MkdirAll(state, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(state, "x.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := worker.New(testplugin.WorkerOptions(dir, testplugin.NewBroker(1), testplugin.NewMemStore()))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "x.json") {
		t.Fatalf("Start = %v, want an error naming the file", err)
	}
}

func TestPurge(t *testing.T) {
	e := newEnv(t)
	src := name(t, "src")
	if err := e.w.Create(src, sourceCfg(testplugin.KeyEvents, "4")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "acks", func() bool { return testplugin.Acked(src) == 4 })
	dataDir := filepath.Join(e.dir, "connectors", src)
	if _, err := os.Stat(dataDir); err != nil {
		t.Fatalf("connector data dir: %v", err)
	}
	if err := e.w.Delete(context.Background(), src, true); err != nil {
		t.Fatal(err)
	}
	if kv, _ := e.store.List(context.Background(), src+"/"); len(kv) != 0 {
		t.Errorf("checkpoints after purge: %v", kv)
	}
	if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
		t.Errorf("data dir after purge: %v", err)
	}
}

func TestSnapshot(t *testing.T) {
	e := newEnv(t)
	src, snk := name(t, "src"), name(t, "snk")
	if err := e.w.Create(src, sourceCfg()); err != nil {
		t.Fatal(err)
	}
	e.waitTaskState(src, worker.Running)
	if err := e.w.Snapshot(context.Background(), src, []string{"db.t"}); err != nil {
		t.Fatal(err)
	}
	if got := testplugin.Snapshots(src); len(got) != 1 || got[0][0] != "db.t" {
		t.Errorf("snapshots = %v", got)
	}
	if err := e.w.Pause(src); err != nil {
		t.Fatal(err)
	}
	if err := e.w.Snapshot(context.Background(), src, []string{"db.t"}); !errors.Is(err, worker.ErrNotRunning) {
		t.Errorf("snapshot of a paused connector: %v", err)
	}
	if err := e.w.Create(snk, sinkCfg("x")); err != nil {
		t.Fatal(err)
	}
	if err := e.w.Snapshot(context.Background(), snk, []string{"db.t"}); !errors.Is(err, worker.ErrNotSupported) {
		t.Errorf("snapshot of a sink: %v", err)
	}
}

func TestSinkOffsetOutOfRange(t *testing.T) {
	e := newEnv(t)
	src := name(t, "src")
	if err := e.w.Create(src, sourceCfg(testplugin.KeyEvents, "40")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "acks", func() bool { return testplugin.Acked(src) == 40 })
	topic := connect.TopicName(src, "db", "t")
	// Retention removed the first two messages of every queue before any
	// sink read them: a new sink starts at the earliest message left.
	counts := map[int]int{}
	for _, m := range e.broker.Messages(topic) {
		counts[m.Queue.Queue]++
	}
	want := 0
	for q, n := range counts {
		e.broker.Expire(connect.QueueID{Topic: topic, BrokerName: "fake", Queue: q}, min(2, int64(n)))
		want += max(n-2, 0)
	}
	fresh := name(t, "fresh")
	if err := e.w.Create(fresh, sinkCfg(topic)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the fresh sink to read what is left", func() bool { return len(testplugin.Sunk(fresh)) == want })
	if err := e.w.Stop(fresh); err != nil {
		t.Fatal(err)
	}
	// Now messages after the sink's own committed position are gone: that
	// loses data, so the task fails with a hint instead of skipping them.
	for q, n := range counts {
		e.broker.Expire(connect.QueueID{Topic: topic, BrokerName: "fake", Queue: q}, int64(n)+1)
	}
	if err := e.w.Resume(fresh); err != nil {
		t.Fatal(err)
	}
	st := e.waitTaskState(fresh, worker.Failed)
	if !strings.Contains(st.Tasks[0].Trace, "re-snapshot") {
		t.Errorf("trace = %q", st.Tasks[0].Trace)
	}
}

func TestPluginPanicFailsTaskNotWorker(t *testing.T) {
	for _, point := range []string{testplugin.FailPollPanic, testplugin.FailAckPanic} {
		t.Run(point, func(t *testing.T) {
			e := newEnv(t)
			src := name(t, "src")
			if err := e.w.Create(src, sourceCfg(testplugin.KeyFail, point, testplugin.KeyFailTimes, "1")); err != nil {
				t.Fatal(err)
			}
			st := e.waitTaskState(src, worker.Failed)
			if tr := st.Tasks[0].Trace; !strings.Contains(tr, "task panicked") || !strings.Contains(tr, "bug in the connector plugin") {
				t.Errorf("trace = %q", tr)
			}
			if err := e.w.RestartTask(src, 0); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "acks after the restart", func() bool { return testplugin.Acked(src) == 10 })
		})
	}
}

// oddRouter drops events with even sequences, fails on sequence 3 and
// routes the rest to the topic "routed".
type oddRouter struct{}

func (oddRouter) ApplyEvent(_ context.Context, ev *connect.ChangeEvent) (*connect.ChangeEvent, error) {
	switch {
	case ev.Source.Sequence%2 == 0:
		return nil, nil
	case ev.Source.Sequence == 3:
		return nil, errors.New("sequence 3 is cursed")
	}
	out := *ev
	out.Topic = "routed"
	return &out, nil
}

func (r oddRouter) Apply(ctx context.Context, evs []*connect.ChangeEvent) ([]*connect.ChangeEvent, error) {
	var out []*connect.ChangeEvent
	for _, ev := range evs {
		res, err := r.ApplyEvent(ctx, ev)
		if err != nil {
			return nil, err
		}
		if res != nil {
			out = append(out, res)
		}
	}
	return out, nil
}

func TestTransformsHook(t *testing.T) {
	e := newEnv(t)
	e.w = e.start(func(o *worker.Options) {
		o.Transforms = func(connect.Config) (worker.Transform, error) { return oddRouter{}, nil }
		o.ValidateTransforms = func(cfg connect.Config) []spec.FieldError {
			if cfg["transforms.r.type"] != "odd" {
				return []spec.FieldError{{Field: "transforms.r.type", Message: "unknown transform type"}}
			}
			return nil
		}
	})
	var ve *worker.ValidationError
	if err := e.w.Create(name(t, "bad"), sourceCfg(spec.Transforms, "r", "transforms.r.type", "even")); !errors.As(err, &ve) ||
		ve.Fields[0].Field != "transforms.r.type" {
		t.Fatalf("bad transform config: %v", err)
	}
	strict := name(t, "strict")
	if err := e.w.Create(strict, sourceCfg(spec.Transforms, "r", "transforms.r.type", "odd", testplugin.KeyEvents, "4")); err != nil {
		t.Fatal(err)
	}
	// Under errors.tolerance=none the failing event fails the task at once,
	// named in the trace.
	st := e.waitTaskState(strict, worker.Failed)
	for _, want := range []string{"terminal:", "cursed", "the event of db.t at sequence 3", "errors.deadletterqueue.topic.name"} {
		if !strings.Contains(st.Tasks[0].Trace, want) {
			t.Errorf("strict connector's trace lacks %q: %s", want, st.Tasks[0].Trace)
		}
	}
	if testplugin.Acked(strict) != 0 {
		t.Error("a batch with a failing event was acknowledged under errors.tolerance=none")
	}

	src := name(t, "src")
	if err := e.w.Create(src, sourceCfg(spec.Transforms, "r", "transforms.r.type", "odd", testplugin.KeyEvents, "10",
		spec.ErrorsTolerance, spec.ToleranceAll, spec.DLQTopic, "dlq_"+strings.ReplaceAll(src, "-", "_"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "acks", func() bool { return testplugin.Acked(src) == 10 })
	var seqs []string
	for _, m := range e.broker.Messages("routed") {
		if m.Tag != "db.t" {
			t.Errorf("routed message tag = %q", m.Tag)
		}
		seqs = append(seqs, m.Props[worker.PropSeq])
	}
	sort.Strings(seqs)
	if got := strings.Join(seqs, ","); !strings.Contains(got, "1,5,7,9") || strings.Contains(got, "3") {
		t.Errorf("routed sequences = %s, want 1,5,7,9 (also from the strict connector: 1)", got)
	}
	dlq := e.broker.Messages("dlq_" + strings.ReplaceAll(src, "-", "_"))
	if len(dlq) != 1 || dlq[0].Props[worker.PropSeq] != "3" || !strings.Contains(dlq[0].Props[worker.PropError], "cursed") {
		t.Errorf("dead letters = %+v", dlq)
	}
	if got := testutil.ToFloat64(metrics.DLQRecords.WithLabelValues(src, "0")); got != 1 {
		t.Errorf("dlq metric = %v", got)
	}
}

// series counts the series of a metric family whose connector label is
// connector.
func series(t *testing.T, family, connector string) int {
	t.Helper()
	fams, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range fams {
		if f.GetName() != family {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "connector" && l.GetValue() == connector {
					n++
				}
			}
		}
	}
	return n
}

// TestSinkConsumesExistingTopicsWhileOthersAreMissing: a sink reading two topics, one of which no source has created
// yet, consumes the existing one at once (a source creates a table's topic only when it first sends to it; a snapshot
// reaches its last table late), says in its status which topic it waits for, and picks the other up when it appears.
func TestSinkConsumesExistingTopicsWhileOthersAreMissing(t *testing.T) {
	e := newEnv(t)
	src1, src2, snk := name(t, "src1"), name(t, "src2"), name(t, "snk")
	if err := e.w.Create(src1, sourceCfg(testplugin.KeyEvents, "30")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first source's events acknowledged", func() bool { return testplugin.Acked(src1) == 30 })
	topic1, topic2 := connect.TopicName(src1, "db", "t"), connect.TopicName(src2, "db", "t")
	if err := e.w.Create(snk, sinkCfg(topic1+","+topic2)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the existing topic's events in the sink", func() bool { return len(testplugin.Sunk(snk)) >= 30 })
	if st := e.status(snk); len(st.Tasks) == 0 || !strings.Contains(st.Tasks[0].Detail, topic2) {
		t.Errorf("sink status %+v does not say it waits for %s", st.Tasks, topic2)
	}
	if err := e.w.Create(src2, sourceCfg(testplugin.KeyEvents, "20")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new topic's events in the sink", func() bool { return len(testplugin.Sunk(snk)) >= 50 })
	if st := e.status(snk); len(st.Tasks) > 0 && strings.Contains(st.Tasks[0].Detail, "waiting") {
		t.Errorf("sink status still says %q after every topic exists", st.Tasks[0].Detail)
	}
}
