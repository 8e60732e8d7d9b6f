// Package json is a converter.Converter that writes a Debezium-style JSON
// envelope {schema, before, after, source, op, ts_ms, transaction}. Each message
// carries a "schema" block describing the writer's table version, so Decode
// rebuilds the *schema.Table exactly (kinds, precision and scale,
// optionality, defaults, source types, aliases, primary key, version) without
// a registry.
//
// Values are exact: integers are JSON numbers (decoded as json.Number, no
// float rounding), decimals are strings with every digit, bytes are base64,
// floats use the shortest text that round-trips and the strings "NaN",
// "Infinity" and "-Infinity" for non-finite values. Strings must be valid
// UTF-8 (JSON cannot carry other bytes exactly); Encode fails otherwise.
package json

import (
	"bytes"
	"context"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/converter"
	"github.com/binlake/binlake/schema"
)

// Converter encodes and decodes the JSON envelope. It holds no state and is
// safe for concurrent use.
type Converter struct{}

var _ converter.Converter = (*Converter)(nil)

// New returns a JSON converter.
func New() *Converter { return &Converter{} }

type sourceJSON struct {
	Name     string `json:"name"`
	ServerID uint32 `json:"server_id"`
	GTID     string `json:"gtid,omitempty"`
	File     string `json:"file"`
	Pos      uint64 `json:"pos"`
	Row      int    `json:"row"`
	DB       string `json:"db"`
	Table    string `json:"table"`
	Snapshot bool   `json:"snapshot"`
	TsMs     int64  `json:"ts_ms"`
	Sequence uint64 `json:"sequence"`
}

type txJSON struct {
	ID                  string `json:"id"`
	TotalOrder          uint64 `json:"total_order"`
	DataCollectionOrder uint64 `json:"data_collection_order"`
}

type envelopeJSON struct {
	Schema      stdjson.RawMessage `json:"schema"`
	Before      stdjson.RawMessage `json:"before"`
	After       stdjson.RawMessage `json:"after"`
	Source      sourceJSON         `json:"source"`
	Op          string             `json:"op"`
	TsMs        int64              `json:"ts_ms"`
	Transaction *txJSON            `json:"transaction"`
}

// Encode returns the JSON envelope of ev.
func (c *Converter) Encode(_ context.Context, _ string, ev *connect.ChangeEvent) ([]byte, error) {
	if ev == nil || ev.Schema == nil {
		return nil, errors.New("encoding change event: event or its schema is nil")
	}
	t := ev.Schema
	if !ev.Op.Valid() {
		return nil, fmt.Errorf("encoding change event of %s: invalid op %q", t.QualifiedName(), byte(ev.Op))
	}
	buf := make([]byte, 0, 512)
	buf = append(buf, `{"schema":`...)
	var err error
	if buf, err = appendTable(buf, t); err != nil {
		return nil, err
	}
	buf = append(buf, `,"before":`...)
	if buf, err = appendRow(buf, t, ev.Before); err != nil {
		return nil, fmt.Errorf("encoding before image of %s: %w", t.QualifiedName(), err)
	}
	buf = append(buf, `,"after":`...)
	if buf, err = appendRow(buf, t, ev.After); err != nil {
		return nil, fmt.Errorf("encoding after image of %s: %w", t.QualifiedName(), err)
	}
	s := ev.Source
	src, err := stdjson.Marshal(sourceJSON{
		Name: s.Connector, ServerID: s.ServerID, GTID: s.GTID, File: s.File, Pos: s.Pos, Row: s.Row,
		DB: s.Database, Table: s.Table, Snapshot: s.Snapshot, TsMs: s.CommitTimeMs, Sequence: s.Sequence,
	})
	if err != nil {
		return nil, fmt.Errorf("encoding source of %s: %w", t.QualifiedName(), err)
	}
	buf = append(buf, `,"source":`...)
	buf = append(buf, src...)
	buf = append(buf, `,"op":"`...)
	buf = append(buf, byte(ev.Op))
	buf = append(buf, `","ts_ms":`...)
	buf = strconv.AppendInt(buf, ev.TsMs, 10)
	buf = append(buf, `,"transaction":`...)
	if ev.Tx == nil {
		buf = append(buf, "null"...)
	} else {
		tx, err := stdjson.Marshal(txJSON{ID: ev.Tx.ID, TotalOrder: ev.Tx.TotalOrder, DataCollectionOrder: ev.Tx.TableOrder})
		if err != nil {
			return nil, fmt.Errorf("encoding transaction of %s: %w", t.QualifiedName(), err)
		}
		buf = append(buf, tx...)
	}
	return append(buf, '}'), nil
}

func appendRow(buf []byte, t *schema.Table, row []any) ([]byte, error) {
	if row == nil {
		return append(buf, "null"...), nil
	}
	if len(row) != len(t.Columns) {
		return nil, fmt.Errorf("row has %d values for %d columns", len(row), len(t.Columns))
	}
	buf = append(buf, '{')
	for i := range t.Columns {
		if i > 0 {
			buf = append(buf, ',')
		}
		c := &t.Columns[i]
		name, err := stdjson.Marshal(c.Name)
		if err != nil {
			return nil, fmt.Errorf("encoding column name %q: %w", c.Name, err)
		}
		buf = append(buf, name...)
		buf = append(buf, ':')
		if row[i] == nil && !c.Optional {
			return nil, fmt.Errorf("column %q is NOT NULL but the row holds NULL", c.Name)
		}
		if buf, err = appendValue(buf, c, row[i]); err != nil {
			return nil, err
		}
	}
	return append(buf, '}'), nil
}

// Decode parses a JSON envelope back into a change event whose Schema is the
// table described by the message's schema block.
func (c *Converter) Decode(_ context.Context, _ string, body []byte) (*connect.ChangeEvent, error) {
	var env envelopeJSON
	dec := stdjson.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&env); err != nil {
		return nil, fmt.Errorf("decoding JSON envelope: %w", err)
	}
	if len(env.Schema) == 0 {
		return nil, errors.New("decoding JSON envelope: no schema block")
	}
	t, err := parseTable(env.Schema)
	if err != nil {
		return nil, fmt.Errorf("decoding JSON envelope: %w", err)
	}
	if len(env.Op) != 1 || !connect.Op(env.Op[0]).Valid() {
		return nil, fmt.Errorf("decoding JSON envelope of %s: invalid op %q", t.QualifiedName(), env.Op)
	}
	ev := &connect.ChangeEvent{Op: connect.Op(env.Op[0]), Schema: t, TsMs: env.TsMs}
	if ev.Before, err = parseRow(t, env.Before); err != nil {
		return nil, fmt.Errorf("decoding before image of %s: %w", t.QualifiedName(), err)
	}
	if ev.After, err = parseRow(t, env.After); err != nil {
		return nil, fmt.Errorf("decoding after image of %s: %w", t.QualifiedName(), err)
	}
	s := env.Source
	ev.Source = connect.SourceInfo{
		Connector: s.Name, ServerID: s.ServerID, GTID: s.GTID, File: s.File, Pos: s.Pos, Row: s.Row,
		Database: s.DB, Table: s.Table, Snapshot: s.Snapshot, CommitTimeMs: s.TsMs, Sequence: s.Sequence,
	}
	if env.Transaction != nil {
		ev.Tx = &connect.TxInfo{ID: env.Transaction.ID, TotalOrder: env.Transaction.TotalOrder, TableOrder: env.Transaction.DataCollectionOrder}
	}
	return ev, nil
}

func parseRow(t *schema.Table, raw stdjson.RawMessage) ([]any, error) {
	if len(raw) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil, nil
	}
	var fields map[string]stdjson.RawMessage
	if err := stdjson.Unmarshal(raw, &fields); err != nil {
		return nil, fmt.Errorf("parsing row: %w", err)
	}
	if len(fields) != len(t.Columns) {
		return nil, fmt.Errorf("row has %d fields for %d columns", len(fields), len(t.Columns))
	}
	row := make([]any, len(t.Columns))
	for i := range t.Columns {
		c := &t.Columns[i]
		f, ok := fields[c.Name]
		if !ok {
			return nil, fmt.Errorf("row has no field for column %q", c.Name)
		}
		v, err := parseValue(c, f)
		if err != nil {
			return nil, err
		}
		if v == nil && !c.Optional {
			return nil, fmt.Errorf("column %q is NOT NULL but the row holds null", c.Name)
		}
		row[i] = v
	}
	return row, nil
}
