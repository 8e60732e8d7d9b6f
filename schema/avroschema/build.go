// Package avroschema maps binlake's table schemas to Avro and back, and parses
// Avro schemas for the registry's compatibility checks.
//
// FromTable turns a *schema.Table into three record schemas named
// "<prefix>.<db>.<table>.Key", ".Value" and ".Envelope" (each name part
// sanitized to Avro's [A-Za-z_][A-Za-z0-9_]*). The envelope is Debezium's
// {before, after, source, op, ts_ms, transaction}. ToTable reverses it from a
// writer schema, so a decoder recovers the table a message was written with.
//
// Type mapping (ARCHITECTURE.md 3.3), by schema.Kind:
//
//	bool         boolean
//	int32        int
//	int64        long
//	float32      float
//	float64      double
//	decimal      bytes, logicalType decimal, precision, scale
//	string       string
//	bytes        bytes
//	date         int, logicalType date
//	time         long, logicalType time-micros
//	duration     long with "binlake.kind": "duration" (signed microseconds)
//	timestamp    long, logicalType timestamp-micros, "adjust-to-utc": false
//	timestamptz  long, logicalType timestamp-micros, "adjust-to-utc": true
//
// The UTC marker is the type attribute "adjust-to-utc", the name and meaning
// the Iceberg specification gives it in its Avro mapping (timestamp vs
// timestamptz), so Iceberg-aware readers understand it without binlake.
//
// Columns: a nullable column is ["null", T] with default null (its own
// default, if any, is kept in the field property "binlake.default"); a NOT NULL
// column with a default has that Avro default; a renamed column lists its
// earlier names in "aliases"; the source column type is the field property
// "binlake.source.type"; a column whose name had to be sanitized keeps its
// real name in "binlake.name". The Value record carries the table identity in
// "binlake.database", "binlake.table", "binlake.version" and the primary key
// column names in "binlake.key".
package avroschema

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/binlake/binlake/schema"
)

// Property names binlake writes into its Avro schemas.
const (
	PropDatabase   = "binlake.database"
	PropTable      = "binlake.table"
	PropVersion    = "binlake.version"
	PropKey        = "binlake.key"
	PropSourceType = "binlake.source.type"
	PropName       = "binlake.name"
	PropAliases    = "binlake.aliases"
	PropDefault    = "binlake.default"
	PropKind       = "binlake.kind"
	PropUTC        = "adjust-to-utc"
)

// Names of the shared record types inside every envelope.
const (
	SourceName      = "binlake.Source"
	TransactionName = "binlake.Transaction"
)

// DefaultPrefix is the namespace prefix used when none is configured.
const DefaultPrefix = "binlake"

// Schemas holds the Avro schemas of one table version as JSON text.
type Schemas struct {
	// Namespace is "<prefix>.<db>.<table>", sanitized.
	Namespace string
	// Key is the key record (primary key columns), "" without a primary key.
	Key string
	// Value is the row record.
	Value string
	// Envelope is the change-event record whose before/after are Value.
	Envelope string
	// FieldNames are the Avro field names of the columns, in column order.
	FieldNames []string
}

// KeyName returns the full name of the key record.
func (s *Schemas) KeyName() string { return s.Namespace + ".Key" }

// ValueName returns the full name of the row record.
func (s *Schemas) ValueName() string { return s.Namespace + ".Value" }

// EnvelopeName returns the full name of the envelope record.
func (s *Schemas) EnvelopeName() string { return s.Namespace + ".Envelope" }

// SanitizeName turns s into a valid Avro name part: characters outside
// [A-Za-z0-9_] become '_', and a leading digit (or an empty name) gets a '_'
// in front.
func SanitizeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' {
			b[i] = '_'
		}
	}
	if len(b) == 0 || b[0] >= '0' && b[0] <= '9' {
		return "_" + string(b)
	}
	return string(b)
}

// Namespace returns the sanitized "<prefix>.<db>.<table>".
func Namespace(prefix, db, table string) string {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	parts := strings.Split(prefix, ".")
	for i := range parts {
		parts[i] = SanitizeName(parts[i])
	}
	return strings.Join(append(parts, SanitizeName(db), SanitizeName(table)), ".")
}

// FieldNames returns the Avro field name of each column: sanitized, and made
// unique with a "_<n>" suffix when two names sanitize alike.
func FieldNames(t *schema.Table) []string {
	out := make([]string, len(t.Columns))
	used := make(map[string]bool, len(t.Columns))
	for i := range t.Columns {
		n := SanitizeName(t.Columns[i].Name)
		base := n
		for k := 2; used[n]; k++ {
			n = base + "_" + strconv.Itoa(k)
		}
		used[n] = true
		out[i] = n
	}
	return out
}

// obj is a JSON object that keeps its key order.
type obj []kv

type kv struct {
	k string
	v any
}

func (o obj) MarshalJSON() ([]byte, error) {
	buf := []byte{'{'}
	for i, e := range o {
		if i > 0 {
			buf = append(buf, ',')
		}
		k, err := json.Marshal(e.k)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(e.v)
		if err != nil {
			return nil, err
		}
		buf = append(append(append(buf, k...), ':'), v...)
	}
	return append(buf, '}'), nil
}

// ColumnType returns the Avro type of a column's non-null values.
func ColumnType(c *schema.Column) (any, error) {
	switch c.Kind {
	case schema.KindBool:
		return "boolean", nil
	case schema.KindInt32:
		return "int", nil
	case schema.KindInt64:
		return "long", nil
	case schema.KindFloat32:
		return "float", nil
	case schema.KindFloat64:
		return "double", nil
	case schema.KindDecimal:
		if c.Precision < 1 || c.Precision > 38 || c.Scale < 0 || c.Scale > c.Precision {
			return nil, fmt.Errorf("column %q: decimal(%d,%d) is outside 1..38 digits", c.Name, c.Precision, c.Scale)
		}
		return obj{{"type", "bytes"}, {"logicalType", "decimal"}, {"precision", c.Precision}, {"scale", c.Scale}}, nil
	case schema.KindString:
		return "string", nil
	case schema.KindBytes:
		return "bytes", nil
	case schema.KindDate:
		return obj{{"type", "int"}, {"logicalType", "date"}}, nil
	case schema.KindTime:
		return obj{{"type", "long"}, {"logicalType", "time-micros"}}, nil
	case schema.KindDuration:
		return obj{{"type", "long"}, {PropKind, "duration"}}, nil
	case schema.KindTimestamp:
		return obj{{"type", "long"}, {"logicalType", "timestamp-micros"}, {PropUTC, false}}, nil
	case schema.KindTimestampTZ:
		return obj{{"type", "long"}, {"logicalType", "timestamp-micros"}, {PropUTC, true}}, nil
	}
	return nil, fmt.Errorf("column %q has unsupported kind %s", c.Name, c.Kind)
}

// DefaultJSON returns the Avro JSON encoding of a default value of column c
// (bytes and decimals as ISO-8859-1 strings of their bytes); ok is false when
// the value cannot be an Avro default (non-finite floats).
func DefaultJSON(c *schema.Column, v any) (out any, ok bool, err error) {
	if v == nil {
		return nil, true, nil
	}
	bad := func() (any, bool, error) {
		return nil, false, fmt.Errorf("column %q of kind %s has a default of type %T", c.Name, c.Kind, v)
	}
	switch c.Kind {
	case schema.KindBool:
		b, ok := v.(bool)
		if !ok {
			return bad()
		}
		return b, true, nil
	case schema.KindInt32, schema.KindDate:
		i, ok := v.(int32)
		if !ok {
			return bad()
		}
		return i, true, nil
	case schema.KindInt64, schema.KindTime, schema.KindDuration, schema.KindTimestamp, schema.KindTimestampTZ:
		i, ok := v.(int64)
		if !ok {
			return bad()
		}
		return i, true, nil
	case schema.KindFloat32, schema.KindFloat64:
		var f float64
		switch x := v.(type) {
		case float32:
			if c.Kind != schema.KindFloat32 {
				return bad()
			}
			f = float64(x)
		case float64:
			if c.Kind != schema.KindFloat64 {
				return bad()
			}
			f = x
		default:
			return bad()
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, false, nil
		}
		if c.Kind == schema.KindFloat32 {
			return json.Number(strconv.FormatFloat(f, 'g', -1, 32)), true, nil
		}
		return f, true, nil
	case schema.KindString:
		s, ok := v.(string)
		if !ok {
			return bad()
		}
		return s, true, nil
	case schema.KindBytes:
		b, ok := v.([]byte)
		if !ok {
			return bad()
		}
		return latin1(b), true, nil
	case schema.KindDecimal:
		d, ok := v.(schema.Decimal)
		if !ok {
			return bad()
		}
		d, err := d.Rescale(int32(c.Scale))
		if err != nil {
			return nil, false, fmt.Errorf("column %q default: %w", c.Name, err)
		}
		return latin1(DecimalBytes(nil, d.Unscaled)), true, nil
	}
	return bad()
}

func latin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

func (s *Schemas) fieldsFor(t *schema.Table, idx []int, names []string) ([]any, error) {
	fields := make([]any, 0, len(idx))
	for _, i := range idx {
		c := &t.Columns[i]
		typ, err := ColumnType(c)
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", t.QualifiedName(), err)
		}
		f := obj{{"name", names[i]}}
		if c.Optional {
			f = append(f, kv{"type", []any{"null", typ}}, kv{"default", nil})
		} else {
			f = append(f, kv{"type", typ})
			if c.HasDefault && c.Default != nil {
				d, ok, err := DefaultJSON(c, c.Default)
				if err != nil {
					return nil, fmt.Errorf("table %s: %w", t.QualifiedName(), err)
				}
				if ok {
					f = append(f, kv{"default", d})
				}
			}
		}
		if len(c.Aliases) > 0 {
			al := make([]string, len(c.Aliases))
			differ := false
			for k, a := range c.Aliases {
				al[k] = SanitizeName(a)
				differ = differ || al[k] != a
			}
			f = append(f, kv{"aliases", al})
			if differ {
				f = append(f, kv{PropAliases, c.Aliases})
			}
		}
		if names[i] != c.Name {
			f = append(f, kv{PropName, c.Name})
		}
		if c.SourceType != "" {
			f = append(f, kv{PropSourceType, c.SourceType})
		}
		if c.Optional && c.HasDefault {
			d, ok, err := DefaultJSON(c, c.Default)
			if err != nil {
				return nil, fmt.Errorf("table %s: %w", t.QualifiedName(), err)
			}
			if ok {
				f = append(f, kv{PropDefault, d})
			}
		}
		fields = append(fields, f)
	}
	return fields, nil
}

// FromTable returns the Avro schemas of t under the namespace prefix (""
// means DefaultPrefix).
func FromTable(t *schema.Table, prefix string) (*Schemas, error) {
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("building Avro schemas: %w", err)
	}
	s := &Schemas{Namespace: Namespace(prefix, t.Database, t.Name), FieldNames: FieldNames(t)}
	all := make([]int, len(t.Columns))
	for i := range all {
		all[i] = i
	}
	vfields, err := s.fieldsFor(t, all, s.FieldNames)
	if err != nil {
		return nil, err
	}
	keyNames := make([]string, len(t.PrimaryKey))
	for i, k := range t.PrimaryKey {
		keyNames[i] = t.Columns[k].Name
	}
	value := obj{{"type", "record"}, {"name", s.ValueName()}, {"fields", vfields},
		{PropDatabase, t.Database}, {PropTable, t.Name}, {PropVersion, t.Version}, {PropKey, keyNames}}
	vb, err := json.Marshal(value)
	if err != nil {
		return nil, fmt.Errorf("encoding value schema of %s: %w", t.QualifiedName(), err)
	}
	s.Value = string(vb)
	if len(t.PrimaryKey) > 0 {
		kfields, err := s.fieldsFor(t, t.PrimaryKey, s.FieldNames)
		if err != nil {
			return nil, err
		}
		key := obj{{"type", "record"}, {"name", s.KeyName()}, {"fields", kfields}, {PropDatabase, t.Database}, {PropTable, t.Name}}
		kb, err := json.Marshal(key)
		if err != nil {
			return nil, fmt.Errorf("encoding key schema of %s: %w", t.QualifiedName(), err)
		}
		s.Key = string(kb)
	}
	env := obj{{"type", "record"}, {"name", s.EnvelopeName()}, {"fields", []any{
		obj{{"name", "before"}, {"type", []any{"null", value}}, {"default", nil}},
		obj{{"name", "after"}, {"type", []any{"null", s.ValueName()}}, {"default", nil}},
		obj{{"name", "source"}, {"type", sourceSchema}},
		obj{{"name", "op"}, {"type", "string"}},
		obj{{"name", "ts_ms"}, {"type", "long"}},
		obj{{"name", "transaction"}, {"type", []any{"null", txSchema}}, {"default", nil}},
	}}}
	eb, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("encoding envelope schema of %s: %w", t.QualifiedName(), err)
	}
	s.Envelope = string(eb)
	return s, nil
}

func field(name string, typ any) obj { return obj{{"name", name}, {"type", typ}} }

var optString = []any{"null", "string"}

// sourceSchema is Debezium's MySQL source block, trimmed to what binlake knows.
var sourceSchema = obj{{"type", "record"}, {"name", SourceName}, {"fields", []any{
	field("name", "string"),
	field("server_id", "long"),
	obj{{"name", "gtid"}, {"type", optString}, {"default", nil}},
	field("file", "string"),
	field("pos", "long"),
	field("row", "int"),
	field("db", "string"),
	field("table", "string"),
	field("snapshot", "boolean"),
	field("ts_ms", "long"),
	obj{{"name", "sequence"}, {"type", "long"}, {"doc", "per-connector event counter (unsigned 64-bit, stored as its two's-complement long)"}},
}}}

// txSchema is Debezium's transaction block.
var txSchema = obj{{"type", "record"}, {"name", TransactionName}, {"fields", []any{
	field("id", "string"), field("total_order", "long"), field("data_collection_order", "long"),
}}}
