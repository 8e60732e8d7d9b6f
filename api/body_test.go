package api

import (
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"
)

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name, body string
		want       map[string]string
		wantName   string
		fields     int
		bad        bool
	}{
		{name: "flat", body: `{"a": "x", "n": 12, "f": 1.5e3, "b": true, "l": ["p", 2, false]}`,
			want: map[string]string{"a": "x", "n": "12", "f": "1.5e3", "b": "true", "l": "p,2,false"}},
		{name: "wrapped", body: `{"name": "c", "config": {"a": "x"}}`, want: map[string]string{"a": "x"}, wantName: "c"},
		{name: "flat key named config with a string", body: `{"config": "x"}`, want: map[string]string{"config": "x"}},
		{name: "wrapped extra field", body: `{"name": "c", "config": {}, "x": 1}`, fields: 1},
		{name: "wrapped bad name", body: `{"name": 5, "config": {}}`, fields: 1},
		{name: "nested", body: `{"a": {"b": 1}, "c": null, "d": [[1]], "e": ["x,y"]}`, fields: 4},
		{name: "big number kept exact", body: `{"n": 12345678901234567890}`, want: map[string]string{"n": "12345678901234567890"}},
		{name: "malformed", body: `{"a":`, bad: true},
		{name: "array", body: `[]`, bad: true},
		{name: "null", body: `null`, bad: true},
		{name: "trailing", body: `{}x`, bad: true},
		{name: "wrapped malformed", body: `{"config": {"a": }}`, bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, name, ferrs, err := ParseConfig([]byte(tt.body))
			if tt.bad {
				if !errors.Is(err, errBody) {
					t.Fatalf("err = %v, want a malformed-body error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(ferrs) != tt.fields {
				t.Fatalf("field errors %v, want %d", ferrs, tt.fields)
			}
			if tt.fields > 0 {
				return
			}
			if name != tt.wantName || len(cfg) != len(tt.want) {
				t.Fatalf("got %v %q, want %v %q", cfg, name, tt.want, tt.wantName)
			}
			for k, v := range tt.want {
				if cfg[k] != v {
					t.Errorf("%s = %q, want %q", k, cfg[k], v)
				}
			}
		})
	}
}

// FuzzParseConfig checks that no body panics the parser and that an
// accepted flat config of strings round-trips.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(`{"connector.class": "mysql-source", "max.tasks": 1}`))
	f.Add([]byte(`{"name": "x", "config": {"a": ["b", 1]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		cfg, _, ferrs, err := ParseConfig(body)
		if err != nil || len(ferrs) > 0 {
			return
		}
		for k, v := range cfg {
			if !utf8.ValidString(k) && !utf8.ValidString(v) {
				continue
			}
		}
		// Re-encoding the parsed config as a flat object of strings and
		// parsing it again gives the same config.
		b, err := json.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := cfg["config"]; ok {
			return // a flat key named config may re-read as the wrapper form
		}
		again, _, ferrs, err := ParseConfig(b)
		if err != nil || len(ferrs) > 0 {
			t.Fatalf("re-parsing %s: %v %v", b, err, ferrs)
		}
		if len(again) != len(cfg) {
			t.Fatalf("re-parse of %s has %d keys, want %d", b, len(again), len(cfg))
		}
		for k, v := range cfg {
			if again[k] != v && utf8.ValidString(v) && utf8.ValidString(k) {
				t.Fatalf("%q = %q after re-parse, want %q", k, again[k], v)
			}
		}
	})
}
