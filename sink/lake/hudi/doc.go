// Package hudi writes Apache Hudi copy-on-write tables (table version 6,
// timeline layout version 1) from Go, without a JVM, and reads back what it
// needs: the timeline, the latest base file of every file group and the
// record keys in them.
//
// # Layout
//
// A table is a directory (a prefix in a gocloud.dev blob bucket) with
//
//	.hoodie/hoodie.properties           table config, hoodie.table.checksum = CRC32("<db>.<table>")
//	.hoodie/<instant>.commit.requested  empty: the write is planned
//	.hoodie/<instant>.inflight          the write's plan (JSON commit metadata)
//	.hoodie/<instant>.commit            the completed commit (JSON commit metadata)
//	<partition>/.hoodie_partition_metadata
//	<partition>/<fileId>_<writeToken>_<instant>.parquet
//
// Instants are UTC times yyyyMMddHHmmssSSS. Partition paths have one level
// per partition column, each "value" or "field=value" (hive style), as
// Hudi's SimpleKeyGenerator and ComplexKeyGenerator write them; an
// unpartitioned table keeps its files at the base path. The record-key index
// spans partitions: an update that changes a partition value moves the
// record. Base files start with the five _hoodie_* meta columns and carry
// in their Parquet footer the Avro schema (parquet.avro.schema), the
// record-key range (hoodie_min_record_key, hoodie_max_record_key) and a
// SIMPLE Hudi bloom filter of the record keys, as Hudi's Java writer does.
// The completed commit's extraMetadata holds the Avro schema ("schema"),
// the binlake schema (MetaSchema) and the caller's entries.
//
// # Writing
//
// Writer is the entry point:
//
//	w, err := hudi.Open(ctx, hudi.Options{Bucket: b, BasePath: "shop/orders", Table: tbl})
//	last, ok, err := w.LastCommitted(ctx)   // resume: offsets and sequences of the last commit
//	st, err := w.Commit(ctx, tbl, changes, map[string]string{
//		hudi.MetaConnector: name, hudi.MetaCommitID: id,
//		hudi.MetaOffsets: offsetsJSON, hudi.MetaSequences: sequencesJSON,
//	})
//	err = w.Close()
//
// Open creates the table or opens it: it rolls back commits a crash left
// requested or inflight (their base files, then their instant files, as
// Hudi's eager rollback of failed writes does), removes temporary files of
// interrupted writes, cleans surplus file versions and rebuilds the
// record-key index from the _hoodie_record_key column of the latest base
// files. Commit applies upserts and deletes (the last change of a key wins)
// copy-on-write: each touched file group's latest base file is streamed row
// group by row group into a new version without the changed keys, then the
// new images are appended; new keys go into small file groups first
// (SmallFileBytes, MaxFileBytes), then into new ones. Publishing the
// .commit file is the atomic step. Afterwards the cleaner keeps the latest
// RetainFileVersions versions of each touched file group.
//
// Schema evolution follows what Hudi readers accept without schema-on-read:
// added (nullable) columns, int->long and float->double. Rows of an older
// compatible version are adapted to the newer schema.
//
// # As a lake-sink format
//
// lake.format=hudi registers Format: tables live at
// <iceberg.warehouse>/<namespace>/<table>. partition.spec lays out new
// tables; Hudi partitions by column values, so it takes identity terms only
// ("region" or "identity(region), country" for two levels) and refuses
// bucket, truncate and the time transforms. Partition paths are plain unless
// iceberg.table.properties.hoodie.datasource.write.hive_style_partitioning
// is true. Existing tables keep the layout they were created with.
//
// One Writer per table at a time: Hudi's optimistic concurrency control
// (locks) is not implemented. The timeline is not archived and no metadata
// table is written (hoodie.metadata.enable=false semantics).
package hudi
