package avro

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/schema/avroschema"
)

// This file is the direct Avro binary path for binlake's own envelope schema:
// it writes and reads exactly the bytes the goavro codec of the same schema
// does (tests compare the two on every kind and edge value), without building
// the map[string]any trees goavro needs, which dominate its cost. Messages
// written with any other schema are decoded with goavro.

var errShort = errors.New("message is truncated")

func appendLong(b []byte, v int64) []byte {
	u := uint64(v<<1) ^ uint64(v>>63)
	for u >= 0x80 {
		b = append(b, byte(u)|0x80)
		u >>= 7
	}
	return append(b, byte(u))
}

func appendString(b []byte, s string) []byte {
	b = appendLong(b, int64(len(s)))
	return append(b, s...)
}

func appendBytes(b, s []byte) []byte {
	b = appendLong(b, int64(len(s)))
	return append(b, s...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// appendValue writes one non-null column value in its physical Avro type.
func (col *column) appendValue(b []byte, v any) ([]byte, error) {
	bad := func() error { return fmt.Errorf("column %q of kind %s holds a %T", col.col.Name, col.col.Kind, v) }
	switch col.col.Kind {
	case schema.KindBool:
		x, ok := v.(bool)
		if !ok {
			return nil, bad()
		}
		return appendBool(b, x), nil
	case schema.KindInt32, schema.KindDate:
		x, ok := v.(int32)
		if !ok {
			return nil, bad()
		}
		return appendLong(b, int64(x)), nil
	case schema.KindInt64, schema.KindTime, schema.KindDuration, schema.KindTimestamp, schema.KindTimestampTZ:
		x, ok := v.(int64)
		if !ok {
			return nil, bad()
		}
		return appendLong(b, x), nil
	case schema.KindFloat32:
		x, ok := v.(float32)
		if !ok {
			return nil, bad()
		}
		return binary.LittleEndian.AppendUint32(b, math.Float32bits(x)), nil
	case schema.KindFloat64:
		x, ok := v.(float64)
		if !ok {
			return nil, bad()
		}
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(x)), nil
	case schema.KindString:
		x, ok := v.(string)
		if !ok {
			return nil, bad()
		}
		return appendString(b, x), nil
	case schema.KindBytes:
		x, ok := v.([]byte)
		if !ok {
			return nil, bad()
		}
		return appendBytes(b, x), nil
	case schema.KindDecimal:
		d, ok := v.(schema.Decimal)
		if !ok {
			return nil, bad()
		}
		u, err := col.unscaled(d)
		if err != nil {
			return nil, err
		}
		var scratch [24]byte
		return appendBytes(b, avroschema.DecimalBytes(scratch[:0], u)), nil
	}
	return nil, bad()
}

// unscaled returns d's unscaled value at the column's scale, checking the
// precision.
func (col *column) unscaled(d schema.Decimal) (*big.Int, error) {
	u := d.Unscaled
	if u == nil {
		u = new(big.Int)
	}
	if d.Scale != int32(col.col.Scale) {
		r, err := d.Rescale(int32(col.col.Scale))
		if err != nil {
			return nil, fmt.Errorf("column %q decimal(%d,%d): %w", col.col.Name, col.col.Precision, col.col.Scale, err)
		}
		u = r.Unscaled
	}
	if u.CmpAbs(col.maxAbs) >= 0 {
		return nil, fmt.Errorf("column %q: %s has more than %d digits", col.col.Name, d, col.col.Precision)
	}
	return u, nil
}

// appendRow writes the ["null", Value] union of a row image.
func (tc *tableCodec) appendRow(b []byte, row []any) ([]byte, error) {
	if row == nil {
		return append(b, 0), nil
	}
	if len(row) != len(tc.cols) {
		return nil, fmt.Errorf("row has %d values for %d columns", len(row), len(tc.cols))
	}
	b = append(b, 2) // union branch 1, zigzag encoded
	var err error
	for i := range tc.cols {
		col := &tc.cols[i]
		v := row[i]
		if col.optional {
			if v == nil {
				b = append(b, 0)
				continue
			}
			b = append(b, 2)
		} else if v == nil {
			return nil, fmt.Errorf("column %q is NOT NULL but the row holds NULL", col.col.Name)
		}
		if b, err = col.appendValue(b, v); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// appendEnvelope writes the envelope record of ev.
func (tc *tableCodec) appendEnvelope(b []byte, ev *connect.ChangeEvent) ([]byte, error) {
	var err error
	if b, err = tc.appendRow(b, ev.Before); err != nil {
		return nil, fmt.Errorf("before image: %w", err)
	}
	if b, err = tc.appendRow(b, ev.After); err != nil {
		return nil, fmt.Errorf("after image: %w", err)
	}
	s := &ev.Source
	b = appendString(b, s.Connector)
	b = appendLong(b, int64(s.ServerID))
	if s.GTID == "" {
		b = append(b, 0)
	} else {
		b = appendString(append(b, 2), s.GTID)
	}
	b = appendString(b, s.File)
	b = appendLong(b, int64(s.Pos))
	b = appendLong(b, int64(int32(s.Row)))
	b = appendString(b, s.Database)
	b = appendString(b, s.Table)
	b = appendBool(b, s.Snapshot)
	b = appendLong(b, s.CommitTimeMs)
	b = appendLong(b, int64(s.Sequence))
	b = append(b, 2, byte(ev.Op)) // op: a one-character string
	b = appendLong(b, ev.TsMs)
	if ev.Tx == nil {
		return append(b, 0), nil
	}
	b = appendString(append(b, 2), ev.Tx.ID)
	b = appendLong(b, int64(ev.Tx.TotalOrder))
	return appendLong(b, int64(ev.Tx.TableOrder)), nil
}

// reader decodes Avro binary with bounds checks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) long() int64 {
	var u uint64
	for shift := uint(0); shift < 70; shift += 7 {
		if len(r.b) == 0 {
			r.fail(errShort)
			return 0
		}
		c := r.b[0]
		r.b = r.b[1:]
		u |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return int64(u>>1) ^ -int64(u&1)
		}
	}
	r.fail(errors.New("varint is longer than 10 bytes"))
	return 0
}

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
	r.b = nil
}

func (r *reader) int32() int32 {
	v := r.long()
	if v < math.MinInt32 || v > math.MaxInt32 {
		r.fail(fmt.Errorf("int %d out of range", v))
	}
	return int32(v)
}

func (r *reader) bytes() []byte {
	n := r.long()
	if n < 0 || n > int64(len(r.b)) {
		r.fail(fmt.Errorf("length %d exceeds the %d bytes left", n, len(r.b)))
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) string() string { return string(r.bytes()) }

func (r *reader) bool() bool {
	if len(r.b) == 0 {
		r.fail(errShort)
		return false
	}
	c := r.b[0]
	r.b = r.b[1:]
	if c > 1 {
		r.fail(fmt.Errorf("boolean byte %d", c))
	}
	return c == 1
}

func (r *reader) fixed(n int) []byte {
	if len(r.b) < n {
		r.fail(errShort)
		return make([]byte, n)
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

// branch reads a ["null", T] union index: false for null.
func (r *reader) branch() bool {
	switch r.long() {
	case 0:
		return false
	case 1:
		return true
	}
	r.fail(errors.New("union index out of range"))
	return false
}

func (col *column) readValue(r *reader) any {
	switch col.col.Kind {
	case schema.KindBool:
		return r.bool()
	case schema.KindInt32, schema.KindDate:
		return r.int32()
	case schema.KindInt64, schema.KindTime, schema.KindDuration, schema.KindTimestamp, schema.KindTimestampTZ:
		return r.long()
	case schema.KindFloat32:
		return math.Float32frombits(binary.LittleEndian.Uint32(r.fixed(4)))
	case schema.KindFloat64:
		return math.Float64frombits(binary.LittleEndian.Uint64(r.fixed(8)))
	case schema.KindString:
		return r.string()
	case schema.KindBytes:
		return append([]byte{}, r.bytes()...)
	case schema.KindDecimal:
		return schema.Decimal{Unscaled: avroschema.DecimalFromBytes(r.bytes()), Scale: int32(col.col.Scale)}
	}
	r.fail(fmt.Errorf("column %q has unsupported kind %s", col.col.Name, col.col.Kind))
	return nil
}

func readRow(r *reader, cols []column) []any {
	if !r.branch() {
		return nil
	}
	row := make([]any, len(cols))
	for i := range cols {
		col := &cols[i]
		if col.optional && !r.branch() {
			continue
		}
		row[i] = col.readValue(r)
		if r.err != nil {
			return nil
		}
	}
	return row
}

// readEnvelope is the inverse of appendEnvelope.
func readEnvelope(b []byte, t *schema.Table, cols []column) (*connect.ChangeEvent, error) {
	r := &reader{b: b}
	ev := &connect.ChangeEvent{Schema: t}
	ev.Before = readRow(r, cols)
	ev.After = readRow(r, cols)
	s := &ev.Source
	s.Connector = r.string()
	s.ServerID = uint32(r.long())
	if r.branch() {
		s.GTID = r.string()
	}
	s.File = r.string()
	s.Pos = uint64(r.long())
	s.Row = int(r.int32())
	s.Database = r.string()
	s.Table = r.string()
	s.Snapshot = r.bool()
	s.CommitTimeMs = r.long()
	s.Sequence = uint64(r.long())
	op := r.bytes()
	ev.TsMs = r.long()
	if r.branch() {
		ev.Tx = &connect.TxInfo{ID: r.string(), TotalOrder: uint64(r.long()), TableOrder: uint64(r.long())}
	}
	if r.err != nil {
		return nil, r.err
	}
	if len(op) != 1 || !connect.Op(op[0]).Valid() {
		return nil, fmt.Errorf("invalid op %q", op)
	}
	ev.Op = connect.Op(op[0])
	if len(r.b) != 0 {
		return nil, fmt.Errorf("%d trailing bytes", len(r.b))
	}
	return ev, nil
}
