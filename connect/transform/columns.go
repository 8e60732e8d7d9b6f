package transform

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/binlake/binlake/connect/spec"
	"github.com/binlake/binlake/schema"
)

// Keys of the column transforms.
const (
	KeyColumns = "columns"
	KeyRenames = "renames"
)

func columnsKey(doc string) spec.Key {
	return spec.Key{Name: KeyColumns, Type: spec.List, Required: true, Validate: validPatterns, Doc: doc + " Comma-separated; a regular expression cannot contain a comma."}
}

var columnsIncludeType = typeDef{
	name: "columns.include",
	doc: "Keeps only the columns matching the given regular expressions (like Debezium's column.include.list); the others are " +
		"removed from the row images and the derived schema. Every primary key column must be kept, and every table in scope " +
		"must keep at least one column (limit the transform with tables otherwise).",
	keys: []spec.Key{columnsKey("Regular expressions (anchored, case-insensitive) over \"db.table.column\" naming the columns to keep.")},
	build: func(p *params) transformer {
		re, _ := compilePatterns(p.list(KeyColumns))
		return &columnFilter{include: true, re: re}
	},
}

var columnsExcludeType = typeDef{
	name: "columns.exclude",
	doc: "Removes the columns matching the given regular expressions (like Debezium's column.exclude.list) from the row images " +
		"and the derived schema. Primary key columns cannot be removed (replace the key with key.replace first).",
	keys: []spec.Key{columnsKey("Regular expressions (anchored, case-insensitive) over \"db.table.column\" naming the columns to remove.")},
	build: func(p *params) transformer {
		re, _ := compilePatterns(p.list(KeyColumns))
		return &columnFilter{include: false, re: re}
	},
}

// columnFilter is columns.include and columns.exclude.
type columnFilter struct {
	include bool
	re      *regexp.Regexp
}

func (f *columnFilter) plan(in shape) (shape, rowOp, error) {
	t := in.t
	if t == nil {
		return in, nil, nil
	}
	prefix := in.db + "." + in.table + "."
	keep := make([]int, 0, len(t.Columns))
	for i, c := range t.Columns {
		if f.re.MatchString(prefix+c.Name) == f.include {
			keep = append(keep, i)
		}
	}
	if len(keep) == len(t.Columns) {
		return in, nil, nil
	}
	if len(keep) == 0 {
		return in, nil, fmt.Errorf("every column of %s would be removed; limit the transform with its tables key", t.QualifiedName())
	}
	newIdx := make([]int, len(t.Columns))
	for i := range newIdx {
		newIdx[i] = -1
	}
	out := derive(t)
	out.Columns = out.Columns[:0]
	for j, i := range keep {
		newIdx[i] = j
		out.Columns = append(out.Columns, t.Columns[i])
	}
	for k, i := range t.PrimaryKey {
		if newIdx[i] < 0 {
			return in, nil, fmt.Errorf("column %q is part of the primary key of %s and cannot be removed; set another key with a key.replace transform listed before this one",
				t.Columns[i].Name, t.QualifiedName())
		}
		out.PrimaryKey[k] = newIdx[i]
	}
	in.t = out
	return in, &projectOp{idx: keep}, nil
}

// projectOp rebuilds the row images with the kept columns.
type projectOp struct{ idx []int }

func (p *projectOp) apply(r *record, _ *runState) (bool, error) {
	r.before, r.ownBefore = project(r.before, p.idx), true
	r.after, r.ownAfter = project(r.after, p.idx), true
	return true, nil
}

func project(row []any, idx []int) []any {
	if row == nil {
		return nil
	}
	out := make([]any, len(idx))
	for j, i := range idx {
		out[j] = row[i]
	}
	return out
}

var columnsRenameType = typeDef{
	name: "columns.rename",
	doc: "Renames columns in the derived schema (row values are unchanged). Each mapping is old:new, where old is a column " +
		"name (in every table in scope) or db.table.column (in that table only; it wins over a plain name). Names compare " +
		"case-insensitively; a rename that makes two columns share a name fails the table.",
	keys: []spec.Key{{Name: KeyRenames, Type: spec.List, Required: true, Validate: validRenames,
		Doc: "Comma-separated old:new mappings, e.g. \"cust_id:customer_id,shop.orders.amt:amount\"."}},
	build: func(p *params) transformer {
		rules, _ := parseRenames(p.list(KeyRenames))
		return &renamer{rules: rules}
	},
}

type renameRule struct {
	table    string // lower-case "db.table", or "" for every table
	from, to string
}

func parseRenames(items []string) ([]renameRule, error) {
	rules := make([]renameRule, 0, len(items))
	seen := map[string]bool{}
	for _, it := range items {
		from, to, ok := strings.Cut(it, ":")
		from, to = strings.TrimSpace(from), strings.TrimSpace(to)
		if !ok || from == "" || to == "" || strings.Contains(to, ":") {
			return nil, fmt.Errorf("mapping %q is not old:new", it)
		}
		r := renameRule{from: from, to: to}
		if i := strings.LastIndexByte(from, '.'); i >= 0 {
			tbl := from[:i]
			if !strings.Contains(tbl, ".") || strings.HasPrefix(tbl, ".") || strings.HasSuffix(tbl, ".") || i == len(from)-1 {
				return nil, fmt.Errorf("mapping %q: name the column as column or db.table.column", it)
			}
			r.table, r.from = strings.ToLower(tbl), from[i+1:]
		}
		k := r.table + "\x00" + strings.ToLower(r.from)
		if seen[k] {
			return nil, fmt.Errorf("column %q is renamed twice", from)
		}
		seen[k] = true
		rules = append(rules, r)
	}
	return rules, nil
}

func validRenames(v string) error {
	_, err := parseRenames(splitList(v))
	return err
}

// renamer is columns.rename.
type renamer struct{ rules []renameRule }

func (r *renamer) plan(in shape) (shape, rowOp, error) {
	t := in.t
	if t == nil {
		return in, nil, nil
	}
	qn := strings.ToLower(in.db + "." + in.table)
	var out *schema.Table
	for i, c := range t.Columns {
		to := ""
		for _, rule := range r.rules {
			if !strings.EqualFold(rule.from, c.Name) || (rule.table != "" && rule.table != qn) {
				continue
			}
			if to == "" || rule.table != "" {
				to = rule.to
			}
		}
		if to == "" || to == c.Name {
			continue
		}
		if out == nil {
			out = derive(t)
		}
		out.Columns[i].Name = to
	}
	if out == nil {
		return in, nil, nil
	}
	if err := uniqueColumns(out); err != nil {
		return in, nil, err
	}
	in.t = out
	return in, nil, nil
}

// uniqueColumns fails when two columns share a name (case-insensitively).
func uniqueColumns(t *schema.Table) error {
	seen := make(map[string]bool, len(t.Columns))
	for _, c := range t.Columns {
		n := strings.ToLower(c.Name)
		if seen[n] {
			return fmt.Errorf("two columns of %s would be named %q", t.QualifiedName(), c.Name)
		}
		seen[n] = true
	}
	return nil
}
