// Package schema is binlake's canonical table schema model: the logical column
// kinds every part of the pipeline agrees on, the Go value that carries each
// kind, and (in subpackages) the mappings from MySQL and to Avro, Iceberg and
// Arrow, plus the schema-registry client and the embedded registry.
//
// A Table is immutable once published: a change to a table's columns produces
// a new *Table with a higher Version. Rows are []any aligned with Columns.
package schema
