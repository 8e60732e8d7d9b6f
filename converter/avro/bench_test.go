package avro

import (
	"context"
	"math/big"
	"testing"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/schema"
)

// benchEvent is an update of a typical 10-column row (before and after
// images), with a decimal, timestamps and nullable strings.
func benchEvent() *connect.ChangeEvent {
	t := &schema.Table{Database: "shop", Name: "orders", Version: 1, Columns: []schema.Column{
		{Name: "id", Kind: schema.KindInt64},
		{Name: "customer", Kind: schema.KindString},
		{Name: "email", Kind: schema.KindString, Optional: true},
		{Name: "price", Kind: schema.KindDecimal, Precision: 10, Scale: 2},
		{Name: "qty", Kind: schema.KindInt32},
		{Name: "created_at", Kind: schema.KindTimestamp},
		{Name: "updated_at", Kind: schema.KindTimestampTZ, Optional: true},
		{Name: "paid", Kind: schema.KindBool},
		{Name: "score", Kind: schema.KindFloat64},
		{Name: "note", Kind: schema.KindString, Optional: true},
	}, PrimaryKey: []int{0}}
	row := func(q int32) []any {
		return []any{int64(123456789), "Ada Lovelace", "ada@example.com", schema.Decimal{Unscaled: big.NewInt(1999), Scale: 2}, q,
			int64(1_700_000_000_000_000), int64(1_700_000_000_123_456), true, 4.75, nil}
	}
	return &connect.ChangeEvent{Op: connect.OpUpdate, Schema: t, Before: row(1), After: row(2), TsMs: 1_700_000_000_500,
		Source: connect.SourceInfo{Connector: "mysql", ServerID: 1, GTID: "3e11fa47-71ca-11e1-9e33-c80aa9429562:23", File: "mysql-bin.000003",
			Pos: 4711, Database: "shop", Table: "orders", CommitTimeMs: 1_700_000_000_000, Sequence: 99},
		Tx: &connect.TxInfo{ID: "3e11fa47-71ca-11e1-9e33-c80aa9429562:23", TotalOrder: 1, TableOrder: 1}}
}

// BenchmarkEncode measures encoding one update event (10 columns, both
// images) with warm codec and schema-id caches.
func BenchmarkEncode(b *testing.B) {
	b.Run("direct", func(b *testing.B) { benchEncode(b, Options{}) })
	b.Run("goavro", func(b *testing.B) { benchEncode(b, Options{Goavro: true}) })
}

func benchEncode(b *testing.B, opts Options) {
	ctx := context.Background()
	c := newConverter(b, newRegistry(b), opts)
	ev := benchEvent()
	body, err := c.Encode(ctx, "t", ev)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Encode(ctx, "t", ev); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecode measures decoding that message with a warm writer-schema
// cache.
func BenchmarkDecode(b *testing.B) {
	b.Run("direct", func(b *testing.B) { benchDecode(b, Options{}) })
	b.Run("goavro", func(b *testing.B) { benchDecode(b, Options{Goavro: true}) })
}

func benchDecode(b *testing.B, opts Options) {
	ctx := context.Background()
	c := newConverter(b, newRegistry(b), opts)
	body, err := c.Encode(ctx, "t", benchEvent())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.Decode(ctx, "t", body); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Decode(ctx, "t", body); err != nil {
			b.Fatal(err)
		}
	}
}
