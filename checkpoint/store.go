// Package checkpoint holds binlake's durable key-value stores: a last-write-
// wins map used for source checkpoints (key = connector/task) and for the
// embedded schema registry. Implementations: file (development) and a RocketMQ
// compaction topic.
package checkpoint

import (
	"context"
	"errors"
)

// ErrClosed is returned by a store used after Close.
var ErrClosed = errors.New("checkpoint store is closed")

// Store is a durable map of string keys to byte values, last write wins. A
// successful Put is durable (fsynced, or acknowledged by the broker) before it
// returns. Safe for concurrent use.
type Store interface {
	// Get returns the value of key, or found=false.
	Get(ctx context.Context, key string) (value []byte, found bool, err error)
	// Put stores value under key.
	Put(ctx context.Context, key string, value []byte) error
	// Delete removes key (a tombstone in log-structured stores).
	Delete(ctx context.Context, key string) error
	// List returns every key with the given prefix and its value.
	List(ctx context.Context, prefix string) (map[string][]byte, error)
	// Close releases resources; it is idempotent.
	Close() error
}
