// Package metrics defines binlake's Prometheus metrics (ARCHITECTURE.md 3.9)
// in one place, registered on one registry that /metrics serves. Labels come
// only from bounded sets: connector, task, table, op.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Registry is the registry /metrics serves.
var Registry = prometheus.NewRegistry()

var (
	// SourceEvents counts change events read by sources. The source
	// connector writes it (it knows table and op); the worker does not.
	SourceEvents = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "binlake_source_events_total", Help: "Change events read from the source, by table and op.",
	}, []string{"connector", "task", "table", "op"})
	// SourceLag is the age of the last event read (now minus its commit
	// time), set by the source connector only.
	SourceLag = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "binlake_source_lag_seconds", Help: "Seconds between the source commit of the last event read and now.",
	}, []string{"connector", "task"})
	// SourceSnapshotRows counts rows read by snapshots.
	SourceSnapshotRows = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "binlake_source_snapshot_rows_total", Help: "Rows read by snapshots, by table.",
	}, []string{"connector", "task", "table"})
	// ProducerSend observes the latency of broker sends.
	ProducerSend = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "binlake_producer_send_seconds", Help: "Latency of RocketMQ sends, from send to acknowledgement.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
	}, []string{"connector", "task"})
	// SinkRecords counts records written by sinks, after their dedupe. The
	// sink connector writes it; the worker does not.
	SinkRecords = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "binlake_sink_records_total", Help: "Records committed to the lake, by table and op.",
	}, []string{"connector", "task", "table", "op"})
	// SinkCommit observes lake commit latency.
	SinkCommit = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "binlake_sink_commit_seconds", Help: "Duration of a lake commit (files written and table committed).",
		Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
	}, []string{"connector", "task", "table"})
	// SinkCommits counts lake commits.
	SinkCommits = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "binlake_sink_commits_total", Help: "Lake commits, by table.",
	}, []string{"connector", "task", "table"})
	// SinkFreshness observes lake commit time minus source commit time.
	SinkFreshness = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "binlake_sink_freshness_seconds", Help: "Lake commit time minus the source commit time, per committed row.",
		Buckets: prometheus.ExponentialBuckets(0.05, 2, 14),
	}, []string{"connector", "task", "table"})
	// TaskErrors counts task errors (retried or terminal).
	TaskErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "binlake_task_errors_total", Help: "Errors that stopped a task run (retried or terminal).",
	}, []string{"connector", "task"})
	// DLQRecords counts records skipped under errors.tolerance=all, whether
	// or not a dead-letter topic is set.
	DLQRecords = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "binlake_dlq_records_total", Help: "Records skipped under errors.tolerance=all (and sent to the dead-letter topic when one is set).",
	}, []string{"connector", "task"})
	// TaskState is 1 for a task's current state and 0 for the others.
	TaskState = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "binlake_task_state", Help: "1 for the task's current state (UNASSIGNED, RUNNING, PAUSED, STOPPED, FAILED, RESTARTING), else 0.",
	}, []string{"connector", "task", "state"})
)

func init() {
	Registry.MustRegister(SourceEvents, SourceLag, SourceSnapshotRows, ProducerSend, SinkRecords, SinkCommit,
		SinkCommits, SinkFreshness, TaskErrors, DLQRecords, TaskState,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
}
