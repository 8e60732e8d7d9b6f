package schema

import (
	"encoding/json"
	"math/big"
	"testing"
)

func TestDecimalParseAndString(t *testing.T) {
	tests := []struct {
		in, want string
		scale    int32
		wantErr  bool
	}{
		{in: "0", want: "0", scale: 0},
		{in: "-12.3400", want: "-12.3400", scale: 4},
		{in: "+7.5", want: "7.5", scale: 1},
		{in: ".5", want: "0.5", scale: 1},
		{in: "-0.001", want: "-0.001", scale: 3},
		{in: "99999999999999999999999999999999999.123456789012345678901234567890", want: "99999999999999999999999999999999999.123456789012345678901234567890", scale: 30},
		{in: "18446744073709551615", want: "18446744073709551615", scale: 0},
		{in: "", wantErr: true},
		{in: "1.2.3", wantErr: true},
		{in: "12a", wantErr: true},
		{in: "-", wantErr: true},
	}
	for _, tt := range tests {
		d, err := ParseDecimal(tt.in)
		if tt.wantErr {
			if err == nil {
				t.Errorf("ParseDecimal(%q) = %s, want an error", tt.in, d)
			}
			continue
		}
		if err != nil {
			t.Fatalf("ParseDecimal(%q): %v", tt.in, err)
		}
		if d.String() != tt.want || d.Scale != tt.scale {
			t.Errorf("ParseDecimal(%q) = %s scale %d, want %s scale %d", tt.in, d, d.Scale, tt.want, tt.scale)
		}
	}
}

func TestDecimalRescaleAndEqual(t *testing.T) {
	d := Decimal{Unscaled: big.NewInt(1250), Scale: 2} // 12.50
	up, err := d.Rescale(4)
	if err != nil || up.String() != "12.5000" {
		t.Fatalf("Rescale(4) = %s, %v", up, err)
	}
	down, err := d.Rescale(1)
	if err != nil || down.String() != "12.5" {
		t.Fatalf("Rescale(1) = %s, %v", down, err)
	}
	if _, err := d.Rescale(0); err == nil {
		t.Fatal("Rescale(0) of 12.50 must fail: it would lose a digit")
	}
	if !d.Equal(up) || d.Equal(Decimal{Unscaled: big.NewInt(1251), Scale: 2}) {
		t.Fatal("Equal compares numbers across scales")
	}
	if (Decimal{}).String() != "0" {
		t.Fatalf("zero Decimal = %q", Decimal{}.String())
	}
}

func TestKindNamesRoundTrip(t *testing.T) {
	for k := KindBool; k <= KindTimestampTZ; k++ {
		got, err := ParseKind(k.String())
		if err != nil || got != k {
			t.Errorf("ParseKind(%q) = %v, %v", k.String(), got, err)
		}
	}
	if _, err := ParseKind("invalid"); err == nil {
		t.Error("ParseKind(invalid) must fail")
	}
}

func TestTableValidateAndSameColumns(t *testing.T) {
	base := &Table{Database: "shop", Name: "orders", Version: 1,
		Columns:    []Column{{Name: "id", Kind: KindInt64}, {Name: "amount", Kind: KindDecimal, Precision: 10, Scale: 2, Optional: true}},
		PrimaryKey: []int{0}}
	if err := base.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []*Table{
		{Database: "shop", Name: "t", Columns: nil},
		{Database: "shop", Name: "t", Columns: []Column{{Name: "a", Kind: KindInt32}, {Name: "A", Kind: KindInt32}}},
		{Database: "shop", Name: "t", Columns: []Column{{Name: "a", Kind: KindDecimal, Precision: 39}}},
		{Database: "shop", Name: "t", Columns: []Column{{Name: "a", Kind: KindInt32}}, PrimaryKey: []int{1}},
		{Database: "shop", Name: "t", Columns: []Column{{Name: "a"}}},
	}
	for i, tb := range bad {
		if err := tb.Validate(); err == nil {
			t.Errorf("bad table %d validated", i)
		}
	}
	same := *base
	if !base.SameColumns(&same) {
		t.Fatal("a copy must have the same columns")
	}
	widened := *base
	widened.Columns = []Column{base.Columns[0], {Name: "amount", Kind: KindDecimal, Precision: 12, Scale: 2, Optional: true}}
	if base.SameColumns(&widened) {
		t.Fatal("a precision change must change the columns")
	}
	if base.ColumnIndex("AMOUNT") != 1 || base.ColumnIndex("nope") != -1 {
		t.Fatal("ColumnIndex is case-insensitive and -1 when absent")
	}
}

func TestKindHolds(t *testing.T) {
	values := map[Kind]any{
		KindBool: true, KindInt32: int32(1), KindInt64: int64(1), KindFloat32: float32(1), KindFloat64: 1.0,
		KindDecimal: Decimal{Unscaled: big.NewInt(1)}, KindString: "x", KindBytes: []byte{1},
		KindDate: int32(1), KindTime: int64(1), KindDuration: int64(1), KindTimestamp: int64(1), KindTimestampTZ: int64(1),
	}
	for k, v := range values {
		if !k.Holds(v) {
			t.Errorf("%s does not hold its own value %T", k, v)
		}
		if k.Holds(struct{}{}) || k.Holds(nil) {
			t.Errorf("%s holds a value of no kind", k)
		}
	}
	if KindInt64.Holds(int32(1)) || KindInt32.Holds(int64(1)) || KindBytes.Holds("x") || KindInvalid.Holds(true) {
		t.Error("Holds accepts a value of another kind")
	}
}

func TestTableJSONRoundTripKeepsDefaults(t *testing.T) {
	in := &Table{Database: "d", Name: "t", Version: 3, PrimaryKey: []int{0}, Columns: []Column{
		{Name: "i", Kind: KindInt32, Default: int32(-7), HasDefault: true},
		{Name: "l", Kind: KindTimestamp, Default: int64(1_700_000_000_000_000), HasDefault: true},
		{Name: "f", Kind: KindFloat32, Default: float32(1.5), HasDefault: true},
		{Name: "d", Kind: KindDecimal, Precision: 38, Scale: 2, Default: Decimal{Unscaled: big.NewInt(-12345), Scale: 2}, HasDefault: true},
		{Name: "s", Kind: KindString, Default: "x", HasDefault: true},
		{Name: "b", Kind: KindBytes, Default: []byte{0, 0xff}, HasDefault: true},
		{Name: "n", Kind: KindString, Optional: true, HasDefault: true},
	}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out Table
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !in.SameColumns(&out) {
		t.Fatalf("round trip changed the columns:\n in %+v\nout %+v", in.Columns, out.Columns)
	}
	if out.Columns[5].Default.([]byte)[1] != 0xff || out.Columns[6].Default != nil {
		t.Fatalf("bytes or NULL default lost: %+v", out.Columns)
	}
	var bad Table
	if err := json.Unmarshal([]byte(`{"columns":[{"name":"x","kind":2,"default":"nope"}]}`), &bad); err == nil {
		t.Fatal("a default of the wrong kind must fail to decode")
	}
}
