package hudi

import (
	"context"
	"fmt"
	"testing"
)

// TestBloomFilterAgainstJavaWriter checks the murmur hashing and the
// filter layout against the DYNAMIC_V0 filter Hudi's Java writer stored in
// the sample table's base file holding keys 1 and 3.
func TestBloomFilterAgainstJavaWriter(t *testing.T) {
	ctx := context.Background()
	dir := unzipSample(t)
	b, err := OpenLocalBucket(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	st := newStorage(b, "")
	ra, err := st.read(ctx, "10/97de74b1-2a8e-4bb7-874c-0a74e1f42a77-0_0-119-166_20240418172804498.parquet")
	if err != nil {
		t.Fatal(err)
	}
	serialized, typeCode := footerValue(t, ra, footerBloomFilter), footerValue(t, ra, footerBloomFilterType)
	rows, err := parseBloomFilter(serialized, typeCode)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].nbHash != 30 {
		t.Fatalf("parsed %d rows (nbHash %d), want 1 row of 30 hashes", len(rows), rows[0].nbHash)
	}
	f := rows[0]
	for _, k := range []string{"1", "3"} {
		if !f.mightContain(k) {
			t.Errorf("Java's filter should contain %q by our hashing", k)
		}
	}
	// With fpp 1e-9 other keys are absent: this fails if our hash differs.
	for _, k := range []string{"2", "4", "10", "abc", "zürich-ü-\xff"} {
		if f.mightContain(k) {
			t.Errorf("Java's filter unexpectedly contains %q", k)
		}
	}
}

func TestBloomFilterRoundTrip(t *testing.T) {
	var keys []string
	for i := range 1000 {
		keys = append(keys, fmt.Sprintf("key-%d-é", i))
	}
	f := newBloomFilter(len(keys))
	for _, k := range keys {
		f.add(k)
	}
	rows, err := parseBloomFilter(f.serialize(), bloomTypeSimple)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if !rows[0].mightContain(k) {
			t.Fatalf("filter lost %q", k)
		}
	}
	fp := 0
	for i := range 10000 {
		if rows[0].mightContain(fmt.Sprintf("other-%d", i)) {
			fp++
		}
	}
	if fp > 1 {
		t.Errorf("%d false positives in 10000 at fpp 1e-9", fp)
	}
	if _, err := parseBloomFilter("AAAA", bloomTypeSimple); err == nil {
		t.Error("a truncated filter parsed")
	}
}
