// Package mysql is binlake's MySQL/MariaDB source connector (mysql-source):
// it streams row changes from the binlog (GTID or file/position), follows
// DDL with a persisted schema history, runs lock-free chunked snapshots merged
// with the stream (DBLog / Flink CDC watermarks), and checkpoints the
// broker-acknowledged prefix at transaction boundaries.
package mysql

import (
	"context"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/plugin"
)

// PluginName is the connector.class of this connector.
const PluginName = "mysql-source"

// Connector is the mysql-source connector. The binlog is one ordered stream,
// so it always runs one task; max.tasks (or snapshot.parallelism) sets the
// snapshot's parallel chunk readers inside it.
type Connector struct{}

var _ connect.SourceConnector = (*Connector)(nil)

// TaskConfigs returns one task config.
func (c *Connector) TaskConfigs(_ context.Context, cfg connect.Config, _ int) ([]connect.Config, error) {
	return []connect.Config{cfg.Clone()}, nil
}

// NewTask returns a new task.
func (c *Connector) NewTask() connect.SourceTask { return NewTask() }

func init() {
	plugin.Register(plugin.Plugin{
		Name: PluginName,
		Kind: plugin.Source,
		Doc: "Streams row changes of MySQL 8 and MariaDB 10.5+ from the binlog (binlog_format=ROW, binlog_row_image=FULL, " +
			"binlog_row_metadata=FULL), with lock-free chunked snapshots and exactly-replayable sequences.",
		Spec: Spec,
		New:  func() connect.Connector { return &Connector{} },
	})
}
