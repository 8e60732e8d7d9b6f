package testplugin

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/spec"
	"github.com/binlake/binlake/schema"
)

// SourceConnector is the test source: one task per connector.
type SourceConnector struct{}

// TaskConfigs returns one task config.
func (c *SourceConnector) TaskConfigs(_ context.Context, cfg connect.Config, _ int) ([]connect.Config, error) {
	if err := inject(cfg, FailTaskConfigs); err != nil {
		return nil, err
	}
	return []connect.Config{{}}, nil
}

// NewTask returns a source task.
func (c *SourceConnector) NewTask() connect.SourceTask { return &SourceTask{} }

// SourceTask emits events with sequences 1..test.events, resuming after
// its checkpoint, and checkpoints the highest contiguous acked sequence.
type SourceTask struct {
	tc     *connect.TaskContext
	table  *schema.Table
	total  uint64
	batch  int
	next   uint64
	mu     sync.Mutex
	acked  map[uint64]bool
	contig uint64
}

type checkpointValue struct {
	Sequence uint64 `json:"sequence"`
}

func (t *SourceTask) key() string { return fmt.Sprintf("%s/%d", t.tc.Connector, t.tc.TaskID) }

// Start loads the checkpoint.
func (t *SourceTask) Start(ctx context.Context, tc *connect.TaskContext) error {
	t.tc = tc
	if err := inject(tc.Config, FailStartRetryable); err != nil {
		return err
	}
	if err := inject(tc.Config, FailStartTerminal); err != nil {
		return err
	}
	db, name, _ := strings.Cut(spec.GetString(tc.Config, KeyTable), ".")
	t.table = &schema.Table{Database: db, Name: name, Version: 1, PrimaryKey: []int{0}, Columns: []schema.Column{
		{Name: "id", Kind: schema.KindInt64}, {Name: "v", Kind: schema.KindString, Optional: true}}}
	t.total = uint64(spec.GetLong(tc.Config, KeyEvents))
	t.batch = spec.GetInt(tc.Config, KeyBatch)
	t.acked = map[uint64]bool{}
	b, found, err := tc.Checkpoints.Get(ctx, t.key())
	if err != nil {
		return fmt.Errorf("reading checkpoint: %w", err)
	}
	if found {
		var cp checkpointValue
		if err := json.Unmarshal(b, &cp); err != nil {
			return fmt.Errorf("parsing checkpoint: %w", err)
		}
		t.contig = cp.Sequence
	}
	t.next = t.contig + 1
	return nil
}

// Poll returns the next batch, or blocks until ctx ends when all events
// were emitted.
func (t *SourceTask) Poll(ctx context.Context) ([]*connect.ChangeEvent, error) {
	if err := inject(t.tc.Config, FailPollRetryable); err != nil {
		return nil, err
	}
	if err := inject(t.tc.Config, FailPollPanic); err != nil {
		panic(fmt.Sprintf("poll: %v", err))
	}
	if t.next > t.total {
		<-ctx.Done()
		return nil, ctxErr(ctx)
	}
	var out []*connect.ChangeEvent
	for len(out) < t.batch && t.next <= t.total {
		seq := t.next
		t.next++
		out = append(out, &connect.ChangeEvent{
			Op: connect.OpCreate, After: []any{int64(seq), fmt.Sprintf("v%d", seq)}, Schema: t.table,
			Source: connect.SourceInfo{Connector: t.tc.Connector, Database: t.table.Database, Table: t.table.Name,
				Sequence: seq, CommitTimeMs: time.Now().UnixMilli()},
			TsMs: time.Now().UnixMilli(),
		})
	}
	return out, nil
}

// Ack checkpoints the highest contiguous acknowledged sequence.
func (t *SourceTask) Ack(events []*connect.ChangeEvent) {
	if err := inject(t.tc.Config, FailAckPanic); err != nil {
		panic(err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, ev := range events {
		t.acked[ev.Source.Sequence] = true
	}
	advanced := false
	for t.acked[t.contig+1] {
		delete(t.acked, t.contig+1)
		t.contig++
		advanced = true
	}
	if !advanced {
		return
	}
	b, _ := json.Marshal(checkpointValue{Sequence: t.contig})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := t.tc.Checkpoints.Put(ctx, t.key(), b); err != nil {
		t.tc.Logger.Error("saving checkpoint", "error", err)
		return
	}
	hub.Lock()
	hub.acked[t.tc.Connector] = t.contig
	hub.Unlock()
}

// Snapshot records the request.
func (t *SourceTask) Snapshot(_ context.Context, tables []string) error {
	if len(tables) == 0 {
		return fmt.Errorf("no tables listed")
	}
	hub.Lock()
	hub.snapshots[t.tc.Connector] = append(hub.snapshots[t.tc.Connector], tables)
	hub.Unlock()
	return nil
}

// Stop does nothing.
func (t *SourceTask) Stop(context.Context) error { return nil }

var (
	_ connect.SourceConnector = (*SourceConnector)(nil)
	_ connect.Snapshotter     = (*SourceTask)(nil)
)
