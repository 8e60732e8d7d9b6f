package hudi

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/binlake/binlake/schema"
)

// The five meta columns Hudi puts first in every base file.
const (
	FieldCommitTime    = "_hoodie_commit_time"
	FieldCommitSeqno   = "_hoodie_commit_seqno"
	FieldRecordKey     = "_hoodie_record_key"
	FieldPartitionPath = "_hoodie_partition_path"
	FieldFileName      = "_hoodie_file_name"
	numMetaFields      = 5
)

var metaFields = [numMetaFields]string{FieldCommitTime, FieldCommitSeqno, FieldRecordKey, FieldPartitionPath, FieldFileName}

var avroName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// avroRecordName returns the record name and namespace Hudi derives from the
// table name: "<table>_record" in "hoodie.<table>", with characters Avro does
// not allow in names replaced by '_'.
func avroRecordName(table string) (name, namespace string) {
	var sb strings.Builder
	for i, r := range table {
		ok := r == '_' || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') || (i > 0 && r >= '0' && r <= '9')
		if ok {
			sb.WriteRune(r)
		} else {
			sb.WriteByte('_')
		}
	}
	n := sb.String()
	return n + "_record", "hoodie." + n
}

// checkColumns verifies that every column can be an Avro field of a Hudi
// schema and has a kind this package maps.
func checkColumns(t *schema.Table) error {
	for _, c := range t.Columns {
		if !avroName.MatchString(c.Name) {
			return fmt.Errorf("column %q of %s is not a valid Avro field name, which Hudi requires; rename it or exclude it (column.exclude.list)", c.Name, t.QualifiedName())
		}
		if strings.HasPrefix(strings.ToLower(c.Name), "_hoodie_") {
			return fmt.Errorf("column %q of %s collides with Hudi's meta columns; rename it or exclude it", c.Name, t.QualifiedName())
		}
		if _, err := arrowType(c); err != nil {
			return fmt.Errorf("table %s: %w", t.QualifiedName(), err)
		}
	}
	return nil
}

// arrowType is the Arrow type of a column in base files; pqarrow maps it to
// the Parquet type Hudi's Avro writer would produce for the Avro type of
// avroType.
func arrowType(c schema.Column) (arrow.DataType, error) {
	switch c.Kind {
	case schema.KindBool:
		return arrow.FixedWidthTypes.Boolean, nil
	case schema.KindInt32:
		return arrow.PrimitiveTypes.Int32, nil
	case schema.KindInt64, schema.KindDuration:
		return arrow.PrimitiveTypes.Int64, nil
	case schema.KindFloat32:
		return arrow.PrimitiveTypes.Float32, nil
	case schema.KindFloat64:
		return arrow.PrimitiveTypes.Float64, nil
	case schema.KindDecimal:
		return &arrow.Decimal128Type{Precision: int32(c.Precision), Scale: int32(c.Scale)}, nil
	case schema.KindString:
		return arrow.BinaryTypes.String, nil
	case schema.KindBytes:
		return arrow.BinaryTypes.Binary, nil
	case schema.KindDate:
		return arrow.FixedWidthTypes.Date32, nil
	case schema.KindTime:
		return arrow.FixedWidthTypes.Time64us, nil
	case schema.KindTimestamp, schema.KindTimestampTZ:
		// Wall-clock DATETIMEs are stored like instants (their micros as if
		// UTC): Hudi's Spark writer writes timestamp-micros for both, and
		// hudi-rs cannot read local-timestamp-micros.
		return &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, nil
	}
	return nil, fmt.Errorf("column %q: kind %s has no Hudi mapping", c.Name, c.Kind)
}

// avroType is the non-null branch of a column's Avro type, as Hudi's Spark
// writer spells it (decimals as fixed, named after the field).
func avroType(c schema.Column, recordFullName string) any {
	switch c.Kind {
	case schema.KindBool:
		return "boolean"
	case schema.KindInt32:
		return "int"
	case schema.KindInt64, schema.KindDuration:
		return "long"
	case schema.KindFloat32:
		return "float"
	case schema.KindFloat64:
		return "double"
	case schema.KindDecimal:
		return map[string]any{
			"type": "fixed", "name": "fixed", "namespace": recordFullName + "." + c.Name,
			"size": pqarrow.DecimalSize(int32(c.Precision)), "logicalType": "decimal",
			"precision": c.Precision, "scale": c.Scale,
		}
	case schema.KindString:
		return "string"
	case schema.KindBytes:
		return "bytes"
	case schema.KindDate:
		return map[string]any{"type": "int", "logicalType": "date"}
	case schema.KindTime:
		return map[string]any{"type": "long", "logicalType": "time-micros"}
	case schema.KindTimestamp, schema.KindTimestampTZ:
		return map[string]any{"type": "long", "logicalType": "timestamp-micros"}
	}
	return "null"
}

// orderedFields keeps Avro field attributes in the order Hudi writes them.
type avroField struct {
	Name    string  `json:"name"`
	Type    any     `json:"type"`
	Doc     *string `json:"doc,omitempty"`
	Default any     `json:"default"`
}

type avroRecord struct {
	Type      string      `json:"type"`
	Name      string      `json:"name"`
	Namespace string      `json:"namespace"`
	Fields    []avroField `json:"fields"`
}

// avroSchemaJSON is the table's Avro schema: every field nullable with a null
// default, as Hudi writes it. withMeta puts the five meta columns first (the
// base files' parquet.avro.schema); without them it is the commit metadata's
// "schema" and hoodie.table.create.schema.
func avroSchemaJSON(t *schema.Table, withMeta bool) string {
	name, ns := avroRecordName(t.Name)
	rec := avroRecord{Type: "record", Name: name, Namespace: ns}
	if withMeta {
		empty := ""
		for _, m := range metaFields {
			rec.Fields = append(rec.Fields, avroField{Name: m, Type: []any{"null", "string"}, Doc: &empty})
		}
	}
	for _, c := range t.Columns {
		rec.Fields = append(rec.Fields, avroField{Name: c.Name, Type: []any{"null", avroType(c, ns+"."+name)}})
	}
	b, _ := json.Marshal(rec) // plain maps, strings and numbers: cannot fail
	return string(b)
}

// arrowSchema is the schema of base files: meta columns, then the table's
// columns, all nullable (Hudi's writer makes every field optional).
func arrowSchema(t *schema.Table) (*arrow.Schema, error) {
	fields := make([]arrow.Field, 0, numMetaFields+len(t.Columns))
	for _, m := range metaFields {
		fields = append(fields, arrow.Field{Name: m, Type: arrow.BinaryTypes.String, Nullable: true})
	}
	for _, c := range t.Columns {
		typ, err := arrowType(c)
		if err != nil {
			return nil, err
		}
		fields = append(fields, arrow.Field{Name: c.Name, Type: typ, Nullable: true})
	}
	return arrow.NewSchema(fields, nil), nil
}

// checkEvolution verifies that rows of schema next can be written to a table
// whose files were written with prev, the way Hudi readers resolve schemas
// (by field name, Avro promotion rules): columns may be added (they are
// nullable in the lake), int may become long and float double; nothing may be
// dropped, renamed or otherwise retyped, and the record key must not change.
func checkEvolution(prev, next *schema.Table) error {
	if len(prev.PrimaryKey) != len(next.PrimaryKey) {
		return fmt.Errorf("primary key of %s changed; Hudi's record key cannot change: recreate the table", next.QualifiedName())
	}
	for i := range prev.PrimaryKey {
		if !strings.EqualFold(prev.Columns[prev.PrimaryKey[i]].Name, next.Columns[next.PrimaryKey[i]].Name) {
			return fmt.Errorf("primary key of %s changed; Hudi's record key cannot change: recreate the table", next.QualifiedName())
		}
	}
	for _, pc := range prev.Columns {
		j := next.ColumnIndex(pc.Name)
		if j < 0 {
			return fmt.Errorf("column %q of %s was dropped or renamed; Hudi copy-on-write tables without schema-on-read cannot drop columns: recreate the table or keep the column", pc.Name, next.QualifiedName())
		}
		nc := next.Columns[j]
		if nc.Name != pc.Name {
			return fmt.Errorf("column %q of %s changed case to %q; Hudi resolves fields by exact name: recreate the table", pc.Name, next.QualifiedName(), nc.Name)
		}
		if !promotable(pc, nc) {
			return fmt.Errorf("column %q of %s changed from %s to %s; Hudi readers accept only int->long and float->double: recreate the table", pc.Name, next.QualifiedName(), describeKind(pc), describeKind(nc))
		}
	}
	return nil
}

func describeKind(c schema.Column) string {
	if c.Kind == schema.KindDecimal {
		return fmt.Sprintf("decimal(%d,%d)", c.Precision, c.Scale)
	}
	return c.Kind.String()
}

func promotable(from, to schema.Column) bool {
	if from.Kind == to.Kind {
		if from.Kind == schema.KindDecimal {
			return from.Precision == to.Precision && from.Scale == to.Scale
		}
		return true
	}
	switch {
	case from.Kind == schema.KindInt32 && to.Kind == schema.KindInt64:
		return true
	case from.Kind == schema.KindFloat32 && to.Kind == schema.KindFloat64:
		return true
	}
	return false
}
