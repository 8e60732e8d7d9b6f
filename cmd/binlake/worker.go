package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/binlake/binlake/api"
	"github.com/binlake/binlake/checkpoint"
	cpfile "github.com/binlake/binlake/checkpoint/file"
	cprocketmq "github.com/binlake/binlake/checkpoint/rocketmq"
	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/transform"
	"github.com/binlake/binlake/connect/worker"
	"github.com/binlake/binlake/converter"
	"github.com/binlake/binlake/converter/avro"
	convjson "github.com/binlake/binlake/converter/json"
	"github.com/binlake/binlake/internal/mq"
	"github.com/binlake/binlake/schema/registry"
	"github.com/binlake/binlake/schema/registry/embedded"
)

func runWorker(args []string, getenv func(string) string) int {
	cfg, err := parseWorkerFlags(args, getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "binlake worker:", err)
		return 2
	}
	log := newLogger(cfg)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, cfg, log); err != nil {
		log.Error("worker stopped with an error", "error", err)
		return 1
	}
	return 0
}

func newLogger(cfg *workerConfig) *slog.Logger {
	level, _ := parseLevel(cfg.logLevel)
	opts := &slog.HandlerOptions{Level: level}
	if cfg.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// openStore opens a checkpoint store of the configured kind: a directory
// under the data dir, or a RocketMQ compaction topic.
func openStore(ctx context.Context, cfg *workerConfig, dir, topic string) (checkpoint.Store, error) {
	if cfg.checkpointStore == storeRocketMQ {
		// The store's errors already name the topic ("opening checkpoint
		// topic <topic>: ..."): wrapping them again would say it twice.
		return cprocketmq.Open(ctx, cprocketmq.Config{NamesrvAddr: cfg.namesrv, Topic: topic})
	}
	s, err := cpfile.Open(filepath.Join(cfg.dataDir, dir))
	if err != nil {
		return nil, fmt.Errorf("opening checkpoint directory %s: %w", dir, err)
	}
	return s, nil
}

// handlerTransport serves HTTP requests in process: the worker's own
// converters reach the embedded registry without a socket (and without
// the REST token).
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, req)
	return rec.Result(), nil
}

// serve runs the worker and the REST server until ctx ends, then shuts
// both down: the REST server first, then the worker in two phases.
func serve(ctx context.Context, cfg *workerConfig, log *slog.Logger) error {
	if err := os.MkdirAll(cfg.dataDir, 0o750); err != nil {
		return fmt.Errorf("creating data directory: %w", err)
	}
	checkpoints, err := openStore(ctx, cfg, "checkpoints", cfg.checkpointTopic)
	if err != nil {
		return err
	}
	defer checkpoints.Close() //nolint:errcheck // closing at exit
	schemaStore, err := openStore(ctx, cfg, "schemas", cfg.schemaTopic)
	if err != nil {
		return err
	}
	defer schemaStore.Close() //nolint:errcheck // closing at exit

	reg := embedded.New(schemaStore)
	regClient, err := registry.NewClient("http://binlake.internal/schema-registry",
		registry.WithHTTPClient(&http.Client{Transport: handlerTransport{http.StripPrefix("/schema-registry", reg)}}))
	if err != nil {
		return fmt.Errorf("creating embedded registry client: %w", err)
	}
	w, err := worker.New(worker.Options{
		DataDir:     cfg.dataDir,
		WorkerID:    cfg.restAddr,
		NamesrvAddr: cfg.namesrv,
		Checkpoints: checkpoints,
		NewProducer: func(group string) (worker.Producer, error) {
			return mq.NewProducer(mq.ProducerConfig{NamesrvAddr: cfg.namesrv, Group: group, MaxInFlightBytes: cfg.maxInFlight})
		},
		NewReader: func(group string) (worker.Reader, error) {
			return mq.NewReader(mq.ReaderConfig{NamesrvAddr: cfg.namesrv, Group: group})
		},
		Converters: map[string]worker.ConverterFactory{
			"avro": avro.Factory(regClient),
			"json": func(connect.Config) (converter.Converter, error) { return convjson.New(), nil },
		},
		Transforms: func(c connect.Config) (worker.Transform, error) {
			chain, err := transform.New(c)
			if err != nil {
				return nil, err
			}
			return chain, nil
		},
		ValidateTransforms: transform.Validate,
		Logger:             log,
		ShutdownTimeout:    cfg.shutdownTimeout,
	})
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler: api.New(api.Options{Worker: w, Token: cfg.restToken, PublicMetrics: cfg.metricsPublic, SchemaRegistry: reg,
			Logger: log, Version: version, Pprof: cfg.pprof}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	ln, err := net.Listen("tcp", cfg.restAddr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", cfg.restAddr, err)
	}
	httpErr := make(chan error, 1)
	go func() { httpErr <- srv.Serve(ln) }()
	log.Info("binlake worker listening", "addr", ln.Addr().String(), "data_dir", cfg.dataDir, "namesrv", cfg.namesrv,
		"checkpoint_store", cfg.checkpointStore, "auth", cfg.restToken != "", "metrics_public", cfg.metricsPublic || cfg.restToken == "",
		"version", version)

	if err := w.Start(ctx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("starting worker: %w", err)
	}
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-httpErr:
		log.Error("REST server stopped", "error", err)
	}
	hctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(hctx); err != nil {
		log.Warn("shutting down the REST server", "error", err)
	}
	wctx, wcancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout+10*time.Second)
	defer wcancel()
	if err := w.Shutdown(wctx); err != nil {
		return err
	}
	log.Info("worker stopped")
	return nil
}
