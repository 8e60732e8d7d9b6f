package decode

import (
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/binlake/binlake/schema"
	"github.com/shopspring/decimal"
)

func col(kind schema.Kind, typ string, optional bool) schema.Column {
	c := schema.Column{Name: "c", Kind: kind, SourceType: typ, Optional: optional}
	if kind == schema.KindDecimal {
		c.Precision, c.Scale = 10, 2
		if typ == "bigint unsigned" {
			c.Precision, c.Scale = 20, 0
		}
	}
	return c
}

func micros(y int, mo time.Month, d, h, mi, s, us int) int64 {
	return time.Date(y, mo, d, h, mi, s, us*1000, time.UTC).UnixMicro()
}

func dec(u int64, s int32) schema.Decimal { return schema.Decimal{Unscaled: big.NewInt(u), Scale: s} }

// Golden cases: the value go-mysql hands over for a binlog cell, the text a
// SELECT returns for the same cell, and the Go value both must become.
var golden = []struct {
	name   string
	col    schema.Column
	binlog any
	enum   []string
	set    []string
	text   []byte
	want   any
}{
	{"tinyint", col(schema.KindInt32, "tinyint", true), int8(-128), nil, nil, []byte("-128"), int32(-128)},
	{"smallint unsigned", col(schema.KindInt32, "smallint unsigned", true), uint16(65535), nil, nil, []byte("65535"), int32(65535)},
	{"mediumint unsigned", col(schema.KindInt32, "mediumint unsigned", true), uint32(16777215), nil, nil, []byte("16777215"), int32(16777215)},
	{"int", col(schema.KindInt32, "int", true), int32(-2147483648), nil, nil, []byte("-2147483648"), int32(-2147483648)},
	{"int unsigned", col(schema.KindInt64, "int unsigned", true), uint32(4294967295), nil, nil, []byte("4294967295"), int64(4294967295)},
	{"bigint", col(schema.KindInt64, "bigint", true), int64(-9223372036854775808), nil, nil, []byte("-9223372036854775808"), int64(-9223372036854775808)},
	{"bigint unsigned max", col(schema.KindDecimal, "bigint unsigned", true), uint64(18446744073709551615), nil, nil, []byte("18446744073709551615"),
		schema.Decimal{Unscaled: new(big.Int).SetUint64(18446744073709551615), Scale: 0}},
	{"decimal", col(schema.KindDecimal, "decimal(10,2)", true), decimal.RequireFromString("-12345678.91"), nil, nil, []byte("-12345678.91"), dec(-1234567891, 2)},
	{"decimal trailing zeros", col(schema.KindDecimal, "decimal(10,2)", true), decimal.RequireFromString("1.5"), nil, nil, []byte("1.50"), dec(150, 2)},
	{"decimal 65", schema.Column{Name: "c", Kind: schema.KindString, SourceType: "decimal(65,30)", Optional: true},
		decimal.RequireFromString("-1.5"), nil, nil, []byte("-1.500000000000000000000000000000"), "-1.500000000000000000000000000000"},
	{"float", col(schema.KindFloat32, "float", true), float32(1.5), nil, nil, []byte("1.5"), float32(1.5)},
	{"double", col(schema.KindFloat64, "double", true), -2.5e-300, nil, nil, []byte("-2.5e-300"), -2.5e-300},
	{"year", col(schema.KindInt32, "year", true), 2155, nil, nil, []byte("2155"), int32(2155)},
	{"date", col(schema.KindDate, "date", true), "2024-02-29", nil, nil, []byte("2024-02-29"), int32(19782)},
	{"date before epoch", col(schema.KindDate, "date", true), "1000-01-01", nil, nil, []byte("1000-01-01"), int32(-354285)},
	{"zero date nullable", col(schema.KindDate, "date", true), "0000-00-00", nil, nil, []byte("0000-00-00"), nil},
	{"zero date not null", col(schema.KindDate, "date", false), "0000-00-00", nil, nil, []byte("0000-00-00"), int32(0)},
	{"time negative", col(schema.KindTime, "time(6)", true), "-838:59:59.000000", nil, nil, []byte("-838:59:59.000000"), int64(-3020399000000)},
	{"time fsp3", col(schema.KindTime, "time(3)", true), "12:34:56.789", nil, nil, []byte("12:34:56.789"), int64(45296789000)},
	{"datetime", col(schema.KindTimestamp, "datetime(6)", true), time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC), nil, nil,
		[]byte("2024-01-02 03:04:05.123456"), micros(2024, 1, 2, 3, 4, 5, 123456)},
	{"datetime before epoch", col(schema.KindTimestamp, "datetime(6)", true), "1969-07-20 20:17:40.123456", nil, nil,
		[]byte("1969-07-20 20:17:40.123456"), micros(1969, 7, 20, 20, 17, 40, 123456)},
	{"zero datetime", col(schema.KindTimestamp, "datetime", true), "0000-00-00 00:00:00", nil, nil, []byte("0000-00-00 00:00:00"), nil},
	{"timestamp is an instant", col(schema.KindTimestampTZ, "timestamp(3)", true),
		time.Date(2024, 1, 1, 10, 0, 0, 123000000, time.FixedZone("IST", 19800)), nil, nil,
		[]byte("2024-01-01 04:30:00.123"), micros(2024, 1, 1, 4, 30, 0, 123000)},
	{"zero timestamp not null", col(schema.KindTimestampTZ, "timestamp", false), "0000-00-00 00:00:00", nil, nil, []byte("0000-00-00 00:00:00"), int64(0)},
	{"varchar utf8mb4", col(schema.KindString, "varchar(20)", true), "héllo 🌍", nil, nil, []byte("héllo 🌍"), "héllo 🌍"},
	{"text from blob bytes", col(schema.KindString, "text", true), []byte("abc"), nil, nil, []byte("abc"), "abc"},
	{"json", col(schema.KindString, "json", true), `{"a": 1}`, nil, nil, []byte(`{"a": 1}`), `{"a": 1}`},
	{"enum", col(schema.KindString, "enum('a','b')", true), int64(2), []string{"a", "b"}, nil, []byte("b"), "b"},
	{"set", col(schema.KindString, "set('x','y','z')", true), int64(5), nil, []string{"x", "y", "z"}, []byte("x,z"), "x,z"},
	{"empty set", col(schema.KindString, "set('x','y')", true), int64(0), nil, []string{"x", "y"}, []byte(""), ""},
	{"binary padded", col(schema.KindBytes, "binary(4)", true), "\x01\x02", nil, nil, []byte{1, 2, 0, 0}, []byte{1, 2, 0, 0}},
	{"varbinary", col(schema.KindBytes, "varbinary(10)", true), "\x00\xff", nil, nil, []byte{0, 0xff}, []byte{0, 0xff}},
	{"blob", col(schema.KindBytes, "blob", true), []byte{0xde, 0xad}, nil, nil, []byte{0xde, 0xad}, []byte{0xde, 0xad}},
	{"bit1", col(schema.KindBool, "bit(1)", true), int64(1), nil, nil, []byte{1}, true},
	{"bit64", col(schema.KindBytes, "bit(64)", true), int64(-9223372036854775807), nil, nil,
		[]byte{0x80, 0, 0, 0, 0, 0, 0, 1}, []byte{0x80, 0, 0, 0, 0, 0, 0, 1}},
	{"bit10", col(schema.KindBytes, "bit(10)", true), int64(0x201), nil, nil, []byte{2, 1}, []byte{2, 1}},
	{"geometry strips srid", col(schema.KindBytes, "point", true), []byte{0xe6, 0x10, 0, 0, 1, 1, 0, 0, 0}, nil, nil,
		[]byte{0xe6, 0x10, 0, 0, 1, 1, 0, 0, 0}, []byte{1, 1, 0, 0, 0}},
}

func TestBinlogAndTextAgree(t *testing.T) {
	for _, g := range golden {
		t.Run(g.name, func(t *testing.T) {
			c, err := NewCodec(g.col)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Binlog(g.binlog, g.enum, g.set)
			if err != nil {
				t.Fatalf("Binlog(%#v): %v", g.binlog, err)
			}
			check(t, "binlog", got, g.want)
			got, err = c.Text(g.text)
			if err != nil {
				t.Fatalf("Text(%q): %v", g.text, err)
			}
			check(t, "text", got, g.want)
		})
	}
}

func check(t *testing.T, path string, got, want any) {
	t.Helper()
	if wd, ok := want.(schema.Decimal); ok {
		gd, ok := got.(schema.Decimal)
		if !ok || gd.Scale != wd.Scale || gd.Unscaled.Cmp(wd.Unscaled) != 0 {
			t.Errorf("%s: got %#v, want %s", path, got, wd)
		}
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: got %#v (%T), want %#v (%T)", path, got, got, want, want)
	}
}

func TestNullStaysNull(t *testing.T) {
	for _, g := range golden {
		c, err := NewCodec(g.col)
		if err != nil {
			t.Fatal(err)
		}
		if v, err := c.Binlog(nil, nil, nil); v != nil || err != nil {
			t.Errorf("%s: Binlog(nil) = %v, %v", g.name, v, err)
		}
		if v, err := c.Text(nil); v != nil || err != nil {
			t.Errorf("%s: Text(nil) = %v, %v", g.name, v, err)
		}
	}
}

func TestBadInputFails(t *testing.T) {
	cases := []struct {
		col  schema.Column
		bin  any
		text string
	}{
		{col(schema.KindInt32, "int", true), "x", "x"},
		{col(schema.KindDate, "date", true), int64(1), "2024/01/01"},
		{col(schema.KindTime, "time", true), int64(1), "12:61:00"},
		{col(schema.KindDecimal, "decimal(10,2)", true), 1.5, "1.234"}, // would lose a digit
		{col(schema.KindString, "enum('a')", true), int64(0), ""},
	}
	for _, c := range cases {
		cd, err := NewCodec(c.col)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cd.Binlog(c.bin, nil, nil); err == nil && c.col.SourceType != "enum('a')" {
			t.Errorf("%s: Binlog(%#v) succeeded", c.col.SourceType, c.bin)
		}
		if c.text != "" {
			if _, err := cd.Text([]byte(c.text)); err == nil {
				t.Errorf("%s: Text(%q) succeeded", c.col.SourceType, c.text)
			}
		}
	}
	cd, _ := NewCodec(col(schema.KindString, "enum('a')", true))
	if _, err := cd.Binlog(int64(3), []string{"a"}, nil); err == nil {
		t.Error("enum index out of range succeeded")
	}
}

func TestSplitType(t *testing.T) {
	cases := []struct {
		in   string
		base string
		args []string
	}{
		{"decimal(10,2) unsigned", "decimal", []string{"10", "2"}},
		{"enum('a,b','it''s')", "enum", []string{"'a,b'", "'it''s'"}},
		{"INT", "int", nil},
		{"int unsigned", "int", nil},
	}
	for _, c := range cases {
		b, a := SplitType(c.in)
		if b != c.base || !reflect.DeepEqual(a, c.args) {
			t.Errorf("SplitType(%q) = %q %q", c.in, b, a)
		}
	}
}

func TestDaysFromCivil(t *testing.T) {
	for y := -500; y <= 2500; y += 37 {
		for _, m := range []time.Month{1, 2, 3, 12} {
			want := time.Date(y, m, 28, 0, 0, 0, 0, time.UTC).Unix() / 86400
			if got := DaysFromCivil(y, int(m), 28); got != want {
				t.Fatalf("DaysFromCivil(%d,%d,28) = %d, want %d", y, m, got, want)
			}
		}
	}
}

func FuzzText(f *testing.F) {
	for _, g := range golden {
		f.Add(g.col.SourceType, g.text)
	}
	f.Fuzz(func(t *testing.T, typ string, text []byte) {
		for _, k := range []schema.Kind{schema.KindInt32, schema.KindDecimal, schema.KindDate, schema.KindTime,
			schema.KindTimestamp, schema.KindBytes, schema.KindBool, schema.KindString} {
			c, err := NewCodec(schema.Column{Name: "c", Kind: k, SourceType: typ, Scale: 2})
			if err != nil {
				continue
			}
			_, _ = c.Text(text) // must not panic
		}
	})
}
