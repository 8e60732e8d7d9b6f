package hudi

import (
	"fmt"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/binlake/binlake/schema"
)

// newRow is one record to write: its meta values and its row image.
type newRow struct {
	key       string
	partition string
	row       []any
}

// buildRecords turns new rows into Arrow arrays of the base-file schema sc
// (meta columns first). commitTime and fileName fill their meta columns;
// row i's _hoodie_commit_seqno is seqPrefix followed by firstSeq+i.
func buildRecords(mem memory.Allocator, sc *arrow.Schema, t *schema.Table, rows []newRow, commitTime, fileName, seqPrefix string, firstSeq int) ([]arrow.Array, error) {
	b := array.NewRecordBuilder(mem, sc)
	defer b.Release()
	b.Reserve(len(rows))
	for n, r := range rows {
		metas := [numMetaFields]string{commitTime, seqPrefix + strconv.Itoa(firstSeq+n), r.key, r.partition, fileName}
		for i, m := range metas {
			b.Field(i).(*array.StringBuilder).Append(m)
		}
		if len(r.row) != len(t.Columns) {
			return nil, fmt.Errorf("row of key %s has %d values, table %s has %d columns", r.key, len(r.row), t.QualifiedName(), len(t.Columns))
		}
		for ci, c := range t.Columns {
			if err := appendValue(b.Field(numMetaFields+ci), c, r.row[ci]); err != nil {
				return nil, fmt.Errorf("row of key %s: column %q: %w", r.key, c.Name, err)
			}
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	out := make([]arrow.Array, rec.NumCols())
	for i := range out {
		out[i] = rec.Column(i)
		out[i].Retain()
	}
	return out, nil
}

// appendValue appends the Go value of a column (schema.Kind docs) to its
// builder. A value of the wrong Go type is an error, never a panic.
func appendValue(b array.Builder, c schema.Column, v any) error {
	if v == nil {
		b.AppendNull()
		return nil
	}
	bad := func() error { return fmt.Errorf("value of Go type %T does not fit kind %s", v, c.Kind) }
	switch bb := b.(type) {
	case *array.BooleanBuilder:
		x, ok := v.(bool)
		if !ok {
			return bad()
		}
		bb.Append(x)
	case *array.Int32Builder:
		x, ok := v.(int32)
		if !ok {
			return bad()
		}
		bb.Append(x)
	case *array.Int64Builder:
		switch x := v.(type) {
		case int64:
			bb.Append(x)
		case int32:
			bb.Append(int64(x))
		default:
			return bad()
		}
	case *array.Float32Builder:
		x, ok := v.(float32)
		if !ok {
			return bad()
		}
		bb.Append(x)
	case *array.Float64Builder:
		switch x := v.(type) {
		case float64:
			bb.Append(x)
		case float32:
			bb.Append(float64(x))
		default:
			return bad()
		}
	case *array.Decimal128Builder:
		x, ok := v.(schema.Decimal)
		if !ok {
			return bad()
		}
		d, err := x.Rescale(int32(c.Scale))
		if err != nil {
			return err
		}
		if d.Unscaled == nil {
			bb.Append(decimal128.Num{})
			return nil
		}
		n := decimal128.FromBigInt(d.Unscaled)
		if !n.FitsInPrecision(int32(c.Precision)) {
			return fmt.Errorf("decimal %s does not fit decimal(%d,%d)", x, c.Precision, c.Scale)
		}
		bb.Append(n)
	case *array.StringBuilder:
		x, ok := v.(string)
		if !ok {
			return bad()
		}
		bb.Append(x)
	case *array.BinaryBuilder:
		x, ok := v.([]byte)
		if !ok {
			return bad()
		}
		bb.Append(x)
	case *array.Date32Builder:
		x, ok := v.(int32)
		if !ok {
			return bad()
		}
		bb.Append(arrow.Date32(x))
	case *array.Time64Builder:
		x, ok := v.(int64)
		if !ok {
			return bad()
		}
		bb.Append(arrow.Time64(x))
	case *array.TimestampBuilder:
		x, ok := v.(int64)
		if !ok {
			return bad()
		}
		bb.Append(arrow.Timestamp(x))
	default:
		return fmt.Errorf("no builder for kind %s", c.Kind)
	}
	return nil
}

// conformColumn returns the column data of an existing base file in the type
// of the current schema: the same chunks when the type is unchanged, widened
// copies for int->long and float->double, nulls for a column the file does
// not have. ch may be nil (missing column) when n rows are needed.
func conformColumn(mem memory.Allocator, ch *arrow.Chunked, want arrow.DataType, n int) (*arrow.Chunked, error) {
	if ch == nil {
		nulls := array.MakeArrayOfNull(mem, want, n)
		defer nulls.Release()
		return arrow.NewChunked(want, []arrow.Array{nulls}), nil
	}
	if arrow.TypeEqual(ch.DataType(), want) {
		ch.Retain()
		return ch, nil
	}
	out := make([]arrow.Array, 0, len(ch.Chunks()))
	defer func() {
		for _, a := range out {
			a.Release()
		}
	}()
	for _, c := range ch.Chunks() {
		switch src := c.(type) {
		case *array.Int32:
			if want.ID() != arrow.INT64 {
				return nil, fmt.Errorf("cannot read int column as %s", want)
			}
			b := array.NewInt64Builder(mem)
			b.Reserve(src.Len())
			for i := 0; i < src.Len(); i++ {
				if src.IsNull(i) {
					b.AppendNull()
				} else {
					b.Append(int64(src.Value(i)))
				}
			}
			out = append(out, b.NewArray())
			b.Release()
		case *array.Float32:
			if want.ID() != arrow.FLOAT64 {
				return nil, fmt.Errorf("cannot read float column as %s", want)
			}
			b := array.NewFloat64Builder(mem)
			b.Reserve(src.Len())
			for i := 0; i < src.Len(); i++ {
				if src.IsNull(i) {
					b.AppendNull()
				} else {
					b.Append(float64(src.Value(i)))
				}
			}
			out = append(out, b.NewArray())
			b.Release()
		default:
			return nil, fmt.Errorf("cannot read %s column as %s", c.DataType(), want)
		}
	}
	return arrow.NewChunked(want, out), nil
}
