package worker_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/spec"
	"github.com/binlake/binlake/connect/testplugin"
	"github.com/binlake/binlake/connect/worker"
)

// nopProducer acknowledges every message at once, so the benchmark measures
// the runtime's own cost per event (poll, route, key, properties, convert,
// ack bookkeeping) and the test source's.
type nopProducer struct{}

func (p *nopProducer) Start(context.Context) error { return nil }
func (p *nopProducer) Send(_ context.Context, _ *worker.Message, done func(error)) error {
	done(nil)
	return nil
}
func (p *nopProducer) Flush(context.Context) error { return nil }
func (p *nopProducer) Close() error                { return nil }

// BenchmarkSourcePath runs b.N events through a source task, the runtime
// and a producer that acknowledges at once; it reports events/s.
func BenchmarkSourcePath(b *testing.B) {
	store := testplugin.NewMemStore()
	opts := testplugin.WorkerOptions(b.TempDir(), testplugin.NewBroker(1), store)
	opts.NewProducer = func(string) (worker.Producer, error) { return &nopProducer{}, nil }
	w, err := worker.New(opts)
	if err != nil {
		b.Fatal(err)
	}
	if err := w.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = w.Shutdown(ctx)
	}()
	name := "bench-" + strconv.Itoa(b.N) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	b.ResetTimer()
	began := time.Now()
	err = w.Create(name, connect.Config{spec.ConnectorClass: testplugin.SourceName, spec.ValueConverter: "json",
		testplugin.KeyEvents: strconv.Itoa(b.N), testplugin.KeyBatch: "2048"})
	if err != nil {
		b.Fatal(err)
	}
	for testplugin.Acked(name) < uint64(b.N) {
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(began).Seconds(), "events/s")
}
