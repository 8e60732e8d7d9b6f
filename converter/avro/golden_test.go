package avro

import (
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/binlake/binlake/converter/internal/convtest"
	"github.com/binlake/binlake/schema/avroschema"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run go test -update to create it): %v", err)
	}
	if string(want) != string(got) {
		t.Errorf("%s differs from the golden file (run go test -update after checking the change)\n got: %s\nwant: %s", name, got, want)
	}
}

// TestGoldenEnvelope pins the exact wire bytes of the envelope for every kind
// and op, and the registered schema text, against testdata/*.golden.
func TestGoldenEnvelope(t *testing.T) {
	ctx := context.Background()
	reg := newRegistry(t) // fresh registry: the first schema id is 1
	c := newConverter(t, reg, Options{})
	tbl := convtest.AllKinds()
	var sb strings.Builder
	for i, ev := range convtest.Events(tbl) {
		body, err := c.Encode(ctx, "cdc_shop_all_kinds", ev)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&sb, "# event %d op %c\n%s\n", i, ev.Op, hex.EncodeToString(body))
	}
	checkGolden(t, "envelope_all_kinds.golden", []byte(sb.String()))
	s, err := avroschema.FromTable(tbl, "")
	if err != nil {
		t.Fatal(err)
	}
	norm, err := avroschema.Normalize(s.Envelope)
	if err != nil {
		t.Fatal(err)
	}
	registered, err := reg.SchemaByID(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if registered != s.Envelope && registered != norm {
		t.Errorf("registered schema differs from the generated one:\n%s\n%s", registered, s.Envelope)
	}
	checkGolden(t, "envelope_all_kinds.avsc.golden", []byte(s.Envelope+"\n"))
}
