package transform

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/binlake/binlake/connect/spec"
	"github.com/binlake/binlake/schema"
)

// Keys and value sources of field.add.
const (
	KeyField     = "field"
	KeyValue     = "value"
	KeyValueFrom = "value.from"
	KeyKind      = "kind"

	FromStatic     = "static"
	FromOp         = "op"
	FromDB         = "db"
	FromTable      = "table"
	FromSequence   = "sequence"
	FromCommitTime = "commit.timestamp"
	FromSnapshot   = "snapshot"
	FromGTID       = "gtid"
	FromFile       = "binlog.file"
	FromPos        = "binlog.pos"
	FromServerID   = "server.id"
)

// staticKinds are the kinds a static value may have.
var staticKinds = []string{
	schema.KindString.String(), schema.KindBool.String(), schema.KindInt32.String(), schema.KindInt64.String(),
	schema.KindFloat32.String(), schema.KindFloat64.String(), schema.KindDecimal.String(), schema.KindDate.String(),
	schema.KindTimestamp.String(), schema.KindTimestampTZ.String(),
}

var fieldAddType = typeDef{
	name: "field.add",
	doc: "Appends a column to every row image (before and after) and to the derived schema. value.from=static adds value " +
		"parsed as kind (date as 2006-01-02, timestamp and timestamptz as RFC 3339 or \"2006-01-02 15:04:05.999999\" in " +
		"UTC; the column is NOT NULL with value as its default). The computed sources are op (string), db and table " +
		"(string), sequence (int64), commit.timestamp (timestamptz; NULL when the source gives no commit time), snapshot " +
		"(bool), gtid, binlog.file (string, NULL when empty), binlog.pos (int64, NULL without a binlog file) and " +
		"server.id (int64). A table that already has the column fails.",
	keys: []spec.Key{
		{Name: KeyField, Type: spec.String, Required: true, Doc: "The name of the added column."},
		{Name: KeyValueFrom, Type: spec.String, Default: FromStatic,
			Enum: []string{FromStatic, FromOp, FromDB, FromTable, FromSequence, FromCommitTime, FromSnapshot, FromGTID, FromFile, FromPos, FromServerID},
			Doc:  "Where the value comes from: static (the value key) or a field of the event."},
		{Name: KeyValue, Type: spec.String, Doc: "The static value (value.from=static)."},
		{Name: KeyKind, Type: spec.String, Default: schema.KindString.String(), Enum: staticKinds,
			Doc: "The kind of the static value."},
	},
	build: func(p *params) transformer {
		a := &fieldAdder{from: p.str(KeyValueFrom)}
		a.col = schema.Column{Name: p.str(KeyField)}
		if a.from != FromStatic {
			if p.has(KeyValue) {
				p.fail(KeyValue, "only used with %s=%s", KeyValueFrom, FromStatic)
			}
			if p.str(KeyKind) != schema.KindString.String() { // a non-default kind was given on purpose
				p.fail(KeyKind, "only used with %s=%s", KeyValueFrom, FromStatic)
			}
			a.col.Kind, a.col.Optional = computedKind(a.from)
			return a
		}
		if !p.has(KeyValue) {
			p.fail(KeyValue, "required when %s is %s", KeyValueFrom, FromStatic)
			return a
		}
		kind, _ := schema.ParseKind(p.str(KeyKind))
		v, col, err := parseStatic(p.cfg[KeyValue], kind)
		if err != nil {
			p.fail(KeyValue, "%v", err)
			return a
		}
		col.Name = a.col.Name
		a.col, a.static = col, v
		return a
	},
}

func computedKind(from string) (schema.Kind, bool) {
	switch from {
	case FromSequence, FromServerID:
		return schema.KindInt64, false
	case FromPos:
		return schema.KindInt64, true
	case FromCommitTime:
		return schema.KindTimestampTZ, true
	case FromSnapshot:
		return schema.KindBool, false
	case FromGTID, FromFile:
		return schema.KindString, true
	default: // op, db, table
		return schema.KindString, false
	}
}

// parseStatic parses a static value as kind and returns it with its column.
func parseStatic(s string, kind schema.Kind) (any, schema.Column, error) {
	col := schema.Column{Kind: kind}
	t := strings.TrimSpace(s)
	var v any
	var err error
	switch kind {
	case schema.KindString:
		v = s
	case schema.KindBool:
		v, err = strconv.ParseBool(t)
	case schema.KindInt32:
		var n int64
		n, err = strconv.ParseInt(t, 10, 32)
		v = int32(n)
	case schema.KindInt64:
		v, err = strconv.ParseInt(t, 10, 64)
	case schema.KindFloat32:
		var f float64
		f, err = strconv.ParseFloat(t, 32)
		v = float32(f)
	case schema.KindFloat64:
		v, err = strconv.ParseFloat(t, 64)
	case schema.KindDecimal:
		var d schema.Decimal
		if d, err = schema.ParseDecimal(t); err == nil {
			digits := len(new(big.Int).Abs(d.Unscaled).String())
			col.Precision, col.Scale = max(digits, int(d.Scale), 1), int(d.Scale)
			if col.Precision > 38 {
				err = fmt.Errorf("decimal %s has more than 38 digits", t)
			}
			v = d
		}
	case schema.KindDate:
		var tm time.Time
		if tm, err = time.Parse(time.DateOnly, t); err == nil {
			v = int32(tm.Unix() / 86400) // midnight UTC: an exact multiple
		}
	case schema.KindTimestamp, schema.KindTimestampTZ:
		var tm time.Time
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"} {
			if tm, err = time.Parse(layout, t); err == nil {
				break
			}
		}
		if err == nil {
			v = tm.UnixMicro()
		}
	default:
		err = fmt.Errorf("kind %s is not supported for static values", kind)
	}
	if err != nil {
		return nil, col, fmt.Errorf("value %q is not a %s: %w", s, kind, unwrapNum(err))
	}
	col.Default, col.HasDefault = v, true
	return v, col, nil
}

// unwrapNum keeps strconv's reason without repeating the input.
func unwrapNum(err error) error {
	var ne *strconv.NumError
	if errors.As(err, &ne) {
		return ne.Err
	}
	return err
}

// fieldAdder is field.add.
type fieldAdder struct {
	col    schema.Column
	from   string
	static any
}

func (a *fieldAdder) plan(in shape) (shape, rowOp, error) {
	t := in.t
	if t == nil {
		return in, nil, nil
	}
	if t.ColumnIndex(a.col.Name) >= 0 {
		return in, nil, fmt.Errorf("table %s already has a column %q", t.QualifiedName(), a.col.Name)
	}
	out := derive(t)
	out.Columns = append(out.Columns, a.col)
	in.t = out
	return in, &fieldAddOp{a: a, db: in.db, table: in.table}, nil
}

type fieldAddOp struct {
	a         *fieldAdder
	db, table any // boxed once
}

func (o *fieldAddOp) apply(r *record, _ *runState) (bool, error) {
	v := o.value(r)
	r.before, r.ownBefore = appendValue(r.before, r.ownBefore, v)
	r.after, r.ownAfter = appendValue(r.after, r.ownAfter, v)
	return true, nil
}

// appendValue appends v to row, copying a row the chain does not own.
func appendValue(row []any, owned bool, v any) ([]any, bool) {
	if row == nil {
		return nil, owned
	}
	if owned {
		return append(row, v), true
	}
	out := make([]any, len(row), len(row)+1)
	copy(out, row)
	return append(out, v), true
}

func (o *fieldAddOp) value(r *record) any {
	s := &r.ev.Source
	switch o.a.from {
	case FromStatic:
		return o.a.static
	case FromOp:
		return opValues[byte(r.ev.Op)]
	case FromDB:
		return o.db
	case FromTable:
		return o.table
	case FromSequence:
		return int64(s.Sequence)
	case FromCommitTime:
		if s.CommitTimeMs == 0 {
			return nil
		}
		return s.CommitTimeMs * 1000
	case FromSnapshot:
		return s.Snapshot
	case FromGTID:
		if s.GTID == "" {
			return nil
		}
		return s.GTID
	case FromFile:
		if s.File == "" {
			return nil
		}
		return s.File
	case FromPos:
		if s.File == "" {
			return nil
		}
		return int64(s.Pos)
	case FromServerID:
		return int64(s.ServerID)
	}
	return nil
}
