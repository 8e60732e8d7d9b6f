package mq

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/primitive"
)

// fakeBroker is an rmqSender that stores batches per queue and answers
// asynchronously. fail(queue, attempt) decides whether an attempt fails.
type fakeBroker struct {
	t     testing.TB
	delay time.Duration
	fail  func(queue int, attempt int) error

	mu       sync.Mutex
	stored   map[int][]*Message // queue -> messages in store order
	attempts map[int]int
	inFlight map[int]int // per queue, to check one batch at a time
	maxBatch int
	bad      error
}

func newFakeBroker(t testing.TB) *fakeBroker {
	return &fakeBroker{t: t, stored: map[int][]*Message{}, attempts: map[int]int{}, inFlight: map[int]int{}}
}

func (f *fakeBroker) Start() error    { return nil }
func (f *fakeBroker) Shutdown() error { return nil }

func (f *fakeBroker) SendAsync(_ context.Context, cb func(context.Context, *primitive.SendResult, error), msgs ...*primitive.Message) error {
	if len(msgs) != 1 || !msgs[0].Batch || msgs[0].Queue == nil {
		return errors.New("fake broker: want one batch message with a queue")
	}
	q := msgs[0].Queue.QueueId
	batch := decodeBatch(f.t, msgs[0].Body)
	f.mu.Lock()
	f.inFlight[q]++
	if f.inFlight[q] > 1 && f.bad == nil {
		f.bad = fmt.Errorf("queue %d has %d batches in flight", q, f.inFlight[q])
	}
	f.attempts[q]++
	attempt := f.attempts[q]
	if len(batch) > f.maxBatch {
		f.maxBatch = len(batch)
	}
	f.mu.Unlock()
	go func() {
		if f.delay > 0 {
			time.Sleep(f.delay)
		}
		var err error
		if f.fail != nil {
			err = f.fail(q, attempt)
		}
		f.mu.Lock()
		f.inFlight[q]--
		if err == nil {
			f.stored[q] = append(f.stored[q], batch...)
		}
		f.mu.Unlock()
		if err != nil {
			cb(context.Background(), nil, err)
			return
		}
		cb(context.Background(), &primitive.SendResult{Status: primitive.SendOK}, nil)
	}()
	return nil
}

// newTestProducer returns a started producer on fake, with topic routed to
// n queues of one broker.
func newTestProducer(t testing.TB, cfg ProducerConfig, fake *fakeBroker, topic string, n int) *Producer {
	t.Helper()
	if cfg.NamesrvAddr == "" {
		cfg.NamesrvAddr = "127.0.0.1:1"
	}
	if cfg.Group == "" {
		cfg.Group = "test"
	}
	p, err := NewProducer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	qs := make([]*queueState, n)
	for i := range qs {
		qs[i] = &queueState{mq: &primitive.MessageQueue{Topic: topic, BrokerName: "b", QueueId: i}}
	}
	p.client = fake
	p.started = true
	p.routes[topic] = qs
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func TestProducerOrdersPerKeyAndAcksEverything(t *testing.T) {
	fake := newFakeBroker(t)
	fake.delay = time.Millisecond
	p := newTestProducer(t, ProducerConfig{BatchMaxMessages: 50}, fake, "t", 8)
	ctx := context.Background()
	const n, keys = 5000, 97
	var acked atomic.Int64
	var mu sync.Mutex
	lastAck := map[string]int{} // key -> last acked sequence, checks done order
	for i := 0; i < n; i++ {
		key := strconv.Itoa(i % keys)
		seq := i
		err := p.Send(ctx, &Message{Topic: "t", Key: key, Body: []byte(strconv.Itoa(i)), Props: map[string]string{"seq": strconv.Itoa(i)}},
			func(err error) {
				if err != nil {
					t.Errorf("message %d failed: %v", seq, err)
				}
				mu.Lock()
				if prev, ok := lastAck[key]; ok && prev > seq {
					t.Errorf("key %s: ack of %d after %d", key, seq, prev)
				}
				lastAck[key] = seq
				mu.Unlock()
				acked.Add(1)
			})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := acked.Load(); got != n {
		t.Fatalf("acked %d of %d after Flush", got, n)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if fake.bad != nil {
		t.Fatal(fake.bad)
	}
	if fake.maxBatch < 2 || fake.maxBatch > 50 {
		t.Errorf("largest batch %d, want batching within the limit of 50", fake.maxBatch)
	}
	total := 0
	for q, msgs := range fake.stored {
		last := map[string]int{}
		for _, m := range msgs {
			if want := QueueIndex(m.Key, 8); want != q {
				t.Fatalf("key %s stored in queue %d, want %d", m.Key, q, want)
			}
			seq, _ := strconv.Atoi(m.Props["seq"])
			if prev, ok := last[m.Key]; ok && seq <= prev {
				t.Fatalf("queue %d: key %s has %d after %d", q, m.Key, seq, prev)
			}
			last[m.Key] = seq
		}
		total += len(msgs)
	}
	if total != n {
		t.Errorf("stored %d messages, want %d", total, n)
	}
}

func TestProducerRetriesInPlace(t *testing.T) {
	fake := newFakeBroker(t)
	fake.fail = func(q, attempt int) error {
		if q == 0 && attempt <= 2 {
			return errors.New("CODE: 2, DESC: broker busy")
		}
		return nil
	}
	p := newTestProducer(t, ProducerConfig{BatchMaxMessages: 10}, fake, "t", 2)
	ctx := context.Background()
	var failed atomic.Int64
	for i := 0; i < 100; i++ {
		if err := p.Send(ctx, &Message{Topic: "t", Body: []byte(strconv.Itoa(i))}, func(err error) {
			if err != nil {
				failed.Add(1)
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if failed.Load() != 0 {
		t.Fatalf("%d messages failed despite the retries", failed.Load())
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if fake.attempts[0] < 3 {
		t.Errorf("queue 0 saw %d attempts, want the failures retried", fake.attempts[0])
	}
	msgs := fake.stored[0] // empty key: queue 0
	if len(msgs) != 100 {
		t.Fatalf("stored %d, want 100 (no loss, no duplicates on refused sends)", len(msgs))
	}
	for i, m := range msgs {
		if string(m.Body) != strconv.Itoa(i) {
			t.Fatalf("position %d holds %s: retries reordered the queue", i, m.Body)
		}
	}
}

func TestProducerFailsForGoodAfterRetryTimeout(t *testing.T) {
	fake := newFakeBroker(t)
	boom := errors.New("CODE: 1, DESC: disk full")
	fake.fail = func(q, attempt int) error {
		if q == 1 {
			return boom
		}
		return nil
	}
	p := newTestProducer(t, ProducerConfig{RetryTimeout: 300 * time.Millisecond}, fake, "t", 2)
	ctx := context.Background()
	// key "b" hashes to queue 1 of 2, key "a" to queue 0.
	if QueueIndex("b", 2) != 1 || QueueIndex("a", 2) != 0 {
		t.Fatal("test keys do not map to the expected queues")
	}
	errs := make(chan error, 10)
	for i := 0; i < 5; i++ {
		if err := p.Send(ctx, &Message{Topic: "t", Key: "b", Body: []byte("x")}, func(err error) { errs <- err }); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 5; i++ {
		if err := <-errs; !errors.Is(err, boom) {
			t.Fatalf("done(%v), want the broker's error", err)
		}
	}
	if err := p.Flush(ctx); !errors.Is(err, boom) {
		t.Errorf("Flush = %v, want the failure", err)
	}
	if err := p.Send(ctx, &Message{Topic: "t", Key: "a", Body: []byte("x")}, func(error) {}); !errors.Is(err, boom) {
		t.Errorf("Send after failure = %v, want the failure", err)
	}
}

func TestProducerIllegalMessageFailsWithoutRetry(t *testing.T) {
	fake := newFakeBroker(t)
	fake.fail = func(int, int) error { return errors.New("CODE: 13, DESC: the message is illegal") }
	p := newTestProducer(t, ProducerConfig{}, fake, "t", 1)
	done := make(chan error, 1)
	if err := p.Send(context.Background(), &Message{Topic: "t", Body: []byte("x")}, func(err error) { done <- err }); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("illegal message acknowledged")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("illegal message was retried instead of failing")
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if fake.attempts[0] != 1 {
		t.Errorf("%d attempts, want 1", fake.attempts[0])
	}
}

func TestProducerBoundsInFlightBytes(t *testing.T) {
	fake := newFakeBroker(t)
	release := make(chan struct{})
	fake.fail = func(int, int) error { <-release; return nil }
	p := newTestProducer(t, ProducerConfig{MaxInFlightBytes: 1000}, fake, "t", 1)
	ctx := context.Background()
	body := make([]byte, 300)
	sent := 0
	for ; sent < 10; sent++ {
		sctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		err := p.Send(sctx, &Message{Topic: "t", Body: body}, func(error) {})
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	// each message is ~322 bytes encoded: three fit under 1000
	if sent != 3 {
		t.Fatalf("Send accepted %d messages of ~322 bytes under a 1000-byte bound, want 3", sent)
	}
	p.mu.Lock()
	inFlight := p.inFlight
	p.mu.Unlock()
	if inFlight > 1000 {
		t.Errorf("in-flight bytes %d exceed the bound", inFlight)
	}
	close(release)
	if err := p.Send(ctx, &Message{Topic: "t", Body: body}, func(error) {}); err != nil {
		t.Fatalf("Send after the broker drained: %v", err)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestProducerCloseFailsPendingOnce(t *testing.T) {
	fake := newFakeBroker(t)
	block := make(chan struct{})
	fake.fail = func(int, int) error { <-block; return nil }
	p := newTestProducer(t, ProducerConfig{}, fake, "t", 1)
	var calls sync.Map
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		if err := p.Send(context.Background(), &Message{Topic: "t", Body: []byte("x")}, func(err error) {
			if _, dup := calls.LoadOrStore(i, err); dup {
				t.Errorf("done of message %d called twice", i)
				return
			}
			wg.Done()
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	wg.Wait()
	close(block) // the in-flight batch now "succeeds": its callback must be ignored
	time.Sleep(50 * time.Millisecond)
	calls.Range(func(k, v any) bool {
		if err, _ := v.(error); !errors.Is(err, ErrProducerClosed) {
			t.Errorf("message %v completed with %v, want ErrProducerClosed", k, v)
		}
		return true
	})
	if err := p.Send(context.Background(), &Message{Topic: "t"}, nil); !errors.Is(err, ErrProducerClosed) && !errors.Is(err, ErrProducerNotStarted) {
		t.Errorf("Send after Close = %v", err)
	}
}

func TestProducerConfigValidation(t *testing.T) {
	tests := []struct {
		name string
		cfg  ProducerConfig
		ok   bool
	}{
		{"minimal", ProducerConfig{NamesrvAddr: "127.0.0.1:9876", Group: "g"}, true},
		{"no namesrv", ProducerConfig{Group: "g"}, false},
		{"no group", ProducerConfig{NamesrvAddr: "127.0.0.1:9876"}, false},
		{"negative bound", ProducerConfig{NamesrvAddr: "x:1", Group: "g", MaxInFlightBytes: -1}, false},
		{"batch over 4 MiB", ProducerConfig{NamesrvAddr: "x:1", Group: "g", BatchMaxBytes: 8 << 20}, false},
	}
	for _, tt := range tests {
		_, err := NewProducer(tt.cfg)
		if (err == nil) != tt.ok {
			t.Errorf("%s: NewProducer = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
	started := newTestProducer(t, ProducerConfig{}, newFakeBroker(t), "t", 1)
	for _, topic := range []string{"db.t", "a b", strings.Repeat("t", 128)} {
		if err := started.Send(context.Background(), &Message{Topic: topic}, nil); err == nil {
			t.Errorf("Send to topic %q accepted", topic)
		}
	}
	p, _ := NewProducer(ProducerConfig{NamesrvAddr: "127.0.0.1:9876", Group: "g"})
	if err := p.Send(context.Background(), &Message{Topic: "t"}, nil); !errors.Is(err, ErrProducerNotStarted) {
		t.Errorf("Send before Start = %v, want ErrProducerNotStarted", err)
	}
}

// BenchmarkProducerPipeline measures the producer's own cost per message
// (encoding, batching, bookkeeping) against a broker that acknowledges at
// once: the ceiling the Go side puts on throughput.
func BenchmarkProducerPipeline(b *testing.B) {
	fake := newFakeBroker(b)
	fake.stored = nil
	p := newTestProducer(b, ProducerConfig{}, fake, "t", 8)
	p.client = ackingSender{}
	ctx := context.Background()
	body := make([]byte, 100)
	props := map[string]string{"binlake.seq": "123456", "binlake.table": "db.t", "binlake.op": "c"}
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = strconv.Itoa(i)
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if err := p.Send(ctx, &Message{Topic: "t", Key: keys[i%len(keys)], Body: body, Props: props}, nil); err != nil {
			b.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

// ackingSender acknowledges every batch immediately.
type ackingSender struct{}

func (ackingSender) Start() error    { return nil }
func (ackingSender) Shutdown() error { return nil }
func (ackingSender) SendAsync(_ context.Context, cb func(context.Context, *primitive.SendResult, error), _ ...*primitive.Message) error {
	go cb(context.Background(), &primitive.SendResult{Status: primitive.SendOK}, nil)
	return nil
}

// TestProducerBroadcastReachesEveryQueueInOrder sends keyed messages around a broadcast marker: every queue stores the
// marker exactly once, after every message sent to it before the marker and before every message sent after it, and
// the marker's done runs once, after all copies were stored.
func TestProducerBroadcastReachesEveryQueueInOrder(t *testing.T) {
	fake := newFakeBroker(t)
	fake.delay = time.Millisecond
	const queues = 4
	p := newTestProducer(t, ProducerConfig{BatchMaxMessages: 7}, fake, "t", queues)
	ctx := context.Background()
	send := func(m *Message, done func(error)) {
		t.Helper()
		if err := p.Send(ctx, m, done); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 200 {
		send(&Message{Topic: "t", Key: strconv.Itoa(i), Body: []byte("x"), Props: map[string]string{"seq": strconv.Itoa(i)}}, nil)
	}
	var markerDone atomic.Int32
	send(&Message{Topic: "t", Body: []byte("truncate"), Props: map[string]string{"seq": "200"}, Broadcast: true}, func(err error) {
		if err != nil {
			t.Errorf("broadcast failed: %v", err)
		}
		markerDone.Add(1)
	})
	for i := 201; i < 400; i++ {
		send(&Message{Topic: "t", Key: strconv.Itoa(i), Body: []byte("x"), Props: map[string]string{"seq": strconv.Itoa(i)}}, nil)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := markerDone.Load(); got != 1 {
		t.Fatalf("the broadcast's done ran %d times, want once", got)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	total := 0
	for q := range queues {
		markers, last := 0, -1
		for _, m := range fake.stored[q] {
			seq, _ := strconv.Atoi(m.Props["seq"])
			if seq <= last {
				t.Fatalf("queue %d stores %d after %d", q, seq, last)
			}
			last = seq
			if seq == 200 {
				markers++
			}
		}
		if markers != 1 {
			t.Errorf("queue %d stores the broadcast %d times, want once", q, markers)
		}
		total += len(fake.stored[q])
	}
	if total != 399+queues {
		t.Errorf("stored %d messages, want %d", total, 399+queues)
	}
}
