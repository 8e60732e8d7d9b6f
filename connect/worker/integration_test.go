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
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := w.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	}()
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
