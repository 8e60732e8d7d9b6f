package iceberg

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/sink/lake"
)

// The changelog columns appended to every row in append mode.
const (
	ColOp       = "_binlake_op"
	ColSequence = "_binlake_seq"
	ColSourceTs = "_binlake_source_ts"
)

// ColumnType returns the Iceberg type of a column kind (ARCHITECTURE.md 3.3).
func ColumnType(c schema.Column) (iceberg.Type, error) {
	switch c.Kind {
	case schema.KindBool:
		return iceberg.PrimitiveTypes.Bool, nil
	case schema.KindInt32:
		return iceberg.PrimitiveTypes.Int32, nil
	case schema.KindInt64, schema.KindDuration:
		return iceberg.PrimitiveTypes.Int64, nil
	case schema.KindFloat32:
		return iceberg.PrimitiveTypes.Float32, nil
	case schema.KindFloat64:
		return iceberg.PrimitiveTypes.Float64, nil
	case schema.KindDecimal:
		if c.Precision < 1 || c.Precision > 38 || c.Scale < 0 || c.Scale > c.Precision {
			return nil, fmt.Errorf("column %q: decimal(%d,%d) is outside Iceberg's 1..38 digits", c.Name, c.Precision, c.Scale)
		}
		return iceberg.DecimalTypeOf(c.Precision, c.Scale), nil
	case schema.KindString:
		return iceberg.PrimitiveTypes.String, nil
	case schema.KindBytes:
		return iceberg.PrimitiveTypes.Binary, nil
	case schema.KindDate:
		return iceberg.PrimitiveTypes.Date, nil
	case schema.KindTime:
		return iceberg.PrimitiveTypes.Time, nil
	case schema.KindTimestamp:
		return iceberg.PrimitiveTypes.Timestamp, nil
	case schema.KindTimestampTZ:
		return iceberg.PrimitiveTypes.TimestampTz, nil
	default:
		return nil, fmt.Errorf("column %q has kind %s, which has no Iceberg type", c.Name, c.Kind)
	}
}

// upsertKeyed reports whether a table is written by key in the given mode.
func upsertKeyed(t *schema.Table, mode lake.Mode) bool {
	return mode == lake.ModeUpsert && t.HasPrimaryKey()
}

// Schema maps a binlake table version to a new Iceberg schema with field
// ids 1..n in column order. In upsert mode with a primary key the key
// columns are required identifier fields; in append mode every source
// column is optional (deletes carry only a before image, truncates none)
// and the changelog columns follow.
func Schema(t *schema.Table, mode lake.Mode) (*iceberg.Schema, error) {
	keyed := upsertKeyed(t, mode)
	isKey := make(map[int]bool, len(t.PrimaryKey))
	for _, k := range t.PrimaryKey {
		isKey[k] = true
	}
	fields := make([]iceberg.NestedField, 0, len(t.Columns)+3)
	var ids []int
	for i, c := range t.Columns {
		typ, err := ColumnType(c)
		if err != nil {
			return nil, fmt.Errorf("mapping table %s: %w", t.QualifiedName(), err)
		}
		id := i + 1
		required := keyed && isKey[i]
		if required {
			if typ.Equals(iceberg.PrimitiveTypes.Float32) || typ.Equals(iceberg.PrimitiveTypes.Float64) {
				return nil, fmt.Errorf("mapping table %s: primary-key column %q is a float, which Iceberg cannot use as an identifier field", t.QualifiedName(), c.Name)
			}
			ids = append(ids, id)
		}
		fields = append(fields, iceberg.NestedField{ID: id, Name: c.Name, Type: typ, Required: required})
	}
	if mode == lake.ModeAppend {
		n := len(t.Columns)
		fields = append(fields,
			iceberg.NestedField{ID: n + 1, Name: ColOp, Type: iceberg.PrimitiveTypes.String, Required: true},
			iceberg.NestedField{ID: n + 2, Name: ColSequence, Type: iceberg.PrimitiveTypes.Int64, Required: true},
			iceberg.NestedField{ID: n + 3, Name: ColSourceTs, Type: iceberg.PrimitiveTypes.TimestampTz, Required: false},
		)
	}
	return iceberg.NewSchemaWithIdentifiers(0, ids, fields...), nil
}

// ArrowSchema returns the Arrow schema of an Iceberg schema, with field ids
// attached so written Parquet files carry them.
func ArrowSchema(s *iceberg.Schema) (*arrow.Schema, error) {
	sc, err := table.SchemaToArrowSchema(s, nil, true, false)
	if err != nil {
		return nil, fmt.Errorf("mapping schema to arrow: %w", err)
	}
	return sc, nil
}

// PartitionSpec builds the Iceberg partition spec of partition.spec text for
// a new table. Upsert tables accept only transforms of primary-key columns,
// so that equality deletes and the rows they hide share a partition.
func PartitionSpec(text string, t *schema.Table, s *iceberg.Schema, mode lake.Mode) (*iceberg.PartitionSpec, error) {
	fields, err := lake.ParsePartitionSpec(text)
	if err != nil {
		return nil, err
	}
	if len(fields) == 0 {
		spec := *iceberg.UnpartitionedSpec
		return &spec, nil
	}
	keyed := upsertKeyed(t, mode)
	var opts []iceberg.PartitionOption
	for _, f := range fields {
		field, ok := s.FindFieldByNameCaseInsensitive(f.Column)
		if !ok {
			return nil, fmt.Errorf("partition.spec: table %s has no column %q", t.QualifiedName(), f.Column)
		}
		if keyed {
			idx := t.ColumnIndex(f.Column)
			inKey := false
			for _, k := range t.PrimaryKey {
				inKey = inKey || k == idx
			}
			if !inKey {
				return nil, fmt.Errorf("partition.spec: upsert table %s can only be partitioned by primary-key columns, not %q", t.QualifiedName(), f.Column)
			}
		}
		var tr iceberg.Transform
		name := field.Name
		switch f.Transform {
		case "identity":
			tr = iceberg.IdentityTransform{}
		case "bucket":
			tr, name = iceberg.BucketTransform{NumBuckets: f.Param}, fmt.Sprintf("%s_bucket_%d", field.Name, f.Param)
		case "truncate":
			tr, name = iceberg.TruncateTransform{Width: f.Param}, fmt.Sprintf("%s_trunc_%d", field.Name, f.Param)
		case "year":
			tr, name = iceberg.YearTransform{}, field.Name+"_year"
		case "month":
			tr, name = iceberg.MonthTransform{}, field.Name+"_month"
		case "day":
			tr, name = iceberg.DayTransform{}, field.Name+"_day"
		case "hour":
			tr, name = iceberg.HourTransform{}, field.Name+"_hour"
		default:
			return nil, fmt.Errorf("partition.spec: unknown transform %q", f.Transform)
		}
		if !tr.CanTransform(field.Type) {
			return nil, fmt.Errorf("partition.spec: %s cannot be applied to column %q of type %s", f.Transform, field.Name, field.Type)
		}
		opts = append(opts, iceberg.AddPartitionFieldBySourceID(field.ID, name, tr, s, nil))
	}
	spec, err := iceberg.NewPartitionSpecOpts(opts...)
	if err != nil {
		return nil, fmt.Errorf("partition.spec %q: %w", text, err)
	}
	return &spec, nil
}

// columnName lower-cases a name for case-insensitive matching, as MySQL
// compares column names.
func columnName(s string) string { return strings.ToLower(s) }
