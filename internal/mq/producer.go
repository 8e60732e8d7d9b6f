package mq

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/rocketmq-client-go/v2/primitive"
	rmqproducer "github.com/apache/rocketmq-client-go/v2/producer"
	"github.com/apache/rocketmq-client-go/v2/rlog"

	"github.com/binlake/binlake/internal/metrics"
	"github.com/binlake/binlake/internal/mq/remoting"
)

// Producer defaults.
const (
	DefaultMaxInFlightBytes = 64 << 20
	DefaultBatchMaxMessages = 4096
	DefaultBatchMaxBytes    = 1 << 20
	DefaultSendTimeout      = 10 * time.Second
	DefaultRetryTimeout     = 2 * time.Minute
	DefaultTopicQueues      = 8
)

// ErrProducerClosed is given to messages still pending when the producer
// closes, and returned by Send after Close.
var ErrProducerClosed = errors.New("producer is closed")

// ErrProducerNotStarted is returned by Send before Start.
var ErrProducerNotStarted = errors.New("producer is not started")

// ProducerConfig configures a Producer. Zero values take the defaults.
type ProducerConfig struct {
	// NamesrvAddr lists name servers, "host:port" separated by ';'.
	NamesrvAddr string
	// Group is the producer group.
	Group string
	// MaxInFlightBytes bounds the bytes of messages accepted by Send and
	// not yet acknowledged; Send blocks beyond it.
	MaxInFlightBytes int64
	// BatchMaxMessages and BatchMaxBytes bound one batch request to a
	// queue (the broker's limit on a request is 4 MiB by default).
	BatchMaxMessages int
	BatchMaxBytes    int
	// SendTimeout bounds one send attempt.
	SendTimeout time.Duration
	// RetryTimeout is how long a failing batch is retried (with backoff)
	// before its messages, and the producer, fail for good.
	RetryTimeout time.Duration
	// TopicQueues is the queue count of topics the producer creates
	// itself when they have no route yet (0: DefaultTopicQueues; -1: never
	// create, fail instead).
	TopicQueues int
	// Connector and Task label binlake_producer_send_seconds; it is not
	// observed when Connector is empty.
	Connector, Task string
}

func (c *ProducerConfig) withDefaults() (ProducerConfig, error) {
	out := *c
	if len(namesrvAddrs(out.NamesrvAddr)) == 0 {
		return out, errors.New("producer config: a name server address is required")
	}
	if out.Group == "" {
		return out, errors.New("producer config: a producer group is required")
	}
	if out.MaxInFlightBytes < 0 || out.BatchMaxMessages < 0 || out.BatchMaxBytes < 0 || out.SendTimeout < 0 || out.RetryTimeout < 0 {
		return out, errors.New("producer config: limits and timeouts must not be negative")
	}
	if out.MaxInFlightBytes == 0 {
		out.MaxInFlightBytes = DefaultMaxInFlightBytes
	}
	if out.BatchMaxMessages == 0 {
		out.BatchMaxMessages = DefaultBatchMaxMessages
	}
	if out.BatchMaxBytes == 0 {
		out.BatchMaxBytes = DefaultBatchMaxBytes
	}
	if out.BatchMaxBytes > 4<<20-64<<10 {
		return out, fmt.Errorf("producer config: batch max bytes %d exceeds the broker's 4 MiB request limit", out.BatchMaxBytes)
	}
	if out.SendTimeout == 0 {
		out.SendTimeout = DefaultSendTimeout
	}
	if out.RetryTimeout == 0 {
		out.RetryTimeout = DefaultRetryTimeout
	}
	if out.TopicQueues == 0 {
		out.TopicQueues = DefaultTopicQueues
	}
	return out, nil
}

// Producer sends messages to RocketMQ, ordered per queue and batched. Each
// queue has at most one batch in flight, so messages of one queue are
// stored in Send order; many queues are in flight in parallel. A batch that
// fails is retried, in place, with backoff; if it still fails after
// RetryTimeout the producer fails for good: that batch, everything queued
// behind it and every later Send get the error (the caller restarts from
// its last checkpoint). Resending after a lost acknowledgement can store a
// message twice (at-least-once). Safe for concurrent use.
//
// A topic's queue count is read once, when the producer first sends to it;
// changing it while producing would move keys to other queues.
type Producer struct {
	cfg ProducerConfig

	admin  *remoting.Client
	client rmqSender

	mu       sync.Mutex
	started  bool
	closed   bool
	failed   error
	inFlight int64 // bytes accepted and not completed
	signal   chan struct{}
	routes   map[string][]*queueState // topic -> queues in hash order

	routeMu sync.Mutex // serialises route lookups
}

// rmqSender is the part of rocketmq-client-go's producer binlake uses.
type rmqSender interface {
	Start() error
	Shutdown() error
	SendAsync(ctx context.Context, f func(context.Context, *primitive.SendResult, error), msgs ...*primitive.Message) error
}

// queueState is one queue's send pipeline.
type queueState struct {
	mq       *primitive.MessageQueue
	pending  []*pendingMsg
	inFlight *batch
	enqueued uint64 // messages accepted
	finished uint64 // messages completed (done called)
}

type pendingMsg struct {
	enc  []byte // the message in batch element layout
	size int64
	done func(error)
}

type batch struct {
	q        *queueState
	msgs     []*pendingMsg
	bytes    int64
	firstTry time.Time
	attempt  int
	sentAt   time.Time
	over     bool // completed or abandoned; late callbacks are ignored
}

var quietClientLog sync.Once

// NewProducer validates cfg; it does no I/O.
func NewProducer(cfg ProducerConfig) (*Producer, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Producer{cfg: c, signal: make(chan struct{}), routes: make(map[string][]*queueState)}, nil
}

var instanceSeq atomic.Int64

// Start connects the underlying rocketmq-client-go producer.
func (p *Producer) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	quietClientLog.Do(func() { rlog.SetLogLevel("warn") })
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrProducerClosed
	}
	if p.started {
		return nil
	}
	inst := "binlake-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + strconv.FormatInt(instanceSeq.Add(1), 10)
	rp, err := rmqproducer.NewDefaultProducer(
		rmqproducer.WithNameServer(namesrvAddrs(p.cfg.NamesrvAddr)),
		rmqproducer.WithGroupName(p.cfg.Group),
		rmqproducer.WithInstanceName(inst),
		rmqproducer.WithQueueSelector(rmqproducer.NewManualQueueSelector()),
		rmqproducer.WithSendMsgTimeout(p.cfg.SendTimeout),
		rmqproducer.WithRetry(0), // retries are ours: in place, never reordering
		rmqproducer.WithCompressMsgBodyOverHowmuch(1<<30),
	)
	if err != nil {
		return fmt.Errorf("creating rocketmq producer: %w", err)
	}
	if err := rp.Start(); err != nil {
		return fmt.Errorf("starting rocketmq producer: %w", err)
	}
	p.client = rp
	p.admin = remoting.NewClient()
	p.started = true
	return nil
}

// Send enqueues m. It blocks while the in-flight bytes exceed the bound (or
// until ctx is done, returning ctx's error; m is then not enqueued). When
// Send returns nil, done is called exactly once, when the broker
// acknowledged m or sending it failed for good. done runs on a producer
// goroutine, in Send order per queue, and must not block for long.
func (p *Producer) Send(ctx context.Context, m *Message, done func(error)) error {
	if err := m.validate(); err != nil {
		return fmt.Errorf("sending to %s: %w", topicOf(m), err)
	}
	if done == nil {
		done = func(error) {}
	}
	queues, err := p.route(ctx, m.Topic)
	if err != nil {
		return err
	}
	targets := []*queueState{queues[QueueIndex(m.Key, len(queues))]}
	if m.Broadcast {
		targets = queues
		done = allDone(len(queues), done)
	}
	enc := m.encode()
	size := int64(len(enc)) * int64(len(targets))

	p.mu.Lock()
	for {
		if p.closed {
			p.mu.Unlock()
			return ErrProducerClosed
		}
		if p.failed != nil {
			err := p.failed
			p.mu.Unlock()
			return err
		}
		if p.inFlight == 0 || p.inFlight+size <= p.cfg.MaxInFlightBytes {
			break
		}
		sig := p.signal
		p.mu.Unlock()
		select {
		case <-sig:
		case <-ctx.Done():
			return fmt.Errorf("waiting for in-flight bytes to drain: %w", ctx.Err())
		}
		p.mu.Lock()
	}
	p.inFlight += size
	var ready []*batch
	for _, q := range targets {
		q.pending = append(q.pending, &pendingMsg{enc: enc, size: int64(len(enc)), done: done})
		q.enqueued++
		if q.inFlight == nil {
			ready = append(ready, p.takeBatchLocked(q))
		}
	}
	p.mu.Unlock()
	for _, b := range ready {
		p.dispatch(b)
	}
	return nil
}

// allDone returns a completion callback that calls done once, after n
// calls: with the first error any of them had, or nil.
func allDone(n int, done func(error)) func(error) {
	var (
		mu    sync.Mutex
		left  = n
		first error
	)
	return func(err error) {
		mu.Lock()
		if err != nil && first == nil {
			first = err
		}
		left--
		finished := left == 0
		mu.Unlock()
		if finished {
			done(first)
		}
	}
}

func topicOf(m *Message) string {
	if m == nil {
		return ""
	}
	return m.Topic
}

// takeBatchLocked moves the head of q's pending messages into a new
// in-flight batch; nil when nothing is pending.
func (p *Producer) takeBatchLocked(q *queueState) *batch {
	if len(q.pending) == 0 {
		return nil
	}
	n, bytes := 0, int64(0)
	for n < len(q.pending) && n < p.cfg.BatchMaxMessages {
		s := q.pending[n].size
		if n > 0 && bytes+s > int64(p.cfg.BatchMaxBytes) {
			break
		}
		bytes += s
		n++
	}
	b := &batch{q: q, msgs: append([]*pendingMsg(nil), q.pending[:n]...), bytes: bytes, firstTry: time.Now()}
	clear(q.pending[:n]) // let the sent messages be collected with their batch
	q.pending = q.pending[n:]
	if len(q.pending) == 0 {
		q.pending = nil
	}
	q.inFlight = b
	return b
}

// dispatch sends b asynchronously; its callback completes, retries or
// fails it.
func (p *Producer) dispatch(b *batch) {
	n := 0
	for _, pm := range b.msgs {
		n += len(pm.enc)
	}
	body := make([]byte, 0, n)
	for _, pm := range b.msgs {
		body = append(body, pm.enc...)
	}
	// Always a batch request, even for one message: the broker rejects a
	// plain send with an empty body, but stores one inside a batch.
	req := &primitive.Message{
		Topic: b.q.mq.Topic,
		Body:  body,
		Batch: true,
		Queue: b.q.mq,
	}
	b.attempt++
	b.sentAt = time.Now()
	err := p.client.SendAsync(context.Background(), func(_ context.Context, res *primitive.SendResult, err error) {
		if err == nil && (res == nil || res.Status != primitive.SendOK) {
			status := -1
			if res != nil {
				status = int(res.Status)
			}
			err = fmt.Errorf("broker answered send status %d", status)
		}
		p.complete(b, err)
	}, req)
	if err != nil {
		p.complete(b, err)
	}
}

// complete handles the outcome of one attempt of b.
func (p *Producer) complete(b *batch, err error) {
	if err != nil {
		p.mu.Lock()
		if b.over {
			p.mu.Unlock()
			return
		}
		if !p.closed && !permanent(err) && time.Since(b.firstTry) < p.cfg.RetryTimeout {
			p.mu.Unlock()
			delay := backoff(b.attempt)
			time.AfterFunc(delay, func() {
				p.mu.Lock()
				stop := b.over || p.closed
				p.mu.Unlock()
				if !stop {
					p.dispatch(b)
				}
			})
			return
		}
		err = fmt.Errorf("sending %d messages to %s queue %d (gave up after %d attempts): %w",
			len(b.msgs), b.q.mq.Topic, b.q.mq.QueueId, b.attempt, err)
		p.failLocked(err)
		p.mu.Unlock()
		return
	}
	if p.cfg.Connector != "" {
		metrics.ProducerSend.WithLabelValues(p.cfg.Connector, p.cfg.Task).Observe(time.Since(b.sentAt).Seconds())
	}
	p.mu.Lock()
	if b.over {
		p.mu.Unlock()
		return
	}
	b.over = true
	p.mu.Unlock()
	// done callbacks run before the queue's next batch is sent, so they
	// see the queue's messages in order.
	for _, pm := range b.msgs {
		pm.done(nil)
	}
	p.mu.Lock()
	q := b.q
	q.finished += uint64(len(b.msgs))
	q.inFlight = nil
	p.inFlight -= b.bytes
	var next *batch
	if !p.closed && p.failed == nil {
		next = p.takeBatchLocked(q)
	}
	p.broadcastLocked()
	p.mu.Unlock()
	if next != nil {
		p.dispatch(next)
	}
}

// failLocked fails the producer for good with err: every in-flight and
// pending message completes with err. Called with p.mu held; done callbacks
// run on another goroutine so they may call into the producer.
func (p *Producer) failLocked(err error) {
	if p.failed == nil {
		p.failed = err
	}
	var abandoned []*pendingMsg
	for _, qs := range p.routes {
		for _, q := range qs {
			if q.inFlight != nil && (!q.inFlight.over) {
				q.inFlight.over = true
				abandoned = append(abandoned, q.inFlight.msgs...)
				q.finished += uint64(len(q.inFlight.msgs))
				p.inFlight -= q.inFlight.bytes
				q.inFlight = nil
			}
			for _, pm := range q.pending {
				abandoned = append(abandoned, pm)
				p.inFlight -= pm.size
			}
			q.finished += uint64(len(q.pending))
			q.pending = nil
		}
	}
	p.broadcastLocked()
	if len(abandoned) > 0 {
		go func() {
			for _, pm := range abandoned {
				pm.done(err)
			}
		}()
	}
}

func (p *Producer) broadcastLocked() {
	close(p.signal)
	p.signal = make(chan struct{})
}

// permanent reports whether a send error cannot heal by retrying: the
// broker found the message illegal (code 13) or too large.
func permanent(err error) bool {
	msg := err.Error()
	return strings.HasPrefix(msg, "CODE: 13,") || strings.Contains(msg, "message body size exceeds")
}

// backoff returns the delay before retry attempt n (1-based): exponential
// from 50 ms to 2 s with jitter.
func backoff(n int) time.Duration {
	d := 50 * time.Millisecond << min(n-1, 6)
	d = min(d, 2*time.Second)
	return d/2 + rand.N(d/2+1)
}

// Flush waits until every message Sent before the call is acknowledged or
// failed (and its done called), or until ctx is done. It returns the
// producer's failure, if any.
func (p *Producer) Flush(ctx context.Context) error {
	p.mu.Lock()
	type mark struct {
		q    *queueState
		upTo uint64
	}
	var marks []mark
	for _, qs := range p.routes {
		for _, q := range qs {
			if q.finished < q.enqueued {
				marks = append(marks, mark{q, q.enqueued})
			}
		}
	}
	for {
		if p.failed != nil {
			err := p.failed
			p.mu.Unlock()
			return err
		}
		for len(marks) > 0 && marks[0].q.finished >= marks[0].upTo {
			marks = marks[1:]
		}
		if len(marks) == 0 {
			p.mu.Unlock()
			return nil
		}
		if p.closed {
			p.mu.Unlock()
			return ErrProducerClosed
		}
		sig := p.signal
		p.mu.Unlock()
		select {
		case <-sig:
		case <-ctx.Done():
			return fmt.Errorf("flushing producer: %w", ctx.Err())
		}
		p.mu.Lock()
	}
}

// Close stops the producer without waiting: messages not yet acknowledged
// complete with ErrProducerClosed (call Flush first for a clean stop). It
// is idempotent.
func (p *Producer) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	failed := p.failed
	p.failLocked(ErrProducerClosed)
	p.failed = failed
	client, admin := p.client, p.admin
	p.mu.Unlock()
	var err error
	if client != nil {
		if e := client.Shutdown(); e != nil {
			err = fmt.Errorf("shutting down rocketmq producer: %w", e)
		}
	}
	if admin != nil {
		_ = admin.Close()
	}
	return err
}

// route returns the queues of topic in hash order, creating the topic
// (with TopicQueues queues) when the name server does not know it.
func (p *Producer) route(ctx context.Context, topic string) ([]*queueState, error) {
	p.mu.Lock()
	if !p.started {
		p.mu.Unlock()
		return nil, ErrProducerNotStarted
	}
	qs, ok := p.routes[topic]
	admin := p.admin
	p.mu.Unlock()
	if ok {
		return qs, nil
	}
	if err := validateTopic(topic); err != nil {
		return nil, err
	}
	p.routeMu.Lock()
	defer p.routeMu.Unlock()
	p.mu.Lock()
	qs, ok = p.routes[topic]
	p.mu.Unlock()
	if ok {
		return qs, nil
	}
	r, err := fetchRoute(ctx, admin, p.cfg.NamesrvAddr, topic)
	if errors.Is(err, ErrTopicNotFound) && p.cfg.TopicQueues > 0 {
		if err := CreateTopic(ctx, p.cfg.NamesrvAddr, topic, p.cfg.TopicQueues, nil); err != nil {
			return nil, err
		}
		r, err = fetchRoute(ctx, admin, p.cfg.NamesrvAddr, topic)
	}
	if err != nil {
		return nil, err
	}
	wq := r.writeQueues()
	if len(wq) == 0 {
		return nil, fmt.Errorf("sending to %s: the topic has no writable queue", topic)
	}
	qs = make([]*queueState, len(wq))
	for i, q := range wq {
		qs[i] = &queueState{mq: &primitive.MessageQueue{Topic: topic, BrokerName: q.BrokerName, QueueId: q.QueueID}}
	}
	p.mu.Lock()
	p.routes[topic] = qs
	p.mu.Unlock()
	return qs, nil
}
