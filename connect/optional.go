package connect

import "context"

// Optional interfaces a connector or task may implement. The worker checks
// for them with type assertions; a plugin that does not implement one gets a
// clear 400/409 from the REST API instead.

// Snapshotter is implemented by a source task (or source connector) that can
// run an ad-hoc, lock-free (re-)snapshot of the listed tables ("db.table")
// while streaming continues. Snapshot starts the work and returns; progress
// shows in the task's status. It is called from a REST handler goroutine,
// concurrently with Poll.
type Snapshotter interface {
	Snapshot(ctx context.Context, tables []string) error
}

// OffsetReporter is implemented by a task (typically a sink task) that can
// report its committed positions, e.g. per table the queue offsets and
// sequences of its last lake commit. The result must marshal to JSON. It is
// called from a REST handler goroutine, concurrently with the task's loop.
type OffsetReporter interface {
	Offsets(ctx context.Context) (map[string]any, error)
}
