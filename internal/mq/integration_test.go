//go:build integration

package mq

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/integration/containers"
	"github.com/binlake/binlake/internal/metrics"
)

func TestMain(m *testing.M) {
	code := m.Run()
	containers.TerminateAll()
	os.Exit(code)
}

var topicSeq atomic.Int64

// newTopic returns a fresh topic name for one test.
func newTopic(prefix string) string {
	return fmt.Sprintf("%s_%d_%d_%d", prefix, os.Getpid(), time.Now().UnixNano()%1e9, topicSeq.Add(1))
}

func startProducer(t testing.TB, namesrv string, cfg ProducerConfig) *Producer {
	t.Helper()
	cfg.NamesrvAddr = namesrv
	if cfg.Group == "" {
		cfg.Group = "binlake_test_producer"
	}
	p, err := NewProducer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func startReader(t testing.TB, namesrv string) *Reader {
	t.Helper()
	r, err := NewReader(ReaderConfig{NamesrvAddr: namesrv, Group: "binlake_test_reader_" + strconv.FormatInt(topicSeq.Add(1), 10)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// readAll reads every queue of topic from offset 0 until at least want
// messages arrived and a whole pass brings nothing new (the broker indexes
// queues asynchronously after acknowledging; resent batches may add
// duplicates, so the count alone does not say the end was reached).
func readAll(t *testing.T, ctx context.Context, r *Reader, topic string, want int) []*ReadMessage {
	t.Helper()
	qs, err := r.Queues(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	next := map[connect.QueueID]int64{}
	var out []*ReadMessage
	deadline := time.Now().Add(60 * time.Second)
	for {
		if time.Now().After(deadline) {
			t.Fatalf("read %d of %d messages of %s before the deadline", len(out), want, topic)
		}
		progress := false
		for _, q := range qs {
			msgs, n, err := r.Pull(ctx, q, next[q], 256)
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) > 0 {
				progress = true
			}
			out = append(out, msgs...)
			next[q] = n
		}
		if !progress {
			if len(out) >= want {
				return out
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func TestProducerOrdersPerKeyAcrossQueues(t *testing.T) {
	srv := containers.RocketMQServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	topic := newTopic("order")
	const queues, keys, n = 8, 200, 20000
	if err := CreateTopic(ctx, srv.NamesrvAddr, topic, queues, nil); err != nil {
		t.Fatal(err)
	}
	p := startProducer(t, srv.NamesrvAddr, ProducerConfig{BatchMaxMessages: 256, Connector: "it", Task: "0"})
	var acked, failed atomic.Int64
	for i := 0; i < n; i++ {
		key := "k" + strconv.Itoa(i%keys)
		m := &Message{Topic: topic, Key: key, Tag: "db.t", Body: []byte(strconv.Itoa(i)),
			Props: map[string]string{"binlake.seq": strconv.Itoa(i)}}
		if err := p.Send(ctx, m, func(err error) {
			if err != nil {
				failed.Add(1)
				t.Errorf("message %s failed: %v", m.Body, err)
				return
			}
			acked.Add(1)
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if acked.Load() != n || failed.Load() != 0 {
		t.Fatalf("acked %d, failed %d of %d", acked.Load(), failed.Load(), n)
	}

	r := startReader(t, srv.NamesrvAddr)
	msgs := readAll(t, ctx, r, topic, n)
	last := map[string]int{}
	seen := map[int]bool{}
	for _, m := range msgs {
		seq, err := strconv.Atoi(m.Props["binlake.seq"])
		if err != nil {
			t.Fatalf("message at %d of queue %d has no sequence: %v", m.Offset, m.Queue.Queue, m.Props)
		}
		if string(m.Body) != strconv.Itoa(seq) || m.Tag != "db.t" {
			t.Fatalf("message %d: body %q tag %q", seq, m.Body, m.Tag)
		}
		if want := QueueIndex(m.Key, queues); m.Queue.Queue != want {
			t.Fatalf("key %s read from queue %d, want %d", m.Key, m.Queue.Queue, want)
		}
		// at-least-once: a resent batch may repeat what was seen, but a
		// key never goes back to a sequence it has not had yet
		if prev, ok := last[m.Key]; ok && seq <= prev {
			if !seen[seq] {
				t.Fatalf("key %s: sequence %d after %d", m.Key, seq, prev)
			}
			continue
		}
		last[m.Key] = seq
		seen[seq] = true
	}
	if len(seen) != n {
		t.Fatalf("read %d distinct messages, want %d", len(seen), n)
	}
}

func TestReaderPullsFromStartAndMiddle(t *testing.T) {
	srv := containers.RocketMQServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	topic := newTopic("reader")
	if err := CreateTopic(ctx, srv.NamesrvAddr, topic, 4, nil); err != nil {
		t.Fatal(err)
	}
	p := startProducer(t, srv.NamesrvAddr, ProducerConfig{})
	before := time.Now().UnixMilli()
	const n = 100
	for i := 0; i < n; i++ {
		if err := p.Send(ctx, &Message{Topic: topic, Key: "same-key", Tag: "tg", Body: []byte("m" + strconv.Itoa(i)),
			Props: map[string]string{"i": strconv.Itoa(i)}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	r := startReader(t, srv.NamesrvAddr)
	qs, err := r.Queues(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) != 4 {
		t.Fatalf("Queues = %v, want 4", qs)
	}
	q := qs[QueueIndex("same-key", 4)]
	for deadline := time.Now().Add(30 * time.Second); ; {
		max, err := r.MaxOffset(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if max == n {
			break
		}
		if max > n || time.Now().After(deadline) {
			t.Fatalf("MaxOffset = %d, want %d", max, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, other := range qs {
		if other != q {
			if max, err := r.MaxOffset(ctx, other); err != nil || max != 0 {
				t.Errorf("queue %d: MaxOffset = %d, %v; want 0 (every message has one key)", other.Queue, max, err)
			}
		}
	}

	for _, start := range []int64{0, 37, 99} {
		t.Run(fmt.Sprintf("from %d", start), func(t *testing.T) {
			off := start
			var got []*ReadMessage
			for {
				msgs, next, err := r.Pull(ctx, q, off, 16)
				if err != nil {
					t.Fatal(err)
				}
				if len(msgs) == 0 {
					if next != n {
						t.Errorf("caught up at %d, want %d", next, n)
					}
					break
				}
				if len(msgs) > 16 {
					t.Fatalf("Pull returned %d messages, max 16", len(msgs))
				}
				got = append(got, msgs...)
				off = next
			}
			if len(got) != int(n-start) {
				t.Fatalf("read %d messages from %d, want %d", len(got), start, n-start)
			}
			for i, m := range got {
				want := start + int64(i)
				if m.Offset != want || string(m.Body) != "m"+strconv.FormatInt(want, 10) || m.Props["i"] != strconv.FormatInt(want, 10) {
					t.Fatalf("message %d: offset %d body %q props %v", want, m.Offset, m.Body, m.Props)
				}
				if m.Key != "same-key" || m.Tag != "tg" || m.Queue != q {
					t.Fatalf("message %d: key %q tag %q queue %v", want, m.Key, m.Tag, m.Queue)
				}
				if m.BornMs < before-1000 || m.BornMs > time.Now().UnixMilli()+1000 {
					t.Fatalf("message %d: born %d, sent after %d", want, m.BornMs, before)
				}
				if _, leaked := m.Props["KEYS"]; leaked {
					t.Fatalf("system property KEYS in user properties %v", m.Props)
				}
			}
		})
	}

	_, _, err = r.Pull(ctx, q, n+1000, 16)
	var moved *OffsetMovedError
	if !errors.As(err, &moved) {
		t.Errorf("Pull beyond the end = %v, want *OffsetMovedError", err)
	}

	if off, err := r.CommittedOffset(ctx, q); err != nil || off != -1 {
		t.Errorf("CommittedOffset of a new group = %d, %v; want -1", off, err)
	}
	if err := r.CommitOffset(ctx, q, 42); err != nil {
		t.Fatal(err)
	}
	if off, err := r.CommittedOffset(ctx, q); err != nil || off != 42 {
		t.Errorf("CommittedOffset after commit = %d, %v; want 42", off, err)
	}
}

func TestCreateTopicSetsAttributesIdempotently(t *testing.T) {
	srv := containers.RocketMQServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	topic := newTopic("compact")
	attrs := map[string]string{"cleanup.policy": "COMPACTION"}
	for i := 0; i < 2; i++ {
		if err := CreateTopic(ctx, srv.NamesrvAddr, topic, 4, attrs); err != nil {
			t.Fatalf("CreateTopic #%d: %v", i+1, err)
		}
	}
	cfgs, err := TopicConfigs(ctx, srv.NamesrvAddr, topic)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfgs) == 0 {
		t.Fatal("no broker has the topic")
	}
	for _, c := range cfgs {
		if c.Attributes["cleanup.policy"] != "COMPACTION" || c.ReadQueueNums != 4 || c.WriteQueueNums != 4 {
			t.Errorf("broker %s: topic config %+v, want cleanup.policy=COMPACTION and 4 queues", c.BrokerName, c)
		}
	}
	// the default policy is DELETE: asking for it on this topic is a conflict
	err = CreateTopic(ctx, srv.NamesrvAddr, topic, 4, map[string]string{"cleanup.policy": "DELETE"})
	if err == nil || !strings.Contains(err.Error(), "cleanup.policy") {
		t.Errorf("CreateTopic with a conflicting attribute = %v, want an error naming it", err)
	}
	if err := CreateTopic(ctx, srv.NamesrvAddr, topic, 2, attrs); err == nil || !strings.Contains(err.Error(), "never shrinks") {
		t.Errorf("CreateTopic with fewer queues = %v, want a refusal", err)
	}
	if err := CreateTopic(ctx, srv.NamesrvAddr, topic, 6, attrs); err != nil {
		t.Fatalf("growing the topic: %v", err)
	}
	cfgs, err = TopicConfigs(ctx, srv.NamesrvAddr, topic)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cfgs {
		if c.WriteQueueNums != 6 || c.Attributes["cleanup.policy"] != "COMPACTION" {
			t.Errorf("after growing: %+v, want 6 queues and the attribute kept", c)
		}
	}
	plain := newTopic("plain")
	if err := CreateTopic(ctx, srv.NamesrvAddr, plain, 2, nil); err != nil {
		t.Fatal(err)
	}
	cfgs, err = TopicConfigs(ctx, srv.NamesrvAddr, plain)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cfgs {
		if c.Attributes["cleanup.policy"] == "COMPACTION" {
			t.Errorf("plain topic has cleanup.policy=COMPACTION")
		}
	}
}

func TestProducerCreatesMissingTopic(t *testing.T) {
	srv := containers.RocketMQServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	topic := newTopic("auto")
	p := startProducer(t, srv.NamesrvAddr, ProducerConfig{TopicQueues: 3})
	var wg sync.WaitGroup
	wg.Add(1)
	var sendErr error
	if err := p.Send(ctx, &Message{Topic: topic, Key: "x", Body: []byte("v")}, func(err error) { sendErr = err; wg.Done() }); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if sendErr != nil {
		t.Fatal(sendErr)
	}
	r := startReader(t, srv.NamesrvAddr)
	qs, err := r.Queues(ctx, topic)
	if err != nil || len(qs) != 3 {
		t.Fatalf("Queues = %v, %v; want 3 queues", qs, err)
	}
	msgs := readAll(t, ctx, r, topic, 1)
	if string(msgs[0].Body) != "v" || msgs[0].Queue.Queue != QueueIndex("x", 3) {
		t.Errorf("read %+v", msgs[0])
	}
}

// BenchmarkProducer sends small messages (100-byte body, 3 properties, 1000
// keys) to an 8-queue topic and prints messages/s with the average batch
// size and send-to-ack time. The broker is the test container, or the name
// server in BINLAKE_BENCH_NAMESRV (for example a broker run from the Maven
// jars on the host: containers share one CPU weight, so on a busy machine a
// containerised broker measures the machine's load more than the producer).
func BenchmarkProducer(b *testing.B) {
	namesrv := os.Getenv("BINLAKE_BENCH_NAMESRV")
	if namesrv == "" {
		namesrv = containers.RocketMQServer(b).NamesrvAddr
	}
	ctx := context.Background()
	topic := newTopic("bench")
	if err := CreateTopic(ctx, namesrv, topic, 8, nil); err != nil {
		b.Fatal(err)
	}
	label := "bench-" + strconv.Itoa(b.N)
	p := startProducer(b, namesrv, ProducerConfig{Connector: label, Task: "0"})
	body := make([]byte, 100)
	props := map[string]string{"binlake.seq": "1234567", "binlake.table": "db.t", "binlake.op": "c"}
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = strconv.Itoa(i)
	}
	// Warm up the route, the connection and the broker's JIT (a fresh
	// broker JVM on two busy cores is several times slower at first).
	for i := 0; i < 200000; i++ {
		if err := p.Send(ctx, &Message{Topic: topic, Key: keys[i%len(keys)], Body: body, Props: props}, nil); err != nil {
			b.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	batchesBefore, latencyBefore := sendStats(b, label)
	var failed atomic.Int64
	done := func(err error) {
		if err != nil {
			failed.Add(1)
		}
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if err := p.Send(ctx, &Message{Topic: topic, Key: keys[i%len(keys)], Body: body, Props: props}, done); err != nil {
			b.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if failed.Load() > 0 {
		b.Fatalf("%d sends failed", failed.Load())
	}
	rate := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(rate, "msgs/s")
	batches, latency := sendStats(b, label)
	batches -= batchesBefore
	latency -= latencyBefore
	fmt.Printf("BenchmarkProducer: %d messages (100-byte body, 3 props, 1000 keys, 8 queues) in %s: %.0f messages/s; "+
		"%d batches, %.0f messages and %.1f ms from send to ack on average\n",
		b.N, elapsed.Round(time.Millisecond), rate, batches, float64(b.N)/float64(batches), 1000*latency/float64(batches))
}

// sendStats returns the count and the sum (seconds) of
// binlake_producer_send_seconds for connector label: batches acknowledged
// and their total send-to-ack time.
func sendStats(b *testing.B, label string) (uint64, float64) {
	families, err := metrics.Registry.Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "binlake_producer_send_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "connector" && l.GetValue() == label {
					return m.GetHistogram().GetSampleCount(), m.GetHistogram().GetSampleSum()
				}
			}
		}
	}
	return 0, 0
}
