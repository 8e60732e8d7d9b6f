package transform

import (
	"errors"
	"strings"
	"testing"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/spec"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  connect.Config
		want map[string]string // field -> message substring
	}{
		{"no transforms", config("name", "x", "database.hostname", "h"), nil},
		{"empty list", config("transforms", " , "), nil},
		{"valid chain", config("transforms", "a,b", "transforms.a.type", "columns.exclude", "transforms.a.columns", `x\..*`,
			"transforms.b.type", "filter", "transforms.b.condition", `op == "c"`, "transforms.b.tables", "shop.*"), nil},
		{"missing type", config("transforms", "a"), map[string]string{"transforms.a.type": "required"}},
		{"unknown type", config("transforms", "a", "transforms.a.type", "mask"), map[string]string{"transforms.a.type": `did you mean "columns.mask"`}},
		{"unknown type far", config("transforms", "a", "transforms.a.type", "zzz"), map[string]string{"transforms.a.type": "known: columns.include"}},
		{"required key", config("transforms", "mask", "transforms.mask.type", "columns.mask"), map[string]string{"transforms.mask.columns": "required"}},
		{"unknown key", config("transforms", "m", "transforms.m.type", "columns.mask", "transforms.m.columns", "a", "transforms.m.modes", "hash"),
			map[string]string{"transforms.m.modes": `did you mean "mode"`}},
		{"enum", config("transforms", "m", "transforms.m.type", "columns.mask", "transforms.m.columns", "a", "transforms.m.mode", "blur"),
			map[string]string{"transforms.m.mode": "not one of"}},
		{"bad regex", config("transforms", "m", "transforms.m.type", "columns.exclude", "transforms.m.columns", "a(,b"),
			map[string]string{"transforms.m.columns": "regular expression"}},
		{"bad tables regex", config("transforms", "m", "transforms.m.type", "columns.exclude", "transforms.m.columns", "a", "transforms.m.tables", "[x"),
			map[string]string{"transforms.m.tables": "regular expression"}},
		{"hash needs salt", config("transforms", "m", "transforms.m.type", "columns.mask", "transforms.m.columns", "a", "transforms.m.mode", "hash"),
			map[string]string{"transforms.m.salt": "required when mode is hash"}},
		{"empty fixed mask", config("transforms", "m", "transforms.m.type", "columns.mask", "transforms.m.columns", "a", "transforms.m.mask", ""),
			map[string]string{"transforms.m.mask": "must not be empty"}},
		{"bad rename", config("transforms", "r", "transforms.r.type", "columns.rename", "transforms.r.renames", "a:b,c"),
			map[string]string{"transforms.r.renames": `"c" is not old:new`}},
		{"bad key rules", config("transforms", "k", "transforms.k.type", "key.replace", "transforms.k.message.key.columns", "shop.t"),
			map[string]string{"transforms.k.message.key.columns": "not <table regex>"}},
		{"bad replacement", config("transforms", "r", "transforms.r.type", "route.regex", "transforms.r.regex", `(a)\.b`, "transforms.r.replacement", "x_$2"),
			map[string]string{"transforms.r.replacement": "group $2"}},
		{"name.case empty names", config("transforms", "n", "transforms.n.type", "name.case", "transforms.n.case", "snake", "transforms.n.names", ","),
			map[string]string{"transforms.n.names": "at least one"}},
		{"field.add static without value", config("transforms", "f", "transforms.f.type", "field.add", "transforms.f.field", "x"),
			map[string]string{"transforms.f.value": "required when value.from is static"}},
		{"field.add bad static", config("transforms", "f", "transforms.f.type", "field.add", "transforms.f.field", "x", "transforms.f.value", "x", "transforms.f.kind", "int64"),
			map[string]string{"transforms.f.value": "not a int64"}},
		{"field.add value with computed", config("transforms", "f", "transforms.f.type", "field.add", "transforms.f.field", "x", "transforms.f.value.from", "op",
			"transforms.f.value", "1", "transforms.f.kind", "bool"),
			map[string]string{"transforms.f.value": "only used with", "transforms.f.kind": "only used with"}},
		{"stray alias", config("transforms", "a", "transforms.a.type", "filter", "transforms.a.condition", "true", "transforms.b.type", "filter"),
			map[string]string{"transforms.b.type": `alias "b" is not listed`}},
		{"key without sub key", config("transforms", "a", "transforms.a.type", "filter", "transforms.a.condition", "true", "transforms.a", "x"),
			map[string]string{"transforms.a": "unknown key"}},
		{"duplicate and bad alias", config("transforms", "a,a,b.c", "transforms.a.type", "filter", "transforms.a.condition", "true"),
			map[string]string{"transforms": "listed twice"}},
		{"several at once", config("transforms", "a,b", "transforms.a.type", "nope", "transforms.b.type", "filter", "transforms.b.condition", "op =="),
			map[string]string{"transforms.a.type": "unknown transform type", "transforms.b.condition": "unexpected"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := Validate(tt.cfg)
			got := map[string]string{}
			for i, e := range errs {
				if i > 0 && errs[i-1].Field > e.Field {
					t.Errorf("errors not sorted: %v", errs)
				}
				got[e.Field] += e.Message + ";"
			}
			for f, sub := range tt.want {
				if !strings.Contains(got[f], sub) {
					t.Errorf("field %s: got %q, want it to contain %q (all: %v)", f, got[f], sub, errs)
				}
			}
			for f := range got {
				if _, ok := tt.want[f]; !ok {
					t.Errorf("unexpected error on %s: %s", f, got[f])
				}
			}
			c, err := New(tt.cfg)
			var ce *ConfigError
			if len(tt.want) > 0 {
				var fe interface{ FieldErrors() []spec.FieldError }
				if c != nil || !errors.As(err, &ce) || len(ce.Fields) != len(errs) || !errors.As(err, &fe) || len(fe.FieldErrors()) != len(errs) {
					t.Fatalf("New = %v, %v; want a ConfigError with the same fields", c, err)
				}
			} else if err != nil || c == nil {
				t.Fatalf("New: %v", err)
			}
		})
	}
}

func TestSecretNotEchoed(t *testing.T) {
	errs := Validate(config("transforms", "m", "transforms.m.type", "columns.mask", "transforms.m.columns", "(", "transforms.m.salt", "hunter2"))
	for _, e := range errs {
		if strings.Contains(e.Message, "hunter2") {
			t.Fatalf("salt echoed in %v", e)
		}
	}
	for _, ti := range Types() {
		if ti.Name != "columns.mask" {
			continue
		}
		if k, ok := ti.Spec.Key(KeySalt); !ok || !k.IsSecret() {
			t.Fatal("salt is not declared secret")
		}
		red := ti.Spec.Redact(connect.Config{KeySalt: "hunter2"})
		if red[KeySalt] != spec.Redacted {
			t.Fatal("salt not redacted")
		}
	}
}

func TestTypes(t *testing.T) {
	seen := map[string]bool{}
	for _, ti := range Types() {
		if seen[ti.Name] || ti.Doc == "" || ti.Spec == nil {
			t.Errorf("type %q: duplicate or undocumented", ti.Name)
		}
		seen[ti.Name] = true
		if err := ti.Spec.Check(); err != nil {
			t.Errorf("type %s: spec: %v", ti.Name, err)
		}
		for _, k := range ti.Spec.Keys {
			if k.Doc == "" || k.Name == KeyType {
				t.Errorf("type %s key %s: undocumented or reserved", ti.Name, k.Name)
			}
		}
		if _, ok := ti.Spec.Key(KeyTables); !ok {
			t.Errorf("type %s lacks the tables key", ti.Name)
		}
	}
	for _, want := range []string{"columns.include", "columns.exclude", "columns.rename", "columns.mask", "key.replace",
		"name.case", "route.regex", "filter", "field.add"} {
		if !seen[want] {
			t.Errorf("type %s missing", want)
		}
	}
}

// FuzzConfig feeds arbitrary transform configs to Validate and New: neither
// may panic, they must agree, every error must name a transforms key, and a
// chain that builds must process an event without panicking.
func FuzzConfig(f *testing.F) {
	f.Add("a", "columns.exclude", "columns", `shop\..*\.ssn`, "tables", "")
	f.Add("a,b", "columns.mask", "mode", "hash", "salt", "s")
	f.Add("r", "columns.rename", "renames", "a:b,shop.t.c:d", "x", "y")
	f.Add("k", "key.replace", "message.key.columns", "shop.customers:email;x.*:a,b", "", "")
	f.Add("n", "name.case", "case", "snake", "names", "database,table,column")
	f.Add("r", "route.regex", "regex", `(.*)\.(.*)`, "replacement", "t_$2_${1}$$")
	f.Add("f", "filter", "condition", `after.age > 1 || source.pos == 2`, "action", "drop")
	f.Add("f", "field.add", "field", "x", "value.from", "commit.timestamp")
	f.Add("f", "field.add", "value", "1.50", "kind", "decimal")
	f.Fuzz(func(t *testing.T, aliases, typ, k1, v1, k2, v2 string) {
		alias, _, _ := strings.Cut(aliases, ",")
		alias = strings.TrimSpace(alias)
		cfg := connect.Config{"transforms": aliases, "transforms." + alias + ".type": typ,
			"transforms." + alias + "." + k1: v1, "transforms." + alias + "." + k2: v2}
		if typ == "field.add" {
			cfg["transforms."+alias+".field"] = "added"
		}
		if typ == "columns.include" || typ == "columns.exclude" || typ == "columns.mask" {
			if _, ok := cfg["transforms."+alias+".columns"]; !ok {
				cfg["transforms."+alias+".columns"] = ".*"
			}
		}
		errs := Validate(cfg)
		for _, e := range errs {
			if e.Field != spec.Transforms && !strings.HasPrefix(e.Field, spec.Transforms+".") {
				t.Fatalf("error on a foreign key: %v", e)
			}
		}
		c, err := New(cfg)
		if (err == nil) != (len(errs) == 0) {
			t.Fatalf("New err %v but Validate %v", err, errs)
		}
		if err != nil {
			return
		}
		ev := insert(customers(1), 1)
		out, err := c.Apply(t.Context(), []*connect.ChangeEvent{ev, {Op: connect.OpTruncate, Source: ev.Source}})
		if err == nil {
			for _, o := range out {
				if o.Schema != nil {
					if err := checkRow(o.Schema, o.After); err != nil {
						t.Fatalf("output row disagrees with its schema: %v", err)
					}
				}
			}
		}
	})
}

func TestRedactHidesSecretTransformKeys(t *testing.T) {
	cfg := connect.Config{
		"transforms":               "m,r",
		"transforms.m.type":        "columns.mask",
		"transforms.m.mode":        "hash",
		"transforms.m.salt":        "pepper",
		"transforms.m.columns":     "shop.customers.email",
		"transforms.r.type":        "route.regex",
		"transforms.r.regex":       "(.*)",
		"transforms.r.replacement": "salt",
	}
	got := Redact(cfg)
	if got["transforms.m.salt"] != spec.Redacted {
		t.Fatalf("salt = %q, want it redacted", got["transforms.m.salt"])
	}
	if got["transforms.m.columns"] != cfg["transforms.m.columns"] || got["transforms.r.replacement"] != "salt" {
		t.Fatalf("non-secret keys changed: %v", got)
	}
	if cfg["transforms.m.salt"] != "pepper" {
		t.Fatal("Redact changed its input")
	}
}
