package transform

import (
	"slices"
	"strings"
	"testing"

	"github.com/binlake/binlake/connect"
)

func TestKeyReplace(t *testing.T) {
	tests := []struct {
		name    string
		rules   string
		want    []int // nil: unchanged event
		wantErr string
	}{
		{"replace", "shop.customers:email", []int{1}, ""},
		{"composite regex", `shop\..*:EMAIL,id`, []int{1, 0}, ""},
		{"first rule wins", "shop.customers:ssn;shop.*:email", []int{3}, ""},
		{"other table", "shop.orders:email", nil, ""},
		{"same key", "shop.customers:id", nil, ""},
		{"missing column", "shop.customers:nope", nil, `"nope" is not a column`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustChain(t, "transforms", "k", "transforms.k.type", "key.replace", "transforms.k.message.key.columns", tt.rules)
			in := customers(2)
			ev := insert(in, 9)
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
			if tt.want == nil {
				if out != ev {
					t.Fatal("untouched event copied")
				}
				return
			}
			if !slices.Equal(out.Schema.PrimaryKey, tt.want) || out.Schema.Version != in.Version {
				t.Fatalf("key %v version %d, want %v and %d", out.Schema.PrimaryKey, out.Schema.Version, tt.want, in.Version)
			}
			if !slices.Equal(in.PrimaryKey, []int{0}) {
				t.Fatal("input key modified")
			}
			wantKey := connect.KeyValueText(ev.After[tt.want[0]])
			if got := connect.MessageKey(out.Schema, out.After); !strings.HasPrefix(got, wantKey) {
				t.Fatalf("message key %q, want it to start with %q", got, wantKey)
			}
		})
	}
}

func TestKeyRulesParse(t *testing.T) {
	for _, bad := range []string{"", ";", "shop.t", ":a", "shop.t:", "shop.t:a,A", "sh(op:a"} {
		if _, err := parseKeyRules(bad); err == nil {
			t.Errorf("parseKeyRules(%q) accepted", bad)
		}
	}
	rules, err := parseKeyRules(" a.b : x , y ; c.d:z ")
	if err != nil || len(rules) != 2 || strings.Join(rules[0].cols, ",") != "x,y" || !rules[1].table.MatchString("C.D") {
		t.Fatalf("rules %+v err %v", rules, err)
	}
}
