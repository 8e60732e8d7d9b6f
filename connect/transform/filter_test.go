package transform

import (
	"errors"
	"strings"
	"testing"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/schema"
)

func TestFilter(t *testing.T) {
	tests := []struct {
		name, cond, action string
		op                 connect.Op
		keep               bool
		wantErr            string
	}{
		{"op", `op == "c"`, "", connect.OpCreate, true, ""},
		{"op drop action", `op == "c"`, "drop", connect.OpCreate, false, ""},
		{"db and table", `db == "shop" && table == "customers"`, "", connect.OpCreate, true, ""},
		{"int column", `after.age > 18`, "", connect.OpCreate, true, ""},
		{"int column false", `after.age > 30`, "", connect.OpCreate, false, ""},
		{"index syntax, any case", `after["AGE"] == 30`, "", connect.OpCreate, true, ""},
		{"decimal as float", `after.amount > 12.4 && after.amount < 12.6`, "", connect.OpCreate, true, ""},
		{"bytes as string", `after.photo == "\x01\x02"`, "", connect.OpCreate, true, ""},
		{"string functions", `after.email endsWith "@example.com"`, "", connect.OpCreate, true, ""},
		{"absent image is nil", `before.age == nil`, "", connect.OpCreate, true, ""},
		{"update compares images", `before.age != after.age`, "", connect.OpUpdate, true, ""},
		{"missing column is nil", `after.nope == nil`, "", connect.OpCreate, true, ""},
		{"guarded missing column", `table != "customers" || after.age >= 30`, "", connect.OpCreate, true, ""},
		{"nil coalesce", `(after.nope ?? 0) > 1`, "", connect.OpCreate, false, ""},
		{"source fields", `source.sequence > 0 && source.file == "mysql-bin.000003" && source.pos == 4242 && !source.snapshot && source.server_id == 7 && source.ts_ms > 0 && source.tx_id == ""`, "", connect.OpCreate, true, ""},
		{"runtime type error", `after.name > 1`, "", connect.OpCreate, false, "evaluating condition"},
		{"nil comparison error", `after.nope > 1`, "", connect.OpCreate, false, "evaluating condition"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kv := []string{"transforms", "f", "transforms.f.type", "filter", "transforms.f.condition", tt.cond}
			if tt.action != "" {
				kv = append(kv, "transforms.f.action", tt.action)
			}
			c := mustChain(t, kv...)
			var ev *connect.ChangeEvent
			if tt.op == connect.OpUpdate {
				b := customerRow(1)
				b[5] = int32(29)
				ev = event(customers(1), connect.OpUpdate, b, customerRow(1))
			} else {
				ev = insert(customers(1), 1)
			}
			out, err := one(t, c, ev)
			if tt.wantErr != "" {
				var re *RecordError
				if !errors.As(err, &re) || re.Transform != "f" || !strings.Contains(err.Error(), tt.wantErr) ||
					!strings.Contains(err.Error(), "shop.customers at sequence") || !strings.Contains(err.Error(), "mysql-bin.000003:4242") {
					t.Fatalf("err = %v, want a RecordError with position and %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (out != nil) != tt.keep {
				t.Fatalf("kept = %v, want %v", out != nil, tt.keep)
			}
			if out != nil && out != ev {
				t.Fatal("a kept event was copied though nothing changed")
			}
		})
	}
}

func TestFilterConfigErrors(t *testing.T) {
	for cond, want := range map[string]string{
		`op ==`:             "unexpected",
		`tabel == "x"`:      "unknown name tabel",
		`source.nope == 1`:  `no field "nope"`,
		`after[0] == 1`:     "constant name",
		`now() > 1`:         "now",
		`1 + 1`:             "bool",
		`after[table] == 1`: "constant name",
	} {
		errs := Validate(config("transforms", "f", "transforms.f.type", "filter", "transforms.f.condition", cond))
		if len(errs) != 1 || errs[0].Field != "transforms.f.condition" || !strings.Contains(errs[0].Message, want) {
			t.Errorf("condition %q: errors %v, want one on transforms.f.condition containing %q", cond, errs, want)
		}
	}
}

// TestFilterCompiledPerVersion checks that column references resolve per
// table version: the same condition reads the right index after a column
// was added in front.
func TestFilterCompiledPerVersion(t *testing.T) {
	c := mustChain(t, "transforms", "f", "transforms.f.type", "filter", "transforms.f.condition", `after.age == 30`)
	v1 := customers(1)
	v2 := customers(2)
	v2.Columns = append(v2.Columns[:1:1], append([]schema.Column{{Name: "extra", Kind: v2.Columns[5].Kind}}, v2.Columns[1:]...)...)
	ev2 := insert(v2, 1)
	ev2.After = append(ev2.After[:1:1], append([]any{int32(99)}, ev2.After[1:]...)...)
	for _, ev := range []*connect.ChangeEvent{insert(v1, 1), ev2, insert(v1, 2)} {
		out, err := one(t, c, ev)
		if err != nil || out == nil {
			t.Fatalf("version %d: out %v err %v", ev.Schema.Version, out, err)
		}
	}
	if len(c.byKey) != 2 {
		t.Fatalf("%d plans cached, want one per version", len(c.byKey))
	}
}
