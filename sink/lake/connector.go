package lake

import (
	"context"
	"fmt"
	"strings"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/plugin"
	"github.com/binlake/binlake/connect/spec"
)

// PluginName is the connector.class of the lake sink.
const PluginName = "lake-sink"

func init() {
	plugin.Register(plugin.Plugin{
		Name:     PluginName,
		Kind:     plugin.Sink,
		Doc:      "Commits change events from RocketMQ into Apache Iceberg (or Hudi) tables exactly once: upsert by primary key or append as a changelog, with schema evolution and table maintenance.",
		Spec:     Spec,
		Validate: ValidateConfig,
		New:      func() connect.Connector { return &Connector{} },
	})
}

// Connector is the lake-sink connector: it splits the topics over tasks,
// whole topics per task (all queues of a table on one task).
type Connector struct{}

var _ connect.SinkConnector = (*Connector)(nil)

// TaskConfigs assigns the topics round-robin to at most maxTasks tasks.
func (c *Connector) TaskConfigs(_ context.Context, cfg connect.Config, maxTasks int) ([]connect.Config, error) {
	topics := spec.GetList(cfg, spec.TopicNames)
	if len(topics) == 0 {
		return nil, connect.Terminal(fmt.Errorf("%s is empty", spec.TopicNames), "list the topics to consume")
	}
	n := min(max(maxTasks, 1), len(topics))
	groups := make([][]string, n)
	for i, t := range topics {
		groups[i%n] = append(groups[i%n], t)
	}
	out := make([]connect.Config, n)
	for i, g := range groups {
		tc := cfg.Clone()
		tc[spec.TopicNames] = strings.Join(g, ",")
		out[i] = tc
	}
	return out, nil
}

// NewTask returns a new lake-sink task.
func (c *Connector) NewTask() connect.SinkTask { return NewTask() }
