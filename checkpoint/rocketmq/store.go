// Package rocketmq is a checkpoint.Store on a RocketMQ compaction topic
// (cleanup.policy=COMPACTION), which the store creates itself. Every value is
// a message keyed by its key, so one key always lands in the same queue and
// the broker's compaction keeps its last value; a delete is a tombstone (an
// empty body with the property binlake.tombstone=true).
//
// Open reads every queue from offset 0 to its end into memory; Get and List
// are served from that map, which the store keeps current with its own
// writes. That is correct under the single-writer-per-key assumption: while
// a store is open, no other process writes the keys it reads (in binlake, a
// source task is the only writer of its connector/task key). Writes by
// others after Open are not seen until the next Open.
package rocketmq

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/binlake/binlake/checkpoint"
	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/internal/mq"
)

// TombstoneProp marks a deleted key.
const TombstoneProp = "binlake.tombstone"

// Defaults of Config.
const (
	DefaultQueues = 8
	DefaultSettle = 200 * time.Millisecond
)

// Config configures a Store.
type Config struct {
	// NamesrvAddr lists name servers, "host:port" separated by ';'.
	NamesrvAddr string
	// Topic is the compaction topic; it is created when missing.
	Topic string
	// Group names the producer and consumer groups ("binlake-checkpoint"
	// when empty).
	Group string
	// Queues is the topic's queue count when the store creates it.
	Queues int
	// Settle is how long Open waits, once caught up, for the broker to
	// expose messages acknowledged just before (the broker indexes queues
	// asynchronously); Open re-reads until the queue ends stop moving.
	Settle time.Duration
}

// Store is a checkpoint.Store on a compaction topic. Safe for concurrent
// use.
type Store struct {
	cfg  Config
	prod *mq.Producer

	writeMu sync.Mutex // orders the map updates of concurrent writes to one key
	mu      sync.RWMutex
	data    map[string][]byte
	closed  bool
}

var _ checkpoint.Store = (*Store)(nil)

// Open creates the compaction topic if needed, reads it from offset 0 of
// every queue (last value per key wins) and starts the producer.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.NamesrvAddr == "" || cfg.Topic == "" {
		return nil, errors.New("opening rocketmq checkpoint store: name server address and topic are required")
	}
	if cfg.Group == "" {
		cfg.Group = "binlake-checkpoint"
	}
	if cfg.Queues <= 0 {
		cfg.Queues = DefaultQueues
	}
	if cfg.Settle <= 0 {
		cfg.Settle = DefaultSettle
	}
	// An existing topic keeps its queue count: changing it would move keys
	// to other queues.
	existing, err := mq.TopicConfigs(ctx, cfg.NamesrvAddr, cfg.Topic)
	if err != nil {
		return nil, fmt.Errorf("opening checkpoint topic %s: %w", cfg.Topic, err)
	}
	for _, tc := range existing {
		cfg.Queues = tc.WriteQueueNums
	}
	if err := mq.CreateTopic(ctx, cfg.NamesrvAddr, cfg.Topic, cfg.Queues, map[string]string{"cleanup.policy": "COMPACTION"}); err != nil {
		return nil, fmt.Errorf("opening checkpoint topic %s: %w", cfg.Topic, err)
	}
	data, err := load(ctx, cfg)
	if err != nil {
		return nil, err
	}
	prod, err := mq.NewProducer(mq.ProducerConfig{
		NamesrvAddr: cfg.NamesrvAddr, Group: cfg.Group, TopicQueues: -1,
		BatchMaxMessages: 64, MaxInFlightBytes: 16 << 20,
	})
	if err != nil {
		return nil, err
	}
	if err := prod.Start(ctx); err != nil {
		return nil, fmt.Errorf("opening checkpoint topic %s: %w", cfg.Topic, err)
	}
	return &Store{cfg: cfg, prod: prod, data: data}, nil
}

// load replays the topic into a map.
func load(ctx context.Context, cfg Config) (map[string][]byte, error) {
	r, err := mq.NewReader(mq.ReaderConfig{NamesrvAddr: cfg.NamesrvAddr, Group: cfg.Group})
	if err != nil {
		return nil, err
	}
	defer func() { _ = r.Close() }()
	if err := r.Start(ctx); err != nil {
		return nil, fmt.Errorf("reading checkpoint topic %s: %w", cfg.Topic, err)
	}
	queues, err := r.Queues(ctx, cfg.Topic)
	if err != nil {
		return nil, fmt.Errorf("reading checkpoint topic %s: %w", cfg.Topic, err)
	}
	st := newReplay()
	next := make(map[connect.QueueID]int64, len(queues))
	for {
		moved := false
		for _, q := range queues {
			end, err := r.MaxOffset(ctx, q)
			if err != nil {
				return nil, fmt.Errorf("reading checkpoint topic %s: %w", cfg.Topic, err)
			}
			off := next[q]
			if off < end {
				moved = true
			}
			for off < end {
				msgs, n, err := r.Pull(ctx, q, off, 256)
				var om *mq.OffsetMovedError
				if errors.As(err, &om) && om.Next > off {
					off = om.Next // compacted or expired away
					continue
				}
				if err != nil {
					return nil, fmt.Errorf("reading checkpoint topic %s: %w", cfg.Topic, err)
				}
				if len(msgs) == 0 && n <= off {
					break // the broker has not indexed the rest yet; the settle pass retries
				}
				for _, m := range msgs {
					st.apply(m)
				}
				off = n
			}
			next[q] = off
		}
		if !moved {
			return st.data, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("reading checkpoint topic %s: %w", cfg.Topic, ctx.Err())
		case <-time.After(cfg.Settle):
		}
	}
}

// replay folds the topic's messages into the last value per key.
type replay struct {
	data map[string][]byte
	born map[string]int64 // born time of the message that set (or deleted) a key
}

func newReplay() *replay {
	return &replay{data: make(map[string][]byte), born: make(map[string]int64)}
}

// apply folds one message in. Within a queue messages come in write order;
// a key is in one queue unless the topic's queue count changed, so a
// message older (by its writer's clock) than the one that last set its key
// is ignored: with one writer per key that keeps the last write.
func (r *replay) apply(m *mq.ReadMessage) {
	if m.Key == "" {
		return // not written by this store: every message of it is keyed
	}
	if prev, ok := r.born[m.Key]; ok && m.BornMs < prev {
		return
	}
	r.born[m.Key] = m.BornMs
	if m.Props[TombstoneProp] == "true" {
		delete(r.data, m.Key)
		return
	}
	r.data[m.Key] = append([]byte(nil), m.Body...)
}

// Get returns the value of key from memory.
func (s *Store) Get(_ context.Context, key string) ([]byte, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, false, checkpoint.ErrClosed
	}
	v, ok := s.data[key]
	if !ok {
		return nil, false, nil
	}
	return append([]byte(nil), v...), true, nil
}

// Put sends value under key and returns once the broker acknowledged it.
func (s *Store) Put(ctx context.Context, key string, value []byte) error {
	if key == "" {
		return errors.New("checkpoint key is empty")
	}
	v := append([]byte(nil), value...)
	return s.write(ctx, key, &mq.Message{Topic: s.cfg.Topic, Key: key, Body: v}, func() { s.data[key] = v })
}

// Delete writes a tombstone for key and returns once it is acknowledged.
func (s *Store) Delete(ctx context.Context, key string) error {
	if key == "" {
		return errors.New("checkpoint key is empty")
	}
	m := &mq.Message{Topic: s.cfg.Topic, Key: key, Body: []byte{}, Props: map[string]string{TombstoneProp: "true"}}
	return s.write(ctx, key, m, func() { delete(s.data, key) })
}

// write sends m synchronously and applies it to memory once acknowledged.
// Writes are serialised so the map sees them in broker order.
func (s *Store) write(ctx context.Context, key string, m *mq.Message, applyLocal func()) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return checkpoint.ErrClosed
	}
	done := make(chan error, 1)
	if err := s.prod.Send(ctx, m, func(err error) { done <- err }); err != nil {
		return fmt.Errorf("writing checkpoint %q: %w", key, err)
	}
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("writing checkpoint %q: %w", key, err)
		}
	case <-ctx.Done():
		// The message may still be stored; the caller retries or gives up,
		// and the next Open reads whatever the broker kept.
		return fmt.Errorf("writing checkpoint %q: %w", key, ctx.Err())
	}
	s.mu.Lock()
	applyLocal()
	s.mu.Unlock()
	return nil
}

// List returns every key with prefix and its value, from memory.
func (s *Store) List(_ context.Context, prefix string) (map[string][]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, checkpoint.ErrClosed
	}
	out := make(map[string][]byte)
	for k, v := range s.data {
		if strings.HasPrefix(k, prefix) {
			out[k] = append([]byte(nil), v...)
		}
	}
	return out, nil
}

// Close stops the producer; it is idempotent.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.writeMu.Lock() // let a write in progress finish
	defer s.writeMu.Unlock()
	return s.prod.Close()
}
