package connect

import (
	"math/big"
	"testing"

	"github.com/binlake/binlake/schema"
)

func TestTopicName(t *testing.T) {
	tests := []struct{ prefix, db, table, want string }{
		{"inv", "shop", "orders", "inv_shop_orders"},
		{"inv", "my.db", "t$1", "inv_my_db_t_1"},
		{"a-b", "db", "ünï", "a-b_db__n_"},
	}
	for _, tt := range tests {
		if got := TopicName(tt.prefix, tt.db, tt.table); got != tt.want {
			t.Errorf("TopicName(%q, %q, %q) = %q, want %q", tt.prefix, tt.db, tt.table, got, tt.want)
		}
	}
}

func TestMessageKey(t *testing.T) {
	tb := &schema.Table{Database: "d", Name: "t", Columns: []schema.Column{
		{Name: "a", Kind: schema.KindInt64}, {Name: "b", Kind: schema.KindString}, {Name: "c", Kind: schema.KindBytes},
		{Name: "d", Kind: schema.KindDecimal, Precision: 20},
	}, PrimaryKey: []int{3, 1, 2}}
	row := []any{int64(5), "x", []byte{0xde, 0xad}, schema.Decimal{Unscaled: big.NewInt(42)}}
	if got, want := MessageKey(tb, row), "42\x1fx\x1fdead"; got != want {
		t.Fatalf("MessageKey = %q, want %q", got, want)
	}
	tb.PrimaryKey = nil
	if got := MessageKey(tb, row); got != "" {
		t.Fatalf("a table without a key has key %q, want empty", got)
	}
}

func TestEventRowAndOp(t *testing.T) {
	del := &ChangeEvent{Op: OpDelete, Before: []any{int64(1)}}
	if del.Row()[0] != int64(1) {
		t.Fatal("Row of a delete is its before image")
	}
	upd := &ChangeEvent{Op: OpUpdate, Before: []any{int64(1)}, After: []any{int64(2)}}
	if upd.Row()[0] != int64(2) {
		t.Fatal("Row of an update is its after image")
	}
	for _, o := range []Op{OpCreate, OpUpdate, OpDelete, OpRead, OpTruncate} {
		if !o.Valid() {
			t.Errorf("%v must be valid", o)
		}
	}
	if Op('x').Valid() {
		t.Error("x is not an op")
	}
	if err := Terminal(nil, "hint"); err != nil {
		t.Fatal("Terminal(nil) must be nil")
	}
}
