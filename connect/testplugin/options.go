package testplugin

import (
	"io"
	"log/slog"
	"time"

	"github.com/binlake/binlake/checkpoint"
	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/worker"
	"github.com/binlake/binlake/converter"
)

// WorkerOptions returns worker options wired to b and cp with fast retries,
// quiet logs and the test converter registered as "json" and "avro".
func WorkerOptions(dataDir string, b *Broker, cp checkpoint.Store) worker.Options {
	conv := func(connect.Config) (converter.Converter, error) { return Converter{}, nil }
	return worker.Options{
		DataDir: dataDir, WorkerID: "test-worker", Checkpoints: cp,
		NewProducer: b.NewProducer, NewReader: b.NewReader,
		Converters: map[string]worker.ConverterFactory{"json": conv, "avro": conv},
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		Retry: worker.RetryPolicy{Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond,
			GiveUpAfter: time.Minute, HealthyAfter: time.Minute},
		ShutdownTimeout: 2 * time.Second,
		IdleWait:        5 * time.Millisecond,
	}
}
