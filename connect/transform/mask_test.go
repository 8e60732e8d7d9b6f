package transform

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/schema"
)

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestMask(t *testing.T) {
	tests := []struct {
		name     string
		kv       []string // extra keys after type
		col      string
		want     any // masked value of col in the after image
		wantKind schema.Kind
		wantOpt  bool
		wantErr  string
	}{
		{"fixed string", []string{"columns", `.*\.ssn`}, "ssn", "****", schema.KindString, true, ""},
		{"fixed custom", []string{"columns", `.*\.ssn`, "mask", "XXX"}, "ssn", "XXX", schema.KindString, true, ""},
		{"fixed int becomes string", []string{"columns", `.*\.age`}, "age", "****", schema.KindString, true, ""},
		{"hash string", []string{"columns", `.*\.email`, "mode", "hash", "salt", "pepper"}, "email", sha("pepperu1@example.com"), schema.KindString, false, ""},
		{"hash decimal", []string{"columns", `.*\.amount`, "mode", "hash", "salt", "s"}, "amount", sha("s12.50"), schema.KindString, true, ""},
		{"hash bytes", []string{"columns", `.*\.photo`, "mode", "hash", "salt", "s"}, "photo", sha("s\x01\x02"), schema.KindString, true, ""},
		{"hash key column", []string{"columns", `.*\.id`, "mode", "hash", "salt", "s"}, "id", sha("s1"), schema.KindString, false, ""},
		{"null on NOT NULL", []string{"columns", `.*\.email`, "mode", "null"}, "email", nil, schema.KindString, true, ""},
		{"null keeps kind", []string{"columns", `.*\.age`, "mode", "null"}, "age", nil, schema.KindInt32, true, ""},
		{"fixed key column", []string{"columns", `.*\.id`}, "id", nil, 0, false, "only mode hash"},
		{"null key column", []string{"columns", `.*\.id`, "mode", "null"}, "id", nil, 0, false, "only mode hash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kv := []string{"transforms", "m", "transforms.m.type", "columns.mask"}
			for i := 0; i < len(tt.kv); i += 2 {
				kv = append(kv, "transforms.m."+tt.kv[i], tt.kv[i+1])
			}
			c := mustChain(t, kv...)
			in := customers(5)
			before := customerRow(1)
			before[2], before[3], before[4], before[5], before[8] = nil, nil, nil, nil, nil // NULL stays NULL
			ev := event(in, connect.OpUpdate, before, customerRow(1))
			out, err := one(t, c, ev)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			i := out.Schema.ColumnIndex(tt.col)
			if got := out.After[i]; got != tt.want {
				t.Errorf("masked value %#v, want %#v", got, tt.want)
			}
			col := out.Schema.Columns[i]
			if col.Kind != tt.wantKind || col.Optional != tt.wantOpt {
				t.Errorf("column %+v, want kind %s optional %v", col, tt.wantKind, tt.wantOpt)
			}
			if in.Columns[i].Optional && out.Before[i] != nil {
				t.Errorf("NULL became %#v", out.Before[i])
			}
			if out.Schema.Version != in.Version {
				t.Error("version changed")
			}
			for j := range out.After {
				if j != i && !equalValue(out.After[j], ev.After[j]) {
					t.Errorf("unmasked column %d changed", j)
				}
			}
		})
	}
}

func TestMaskDefault(t *testing.T) {
	c := mustChain(t, "transforms", "m", "transforms.m.type", "columns.mask", "transforms.m.columns", `.*\.age`,
		"transforms.m.mode", "hash", "transforms.m.salt", "s")
	out, err := one(t, c, insert(customers(1), 1))
	if err != nil {
		t.Fatal(err)
	}
	col := out.Schema.Columns[5]
	if col.Default != sha("s18") || !col.HasDefault || col.SourceType != "" {
		t.Fatalf("masked column %+v: the default must be masked too", col)
	}
}
