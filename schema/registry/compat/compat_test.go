package compat

import (
	"fmt"
	"strings"
	"testing"

	"github.com/binlake/binlake/schema/avroschema"
	"github.com/binlake/binlake/schema/registry"
)

// rec builds a record schema "r.R" with the given field JSON.
func rec(fields ...string) string {
	return fmt.Sprintf(`{"type":"record","name":"R","namespace":"r","fields":[%s]}`, strings.Join(fields, ","))
}

func parse(t *testing.T, s string) *avroschema.Schema {
	t.Helper()
	p, err := avroschema.Parse(s)
	if err != nil {
		t.Fatalf("parsing %s: %v", s, err)
	}
	return p
}

const (
	id       = `{"name":"id","type":"long"}`
	dec10_2  = `{"name":"p","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}}`
	dec12_2  = `{"name":"p","type":{"type":"bytes","logicalType":"decimal","precision":12,"scale":2}}`
	dec10_3  = `{"name":"p","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":3}}`
	dec8_2   = `{"name":"p","type":{"type":"bytes","logicalType":"decimal","precision":8,"scale":2}}`
	tsMicros = `{"name":"ts","type":{"type":"long","logicalType":"timestamp-micros","adjust-to-utc":false}}`
	tsMillis = `{"name":"ts","type":{"type":"long","logicalType":"timestamp-millis","adjust-to-utc":false}}`
	tsUTC    = `{"name":"ts","type":{"type":"long","logicalType":"timestamp-micros","adjust-to-utc":true}}`
)

func TestCanRead(t *testing.T) {
	cases := []struct {
		name           string
		reader, writer string
		want           string // substring of the first message; "" = compatible
	}{
		{"identical", rec(id), rec(id), ""},
		{"add nullable with default", rec(id, `{"name":"n","type":["null","string"],"default":null}`), rec(id), ""},
		{"add not null with default", rec(id, `{"name":"q","type":"int","default":7}`), rec(id), ""},
		{"add not null without default", rec(id, `{"name":"q","type":"int"}`), rec(id), "added without a default"},
		{"drop field", rec(id), rec(id, `{"name":"q","type":"int"}`), ""},
		{"int to long", rec(`{"name":"id","type":"long"}`), rec(`{"name":"id","type":"int"}`), ""},
		{"long to int", rec(`{"name":"id","type":"int"}`), rec(`{"name":"id","type":"long"}`), "type changed from long to int"},
		{"int to double", rec(`{"name":"x","type":"double"}`), rec(`{"name":"x","type":"int"}`), ""},
		{"float to double", rec(`{"name":"x","type":"double"}`), rec(`{"name":"x","type":"float"}`), ""},
		{"double to float", rec(`{"name":"x","type":"float"}`), rec(`{"name":"x","type":"double"}`), "type changed"},
		{"string to bytes", rec(`{"name":"x","type":"bytes"}`), rec(`{"name":"x","type":"string"}`), ""},
		{"string to int", rec(`{"name":"x","type":"int"}`), rec(`{"name":"x","type":"string"}`), "type changed"},
		{"decimal precision widened", rec(dec12_2), rec(dec10_2), ""},
		{"decimal precision narrowed", rec(dec8_2), rec(dec10_2), "precision narrowed from 10 to 8"},
		{"decimal scale changed", rec(dec10_3), rec(dec10_2), "scale changed from 2 to 3"},
		{"decimal to bytes", rec(`{"name":"p","type":"bytes"}`), rec(dec10_2), "logical type changed"},
		{"timestamp unit change", rec(tsMillis), rec(tsMicros), "time unit changed"},
		{"timestamp to timestamptz", rec(tsUTC), rec(tsMicros), "adjust-to-utc"},
		{"date to int", rec(`{"name":"d","type":"int"}`), rec(`{"name":"d","type":{"type":"int","logicalType":"date"}}`), "logical type changed"},
		{"not null to nullable", rec(`{"name":"id","type":["null","long"],"default":null}`), rec(id), ""},
		{"nullable to not null", rec(id), rec(`{"name":"id","type":["null","long"],"default":null}`), "no longer allowed"},
		{"nullable int to nullable long", rec(`{"name":"x","type":["null","long"],"default":null}`), rec(`{"name":"x","type":["null","int"],"default":null}`), ""},
		{"rename with alias", rec(`{"name":"amount","type":"long","aliases":["cost"]}`), rec(`{"name":"cost","type":"long"}`), ""},
		{"rename without alias", rec(`{"name":"amount","type":"long"}`), rec(`{"name":"cost","type":"long"}`), "added without a default"},
		{"record renamed", `{"type":"record","name":"Other","fields":[]}`, rec(), "type changed"},
		{"record renamed with alias", `{"type":"record","name":"Other","aliases":["r.R"],"fields":[]}`, rec(), ""},
		{"enum symbol removed", `{"type":"enum","name":"E","symbols":["A"]}`, `{"type":"enum","name":"E","symbols":["A","B"]}`, "lost symbol B"},
		{"enum symbol removed with default", `{"type":"enum","name":"E","symbols":["A"],"default":"A"}`, `{"type":"enum","name":"E","symbols":["A","B"]}`, ""},
		{"fixed size", `{"type":"fixed","name":"F","size":4}`, `{"type":"fixed","name":"F","size":8}`, "size changed"},
		{"array items promoted", `{"type":"array","items":"long"}`, `{"type":"array","items":"int"}`, ""},
		{"map values narrowed", `{"type":"map","values":"int"}`, `{"type":"map","values":"long"}`, "type changed"},
		{"union branch missing", `["null","string"]`, `["null","string","long"]`, "no matching reader branch"},
		{"duration kind change", rec(`{"name":"d","type":"long"}`), rec(`{"name":"d","type":{"type":"long","binlake.kind":"duration"}}`), "binlake.kind"},
		{"recursive", `{"type":"record","name":"L","fields":[{"name":"next","type":["null","L"],"default":null}]}`,
			`{"type":"record","name":"L","fields":[{"name":"next","type":["null","L"],"default":null}]}`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msgs := CanRead(parse(t, c.reader), parse(t, c.writer))
			switch {
			case c.want == "" && len(msgs) > 0:
				t.Errorf("want compatible, got %v", msgs)
			case c.want != "" && len(msgs) == 0:
				t.Errorf("want %q, got compatible", c.want)
			case c.want != "" && !strings.Contains(msgs[0], c.want):
				t.Errorf("want %q, got %v", c.want, msgs)
			}
		})
	}
}

func TestCheckLevels(t *testing.T) {
	v1 := rec(id)
	v2 := rec(id, `{"name":"q","type":"int","default":0}`) // adds a field with default: full compatible with v1
	v3 := rec(id, `{"name":"q","type":"int"}`)             // q without default
	v4 := rec(`{"name":"q","type":"int"}`)                 // drops id, q without default
	cases := []struct {
		level    registry.Level
		existing []string
		cand     string
		ok       bool
	}{
		{registry.None, []string{v1}, rec(`{"name":"x","type":"string"}`), true},
		{registry.Backward, []string{v1}, v2, true},
		{registry.Backward, []string{v1}, v3, false},
		{registry.Forward, []string{v1}, v3, true},  // v1 reads v3 data: ignores q
		{registry.Forward, []string{v3}, v1, false}, // v3 reads v1 data: q missing, no default
		{registry.Full, []string{v1}, v2, true},
		{registry.Full, []string{v1}, v3, false},
		// Backward against the latest only vs transitively against all.
		{registry.Backward, []string{v1, v2}, v4, true},
		{registry.BackwardTransitive, []string{v1, v2}, v4, false},
		{registry.ForwardTransitive, []string{v1, v2}, v2, true},
		{registry.FullTransitive, []string{v1, v2}, v3, false},
		{registry.Backward, nil, v3, true},
	}
	for i, c := range cases {
		var existing []*avroschema.Schema
		for _, s := range c.existing {
			existing = append(existing, parse(t, s))
		}
		msgs := Check(c.level, parse(t, c.cand), existing)
		if (len(msgs) == 0) != c.ok {
			t.Errorf("case %d (%s): compatible=%v, want %v: %v", i, c.level, len(msgs) == 0, c.ok, msgs)
		}
	}
}
