// Package verify compares MySQL tables with the Iceberg tables the lake sink
// mirrors them into, and locates the differences.
//
// A table is compared in primary-key ranges: boundaries are sampled from
// the MySQL keys, every row on either side is rendered as canonical text
// (ARCHITECTURE.md 3.3: decimals exact, timestamps in UTC micros, bytes as
// hex, JSON normalised, zero dates as null) and hashed, and each range gets
// a row count and an order-independent checksum (the sum of the row hashes)
// on both sides. Only ranges whose count or checksum differ are read again,
// to list their keys: missing in the lake, extra in the lake, or with
// differing values column by column.
//
// MySQL is read in one REPEATABLE READ transaction with a consistent
// snapshot and the lake at one Iceberg snapshot, so the passes of a table
// see one state of each side. The lake is read with iceberg-go's scan,
// which applies equality deletes (merge-on-read).
package verify
