package avro

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strings"

	"github.com/linkedin/goavro/v2"

	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/schema/avroschema"
)

// physicalCodec builds a goavro codec for the schema with every logicalType
// removed. The binary encoding is the same (logical types only annotate), and
// the codec then takes and returns plain values: decimals as the unscaled
// two's-complement bytes binlake computes itself (about 3x faster than
// goavro's *big.Rat path), timestamps as int64 micros instead of time.Time.
func physicalCodec(text string) (*goavro.Codec, error) {
	var v any
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("parsing schema: %w", err)
	}
	stripLogical(v)
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding physical schema: %w", err)
	}
	c, err := goavro.NewCodec(string(b))
	if err != nil {
		return nil, fmt.Errorf("building Avro codec: %w", err)
	}
	return c, nil
}

func stripLogical(v any) {
	switch x := v.(type) {
	case map[string]any:
		delete(x, "logicalType")
		for _, e := range x {
			stripLogical(e)
		}
	case []any:
		for _, e := range x {
			stripLogical(e)
		}
	}
}

// column is the per-column encoding plan of a table version.
type column struct {
	name     string // Avro field name
	col      *schema.Column
	branch   string   // union branch name of the physical type
	maxAbs   *big.Int // decimals: 10^precision (exclusive bound of |unscaled|)
	optional bool
}

func branchName(k schema.Kind) string {
	switch k {
	case schema.KindBool:
		return "boolean"
	case schema.KindInt32, schema.KindDate:
		return "int"
	case schema.KindInt64, schema.KindTime, schema.KindDuration, schema.KindTimestamp, schema.KindTimestampTZ:
		return "long"
	case schema.KindFloat32:
		return "float"
	case schema.KindFloat64:
		return "double"
	case schema.KindDecimal, schema.KindBytes:
		return "bytes"
	default:
		return "string"
	}
}

func planColumns(t *schema.Table, names []string) []column {
	cols := make([]column, len(t.Columns))
	for i := range t.Columns {
		c := &t.Columns[i]
		cols[i] = column{name: names[i], col: c, branch: branchName(c.Kind), optional: c.Optional}
		if c.Kind == schema.KindDecimal {
			cols[i].maxAbs = new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(c.Precision)), nil)
		}
	}
	return cols
}

// toNative converts a column value to the physical codec's native value.
func (c *column) toNative(v any) (any, error) {
	if !c.col.Kind.Holds(v) {
		return nil, fmt.Errorf("column %q of kind %s holds a %T", c.col.Name, c.col.Kind, v)
	}
	switch c.col.Kind {
	case schema.KindDecimal:
		d := v.(schema.Decimal)
		u := d.Unscaled
		if u == nil {
			u = new(big.Int)
		}
		if d.Scale != int32(c.col.Scale) {
			r, err := d.Rescale(int32(c.col.Scale))
			if err != nil {
				return nil, fmt.Errorf("column %q decimal(%d,%d): %w", c.col.Name, c.col.Precision, c.col.Scale, err)
			}
			u = r.Unscaled
		}
		if u.CmpAbs(c.maxAbs) >= 0 {
			return nil, fmt.Errorf("column %q: %s has more than %d digits", c.col.Name, d, c.col.Precision)
		}
		return avroschema.DecimalBytes(nil, u), nil
	}
	return v, nil
}

// fromNative converts a decoded physical value back to the column's Go value.
func (c *column) fromNative(v any) (any, error) {
	bad := func() error {
		return fmt.Errorf("field %s of kind %s decoded as %T", c.name, c.col.Kind, v)
	}
	switch c.col.Kind {
	case schema.KindBytes:
		b, ok := v.([]byte)
		if !ok {
			return nil, bad()
		}
		return append([]byte{}, b...), nil // goavro's slice aliases the message body
	case schema.KindDecimal: // the physical value is the unscaled bytes
		b, ok := v.([]byte)
		if !ok {
			return nil, bad()
		}
		return schema.Decimal{Unscaled: avroschema.DecimalFromBytes(b), Scale: int32(c.col.Scale)}, nil
	}
	if !c.col.Kind.Holds(v) {
		return nil, bad()
	}
	return v, nil
}
