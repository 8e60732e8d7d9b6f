// Package iceberg is the Apache Iceberg table format of the lake sink: it maps
// binlake table schemas to Iceberg and Arrow schemas, writes each commit cycle
// as Parquet data files plus equality-delete files (upsert mode) and commits
// them in one snapshot whose summary carries the sink's queue offsets and
// sequences, evolves table schemas, and maintains tables (compaction that
// applies equality deletes, manifest merging, snapshot expiry). It registers
// itself as lake.format "iceberg".
package iceberg
