package hudi

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

const (
	metaFolder          = ".hoodie"
	propertiesFile      = ".hoodie/hoodie.properties"
	partitionMetaFile   = ".hoodie_partition_metadata"
	actionCommit        = "commit"
	stateRequested      = "requested"
	stateInflight       = "inflight"
	stateCompleted      = "completed"
	instantTimeLayout   = "20060102150405.000"
	extraMetaSchemaKey  = "schema"
	operationTypeUpsert = "UPSERT"
)

// Instant is one entry of the timeline: a timestamp, an action (commit,
// clean, rollback, ...) and a state.
type Instant struct {
	Time   string // yyyyMMddHHmmssSSS
	Action string
	State  string // requested, inflight or completed
}

// fileName is the instant's file in .hoodie (timeline layout version 1).
func (i Instant) fileName() string {
	switch {
	case i.Action == actionCommit && i.State == stateInflight:
		return i.Time + ".inflight"
	case i.State == stateCompleted:
		return i.Time + "." + i.Action
	default:
		return i.Time + "." + i.Action + "." + i.State
	}
}

var instantFile = regexp.MustCompile(`^(\d{14,17})\.([a-z_]+)(\.(requested|inflight))?$`)

// parseInstantFile recognises a timeline file name; ok is false for other
// files in .hoodie (hoodie.properties, folders, temporary files).
func parseInstantFile(name string) (Instant, bool) {
	m := instantFile.FindStringSubmatch(name)
	if m == nil {
		return Instant{}, false
	}
	in := Instant{Time: m[1], Action: m[2], State: stateCompleted}
	if m[4] != "" {
		in.State = m[4]
	}
	if in.Action == "inflight" && m[4] == "" { // "<ts>.inflight" is a commit
		in.Action, in.State = actionCommit, stateInflight
	}
	return in, true
}

// timeline is the active timeline: the newest state of every instant,
// ordered by time.
type timeline []Instant

func loadTimeline(ctx context.Context, st *storage) (timeline, error) {
	objs, err := st.list(ctx, metaFolder+"/", false)
	if err != nil {
		return nil, err
	}
	rank := map[string]int{stateRequested: 0, stateInflight: 1, stateCompleted: 2}
	latest := map[string]Instant{}
	for _, o := range objs {
		in, ok := parseInstantFile(strings.TrimPrefix(o.Key, metaFolder+"/"))
		if !ok {
			continue
		}
		k := in.Time + "." + in.Action
		if cur, seen := latest[k]; !seen || rank[in.State] > rank[cur.State] {
			latest[k] = in
		}
	}
	tl := make(timeline, 0, len(latest))
	for _, in := range latest {
		tl = append(tl, in)
	}
	sort.Slice(tl, func(a, b int) bool {
		if tl[a].Time != tl[b].Time {
			return tl[a].Time < tl[b].Time
		}
		return tl[a].Action < tl[b].Action
	})
	return tl, nil
}

// completedCommits returns the completed commit instants, oldest first.
func (tl timeline) completedCommits() []Instant {
	var out []Instant
	for _, in := range tl {
		if in.State == stateCompleted && in.Action == actionCommit {
			out = append(out, in)
		}
	}
	return out
}

// pendingCommits returns the commit instants that never completed.
func (tl timeline) pendingCommits() []Instant {
	var out []Instant
	for _, in := range tl {
		if in.State != stateCompleted && in.Action == actionCommit {
			out = append(out, in)
		}
	}
	return out
}

// without returns the timeline without the instant at time t.
func (tl timeline) without(t string) timeline {
	out := make(timeline, 0, len(tl))
	for _, in := range tl {
		if in.Time != t {
			out = append(out, in)
		}
	}
	return out
}

// lastTime is the newest instant time of any action and state ("" if none).
func (tl timeline) lastTime() string {
	if len(tl) == 0 {
		return ""
	}
	return tl[len(tl)-1].Time
}

// newInstantTime returns a UTC instant time (yyyyMMddHHmmssSSS) later
// than after.
func newInstantTime(now time.Time, after string) string {
	s := formatInstantTime(now)
	if s > after {
		return s
	}
	pt, err := time.Parse("20060102150405.000", after[:min(14, len(after))]+"."+after[min(14, len(after)):])
	if err != nil {
		return after + "1" // not an instant time we wrote: still sorts after it
	}
	return formatInstantTime(pt.Add(time.Millisecond))
}

func formatInstantTime(t time.Time) string {
	return strings.Replace(t.UTC().Format(instantTimeLayout), ".", "", 1)
}

// CommitMetadata is the JSON content of a .commit (and .inflight) file,
// Hudi's HoodieCommitMetadata.
type CommitMetadata struct {
	PartitionToWriteStats map[string][]WriteStat `json:"partitionToWriteStats"`
	Compacted             bool                   `json:"compacted"`
	ExtraMetadata         map[string]string      `json:"extraMetadata"`
	OperationType         string                 `json:"operationType"`
}

// WriteStat describes one file written by a commit (HoodieWriteStat).
type WriteStat struct {
	FileID                       string        `json:"fileId"`
	Path                         *string       `json:"path"`
	CdcStats                     any           `json:"cdcStats"`
	PrevCommit                   string        `json:"prevCommit"`
	NumWrites                    int64         `json:"numWrites"`
	NumDeletes                   int64         `json:"numDeletes"`
	NumUpdateWrites              int64         `json:"numUpdateWrites"`
	NumInserts                   int64         `json:"numInserts"`
	TotalWriteBytes              int64         `json:"totalWriteBytes"`
	TotalWriteErrors             int64         `json:"totalWriteErrors"`
	TempPath                     *string       `json:"tempPath"`
	PartitionPath                *string       `json:"partitionPath"`
	TotalLogRecords              int64         `json:"totalLogRecords"`
	TotalLogFilesCompacted       int64         `json:"totalLogFilesCompacted"`
	TotalLogSizeCompacted        int64         `json:"totalLogSizeCompacted"`
	TotalUpdatedRecordsCompacted int64         `json:"totalUpdatedRecordsCompacted"`
	TotalLogBlocks               int64         `json:"totalLogBlocks"`
	TotalCorruptLogBlock         int64         `json:"totalCorruptLogBlock"`
	TotalRollbackBlocks          int64         `json:"totalRollbackBlocks"`
	FileSizeInBytes              int64         `json:"fileSizeInBytes"`
	MinEventTime                 *int64        `json:"minEventTime"`
	MaxEventTime                 *int64        `json:"maxEventTime"`
	RuntimeStats                 *RuntimeStats `json:"runtimeStats"`
}

// RuntimeStats are a write's timings in milliseconds.
type RuntimeStats struct {
	TotalScanTime   int64 `json:"totalScanTime"`
	TotalUpsertTime int64 `json:"totalUpsertTime"`
	TotalCreateTime int64 `json:"totalCreateTime"`
}

func readCommitMetadata(ctx context.Context, st *storage, in Instant) (*CommitMetadata, error) {
	b, err := st.read(ctx, metaFolder+"/"+in.fileName())
	if err != nil {
		return nil, err
	}
	var cm CommitMetadata
	if err := json.Unmarshal(b, &cm); err != nil {
		return nil, fmt.Errorf("parsing commit metadata of %s: %w", in.Time, err)
	}
	return &cm, nil
}

func encodeCommitMetadata(cm *CommitMetadata) ([]byte, error) {
	if cm.PartitionToWriteStats == nil {
		cm.PartitionToWriteStats = map[string][]WriteStat{}
	}
	if cm.ExtraMetadata == nil {
		cm.ExtraMetadata = map[string]string{}
	}
	b, err := json.MarshalIndent(cm, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding commit metadata: %w", err)
	}
	return b, nil
}
