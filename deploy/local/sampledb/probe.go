package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// taskStatus is one task of GET /connectors/{name}/status.
type taskStatus struct {
	ID     int    `json:"id"`
	State  string `json:"state"`
	Trace  string `json:"trace"`
	Detail string `json:"detail"`
}

// connectorStatus is the answer of GET /connectors/{name}/status.
type connectorStatus struct {
	Name      string `json:"name"`
	Connector struct {
		State string `json:"state"`
		Trace string `json:"trace"`
	} `json:"connector"`
	Tasks []taskStatus `json:"tasks"`
}

// failed returns the trace of a FAILED connector or task, or "".
func (s *connectorStatus) failed() string {
	if s.Connector.State == "FAILED" {
		return "connector " + s.Name + ": " + s.Connector.Trace
	}
	for _, t := range s.Tasks {
		if t.State == "FAILED" {
			return fmt.Sprintf("task %s-%d: %s", s.Name, t.ID, t.Trace)
		}
	}
	return ""
}

// detail returns the first task's progress text.
func (s *connectorStatus) detail() string {
	for _, t := range s.Tasks {
		if t.Detail != "" {
			return t.Detail
		}
	}
	return ""
}

// trace returns the first line of the first task's trace (the reason of
// a RESTARTING or FAILED state), at most 120 characters.
func (s *connectorStatus) trace() string {
	for _, t := range s.Tasks {
		if t.Trace != "" {
			line, _, _ := strings.Cut(t.Trace, "\n")
			if len(line) > 120 {
				line = line[:117] + "..."
			}
			return line
		}
	}
	return ""
}

// state returns the first task's state (or the connector's, when it has
// no task yet).
func (s *connectorStatus) state() string {
	if len(s.Tasks) > 0 {
		return s.Tasks[0].State
	}
	return s.Connector.State
}

// prober reads a worker's status and metrics.
type prober struct {
	base   string
	client *http.Client
}

func newProber(base string) *prober {
	return &prober{base: strings.TrimSuffix(base, "/"), client: &http.Client{Timeout: 10 * time.Second}}
}

func (p *prober) get(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+path, nil)
	if err != nil {
		return nil, fmt.Errorf("building request for %s: %w", path, err)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("requesting %s%s (is the worker running? see its log): %w", p.base, path, err)
	}
	defer resp.Body.Close() //nolint:errcheck // read fully below
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", path, resp.Status, strings.TrimSpace(string(body)))
	}
	return body, nil
}

// status returns a connector's status.
func (p *prober) status(ctx context.Context, name string) (*connectorStatus, error) {
	b, err := p.get(ctx, "/connectors/"+name+"/status")
	if err != nil {
		return nil, err
	}
	var s connectorStatus
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("decoding the status of %s: %w", name, err)
	}
	return &s, nil
}

// sample is the figures of one /metrics scrape.
type sample struct {
	at           time.Time
	sourceEvents float64 // binlake_source_events_total of the source connector
	snapshotRows float64 // binlake_source_snapshot_rows_total of the source connector
	lag          float64 // binlake_source_lag_seconds (max over tasks); -1 when absent
	sinkRecords  float64 // binlake_sink_records_total of the sink connector
	sinkSnapshot float64 // the same, op="r" (snapshot rows)
	sinkCommits  float64 // binlake_sink_commits_total of the sink connector
}

// metrics scrapes /metrics and sums the quick start's figures.
func (p *prober) metrics(ctx context.Context, source, sink string) (sample, error) {
	b, err := p.get(ctx, "/metrics")
	if err != nil {
		return sample{}, err
	}
	return parseMetrics(string(b), source, sink), nil
}

// parseMetrics sums the series of the Prometheus text exposition that
// belong to the source and sink connectors.
func parseMetrics(text, source, sink string) sample {
	s := sample{at: time.Now(), lag: -1}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "binlake_") {
			continue
		}
		name, labels, value, ok := splitSeries(line)
		if !ok {
			continue
		}
		conn := labels["connector"]
		switch {
		case name == "binlake_source_events_total" && conn == source:
			s.sourceEvents += value
		case name == "binlake_source_snapshot_rows_total" && conn == source:
			s.snapshotRows += value
		case name == "binlake_source_lag_seconds" && conn == source:
			s.lag = max(s.lag, value)
		case name == "binlake_sink_records_total" && conn == sink:
			s.sinkRecords += value
			if labels["op"] == "r" {
				s.sinkSnapshot += value
			}
		case name == "binlake_sink_commits_total" && conn == sink:
			s.sinkCommits += value
		}
	}
	return s
}

// splitSeries parses `name{k="v",...} value` (no escaped quotes in the
// quick start's labels).
func splitSeries(line string) (string, map[string]string, float64, bool) {
	sp := strings.LastIndexByte(line, ' ')
	if sp < 0 {
		return "", nil, 0, false
	}
	v, err := strconv.ParseFloat(line[sp+1:], 64)
	if err != nil {
		return "", nil, 0, false
	}
	head := line[:sp]
	labels := map[string]string{}
	name := head
	if i := strings.IndexByte(head, '{'); i >= 0 && strings.HasSuffix(head, "}") {
		name = head[:i]
		for _, kv := range strings.Split(head[i+1:len(head)-1], ",") {
			k, val, ok := strings.Cut(kv, "=")
			if ok {
				labels[k] = strings.Trim(val, `"`)
			}
		}
	}
	return name, labels, v, true
}

// rate returns the per-second change of f between two samples.
func rate(prev, cur sample, f func(sample) float64) float64 {
	dt := cur.at.Sub(prev.at).Seconds()
	if prev.at.IsZero() || dt <= 0 {
		return 0
	}
	return (f(cur) - f(prev)) / dt
}

func lagText(lag float64) string {
	if lag < 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fs", lag)
}
