// Package compat decides whether Avro schemas are compatible under a
// registry compatibility level. It follows the Avro specification's schema
// resolution rules (a reader schema reads data written with a writer schema:
// matching names or aliases, numeric promotions int->long->float->double,
// string<->bytes, reader fields missing from the writer need defaults, writer
// fields missing from the reader are skipped, unions resolved branch by
// branch, enum symbols) and is stricter than common registries on logical
// types, because a lake table cannot silently reinterpret stored values:
//
//   - a decimal's scale may not change, and its precision may only grow;
//   - a timestamp's or time's unit (millis vs micros) may not change, nor its
//     "adjust-to-utc" (timestamp vs timestamptz);
//   - a logical type may not appear or disappear (date <-> int, decimal <-> bytes).
//
// Each incompatibility is reported as one readable message naming the path
// of the field and the change.
package compat

import (
	"fmt"

	"github.com/binlake/binlake/schema/avroschema"
	"github.com/binlake/binlake/schema/registry"
)

// CanRead returns the reasons why data written with writer cannot be read
// with reader; none means compatible.
func CanRead(reader, writer *avroschema.Schema) []string {
	c := &checker{seen: map[[2]*avroschema.Schema]bool{}}
	c.read(reader, writer, "")
	return c.msgs
}

// Check returns the reasons why the candidate schema breaks the level given
// the subject's existing versions (oldest first); none means compatible.
// Non-transitive levels compare against the latest version only.
func Check(level registry.Level, candidate *avroschema.Schema, existing []*avroschema.Schema) []string {
	if level == registry.None || len(existing) == 0 {
		return nil
	}
	against := existing
	if !level.Transitive() {
		against = existing[len(existing)-1:]
	}
	var msgs []string
	for i := len(against) - 1; i >= 0; i-- {
		old := against[i]
		if level.ChecksBackward() {
			for _, m := range CanRead(candidate, old) {
				msgs = append(msgs, "new schema cannot read data written with the previous one: "+m)
			}
		}
		if level.ChecksForward() {
			for _, m := range CanRead(old, candidate) {
				msgs = append(msgs, "previous schema cannot read data written with the new one: "+m)
			}
		}
	}
	return dedupe(msgs)
}

func dedupe(in []string) []string {
	seen := make(map[string]bool, len(in))
	out := in[:0]
	for _, m := range in {
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	return out
}

type checker struct {
	seen map[[2]*avroschema.Schema]bool
	msgs []string
}

func (c *checker) fail(path, format string, args ...any) {
	if path == "" {
		path = "/"
	}
	c.msgs = append(c.msgs, fmt.Sprintf("at %s: ", path)+fmt.Sprintf(format, args...))
}

func describe(s *avroschema.Schema) string {
	switch {
	case s.IsNamed():
		return s.Type + " " + s.Name
	case s.LogicalType == "decimal":
		return fmt.Sprintf("decimal(%d,%d)", s.Precision, s.Scale)
	case s.LogicalType != "":
		return s.Type + " (" + s.LogicalType + ")"
	}
	return s.Type
}

// read records why reader cannot read writer at path.
func (c *checker) read(reader, writer *avroschema.Schema, path string) {
	if writer.Type == "union" {
		for _, b := range writer.Branches {
			if reader.Type == "union" {
				if rb := matchBranch(reader, b); rb != nil {
					c.read(rb, b, path)
				} else {
					c.fail(path, "writer union branch %s has no matching reader branch", describe(b))
				}
				continue
			}
			c.read(reader, b, path)
		}
		return
	}
	if reader.Type == "union" {
		if rb := matchBranch(reader, writer); rb != nil {
			c.read(rb, writer, path)
			return
		}
		c.fail(path, "reader union has no branch for writer type %s", describe(writer))
		return
	}
	if writer.Type == "null" && reader.Type != "null" {
		c.fail(path, "null is no longer allowed (the field changed from nullable to NOT NULL, %s)", describe(reader))
		return
	}
	if !typesMatch(reader, writer) {
		c.fail(path, "type changed from %s to %s", describe(writer), describe(reader))
		return
	}
	c.logical(reader, writer, path)
	switch reader.Type {
	case "record":
		key := [2]*avroschema.Schema{reader, writer}
		if c.seen[key] {
			return
		}
		c.seen[key] = true
		c.record(reader, writer, path)
	case "enum":
		if !reader.HasEnumDefault {
			have := make(map[string]bool, len(reader.Symbols))
			for _, s := range reader.Symbols {
				have[s] = true
			}
			for _, s := range writer.Symbols {
				if !have[s] {
					c.fail(path, "enum %s lost symbol %s", reader.Name, s)
				}
			}
		}
	case "fixed":
		if reader.Size != writer.Size {
			c.fail(path, "fixed %s size changed from %d to %d", reader.Name, writer.Size, reader.Size)
		}
	case "array":
		c.read(reader.Items, writer.Items, path+"/[]")
	case "map":
		c.read(reader.Values, writer.Values, path+"/{}")
	}
}

// typesMatch is the Avro spec's "schemas match" test, without logical types.
func typesMatch(r, w *avroschema.Schema) bool {
	if r.IsNamed() || w.IsNamed() {
		return r.Type == w.Type && namesMatch(r, w)
	}
	if r.Type == w.Type {
		return true
	}
	switch w.Type {
	case "int":
		return r.Type == "long" || r.Type == "float" || r.Type == "double"
	case "long":
		return r.Type == "float" || r.Type == "double"
	case "float":
		return r.Type == "double"
	case "string":
		return r.Type == "bytes"
	case "bytes":
		return r.Type == "string"
	}
	return false
}

func namesMatch(r, w *avroschema.Schema) bool {
	if r.Name == w.Name || unqualified(r.Name) == unqualified(w.Name) {
		return true
	}
	for _, a := range r.Aliases {
		if a == w.Name {
			return true
		}
	}
	return false
}

func unqualified(n string) string {
	for i := len(n) - 1; i >= 0; i-- {
		if n[i] == '.' {
			return n[i+1:]
		}
	}
	return n
}

// matchBranch picks the reader union branch that reads writer: first an
// exact type (and name) match, then a promotion.
func matchBranch(reader, writer *avroschema.Schema) *avroschema.Schema {
	for _, b := range reader.Branches {
		if b.Type == writer.Type && (!b.IsNamed() || namesMatch(b, writer)) {
			return b
		}
	}
	for _, b := range reader.Branches {
		if typesMatch(b, writer) {
			return b
		}
	}
	return nil
}

// logical applies binlake's stricter rules to logical types.
func (c *checker) logical(r, w *avroschema.Schema, path string) {
	if r.LogicalType != w.LogicalType {
		if r.LogicalType == "" || w.LogicalType == "" || !sameFamily(r.LogicalType, w.LogicalType) {
			c.fail(path, "logical type changed from %s to %s", describe(w), describe(r))
			return
		}
		c.fail(path, "time unit changed from %s to %s", w.LogicalType, r.LogicalType)
		return
	}
	switch r.LogicalType {
	case "decimal":
		if r.Scale != w.Scale {
			c.fail(path, "decimal scale changed from %d to %d (decimal(%d,%d) to decimal(%d,%d))", w.Scale, r.Scale, w.Precision, w.Scale, r.Precision, r.Scale)
		}
		if r.Precision < w.Precision {
			c.fail(path, "decimal precision narrowed from %d to %d", w.Precision, r.Precision)
		}
		if r.Type == "fixed" && r.Size != w.Size {
			c.fail(path, "decimal fixed size changed from %d to %d", w.Size, r.Size)
		}
	case "timestamp-millis", "timestamp-micros", "timestamp-nanos":
		ru, _ := r.Props[avroschema.PropUTC].(bool)
		wu, _ := w.Props[avroschema.PropUTC].(bool)
		_, rset := r.Props[avroschema.PropUTC]
		_, wset := w.Props[avroschema.PropUTC]
		if rset && wset && ru != wu {
			c.fail(path, "timestamp changed from adjust-to-utc=%v to adjust-to-utc=%v", wu, ru)
		}
	}
	if r.Prop(avroschema.PropKind) != w.Prop(avroschema.PropKind) {
		c.fail(path, "binlake.kind changed from %q to %q", w.Prop(avroschema.PropKind), r.Prop(avroschema.PropKind))
	}
}

func sameFamily(a, b string) bool {
	family := func(s string) string {
		switch s {
		case "timestamp-millis", "timestamp-micros", "timestamp-nanos":
			return "timestamp"
		case "local-timestamp-millis", "local-timestamp-micros", "local-timestamp-nanos":
			return "local-timestamp"
		case "time-millis", "time-micros":
			return "time"
		}
		return s
	}
	return family(a) == family(b)
}

func (c *checker) record(r, w *avroschema.Schema, path string) {
	for _, rf := range r.Fields {
		wf := w.Field(rf.Name)
		if wf == nil {
			for _, a := range rf.Aliases {
				if wf = w.Field(a); wf != nil {
					break
				}
			}
		}
		fpath := path + "/" + rf.Name
		if wf == nil {
			if !rf.HasDefault {
				c.fail(fpath, "field %s was added without a default (data written before has no value for it)", rf.Name)
			}
			continue
		}
		c.read(rf.Type, wf.Type, fpath)
	}
}
