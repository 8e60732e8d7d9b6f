package hudi

import (
	"testing"
	"time"
)

// FuzzParseProperties: parsing never panics, and what parses survives an
// encode/parse round trip unchanged.
func FuzzParseProperties(f *testing.F) {
	f.Add([]byte("#c\na=b\nc\\:d = e\\u00e9\\\n  f\n"))
	f.Add([]byte(`hoodie.table.create.schema={"type"\:"record"}` + "\n"))
	f.Add([]byte("k\\"))
	f.Add([]byte("x=\\uD834\\uDD1E"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := parseProperties(data)
		if err != nil {
			return
		}
		back, err := parseProperties(p.encode(time.Unix(0, 0)))
		if err != nil {
			t.Fatalf("re-parsing encoded properties: %v", err)
		}
		if len(back) != len(p) {
			t.Fatalf("round trip changed the key count: %v -> %v", p, back)
		}
		for k, v := range p {
			if back[k] != v {
				t.Fatalf("round trip of %q: %q -> %q", k, v, back[k])
			}
		}
	})
}

// FuzzParseBloomFilter: a corrupt footer never panics the reader, and a
// parsed filter answers membership queries.
func FuzzParseBloomFilter(f *testing.F) {
	bf := newBloomFilter(3)
	bf.add("a")
	f.Add(bf.serialize(), bloomTypeSimple)
	f.Add("/////wAAAB4BACd9PgAA6mAAAAACAAAAAf////8AAAAeAQAnfT4AAA==", bloomTypeDynamic)
	f.Add("", "")
	f.Fuzz(func(t *testing.T, s, typ string) {
		rows, err := parseBloomFilter(s, typ)
		if err != nil {
			return
		}
		for _, r := range rows {
			_ = r.mightContain("x")
		}
	})
}

// FuzzTimelineNames: instant and base-file names parse without panics and
// an instant's file name parses back to the instant.
func FuzzTimelineNames(f *testing.F) {
	for _, s := range []string{"20240418172802262.commit", "20240418172802262.inflight", "20240418172802262.commit.requested",
		"20240418172802262.clean.inflight", "hoodie.properties", "a_b_c.parquet", "x_1-2-3_20240418172802262.parquet"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if in, ok := parseInstantFile(name); ok {
			back, ok := parseInstantFile(in.fileName())
			if !ok || back != in {
				t.Fatalf("%q -> %+v -> %q -> %+v", name, in, in.fileName(), back)
			}
		}
		_, _, _, _ = parseBaseFileName(name)
	})
}
