package worker

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/spec"
	"github.com/binlake/binlake/internal/metrics"
)

// Message properties set on every change message (ARCHITECTURE.md 3.2).
const (
	PropSeq      = "binlake.seq"
	PropTable    = "binlake.table"
	PropOp       = "binlake.op"
	PropSchemaID = "binlake.schema.id"
	// PropError carries the error text of a dead-letter message.
	PropError = "binlake.error"
	// PropOrigin is "<topic>/<queue>/<offset>" of the record a sink
	// dead-lettered; PropOriginTopic, PropOriginQueue and PropOriginOffset
	// carry the same parts one by one.
	PropOrigin       = "binlake.origin"
	PropOriginTopic  = "binlake.origin.topic"
	PropOriginQueue  = "binlake.origin.queue"
	PropOriginOffset = "binlake.origin.offset"
)

// Hints of the terminal errors for records that cannot be converted,
// decoded or transformed under errors.tolerance=none.
const (
	hintBadEvent  = "fix the data at the source (or the converter and transform settings), or set errors.tolerance=all with errors.deadletterqueue.topic.name to skip such events to a dead-letter topic"
	hintBadRecord = "fix the producer of the record (or the converter and transform settings), or set errors.tolerance=all with errors.deadletterqueue.topic.name to skip such records to a dead-letter topic"
)

// runSource runs one source task until it fails or is stopped: Poll ->
// transforms -> converter -> producer, and Ack once the broker stored every
// message of a polled batch.
func (r *taskRunner) runSource(soft, hard context.Context) (err error) {
	c := r.c
	task := c.instance.(connect.SourceConnector).NewTask()
	prod, err := c.w.opts.NewProducer(GroupName(c.name))
	if err != nil {
		return fmt.Errorf("creating RocketMQ producer: %w", err)
	}
	defer prod.Close() //nolint:errcheck // nothing left to do with the error
	if err := prod.Start(soft); err != nil {
		return fmt.Errorf("starting RocketMQ producer: %w", err)
	}
	// run is cancelled by a stop request or by the first failed send.
	run, cancelRun := context.WithCancelCause(soft)
	defer cancelRun(nil)

	startErr := task.Start(run, r.taskContext())
	r.setCurrent(task)
	defer func() {
		r.setCurrent(nil)
		// Soft phase: wait for pending acks (bounded), then stop the task.
		ctx, cancel := context.WithTimeout(hard, c.w.opts.ShutdownTimeout)
		defer cancel()
		if ferr := prod.Flush(ctx); ferr != nil && err == nil && startErr == nil {
			err = fmt.Errorf("flushing producer: %w", ferr)
		}
		if serr := task.Stop(ctx); serr != nil {
			r.log.Warn("stopping source task", "error", serr)
		}
	}()
	if startErr != nil {
		return fmt.Errorf("starting source task: %w", startErr)
	}
	r.setState(Running, "")

	s := &sourceSender{r: r, prod: prod, fail: cancelRun, task: safeAck(task.Ack, cancelRun)}
	s.init()
	for {
		if err := r.waitUnpaused(run, nil); err != nil {
			return runEnd(run)
		}
		events, err := task.Poll(run)
		if err != nil {
			if run.Err() != nil {
				return runEnd(run)
			}
			return fmt.Errorf("polling source task: %w", err)
		}
		if len(events) == 0 {
			continue
		}
		if err := s.send(hard, events); err != nil {
			return err
		}
	}
}

// runEnd returns the error that ended a run: nil for a stop request, the
// send error that cancelled it otherwise.
func runEnd(run context.Context) error {
	cause := context.Cause(run)
	if cause == nil || errors.Is(cause, errStopped) || errors.Is(cause, context.Canceled) {
		return nil
	}
	return cause
}

// sourceSender turns polled events into messages.
type sourceSender struct {
	r    *taskRunner
	prod Producer
	fail context.CancelCauseFunc
	task func([]*connect.ChangeEvent)

	topicName, prefix, dlq string
	tolerateAll, avro      bool
	taskLabel              string
	schemaIDer             SchemaIDer
	sendHist               prometheus.Observer
	topics                 map[[2]string]string // (db, table) -> per-table topic
	batchStart             time.Time
}

func (s *sourceSender) init() {
	cfg := s.r.cfg
	s.topicName = spec.GetString(cfg, spec.TopicNameKey)
	s.prefix = spec.GetString(cfg, spec.TopicPrefix)
	if s.prefix == "" {
		s.prefix = s.r.c.name
	}
	s.dlq = spec.GetString(cfg, spec.DLQTopic)
	s.tolerateAll = spec.GetString(cfg, spec.ErrorsTolerance) == spec.ToleranceAll
	s.avro = spec.GetString(cfg, spec.ValueConverter) == spec.ConverterAvro
	s.taskLabel = strconv.Itoa(s.r.id)
	s.schemaIDer, _ = s.r.c.conv.(SchemaIDer)
	s.sendHist = metrics.ProducerSend.WithLabelValues(s.r.c.name, s.taskLabel)
}

// ackBatch acknowledges a polled batch to the task once every message made
// from it was stored, unless one of them failed.
type ackBatch struct {
	pending atomic.Int64
	failed  atomic.Bool
	events  []*connect.ChangeEvent
	ack     func([]*connect.ChangeEvent)
}

func (b *ackBatch) done(err error) {
	if err != nil {
		b.failed.Store(true)
	}
	if b.pending.Add(-1) == 0 && !b.failed.Load() {
		b.ack(b.events)
	}
}

// safeAck wraps a task's Ack so that a panic in it (it runs on a producer
// goroutine) fails the run instead of the process.
func safeAck(ack func([]*connect.ChangeEvent), fail context.CancelCauseFunc) func([]*connect.ChangeEvent) {
	return func(events []*connect.ChangeEvent) {
		defer func() {
			if v := recover(); v != nil {
				fail(panicError(v))
			}
		}()
		ack(events)
	}
}

func (s *sourceSender) send(ctx context.Context, polled []*connect.ChangeEvent) error {
	batch := &ackBatch{events: polled, ack: s.task}
	batch.pending.Store(1)    // released below, so an empty batch acks too
	s.batchStart = time.Now() // send latency is measured from the batch's start
	out, err := s.transform(ctx, polled, batch)
	if err != nil {
		batch.done(err)
		return err
	}
	for _, ev := range out {
		msg, err := s.message(ctx, ev)
		if err != nil {
			if ctx.Err() != nil {
				batch.done(err)
				return fmt.Errorf("converting event: %w", err)
			}
			if !s.tolerateAll || connect.IsTransient(err) {
				batch.done(err)
				return badEvent(ev, err)
			}
			if err := s.skip(ctx, ev, fmt.Errorf("converting: %w", err), batch); err != nil {
				return err // the batch is failed: it is never acknowledged
			}
			continue
		}
		if err := s.sendTracked(ctx, msg, batch); err != nil {
			return err
		}
	}
	batch.done(nil)
	return nil
}

// transform applies the connector's transforms. Under errors.tolerance=all
// a failing event is skipped (and dead-lettered) when the chain can apply
// events one by one; otherwise the error fails the run.
func (s *sourceSender) transform(ctx context.Context, polled []*connect.ChangeEvent, batch *ackBatch) ([]*connect.ChangeEvent, error) {
	t := s.r.c.transform
	if t == nil {
		return polled, nil
	}
	out, err := t.Apply(ctx, polled)
	if err == nil {
		return out, nil
	}
	if ctx.Err() != nil || connect.IsTransient(err) {
		return nil, fmt.Errorf("applying transforms: %w", err)
	}
	et, ok := t.(EventTransform)
	if !s.tolerateAll || !ok {
		// The transforms failed on the content of the batch: retrying
		// fails the same way.
		first, last := polled[0].Source, polled[len(polled)-1].Source
		where := fmt.Sprintf("the events of sequences %d to %d (%s:%d to %s:%d)",
			first.Sequence, last.Sequence, first.File, first.Pos, last.File, last.Pos)
		if ok { // name the first event that fails
			for _, ev := range polled {
				if _, evErr := et.ApplyEvent(ctx, ev); evErr != nil {
					src := ev.Source
					where = fmt.Sprintf("the event of %s.%s at sequence %d (gtid %q, %s:%d)",
						src.Database, src.Table, src.Sequence, src.GTID, src.File, src.Pos)
					err = evErr
					break
				}
			}
		}
		err = fmt.Errorf("applying transforms to %s: %w", where, err)
		if connect.IsTerminal(err) {
			return nil, err // keeps its own hint
		}
		return nil, connect.Terminal(err, hintBadEvent)
	}
	out = out[:0]
	for _, ev := range polled {
		res, err := et.ApplyEvent(ctx, ev)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if connect.IsTransient(err) {
				return nil, fmt.Errorf("applying transforms to the event of %s.%s at sequence %d: %w",
					ev.Source.Database, ev.Source.Table, ev.Source.Sequence, err)
			}
			if err := s.skip(ctx, ev, fmt.Errorf("applying transforms: %w", err), batch); err != nil {
				return nil, err
			}
			continue
		}
		if res != nil {
			out = append(out, res)
		}
	}
	return out, nil
}

// badEvent is the error for an event that cannot be converted: terminal,
// naming the event's position, unless the cause is transient (retried) or
// already terminal (it keeps its own hint).
func badEvent(ev *connect.ChangeEvent, err error) error {
	src := ev.Source
	err = fmt.Errorf("converting event of %s.%s at sequence %d (gtid %q, %s:%d): %w",
		src.Database, src.Table, src.Sequence, src.GTID, src.File, src.Pos, err)
	if connect.IsTransient(err) || connect.IsTerminal(err) {
		return err
	}
	return connect.Terminal(err, hintBadEvent)
}

// skip drops an event under errors.tolerance=all, sending a description to
// the dead-letter topic when one is set; the batch is acknowledged only once
// that message is stored too.
func (s *sourceSender) skip(ctx context.Context, ev *connect.ChangeEvent, cause error, batch *ackBatch) error {
	s.r.log.Warn("skipping event", "table", ev.Source.Database+"."+ev.Source.Table, "sequence", ev.Source.Sequence, "error", cause)
	metrics.DLQRecords.WithLabelValues(s.r.c.name, s.taskLabel).Inc()
	if s.dlq == "" {
		return nil
	}
	return s.sendTracked(ctx, s.deadLetter(ev, cause), batch)
}

// sendTracked sends msg as part of batch: the batch is acknowledged once
// every such message is stored, and a failed send fails the run.
func (s *sourceSender) sendTracked(ctx context.Context, msg *Message, batch *ackBatch) error {
	batch.pending.Add(1)
	began := s.batchStart
	if err := s.prod.Send(ctx, msg, func(err error) {
		if err != nil {
			s.fail(fmt.Errorf("sending to %s: %w", msg.Topic, err))
		} else {
			s.sendHist.Observe(time.Since(began).Seconds())
		}
		batch.done(err)
	}); err != nil {
		batch.done(err) // done is not called when Send itself fails
		return fmt.Errorf("sending to %s: %w", msg.Topic, err)
	}
	return nil
}

// route returns the topic and tag of an event (ARCHITECTURE.md 3.2).
func (s *sourceSender) route(ev *connect.ChangeEvent) (topic, tag string) {
	if ev.Topic != "" { // chosen by a routing transform
		return ev.Topic, connect.TableTag(ev.Source.Database, ev.Source.Table)
	}
	if s.topicName != "" {
		return s.topicName, connect.TableTag(ev.Source.Database, ev.Source.Table)
	}
	k := [2]string{ev.Source.Database, ev.Source.Table}
	t, ok := s.topics[k]
	if !ok {
		if s.topics == nil || len(s.topics) > 100000 { // bounded: tables, not rows
			s.topics = map[[2]string]string{}
		}
		t = connect.TopicName(s.prefix, ev.Source.Database, ev.Source.Table)
		s.topics[k] = t
	}
	return t, ""
}

func (s *sourceSender) message(ctx context.Context, ev *connect.ChangeEvent) (*Message, error) {
	topic, tag := s.route(ev)
	body, err := s.r.c.conv.Encode(ctx, topic, ev)
	if err != nil {
		return nil, err
	}
	props := map[string]string{
		PropSeq:   strconv.FormatUint(ev.Source.Sequence, 10),
		PropTable: ev.Source.Database + "." + ev.Source.Table,
		PropOp:    ev.Op.String(),
	}
	if id, ok := s.schemaID(body); ok {
		props[PropSchemaID] = strconv.FormatInt(int64(id), 10)
	}
	var key string
	if ev.Schema != nil {
		key = connect.MessageKey(ev.Schema, ev.Row())
	}
	// A TRUNCATE goes to every queue: each queue's consumer then sees it
	// after the changes before it and before the changes after it.
	return &Message{Topic: topic, Key: key, Tag: tag, Body: body, Props: props, Broadcast: ev.Op == connect.OpTruncate}, nil
}

// schemaID returns the registry id of an encoded body: from the converter
// when it can tell, else from the Confluent wire-format header (magic byte
// 0, 4-byte big-endian id) for the avro converter.
func (s *sourceSender) schemaID(body []byte) (int32, bool) {
	if s.schemaIDer != nil {
		return s.schemaIDer.SchemaID(body)
	}
	if s.avro && len(body) >= 5 && body[0] == 0 {
		return int32(binary.BigEndian.Uint32(body[1:5])), true
	}
	return 0, false
}

// deadLetter describes an event that could not be converted.
func (s *sourceSender) deadLetter(ev *connect.ChangeEvent, err error) *Message {
	table := ev.Source.Database + "." + ev.Source.Table
	body := fmt.Appendf(nil, "event of %s at sequence %d (op %s, gtid %q, %s:%d) was skipped: %v",
		table, ev.Source.Sequence, ev.Op, ev.Source.GTID, ev.Source.File, ev.Source.Pos, err)
	return &Message{Topic: s.dlq, Tag: connect.TableTag(ev.Source.Database, ev.Source.Table), Body: body,
		Props: map[string]string{PropSeq: strconv.FormatUint(ev.Source.Sequence, 10), PropTable: table,
			PropOp: ev.Op.String(), PropError: err.Error()}}
}
