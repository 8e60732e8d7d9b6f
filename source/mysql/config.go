package mysql

import (
	"fmt"
	"hash/fnv"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/spec"
)

// Config keys of the mysql-source connector (Debezium's names where they
// exist).
const (
	KeyHostname            = "database.hostname"
	KeyPort                = "database.port"
	KeyUser                = "database.user"
	KeyPassword            = "database.password"
	KeyServerID            = "database.server.id"
	KeyFlavor              = "database.flavor"
	KeyDatabaseInclude     = "database.include.list"
	KeyTableInclude        = "table.include.list"
	KeyTableExclude        = "table.exclude.list"
	KeyColumnExclude       = "column.exclude.list"
	KeySnapshotMode        = "snapshot.mode"
	KeySnapshotChunkSize   = "snapshot.chunk.size"
	KeySnapshotParallelism = "snapshot.parallelism"
	KeyHeartbeatInterval   = "heartbeat.interval.ms"
	KeyMaxBatchSize        = "max.batch.size"
	KeyConnectTimeout      = "connect.timeout.ms"
)

// Snapshot modes.
const (
	SnapshotInitial     = "initial"
	SnapshotNever       = "never"
	SnapshotWhenNeeded  = "when_needed"
	SnapshotInitialOnly = "initial_only"
)

func validRegexList(v string) error {
	for _, p := range splitList(v) {
		if _, err := regexp.Compile(p); err != nil {
			return fmt.Errorf("invalid regular expression %q: %w", p, err)
		}
	}
	return nil
}

// Spec is the mysql-source config spec (its own keys; the worker merges the
// common and source keys in front).
var Spec = &spec.Spec{Keys: []spec.Key{
	{Name: KeyHostname, Type: spec.String, Required: true, Group: "Connection", Doc: "Host name or IP address of the MySQL or MariaDB server."},
	{Name: KeyPort, Type: spec.Int, Default: "3306", Validate: spec.Range(1, 65535), Group: "Connection", Doc: "TCP port of the server."},
	{Name: KeyUser, Type: spec.String, Required: true, Group: "Connection", Doc: "User to connect as; needs REPLICATION SLAVE, REPLICATION CLIENT and SELECT on the captured tables."},
	{Name: KeyPassword, Type: spec.Password, Group: "Connection", Doc: "Password of database.user."},
	{Name: KeyServerID, Type: spec.Long, Validate: spec.Range(0, 4294967295), Group: "Connection", Doc: "Server id the connector uses as a replica; must be unique among the server's replicas. 0 or absent derives a stable id from the connector's name in 1000000..2^31."},
	{Name: KeyFlavor, Type: spec.String, Enum: []string{"", "mysql", "mariadb"}, Group: "Connection", Doc: "Server flavor; empty detects it from the server's version."},
	{Name: KeyConnectTimeout, Type: spec.Duration, Default: "30000", Group: "Connection", Doc: "Timeout of connection attempts and of startup queries, in milliseconds."},
	{Name: KeyDatabaseInclude, Type: spec.List, Validate: validRegexList, Group: "Filters", Doc: "Regular expressions (full match, case-insensitive) of the databases to capture; empty captures every non-system database."},
	{Name: KeyTableInclude, Type: spec.List, Validate: validRegexList, Group: "Filters", Doc: "Regular expressions matched against db.table of the tables to capture; empty captures every table of the included databases."},
	{Name: KeyTableExclude, Type: spec.List, Validate: validRegexList, Group: "Filters", Doc: "Regular expressions matched against db.table of tables not to capture."},
	{Name: KeyColumnExclude, Type: spec.List, Validate: validRegexList, Group: "Filters", Doc: "Regular expressions matched against db.table.column of columns left out of events."},
	{Name: KeySnapshotMode, Type: spec.String, Default: SnapshotInitial, Enum: []string{SnapshotInitial, SnapshotNever, SnapshotWhenNeeded, SnapshotInitialOnly}, Group: "Snapshot", Doc: "initial: snapshot the captured tables on first start, then stream; never: stream only; when_needed: like initial, and snapshot again when the binlog at the checkpoint was purged; initial_only: snapshot, then stop."},
	{Name: KeySnapshotChunkSize, Type: spec.Int, Default: "8096", Validate: spec.Range(1, 1000000), Group: "Snapshot", Doc: "Rows per snapshot chunk (chunked by primary key)."},
	{Name: KeySnapshotParallelism, Type: spec.Int, Validate: spec.Range(0, 64), Group: "Snapshot", Doc: "Chunks read in parallel during a snapshot; 0 or absent uses max.tasks."},
	{Name: KeyHeartbeatInterval, Type: spec.Duration, Default: "10000", Group: "Streaming", Doc: "Heartbeat period asked from the server and the interval at which the checkpoint advances on an idle or filtered-out stream, in milliseconds."},
	{Name: KeyMaxBatchSize, Type: spec.Int, Default: "2048", Validate: spec.Range(1, 1000000), Group: "Streaming", Doc: "Maximum events returned by one poll."},
}}

// settings is the parsed task config.
type settings struct {
	host, user, password string
	port                 int
	serverID             uint32
	flavor               string
	connectTimeout       time.Duration
	filter               *Filter
	snapshotMode         string
	chunkSize            int
	parallelism          int
	heartbeat            time.Duration
	maxBatch             int
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// DeriveServerID returns a stable replica server id for a connector name in
// 1000000..2^31-1, far from the small ids operators give servers.
func DeriveServerID(connector string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte("binlake/" + connector))
	return 1_000_000 + h.Sum32()%(1<<31-1_000_000)
}

func intOr(cfg connect.Config, key string, def int) int {
	v := strings.TrimSpace(cfg[key])
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return def
	}
	return n
}

func durOr(cfg connect.Config, key string, def time.Duration) time.Duration {
	if strings.TrimSpace(cfg[key]) == "" {
		return def
	}
	if d := spec.GetDuration(cfg, key); d > 0 {
		return d
	}
	return def
}

func parseSettings(connector string, cfg connect.Config) (*settings, error) {
	s := &settings{
		host:           strings.TrimSpace(cfg[KeyHostname]),
		user:           cfg[KeyUser],
		password:       cfg[KeyPassword],
		port:           intOr(cfg, KeyPort, 3306),
		flavor:         strings.TrimSpace(cfg[KeyFlavor]),
		connectTimeout: durOr(cfg, KeyConnectTimeout, 30*time.Second),
		snapshotMode:   strings.TrimSpace(cfg[KeySnapshotMode]),
		chunkSize:      intOr(cfg, KeySnapshotChunkSize, 8096),
		parallelism:    intOr(cfg, KeySnapshotParallelism, 0),
		heartbeat:      durOr(cfg, KeyHeartbeatInterval, 10*time.Second),
		maxBatch:       intOr(cfg, KeyMaxBatchSize, 2048),
	}
	if s.host == "" || s.user == "" {
		return nil, connect.Terminal(fmt.Errorf("%s and %s are required", KeyHostname, KeyUser), "set them in the connector config")
	}
	if s.snapshotMode == "" {
		s.snapshotMode = SnapshotInitial
	}
	switch s.snapshotMode {
	case SnapshotInitial, SnapshotNever, SnapshotWhenNeeded, SnapshotInitialOnly:
	default:
		return nil, connect.Terminal(fmt.Errorf("unknown %s %q", KeySnapshotMode, s.snapshotMode), "use initial, never, when_needed or initial_only")
	}
	if s.parallelism <= 0 {
		s.parallelism = max(1, intOr(cfg, spec.MaxTasks, 1))
	}
	if s.chunkSize <= 0 {
		s.chunkSize = 8096
	}
	if s.maxBatch <= 0 {
		s.maxBatch = 2048
	}
	id := strings.TrimSpace(cfg[KeyServerID])
	if id != "" && id != "0" {
		n, err := strconv.ParseUint(id, 10, 32)
		if err != nil {
			return nil, connect.Terminal(fmt.Errorf("parsing %s %q: %w", KeyServerID, id, err), "use a number in 1..4294967295")
		}
		s.serverID = uint32(n)
	} else {
		s.serverID = DeriveServerID(connector)
	}
	f, err := NewFilter(splitList(cfg[KeyDatabaseInclude]), splitList(cfg[KeyTableInclude]),
		splitList(cfg[KeyTableExclude]), splitList(cfg[KeyColumnExclude]))
	if err != nil {
		return nil, connect.Terminal(err, "fix the regular expression in the filter keys")
	}
	s.filter = f
	return s, nil
}
