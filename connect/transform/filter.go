package transform

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/types"
	"github.com/expr-lang/expr/vm"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/spec"
	"github.com/binlake/binlake/schema"
)

// Keys and actions of filter.
const (
	KeyCondition = "condition"
	KeyAction    = "action"

	ActionKeep = "keep"
	ActionDrop = "drop"
)

var filterType = typeDef{
	name: "filter",
	doc: "Keeps or drops events by a boolean expression (expr-lang, https://expr-lang.org), compiled once per table version. " +
		"Names: op (\"c\", \"u\", \"d\", \"r\", \"t\"), db, table, before.<column> and after.<column> (or after[\"column\"]; " +
		"NULL, an absent image and a column the table lacks read as nil; decimals read as float64, bytes as string, " +
		"dates and times as their int32/int64 numbers), and source.<field>: connector, server_id, gtid, file, pos, row, " +
		"snapshot, ts_ms (commit time), sequence, tx_id. Comparing nil with a number is an error: guard nullable columns, " +
		"e.g. (after.amount ?? 0) > 100. now() is not available (a filter must decide the same way on replay).",
	keys: []spec.Key{
		{Name: KeyCondition, Type: spec.String, Required: true, Doc: "The expression, e.g. op != \"d\" && after.status == \"paid\"."},
		{Name: KeyAction, Type: spec.String, Default: ActionKeep, Enum: []string{ActionKeep, ActionDrop},
			Doc: "keep: keep the events for which the condition is true and drop the rest; drop: the reverse."},
	},
	build: func(p *params) transformer {
		f := &filter{src: p.str(KeyCondition), keep: p.str(KeyAction) != ActionDrop}
		if _, err := f.compile(nil); err != nil {
			p.fail(KeyCondition, "%v", err)
		}
		return f
	},
}

// Names in the filter environment. Column and source references are
// rewritten at compile time into flat keys no user can type.
const (
	envOp      = "op"
	envDB      = "db"
	envTable   = "table"
	envMissing = "$missing"
)

// sourceFields are the source.<field> names and their types.
var sourceFields = map[string]types.Type{
	"connector": types.String, "server_id": types.Int64, "gtid": types.String, "file": types.String,
	"pos": types.Int64, "row": types.Int64, "snapshot": types.Bool, "ts_ms": types.Int64,
	"sequence": types.Int64, "tx_id": types.String,
}

// opValues holds each op's name boxed once.
var opValues = func() (v [256]any) {
	for i := range v {
		v[i] = string(rune(i))
	}
	return v
}()

// filter is the filter type.
type filter struct {
	src  string
	keep bool
}

func (f *filter) plan(in shape) (shape, rowOp, error) {
	op, err := f.compile(in.t)
	if err != nil {
		return in, nil, fmt.Errorf("compiling condition: %w", err)
	}
	op.db, op.table = in.db, in.table
	return in, op, nil
}

type colRef struct {
	key   string
	after bool
	idx   int
}

// resolver rewrites before.col, after.col and source.field into flat env
// keys for one table version.
type resolver struct {
	t    *schema.Table
	cols []colRef
	srcs []string
	err  error
}

func (r *resolver) Visit(node *ast.Node) {
	m, ok := (*node).(*ast.MemberNode)
	if !ok {
		return
	}
	id, ok := m.Node.(*ast.IdentifierNode)
	if !ok || (id.Value != "before" && id.Value != "after" && id.Value != "source") {
		return
	}
	prop, ok := m.Property.(*ast.StringNode)
	if !ok {
		if r.err == nil {
			r.err = fmt.Errorf("%s takes a constant name: %s.name or %s[\"name\"]", id.Value, id.Value, id.Value)
		}
		return
	}
	if id.Value == "source" {
		if _, known := sourceFields[prop.Value]; !known {
			if r.err == nil {
				r.err = fmt.Errorf("source has no field %q", prop.Value)
			}
			return
		}
		key := "source." + prop.Value
		if !containsStr(r.srcs, key) {
			r.srcs = append(r.srcs, key)
		}
		ast.Patch(node, &ast.IdentifierNode{Value: key})
		return
	}
	idx := -1
	if r.t != nil {
		idx = r.t.ColumnIndex(prop.Value)
	}
	if idx < 0 {
		ast.Patch(node, &ast.IdentifierNode{Value: envMissing})
		return
	}
	ref := colRef{key: id.Value + "[" + strconv.Itoa(idx) + "]", after: id.Value == "after", idx: idx}
	found := false
	for _, c := range r.cols {
		found = found || c.key == ref.key
	}
	if !found {
		r.cols = append(r.cols, ref)
	}
	ast.Patch(node, &ast.IdentifierNode{Value: ref.key})
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// compile compiles the condition for one table version (nil: no columns).
func (f *filter) compile(t *schema.Table) (op *filterOp, err error) {
	env := types.Map{envOp: types.String, envDB: types.String, envTable: types.String, envMissing: types.Any}
	for name, typ := range sourceFields {
		env["source."+name] = typ
	}
	if t != nil {
		for i := range t.Columns {
			env["before["+strconv.Itoa(i)+"]"] = types.Any
			env["after["+strconv.Itoa(i)+"]"] = types.Any
		}
	}
	r := &resolver{t: t}
	defer func() {
		if p := recover(); p != nil { // expr must not take the worker down on odd input
			op, err = nil, fmt.Errorf("compiling expression: %v", p)
		}
	}()
	prog, err := expr.Compile(f.src, expr.Env(env), expr.AsBool(), expr.Patch(r), expr.DisableBuiltin("now"))
	if r.err != nil {
		return nil, r.err
	}
	if err != nil {
		return nil, errors.New(firstLine(err.Error()))
	}
	return &filterOp{prog: prog, keep: f.keep, cols: r.cols, srcs: r.srcs}, nil
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

// filterOp evaluates a compiled condition per record.
type filterOp struct {
	prog      *vm.Program
	keep      bool
	db, table any // boxed once
	cols      []colRef
	srcs      []string
}

func (o *filterOp) apply(r *record, rs *runState) (bool, error) {
	env := rs.env
	env[envOp] = opValues[byte(r.ev.Op)]
	env[envDB], env[envTable] = o.db, o.table
	for _, c := range o.cols {
		row := r.before
		if c.after {
			row = r.after
		}
		var v any
		if row != nil {
			v = exprValue(row[c.idx])
		}
		env[c.key] = v
	}
	for _, key := range o.srcs {
		env[key] = sourceValue(r.ev, key)
	}
	out, err := rs.vm.Run(o.prog, env)
	if err != nil {
		return false, fmt.Errorf("evaluating condition: %s", firstLine(err.Error()))
	}
	b, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("condition gave %T, not a boolean", out)
	}
	return b == o.keep, nil
}

// exprValue converts the values expr cannot compare natively.
func exprValue(v any) any {
	switch x := v.(type) {
	case schema.Decimal:
		f, _ := strconv.ParseFloat(x.String(), 64)
		return f
	case []byte:
		return string(x)
	}
	return v
}

func sourceValue(ev *connect.ChangeEvent, key string) any {
	s := &ev.Source
	switch key {
	case "source.connector":
		return s.Connector
	case "source.server_id":
		return int64(s.ServerID)
	case "source.gtid":
		return s.GTID
	case "source.file":
		return s.File
	case "source.pos":
		return int64(s.Pos)
	case "source.row":
		return int64(s.Row)
	case "source.snapshot":
		return s.Snapshot
	case "source.ts_ms":
		return s.CommitTimeMs
	case "source.sequence":
		return int64(s.Sequence)
	case "source.tx_id":
		if ev.Tx != nil {
			return ev.Tx.ID
		}
		return ""
	}
	return nil
}
