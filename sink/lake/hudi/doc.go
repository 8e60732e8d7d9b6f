// Package hudi writes Apache Hudi copy-on-write tables (table version 6,
// timeline layout version 1) from Go, without a JVM, and reads back what it
// needs: the timeline, the latest base file of every file group and the
// record keys in them.
//
// A table is a directory (a prefix in a gocloud.dev blob bucket) with
//
//	.hoodie/hoodie.properties          table config with a CRC32 checksum
//	.hoodie/<instant>.commit.requested  an empty file: the write is planned
//	.hoodie/<instant>.inflight          the write's plan (JSON commit metadata)
//	.hoodie/<instant>.commit            the completed commit (JSON commit metadata)
//	<partition>/.hoodie_partition_metadata
//	<partition>/<fileId>_<writeToken>_<instant>.parquet
//
// The base files start with the five _hoodie_* meta columns and carry in
// their Parquet footer the Avro schema (parquet.avro.schema), the record-key
// range (hoodie_min_record_key, hoodie_max_record_key) and a Hudi bloom
// filter of the record keys, as Hudi's Java writer does.
//
// Writer is the entry point: Open creates or opens a table, Commit applies a
// batch of upserts and deletes as one Hudi commit (rewriting the touched file
// groups, copy-on-write), LastCommitted returns the binlake.* extra metadata
// of the latest completed commit so a sink can resume exactly once, Close
// releases the writer. One Writer per table at a time: Hudi's optimistic
// concurrency control (locks) is not implemented.
package hudi
