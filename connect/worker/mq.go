package worker

import (
	"context"

	"github.com/binlake/binlake/connect"
)

// Message is one message to send. It mirrors internal/mq.Message field for
// field so an adapter is a plain copy.
type Message struct {
	Topic, Key, Tag string
	Body            []byte
	Props           map[string]string
}

// ReadMessage is one consumed message. It mirrors internal/mq.ReadMessage.
type ReadMessage struct {
	Queue  connect.QueueID
	Offset int64
	Key    string
	Tag    string
	Body   []byte
	Props  map[string]string
	BornMs int64
}

// Producer sends messages to RocketMQ; *mq.Producer satisfies it through an
// adapter. Send may block when the producer's in-flight bytes are at their
// limit (backpressure); done is called once per message, from any
// goroutine, with nil when the broker stored it.
type Producer interface {
	Start(ctx context.Context) error
	Send(ctx context.Context, m *Message, done func(error)) error
	// Flush waits until every message sent so far got its done call.
	Flush(ctx context.Context) error
	Close() error
}

// Reader pulls messages from the queues of a topic and manages the
// consumer group's committed offsets; *mq.Reader satisfies it through an
// adapter.
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
