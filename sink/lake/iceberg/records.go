package iceberg

import (
	"fmt"
	"iter"
	"math/big"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/sink/lake"
)

// recordChunkRows bounds the rows of one Arrow record built from buffered
// rows: the writer holds one record per chunk, not the whole batch.
const recordChunkRows = 32768

// rowSource turns a buffered row into the Arrow field values of the file
// schema: fieldValue returns the value of field i of row r.
type rowSource struct {
	// columns maps, per table version, each arrow field to the index of
	// its source column (-1: no such column, written as null).
	columns func(t *schema.Table) ([]int, error)
	// extra fills fields that are not source columns (changelog columns);
	// it returns ok=false for fields it does not know.
	extra func(field int, r *lake.Row) (v any, ok bool)
}

// records yields Arrow records of sc built from rows in chunks of
// recordChunkRows. The consumer releases each record.
func records(mem memory.Allocator, sc *arrow.Schema, rows []lake.Row, src rowSource) iter.Seq2[arrow.RecordBatch, error] {
	return func(yield func(arrow.RecordBatch, error) bool) {
		for start := 0; start < len(rows); start += recordChunkRows {
			end := min(start+recordChunkRows, len(rows))
			rec, err := buildRecord(mem, sc, rows[start:end], src)
			if !yield(rec, err) || err != nil {
				return
			}
		}
	}
}

func buildRecord(mem memory.Allocator, sc *arrow.Schema, rows []lake.Row, src rowSource) (arrow.RecordBatch, error) {
	b := array.NewRecordBuilder(mem, sc)
	defer b.Release()
	for i := range b.Fields() {
		b.Field(i).Reserve(len(rows))
	}
	var (
		lastTable *schema.Table
		cols      []int
	)
	for ri := range rows {
		r := &rows[ri]
		if r.Schema != lastTable {
			var err error
			if cols, err = src.columns(r.Schema); err != nil {
				return nil, err
			}
			lastTable = r.Schema
		}
		for fi, fb := range b.Fields() {
			var v any
			if ci := cols[fi]; ci >= 0 {
				if ci < len(r.Values) {
					v = r.Values[ci]
				}
			} else if src.extra != nil {
				v, _ = src.extra(fi, r)
			}
			if err := appendValue(fb, v); err != nil {
				f := sc.Field(fi)
				if v == nil && !f.Nullable {
					return nil, fmt.Errorf("column %q is required but the row (sequence %d) has no value for it", f.Name, r.Sequence)
				}
				return nil, fmt.Errorf("column %q (row sequence %d): %w", f.Name, r.Sequence, err)
			}
		}
	}
	return b.NewRecordBatch(), nil
}

// appendValue appends one binlake value (schema.Kind's Go representation)
// to an Arrow builder, widening where Iceberg promoted the column.
func appendValue(b array.Builder, v any) error {
	if v == nil {
		b.AppendNull()
		return nil
	}
	switch b := b.(type) {
	case *array.BooleanBuilder:
		if x, ok := v.(bool); ok {
			b.Append(x)
			return nil
		}
	case *array.Int32Builder:
		if x, ok := v.(int32); ok {
			b.Append(x)
			return nil
		}
	case *array.Int64Builder:
		switch x := v.(type) {
		case int64:
			b.Append(x)
			return nil
		case int32:
			b.Append(int64(x))
			return nil
		}
	case *array.Float32Builder:
		if x, ok := v.(float32); ok {
			b.Append(x)
			return nil
		}
	case *array.Float64Builder:
		switch x := v.(type) {
		case float64:
			b.Append(x)
			return nil
		case float32:
			b.Append(float64(x))
			return nil
		}
	case *array.Decimal128Builder:
		if x, ok := v.(schema.Decimal); ok {
			return appendDecimal(b, x)
		}
	case *array.StringBuilder:
		if x, ok := v.(string); ok {
			b.Append(x)
			return nil
		}
	case *array.LargeStringBuilder:
		if x, ok := v.(string); ok {
			b.Append(x)
			return nil
		}
	case *array.BinaryBuilder:
		if x, ok := v.([]byte); ok {
			b.Append(x)
			return nil
		}
	case *array.Date32Builder:
		if x, ok := v.(int32); ok {
			b.Append(arrow.Date32(x))
			return nil
		}
	case *array.Time64Builder:
		if x, ok := v.(int64); ok {
			b.Append(arrow.Time64(x))
			return nil
		}
	case *array.TimestampBuilder:
		if x, ok := v.(int64); ok {
			b.Append(arrow.Timestamp(x))
			return nil
		}
	default:
		return fmt.Errorf("unsupported arrow type %s", b.Type())
	}
	return fmt.Errorf("value of Go type %T does not fit arrow type %s", v, b.Type())
}

// pow10 holds 10^0 .. 10^38, the digit limits of decimal precisions.
var pow10 = func() [39]*big.Int {
	var p [39]*big.Int
	p[0] = big.NewInt(1)
	for i := 1; i < len(p); i++ {
		p[i] = new(big.Int).Mul(p[i-1], big.NewInt(10))
	}
	return p
}()

func appendDecimal(b *array.Decimal128Builder, d schema.Decimal) error {
	dt := b.Type().(*arrow.Decimal128Type)
	r, err := d.Rescale(dt.Scale)
	if err != nil {
		return fmt.Errorf("decimal %s does not fit decimal(%d,%d): %w", d, dt.Precision, dt.Scale, err)
	}
	if dt.Precision < 1 || dt.Precision > 38 || r.Unscaled.CmpAbs(pow10[dt.Precision]) >= 0 {
		return fmt.Errorf("decimal %s has more than %d digits", d, dt.Precision)
	}
	b.Append(decimal128.FromBigInt(r.Unscaled))
	return nil
}
