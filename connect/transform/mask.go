package transform

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/spec"
	"github.com/binlake/binlake/schema"
)

// Keys and modes of columns.mask.
const (
	KeyMode = "mode"
	KeyMask = "mask"
	KeySalt = "salt"

	MaskFixed = "fixed"
	MaskHash  = "hash"
	MaskNull  = "null"
)

var columnsMaskType = typeDef{
	name: "columns.mask",
	doc: "Masks the values of the matching columns. mode=fixed replaces every non-NULL value with the mask text; mode=hash " +
		"replaces it with the lower-case hex SHA-256 of salt followed by the value's text (the raw bytes of strings and " +
		"bytes, base-10 numbers, decimal text, days or microseconds for dates and times), which matches MySQL's " +
		"SHA2(CONCAT(salt, col), 256) for text columns; mode=null replaces every value with NULL. fixed and hash make the " +
		"column a string column in the derived schema (the column default is masked too); null makes the column optional " +
		"(NOT NULL columns are not rejected: the derived schema marks them optional). Primary key columns can only be " +
		"hashed (a fixed mask or NULL would merge keys). NULL stays NULL in every mode.",
	keys: []spec.Key{
		columnsKey("Regular expressions (anchored, case-insensitive) over \"db.table.column\" naming the columns to mask."),
		{Name: KeyMode, Type: spec.String, Default: MaskFixed, Enum: []string{MaskFixed, MaskHash, MaskNull},
			Doc: "fixed (replace with mask), hash (salted SHA-256 hex) or null."},
		{Name: KeyMask, Type: spec.String, Default: "****", Doc: "The replacement text of mode=fixed."},
		{Name: KeySalt, Type: spec.Password, Secret: true, Doc: "The salt prepended to each value by mode=hash; required for it."},
	},
	build: func(p *params) transformer {
		m := &masker{mode: p.str(KeyMode), salt: []byte(p.cfg[KeySalt])}
		m.re, _ = compilePatterns(p.list(KeyColumns))
		m.mask = p.cfg[KeyMask] // the default applies when absent
		m.boxedMask = m.mask
		if m.mode == MaskHash && len(m.salt) == 0 {
			p.fail(KeySalt, "required when mode is hash")
		}
		if m.mode == MaskFixed && m.mask == "" {
			p.fail(KeyMask, "must not be empty with mode fixed (use mode null to blank values)")
		}
		return m
	},
}

// masker is columns.mask.
type masker struct {
	re        *regexp.Regexp
	mode      string
	mask      string
	boxedMask any // mask as an interface value, boxed once
	salt      []byte
}

func (m *masker) plan(in shape) (shape, rowOp, error) {
	t := in.t
	if t == nil {
		return in, nil, nil
	}
	prefix := in.db + "." + in.table + "."
	var idx []int
	for i, c := range t.Columns {
		if m.re.MatchString(prefix + c.Name) {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return in, nil, nil
	}
	out := derive(t)
	for _, i := range idx {
		c := &out.Columns[i]
		if m.mode != MaskHash && slices.Contains(t.PrimaryKey, i) {
			return in, nil, fmt.Errorf("column %q is part of the primary key of %s; only mode hash can mask it", c.Name, t.QualifiedName())
		}
		if m.mode == MaskNull {
			c.Optional = true
			c.Default = nil
			continue
		}
		if c.Kind != schema.KindString {
			c.Kind, c.Precision, c.Scale, c.SourceType = schema.KindString, 0, 0, ""
		}
		if c.Default != nil {
			c.Default = m.value(c.Default, nil)
		}
	}
	if out.SameColumns(t) {
		out = t
	}
	in.t = out
	return in, &maskOp{m: m, idx: idx}, nil
}

// value returns the masked form of a non-NULL value.
func (m *masker) value(v any, buf *[]byte) any {
	switch m.mode {
	case MaskNull:
		return nil
	case MaskFixed:
		return m.boxedMask
	}
	var b []byte
	if buf != nil {
		b = (*buf)[:0]
	}
	b = append(b, m.salt...)
	switch x := v.(type) {
	case string:
		b = append(b, x...)
	case []byte:
		b = append(b, x...)
	default:
		b = append(b, connect.KeyValueText(v)...)
	}
	sum := sha256.Sum256(b)
	if buf != nil {
		*buf = b
	}
	return hex.EncodeToString(sum[:])
}

type maskOp struct {
	m   *masker
	idx []int
}

func (o *maskOp) apply(r *record, rs *runState) (bool, error) {
	r.own()
	for _, row := range [2][]any{r.before, r.after} {
		if row == nil {
			continue
		}
		for _, i := range o.idx {
			if row[i] != nil {
				row[i] = o.m.value(row[i], &rs.buf)
			}
		}
	}
	return true, nil
}
