package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
)

// workerConfig is the worker command's configuration.
type workerConfig struct {
	restAddr        string
	dataDir         string
	namesrv         string
	restToken       string
	metricsPublic   bool
	pprof           bool
	checkpointStore string
	checkpointTopic string
	schemaTopic     string
	logLevel        string
	logFormat       string
	shutdownTimeout time.Duration
	maxInFlight     int64
}

// Checkpoint store kinds.
const (
	storeFile     = "file"
	storeRocketMQ = "rocketmq"
)

// envName is the environment variable of a flag: BINLAKE_ + the flag name
// upper-cased with '.' and '-' turned into '_' (rest.addr -> BINLAKE_REST_ADDR).
func envName(flagName string) string {
	return "BINLAKE_" + strings.NewReplacer(".", "_", "-", "_").Replace(strings.ToUpper(flagName))
}

// parseWorkerFlags parses args; every flag can also be set through its
// environment variable (the flag wins).
func parseWorkerFlags(args []string, getenv func(string) string, out io.Writer) (*workerConfig, error) {
	c := &workerConfig{}
	fs := flag.NewFlagSet("binlake worker", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.restAddr, "rest.addr", "127.0.0.1:8082", "address of the REST API")
	fs.StringVar(&c.dataDir, "data.dir", "./binlake-data", "directory for connector state, checkpoints (file store) and connector data")
	fs.StringVar(&c.namesrv, "rocketmq.namesrv", "127.0.0.1:9876", "RocketMQ name server address(es), ';'-separated")
	fs.StringVar(&c.restToken, "rest.token", "", "bearer token required by the REST API (empty: no auth)")
	fs.BoolVar(&c.metricsPublic, "rest.metrics.public", true, "serve /metrics without the bearer token (for Prometheus pod-annotation scraping)")
	fs.BoolVar(&c.pprof, "debug.pprof", false, "serve Go runtime profiles under /debug/pprof/ (behind rest.token), e.g. go tool pprof http://ADDR/debug/pprof/profile?seconds=30")
	fs.StringVar(&c.checkpointStore, "checkpoint.store", storeFile, "checkpoint store: file (under data.dir) or rocketmq (a compaction topic)")
	fs.StringVar(&c.checkpointTopic, "checkpoint.topic", "binlake-checkpoints", "compaction topic of the rocketmq checkpoint store")
	fs.StringVar(&c.schemaTopic, "schema.topic", "binlake-schemas", "compaction topic of the embedded schema registry with the rocketmq store")
	fs.StringVar(&c.logLevel, "log.level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&c.logFormat, "log.format", "text", "log format: text or json")
	fs.DurationVar(&c.shutdownTimeout, "shutdown.timeout", 30*time.Second, "how long a stopping task may take to flush and receive acks before it is stopped hard")
	fs.Int64Var(&c.maxInFlight, "producer.max-inflight-bytes", 64<<20, "bytes a source task may have sent and not yet acknowledged")
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if v := getenv(envName(f.Name)); v != "" {
			if err := f.Value.Set(v); err != nil && envErr == nil {
				envErr = fmt.Errorf("parsing %s=%q: %w", envName(f.Name), v, err)
			}
		}
	})
	if envErr != nil {
		return nil, envErr
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	switch c.checkpointStore {
	case storeFile, storeRocketMQ:
	default:
		return nil, fmt.Errorf("--checkpoint.store=%q: use file or rocketmq", c.checkpointStore)
	}
	if c.dataDir == "" {
		return nil, fmt.Errorf("--data.dir is empty")
	}
	if _, err := parseLevel(c.logLevel); err != nil {
		return nil, err
	}
	if c.logFormat != "text" && c.logFormat != "json" {
		return nil, fmt.Errorf("--log.format=%q: use text or json", c.logFormat)
	}
	if c.shutdownTimeout <= 0 || c.maxInFlight <= 0 {
		return nil, fmt.Errorf("--shutdown.timeout and --producer.max-inflight-bytes must be positive")
	}
	return c, nil
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("--log.level=%q: use debug, info, warn or error", s)
	}
	return l, nil
}
