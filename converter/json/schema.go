package json

import (
	"bytes"
	stdjson "encoding/json"
	"fmt"

	"github.com/binlake/binlake/schema"
)

// tableJSON is the "schema" block of a message: everything needed to rebuild
// the writer's *schema.Table exactly.
type tableJSON struct {
	Database   string       `json:"database"`
	Name       string       `json:"name"`
	Version    int          `json:"version"`
	Columns    []columnJSON `json:"columns"`
	PrimaryKey []string     `json:"primary_key"`
}

type columnJSON struct {
	Name       string             `json:"name"`
	Kind       string             `json:"kind"`
	Precision  int                `json:"precision,omitempty"`
	Scale      int                `json:"scale,omitempty"`
	Optional   bool               `json:"optional"`
	Default    stdjson.RawMessage `json:"default,omitempty"`
	HasDefault bool               `json:"has_default,omitempty"`
	SourceType string             `json:"source_type,omitempty"`
	Aliases    []string           `json:"aliases,omitempty"`
}

// appendTable writes the schema block of t.
func appendTable(buf []byte, t *schema.Table) ([]byte, error) {
	tj := tableJSON{Database: t.Database, Name: t.Name, Version: t.Version, PrimaryKey: make([]string, len(t.PrimaryKey))}
	for i, k := range t.PrimaryKey {
		tj.PrimaryKey[i] = t.Columns[k].Name
	}
	tj.Columns = make([]columnJSON, len(t.Columns))
	for i := range t.Columns {
		c := &t.Columns[i]
		cj := columnJSON{
			Name: c.Name, Kind: c.Kind.String(), Precision: c.Precision, Scale: c.Scale, Optional: c.Optional,
			HasDefault: c.HasDefault, SourceType: c.SourceType, Aliases: c.Aliases,
		}
		if c.Default != nil {
			d, err := appendValue(nil, c, c.Default)
			if err != nil {
				return nil, fmt.Errorf("encoding default of column %q: %w", c.Name, err)
			}
			cj.Default = d
		}
		tj.Columns[i] = cj
	}
	b, err := stdjson.Marshal(tj)
	if err != nil {
		return nil, fmt.Errorf("encoding schema of %s: %w", t.QualifiedName(), err)
	}
	return append(buf, b...), nil
}

// parseTable rebuilds a table from its schema block.
func parseTable(raw stdjson.RawMessage) (*schema.Table, error) {
	var tj tableJSON
	dec := stdjson.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&tj); err != nil {
		return nil, fmt.Errorf("parsing schema block: %w", err)
	}
	t := &schema.Table{Database: tj.Database, Name: tj.Name, Version: tj.Version, Columns: make([]schema.Column, len(tj.Columns))}
	for i, cj := range tj.Columns {
		k, err := schema.ParseKind(cj.Kind)
		if err != nil {
			return nil, fmt.Errorf("parsing column %q: %w", cj.Name, err)
		}
		c := schema.Column{
			Name: cj.Name, Kind: k, Precision: cj.Precision, Scale: cj.Scale, Optional: cj.Optional,
			HasDefault: cj.HasDefault, SourceType: cj.SourceType, Aliases: cj.Aliases,
		}
		if len(cj.Default) > 0 && string(cj.Default) != "null" {
			d, err := parseValue(&c, cj.Default)
			if err != nil {
				return nil, fmt.Errorf("parsing default of column %q: %w", cj.Name, err)
			}
			c.Default = d
		}
		t.Columns[i] = c
	}
	for _, n := range tj.PrimaryKey {
		idx := -1
		for i := range t.Columns {
			if t.Columns[i].Name == n {
				idx = i
				break
			}
		}
		if idx < 0 {
			return nil, fmt.Errorf("parsing schema block: primary key column %q is not a column", n)
		}
		t.PrimaryKey = append(t.PrimaryKey, idx)
	}
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("parsing schema block: %w", err)
	}
	return t, nil
}
