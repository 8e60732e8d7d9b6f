package connect

import (
	"context"
	"errors"
	"log/slog"

	"github.com/binlake/binlake/checkpoint"
)

// Config is a connector's or a task's configuration: string keys and values,
// exactly as given over REST. Typed access goes through the plugin's spec.
type Config map[string]string

// Clone returns a copy of c.
func (c Config) Clone() Config {
	out := make(Config, len(c))
	for k, v := range c {
		out[k] = v
	}
	return out
}

// Connector is a configured plugin instance: it splits the connector's work
// into task configs. The worker validates the config against the plugin's
// spec before calling it. Implementations do no I/O in their constructor.
type Connector interface {
	// TaskConfigs returns at most maxTasks task configs (each a superset of
	// cfg). It may do I/O (e.g. list tables) and is retried on error.
	TaskConfigs(ctx context.Context, cfg Config, maxTasks int) ([]Config, error)
}

// SourceConnector is a Connector whose tasks read from an external system.
type SourceConnector interface {
	Connector
	NewTask() SourceTask
}

// SinkConnector is a Connector whose tasks write to an external system.
type SinkConnector interface {
	Connector
	NewTask() SinkTask
}

// TaskContext carries what the worker provides to a running task. It is built
// by the worker per task start and is safe to keep for the task's lifetime.
type TaskContext struct {
	// Connector is the connector's name; TaskID the task's index.
	Connector string
	TaskID    int
	// Config is the task's config (from Connector.TaskConfigs), with the
	// spec's defaults applied.
	Config Config
	// Checkpoints is the store for source checkpoints (key = connector/task).
	Checkpoints checkpoint.Store
	// DataDir is a directory private to the connector under the worker's
	// data directory (for embedded catalogs, caches).
	DataDir string
	// NamesrvAddr is the RocketMQ name server address(es), ';'-separated.
	NamesrvAddr string
	// Logger is the task's logger (secrets are never logged).
	Logger *slog.Logger
	// SetStatus publishes a short human-readable progress text (snapshot
	// percent, rows/s, lag) shown in the task's REST status. May be nil.
	SetStatus func(detail string)
}

// SourceTask reads change events. The worker calls Start once, then Poll in a
// loop from one goroutine; Ack may be called concurrently with Poll from the
// producer's callback goroutines. Stop is called once after Poll returned (or
// to interrupt it via ctx) and must be idempotent.
type SourceTask interface {
	// Start opens connections and loads the checkpoint. A retryable error
	// makes the worker retry with backoff; a terminal error fails the task.
	Start(ctx context.Context, tc *TaskContext) error
	// Poll blocks until events are available, ctx is done or an error
	// occurs, and returns a bounded batch in source order.
	Poll(ctx context.Context) ([]*ChangeEvent, error)
	// Ack tells the task that the broker durably stored these events (acks
	// arrive in any order). The task checkpoints the highest contiguous
	// acknowledged position at a transaction boundary.
	Ack(events []*ChangeEvent)
	// Stop releases resources; pending acks may still arrive before it.
	Stop(ctx context.Context) error
}

// QueueID names one queue of a topic.
type QueueID struct {
	Topic      string
	BrokerName string
	Queue      int
}

// SinkRecord is one decoded event with its position in the broker.
type SinkRecord struct {
	Event  *ChangeEvent
	Queue  QueueID
	Offset int64
}

// SinkTask writes change events. The worker calls Start, then Open with the
// queues assigned to the task (all queues of a table on one task), then Put
// and Flush from one goroutine.
type SinkTask interface {
	// Start opens connections. Retryable/terminal as for SourceTask.Start.
	Start(ctx context.Context, tc *TaskContext) error
	// Open returns, per queue, the offset to consume from: the sink's own
	// committed position (its truth, e.g. an Iceberg snapshot summary), or
	// -1 to start from the broker's committed consumer offset. The worker
	// calls it again with the queues of topics that appear later.
	Open(ctx context.Context, queues []QueueID) (map[QueueID]int64, error)
	// Put buffers records; it may block (backpressure) and may commit when
	// its buffers reach their limits.
	Put(ctx context.Context, records []SinkRecord) error
	// Flush commits everything Put so far. When it returns nil the worker
	// acknowledges the consumed offsets to the broker (a hint only). The
	// worker calls it every commit interval, also when nothing was Put, so a
	// sink can run due background work (e.g. table maintenance) from it.
	Flush(ctx context.Context) error
	// Stop releases resources without committing; must be idempotent.
	Stop(ctx context.Context) error
}

// DeadLetterSender sends one record a sink task cannot write to the
// connector's dead-letter topic (errors.deadletterqueue.topic.name), with
// the reason. The worker implements it: the message carries the record's
// original body when the worker still holds it (the converter's encoding of
// the event otherwise), the reason, and the record's topic, queue and
// offset in its properties. SendDeadLetter returns once the broker stored
// the message (or with the error that prevented it); it is called from the
// goroutine that calls Put and Flush.
type DeadLetterSender interface {
	SendDeadLetter(ctx context.Context, rec SinkRecord, reason error) error
}

// DeadLetterAware is optionally implemented by a SinkTask that skips records
// it cannot write under errors.tolerance=all. When the connector sets a
// dead-letter topic, the worker calls SetDeadLetterSender once, before
// Start. The task counts what it skips (binlake_dlq_records_total); the
// sender does not.
type DeadLetterAware interface {
	SetDeadLetterSender(DeadLetterSender)
}

// TransientError marks an error of a converter or a transform that comes
// from I/O rather than from the record (a schema registry that did not
// answer). The worker treats other conversion and transform errors as
// caused by the record: under errors.tolerance=none they fail the task
// (terminal, naming the record), under errors.tolerance=all the record is
// skipped. A transient error is retried instead, in both modes.
type TransientError struct{ Err error }

// Error returns the wrapped error's text.
func (e *TransientError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *TransientError) Unwrap() error { return e.Err }

// Transient marks err as transient. It returns nil for a nil err.
func Transient(err error) error {
	if err == nil {
		return nil
	}
	return &TransientError{Err: err}
}

// IsTransient reports whether err (or an error it wraps) is transient.
func IsTransient(err error) bool {
	var t *TransientError
	return errors.As(err, &t)
}
