package transform

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/binlake/binlake/connect/spec"
)

// KeyMessageKeyColumns is key.replace's key, named after Debezium's
// message.key.columns.
const KeyMessageKeyColumns = "message.key.columns"

var keyReplaceType = typeDef{
	name: "key.replace",
	doc: "Sets or replaces the primary key of tables in the derived schema (like Debezium's message.key.columns), which decides " +
		"the message key, the queue and the sink's upsert key. Rules are \"<table regex>:<col>,<col>\" separated by ';'; " +
		"the table regex is anchored and case-insensitive over \"db.table\"; the first matching rule wins; tables " +
		"without a matching rule keep their key. Every named column must exist in the table.",
	keys: []spec.Key{{Name: KeyMessageKeyColumns, Type: spec.String, Required: true, Validate: validKeyRules,
		Doc: "Key rules, e.g. \"shop.orders:order_no;shop.audit_.*:id,ts\"."}},
	build: func(p *params) transformer {
		rules, _ := parseKeyRules(p.str(KeyMessageKeyColumns))
		return &keyReplacer{rules: rules}
	},
}

type keyRule struct {
	table *regexp.Regexp
	cols  []string
}

func parseKeyRules(v string) ([]keyRule, error) {
	var rules []keyRule
	for _, part := range strings.Split(v, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		i := strings.LastIndexByte(part, ':')
		if i <= 0 {
			return nil, fmt.Errorf("rule %q is not <table regex>:<col>,<col>", part)
		}
		re, err := compilePatterns([]string{strings.TrimSpace(part[:i])})
		if err != nil {
			return nil, fmt.Errorf("rule %q: %w", part, err)
		}
		cols := splitList(part[i+1:])
		if len(cols) == 0 {
			return nil, fmt.Errorf("rule %q names no key column", part)
		}
		for j, c := range cols {
			for _, d := range cols[:j] {
				if strings.EqualFold(c, d) {
					return nil, fmt.Errorf("rule %q names column %q twice", part, c)
				}
			}
		}
		rules = append(rules, keyRule{table: re, cols: cols})
	}
	if len(rules) == 0 {
		return nil, fmt.Errorf("no key rule given")
	}
	return rules, nil
}

func validKeyRules(v string) error {
	_, err := parseKeyRules(v)
	return err
}

// keyReplacer is key.replace.
type keyReplacer struct{ rules []keyRule }

func (k *keyReplacer) plan(in shape) (shape, rowOp, error) {
	t := in.t
	if t == nil {
		return in, nil, nil
	}
	qn := in.db + "." + in.table
	for _, r := range k.rules {
		if !r.table.MatchString(qn) {
			continue
		}
		pk := make([]int, len(r.cols))
		for j, c := range r.cols {
			if pk[j] = t.ColumnIndex(c); pk[j] < 0 {
				return in, nil, fmt.Errorf("key column %q is not a column of %s", c, t.QualifiedName())
			}
		}
		if slices.Equal(pk, t.PrimaryKey) {
			return in, nil, nil
		}
		out := derive(t)
		out.PrimaryKey = pk
		in.t = out
		return in, nil, nil
	}
	return in, nil, nil
}
