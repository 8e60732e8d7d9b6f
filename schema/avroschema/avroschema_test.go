package avroschema

import (
	"encoding/json"
	"math/big"
	"reflect"
	"strings"
	"testing"

	"github.com/linkedin/goavro/v2"

	"github.com/binlake/binlake/schema"
)

func testTable() *schema.Table {
	d, _ := schema.ParseDecimal("-1.50")
	return &schema.Table{Database: "shop-eu", Name: "order items", Version: 4, Columns: []schema.Column{
		{Name: "id", Kind: schema.KindInt64, SourceType: "bigint"},
		{Name: "flag", Kind: schema.KindBool, HasDefault: true, Default: true},
		{Name: "n", Kind: schema.KindInt32, Optional: true, HasDefault: true, Default: int32(5)},
		{Name: "f", Kind: schema.KindFloat32, HasDefault: true, Default: float32(0.1)},
		{Name: "g", Kind: schema.KindFloat64, Optional: true},
		{Name: "price", Kind: schema.KindDecimal, Precision: 10, Scale: 2, HasDefault: true, Default: d, Aliases: []string{"cost"}},
		{Name: "s", Kind: schema.KindString, Optional: true, HasDefault: true},
		{Name: "b", Kind: schema.KindBytes, HasDefault: true, Default: []byte{0, 0xff, 0x80}},
		{Name: "d", Kind: schema.KindDate, HasDefault: true, Default: int32(-1)},
		{Name: "t", Kind: schema.KindTime},
		{Name: "dur", Kind: schema.KindDuration, SourceType: "time"},
		{Name: "ts", Kind: schema.KindTimestamp, SourceType: "datetime(6)"},
		{Name: "tstz", Kind: schema.KindTimestampTZ, HasDefault: true, Default: int64(0)},
		{Name: "1st col", Kind: schema.KindString, Aliases: []string{"old-name"}},
		{Name: "1st-col", Kind: schema.KindString},
	}, PrimaryKey: []int{0, 5}}
}

func TestFromTableToTableRoundTrip(t *testing.T) {
	tbl := testTable()
	s, err := FromTable(tbl, "cdc.prod")
	if err != nil {
		t.Fatal(err)
	}
	if s.EnvelopeName() != "cdc.prod.shop_eu.order_items.Envelope" {
		t.Errorf("envelope name %s", s.EnvelopeName())
	}
	for name, text := range map[string]string{"key": s.Key, "value": s.Value, "envelope": s.Envelope} {
		if _, err := goavro.NewCodec(text); err != nil {
			t.Errorf("goavro rejects the %s schema: %v\n%s", name, err, text)
		}
	}
	for _, text := range []string{s.Envelope, s.Value} {
		p, err := Parse(text)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ToTable(p)
		if err != nil {
			t.Fatal(err)
		}
		if got.Database != tbl.Database || got.Name != tbl.Name || got.Version != tbl.Version || !reflect.DeepEqual(got.PrimaryKey, tbl.PrimaryKey) {
			t.Errorf("table identity %+v", got)
		}
		for i := range tbl.Columns {
			w, g := tbl.Columns[i], got.Columns[i]
			wd, gd := w.Default, g.Default
			w.Default, g.Default = nil, nil
			if !reflect.DeepEqual(w, g) {
				t.Errorf("column %d: %+v, want %+v", i, g, w)
			}
			if wdd, ok := wd.(schema.Decimal); ok {
				if gdd, ok := gd.(schema.Decimal); !ok || !gdd.Equal(wdd) || gdd.Scale != wdd.Scale {
					t.Errorf("column %d default %v, want %v", i, gd, wd)
				}
			} else if !reflect.DeepEqual(wd, gd) {
				t.Errorf("column %d default %#v, want %#v", i, gd, wd)
			}
		}
	}
}

func TestSchemaDetails(t *testing.T) {
	s, err := FromTable(testTable(), "")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse(s.Envelope)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := ValueRecord(p)
	if v.Name != "binlake.shop_eu.order_items.Value" {
		t.Errorf("value name %s", v.Name)
	}
	price := v.Field("price")
	if price.Type.LogicalType != "decimal" || price.Type.Precision != 10 || price.Type.Scale != 2 || !reflect.DeepEqual(price.Aliases, []string{"cost"}) {
		t.Errorf("price field %+v %+v", price, price.Type)
	}
	n := v.Field("n")
	if n.Type.Type != "union" || n.Type.Branches[0].Type != "null" || !n.HasDefault || n.Default != nil {
		t.Errorf("nullable field n: %+v", n)
	}
	if f := v.Field("flag"); f.Default != true {
		t.Errorf("flag default %v", f.Default)
	}
	if f := v.Field("tstz"); f.Type.LogicalType != "timestamp-micros" || f.Type.Props[PropUTC] != true {
		t.Errorf("tstz %+v", f.Type)
	}
	if f := v.Field("ts"); f.Type.LogicalType != "timestamp-micros" || f.Type.Props[PropUTC] != false || f.Prop(PropSourceType) != "datetime(6)" {
		t.Errorf("ts %+v", f.Type)
	}
	if v.Field("_1st_col") == nil || v.Field("_1st_col_2") == nil || v.Field("_1st_col").Prop(PropName) != "1st col" {
		t.Errorf("sanitized names: %v", s.FieldNames)
	}
	k, err := Parse(s.Key)
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Fields) != 2 || k.Fields[0].Name != "id" || k.Fields[1].Name != "price" {
		t.Errorf("key fields %+v", k.Fields)
	}
	if !strings.Contains(s.Envelope, `"name":"binlake.Source"`) {
		t.Errorf("envelope lacks the source record")
	}
}

func TestDecimalBytesMatchGoavro(t *testing.T) {
	codec, err := goavro.NewCodecWithOptions(`{"type":"bytes","logicalType":"decimal","precision":38,"scale":0}`,
		&goavro.CodecOption{EnableDecimalBinarySpecCompliantEncoding: true})
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := goavro.NewCodec(`"bytes"`)
	vals := []string{"0", "1", "-1", "127", "128", "-128", "-129", "255", "256", "-256", "-257", "32767", "-32768", "-32769",
		"9223372036854775807", "-9223372036854775808", "9223372036854775808", "-9223372036854775809",
		"99999999999999999999999999999999999999", "-99999999999999999999999999999999999999", "18446744073709551615"}
	for _, v := range vals {
		u, _ := new(big.Int).SetString(v, 10)
		want, err := codec.BinaryFromNative(nil, new(big.Rat).SetInt(u))
		if err != nil {
			t.Fatal(err)
		}
		got, err := plain.BinaryFromNative(nil, DecimalBytes(nil, u))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%s: bytes %x, goavro %x", v, got, want)
		}
		if back := DecimalFromBytes(DecimalBytes(nil, u)); back.Cmp(u) != 0 {
			t.Errorf("%s: decoded back as %s", v, back)
		}
	}
}

func TestParseErrors(t *testing.T) {
	bad := []string{`{`, `{"type":"record","fields":[]}`, `{"type":"record","name":"a","fields":[{"name":"x"}]}`,
		`{"type":"nope"}`, `["int","int"]`, `{"type":"bytes","logicalType":"decimal"}`, `{"type":"enum","name":"e","symbols":[]}`,
		`{"type":"record","name":"1a","fields":[]}`, `"Unknown"`, `{"type":"record","name":"a","fields":[{"name":"x","type":"int"},{"name":"x","type":"int"}]}`}
	for _, s := range bad {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%s) succeeded", s)
		}
	}
	rec, err := Parse(`{"type":"record","name":"n.R","fields":[{"name":"next","type":["null","R"],"default":null}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Fields[0].Type.Branches[1] != rec {
		t.Errorf("recursive reference not resolved to the same node")
	}
}

func TestNormalize(t *testing.T) {
	a, err := Normalize(`{ "type": "record", "name": "x", "fields": [ {"type":"long", "name":"a"} ] }`)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Normalize(`{"name":"x","fields":[{"name":"a","type":"long"}],"type":"record"}`)
	if a != b {
		t.Errorf("%s != %s", a, b)
	}
	var v any
	if err := json.Unmarshal([]byte(a), &v); err != nil {
		t.Error(err)
	}
}
