package avro

import (
	"context"
	"encoding/binary"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/linkedin/goavro/v2"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/converter/internal/convtest"
	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/schema/registry"
)

func TestRoundTripEveryKind(t *testing.T) {
	ctx := context.Background()
	reg := newRegistry(t)
	enc := newConverter(t, reg, Options{})
	dec := newConverter(t, reg, Options{}) // a separate consumer: no shared caches
	tbl := convtest.AllKinds()
	for i, ev := range convtest.Events(tbl) {
		body, id, err := enc.EncodeWithID(ctx, "cdc_shop_all_kinds", ev)
		if err != nil {
			t.Fatalf("event %d: encode: %v", i, err)
		}
		if body[0] != 0 || int(binary.BigEndian.Uint32(body[1:5])) != id || id <= 0 {
			t.Fatalf("event %d: wire header %x, id %d", i, body[:5], id)
		}
		got, err := dec.Decode(ctx, "cdc_shop_all_kinds", body)
		if err != nil {
			t.Fatalf("event %d: decode: %v", i, err)
		}
		if d := convtest.EqualEvents(ev, got); d != "" {
			t.Errorf("event %d (%c): %s", i, ev.Op, d)
		}
	}
	subjects, err := reg.Subjects(ctx)
	if err != nil || len(subjects) != 1 || subjects[0] != "cdc_shop_all_kinds-value" {
		t.Errorf("subjects %v, %v", subjects, err)
	}
}

// TestBytesMatchLogicalCodec checks that the pre-encoded decimals and plain
// longs give the very bytes goavro's logical-type codec produces.
func TestBytesMatchLogicalCodec(t *testing.T) {
	ctx := context.Background()
	c := newConverter(t, newRegistry(t), Options{})
	tbl := &schema.Table{Database: "d", Name: "t", Version: 1, Columns: []schema.Column{
		{Name: "id", Kind: schema.KindInt64},
		{Name: "amount", Kind: schema.KindDecimal, Precision: 38, Scale: 4},
		{Name: "n", Kind: schema.KindDecimal, Precision: 10, Scale: 2, Optional: true},
	}, PrimaryKey: []int{0}}
	tc, err := c.codecFor(tbl)
	if err != nil {
		t.Fatal(err)
	}
	logical, err := goavro.NewCodecWithOptions(tc.schemas.Envelope, &goavro.CodecOption{EnableDecimalBinarySpecCompliantEncoding: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"0.0000", "-1.0000", "12345678901234567890123456789012.3456", "-99999999999999999999999999999999.9999", "0.0128"} {
		d, _ := schema.ParseDecimal(s)
		ev := &connect.ChangeEvent{Op: connect.OpCreate, Schema: tbl, After: []any{int64(7), d, schema.Decimal{Unscaled: big.NewInt(-12345), Scale: 2}}}
		body, err := c.Encode(ctx, "t", ev)
		if err != nil {
			t.Fatal(err)
		}
		datum, err := tc.envelopeDatum(ev)
		if err != nil {
			t.Fatal(err)
		}
		rec := datum["after"].(map[string]any)[tc.valueName].(map[string]any)
		rec["amount"] = new(big.Rat).SetFrac(d.Unscaled, big.NewInt(10000))
		rec["n"] = map[string]any{"bytes.decimal": big.NewRat(-12345, 100)}
		want, err := logical.BinaryFromNative(nil, datum)
		if err != nil {
			t.Fatal(err)
		}
		if string(body[5:]) != string(want) {
			t.Errorf("%s: converter bytes %x, goavro logical %x", s, body[5:], want)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	c := newConverter(t, newRegistry(t), Options{})
	tbl := &schema.Table{Database: "d", Name: "t", Version: 1, Columns: []schema.Column{
		{Name: "a", Kind: schema.KindInt32}, {Name: "p", Kind: schema.KindDecimal, Precision: 4, Scale: 2, Optional: true}}}
	d := func(s string) schema.Decimal { x, _ := schema.ParseDecimal(s); return x }
	cases := map[string]*connect.ChangeEvent{
		"wrong go type":     {Op: connect.OpCreate, Schema: tbl, After: []any{int64(1), nil}},
		"null in not null":  {Op: connect.OpCreate, Schema: tbl, After: []any{nil, nil}},
		"short row":         {Op: connect.OpCreate, Schema: tbl, After: []any{int32(1)}},
		"bad op":            {Op: 'x', Schema: tbl, After: []any{int32(1), nil}},
		"too many digits":   {Op: connect.OpCreate, Schema: tbl, After: []any{int32(1), d("100.00")}},
		"scale loses digit": {Op: connect.OpCreate, Schema: tbl, After: []any{int32(1), d("1.234")}},
		"nil schema":        {Op: connect.OpCreate, After: []any{int32(1), nil}},
	}
	for name, ev := range cases {
		if _, err := c.Encode(context.Background(), "t", ev); err == nil {
			t.Errorf("%s: encode succeeded", name)
		} else if connect.IsTransient(err) {
			t.Errorf("%s: the event's own problem is marked transient: %v", name, err)
		}
	}
	// A smaller scale is rescaled exactly.
	ev := &connect.ChangeEvent{Op: connect.OpCreate, Schema: tbl, After: []any{int32(1), d("12.3")}}
	body, err := c.Encode(context.Background(), "t", ev)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Decode(context.Background(), "t", body)
	if err != nil {
		t.Fatal(err)
	}
	if p := got.After[1].(schema.Decimal); p.String() != "12.30" {
		t.Errorf("rescaled decimal %s", p)
	}
}

func TestDecodeErrors(t *testing.T) {
	ctx := context.Background()
	c := newConverter(t, newRegistry(t), Options{})
	good, err := c.Encode(ctx, "t", convtest.Events(convtest.AllKinds())[0])
	if err != nil {
		t.Fatal(err)
	}
	unknownID := append([]byte{0, 0, 0, 0x7f, 0}, good[5:]...)
	cases := map[string][]byte{
		"empty":      nil,
		"bad magic":  append([]byte{1}, good[1:]...),
		"unknown id": unknownID,
		"truncated":  good[:len(good)-3],
		"trailing":   append(append([]byte{}, good...), 0),
	}
	for name, body := range cases {
		if _, err := c.Decode(ctx, "t", body); err == nil {
			t.Errorf("%s: decode succeeded", name)
		} else if connect.IsTransient(err) {
			t.Errorf("%s: the message's own problem is marked transient: %v", name, err)
		}
	}
}

// TestRegistryDownIsTransient: when the registry does not answer, Encode
// and Decode fail with a transient error (the worker retries instead of
// failing or skipping the record).
func TestRegistryDownIsTransient(t *testing.T) {
	ctx := context.Background()
	good, err := newConverter(t, newRegistry(t), Options{}).Encode(ctx, "t", convtest.Events(convtest.AllKinds())[0])
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens there any more
	down, err := registry.NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	c := newConverter(t, down, Options{})
	if _, err := c.Encode(ctx, "t", convtest.Events(convtest.AllKinds())[0]); err == nil || !connect.IsTransient(err) {
		t.Errorf("encode with the registry down: %v, want a transient error", err)
	}
	if _, err := c.Decode(ctx, "t", good); err == nil || !connect.IsTransient(err) {
		t.Errorf("decode with the registry down: %v, want a transient error", err)
	}
}

func TestSubjectStrategies(t *testing.T) {
	ctx := context.Background()
	reg := newRegistry(t)
	c := newConverter(t, reg, Options{Subjects: TopicRecordNameStrategy, NamePrefix: "cdc"})
	tbl := convtest.AllKinds()
	ev := convtest.Events(tbl)[0]
	if _, _, err := c.EncodeWithID(ctx, "shared", ev); err != nil {
		t.Fatal(err)
	}
	keyBody, keyID, err := c.EncodeKey(ctx, "shared", ev)
	if err != nil || keyID <= 0 || len(keyBody) < 6 {
		t.Fatalf("key: %x %d %v", keyBody, keyID, err)
	}
	subjects, err := reg.Subjects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"shared-cdc.shop.all_kinds.Envelope", "shared-cdc.shop.all_kinds.Key"}
	if strings.Join(subjects, ",") != strings.Join(want, ",") {
		t.Errorf("subjects %v, want %v", subjects, want)
	}
	plain := newConverter(t, reg, Options{})
	if s := plain.Subject("orders", tbl, true); s != "orders-key" {
		t.Errorf("key subject %s", s)
	}
}
