// Package converter turns ChangeEvents into message bodies and back. The
// subpackages avro (the default: Confluent wire format with a schema registry)
// and json (a Debezium-style JSON envelope) implement Converter.
package converter

import (
	"context"

	"github.com/binlake/binlake/connect"
)

// Converter encodes and decodes the value of a change message (the
// Debezium-style envelope {before, after, source, op, ts_ms, transaction}).
// The message key is connect.MessageKey's text and needs no converter.
// Implementations are safe for concurrent use and cache per-schema work.
type Converter interface {
	// Encode returns the message body for ev, to be sent to topic.
	Encode(ctx context.Context, topic string, ev *connect.ChangeEvent) ([]byte, error)
	// Decode parses a message body read from topic back into an event whose
	// Schema is the writer's table schema.
	Decode(ctx context.Context, topic string, body []byte) (*connect.ChangeEvent, error)
}
