package worker_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/plugin"
	"github.com/binlake/binlake/connect/spec"
	"github.com/binlake/binlake/connect/testplugin"
	"github.com/binlake/binlake/connect/worker"
	"github.com/binlake/binlake/converter"
	"github.com/binlake/binlake/internal/metrics"
)

// dlqSinkName is a sink plugin whose tasks implement connect.DeadLetterAware
// the way the lake sink does: under errors.tolerance=all they skip records
// with an odd sequence, counting them and handing them to the dead-letter
// sender when the worker provided one: during Put for sequences 4k+1, at
// the next Flush (when the worker no longer holds the original message) for
// sequences 4k+3.
const dlqSinkName = "test-dlq-sink"

func init() {
	plugin.Register(plugin.Plugin{
		Name: dlqSinkName, Kind: plugin.Sink, Doc: "Dead-letters records with odd sequences.", Spec: &spec.Spec{},
		New: func() connect.Connector { return dlqSinkConnector{} },
	})
}

// dlqHub records what the dead-lettering sink tasks saw, per connector.
var dlqHub = struct {
	sync.Mutex
	senderAtStart map[string]bool
	kept          map[string][]uint64
}{senderAtStart: map[string]bool{}, kept: map[string][]uint64{}}

type dlqSinkConnector struct{}

func (dlqSinkConnector) TaskConfigs(_ context.Context, cfg connect.Config, _ int) ([]connect.Config, error) {
	return []connect.Config{{spec.TopicNames: cfg[spec.TopicNames]}}, nil
}

func (dlqSinkConnector) NewTask() connect.SinkTask { return &dlqSinkTask{} }

type dlqSinkTask struct {
	tc     *connect.TaskContext
	sender connect.DeadLetterSender
	kept   []uint64
	later  []connect.SinkRecord
}

var _ connect.DeadLetterAware = (*dlqSinkTask)(nil)

func (t *dlqSinkTask) SetDeadLetterSender(d connect.DeadLetterSender) { t.sender = d }

func (t *dlqSinkTask) Start(_ context.Context, tc *connect.TaskContext) error {
	t.tc = tc
	dlqHub.Lock()
	dlqHub.senderAtStart[tc.Connector] = t.sender != nil
	dlqHub.Unlock()
	return nil
}

func (t *dlqSinkTask) Open(_ context.Context, queues []connect.QueueID) (map[connect.QueueID]int64, error) {
	out := make(map[connect.QueueID]int64, len(queues))
	for _, q := range queues {
		out[q] = -1
	}
	return out, nil
}

func (t *dlqSinkTask) Put(ctx context.Context, records []connect.SinkRecord) error {
	for _, rec := range records {
		if rec.Event.Source.Sequence%2 == 0 {
			t.kept = append(t.kept, rec.Event.Source.Sequence)
			continue
		}
		metrics.DLQRecords.WithLabelValues(t.tc.Connector, strconv.Itoa(t.tc.TaskID)).Inc()
		if t.sender == nil {
			continue
		}
		if rec.Event.Source.Sequence%4 == 3 {
			t.later = append(t.later, rec)
			continue
		}
		if err := t.sender.SendDeadLetter(ctx, rec, fmt.Errorf("sequence %d is odd", rec.Event.Source.Sequence)); err != nil {
			return err
		}
	}
	return nil
}

func (t *dlqSinkTask) Flush(ctx context.Context) error {
	for _, rec := range t.later {
		if err := t.sender.SendDeadLetter(ctx, rec, fmt.Errorf("sequence %d is odd", rec.Event.Source.Sequence)); err != nil {
			return err
		}
	}
	t.later = nil
	dlqHub.Lock()
	dlqHub.kept[t.tc.Connector] = append(dlqHub.kept[t.tc.Connector], t.kept...)
	dlqHub.Unlock()
	t.kept = nil
	return nil
}

func (t *dlqSinkTask) Stop(context.Context) error { return nil }

func keptBy(connector string) int {
	dlqHub.Lock()
	defer dlqHub.Unlock()
	return len(dlqHub.kept[connector])
}

// TestSinkTaskDeadLetters checks the sink-side dead-letter hook: with a
// dead-letter topic the worker hands the task a sender before Start, and
// what the task sends arrives in that topic with the original key and body
// (also when sent after Put, from the converter's encoding), the reason and
// the record's origin; without a topic no sender is given.
func TestSinkTaskDeadLetters(t *testing.T) {
	e := newEnv(t)
	src := name(t, "src")
	if err := e.w.Create(src, sourceCfg(testplugin.KeyEvents, "20")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "all events acknowledged", func() bool { return testplugin.Acked(src) == 20 })
	topic := connect.TopicName(src, "db", "t")
	originals := map[string]*worker.ReadMessage{} // by "queue/offset"
	for _, m := range e.broker.Messages(topic) {
		originals[fmt.Sprintf("%d/%d", m.Queue.Queue, m.Offset)] = m
	}

	snk := name(t, "snk")
	dlqTopic := "dlq_" + strings.ReplaceAll(snk, "-", "_")
	cfg := sinkCfg(topic, spec.ErrorsTolerance, spec.ToleranceAll, spec.DLQTopic, dlqTopic)
	cfg[spec.ConnectorClass] = dlqSinkName
	if err := e.w.Create(snk, cfg); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "ten dead letters", func() bool { return len(e.broker.Messages(dlqTopic)) >= 10 })
	waitFor(t, "ten kept records", func() bool { return keptBy(snk) >= 10 })
	dlqHub.Lock()
	hadSender := dlqHub.senderAtStart[snk]
	dlqHub.Unlock()
	if !hadSender {
		t.Error("the task had no dead-letter sender at Start")
	}
	dead := e.broker.Messages(dlqTopic)
	if len(dead) != 10 {
		t.Fatalf("dead-letter topic has %d messages, want 10", len(dead))
	}
	seqs := map[string]bool{}
	for _, m := range dead {
		seq, err := strconv.Atoi(m.Props[worker.PropSeq])
		if err != nil || seq%2 == 0 {
			t.Errorf("dead letter with sequence %q", m.Props[worker.PropSeq])
		}
		seqs[m.Props[worker.PropSeq]] = true
		if want := "sequence " + m.Props[worker.PropSeq] + " is odd"; m.Props[worker.PropError] != want {
			t.Errorf("%s = %q, want %q", worker.PropError, m.Props[worker.PropError], want)
		}
		if m.Props[worker.PropOriginTopic] != topic {
			t.Errorf("%s = %q, want %q", worker.PropOriginTopic, m.Props[worker.PropOriginTopic], topic)
		}
		pos := m.Props[worker.PropOriginQueue] + "/" + m.Props[worker.PropOriginOffset]
		orig, ok := originals[pos]
		if !ok {
			t.Errorf("dead letter names origin %s, which is no message of %s", pos, topic)
			continue
		}
		if m.Props[worker.PropOrigin] != topic+"/"+pos {
			t.Errorf("%s = %q, want %q", worker.PropOrigin, m.Props[worker.PropOrigin], topic+"/"+pos)
		}
		if string(m.Body) != string(orig.Body) || m.Key != orig.Key || orig.Props[worker.PropSeq] != m.Props[worker.PropSeq] {
			t.Errorf("dead letter %s (key %q, body %s) is not the original (key %q, body %s)", pos, m.Key, m.Body, orig.Key, orig.Body)
		}
		// Records dead-lettered during Put (sequences 4k+1) forward the original message, tag included (none on a
		// per-table topic); those dead-lettered at Flush (4k+3), when the message is gone, are encoded again from the
		// event and carry the table's tag. So forwarding cannot silently fall back to re-encoding.
		wantTag := orig.Tag
		if seq%4 == 3 {
			wantTag = connect.TableTag("db", "t")
		}
		if m.Tag != wantTag {
			t.Errorf("dead letter %s (sequence %d) has tag %q, want %q", pos, seq, m.Tag, wantTag)
		}
	}
	if len(seqs) != 10 {
		t.Errorf("dead letters carry %d distinct sequences, want 10", len(seqs))
	}
	if got := testutil.ToFloat64(metrics.DLQRecords.WithLabelValues(snk, "0")); got != 10 {
		t.Errorf("dlq metric = %v, want 10 (the task counts; the sender must not)", got)
	}

	// Without a dead-letter topic the task gets no sender.
	plain := name(t, "plain")
	cfg = sinkCfg(topic, spec.ErrorsTolerance, spec.ToleranceAll)
	cfg[spec.ConnectorClass] = dlqSinkName
	if err := e.w.Create(plain, cfg); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "records kept without a dead-letter topic", func() bool { return keptBy(plain) >= 10 })
	dlqHub.Lock()
	hadSender = dlqHub.senderAtStart[plain]
	dlqHub.Unlock()
	if hadSender {
		t.Error("the task got a dead-letter sender without a dead-letter topic")
	}
}

// shrinkRow is a transform that drops the v column of the event with
// sequence 3, which the test converter then cannot encode.
type shrinkRow struct{}

func (shrinkRow) ApplyEvent(_ context.Context, ev *connect.ChangeEvent) (*connect.ChangeEvent, error) {
	if ev.Source.Sequence != 3 {
		return ev, nil
	}
	out := *ev
	out.After = ev.After[:1]
	return &out, nil
}

func (s shrinkRow) Apply(ctx context.Context, evs []*connect.ChangeEvent) ([]*connect.ChangeEvent, error) {
	out := make([]*connect.ChangeEvent, 0, len(evs))
	for _, ev := range evs {
		res, _ := s.ApplyEvent(ctx, ev)
		out = append(out, res)
	}
	return out, nil
}

// TestBadEventFailsSourcePromptly: an event the converter cannot encode
// under errors.tolerance=none fails the source task at once (terminal, not
// retried for the give-up period), and the trace names the event and what
// to do.
func TestBadEventFailsSourcePromptly(t *testing.T) {
	e := newEnv(t)
	e.w = e.start(func(o *worker.Options) {
		o.Transforms = func(connect.Config) (worker.Transform, error) { return shrinkRow{}, nil }
	})
	src := name(t, "src")
	if err := e.w.Create(src, sourceCfg(spec.Transforms, "s", testplugin.KeyEvents, "8", testplugin.KeyBatch, "8")); err != nil {
		t.Fatal(err)
	}
	st := e.waitTaskState(src, worker.Failed)
	tr := st.Tasks[0].Trace
	for _, want := range []string{"terminal:", "converting event of db.t at sequence 3", "2 columns",
		"set errors.tolerance=all with errors.deadletterqueue.topic.name"} {
		if !strings.Contains(tr, want) {
			t.Errorf("trace lacks %q: %s", want, tr)
		}
	}
	if got := testutil.ToFloat64(metrics.TaskErrors.WithLabelValues(src, "0")); got != 1 {
		t.Errorf("task errors = %v, want 1 (no retries)", got)
	}
	if testplugin.Acked(src) != 0 {
		t.Error("the batch with the bad event was acknowledged")
	}
}

// garbage puts a body the test converter cannot decode into topic.
func garbage(t *testing.T, e *env, topic string) {
	t.Helper()
	p, err := e.broker.NewProducer("garbage")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	if err := p.Send(context.Background(), &worker.Message{Topic: topic, Key: "k", Body: []byte("not json")},
		func(err error) { done <- err }); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestBadRecordFailsSinkPromptly: a record that does not decode under
// errors.tolerance=none fails the sink task at once, and the trace names the
// record's topic, queue and offset and what to do.
func TestBadRecordFailsSinkPromptly(t *testing.T) {
	e := newEnv(t)
	topic := "bad_" + strings.ReplaceAll(name(t, "t"), "-", "_")
	garbage(t, e, topic)
	snk := name(t, "snk")
	if err := e.w.Create(snk, sinkCfg(topic)); err != nil {
		t.Fatal(err)
	}
	st := e.waitTaskState(snk, worker.Failed)
	tr := st.Tasks[0].Trace
	var q *worker.ReadMessage
	if msgs := e.broker.Messages(topic); len(msgs) == 1 {
		q = msgs[0]
	} else {
		t.Fatalf("topic has %d messages", len(msgs))
	}
	for _, want := range []string{"terminal:", fmt.Sprintf("reading %s queue %d offset 0", topic, q.Queue.Queue),
		"decoding test event", "set errors.tolerance=all with errors.deadletterqueue.topic.name"} {
		if !strings.Contains(tr, want) {
			t.Errorf("trace lacks %q: %s", want, tr)
		}
	}
	if got := testutil.ToFloat64(metrics.TaskErrors.WithLabelValues(snk, "0")); got != 1 {
		t.Errorf("task errors = %v, want 1 (no retries)", got)
	}
}

// flakyConverter fails every Encode and Decode with a transient error until
// healed, as a converter whose schema registry is down does.
type flakyConverter struct {
	inner  converter.Converter
	mu     sync.Mutex
	broken bool
}

var errRegistryDown = errors.New("registry is down")

func (f *flakyConverter) failing() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.broken
}

func (f *flakyConverter) heal() {
	f.mu.Lock()
	f.broken = false
	f.mu.Unlock()
}

func (f *flakyConverter) Encode(ctx context.Context, topic string, ev *connect.ChangeEvent) ([]byte, error) {
	if f.failing() {
		return nil, connect.Transient(errRegistryDown)
	}
	return f.inner.Encode(ctx, topic, ev)
}

func (f *flakyConverter) Decode(ctx context.Context, topic string, body []byte) (*connect.ChangeEvent, error) {
	if f.failing() {
		return nil, connect.Transient(errRegistryDown)
	}
	return f.inner.Decode(ctx, topic, body)
}

// TestTransientConversionErrorsAreRetried: a transient converter error is
// neither terminal nor a reason to skip the event under
// errors.tolerance=all: the task retries and delivers everything once the
// converter works again.
func TestTransientConversionErrorsAreRetried(t *testing.T) {
	e := newEnv(t)
	flaky := &flakyConverter{inner: testplugin.Converter{}, broken: true}
	e.w = e.start(func(o *worker.Options) {
		o.Converters = map[string]worker.ConverterFactory{"json": func(connect.Config) (converter.Converter, error) { return flaky, nil }}
	})
	src := name(t, "src")
	dlqTopic := "dlq_" + strings.ReplaceAll(src, "-", "_")
	if err := e.w.Create(src, sourceCfg(testplugin.KeyEvents, "6", spec.ErrorsTolerance, spec.ToleranceAll,
		spec.DLQTopic, dlqTopic)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a retry on the transient error", func() bool {
		st := e.status(src)
		return len(st.Tasks) == 1 && st.Tasks[0].State == worker.Restarting && strings.Contains(st.Tasks[0].Trace, "registry is down")
	})
	if strings.Contains(e.status(src).Tasks[0].Trace, "terminal") {
		t.Errorf("transient error marked terminal: %s", e.status(src).Tasks[0].Trace)
	}
	flaky.heal()
	waitFor(t, "all events acknowledged after healing", func() bool { return testplugin.Acked(src) == 6 })
	if n := len(e.broker.Messages(dlqTopic)); n != 0 {
		t.Errorf("%d events dead-lettered for a transient error", n)
	}
	if got := testutil.ToFloat64(metrics.DLQRecords.WithLabelValues(src, "0")); got != 0 {
		t.Errorf("dlq metric = %v, want 0", got)
	}
	if n := len(e.broker.Messages(connect.TopicName(src, "db", "t"))); n != 6 {
		t.Errorf("topic has %d messages, want 6", n)
	}
}
