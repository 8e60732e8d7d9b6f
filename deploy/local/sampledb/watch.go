package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// snapshotRe matches the mysql-source snapshot progress text, e.g.
// "snapshot: 1/4 tables done, at shop.orders, 340000 rows (~34%), 52000 rows/s".
var snapshotRe = regexp.MustCompile(`^snapshot: (\d+)/(\d+) tables done, at (\S+), (\d+) rows(?: \(~(\d+)%\))?, (\d+) rows/s`)

// snapshotProgress is the parsed source progress text.
type snapshotProgress struct {
	done               bool
	tables, tablesDone int
	table              string
	rows               int64
	pct                int // -1 when unknown
	rowsPerSec         int64
	totalRows          int64 // rows of the finished snapshot; 0 when unknown
}

// doneRe matches the text of a finished snapshot, e.g.
// "snapshot done: 4 tables, 1000000 rows (80000 rows/s); streaming".
var doneRe = regexp.MustCompile(`^snapshot done: \d+ tables, (\d+) rows`)

// parseDetail parses the source task's status detail; ok is false for a
// text it does not know.
func parseDetail(d string) (snapshotProgress, bool) {
	if strings.HasPrefix(d, "snapshot done") {
		p := snapshotProgress{done: true, pct: 100}
		if m := doneRe.FindStringSubmatch(d); m != nil {
			p.totalRows, _ = strconv.ParseInt(m[1], 10, 64)
			p.rows = p.totalRows
		}
		return p, true
	}
	m := snapshotRe.FindStringSubmatch(d)
	if m == nil {
		return snapshotProgress{pct: -1}, false
	}
	p := snapshotProgress{table: m[3], pct: -1}
	p.tablesDone, _ = strconv.Atoi(m[1])
	p.tables, _ = strconv.Atoi(m[2])
	p.rows, _ = strconv.ParseInt(m[4], 10, 64)
	if m[5] != "" {
		p.pct, _ = strconv.Atoi(m[5])
	}
	p.rowsPerSec, _ = strconv.ParseInt(m[6], 10, 64)
	return p, true
}

func runWatch(ctx context.Context, args []string) error {
	var c common
	fs := flag.NewFlagSet("sampledb watch", flag.ContinueOnError)
	c.register(fs)
	source := fs.String("source", "mysql-source", "the source connector")
	sink := fs.String("sink", "lake-sink", "the sink connector")
	every := fs.Duration("every", 2*time.Second, "pause between progress lines")
	timeout := fs.Duration("timeout", time.Hour, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	p := newProber(c.rest)
	start := time.Now()
	var prev sample
	quiet := 0
	for {
		src, err := p.status(ctx, *source)
		if err != nil {
			return err
		}
		snk, err := p.status(ctx, *sink)
		if err != nil {
			return err
		}
		for _, s := range []*connectorStatus{src, snk} {
			if tr := s.failed(); tr != "" {
				return fmt.Errorf("%s\n(the worker log has the details; fix the cause, then `curl -XPOST %s/connectors/%s/restart`)", firstLines(tr, 8), c.rest, s.Name)
			}
		}
		cur, err := p.metrics(ctx, *source, *sink)
		if err != nil {
			return err
		}
		prog, known := parseDetail(src.detail())
		var left string
		switch {
		case prog.done && prog.totalRows > 0:
			left = fmt.Sprintf("snapshot done (%s rows), streaming", thousands(prog.totalRows))
		case prog.done:
			left = "snapshot done, streaming"
		case known && prog.pct >= 0:
			left = fmt.Sprintf("snapshot %3d%% %s rows (%s rows/s, table %d/%d %s)", prog.pct, thousands(prog.rows), thousands(prog.rowsPerSec), prog.tablesDone+1, prog.tables, prog.table)
		case known:
			left = fmt.Sprintf("snapshot %s rows (%s rows/s, table %d/%d %s)", thousands(prog.rows), thousands(prog.rowsPerSec), prog.tablesDone+1, prog.tables, prog.table)
		case src.detail() != "":
			left = "source: " + src.detail()
		default:
			left = "source " + src.state()
			if tr := src.trace(); tr != "" {
				left += " (" + tr + ")"
			}
		}
		if d := snk.detail(); d != "" {
			left += " | sink: " + d
		}
		lake := thousands(int64(cur.sinkRecords)) + " rows committed"
		if prog.rows > 0 {
			lake += fmt.Sprintf(" (%.0f%% of the rows read)", 100*min(cur.sinkSnapshot/float64(prog.rows), 1))
		}
		fmt.Printf("[%s] %s | lake: %s, %s rows/s, %s commits | source lag %s\n", since(start), left,
			lake, thousands(int64(rate(prev, cur, func(s sample) float64 { return s.sinkRecords }))),
			thousands(int64(cur.sinkCommits)), lagText(cur.lag))
		// The snapshot is over (or was before this worker started: then the
		// task has no progress text) and the lake committed its rows.
		streaming := prog.done || (src.detail() == "" && src.state() == "RUNNING")
		if streaming && cur.sinkRecords == prev.sinkRecords && cur.sourceEvents == prev.sourceEvents {
			quiet++
		} else {
			quiet = 0
		}
		switch {
		case prog.done && prog.totalRows > 0 && int64(cur.sinkSnapshot) >= prog.totalRows && quiet >= 1:
			fmt.Printf("caught up after %.0fs: the lake committed all %s snapshot rows and the changes since (%s)\n",
				time.Since(start).Seconds(), thousands(prog.totalRows), src.detail())
			return nil
		case !prog.done && quiet >= 3:
			fmt.Printf("caught up: the snapshot finished before this worker started, and the lake committed nothing new for %s\n", 3**every)
			return nil
		case quiet >= 10:
			fmt.Printf("the lake committed nothing new for %s: carrying on (binlake verify compares MySQL with the lake at the end)\n", 10**every)
			return nil
		}
		prev = cur
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("the lake did not catch up within %s: look at the worker log and `curl -s %s/connectors?expand=status`", *timeout, c.rest)
			}
			return ctx.Err()
		case <-time.After(*every):
		}
	}
}

// firstLines returns at most n lines of s.
func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = append(lines[:n], "...")
	}
	return strings.Join(lines, "\n")
}
