//go:build integration

package integration

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/binlake/binlake/integration/workerproc"
)

// snapshotState is the snapshot progress of a mysql-source connector as its durable checkpoint shows it.
type snapshotState struct {
	checkpointed bool  // a checkpoint exists
	running      bool  // the checkpoint carries an unfinished snapshot
	rows, total  int64 // rows emitted by the snapshot so far, estimated total
	tables       []string
}

// complete reports whether the snapshot finished (a checkpoint without snapshot progress).
func (s snapshotState) complete() bool { return s.checkpointed && !s.running }

func (s snapshotState) String() string {
	switch {
	case !s.checkpointed:
		return "no checkpoint yet (snapshot not started or no chunk acknowledged)"
	case !s.running:
		return "snapshot complete, streaming"
	default:
		return fmt.Sprintf("snapshot running: %d of ~%d rows emitted, tables %v", s.rows, s.total, s.tables)
	}
}

// sourceSnapshotState reads GET /connectors/<name>/offsets and extracts the snapshot progress of the checkpoints.
func sourceSnapshotState(w *workerproc.Worker, name string) (snapshotState, error) {
	resp, err := w.Do("GET", "/connectors/"+name+"/offsets", nil)
	if err != nil {
		return snapshotState{}, err
	}
	if resp.Status != 200 {
		return snapshotState{}, fmt.Errorf("GET offsets of %s: status %d: %s", name, resp.Status, resp.Body)
	}
	var off struct {
		Checkpoints map[string]json.RawMessage `json:"checkpoints"`
	}
	if err := resp.JSON(&off); err != nil {
		return snapshotState{}, fmt.Errorf("decoding offsets of %s: %w", name, err)
	}
	var st snapshotState
	for key, raw := range off.Checkpoints {
		var cp struct {
			Snapshot *struct {
				Tables []string `json:"tables"`
				Rows   int64    `json:"rows"`
				Total  int64    `json:"total"`
			} `json:"snapshot"`
		}
		if err := json.Unmarshal(raw, &cp); err != nil {
			return snapshotState{}, fmt.Errorf("decoding checkpoint %s: %w", key, err)
		}
		st.checkpointed = true
		if cp.Snapshot != nil {
			st.running = true
			st.rows += cp.Snapshot.Rows
			st.total += cp.Snapshot.Total
			st.tables = append(st.tables, cp.Snapshot.Tables...)
		}
	}
	return st, nil
}

// describeDiff explains how the lake rows differ from MySQL's, by primary key: keys missing from the lake, keys the lake
// has that MySQL does not (lost deletes or primary-key changes), keys held more than once, and keys with stale values.
func describeDiff(got, want []string) string {
	byID := func(rows []string) map[string][]string {
		m := map[string][]string{}
		for _, r := range rows {
			id, _, _ := strings.Cut(r, "|")
			m[id] = append(m[id], r)
		}
		return m
	}
	g, w := byID(got), byID(want)
	var missing, extra, dup, stale []string
	for id, wr := range w {
		gr, ok := g[id]
		switch {
		case !ok:
			missing = append(missing, wr[0])
		case len(gr) > 1:
			dup = append(dup, fmt.Sprintf("%s (want %s)", strings.Join(gr, " AND "), wr[0]))
		case gr[0] != wr[0]:
			stale = append(stale, fmt.Sprintf("lake %s, MySQL %s", gr[0], wr[0]))
		}
	}
	for id, gr := range g {
		if _, ok := w[id]; !ok {
			extra = append(extra, strings.Join(gr, " AND "))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "lake %d rows, MySQL %d rows\n", len(got), len(want))
	for _, part := range []struct {
		what string
		rows []string
	}{{"keys missing in the lake", missing}, {"keys only in the lake", extra}, {"keys held more than once", dup}, {"keys with other values", stale}} {
		sort.Strings(part.rows)
		fmt.Fprintf(&b, "%d %s\n", len(part.rows), part.what)
		for i, r := range part.rows {
			if i == 15 {
				fmt.Fprintf(&b, "  ...\n")
				break
			}
			fmt.Fprintf(&b, "  %s\n", r)
		}
	}
	return b.String()
}
