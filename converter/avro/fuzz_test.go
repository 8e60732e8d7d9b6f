package avro

import (
	"context"
	"encoding/binary"
	"math"
	"math/big"
	"testing"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/converter/internal/convtest"
	"github.com/binlake/binlake/schema"
)

// byteSource turns fuzz input into values; it yields zeros once exhausted.
type byteSource struct{ b []byte }

func (s *byteSource) next(n int) []byte {
	out := make([]byte, n)
	k := copy(out, s.b)
	s.b = s.b[k:]
	return out
}

func (s *byteSource) u64() uint64 { return binary.LittleEndian.Uint64(s.next(8)) }

func (s *byteSource) value(c *schema.Column) any {
	sel := s.next(1)[0]
	if c.Optional && sel%4 == 0 {
		return nil
	}
	switch c.Kind {
	case schema.KindBool:
		return sel&1 == 1
	case schema.KindInt32, schema.KindDate:
		return int32(s.u64())
	case schema.KindInt64, schema.KindTime, schema.KindDuration, schema.KindTimestamp, schema.KindTimestampTZ:
		return int64(s.u64())
	case schema.KindFloat32:
		return math.Float32frombits(uint32(s.u64()))
	case schema.KindFloat64:
		return math.Float64frombits(s.u64())
	case schema.KindDecimal:
		u := new(big.Int).SetBytes(s.next(int(sel) % 17))
		u.Mod(u, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(c.Precision)), nil))
		if sel&1 == 1 {
			u.Neg(u)
		}
		return schema.Decimal{Unscaled: u, Scale: int32(c.Scale)}
	case schema.KindString:
		return string(s.next(int(sel) % 40))
	case schema.KindBytes:
		return s.next(int(sel) % 40)
	}
	return nil
}

// FuzzRoundTrip encodes an event whose values come from the fuzz input and
// checks that decoding gives it back exactly; it also feeds the raw input to
// Decode, which must fail cleanly rather than panic.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0xff, 0x80, 0x7f})
	f.Add([]byte("\x00\x00\x00\x00\x01\x02\x00"))
	ctx := context.Background()
	reg := newRegistry(f)
	c := newConverter(f, reg, Options{})
	generic := newConverter(f, reg, Options{Goavro: true})
	tbl := convtest.AllKinds()
	f.Fuzz(func(t *testing.T, data []byte) {
		src := &byteSource{b: data}
		ops := []connect.Op{connect.OpCreate, connect.OpUpdate, connect.OpDelete, connect.OpRead, connect.OpTruncate}
		ev := &connect.ChangeEvent{Op: ops[int(src.next(1)[0])%len(ops)], Schema: tbl, TsMs: int64(src.u64())}
		row := func() []any {
			r := make([]any, len(tbl.Columns))
			for i := range tbl.Columns {
				r[i] = src.value(&tbl.Columns[i])
			}
			return r
		}
		switch ev.Op {
		case connect.OpCreate, connect.OpRead:
			ev.After = row()
		case connect.OpUpdate:
			ev.Before, ev.After = row(), row()
		case connect.OpDelete:
			ev.Before = row()
		}
		ev.Source = connect.SourceInfo{Connector: string(src.next(3)), ServerID: uint32(src.u64()), File: "f", Pos: src.u64(),
			Row: int(int32(src.u64())), Database: tbl.Database, Table: tbl.Name, Snapshot: src.next(1)[0]&1 == 1,
			CommitTimeMs: int64(src.u64()), Sequence: src.u64()}
		if src.next(1)[0]&1 == 1 {
			ev.Tx = &connect.TxInfo{ID: string(src.next(5)), TotalOrder: src.u64(), TableOrder: src.u64()}
		}
		body, err := c.Encode(ctx, "fuzz", ev)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		viaGoavro, err := generic.Encode(ctx, "fuzz", ev)
		if err != nil {
			t.Fatalf("goavro encode: %v", err)
		}
		if string(viaGoavro) != string(body) {
			t.Fatalf("direct bytes %x differ from goavro's %x", body, viaGoavro)
		}
		got, err := c.Decode(ctx, "fuzz", body)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if d := convtest.EqualEvents(ev, got); d != "" {
			t.Fatalf("round trip: %s", d)
		}
		// Arbitrary bytes must fail cleanly (no panic) on both paths.
		for _, conv := range []*Converter{c, generic} {
			_, _ = conv.Decode(ctx, "fuzz", data)
			_, _ = conv.Decode(ctx, "fuzz", append(body[:5:5], data...))
		}
	})
}
