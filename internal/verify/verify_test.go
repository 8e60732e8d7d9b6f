package verify

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/binlake/binlake/schema"
)

func TestSplitRangesCoversEveryKeyOnce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var sample [][]any
	for range 1000 {
		sample = append(sample, []any{int64(r.IntN(100_000))})
	}
	rg := SplitRanges(sample, 16)
	if rg.Len() != 16 {
		t.Fatalf("got %d ranges, want 16", rg.Len())
	}
	for i := 1; i < len(rg.Bounds); i++ {
		if compareKeys(rg.Bounds[i-1], rg.Bounds[i]) >= 0 {
			t.Fatalf("bounds not strictly increasing at %d: %v, %v", i, rg.Bounds[i-1], rg.Bounds[i])
		}
	}
	// Every key lands in the range whose bounds enclose it.
	counts := make([]int, rg.Len())
	for k := int64(-5); k < 100_005; k += 7 {
		key := []any{k}
		i := rg.Index(key)
		if i > 0 && compareKeys(key, rg.Bounds[i-1]) <= 0 {
			t.Fatalf("key %d in range %d but not above its lower bound %v", k, i, rg.Bounds[i-1])
		}
		if i < len(rg.Bounds) && compareKeys(key, rg.Bounds[i]) > 0 {
			t.Fatalf("key %d in range %d but above its upper bound %v", k, i, rg.Bounds[i])
		}
		counts[i]++
	}
	// Uniform keys give ranges of similar size (each about 1/16).
	for i, c := range counts {
		if c < 14285/16/3 {
			t.Errorf("range %d holds only %d of 14285 keys", i, c)
		}
	}
	// A boundary key belongs to the range it closes.
	if got := rg.Index(rg.Bounds[3]); got != 3 {
		t.Errorf("bound 3 is in range %d", got)
	}
}

func TestSplitRangesFewKeys(t *testing.T) {
	for _, tc := range []struct {
		sample [][]any
		n      int
		want   int
	}{
		{nil, 16, 1},
		{[][]any{{int64(5)}}, 16, 1},
		{[][]any{{int64(5)}, {int64(5)}, {int64(5)}}, 4, 1},
		{[][]any{{int64(1)}, {int64(2)}, {int64(3)}}, 16, 3},
		{[][]any{{int64(1)}, {int64(2)}}, 1, 1},
	} {
		if got := SplitRanges(tc.sample, tc.n).Len(); got != tc.want {
			t.Errorf("SplitRanges(%v, %d) has %d ranges, want %d", tc.sample, tc.n, got, tc.want)
		}
	}
}

func TestCompareKeysOrders(t *testing.T) {
	d := func(s string) schema.Decimal {
		x, err := schema.ParseDecimal(s)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	less := [][2][]any{
		{{int32(-1)}, {int64(0)}},
		{{int64(9)}, {int64(10)}},
		{{"B"}, {"a"}}, // byte order, not collation order
		{{"a"}, {"ab"}},
		{{[]byte{0, 1}}, {[]byte{1}}},
		{{d("1.5")}, {d("1.50001")}},
		{{d("-10")}, {d("2.0")}},
		{{d("18446744073709551614")}, {d("18446744073709551615")}},
		{{int64(1), "z"}, {int64(2), "a"}},
		{{int64(1), "a"}, {int64(1), "b"}},
		{{false}, {true}},
		{{nil}, {int64(0)}},
	}
	for _, p := range less {
		if c := compareKeys(p[0], p[1]); c >= 0 {
			t.Errorf("compareKeys(%v, %v) = %d, want < 0", p[0], p[1], c)
		}
		if c := compareKeys(p[1], p[0]); c <= 0 {
			t.Errorf("compareKeys(%v, %v) = %d, want > 0", p[1], p[0], c)
		}
	}
	if c := compareKeys([]any{d("1.50")}, []any{d("1.5")}); c != 0 {
		t.Errorf("1.50 vs 1.5 = %d, want 0", c)
	}
}

func TestSamplerIsBoundedAndDeterministic(t *testing.T) {
	run := func() [][]any {
		s := newSampler(50)
		for i := range 10_000 {
			s.add([]any{int64(i)})
		}
		return s.keys
	}
	a, b := run(), run()
	if len(a) != 50 {
		t.Fatalf("sample has %d keys, want 50", len(a))
	}
	if !slices.EqualFunc(a, b, func(x, y []any) bool { return compareKeys(x, y) == 0 }) {
		t.Error("two samples of the same keys differ")
	}
	late := 0
	for _, k := range a {
		if k[0].(int64) >= 5000 {
			late++
		}
	}
	if late < 10 || late > 40 {
		t.Errorf("%d of 50 sampled keys from the second half; the sample is not uniform", late)
	}
}

func TestRowHashFramesCells(t *testing.T) {
	rows := [][]Cell{
		{{Text: "ab"}, {Text: "c"}},
		{{Text: "a"}, {Text: "bc"}},
		{{Text: ""}, {Text: "abc"}},
		{{Null: true}, {Text: "abc"}},
		{{Text: "abc"}, {Null: true}},
		{{Text: "NULL"}, {Text: "abc"}},
	}
	seen := map[uint64]int{}
	for i, r := range rows {
		h := RowHash(r)
		if j, ok := seen[h]; ok {
			t.Errorf("rows %d and %d hash alike", j, i)
		}
		seen[h] = i
	}
	if RowHash(rows[0]) != RowHash([]Cell{{Text: "ab"}, {Text: "c"}}) {
		t.Error("the same row hashes differently")
	}
}

func TestSumIsOrderIndependent(t *testing.T) {
	hs := []uint64{RowHash([]Cell{{Text: "1"}}), RowHash([]Cell{{Text: "2"}}), RowHash([]Cell{{Text: "3"}})}
	var a, b, c Sum
	for _, h := range hs {
		a.Add(h)
	}
	for i := len(hs) - 1; i >= 0; i-- {
		b.Add(hs[i])
	}
	if a != b {
		t.Errorf("sums differ by order: %+v vs %+v", a, b)
	}
	// A duplicated row and a missing row keep the count but change the sum.
	c.Add(hs[0])
	c.Add(hs[0])
	c.Add(hs[2])
	if c.Rows != a.Rows || c.Hash == a.Hash {
		t.Errorf("duplicate-for-missing not detected: %+v vs %+v", c, a)
	}
}

func TestCanon(t *testing.T) {
	dec := func(s string) schema.Decimal {
		x, err := schema.ParseDecimal(s)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	for _, tc := range []struct {
		col  Column
		v    any
		want string
	}{
		{Column{Kind: schema.KindBool}, true, "true"},
		{Column{Kind: schema.KindInt32}, int32(-7), "-7"},
		{Column{Kind: schema.KindInt32}, int64(-7), "-7"}, // a promoted lake column
		{Column{Kind: schema.KindInt64}, int64(1) << 40, "1099511627776"},
		{Column{Kind: schema.KindFloat32}, float32(0.1), "0.1"},
		{Column{Kind: schema.KindFloat32}, float64(float32(0.1)), "0.1"},
		{Column{Kind: schema.KindFloat64}, 0.1, "0.1"},
		{Column{Kind: schema.KindDecimal, Scale: 2}, dec("12.5"), "12.50"},
		{Column{Kind: schema.KindDecimal, Scale: 2}, dec("-0.01"), "-0.01"},
		{Column{Kind: schema.KindDecimal, Scale: 0}, schema.Decimal{Unscaled: new(big.Int).SetUint64(18446744073709551615)}, "18446744073709551615"},
		{Column{Kind: schema.KindString}, "héllo", "héllo"},
		{Column{Kind: schema.KindString, JSON: true}, `{"b": [1, 2.50], "a": {"y": null, "x": "s"}}`, `{"a":{"x":"s","y":null},"b":[1,2.5]}`},
		{Column{Kind: schema.KindString, JSON: true}, `{"a":1e2}`, `{"a":100}`},
		{Column{Kind: schema.KindString, JSON: true}, `not json`, `not json`},
		{Column{Kind: schema.KindBytes}, []byte{0, 0xab}, "0x00ab"},
		{Column{Kind: schema.KindDate}, int32(0), "1970-01-01"},
		{Column{Kind: schema.KindDate}, int32(-1), "1969-12-31"},
		{Column{Kind: schema.KindTime}, int64(13*3600e6 + 5*60e6 + 7e6 + 12), "13:05:07.000012"},
		{Column{Kind: schema.KindDuration}, int64(-(838*3600e6 + 59*60e6 + 59e6)), "-838:59:59.000000"},
		{Column{Kind: schema.KindTimestamp}, int64(1_700_000_000_123_456), "2023-11-14 22:13:20.123456"},
		{Column{Kind: schema.KindTimestampTZ}, int64(0), "1970-01-01 00:00:00.000000Z"},
		{Column{Kind: schema.KindInt32}, "7", `<string 7>`}, // a wrong Go type compares unequal, never panics
	} {
		if got := Canon(tc.col, tc.v); got.Null || got.Text != tc.want {
			t.Errorf("Canon(%s, %#v) = %+v, want %q", tc.col.Kind, tc.v, got, tc.want)
		}
	}
	if got := Canon(Column{Kind: schema.KindString}, nil); !got.Null || got.String() != "NULL" {
		t.Errorf("Canon(nil) = %+v, want NULL", got)
	}
}

// fakeSide is an in-memory side; rows are built from (id, name) pairs.
type fakeSide struct {
	rows  []Row
	fail  error
	scans int
}

func (f *fakeSide) Scan(ctx context.Context, fn func(Row) error) error {
	f.scans++
	if f.fail != nil {
		return f.fail
	}
	for _, r := range f.rows {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeSide) ScanKeys(ctx context.Context, fn func([]any) error) error {
	return f.Scan(ctx, func(r Row) error { return fn(r.Key) })
}

var testPlan = &Plan{
	MySQLTable: "shop.items", LakeTable: "shop.items",
	Columns:    []Column{{Name: "id", Kind: schema.KindInt64}, {Name: "name", Kind: schema.KindString}},
	KeyColumns: []int{0},
}

func row(id int64, name any) Row {
	return Row{Key: []any{id}, Cells: []Cell{Canon(testPlan.Columns[0], id), Canon(testPlan.Columns[1], name)}}
}

func rowsUpTo(n int) []Row {
	out := make([]Row, n)
	for i := range out {
		out[i] = row(int64(i), fmt.Sprintf("item-%d", i))
	}
	return out
}

func TestCompareEqual(t *testing.T) {
	my := &fakeSide{rows: rowsUpTo(1000)}
	lk := &fakeSide{rows: rowsUpTo(1000)}
	slices.Reverse(lk.rows) // order does not matter
	res, err := Compare(context.Background(), testPlan, my, lk, Options{Ranges: 8})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusEqual || res.MySQLRows != 1000 || res.LakeRows != 1000 || len(res.Ranges) != 8 || len(res.Diffs) != 0 {
		t.Fatalf("result = %+v", res)
	}
	if lk.scans != 1 {
		t.Errorf("an equal table was scanned %d times in the lake, want 1", lk.scans)
	}
}

func TestCompareLocatesDifferences(t *testing.T) {
	my := &fakeSide{rows: rowsUpTo(1000)}
	lrows := rowsUpTo(1000)
	lrows[10] = row(10, "changed")            // changed value
	lrows[500] = row(500, nil)                // changed to NULL
	lrows = slices.Delete(lrows, 700, 701)    // missing 700
	lrows = append(lrows, row(5000, "extra")) // extra
	lrows = append(lrows, row(20, "item-20")) // duplicate of 20
	lk := &fakeSide{rows: lrows}
	res, err := Compare(context.Background(), testPlan, my, lk, Options{Ranges: 16, MaxKeys: 100})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusDifferent {
		t.Fatalf("status %s", res.Status)
	}
	bad := 0
	for _, r := range res.Ranges {
		if !r.Equal {
			bad++
		}
	}
	if bad < 1 || bad > 5 {
		t.Errorf("%d differing ranges for 5 differing keys", bad)
	}
	var got []string
	for _, d := range res.Diffs {
		s := d.Kind + " " + d.Key
		for _, c := range d.Columns {
			s += fmt.Sprintf(" %s:%s->%s", c.Column, c.MySQL, c.Lake)
		}
		got = append(got, s)
	}
	want := []string{
		"changed id=10 name:item-10->changed",
		"duplicate-in-lake id=20",
		"changed id=500 name:item-500->NULL",
		"missing-in-lake id=700",
		"extra-in-lake id=5000",
	}
	if !slices.Equal(got, want) {
		t.Errorf("diffs:\n got %q\nwant %q", got, want)
	}
	if res.Differences != 5 || res.MissingInLake != 1 || res.ExtraInLake != 2 || res.Changed != 2 {
		t.Errorf("counts = %d total, %d missing, %d extra, %d changed", res.Differences, res.MissingInLake, res.ExtraInLake, res.Changed)
	}
	if res.Diffs[3].MySQL["name"].Text != "item-700" {
		t.Errorf("missing row = %v", res.Diffs[3].MySQL)
	}

	// MaxKeys truncates the list, not the counts.
	res, err = Compare(context.Background(), testPlan, my, lk, Options{Ranges: 16, MaxKeys: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Diffs) != 2 || !res.Truncated || res.Differences != 5 {
		t.Errorf("truncated: %d diffs, truncated=%v, %d differences", len(res.Diffs), res.Truncated, res.Differences)
	}
}

func TestCompareEmptySides(t *testing.T) {
	res, err := Compare(context.Background(), testPlan, &fakeSide{}, &fakeSide{rows: rowsUpTo(3)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusDifferent || res.ExtraInLake != 3 || len(res.Ranges) != 1 {
		t.Errorf("empty MySQL vs 3 lake rows: %+v", res)
	}
}

func TestCompareBoundsHeldRows(t *testing.T) {
	// Every row differs: with 2 ranges of ~500 rows and a limit of 100,
	// no range can be listed.
	lrows := rowsUpTo(1000)
	for i := range lrows {
		lrows[i] = row(int64(i), "x")
	}
	_, err := Compare(context.Background(), testPlan, &fakeSide{rows: rowsUpTo(1000)}, &fakeSide{rows: lrows}, Options{Ranges: 2, MaxDiffRows: 100})
	if err == nil || !strings.Contains(err.Error(), "--ranges") {
		t.Fatalf("holding 500-row ranges with a limit of 100: %v", err)
	}
	// With 20 ranges of ~50 rows, the first two are listed and the rest
	// are named in a note.
	res, err := Compare(context.Background(), testPlan, &fakeSide{rows: rowsUpTo(1000)}, &fakeSide{rows: lrows}, Options{Ranges: 20, MaxDiffRows: 100, MaxKeys: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed < 50 || res.Changed > 100 || !res.Truncated || len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "are not listed") {
		t.Errorf("partial listing: %d changed, truncated=%v, notes %q", res.Changed, res.Truncated, res.Notes)
	}
	for _, d := range res.Diffs {
		if id := d.key[0].(int64); id >= 200 {
			t.Errorf("key %d listed: the listed ranges are the first ones", id)
		}
	}
}

// TestCompareBoundsLakeRows: a range the lake fills with extra rows counts with its lake rows, so listing its keys
// cannot hold more than the limit however few rows MySQL has there.
func TestCompareBoundsLakeRows(t *testing.T) {
	lrows := rowsUpTo(10)
	for i := int64(10); i < 5000; i++ {
		lrows = append(lrows, row(i, "extra"))
	}
	_, err := Compare(context.Background(), testPlan, &fakeSide{rows: rowsUpTo(10)}, &fakeSide{rows: lrows}, Options{Ranges: 1, MaxDiffRows: 100})
	if err == nil || !strings.Contains(err.Error(), "--ranges") {
		t.Fatalf("a range of 10 MySQL and 5000 lake rows listed with a limit of 100: %v", err)
	}
	res, err := Compare(context.Background(), testPlan, &fakeSide{rows: rowsUpTo(10)}, &fakeSide{rows: lrows}, Options{Ranges: 1, MaxDiffRows: 5000})
	if err != nil || res.ExtraInLake != 4990 {
		t.Fatalf("with room for the lake rows: %+v, %v", res, err)
	}
}

func TestCompareSideErrors(t *testing.T) {
	boom := errors.New("boom")
	_, err := Compare(context.Background(), testPlan, &fakeSide{rows: rowsUpTo(10)}, &fakeSide{fail: boom}, Options{})
	if !errors.Is(err, boom) {
		t.Errorf("lake failure: %v", err)
	}
	_, err = Compare(context.Background(), testPlan, &fakeSide{fail: boom}, &fakeSide{rows: rowsUpTo(10)}, Options{})
	if !errors.Is(err, boom) {
		t.Errorf("mysql failure: %v", err)
	}
}

func TestDescribeRange(t *testing.T) {
	rg := Ranges{Bounds: [][]any{{int64(10)}, {int64(20)}}}
	want := []string{"id <= 10", "10 < id <= 20", "id > 20"}
	for i, w := range want {
		if got := describeRange(testPlan, rg, i); got != w {
			t.Errorf("range %d = %q, want %q", i, got, w)
		}
	}
	if got := describeRange(testPlan, Ranges{}, 0); got != "all keys" {
		t.Errorf("single range = %q", got)
	}
}
