package transform

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/binlake/binlake/connect/spec"
)

// Keys and values of name.case.
const (
	KeyCase  = "case"
	KeyNames = "names"

	CaseLower = "lower"
	CaseUpper = "upper"
	CaseSnake = "snake"

	NamesDatabase = "database"
	NamesTable    = "table"
	NamesColumn   = "column"
)

var nameCaseType = typeDef{
	name: "name.case",
	doc: "Changes the case of database, table and/or column names: lower, upper or snake (\"orderItems\" and \"OrderItems\" " +
		"become \"order_items\", \"HTTPCode\" becomes \"http_code\", spaces and '-' become '_'). Database and table names " +
		"change in the event's source block too, so they change the topic and the sink table. A change that makes two " +
		"columns share a name fails the table.",
	keys: []spec.Key{
		{Name: KeyCase, Type: spec.String, Required: true, Enum: []string{CaseLower, CaseUpper, CaseSnake}, Doc: "lower, upper or snake."},
		{Name: KeyNames, Type: spec.List, Default: NamesTable + "," + NamesColumn, Enum: []string{NamesDatabase, NamesTable, NamesColumn},
			Doc: "Which names change: any of database, table, column."},
	},
	build: func(p *params) transformer {
		names := p.list(KeyNames)
		if len(names) == 0 {
			p.fail(KeyNames, "name at least one of database, table, column")
		}
		return &nameCaser{
			conv:   caseFunc(p.str(KeyCase)),
			db:     slices.Contains(names, NamesDatabase),
			table:  slices.Contains(names, NamesTable),
			column: slices.Contains(names, NamesColumn),
		}
	},
}

func caseFunc(c string) func(string) string {
	switch c {
	case CaseUpper:
		return strings.ToUpper
	case CaseSnake:
		return snakeCase
	default:
		return strings.ToLower
	}
}

// snakeCase converts camelCase, PascalCase and spaced or dashed names to
// lower snake_case; an acronym stays one word ("HTTPCode" -> "http_code").
func snakeCase(s string) string {
	rs := []rune(s)
	var sb strings.Builder
	sb.Grow(len(s) + 4)
	under := func() {
		if b := sb.String(); b != "" && !strings.HasSuffix(b, "_") {
			sb.WriteByte('_')
		}
	}
	for i, r := range rs {
		switch {
		case r == ' ' || r == '-' || r == '_':
			under()
		case unicode.IsUpper(r):
			prevLowerOrDigit := i > 0 && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1]))
			acronymEnd := i > 0 && unicode.IsUpper(rs[i-1]) && i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if prevLowerOrDigit || acronymEnd {
				under()
			}
			sb.WriteRune(unicode.ToLower(r))
		default:
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

// nameCaser is name.case.
type nameCaser struct {
	conv              func(string) string
	db, table, column bool
}

func (n *nameCaser) plan(in shape) (shape, rowOp, error) {
	out := in
	if n.db {
		out.db = n.conv(in.db)
	}
	if n.table {
		out.table = n.conv(in.table)
	}
	if out.db == "" || out.table == "" {
		return in, nil, fmt.Errorf("name case %q leaves an empty database or table name", in.db+"."+in.table)
	}
	t := in.t
	if t == nil {
		return out, nil, nil
	}
	d := derive(t)
	d.Database, d.Name = out.db, out.table
	changed := d.Database != t.Database || d.Name != t.Name
	if n.column {
		for i := range d.Columns {
			c := &d.Columns[i]
			name := n.conv(c.Name)
			if name == c.Name {
				continue
			}
			if name == "" {
				return in, nil, fmt.Errorf("name case leaves column %q of %s without a name", c.Name, t.QualifiedName())
			}
			c.Name, changed = name, true
		}
	}
	if !changed {
		return in, nil, nil
	}
	if err := uniqueColumns(d); err != nil {
		return in, nil, err
	}
	out.t = d
	return out, nil, nil
}
