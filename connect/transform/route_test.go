package transform

import (
	"strings"
	"testing"
)

func TestRoute(t *testing.T) {
	tests := []struct {
		name, regex, repl string
		want              string // "" for no override
		wantErr           string
	}{
		{"group", `shop\.(.*)`, "cdc_$1_events", "cdc_customers_events", ""},
		{"braces and whole match", `(shop)\.(cust)omers`, "${2}-$0", "cust-shop_customers", ""},
		{"case-insensitive", `SHOP\.CUSTOMERS`, "all", "all", ""},
		{"dollar", `shop\..*`, "a$$b", "a_b", ""},
		{"no match", `other\..*`, "x", "", ""},
		{"empty topic", `shop\.(x*).*`, "$1", "", "not a valid topic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustChain(t, "transforms", "r", "transforms.r.type", "route.regex", "transforms.r.regex", tt.regex, "transforms.r.replacement", tt.repl)
			ev := insert(customers(1), 1)
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
			got, ok := c.Topic(out)
			if got != tt.want || ok != (tt.want != "") {
				t.Fatalf("topic %q %v, want %q", got, ok, tt.want)
			}
			if _, ok := TopicOverride(ev); ok {
				t.Fatal("the input event got an override")
			}
			if out.Source.Table != "customers" || out.Schema != ev.Schema {
				t.Fatal("routing changed the table")
			}
		})
	}
}

func TestParseReplacement(t *testing.T) {
	for _, bad := range []string{"", "$", "${1", "$x", "$2", "${a}"} {
		if _, err := parseReplacement(bad, 1); err == nil {
			t.Errorf("parseReplacement(%q) accepted", bad)
		}
	}
}

func TestRouteRegexWithComma(t *testing.T) {
	c := mustChain(t, "transforms", "r", "transforms.r.type", "route.regex", "transforms.r.regex", `shop\.(c{1,2}ustomers)`, "transforms.r.replacement", "x_$1")
	out, err := one(t, c, insert(customers(1), 1))
	if topic, _ := c.Topic(out); err != nil || topic != "x_customers" {
		t.Fatalf("topic %q err %v", topic, err)
	}
}
