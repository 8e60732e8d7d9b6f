package benchtable

import "regexp"

// Benchmarks and the packages that hold them.
const (
	pkgIntegration = "/integration"
	pkgSource      = "/source/mysql"
	pkgIceberg     = "/sink/lake/iceberg"

	benchBroker    = "BenchmarkStreamingToRocketMQ"
	benchMigration = "BenchmarkMigration"
)

// Figures are the rows `make bench` prints, in order: the figures of ARCHITECTURE.md section 4 first, then the
// component figures that explain them.
var Figures = []Figure{
	{
		Name: "binlog read ceiling (bare BinlogSyncer, no output)", Pkg: pkgIntegration, Bench: benchBroker,
		Unit: "ceiling_rows/s", Show: WithUnit("rows/s"),
		Target:   "reference: ~248k rows/s on an idle box",
		SetupKey: benchBroker + " ceiling",
	},
	{
		Name: "streaming MySQL -> RocketMQ, 5-row transactions", Pkg: pkgIntegration, Bench: benchBroker,
		Unit: "events/s", Show: WithUnit("events/s"),
		Target:   ">= 125k events/s",
		SetupKey: benchBroker + " streaming",
	},
	{
		Name: "streaming / ceiling", Pkg: pkgIntegration, Bench: benchBroker,
		Unit: "events/s", Divide: "ceiling_rows/s", Show: Fixed(2, ""),
		Target: ">= 0.50 (125k of 248k)",
		Setup:  "the two rows above, same binlog",
	},
	{
		Name: "streaming, per worker CPU-second", Pkg: pkgIntegration, Bench: benchBroker,
		Unit: "events/worker-cpu-s", Show: WithUnit("events/CPU-s"),
		Target: "steadier than wall clock on a shared box",
		Setup:  "events acknowledged over the worker process's CPU time (process_cpu_seconds_total) in the same window; MySQL and RocketMQ not counted",
	},
	{
		Name: "snapshot -> RocketMQ (during the migration)", Pkg: pkgIntegration, Bench: benchMigration,
		Unit: "snapshot_mq_rows/s", Show: WithUnit("rows/s"),
		Target:   ">= 100k rows/s",
		SetupKey: benchMigration + " snapshot",
	},
	{
		Name: "migration MySQL -> Iceberg, end to end", Pkg: pkgIntegration, Bench: benchMigration,
		Unit: "rows/s", Show: WithUnit("rows/s"),
		Target:   ">= 100k rows/s",
		SetupKey: benchMigration + " migration",
	},
	{
		Name: "migration, per worker CPU-second", Pkg: pkgIntegration, Bench: benchMigration,
		Unit: "rows/worker-cpu-s", Show: WithUnit("rows/CPU-s"),
		Target:   "steadier than wall clock on a shared box",
		SetupKey: benchMigration + " cpu",
	},
	{
		Name: "lake commit duration during the migration (mean)", Pkg: pkgIntegration, Bench: benchMigration,
		Unit: "ms/commit", Show: Fixed(0, "ms"),
		Target: "component figure",
		Setup:  "binlake_sink_commit_seconds sum / binlake_sink_commits_total of the migration's sink",
	},
	{
		Name: "freshness p50 (source commit -> lake commit)", Pkg: pkgIntegration, Bench: benchMigration,
		Unit: "fresh_p50_s", Show: Fixed(2, "s"),
		Target:   "-",
		SetupKey: benchMigration + " freshness",
	},
	{
		Name: "freshness p99 (source commit -> lake commit)", Pkg: pkgIntegration, Bench: benchMigration,
		Unit: "fresh_p99_s", Show: Fixed(2, "s"),
		Target:   "<= commit interval + 1 s at 10k events/s",
		SetupKey: benchMigration + " freshness",
	},
	{
		Name: "load sustained during the freshness window", Pkg: pkgIntegration, Bench: benchMigration,
		Unit: "writer_events/s", Show: WithUnit("events/s"),
		Target:   "the requested rate",
		SetupKey: benchMigration + " writer",
	},
	{
		Name: "peak RSS of the worker (VmHWM)", Pkg: pkgIntegration, Bench: benchMigration,
		Unit: "peak_rss_MiB", Show: Fixed(0, "MiB"),
		Target:   "<= 256 MiB, flat (10M-row migration)",
		SetupKey: benchMigration + " rss",
	},
	{
		Name: "source task, no broker (events acked at once)", Pkg: pkgSource, Bench: "BenchmarkStreaming/mysql",
		Unit: "events/s", Show: WithUnit("events/s"),
		Target:        "component figure",
		Setup:         "source/mysql BenchmarkStreaming, MySQL 8 container, max.batch.size 4096",
		SetupLine:     regexp.MustCompile(`^streaming mysql: (\d+) events in 5-row transactions`),
		SetupTemplate: "$1 events in 5-row transactions",
	},
	{
		Name: "its ceiling (bare BinlogSyncer)", Pkg: pkgSource, Bench: "BenchmarkStreaming/mysql",
		Unit: "ceiling_rows/s", Show: WithUnit("rows/s"),
		Target: "component figure",
		Setup:  "mean of a read right before and right after the task's run",
	},
	{
		Name: "snapshot, no broker", Pkg: pkgSource, Bench: "BenchmarkSnapshot/mysql",
		Unit: "rows/s", Show: WithUnit("rows/s"),
		Target:        "component figure (>= 100k rows/s into RocketMQ)",
		Setup:         "source/mysql BenchmarkSnapshot, MySQL 8 container, 6-column table, rows acked at once",
		SetupLine:     regexp.MustCompile(`^snapshot mysql: (\d+) rows, parallelism (\d+)`),
		SetupTemplate: "$1 rows, snapshot.parallelism $2",
	},
	{
		Name: "Iceberg sink alone, upsert, new keys", Pkg: pkgIceberg, Bench: "BenchmarkSinkUpsertInserts",
		Unit: "rows/s", Show: WithUnit("rows/s"),
		Target: "component figure (zstd Parquet ~1M rows/s on 2 cores)",
		Setup:  "sink/lake/iceberg, 12 columns, 100k events per commit, local warehouse, SQLite catalog",
	},
	{
		Name: "Iceberg sink alone, upsert, updates over 200k keys", Pkg: pkgIceberg, Bench: "BenchmarkSinkUpsertUpdates",
		Unit: "rows/s", Show: WithUnit("rows/s"),
		Target: "component figure",
		Setup:  "as above, every event an update of an existing key",
	},
	{
		Name: "Iceberg sink alone, append", Pkg: pkgIceberg, Bench: "BenchmarkSinkAppend",
		Unit: "rows/s", Show: WithUnit("rows/s"),
		Target: "component figure",
		Setup:  "as above, changelog mode",
	},
}
