package tables

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/binlake/binlake/schema"
)

// Tracker holds the current version of every tracked table. It is not safe
// for concurrent use: the binlog reader owns it.
type Tracker struct {
	tables   map[string]*schema.Table
	versions map[string]int // highest version ever issued, kept after drops
}

// NewTracker returns an empty tracker.
func NewTracker() *Tracker {
	return &Tracker{tables: map[string]*schema.Table{}, versions: map[string]int{}}
}

// Key returns the tracker key of a table.
func Key(db, name string) string { return db + "." + name }

// Get returns the current version of a table, or nil when it is not tracked.
func (t *Tracker) Get(db, name string) *schema.Table { return t.tables[Key(db, name)] }

// Put makes next the current version of its table. When the columns are the
// same as the current version's, the current version stays and is returned;
// otherwise next gets the next version number and is returned.
func (t *Tracker) Put(next *schema.Table) *schema.Table {
	k := Key(next.Database, next.Name)
	if cur := t.tables[k]; cur != nil && cur.SameColumns(next) {
		return cur
	}
	v := t.versions[k] + 1
	cp := *next
	cp.Version = v
	t.versions[k] = v
	t.tables[k] = &cp
	return &cp
}

// Drop stops tracking a table.
func (t *Tracker) Drop(db, name string) { delete(t.tables, Key(db, name)) }

// Tables returns the current versions, sorted by qualified name.
func (t *Tracker) Tables() []*schema.Table {
	out := make([]*schema.Table, 0, len(t.tables))
	for _, tb := range t.tables {
		out = append(out, tb)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].QualifiedName() < out[j].QualifiedName() })
	return out
}

// state is the persisted form of a Tracker.
type state struct {
	Tables   []*schema.Table `json:"tables"`
	Versions map[string]int  `json:"versions"`
}

// MarshalJSON encodes the tracker for the checkpoint.
func (t *Tracker) MarshalJSON() ([]byte, error) {
	return json.Marshal(state{Tables: t.Tables(), Versions: t.versions})
}

// UnmarshalJSON restores a tracker from the checkpoint (schema.Column
// restores its default as the Go value of its kind).
func (t *Tracker) UnmarshalJSON(b []byte) error {
	var st state
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&st); err != nil {
		return fmt.Errorf("decoding schema history: %w", err)
	}
	t.tables = map[string]*schema.Table{}
	t.versions = map[string]int{}
	for k, v := range st.Versions {
		t.versions[k] = v
	}
	for _, tb := range st.Tables {
		if err := tb.Validate(); err != nil {
			return fmt.Errorf("decoding schema history: %w", err)
		}
		k := Key(tb.Database, tb.Name)
		t.tables[k] = tb
		if t.versions[k] < tb.Version {
			t.versions[k] = tb.Version
		}
	}
	return nil
}
