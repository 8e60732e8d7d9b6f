//go:build integration

package worker_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/spec"
	"github.com/binlake/binlake/connect/testplugin"
	"github.com/binlake/binlake/connect/worker"
	"github.com/binlake/binlake/integration/containers"
	"github.com/binlake/binlake/internal/mq"
)

func TestMain(m *testing.M) {
	code := m.Run()
	containers.TerminateAll()
	os.Exit(code)
}

// TestRocketMQSourceToSink runs the test source and sink through a real
// RocketMQ broker with the real producer and reader: every event arrives,
// keyed and with its properties, and the sink's consumer group offsets are
// committed on the broker.
func TestRocketMQSourceToSink(t *testing.T) {
	srv := containers.RocketMQServer(t)
	w := rocketMQWorker(t, srv)
	suffix := strconv.FormatInt(time.Now().UnixNano()%1e9, 10)
	src, snk := "itsrc"+suffix, "itsnk"+suffix
	const n = 500
	if err := w.Create(src, sourceCfg(testplugin.KeyEvents, strconv.Itoa(n), testplugin.KeyBatch, "64")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for testplugin.Acked(src) < n {
		if time.Now().After(deadline) {
			st, _ := w.Status(src)
			t.Fatalf("only %d of %d events acknowledged; status %+v", testplugin.Acked(src), n, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	topic := connect.TopicName(src, "db", "t")
	if err := w.Create(snk, sinkCfg(topic, spec.CommitIntervalMs, "200")); err != nil {
		t.Fatal(err)
	}
	seen := map[uint64]bool{}
	for len(seen) < n {
		if time.Now().After(deadline) {
			st, _ := w.Status(snk)
			t.Fatalf("sink has %d of %d sequences; status %+v", len(seen), n, st)
		}
		for _, ev := range testplugin.Sunk(snk) {
			seen[ev.Source.Sequence] = true
		}
		time.Sleep(50 * time.Millisecond)
	}
	reader, err := mq.NewReader(mq.ReaderConfig{NamesrvAddr: srv.NamesrvAddr, Group: worker.GroupName(snk)})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := reader.Start(ctx); err != nil {
		t.Fatal(err)
	}
	queues, err := reader.Queues(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	for time.Now().Before(deadline) {
		var committed, total int64
		for _, q := range queues {
			c, err := reader.CommittedOffset(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			m, err := reader.MaxOffset(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			committed += max(c, 0)
			total += m
		}
		if committed == total && total == n {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("the sink's broker offsets never reached the end of the topic")
}

// readAll reads every message of topic from a fresh consumer group.
func readAll(t *testing.T, srv *containers.RocketMQ, topic string) []*worker.ReadMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	reader, err := mq.NewReader(mq.ReaderConfig{NamesrvAddr: srv.NamesrvAddr, Group: "read-" + strconv.FormatInt(time.Now().UnixNano(), 36)})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	if err := reader.Start(ctx); err != nil {
		t.Fatal(err)
	}
	queues, err := reader.Queues(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	var out []*worker.ReadMessage
	for _, q := range queues {
		end, err := reader.MaxOffset(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for off := int64(0); off < end; {
			msgs, next, err := reader.Pull(ctx, q, off, 64)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, msgs...)
			if next <= off {
				break
			}
			off = next
		}
	}
	return out
}

// TestRocketMQSinkDeadLetters runs a sink task that dead-letters records
// (as the lake sink does with records it cannot write) against a real
// broker: every dead letter lands in the dead-letter topic with the
// original body, the reason and the record's origin.
func TestRocketMQSinkDeadLetters(t *testing.T) {
	srv := containers.RocketMQServer(t)
	w := rocketMQWorker(t, srv)
	suffix := strconv.FormatInt(time.Now().UnixNano()%1e9, 10)
	src, snk, dlq := "dlqsrc"+suffix, "dlqsnk"+suffix, "dlq_"+suffix
	const n = 40
	if err := w.Create(src, sourceCfg(testplugin.KeyEvents, strconv.Itoa(n), testplugin.KeyBatch, "16")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for testplugin.Acked(src) < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d events acknowledged", testplugin.Acked(src), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	topic := connect.TopicName(src, "db", "t")
	cfg := sinkCfg(topic, spec.CommitIntervalMs, "200", spec.ErrorsTolerance, spec.ToleranceAll, spec.DLQTopic, dlq)
	cfg[spec.ConnectorClass] = dlqSinkName
	if err := w.Create(snk, cfg); err != nil {
		t.Fatal(err)
	}
	for keptBy(snk) < n/2 {
		if time.Now().After(deadline) {
			st, _ := w.Status(snk)
			t.Fatalf("sink kept %d of %d records; status %+v", keptBy(snk), n/2, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	originals := map[string]*worker.ReadMessage{}
	for _, m := range readAll(t, srv, topic) {
		originals[strconv.Itoa(m.Queue.Queue)+"/"+strconv.FormatInt(m.Offset, 10)] = m
	}
	dead := readAll(t, srv, dlq)
	if len(dead) != n/2 {
		t.Fatalf("dead-letter topic has %d messages, want %d", len(dead), n/2)
	}
	for _, m := range dead {
		pos := m.Props[worker.PropOriginQueue] + "/" + m.Props[worker.PropOriginOffset]
		orig := originals[pos]
		if orig == nil || m.Props[worker.PropOriginTopic] != topic {
			t.Errorf("dead letter names origin %s/%s, which is no message of %s", m.Props[worker.PropOriginTopic], pos, topic)
			continue
		}
		if string(m.Body) != string(orig.Body) || m.Props[worker.PropSeq] != orig.Props[worker.PropSeq] {
			t.Errorf("dead letter of %s is not the original: %s vs %s", pos, m.Body, orig.Body)
		}
		if want := "sequence " + orig.Props[worker.PropSeq] + " is odd"; m.Props[worker.PropError] != want {
			t.Errorf("%s = %q, want %q", worker.PropError, m.Props[worker.PropError], want)
		}
	}
}

// rocketMQWorker starts a worker whose tasks use the real producer and
// reader against srv.
func rocketMQWorker(t *testing.T, srv *containers.RocketMQ) *worker.Worker {
	t.Helper()
	opts := testplugin.WorkerOptions(t.TempDir(), testplugin.NewBroker(1), testplugin.NewMemStore())
	opts.NamesrvAddr = srv.NamesrvAddr
	opts.NewProducer = func(group string) (worker.Producer, error) {
		return mq.NewProducer(mq.ProducerConfig{NamesrvAddr: srv.NamesrvAddr, Group: group, MaxInFlightBytes: 1 << 20})
	}
	opts.NewReader = func(group string) (worker.Reader, error) {
		return mq.NewReader(mq.ReaderConfig{NamesrvAddr: srv.NamesrvAddr, Group: group})
	}
	opts.Retry = worker.RetryPolicy{Initial: 200 * time.Millisecond, Max: 2 * time.Second, GiveUpAfter: 2 * time.Minute,
		HealthyAfter: time.Minute}
	opts.IdleWait = 50 * time.Millisecond
	w, err := worker.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := w.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	return w
}
