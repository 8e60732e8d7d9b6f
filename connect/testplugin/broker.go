package testplugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/worker"
	"github.com/binlake/binlake/internal/mq"
	"github.com/binlake/binlake/schema"
)

// Broker is an in-memory stand-in for RocketMQ: topics of a fixed number of
// queues, created on first send; messages routed by key hash; committed
// offsets per group. Acks are delivered from other goroutines, as a real
// producer does.
type Broker struct {
	mu        sync.Mutex
	queues    int
	topics    map[string][][]*worker.ReadMessage
	committed map[string]map[connect.QueueID]int64
	failSend  error
	sends     int
	minOffset map[connect.QueueID]int64
}

// NewBroker returns a broker whose topics have queues queues.
func NewBroker(queues int) *Broker {
	return &Broker{queues: queues, topics: map[string][][]*worker.ReadMessage{}, committed: map[string]map[connect.QueueID]int64{}}
}

// Expire makes the messages of q below offset unavailable, as broker
// retention does: pulls from below it get an *mq.OffsetMovedError.
func (b *Broker) Expire(q connect.QueueID, offset int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.minOffset == nil {
		b.minOffset = map[connect.QueueID]int64{}
	}
	b.minOffset[q] = offset
}

// FailSends makes every send fail with err (nil restores).
func (b *Broker) FailSends(err error) {
	b.mu.Lock()
	b.failSend = err
	b.mu.Unlock()
}

// Messages returns every message of a topic, queue by queue.
func (b *Broker) Messages(topic string) []*worker.ReadMessage {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []*worker.ReadMessage
	for _, q := range b.topics[topic] {
		out = append(out, q...)
	}
	return out
}

// Topics returns the topic names.
func (b *Broker) Topics() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for t := range b.topics {
		out = append(out, t)
	}
	return out
}

// Committed returns a group's committed offset of a queue (-1 if none).
func (b *Broker) Committed(group string, q connect.QueueID) int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	if off, ok := b.committed[group][q]; ok {
		return off
	}
	return -1
}

// NewProducer is a worker.ProducerFactory.
func (b *Broker) NewProducer(string) (worker.Producer, error) { return &producer{b: b}, nil }

// NewReader is a worker.ReaderFactory.
func (b *Broker) NewReader(group string) (worker.Reader, error) {
	return &reader{b: b, group: group}, nil
}

type producer struct {
	b      *Broker
	wg     sync.WaitGroup
	closed bool
	mu     sync.Mutex
}

func (p *producer) Start(context.Context) error { return nil }

func (p *producer) Send(ctx context.Context, m *worker.Message, done func(error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return errors.New("producer is closed")
	}
	p.wg.Add(1)
	p.mu.Unlock()
	b := p.b
	b.mu.Lock()
	err := b.failSend
	if err == nil {
		qs := b.topics[m.Topic]
		if qs == nil {
			qs = make([][]*worker.ReadMessage, b.queues)
			b.topics[m.Topic] = qs
		}
		h := fnv.New32a()
		h.Write([]byte(m.Key))
		qi := 0
		if m.Key != "" {
			qi = int(h.Sum32() % uint32(b.queues))
		}
		q := connect.QueueID{Topic: m.Topic, BrokerName: "fake", Queue: qi}
		qs[qi] = append(qs[qi], &worker.ReadMessage{Queue: q, Offset: int64(len(qs[qi])), Key: m.Key, Tag: m.Tag,
			Body: m.Body, Props: m.Props})
		b.sends++
	}
	b.mu.Unlock()
	go func() {
		defer p.wg.Done()
		done(err)
	}()
	return nil
}

func (p *producer) Flush(ctx context.Context) error {
	ch := make(chan struct{})
	go func() { p.wg.Wait(); close(ch) }()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *producer) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	return nil
}

type reader struct {
	b     *Broker
	group string
}

func (r *reader) Start(context.Context) error { return nil }

func (r *reader) Queues(_ context.Context, topic string) ([]connect.QueueID, error) {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	qs, ok := r.b.topics[topic]
	if !ok {
		return nil, nil
	}
	out := make([]connect.QueueID, len(qs))
	for i := range qs {
		out[i] = connect.QueueID{Topic: topic, BrokerName: "fake", Queue: i}
	}
	return out, nil
}

func (r *reader) Pull(ctx context.Context, q connect.QueueID, offset int64, limit int) ([]*worker.ReadMessage, int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, offset, err
	}
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	qs := r.b.topics[q.Topic]
	if q.Queue >= len(qs) {
		return nil, offset, fmt.Errorf("no queue %d in topic %s", q.Queue, q.Topic)
	}
	msgs := qs[q.Queue]
	if lo := r.b.minOffset[q]; offset < lo || offset > int64(len(msgs)) {
		return nil, offset, &mq.OffsetMovedError{Queue: q, Requested: offset, Next: max(lo, min(offset, int64(len(msgs))))}
	}
	if offset >= int64(len(msgs)) {
		return nil, offset, nil
	}
	end := min(int64(len(msgs)), offset+int64(limit))
	return append([]*worker.ReadMessage(nil), msgs[offset:end]...), end, nil
}

func (r *reader) MaxOffset(_ context.Context, q connect.QueueID) (int64, error) {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	qs := r.b.topics[q.Topic]
	if q.Queue >= len(qs) {
		return 0, nil
	}
	return int64(len(qs[q.Queue])), nil
}

func (r *reader) CommittedOffset(_ context.Context, q connect.QueueID) (int64, error) {
	return r.b.Committed(r.group, q), nil
}

func (r *reader) CommitOffset(_ context.Context, q connect.QueueID, offset int64) error {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	if r.b.committed[r.group] == nil {
		r.b.committed[r.group] = map[connect.QueueID]int64{}
	}
	r.b.committed[r.group][q] = offset
	return nil
}

func (r *reader) Close() error { return nil }

// Converter is a JSON converter for the test source's table layout (id
// BIGINT primary key, v VARCHAR).
type Converter struct{}

type wireEvent struct {
	Op       string `json:"op"`
	DB       string `json:"db"`
	Table    string `json:"table"`
	Sequence uint64 `json:"seq"`
	ID       int64  `json:"id"`
	V        string `json:"v"`
}

// Encode writes the event as JSON.
func (Converter) Encode(_ context.Context, _ string, ev *connect.ChangeEvent) ([]byte, error) {
	row := ev.Row()
	if len(row) != 2 {
		return nil, fmt.Errorf("test converter needs rows of 2 columns, got %d", len(row))
	}
	id, _ := row[0].(int64)
	v, _ := row[1].(string)
	return json.Marshal(wireEvent{Op: ev.Op.String(), DB: ev.Source.Database, Table: ev.Source.Table,
		Sequence: ev.Source.Sequence, ID: id, V: v})
}

// Decode parses what Encode wrote.
func (Converter) Decode(_ context.Context, _ string, body []byte) (*connect.ChangeEvent, error) {
	var w wireEvent
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("decoding test event: %w", err)
	}
	if len(w.Op) != 1 || !connect.Op(w.Op[0]).Valid() {
		return nil, fmt.Errorf("decoding test event: bad op %q", w.Op)
	}
	t := &schema.Table{Database: w.DB, Name: w.Table, Version: 1, PrimaryKey: []int{0}, Columns: []schema.Column{
		{Name: "id", Kind: schema.KindInt64}, {Name: "v", Kind: schema.KindString, Optional: true}}}
	return &connect.ChangeEvent{Op: connect.Op(w.Op[0]), After: []any{w.ID, w.V}, Schema: t,
		Source: connect.SourceInfo{Database: w.DB, Table: w.Table, Sequence: w.Sequence}}, nil
}
