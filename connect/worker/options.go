package worker

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/binlake/binlake/checkpoint"
	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/plugin"
	"github.com/binlake/binlake/connect/spec"
	"github.com/binlake/binlake/converter"
)

// ConverterFactory builds a converter from the connector config's keys under
// "value.converter." with that prefix removed (e.g. "schema.registry.url").
type ConverterFactory func(cfg connect.Config) (converter.Converter, error)

// Transform changes or drops events between a source task and the
// converter. Apply returns the events to send (possibly fewer, more or
// changed); it must not keep ctx.
type Transform interface {
	Apply(ctx context.Context, events []*connect.ChangeEvent) ([]*connect.ChangeEvent, error)
}

// EventTransform is optionally implemented by a Transform that can apply
// its chain to one event (nil: dropped), so that under
// errors.tolerance=all the worker skips only the events that fail.
type EventTransform interface {
	ApplyEvent(ctx context.Context, ev *connect.ChangeEvent) (*connect.ChangeEvent, error)
}

// TransformFactory builds the transform chain of a connector from its
// config (keys "transforms" and "transforms.<alias>.*"). It is the hook the
// transform issue fills; while it is nil a config with transforms is
// rejected.
type TransformFactory func(cfg connect.Config) (Transform, error)

// SchemaIDer is optionally implemented by a converter that can tell the
// registry schema id of a body it encoded (for the binlake.schema.id
// property). Without it the worker reads the Confluent wire format header
// when value.converter is avro.
type SchemaIDer interface {
	SchemaID(body []byte) (int32, bool)
}

// RetryPolicy bounds how a failing task or connector is retried.
type RetryPolicy struct {
	// Initial and Max bound the exponential backoff between attempts; the
	// delay doubles per attempt, with +-20% jitter.
	Initial, Max time.Duration
	// GiveUpAfter fails the task when errors persisted this long without a
	// healthy run in between.
	GiveUpAfter time.Duration
	// HealthyAfter is how long a run must last to reset the backoff.
	HealthyAfter time.Duration
}

// DefaultRetry is the retry policy when Options.Retry is zero.
var DefaultRetry = RetryPolicy{Initial: time.Second, Max: time.Minute, GiveUpAfter: 15 * time.Minute, HealthyAfter: time.Minute}

// Options configure a Worker.
type Options struct {
	// DataDir holds connector state and per-connector data directories.
	DataDir string
	// WorkerID names this worker in statuses (the REST address).
	WorkerID string
	// NamesrvAddr is passed to tasks in their TaskContext.
	NamesrvAddr string
	// Plugins is the plugin registry (plugin.Default when nil).
	Plugins *plugin.Registry
	// Checkpoints is the source checkpoint store given to tasks. The
	// worker does not close it.
	Checkpoints checkpoint.Store
	// NewProducer and NewReader build the broker clients of tasks.
	NewProducer ProducerFactory
	NewReader   ReaderFactory
	// Converters maps value.converter names to factories.
	Converters map[string]ConverterFactory
	// Transforms builds transform chains; nil rejects configs with transforms.
	Transforms TransformFactory
	// ValidateTransforms checks the transforms.* keys of a config (one
	// field error per bad key); nil skips that check.
	ValidateTransforms func(cfg connect.Config) []spec.FieldError
	// Logger receives the worker's logs (slog.Default when nil).
	Logger *slog.Logger
	// Retry is the retry policy (DefaultRetry when zero).
	Retry RetryPolicy
	// ShutdownTimeout bounds the soft phase of stopping a task: waiting
	// for pending acks and the last flush (30s when zero).
	ShutdownTimeout time.Duration
	// PullBatch is the maximum messages per sink pull (256 when zero).
	PullBatch int
	// IdleWait is how long a sink waits after a round of empty pulls
	// (200ms when zero).
	IdleWait time.Duration
}

func (o *Options) fill() {
	if o.Plugins == nil {
		o.Plugins = plugin.Default
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Retry == (RetryPolicy{}) {
		o.Retry = DefaultRetry
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = 30 * time.Second
	}
	if o.PullBatch <= 0 {
		o.PullBatch = 256
	}
	if o.IdleWait <= 0 {
		o.IdleWait = 200 * time.Millisecond
	}
}

// subConfig returns the keys of cfg under prefix with the prefix removed.
func subConfig(cfg connect.Config, prefix string) connect.Config {
	out := connect.Config{}
	for k, v := range cfg {
		if strings.HasPrefix(k, prefix) {
			out[strings.TrimPrefix(k, prefix)] = v
		}
	}
	return out
}
