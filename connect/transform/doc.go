// Package transform is binlake's per-record transform chain: the operations
// applied to each ChangeEvent between a source task and the converter (and,
// for sinks, before the sink), configured Kafka Connect style:
//
//	transforms=drop,mask,keep
//	transforms.drop.type=columns.exclude
//	transforms.drop.columns=shop\.customers\.(ssn|dob)
//	transforms.mask.type=columns.mask
//	transforms.mask.columns=shop\.customers\.email
//	transforms.mask.mode=hash
//	transforms.mask.salt=...
//	transforms.keep.type=filter
//	transforms.keep.condition=op != "d" || table != "audit"
//
// Each transform type has a documented spec (Types); Validate checks a config
// with one field error per bad key, naming the full key; New builds the Chain,
// which implements the worker's Transform interface.
//
// Every type also takes the optional key "tables": anchored, case-insensitive
// regular expressions over "db.table" that limit the transform to the tables
// they match (default: every table).
//
// # Schemas
//
// A transform that changes a table's columns (columns.include/exclude/
// rename/mask, key.replace, name.case, field.add) never mutates the input
// *schema.Table (it is shared): the chain derives a new *schema.Table once per
// input table version and transform config, caches it, and gives every event
// of that version the same derived pointer. The derived table keeps the
// input's Version: its shape is a pure function of (input version, transform
// config), so the version stays monotonic with the source's. A config change
// can give the same version number a different derived shape; consumers that
// evolve schemas must compare columns (schema.Table.SameColumns), as they do
// for source DDL, rather than trust the number alone. Every output row has
// exactly the derived table's columns, the Go value of each column's kind,
// and nil only in optional columns.
//
// Events are never modified in place either: an event a transform changes is
// copied (with new row slices where rows change); an event no transform
// touches is passed through as the same pointer. The worker may therefore keep
// acknowledging the events it polled.
//
// # Errors
//
// A transform that fails on a record makes Apply return a *RecordError naming
// the transform and carrying the input event, whose Source gives the position
// (db.table, sequence, binlog file:pos). Rules that only depend on the table
// (e.g. excluding a key column) fail every record of that table version the
// same way. A *RecordError is deliberately not terminal (connect.IsTerminal):
// the worker fails the task with it under errors.tolerance=none and
// dead-letters the record under errors.tolerance=all, where a terminal error
// would fail the task instead.
package transform
