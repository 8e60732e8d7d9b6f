//go:build integration

package integration

import (
	"fmt"
	"maps"

	"github.com/binlake/binlake/integration/containers"
)

// sourceConfig is a mysql-source config that captures database dbName of my into topics prefixed prefix, with a 1 s
// heartbeat; extra keys are added to it (or replace those defaults).
func sourceConfig(my *containers.MySQL, dbName, prefix string, extra map[string]string) map[string]string {
	cfg := map[string]string{
		"connector.class":       "mysql-source",
		"database.hostname":     my.Host,
		"database.port":         fmt.Sprint(my.Port),
		"database.user":         my.User,
		"database.password":     my.Password,
		"database.include.list": dbName,
		"topic.prefix":          prefix,
		"heartbeat.interval.ms": "1000",
	}
	maps.Copy(cfg, extra)
	return cfg
}

// sinkConfig is a lake-sink config that writes topics (comma-separated) into l's SQLite catalog and warehouse in mode
// (upsert or append), committing every commitMs and maintaining the tables every maintainMs milliseconds.
func (l lakeTable) sinkConfig(topics, mode, commitMs, maintainMs string) map[string]string {
	return map[string]string{
		"connector.class":         "lake-sink",
		"connect.topicnames":      topics,
		"write.mode":              mode,
		"iceberg.catalog.uri":     l.sqlite,
		"iceberg.warehouse":       l.warehouse,
		"commit.interval.ms":      commitMs,
		"maintenance.interval.ms": maintainMs,
	}
}
