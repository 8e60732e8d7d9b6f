package spec

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/binlake/binlake/connect"
)

func testSpec() *Spec {
	return &Spec{
		Keys: []Key{
			{Name: "host", Type: String, Required: true},
			{Name: "port", Type: Int, Default: "3306", Validate: Range(1, 65535)},
			{Name: "big", Type: Long},
			{Name: "on", Type: Bool, Default: "false"},
			{Name: "ratio", Type: Double},
			{Name: "tables", Type: List, Enum: []string{"a", "b"}},
			{Name: "password", Type: Password},
			{Name: "token", Type: String, Secret: true},
			{Name: "mode", Type: String, Default: "x", Enum: []string{"x", "y"}},
			{Name: "wait", Type: Duration, Default: "1500"},
			{Name: "even", Type: Int, Validate: func(v string) error {
				if GetInt(connect.Config{"v": v}, "v")%2 != 0 {
					return errors.New("must be even")
				}
				return nil
			}},
		},
		Prefixes: []string{"opt."},
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  connect.Config
		want map[string]string // field -> substring of message
	}{
		{"minimal valid", connect.Config{"host": "h"}, nil},
		{"all valid", connect.Config{"host": "h", "port": "1", "big": "9000000000", "on": "TRUE", "ratio": "0.5",
			"tables": "a, b", "password": "p", "token": "t", "mode": "y", "wait": "10s", "even": "4", "opt.x.y": "any"}, nil},
		{"missing required", connect.Config{}, map[string]string{"host": "required"}},
		{"empty required", connect.Config{"host": "  "}, map[string]string{"host": "required"}},
		{"unknown key with hint", connect.Config{"host": "h", "prot": "1"}, map[string]string{"prot": `did you mean "port"`}},
		{"unknown key far", connect.Config{"host": "h", "zzzzzzzz": "1"}, map[string]string{"zzzzzzzz": "unknown key"}},
		{"bare prefix is unknown", connect.Config{"host": "h", "opt.": "1"}, map[string]string{"opt.": "unknown key"}},
		{"wrong int", connect.Config{"host": "h", "port": "abc"}, map[string]string{"port": "not an int"}},
		{"int overflow", connect.Config{"host": "h", "port": "9999999999"}, map[string]string{"port": "not an int"}},
		{"range", connect.Config{"host": "h", "port": "70000"}, map[string]string{"port": "outside"}},
		{"wrong long", connect.Config{"host": "h", "big": "1.5"}, map[string]string{"big": "not a long"}},
		{"wrong bool", connect.Config{"host": "h", "on": "yes"}, map[string]string{"on": "boolean"}},
		{"wrong double", connect.Config{"host": "h", "ratio": "NaN"}, map[string]string{"ratio": "double"}},
		{"enum", connect.Config{"host": "h", "mode": "z"}, map[string]string{"mode": "not one of x, y"}},
		{"empty enum", connect.Config{"host": "h", "mode": ""}, map[string]string{"mode": "not one of"}},
		{"list enum", connect.Config{"host": "h", "tables": "a,c"}, map[string]string{"tables": `"c"`}},
		{"duration", connect.Config{"host": "h", "wait": "-5"}, map[string]string{"wait": "out of range"}},
		{"duration text", connect.Config{"host": "h", "wait": "soon"}, map[string]string{"wait": "not a duration"}},
		{"empty int", connect.Config{"host": "h", "port": ""}, map[string]string{"port": "not an int"}},
		{"custom validate", connect.Config{"host": "h", "even": "3"}, map[string]string{"even": "must be even"}},
		{"several at once", connect.Config{"port": "x", "nope": "1", "mode": "q"},
			map[string]string{"host": "required", "port": "not an int", "nope": "unknown", "mode": "not one of"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := testSpec().Validate(tt.cfg)
			if len(errs) != len(tt.want) {
				t.Fatalf("got %d errors %v, want %d (%v)", len(errs), errs, len(tt.want), tt.want)
			}
			for i, e := range errs {
				if i > 0 && errs[i-1].Field >= e.Field {
					t.Errorf("errors not sorted by field: %v", errs)
				}
				sub, ok := tt.want[e.Field]
				if !ok {
					t.Errorf("unexpected error %v", e)
					continue
				}
				if !strings.Contains(e.Message, sub) {
					t.Errorf("error for %s = %q, want it to contain %q", e.Field, e.Message, sub)
				}
			}
		})
	}
}

func TestWithDefaultsAndGetters(t *testing.T) {
	in := connect.Config{"host": " h ", "port": "42"}
	cfg := testSpec().WithDefaults(in)
	if _, ok := in["on"]; ok {
		t.Fatal("WithDefaults modified its input")
	}
	if got := GetInt(cfg, "port"); got != 42 {
		t.Errorf("port = %d, want the given 42", got)
	}
	if got := GetDuration(cfg, "wait"); got != 1500*time.Millisecond {
		t.Errorf("wait = %v, want default 1.5s", got)
	}
	if got := GetString(cfg, "mode"); got != "x" {
		t.Errorf("mode = %q, want default x", got)
	}
	if got := GetString(cfg, "host"); got != "h" {
		t.Errorf("host = %q, want trimmed h", got)
	}
	if _, ok := cfg["big"]; ok {
		t.Error("key without default was added")
	}
	cfg["tables"] = " a,, b ,"
	if got := GetList(cfg, "tables"); strings.Join(got, "|") != "a|b" {
		t.Errorf("tables = %q", got)
	}
	cfg["on"], cfg["ratio"], cfg["big"] = "True", "2.5", "-9000000000"
	if !GetBool(cfg, "on") || GetDouble(cfg, "ratio") != 2.5 || GetLong(cfg, "big") != -9000000000 {
		t.Errorf("typed getters: %v %v %v", GetBool(cfg, "on"), GetDouble(cfg, "ratio"), GetLong(cfg, "big"))
	}
	cfg["wait"] = "2m"
	if GetDuration(cfg, "wait") != 2*time.Minute {
		t.Errorf("wait = %v", GetDuration(cfg, "wait"))
	}
}

func TestRedact(t *testing.T) {
	cfg := connect.Config{"host": "h", "password": "p", "token": "t", "db.passwd.extra": "q", "s3.secret-access-key": "k", "empty.password": ""}
	out := testSpec().Redact(cfg)
	for k, want := range map[string]string{"host": "h", "password": Redacted, "token": Redacted, "db.passwd.extra": Redacted,
		"s3.secret-access-key": Redacted, "empty.password": ""} {
		if out[k] != want {
			t.Errorf("%s = %q, want %q", k, out[k], want)
		}
	}
	if cfg["password"] != "p" {
		t.Error("Redact modified its input")
	}
}

func TestMerge(t *testing.T) {
	a := &Spec{Keys: []Key{{Name: "x", Type: Int, Default: "1"}, {Name: "y", Type: String}}, Prefixes: []string{"p."}}
	b := &Spec{Keys: []Key{{Name: "z", Type: Bool}, {Name: "x", Type: Int, Default: "2"}}, Prefixes: []string{"p.", "q."}}
	m := Merge(a, nil, b)
	var names []string
	for _, k := range m.Keys {
		names = append(names, k.Name)
	}
	if strings.Join(names, ",") != "x,y,z" {
		t.Errorf("order = %v", names)
	}
	if k, _ := m.Key("x"); k.Default != "2" {
		t.Errorf("x default = %q, want the later 2", k.Default)
	}
	if strings.Join(m.Prefixes, ",") != "p.,q." {
		t.Errorf("prefixes = %v", m.Prefixes)
	}
	if len(a.Keys) != 2 || a.Keys[0].Default != "1" {
		t.Error("Merge modified its input")
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		s    *Spec
		want string
	}{
		{"ok", testSpec(), ""},
		{"common", Merge(Common, Source, Sink), ""},
		{"dup", &Spec{Keys: []Key{{Name: "a", Type: String}, {Name: "a", Type: Int}}}, "twice"},
		{"no name", &Spec{Keys: []Key{{Type: String}}}, "without a name"},
		{"bad type", &Spec{Keys: []Key{{Name: "a", Type: "weird"}}}, "unknown type"},
		{"bad default", &Spec{Keys: []Key{{Name: "a", Type: Int, Default: "x"}}}, "default"},
		{"default not in enum", &Spec{Keys: []Key{{Name: "a", Type: String, Default: "c", Enum: []string{"a"}}}}, "default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.s.Check()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Check() = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Check() = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestTopicValidators(t *testing.T) {
	if err := TopicName("ok_topic-1"); err != nil {
		t.Error(err)
	}
	if err := TopicName("a.b"); err == nil {
		t.Error("dot accepted")
	}
	if err := TopicName(strings.Repeat("a", MaxTopicLen+1)); err == nil {
		t.Error("long topic accepted")
	}
	if err := TopicList("a, b ,c"); err != nil {
		t.Error(err)
	}
	if err := TopicList("a,b c"); err == nil {
		t.Error("space accepted")
	}
	if err := AtLeast(3)("2"); err == nil {
		t.Error("AtLeast accepted 2")
	}
}

// FuzzValidate checks that no config makes Validate, WithDefaults or Redact
// panic and that a config Validate accepts keeps its values through defaults.
func FuzzValidate(f *testing.F) {
	f.Add("port", "3306", "wait", "10s")
	f.Add("prot", "x", "tables", "a,,b")
	f.Add("opt.", "", "mode", "\x00")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		s := Merge(Common, testSpec())
		cfg := connect.Config{k1: v1, k2: v2, "host": "h", ConnectorClass: "c"}
		errs := s.Validate(cfg)
		seen := map[string]bool{}
		for _, e := range errs {
			if seen[e.Field] {
				t.Fatalf("two errors for field %q: %v", e.Field, errs)
			}
			seen[e.Field] = true
		}
		d := s.WithDefaults(cfg)
		for k, v := range cfg {
			if d[k] != v {
				t.Fatalf("WithDefaults changed %q", k)
			}
		}
		r := s.Redact(cfg)
		if len(r) != len(cfg) {
			t.Fatal("Redact changed the key set")
		}
		if v := r["password"]; cfg["password"] != "" && v != Redacted {
			t.Fatal("password not redacted")
		}
	})
}
