package testplugin

import (
	"context"
	"fmt"
	"sync"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/spec"
)

// SinkConnector is the test sink: topics spread round-robin over tasks.
type SinkConnector struct{}

// TaskConfigs assigns each topic to one task.
func (c *SinkConnector) TaskConfigs(_ context.Context, cfg connect.Config, maxTasks int) ([]connect.Config, error) {
	if err := inject(cfg, FailTaskConfigs); err != nil {
		return nil, err
	}
	topics := spec.GetList(cfg, spec.TopicNames)
	n := min(maxTasks, len(topics))
	per := make([][]string, n)
	for i, t := range topics {
		per[i%n] = append(per[i%n], t)
	}
	out := make([]connect.Config, n)
	for i := range per {
		out[i] = connect.Config{spec.TopicNames: joinComma(per[i])}
	}
	return out, nil
}

func joinComma(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ","
		}
		out += x
	}
	return out
}

// NewTask returns a sink task.
func (c *SinkConnector) NewTask() connect.SinkTask { return &SinkTask{} }

// SinkTask buffers records and commits them to the hub on Flush, with its
// own per-queue offsets (its "truth").
type SinkTask struct {
	tc  *connect.TaskContext
	mu  sync.Mutex
	buf []connect.SinkRecord
}

// Start checks failure injection.
func (t *SinkTask) Start(_ context.Context, tc *connect.TaskContext) error {
	t.tc = tc
	return inject(tc.Config, FailStartSinkRetries)
}

// Open returns the committed offsets from the hub, -1 for unknown queues.
func (t *SinkTask) Open(_ context.Context, queues []connect.QueueID) (map[connect.QueueID]int64, error) {
	hub.Lock()
	defer hub.Unlock()
	out := make(map[connect.QueueID]int64, len(queues))
	for _, q := range queues {
		off, ok := hub.offsets[t.tc.Connector][q]
		if !ok {
			off = -1
		}
		out[q] = off
	}
	return out, nil
}

// Put buffers records.
func (t *SinkTask) Put(_ context.Context, records []connect.SinkRecord) error {
	if err := inject(t.tc.Config, FailPutTerminal); err != nil {
		return err
	}
	t.mu.Lock()
	t.buf = append(t.buf, records...)
	t.mu.Unlock()
	return nil
}

// Flush commits the buffer and the next offsets to the hub.
func (t *SinkTask) Flush(context.Context) error {
	t.mu.Lock()
	buf := t.buf
	t.buf = nil
	t.mu.Unlock()
	hub.Lock()
	defer hub.Unlock()
	if hub.offsets[t.tc.Connector] == nil {
		hub.offsets[t.tc.Connector] = map[connect.QueueID]int64{}
	}
	for _, r := range buf {
		hub.sunk[t.tc.Connector] = append(hub.sunk[t.tc.Connector], r.Event)
		hub.offsets[t.tc.Connector][r.Queue] = r.Offset + 1
	}
	return nil
}

// Offsets reports the committed offsets of the task's connector.
func (t *SinkTask) Offsets(context.Context) (map[string]any, error) {
	hub.Lock()
	defer hub.Unlock()
	out := map[string]any{}
	for q, off := range hub.offsets[t.tc.Connector] {
		out[fmt.Sprintf("%s/%d", q.Topic, q.Queue)] = off
	}
	return out, nil
}

// Stop drops the buffer.
func (t *SinkTask) Stop(context.Context) error {
	t.mu.Lock()
	t.buf = nil
	t.mu.Unlock()
	return nil
}

var (
	_ connect.SinkConnector  = (*SinkConnector)(nil)
	_ connect.OffsetReporter = (*SinkTask)(nil)
)
