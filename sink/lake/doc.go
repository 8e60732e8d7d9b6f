// Package lake is the lake sink: the lake-sink connector and its task, which
// buffer change events per table with bounded memory, drop replays by queue
// sequence, and commit each table exactly once per cycle through a table
// format (sink/lake/iceberg, sink/lake/hudi) that records the queue offsets
// and sequences in the same atomic commit as the data. The format-neutral
// contract is Format, TableWriter, Batch and Position; formats register with
// RegisterFormat from their init, so the binary blank-imports them.
package lake
