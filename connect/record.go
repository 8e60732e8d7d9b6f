package connect

import (
	"github.com/binlake/binlake/schema"
)

// Op is the kind of change an event carries (Debezium's op codes).
type Op byte

// The operations of ARCHITECTURE.md section 3.1.
const (
	OpCreate   Op = 'c'
	OpUpdate   Op = 'u'
	OpDelete   Op = 'd'
	OpRead     Op = 'r' // a row read by a snapshot
	OpTruncate Op = 't'
)

// String returns the one-letter code.
func (o Op) String() string { return string(rune(o)) }

// Valid reports whether o is one of the defined operations.
func (o Op) Valid() bool {
	switch o {
	case OpCreate, OpUpdate, OpDelete, OpRead, OpTruncate:
		return true
	}
	return false
}

// SourceInfo says where an event came from (Debezium's "source" block).
type SourceInfo struct {
	// Connector is the connector's name.
	Connector string
	// ServerID is the MySQL server_id that wrote the event.
	ServerID uint32
	// GTID is the transaction's GTID ("uuid:n" for MySQL, "domain-server-seq"
	// for MariaDB); empty when GTIDs are off or for snapshot reads.
	GTID string
	// File and Pos are the binlog coordinates of the row event.
	File string
	Pos  uint64
	// Row is the index of the row inside its rows event.
	Row int
	// Database and Table name the source table.
	Database string
	Table    string
	// Snapshot is true for rows read by a snapshot.
	Snapshot bool
	// CommitTimeMs is the source commit time, milliseconds since the epoch.
	CommitTimeMs int64
	// Sequence is the per-connector event counter of section 3.1: assigned in
	// binlog order, persisted in the source checkpoint, identical on replay.
	Sequence uint64
}

// TxInfo places an event in its transaction.
type TxInfo struct {
	// ID identifies the transaction (its GTID, or file:pos of its BEGIN).
	ID string
	// TotalOrder is the event's 1-based position among all events of the
	// transaction; TableOrder among the transaction's events of its table.
	TotalOrder uint64
	TableOrder uint64
}

// ChangeEvent is one row change, the unit that flows from sources through
// transforms and converters to sinks.
type ChangeEvent struct {
	Op Op
	// Before and After are row images aligned with Schema.Columns, holding
	// the Go values documented on schema.Kind (nil: SQL NULL). Before is nil
	// for creates and reads, After is nil for deletes; both nil for truncate.
	Before []any
	After  []any
	// Source says where the event came from.
	Source SourceInfo
	// Schema is the table version the row images were written with.
	Schema *schema.Table
	// Tx is set for events inside a transaction.
	Tx *TxInfo
	// TsMs is when binlake processed the event, milliseconds since the epoch.
	TsMs int64
	// Topic, when set (by a routing transform), is the topic to send the
	// event to instead of the per-table topic of section 3.2.
	Topic string
}

// Row returns the image that describes the row after the change, or before it
// for deletes: the image a key or a sink's upsert is computed from.
func (e *ChangeEvent) Row() []any {
	if e.After != nil {
		return e.After
	}
	return e.Before
}
