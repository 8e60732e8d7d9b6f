package worker

import (
	"context"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/internal/mq"
)

// Message is one message to send (internal/mq's type).
type Message = mq.Message

// ReadMessage is one consumed message (internal/mq's type).
type ReadMessage = mq.ReadMessage

// Producer sends messages to RocketMQ; *mq.Producer satisfies it. Send may
// block while the producer's in-flight bytes are at their limit
// (backpressure). When Send returns nil, done is called exactly once, from a
// producer goroutine, with nil when the broker stored the message; when Send
// returns an error, done is not called.
type Producer interface {
	Start(ctx context.Context) error
	Send(ctx context.Context, m *Message, done func(error)) error
	// Flush waits until every message sent so far got its done call.
	Flush(ctx context.Context) error
	Close() error
}

// Reader pulls messages from the queues of a topic and manages the
// consumer group's committed offsets; *mq.Reader satisfies it.
type Reader interface {
	Start(ctx context.Context) error
	Queues(ctx context.Context, topic string) ([]connect.QueueID, error)
	// Pull returns up to max messages from offset and the next offset.
	Pull(ctx context.Context, q connect.QueueID, offset int64, max int) ([]*ReadMessage, int64, error)
	MaxOffset(ctx context.Context, q connect.QueueID) (int64, error)
	// CommittedOffset returns the group's committed offset, or a negative
	// value when there is none.
	CommittedOffset(ctx context.Context, q connect.QueueID) (int64, error)
	CommitOffset(ctx context.Context, q connect.QueueID, offset int64) error
	Close() error
}

// ProducerFactory makes a producer for a producer group.
type ProducerFactory func(group string) (Producer, error)

// ReaderFactory makes a reader for a consumer group.
type ReaderFactory func(group string) (Reader, error)

// GroupName returns the RocketMQ producer/consumer group of a connector.
func GroupName(connector string) string { return connect.SanitizeTopic("binlake-" + connector) }

var (
	_ Producer = (*mq.Producer)(nil)
	_ Reader   = (*mq.Reader)(nil)
)
