package worker

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/spec"
	"github.com/binlake/binlake/internal/metrics"
	"github.com/binlake/binlake/internal/mq"
)

// DefaultCommitInterval is the sink flush interval when commit.interval.ms
// is unset or zero.
const DefaultCommitInterval = 10 * time.Second

// runSink runs one sink task until it fails or is stopped: list the queues
// of the task's topics, Open, then pull -> decode -> Put, and every commit
// interval Flush and commit the broker offsets (a hint; the sink's own
// commit is the truth).
func (r *taskRunner) runSink(soft, hard context.Context) (err error) {
	c := r.c
	task := c.instance.(connect.SinkConnector).NewTask()
	reader, err := c.w.opts.NewReader(GroupName(c.name))
	if err != nil {
		return fmt.Errorf("creating RocketMQ reader: %w", err)
	}
	defer reader.Close() //nolint:errcheck // nothing left to do with the error
	if err := reader.Start(soft); err != nil {
		return fmt.Errorf("starting RocketMQ reader: %w", err)
	}
	s := &sinkLoop{r: r, task: task, reader: reader, taskLabel: strconv.Itoa(r.id)}
	if s.dlqTopic = spec.GetString(r.cfg, spec.DLQTopic); s.dlqTopic != "" && c.w.opts.NewProducer != nil {
		if s.dlq, err = c.w.opts.NewProducer(GroupName(c.name) + "-dlq"); err != nil {
			return fmt.Errorf("creating dead-letter producer: %w", err)
		}
		defer s.dlq.Close() //nolint:errcheck // nothing left to do with the error
		if err := s.dlq.Start(soft); err != nil {
			return fmt.Errorf("starting dead-letter producer: %w", err)
		}
	}

	if da, ok := task.(connect.DeadLetterAware); ok && s.dlq != nil {
		da.SetDeadLetterSender(s)
	}
	startErr := task.Start(soft, r.taskContext())
	r.setCurrent(task)
	defer func() {
		r.setCurrent(nil)
		ctx, cancel := context.WithTimeout(hard, c.w.opts.ShutdownTimeout)
		defer cancel()
		// A graceful stop commits what was put; after an error the sink
		// restarts from its own committed position instead.
		if err == nil && startErr == nil && s.dirty {
			if ferr := s.flush(ctx); ferr != nil {
				err = ferr
			}
		}
		if s.dlq != nil {
			if ferr := s.dlq.Flush(ctx); ferr != nil {
				r.log.Warn("flushing dead-letter producer", "error", ferr)
			}
		}
		if serr := task.Stop(ctx); serr != nil {
			r.log.Warn("stopping sink task", "error", serr)
		}
	}()
	if startErr != nil {
		return fmt.Errorf("starting sink task: %w", startErr)
	}
	r.setState(Running, "")
	if err := s.open(soft); err != nil {
		if soft.Err() != nil {
			return nil
		}
		return err
	}
	if err := s.loop(soft); err != nil && soft.Err() == nil {
		return err
	}
	return nil
}

// sinkLoop is the state of one sink run.
type sinkLoop struct {
	r         *taskRunner
	task      connect.SinkTask
	reader    Reader
	taskLabel string
	dlqTopic  string
	dlq       Producer

	queues []connect.QueueID
	// missing are topics that did not exist yet when last checked.
	missing        []string
	lastTopicCheck time.Time
	pos            map[connect.QueueID]int64 // next offset to pull
	committed      map[connect.QueueID]int64 // last offset committed to the broker
	fresh          map[connect.QueueID]bool  // no position anywhere yet: start at the earliest message
	dirty          bool                      // records were put since the last flush

	// putting holds the messages of the Put in progress (one pull of one
	// queue), so that a record the task dead-letters during Put is
	// forwarded with its original body.
	putting []*ReadMessage
}

var _ connect.DeadLetterSender = (*sinkLoop)(nil)

// open opens the queues of the task's topics that exist and resolves their
// start offsets. Topics that do not exist yet (a source creates a table's
// topic when it first sends to it) are opened later by addTopics, so that
// tables whose topics exist are consumed meanwhile.
func (s *sinkLoop) open(ctx context.Context) error {
	topics := spec.GetList(s.r.cfg, spec.TopicNames)
	if len(topics) == 0 {
		return connect.Terminal(fmt.Errorf("task %d has no topics", s.r.id),
			"the connector's TaskConfigs must set "+spec.TopicNames+" in every task config")
	}
	s.pos = map[connect.QueueID]int64{}
	s.committed = map[connect.QueueID]int64{}
	s.fresh = map[connect.QueueID]bool{}
	s.missing = topics
	return s.addTopics(ctx)
}

// addTopics opens the queues of the missing topics that exist now.
func (s *sinkLoop) addTopics(ctx context.Context) error {
	var found []connect.QueueID
	var still []string
	for _, topic := range s.missing {
		qs, err := s.reader.Queues(ctx, topic)
		if err != nil && !errors.Is(err, mq.ErrTopicNotFound) {
			return fmt.Errorf("listing queues of %s: %w", topic, err)
		}
		if len(qs) == 0 {
			still = append(still, topic)
			continue
		}
		found = append(found, qs...)
	}
	s.missing, s.lastTopicCheck = still, time.Now()
	if len(still) > 0 {
		s.r.setDetail("waiting for topics to exist: " + strings.Join(still, ", "))
	} else {
		s.r.setDetail("")
	}
	if len(found) == 0 {
		return nil
	}
	offsets, err := s.task.Open(ctx, found)
	if err != nil {
		return fmt.Errorf("opening queues: %w", err)
	}
	for _, q := range found {
		off, ok := offsets[q]
		if !ok || off < 0 {
			if off, err = s.reader.CommittedOffset(ctx, q); err != nil {
				return fmt.Errorf("reading committed offset of %s queue %d: %w", q.Topic, q.Queue, err)
			}
			if off < 0 {
				off, s.fresh[q] = 0, true
			}
		}
		s.pos[q] = off
		s.committed[q] = off
	}
	s.queues = append(s.queues, found...)
	return nil
}

func (s *sinkLoop) loop(ctx context.Context) error {
	interval := spec.GetDuration(s.r.cfg, spec.CommitIntervalMs)
	if interval <= 0 {
		interval = DefaultCommitInterval
	}
	opts := s.r.c.w.opts
	lastFlush := time.Now()
	for {
		if err := s.r.waitUnpaused(ctx, s.flushIfDirty(ctx)); err != nil {
			return nil
		}
		if len(s.missing) > 0 && time.Since(s.lastTopicCheck) >= 5*opts.IdleWait {
			if err := s.addTopics(ctx); err != nil {
				return err
			}
		}
		got := 0
		for _, q := range s.queues {
			n, err := s.pullOnce(ctx, q, opts.PullBatch)
			if err != nil {
				return err
			}
			got += n
		}
		if time.Since(lastFlush) >= interval {
			// Flush on every interval, also when idle: the sink runs its due
			// background work (table maintenance) from Flush.
			if err := s.flush(ctx); err != nil {
				return err
			}
			lastFlush = time.Now()
		}
		if got == 0 {
			wait := min(opts.IdleWait, max(interval-time.Since(lastFlush), time.Millisecond))
			if err := sleepCtx(ctx, wait); err != nil {
				return nil
			}
		}
	}
}

func (s *sinkLoop) flushIfDirty(ctx context.Context) func() error {
	return func() error {
		if !s.dirty {
			return nil
		}
		return s.flush(ctx)
	}
}

// pullOnce pulls one batch from q, decodes it and puts it.
func (s *sinkLoop) pullOnce(ctx context.Context, q connect.QueueID, batch int) (int, error) {
	msgs, next, err := s.reader.Pull(ctx, q, s.pos[q], batch)
	var moved *mq.OffsetMovedError
	if errors.As(err, &moved) {
		if !s.fresh[q] || moved.Next < moved.Requested {
			return 0, connect.Terminal(fmt.Errorf("reading %s queue %d: %w", q.Topic, q.Queue, err),
				"the broker no longer holds the messages after the sink's committed position (retention expired or the topic was recreated); "+
					"re-snapshot the source tables into a fresh sink, or delete the sink's tables and restart it")
		}
		// Nothing was ever consumed: start where the broker still has
		// messages.
		s.r.log.Warn("queue offset out of range; continuing at the broker's earliest offset", "topic", q.Topic,
			"queue", q.Queue, "requested", moved.Requested, "next", moved.Next)
		s.pos[q] = moved.Next
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("pulling %s queue %d at offset %d: %w", q.Topic, q.Queue, s.pos[q], err)
	}
	s.fresh[q] = false
	if len(msgs) == 0 {
		if next > s.pos[q] {
			s.pos[q] = next
		}
		return 0, nil
	}
	records := make([]connect.SinkRecord, 0, len(msgs))
	for _, m := range msgs {
		ev, err := s.r.c.conv.Decode(ctx, q.Topic, m.Body)
		if err == nil && ev == nil {
			err = fmt.Errorf("converter returned no event")
		}
		if err == nil {
			if ev, err = s.transform(ctx, ev); err == nil && ev == nil {
				continue // dropped by a transform
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			if spec.GetString(s.r.cfg, spec.ErrorsTolerance) != spec.ToleranceAll || connect.IsTransient(err) {
				return 0, badRecord(q, m.Offset, err)
			}
			if err := s.deadLetter(ctx, q, m, err); err != nil {
				return 0, err
			}
			continue
		}
		records = append(records, connect.SinkRecord{Event: ev, Queue: q, Offset: m.Offset})
	}
	if len(records) > 0 {
		s.putting = msgs
		err := s.task.Put(ctx, records)
		s.putting = nil
		if err != nil {
			return 0, fmt.Errorf("putting %d records: %w", len(records), err)
		}
	}
	s.pos[q] = max(next, msgs[len(msgs)-1].Offset+1)
	s.dirty = true
	return len(msgs), nil
}

// transform applies the connector's transforms to one decoded event; nil
// means dropped.
func (s *sinkLoop) transform(ctx context.Context, ev *connect.ChangeEvent) (*connect.ChangeEvent, error) {
	t := s.r.c.transform
	if t == nil {
		return ev, nil
	}
	if et, ok := t.(EventTransform); ok {
		return et.ApplyEvent(ctx, ev)
	}
	out, err := t.Apply(ctx, []*connect.ChangeEvent{ev})
	if err != nil || len(out) == 0 {
		return nil, err
	}
	if len(out) > 1 {
		return nil, fmt.Errorf("a sink transform turned one event into %d; only one-to-one transforms are supported on sinks", len(out))
	}
	return out[0], nil
}

// badRecord is the error for a record that does not decode or transform:
// terminal, naming the record's position, unless the cause is transient
// (retried) or already terminal (it keeps its own hint).
func badRecord(q connect.QueueID, offset int64, err error) error {
	err = fmt.Errorf("reading %s queue %d offset %d: %w", q.Topic, q.Queue, offset, err)
	if connect.IsTransient(err) || connect.IsTerminal(err) {
		return err
	}
	return connect.Terminal(err, hintBadRecord)
}

// deadLetter skips a record that does not decode, forwarding its raw body
// to the dead-letter topic when one is set.
func (s *sinkLoop) deadLetter(ctx context.Context, q connect.QueueID, m *ReadMessage, cause error) error {
	s.r.log.Warn("skipping record that does not decode or transform", "topic", q.Topic, "queue", q.Queue, "offset", m.Offset, "error", cause)
	metrics.DLQRecords.WithLabelValues(s.r.c.name, s.taskLabel).Inc()
	if s.dlq == nil {
		return nil
	}
	return s.sendDeadLetter(ctx, q, m.Offset, &Message{Key: m.Key, Tag: m.Tag, Body: m.Body, Props: m.Props}, cause)
}

// SendDeadLetter implements connect.DeadLetterSender for the sink task: it
// forwards the record's original message when the record belongs to the Put
// in progress, else the converter's encoding of its event (a text
// description when even that fails).
func (s *sinkLoop) SendDeadLetter(ctx context.Context, rec connect.SinkRecord, reason error) error {
	if s.dlq == nil {
		return fmt.Errorf("no dead-letter topic is configured (set %s)", spec.DLQTopic)
	}
	var orig *Message
	for _, m := range s.putting {
		if m.Offset == rec.Offset && m.Queue.Topic == rec.Queue.Topic && m.Queue.Queue == rec.Queue.Queue {
			orig = &Message{Key: m.Key, Tag: m.Tag, Body: m.Body, Props: m.Props}
			break
		}
	}
	if orig == nil {
		orig = s.encodeDeadLetter(ctx, rec)
	}
	return s.sendDeadLetter(ctx, rec.Queue, rec.Offset, orig, reason)
}

// encodeDeadLetter rebuilds a message for a record whose original the
// worker no longer holds.
func (s *sinkLoop) encodeDeadLetter(ctx context.Context, rec connect.SinkRecord) *Message {
	ev := rec.Event
	if ev == nil {
		return &Message{Body: fmt.Appendf(nil, "record at %s queue %d offset %d has no event", rec.Queue.Topic, rec.Queue.Queue, rec.Offset)}
	}
	table := ev.Source.Database + "." + ev.Source.Table
	props := map[string]string{PropSeq: strconv.FormatUint(ev.Source.Sequence, 10), PropTable: table, PropOp: ev.Op.String()}
	tag := connect.TableTag(ev.Source.Database, ev.Source.Table)
	body, err := s.r.c.conv.Encode(ctx, rec.Queue.Topic, ev)
	if err != nil {
		body = fmt.Appendf(nil, "event of %s at sequence %d (op %s) could not be encoded again: %v", table, ev.Source.Sequence, ev.Op, err)
	}
	var key string
	if ev.Schema != nil && ev.Row() != nil {
		key = connect.MessageKey(ev.Schema, ev.Row())
	}
	return &Message{Key: key, Tag: tag, Body: body, Props: props}
}

// sendDeadLetter sends m to the dead-letter topic with the reason and the
// origin (topic, queue, offset) of the record in its properties, and waits
// until the broker stored it: the record's offset may be committed right
// after, so a lost dead letter would be a lost record.
func (s *sinkLoop) sendDeadLetter(ctx context.Context, q connect.QueueID, offset int64, m *Message, reason error) error {
	props := map[string]string{
		PropError:        reason.Error(),
		PropOrigin:       fmt.Sprintf("%s/%d/%d", q.Topic, q.Queue, offset),
		PropOriginTopic:  q.Topic,
		PropOriginQueue:  strconv.Itoa(q.Queue),
		PropOriginOffset: strconv.FormatInt(offset, 10),
	}
	for k, v := range m.Props {
		if _, ok := props[k]; !ok {
			props[k] = v
		}
	}
	msg := &Message{Topic: s.dlqTopic, Key: m.Key, Tag: m.Tag, Body: m.Body, Props: props}
	stored := make(chan error, 1)
	if err := s.dlq.Send(ctx, msg, func(err error) { stored <- err }); err != nil {
		return fmt.Errorf("sending to the dead-letter topic %s: %w", s.dlqTopic, err)
	}
	select {
	case err := <-stored:
		if err != nil {
			return fmt.Errorf("sending to the dead-letter topic %s: %w", s.dlqTopic, err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("sending to the dead-letter topic %s: %w", s.dlqTopic, ctx.Err())
	}
}

// flush commits what was put and then acknowledges the consumed offsets to
// the broker.
func (s *sinkLoop) flush(ctx context.Context) error {
	if err := s.task.Flush(ctx); err != nil {
		return fmt.Errorf("flushing sink task: %w", err)
	}
	s.dirty = false
	for _, q := range s.queues {
		if s.pos[q] == s.committed[q] {
			continue
		}
		if err := s.reader.CommitOffset(ctx, q, s.pos[q]); err != nil {
			// Only a hint: the sink resumes from its own commit.
			s.r.log.Warn("committing broker offset", "topic", q.Topic, "queue", q.Queue, "error", err)
			continue
		}
		s.committed[q] = s.pos[q]
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
