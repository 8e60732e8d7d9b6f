package json

import (
	"context"
	stdjson "encoding/json"
	"strings"
	"testing"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/converter/internal/convtest"
	"github.com/binlake/binlake/schema"
)

func TestRoundTripEveryKind(t *testing.T) {
	c := New()
	tbl := convtest.AllKinds()
	for i, ev := range convtest.Events(tbl) {
		body, err := c.Encode(context.Background(), "topic", ev)
		if err != nil {
			t.Fatalf("event %d: encode: %v", i, err)
		}
		if !stdjson.Valid(body) {
			t.Fatalf("event %d: invalid JSON %s", i, body)
		}
		got, err := c.Decode(context.Background(), "topic", body)
		if err != nil {
			t.Fatalf("event %d: decode: %v\n%s", i, err, body)
		}
		if d := convtest.EqualEvents(ev, got); d != "" {
			t.Errorf("event %d (%c): %s\n%s", i, ev.Op, d, body)
		}
	}
}

func TestExactValuesInText(t *testing.T) {
	tbl := &schema.Table{Database: "d", Name: "t", Version: 1, Columns: []schema.Column{
		{Name: "big", Kind: schema.KindInt64}, {Name: "amount", Kind: schema.KindDecimal, Precision: 38, Scale: 4},
		{Name: "raw", Kind: schema.KindBytes},
	}, PrimaryKey: []int{0}}
	d, _ := schema.ParseDecimal("12345678901234567890123456789012.3400")
	ev := &connect.ChangeEvent{Op: connect.OpCreate, Schema: tbl, After: []any{int64(9007199254740993), d, []byte("hi")}}
	body, err := New().Encode(context.Background(), "t", ev)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"big":9007199254740993`, `"amount":"12345678901234567890123456789012.3400"`, `"raw":"aGk="`, `"primary_key":["big"]`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("body lacks %s: %s", want, body)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	tbl := &schema.Table{Database: "d", Name: "t", Version: 1, Columns: []schema.Column{{Name: "a", Kind: schema.KindInt32}, {Name: "s", Kind: schema.KindString, Optional: true}}}
	cases := map[string]*connect.ChangeEvent{
		"wrong go type":   {Op: connect.OpCreate, Schema: tbl, After: []any{int64(1), nil}},
		"null in notnull": {Op: connect.OpCreate, Schema: tbl, After: []any{nil, nil}},
		"short row":       {Op: connect.OpCreate, Schema: tbl, After: []any{int32(1)}},
		"bad op":          {Op: 'x', Schema: tbl, After: []any{int32(1), nil}},
		"bad utf8":        {Op: connect.OpCreate, Schema: tbl, After: []any{int32(1), "\xff"}},
		"nil schema":      {Op: connect.OpCreate, After: []any{int32(1), nil}},
	}
	for name, ev := range cases {
		if _, err := New().Encode(context.Background(), "t", ev); err == nil {
			t.Errorf("%s: encode succeeded", name)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	good, err := New().Encode(context.Background(), "t", convtest.Events(convtest.AllKinds())[0])
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"not json":       "{",
		"no schema":      `{"op":"c"}`,
		"bad op":         strings.Replace(string(good), `"op":"c"`, `"op":"q"`, 1),
		"int overflow":   strings.Replace(string(good), `"c_int32":`, `"c_int32":4294967296,"x":`, 1),
		"decimal number": strings.Replace(string(good), `"price":"`, `"price":1,"y":"`, 1),
		"missing column": strings.Replace(string(good), `"id":`, `"idx":`, 1),
	}
	for name, body := range cases {
		if _, err := New().Decode(context.Background(), "t", []byte(body)); err == nil {
			t.Errorf("%s: decode succeeded", name)
		}
	}
}
