package avroschema

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/binlake/binlake/schema"
)

// ValueRecord returns the row record of an envelope (the record branch of its
// "after" field), or s itself when s is already a row record.
func ValueRecord(s *Schema) (*Schema, error) {
	if s.Type != "record" {
		return nil, fmt.Errorf("schema is a %s, not a record", s.Type)
	}
	after := s.Field("after")
	if after == nil || s.Field("op") == nil {
		return s, nil
	}
	t := after.Type
	if t.Type == "union" {
		for _, b := range t.Branches {
			if b.Type == "record" {
				return b, nil
			}
		}
	}
	if t.Type == "record" {
		return t, nil
	}
	return nil, fmt.Errorf("envelope %s: field after holds no record", s.Name)
}

// ToTable rebuilds the table version a writer schema (an envelope from
// FromTable, or a Value record) describes: kinds, precision and scale,
// optionality, defaults, aliases, source types, primary key and version.
// Schemas written by other producers are accepted as long as every field maps
// to a kind; database and table then come from the namespace.
func ToTable(s *Schema) (*schema.Table, error) {
	v, err := ValueRecord(s)
	if err != nil {
		return nil, fmt.Errorf("reading table from Avro schema: %w", err)
	}
	t := &schema.Table{Database: v.Prop(PropDatabase), Name: v.Prop(PropTable)}
	if t.Database == "" || t.Name == "" {
		parts := strings.Split(v.Name, ".")
		if len(parts) >= 3 {
			t.Database, t.Name = parts[len(parts)-3], parts[len(parts)-2]
		} else {
			t.Database, t.Name = "unknown", v.Name
		}
	}
	if n, ok := v.Props[PropVersion].(json.Number); ok {
		ver, err := n.Int64()
		if err != nil {
			return nil, fmt.Errorf("reading table from Avro schema %s: version %s: %w", v.Name, n, err)
		}
		t.Version = int(ver)
	}
	for _, f := range v.Fields {
		c, err := fieldColumn(f)
		if err != nil {
			return nil, fmt.Errorf("reading table from Avro schema %s: %w", v.Name, err)
		}
		t.Columns = append(t.Columns, c)
	}
	if keys, ok := v.Props[PropKey].([]any); ok {
		for _, k := range keys {
			name, _ := k.(string)
			idx := -1
			for i := range t.Columns {
				if t.Columns[i].Name == name {
					idx = i
					break
				}
			}
			if idx < 0 {
				return nil, fmt.Errorf("reading table from Avro schema %s: key column %q is not a field", v.Name, name)
			}
			t.PrimaryKey = append(t.PrimaryKey, idx)
		}
	}
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("reading table from Avro schema %s: %w", v.Name, err)
	}
	return t, nil
}

func fieldColumn(f *Field) (schema.Column, error) {
	c := schema.Column{Name: f.Name, SourceType: f.Prop(PropSourceType), Aliases: f.Aliases}
	if n := f.Prop(PropName); n != "" {
		c.Name = n
	}
	if al, ok := f.Props[PropAliases].([]any); ok {
		c.Aliases = nil
		for _, a := range al {
			s, _ := a.(string)
			c.Aliases = append(c.Aliases, s)
		}
	}
	t := f.Type
	if t.Type == "union" {
		if len(t.Branches) != 2 || t.Branches[0].Type != "null" && t.Branches[1].Type != "null" {
			return c, fmt.Errorf("field %s: only [\"null\", T] unions map to a column", f.Name)
		}
		c.Optional = true
		if t.Branches[0].Type == "null" {
			t = t.Branches[1]
		} else {
			t = t.Branches[0]
		}
	}
	k, err := kindOf(t)
	if err != nil {
		return c, fmt.Errorf("field %s: %w", f.Name, err)
	}
	c.Kind = k
	if k == schema.KindDecimal {
		c.Precision, c.Scale = t.Precision, t.Scale
	}
	var def any
	hasDef := false
	if c.Optional {
		def, hasDef = f.Props[PropDefault]
	} else {
		def, hasDef = f.Default, f.HasDefault
	}
	if hasDef {
		c.HasDefault = true
		if c.Default, err = defaultValue(&c, def); err != nil {
			return c, fmt.Errorf("field %s default: %w", f.Name, err)
		}
	}
	return c, nil
}

func kindOf(t *Schema) (schema.Kind, error) {
	switch t.Type {
	case "boolean":
		return schema.KindBool, nil
	case "int":
		switch t.LogicalType {
		case "":
			return schema.KindInt32, nil
		case "date":
			return schema.KindDate, nil
		}
	case "long":
		switch t.LogicalType {
		case "":
			if t.Prop(PropKind) == "duration" {
				return schema.KindDuration, nil
			}
			return schema.KindInt64, nil
		case "time-micros":
			return schema.KindTime, nil
		case "timestamp-micros":
			if utc, _ := t.Props[PropUTC].(bool); utc {
				return schema.KindTimestampTZ, nil
			}
			return schema.KindTimestamp, nil
		}
	case "float":
		return schema.KindFloat32, nil
	case "double":
		return schema.KindFloat64, nil
	case "string":
		return schema.KindString, nil
	case "bytes":
		switch t.LogicalType {
		case "":
			return schema.KindBytes, nil
		case "decimal":
			if t.Precision > 38 {
				return schema.KindInvalid, fmt.Errorf("decimal(%d,%d) is wider than 38 digits", t.Precision, t.Scale)
			}
			return schema.KindDecimal, nil
		}
	}
	if t.LogicalType != "" {
		return schema.KindInvalid, fmt.Errorf("%s with logical type %s maps to no column kind", t.Type, t.LogicalType)
	}
	return schema.KindInvalid, fmt.Errorf("type %s maps to no column kind", t.Type)
}

// defaultValue converts an Avro JSON default to the column's Go value.
func defaultValue(c *schema.Column, d any) (any, error) {
	if d == nil {
		return nil, nil
	}
	num := func() (json.Number, error) {
		n, ok := d.(json.Number)
		if !ok {
			return "", fmt.Errorf("%v is not a number", d)
		}
		return n, nil
	}
	switch c.Kind {
	case schema.KindBool:
		b, ok := d.(bool)
		if !ok {
			return nil, fmt.Errorf("%v is not a boolean", d)
		}
		return b, nil
	case schema.KindInt32, schema.KindDate:
		n, err := num()
		if err != nil {
			return nil, err
		}
		i, err := strconv.ParseInt(string(n), 10, 32)
		if err != nil {
			return nil, fmt.Errorf("parsing int default: %w", err)
		}
		return int32(i), nil
	case schema.KindInt64, schema.KindTime, schema.KindDuration, schema.KindTimestamp, schema.KindTimestampTZ:
		n, err := num()
		if err != nil {
			return nil, err
		}
		i, err := n.Int64()
		if err != nil {
			return nil, fmt.Errorf("parsing long default: %w", err)
		}
		return i, nil
	case schema.KindFloat32, schema.KindFloat64:
		n, err := num()
		if err != nil {
			return nil, err
		}
		bits := 64
		if c.Kind == schema.KindFloat32 {
			bits = 32
		}
		f, err := strconv.ParseFloat(string(n), bits)
		if err != nil && !math.IsInf(f, 0) {
			return nil, fmt.Errorf("parsing float default: %w", err)
		}
		if bits == 32 {
			return float32(f), nil
		}
		return f, nil
	case schema.KindString:
		s, ok := d.(string)
		if !ok {
			return nil, fmt.Errorf("%v is not a string", d)
		}
		return s, nil
	case schema.KindBytes, schema.KindDecimal:
		s, ok := d.(string)
		if !ok {
			return nil, fmt.Errorf("%v is not a bytes string", d)
		}
		b := make([]byte, 0, len(s))
		for _, r := range s {
			if r > 0xff {
				return nil, fmt.Errorf("bytes default holds code point %U above U+00FF", r)
			}
			b = append(b, byte(r))
		}
		if c.Kind == schema.KindBytes {
			return b, nil
		}
		return schema.Decimal{Unscaled: DecimalFromBytes(b), Scale: int32(c.Scale)}, nil
	}
	return nil, fmt.Errorf("kind %s has no default mapping", c.Kind)
}
