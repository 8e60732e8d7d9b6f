package iceberg_test

import (
	"context"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/sink/lake"
)

// Benchmark setup: local file warehouse and the embedded SQLite catalog in
// a temp dir, the 12-column items table (long key, string, int, decimal,
// timestamptz, date, bytes, bool, double, timestamp, time, float), 100,000
// events per commit cycle (Put + Flush), zstd Parquet. Each b.N iteration is
// one cycle; records are generated before the timer starts. Figures:
// rows/s (events per second through the sink, wall clock), rows/cpu-s
// (events per CPU-second of the whole process, robust on a shared
// machine) and ms/commit (one Flush: data + delete files written and
// committed).

const benchCycle = 100_000

func benchSink(b *testing.B, mode lake.Mode, keys int, updates bool) {
	dir := b.TempDir()
	task, _ := startTask(b, dir, taskConfig(dir, map[string]string{lake.KeyWriteMode: string(mode), lake.KeyFlushMaxRows: "10000000", lake.KeyFlushMaxBytes: "4000000000", lake.KeyBufferMaxBytes: "4000000000", lake.KeyBufferMaxRows: "10000000"}))
	feed := newFeed(99, itemsTable(1), 4)
	if updates {
		// create the keys first so that the measured cycles update them
		for id := 0; id < keys; id += benchCycle {
			var recs []connect.SinkRecord
			for k := id; k < min(id+benchCycle, keys); k++ {
				row := randomRow(feed.r, int64(k))
				recs = append(recs, feed.emit(connect.OpCreate, nil, row))
				feed.model[strconv.Itoa(k)] = row
			}
			mustPut(b, task, recs)
			mustFlush(b, task)
		}
		feed.log = nil
	}
	cycles := make([][]connect.SinkRecord, b.N)
	for i := range cycles {
		if updates {
			cycles[i] = feed.next(benchCycle, keys)
		} else {
			cycles[i] = feed.nextInserts(benchCycle)
		}
	}
	ctx := context.Background()
	var commit time.Duration
	b.ResetTimer()
	cpu0 := cpuTime()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if err := task.Put(ctx, cycles[i]); err != nil {
			b.Fatal(err)
		}
		c := time.Now()
		if err := task.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		commit += time.Since(c)
	}
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	b.StopTimer()
	b.ReportMetric(float64(b.N*benchCycle)/elapsed.Seconds(), "rows/s")
	b.ReportMetric(float64(b.N*benchCycle)/cpu.Seconds(), "rows/cpu-s")
	b.ReportMetric(float64(commit.Milliseconds())/float64(b.N), "ms/commit")
}

// cpuTime is the process's user+system CPU time: on a shared machine it
// measures the sink's cost where wall time measures the neighbours' load.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// nextInserts returns n creates of new keys (a snapshot or insert load).
func (f *feed) nextInserts(n int) []connect.SinkRecord {
	out := make([]connect.SinkRecord, 0, n)
	base := int64(len(f.log)) + 1_000_000_000
	for i := 0; i < n; i++ {
		row := randomRow(f.r, base+int64(i))
		out = append(out, f.emit(connect.OpCreate, nil, row))
		f.model[strconv.FormatInt(base+int64(i), 10)] = row
	}
	return out
}

// BenchmarkSinkUpsertInserts: upsert mode, every event a new key (each key
// still gets an equality delete, as the sink cannot know it is new).
func BenchmarkSinkUpsertInserts(b *testing.B) { benchSink(b, lake.ModeUpsert, 0, false) }

// BenchmarkSinkUpsertUpdates: upsert mode, random updates/deletes/re-inserts
// over 200,000 existing keys.
func BenchmarkSinkUpsertUpdates(b *testing.B) { benchSink(b, lake.ModeUpsert, 200_000, true) }

// BenchmarkSinkAppend: append (changelog) mode.
func BenchmarkSinkAppend(b *testing.B) { benchSink(b, lake.ModeAppend, 0, false) }
