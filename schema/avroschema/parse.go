package avroschema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Schema is one parsed Avro schema node. Named types (record, enum, fixed)
// referenced again by name share the same *Schema, so a recursive record is a
// cyclic graph: walkers must track the records they visit.
type Schema struct {
	// Type is a primitive name (null, boolean, int, long, float, double,
	// bytes, string) or record, enum, array, map, fixed, union.
	Type string
	// Name is the full name of a named type; Aliases are full names too.
	Name    string
	Aliases []string
	// Fields of a record.
	Fields []*Field
	// Items of an array, Values of a map.
	Items, Values *Schema
	// Branches of a union.
	Branches []*Schema
	// Symbols and Default symbol of an enum.
	Symbols        []string
	EnumDefault    string
	HasEnumDefault bool
	// Size of a fixed.
	Size int
	// LogicalType with Precision and Scale for decimals.
	LogicalType      string
	Precision, Scale int
	// Props holds every other attribute of the type (e.g. "adjust-to-utc",
	// binlake's "binlake.*" properties), JSON-decoded with json.Number.
	Props map[string]any
}

// Field is one field of a record.
type Field struct {
	Name    string
	Aliases []string
	Type    *Schema
	// Default is the JSON-decoded default (json.Number for numbers);
	// HasDefault tells a null default from none.
	Default    any
	HasDefault bool
	// Props holds the field's other attributes.
	Props map[string]any
}

// IsNamed reports whether s is a record, enum or fixed.
func (s *Schema) IsNamed() bool { return s.Type == "record" || s.Type == "enum" || s.Type == "fixed" }

// Field returns the record field with the given name, or nil.
func (s *Schema) Field(name string) *Field {
	for _, f := range s.Fields {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// Prop returns a string property or "".
func (s *Schema) Prop(key string) string {
	v, _ := s.Props[key].(string)
	return v
}

// Prop returns a string field property or "".
func (f *Field) Prop(key string) string {
	v, _ := f.Props[key].(string)
	return v
}

var primitives = map[string]bool{"null": true, "boolean": true, "int": true, "long": true, "float": true, "double": true, "bytes": true, "string": true}

// Parse parses an Avro schema in its JSON form.
func Parse(text string) (*Schema, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("parsing Avro schema JSON: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("parsing Avro schema JSON: trailing data")
	}
	p := &parser{named: map[string]*Schema{}}
	s, err := p.parse(v, "", 0)
	if err != nil {
		return nil, fmt.Errorf("parsing Avro schema: %w", err)
	}
	return s, nil
}

type parser struct {
	named map[string]*Schema
}

const maxDepth = 64

func fullName(name, namespace string) string {
	if strings.Contains(name, ".") || namespace == "" {
		return name
	}
	return namespace + "." + name
}

func validName(full string) bool {
	for _, part := range strings.Split(full, ".") {
		if part == "" {
			return false
		}
		for i, c := range part {
			letter := c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
			digit := i > 0 && c >= '0' && c <= '9'
			if !letter && !digit {
				return false
			}
		}
	}
	return true
}

func (p *parser) parse(v any, ns string, depth int) (*Schema, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("schema nests deeper than %d levels", maxDepth)
	}
	switch x := v.(type) {
	case string:
		if primitives[x] {
			return &Schema{Type: x}, nil
		}
		if s, ok := p.named[fullName(x, ns)]; ok {
			return s, nil
		}
		if s, ok := p.named[x]; ok {
			return s, nil
		}
		return nil, fmt.Errorf("unknown type %q", x)
	case []any:
		u := &Schema{Type: "union"}
		seen := map[string]bool{}
		for _, b := range x {
			bs, err := p.parse(b, ns, depth+1)
			if err != nil {
				return nil, err
			}
			if bs.Type == "union" {
				return nil, fmt.Errorf("union contains a union")
			}
			key := bs.Type
			if bs.IsNamed() {
				key = bs.Name
			}
			if seen[key] {
				return nil, fmt.Errorf("union contains %s twice", key)
			}
			seen[key] = true
			u.Branches = append(u.Branches, bs)
		}
		return u, nil
	case map[string]any:
		return p.parseObject(x, ns, depth)
	}
	return nil, fmt.Errorf("unexpected schema JSON %T", v)
}

var typeKeys = map[string]bool{"type": true, "name": true, "namespace": true, "aliases": true, "fields": true, "items": true,
	"values": true, "symbols": true, "size": true, "logicalType": true, "precision": true, "scale": true, "doc": true, "default": true}

func (p *parser) parseObject(m map[string]any, ns string, depth int) (*Schema, error) {
	t, ok := m["type"]
	if !ok {
		return nil, fmt.Errorf("schema object has no type")
	}
	ts, isString := t.(string)
	if !isString {
		// {"type": {...}} or {"type": [...]}: the attributes wrap another schema.
		return p.parse(t, ns, depth+1)
	}
	s := &Schema{Type: ts}
	for k, v := range m {
		if !typeKeys[k] {
			if s.Props == nil {
				s.Props = map[string]any{}
			}
			s.Props[k] = v
		}
	}
	if lt, ok := m["logicalType"].(string); ok {
		s.LogicalType = lt
	}
	switch ts {
	case "record", "error", "enum", "fixed":
		if ts == "error" {
			s.Type = "record"
		}
		name, _ := m["name"].(string)
		if name == "" {
			return nil, fmt.Errorf("%s has no name", ts)
		}
		if n, ok := m["namespace"].(string); ok && !strings.Contains(name, ".") {
			ns = n
		}
		s.Name = fullName(name, ns)
		if !validName(s.Name) {
			return nil, fmt.Errorf("invalid name %q", s.Name)
		}
		if i := strings.LastIndexByte(s.Name, '.'); i >= 0 {
			ns = s.Name[:i]
		} else {
			ns = ""
		}
		aliases, err := stringList(m["aliases"])
		if err != nil {
			return nil, fmt.Errorf("%s %s: aliases: %w", ts, s.Name, err)
		}
		for _, a := range aliases {
			s.Aliases = append(s.Aliases, fullName(a, ns))
		}
		if _, dup := p.named[s.Name]; dup {
			return nil, fmt.Errorf("type %s defined twice", s.Name)
		}
		p.named[s.Name] = s
	}
	switch s.Type {
	case "record":
		fields, ok := m["fields"].([]any)
		if !ok {
			return nil, fmt.Errorf("record %s has no fields array", s.Name)
		}
		seen := map[string]bool{}
		for _, fv := range fields {
			fm, ok := fv.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("record %s: field is not an object", s.Name)
			}
			f, err := p.parseField(fm, ns, depth)
			if err != nil {
				return nil, fmt.Errorf("record %s: %w", s.Name, err)
			}
			if seen[f.Name] {
				return nil, fmt.Errorf("record %s: duplicate field %q", s.Name, f.Name)
			}
			seen[f.Name] = true
			s.Fields = append(s.Fields, f)
		}
	case "enum":
		syms, err := stringList(m["symbols"])
		if err != nil || len(syms) == 0 {
			return nil, fmt.Errorf("enum %s needs symbols", s.Name)
		}
		s.Symbols = syms
		if d, ok := m["default"].(string); ok {
			s.EnumDefault, s.HasEnumDefault = d, true
		}
	case "fixed":
		n, err := intAttr(m, "size")
		if err != nil || n < 0 {
			return nil, fmt.Errorf("fixed %s needs a size", s.Name)
		}
		s.Size = n
	case "array":
		items, ok := m["items"]
		if !ok {
			return nil, fmt.Errorf("array has no items")
		}
		it, err := p.parse(items, ns, depth+1)
		if err != nil {
			return nil, err
		}
		s.Items = it
	case "map":
		values, ok := m["values"]
		if !ok {
			return nil, fmt.Errorf("map has no values")
		}
		vs, err := p.parse(values, ns, depth+1)
		if err != nil {
			return nil, err
		}
		s.Values = vs
	default:
		if !primitives[s.Type] {
			if len(m) == 1 {
				return p.parse(s.Type, ns, depth+1)
			}
			return nil, fmt.Errorf("unknown type %q", s.Type)
		}
	}
	if s.LogicalType == "decimal" && (s.Type == "bytes" || s.Type == "fixed") {
		prec, err := intAttr(m, "precision")
		if err != nil || prec < 1 {
			return nil, fmt.Errorf("decimal needs a positive precision")
		}
		scale := 0
		if _, ok := m["scale"]; ok {
			if scale, err = intAttr(m, "scale"); err != nil || scale < 0 || scale > prec {
				return nil, fmt.Errorf("decimal(%d) has an invalid scale", prec)
			}
		}
		s.Precision, s.Scale = prec, scale
	}
	return s, nil
}

var fieldKeys = map[string]bool{"name": true, "type": true, "default": true, "aliases": true, "doc": true, "order": true}

func (p *parser) parseField(m map[string]any, ns string, depth int) (*Field, error) {
	name, _ := m["name"].(string)
	if name == "" || !validName(name) || strings.Contains(name, ".") {
		return nil, fmt.Errorf("invalid field name %q", name)
	}
	tv, ok := m["type"]
	if !ok {
		return nil, fmt.Errorf("field %s has no type", name)
	}
	t, err := p.parse(tv, ns, depth+1)
	if err != nil {
		return nil, fmt.Errorf("field %s: %w", name, err)
	}
	f := &Field{Name: name, Type: t}
	if d, ok := m["default"]; ok {
		f.Default, f.HasDefault = d, true
	}
	if f.Aliases, err = stringList(m["aliases"]); err != nil {
		return nil, fmt.Errorf("field %s: aliases: %w", name, err)
	}
	for k, v := range m {
		if !fieldKeys[k] {
			if f.Props == nil {
				f.Props = map[string]any{}
			}
			f.Props[k] = v
		}
	}
	return f, nil
}

func stringList(v any) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("not an array")
	}
	out := make([]string, 0, len(l))
	for _, x := range l {
		s, ok := x.(string)
		if !ok {
			return nil, fmt.Errorf("not a string: %v", x)
		}
		out = append(out, s)
	}
	return out, nil
}

func intAttr(m map[string]any, key string) (int, error) {
	n, ok := m[key].(json.Number)
	if !ok {
		return 0, fmt.Errorf("%s is not a number", key)
	}
	i, err := n.Int64()
	if err != nil || i > 1<<31 {
		return 0, fmt.Errorf("%s is not an integer", key)
	}
	return int(i), nil
}

// Normalize returns a stable compact form of a schema text: the JSON
// re-encoded with sorted object keys and no insignificant space. Registries
// use it to recognize an identical schema; unlike Avro's Parsing Canonical
// Form it keeps every attribute (defaults, aliases, properties).
func Normalize(text string) (string, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", fmt.Errorf("normalizing schema: %w", err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", fmt.Errorf("normalizing schema: %w", err)
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}
