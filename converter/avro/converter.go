// Package avro is binlake's default converter: change events as Avro records
// of the Debezium-style envelope {before, after, source, op, ts_ms,
// transaction}, in the Confluent wire format (byte 0, the 4-byte big-endian
// schema id, the Avro binary body), with schemas registered in a
// Confluent-compatible schema registry.
//
// Schemas come from schema/avroschema; goavro codecs are built once per table
// version (encoding) and per schema id (decoding) and cached. Schema ids are
// cached per (subject, table version), so the registry is called only when a
// table version is first seen. Schema changes are checked before they are
// registered according to the schema.evolution.policy (see Policy).
package avro

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/linkedin/goavro/v2"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/converter"
	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/schema/avroschema"
	"github.com/binlake/binlake/schema/registry"
	"github.com/binlake/binlake/schema/registry/compat"
)

// Registry is what the converter needs from a schema registry;
// *registry.Client implements it.
type Registry interface {
	Register(ctx context.Context, subject, schema string) (int, error)
	Lookup(ctx context.Context, subject, schema string) (*registry.SubjectSchema, error)
	SchemaByID(ctx context.Context, id int) (string, error)
	Versions(ctx context.Context, subject string) ([]int, error)
	SchemaVersion(ctx context.Context, subject string, version int) (*registry.SubjectSchema, error)
	Compatibility(ctx context.Context, subject string) (registry.Level, error)
	SubjectCompatibility(ctx context.Context, subject string) (registry.Level, bool, error)
	SetCompatibility(ctx context.Context, subject string, level registry.Level) error
	DeleteCompatibility(ctx context.Context, subject string) error
}

var _ Registry = (*registry.Client)(nil)

// ErrIncompatibleSchema is wrapped by the (terminal) error of a schema change
// the subject's compatibility level rejects.
var ErrIncompatibleSchema = errors.New("incompatible schema change")

// magicByte starts every Confluent wire-format message.
const magicByte = 0

// Converter encodes and decodes change events in Avro. Safe for concurrent
// use.
type Converter struct {
	reg  Registry
	opts Options

	mu      sync.RWMutex
	tables  map[tableKey]*tableCodec
	ids     map[subjectKey]int
	readers map[int]*readCodec

	regMu sync.Mutex // serializes registrations (slow path only)
}

var _ converter.Converter = (*Converter)(nil)

type tableKey struct {
	db, table string
	version   int
}

type subjectKey struct {
	subject string
	table   tableKey
}

// tableCodec is everything needed to encode events of one table version.
type tableCodec struct {
	table     *schema.Table
	schemas   *avroschema.Schemas
	envelope  *goavro.Codec
	key       *goavro.Codec // nil without a primary key
	cols      []column
	valueName string
	// sizeHint is the length of the last message encoded, to size buffers.
	sizeHint atomic.Int64
}

// readCodec decodes messages written with one schema id.
type readCodec struct {
	// direct is set when the writer schema is exactly binlake's envelope for
	// its table, so the direct binary path can read it.
	direct    bool
	table     *schema.Table
	codec     *goavro.Codec
	cols      []column
	valueName string
}

// New returns an Avro converter using reg. It does no I/O.
func New(reg Registry, opts Options) (*Converter, error) {
	if reg == nil {
		return nil, errors.New("avro converter needs a schema registry")
	}
	var err error
	if opts.Policy, err = ParsePolicy(string(opts.Policy)); err != nil {
		return nil, err
	}
	if opts.Subjects, err = ParseSubjectStrategy(string(opts.Subjects)); err != nil {
		return nil, err
	}
	if opts.NamePrefix == "" {
		opts.NamePrefix = avroschema.DefaultPrefix
	}
	return &Converter{reg: reg, opts: opts, tables: map[tableKey]*tableCodec{}, ids: map[subjectKey]int{}, readers: map[int]*readCodec{}}, nil
}

func keyOf(t *schema.Table) tableKey { return tableKey{t.Database, t.Name, t.Version} }

// codecFor returns the cached encoding plan of a table version.
func (c *Converter) codecFor(t *schema.Table) (*tableCodec, error) {
	k := keyOf(t)
	c.mu.RLock()
	tc := c.tables[k]
	c.mu.RUnlock()
	if tc != nil {
		return tc, nil
	}
	s, err := avroschema.FromTable(t, c.opts.NamePrefix)
	if err != nil {
		return nil, err
	}
	env, err := physicalCodec(s.Envelope)
	if err != nil {
		return nil, fmt.Errorf("building envelope codec of %s: %w", t.QualifiedName(), err)
	}
	tc = &tableCodec{table: t, schemas: s, envelope: env, cols: planColumns(t, s.FieldNames), valueName: s.ValueName()}
	if s.Key != "" {
		if tc.key, err = physicalCodec(s.Key); err != nil {
			return nil, fmt.Errorf("building key codec of %s: %w", t.QualifiedName(), err)
		}
	}
	c.mu.Lock()
	if prev := c.tables[k]; prev != nil {
		tc = prev
	} else {
		c.tables[k] = tc
	}
	c.mu.Unlock()
	return tc, nil
}

// Subject returns the subject a value (or key) schema of t is registered
// under for topic.
func (c *Converter) Subject(topic string, t *schema.Table, key bool) string {
	if c.opts.Subjects == TopicRecordNameStrategy {
		ns := avroschema.Namespace(c.opts.NamePrefix, t.Database, t.Name)
		if key {
			return topic + "-" + ns + ".Key"
		}
		return topic + "-" + ns + ".Envelope"
	}
	if key {
		return topic + "-key"
	}
	return topic + "-value"
}

// Encode implements converter.Converter.
func (c *Converter) Encode(ctx context.Context, topic string, ev *connect.ChangeEvent) ([]byte, error) {
	b, _, err := c.EncodeWithID(ctx, topic, ev)
	return b, err
}

// EncodeWithID encodes ev and also returns the schema id written into the
// message (for the binlake.schema.id message property).
func (c *Converter) EncodeWithID(ctx context.Context, topic string, ev *connect.ChangeEvent) ([]byte, int, error) {
	if ev == nil || ev.Schema == nil {
		return nil, 0, errors.New("encoding change event: event or its schema is nil")
	}
	t := ev.Schema
	if !ev.Op.Valid() {
		return nil, 0, fmt.Errorf("encoding change event of %s: invalid op %q", t.QualifiedName(), byte(ev.Op))
	}
	tc, err := c.codecFor(t)
	if err != nil {
		return nil, 0, fmt.Errorf("encoding change event of %s: %w", t.QualifiedName(), err)
	}
	buf := make([]byte, 5, max(64, tc.sizeHint.Load()+16))
	if c.opts.Goavro {
		datum, err := tc.envelopeDatum(ev)
		if err == nil {
			buf, err = tc.envelope.BinaryFromNative(buf, datum)
		}
		if err != nil {
			return nil, 0, fmt.Errorf("encoding change event of %s: %w", t.QualifiedName(), err)
		}
	} else if buf, err = tc.appendEnvelope(buf, ev); err != nil {
		return nil, 0, fmt.Errorf("encoding change event of %s: %w", t.QualifiedName(), err)
	}
	id, err := c.schemaID(ctx, c.Subject(topic, t, false), tc, tc.schemas.Envelope)
	if err != nil {
		if !connect.IsTerminal(err) {
			// The registry did not answer as it should: not the event's fault.
			err = connect.Transient(err)
		}
		return nil, 0, err
	}
	buf[0] = magicByte
	binary.BigEndian.PutUint32(buf[1:5], uint32(id))
	tc.sizeHint.Store(int64(len(buf)))
	return buf, id, nil
}

// EncodeKey encodes the primary key of ev's row as an Avro Key record in the
// wire format, registered under the key subject. Tables without a primary
// key have no key record (nil, 0, nil).
func (c *Converter) EncodeKey(ctx context.Context, topic string, ev *connect.ChangeEvent) ([]byte, int, error) {
	if ev == nil || ev.Schema == nil {
		return nil, 0, errors.New("encoding key: event or its schema is nil")
	}
	t := ev.Schema
	tc, err := c.codecFor(t)
	if err != nil || tc.key == nil {
		return nil, 0, err
	}
	row := ev.Row()
	if len(row) != len(t.Columns) {
		return nil, 0, fmt.Errorf("encoding key of %s: row has %d values for %d columns", t.QualifiedName(), len(row), len(t.Columns))
	}
	rec := make(map[string]any, len(t.PrimaryKey))
	for _, i := range t.PrimaryKey {
		v, err := tc.cols[i].datum(row[i])
		if err != nil {
			return nil, 0, fmt.Errorf("encoding key of %s: %w", t.QualifiedName(), err)
		}
		rec[tc.cols[i].name] = v
	}
	id, err := c.schemaID(ctx, c.Subject(topic, t, true), tc, tc.schemas.Key)
	if err != nil {
		return nil, 0, err
	}
	buf := make([]byte, 5, 64)
	binary.BigEndian.PutUint32(buf[1:], uint32(id))
	if buf, err = tc.key.BinaryFromNative(buf, rec); err != nil {
		return nil, 0, fmt.Errorf("encoding key of %s: %w", t.QualifiedName(), err)
	}
	return buf, id, nil
}

// datum returns the native value of one column value, wrapped for its union
// when the column is nullable.
func (col *column) datum(v any) (any, error) {
	if v == nil {
		if !col.optional {
			return nil, fmt.Errorf("column %q is NOT NULL but the row holds NULL", col.col.Name)
		}
		return nil, nil
	}
	n, err := col.toNative(v)
	if err != nil {
		return nil, err
	}
	if col.optional {
		return map[string]any{col.branch: n}, nil
	}
	return n, nil
}

func (tc *tableCodec) rowDatum(row []any) (any, error) {
	if row == nil {
		return nil, nil
	}
	if len(row) != len(tc.cols) {
		return nil, fmt.Errorf("row has %d values for %d columns", len(row), len(tc.cols))
	}
	rec := make(map[string]any, len(tc.cols))
	for i := range tc.cols {
		v, err := tc.cols[i].datum(row[i])
		if err != nil {
			return nil, err
		}
		rec[tc.cols[i].name] = v
	}
	return map[string]any{tc.valueName: rec}, nil
}

func (tc *tableCodec) envelopeDatum(ev *connect.ChangeEvent) (map[string]any, error) {
	before, err := tc.rowDatum(ev.Before)
	if err != nil {
		return nil, fmt.Errorf("before image: %w", err)
	}
	after, err := tc.rowDatum(ev.After)
	if err != nil {
		return nil, fmt.Errorf("after image: %w", err)
	}
	s := &ev.Source
	var gtid any
	if s.GTID != "" {
		gtid = map[string]any{"string": s.GTID}
	}
	var tx any
	if ev.Tx != nil {
		tx = map[string]any{avroschema.TransactionName: map[string]any{
			"id": ev.Tx.ID, "total_order": int64(ev.Tx.TotalOrder), "data_collection_order": int64(ev.Tx.TableOrder),
		}}
	}
	return map[string]any{
		"before": before,
		"after":  after,
		"source": map[string]any{
			"name": s.Connector, "server_id": int64(s.ServerID), "gtid": gtid, "file": s.File, "pos": int64(s.Pos),
			"row": int32(s.Row), "db": s.Database, "table": s.Table, "snapshot": s.Snapshot, "ts_ms": s.CommitTimeMs,
			"sequence": int64(s.Sequence),
		},
		"op":          string(rune(ev.Op)),
		"ts_ms":       ev.TsMs,
		"transaction": tx,
	}, nil
}

// schemaID returns the id of text under subject, registering it (after the
// policy's checks) on first use.
func (c *Converter) schemaID(ctx context.Context, subject string, tc *tableCodec, text string) (int, error) {
	k := subjectKey{subject, keyOf(tc.table)}
	c.mu.RLock()
	id, ok := c.ids[k]
	c.mu.RUnlock()
	if ok {
		return id, nil
	}
	c.regMu.Lock()
	defer c.regMu.Unlock()
	c.mu.RLock()
	id, ok = c.ids[k]
	c.mu.RUnlock()
	if ok {
		return id, nil
	}
	id, err := c.register(ctx, subject, tc.table, text)
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	c.ids[k] = id
	c.mu.Unlock()
	return id, nil
}

func (c *Converter) incompatible(t *schema.Table, subject string, level registry.Level, reasons []string) error {
	return connect.Terminal(
		fmt.Errorf("%w: table %s (schema version %d) under subject %q with compatibility %s: %s",
			ErrIncompatibleSchema, t.QualifiedName(), t.Version, subject, level, strings.Join(reasons, "; ")),
		fmt.Sprintf("revert the DDL or make the change compatible, change the subject's compatibility (PUT /config/%s on the registry), or set %s=%s in the connector config to register it anyway",
			subject, ConnectorKeyEvolutionPolicy, PolicyAllow))
}

func (c *Converter) register(ctx context.Context, subject string, t *schema.Table, text string) (int, error) {
	if c.opts.Policy != PolicyRegistry {
		ss, err := c.reg.Lookup(ctx, subject, text)
		if err == nil {
			return ss.ID, nil
		}
		if !registry.IsNotFound(err) {
			return 0, fmt.Errorf("registering schema of %s: %w", t.QualifiedName(), err)
		}
		level, reasons, err := c.localCheck(ctx, subject, text)
		if err != nil {
			return 0, fmt.Errorf("checking schema of %s against subject %q: %w", t.QualifiedName(), subject, err)
		}
		if len(reasons) > 0 && c.opts.Policy == PolicyFail {
			return 0, c.incompatible(t, subject, level, reasons)
		}
	}
	id, err := c.reg.Register(ctx, subject, text)
	if err == nil {
		return id, nil
	}
	if !registry.IsIncompatible(err) {
		return 0, fmt.Errorf("registering schema of %s: %w", t.QualifiedName(), err)
	}
	if c.opts.Policy != PolicyAllow {
		level, lerr := c.reg.Compatibility(ctx, subject)
		if lerr != nil {
			level = "(unknown)"
		}
		return 0, c.incompatible(t, subject, level, []string{err.Error()})
	}
	return c.forceRegister(ctx, subject, t, text)
}

// localCheck applies binlake's compatibility rules against the subject's
// registered versions.
func (c *Converter) localCheck(ctx context.Context, subject, text string) (registry.Level, []string, error) {
	level, err := c.reg.Compatibility(ctx, subject)
	if err != nil {
		return "", nil, err
	}
	if level == registry.None {
		return level, nil, nil
	}
	candidate, err := avroschema.Parse(text)
	if err != nil {
		return "", nil, err
	}
	versions, err := c.reg.Versions(ctx, subject)
	if registry.IsNotFound(err) || err == nil && len(versions) == 0 {
		return level, nil, nil
	}
	if err != nil {
		return "", nil, err
	}
	if !level.Transitive() {
		versions = versions[len(versions)-1:]
	}
	existing := make([]*avroschema.Schema, 0, len(versions))
	for _, v := range versions {
		ss, err := c.reg.SchemaVersion(ctx, subject, v)
		if err != nil {
			return "", nil, err
		}
		p, err := avroschema.Parse(ss.Schema)
		if err != nil {
			return "", nil, fmt.Errorf("parsing version %d of subject %q: %w", v, subject, err)
		}
		existing = append(existing, p)
	}
	return level, compat.Check(level, candidate, existing), nil
}

// forceRegister registers text with the subject's compatibility set to NONE
// for the duration, then restores the subject's own setting.
func (c *Converter) forceRegister(ctx context.Context, subject string, t *schema.Table, text string) (int, error) {
	prev, had, err := c.reg.SubjectCompatibility(ctx, subject)
	if err != nil {
		return 0, fmt.Errorf("forcing schema of %s: %w", t.QualifiedName(), err)
	}
	if err := c.reg.SetCompatibility(ctx, subject, registry.None); err != nil {
		return 0, fmt.Errorf("forcing schema of %s: %w", t.QualifiedName(), err)
	}
	id, regErr := c.reg.Register(ctx, subject, text)
	var restoreErr error
	if had {
		restoreErr = c.reg.SetCompatibility(ctx, subject, prev)
	} else {
		restoreErr = c.reg.DeleteCompatibility(ctx, subject)
	}
	if regErr != nil {
		return 0, fmt.Errorf("forcing schema of %s under subject %q: %w", t.QualifiedName(), subject, regErr)
	}
	if restoreErr != nil {
		return 0, fmt.Errorf("restoring compatibility of subject %q after forcing schema of %s: %w", subject, t.QualifiedName(), restoreErr)
	}
	return id, nil
}

// readerFor returns the cached decoder of a schema id.
func (c *Converter) readerFor(ctx context.Context, id int) (*readCodec, error) {
	c.mu.RLock()
	rc := c.readers[id]
	c.mu.RUnlock()
	if rc != nil {
		return rc, nil
	}
	text, err := c.reg.SchemaByID(ctx, id)
	if err != nil {
		err = fmt.Errorf("fetching writer schema %d: %w", id, err)
		if !registry.IsNotFound(err) {
			// Unreachable or failing registry: retry. An id the registry
			// does not know is the message's problem.
			err = connect.Transient(err)
		}
		return nil, err
	}
	parsed, err := avroschema.Parse(text)
	if err != nil {
		return nil, fmt.Errorf("parsing writer schema %d: %w", id, err)
	}
	t, err := avroschema.ToTable(parsed)
	if err != nil {
		return nil, fmt.Errorf("reading writer schema %d: %w", id, err)
	}
	value, err := avroschema.ValueRecord(parsed)
	if err != nil {
		return nil, fmt.Errorf("reading writer schema %d: %w", id, err)
	}
	if value == parsed {
		return nil, fmt.Errorf("writer schema %d (%s) is not a change-event envelope", id, parsed.Name)
	}
	codec, err := physicalCodec(text)
	if err != nil {
		return nil, fmt.Errorf("building codec of writer schema %d: %w", id, err)
	}
	names := make([]string, len(value.Fields))
	for i, f := range value.Fields {
		names[i] = f.Name
	}
	rc = &readCodec{table: t, codec: codec, cols: planColumns(t, names), valueName: value.Name, direct: isOwnEnvelope(t, value.Name, text)}
	c.mu.Lock()
	c.readers[id] = rc
	c.mu.Unlock()
	return rc, nil
}

// isOwnEnvelope reports whether text is the envelope FromTable generates for
// t (under the prefix its value record name carries).
func isOwnEnvelope(t *schema.Table, valueName, text string) bool {
	parts := strings.Split(valueName, ".")
	if len(parts) < 4 || parts[len(parts)-1] != "Value" {
		return false
	}
	own, err := avroschema.FromTable(t, strings.Join(parts[:len(parts)-3], "."))
	if err != nil || own.ValueName() != valueName {
		return false
	}
	a, err1 := avroschema.Normalize(own.Envelope)
	b, err2 := avroschema.Normalize(text)
	return err1 == nil && err2 == nil && a == b
}

// SchemaIDOf returns the schema id of a wire-format message.
func SchemaIDOf(body []byte) (int, error) {
	if len(body) < 5 || body[0] != magicByte {
		return 0, errors.New("message is not in the Confluent wire format (magic byte 0 and a 4-byte schema id)")
	}
	return int(binary.BigEndian.Uint32(body[1:5])), nil
}

// Decode implements converter.Converter: the event's Schema is the table the
// writer schema describes.
func (c *Converter) Decode(ctx context.Context, _ string, body []byte) (*connect.ChangeEvent, error) {
	id, err := SchemaIDOf(body)
	if err != nil {
		return nil, fmt.Errorf("decoding Avro message: %w", err)
	}
	rc, err := c.readerFor(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("decoding Avro message: %w", err)
	}
	if rc.direct && !c.opts.Goavro {
		ev, err := readEnvelope(body[5:], rc.table, rc.cols)
		if err != nil {
			return nil, fmt.Errorf("decoding Avro message with schema %d (%s): %w", id, rc.table.QualifiedName(), err)
		}
		return ev, nil
	}
	native, rest, err := rc.codec.NativeFromBinary(body[5:])
	if err != nil {
		return nil, fmt.Errorf("decoding Avro message with schema %d: %w", id, err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("decoding Avro message with schema %d: %d trailing bytes", id, len(rest))
	}
	ev, err := rc.event(native)
	if err != nil {
		return nil, fmt.Errorf("decoding Avro message with schema %d (%s): %w", id, rc.table.QualifiedName(), err)
	}
	return ev, nil
}

func unwrap(v any) any {
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		for _, x := range m {
			return x
		}
	}
	return v
}

func (rc *readCodec) row(v any) ([]any, error) {
	if v == nil {
		return nil, nil
	}
	rec, ok := unwrap(v).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("row decoded as %T", v)
	}
	row := make([]any, len(rc.cols))
	for i := range rc.cols {
		col := &rc.cols[i]
		x := rec[col.name]
		if col.optional {
			x = unwrap(x)
		}
		if x == nil {
			if !col.optional {
				return nil, fmt.Errorf("field %s is NOT NULL but decoded as null", col.name)
			}
			continue
		}
		val, err := col.fromNative(x)
		if err != nil {
			return nil, err
		}
		row[i] = val
	}
	return row, nil
}

func (rc *readCodec) event(native any) (*connect.ChangeEvent, error) {
	m, ok := native.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("envelope decoded as %T", native)
	}
	op, _ := m["op"].(string)
	if len(op) != 1 || !connect.Op(op[0]).Valid() {
		return nil, fmt.Errorf("invalid op %q", op)
	}
	ev := &connect.ChangeEvent{Op: connect.Op(op[0]), Schema: rc.table}
	ev.TsMs, _ = m["ts_ms"].(int64)
	var err error
	if ev.Before, err = rc.row(m["before"]); err != nil {
		return nil, fmt.Errorf("before image: %w", err)
	}
	if ev.After, err = rc.row(m["after"]); err != nil {
		return nil, fmt.Errorf("after image: %w", err)
	}
	if src, ok := m["source"].(map[string]any); ok {
		s := &ev.Source
		s.Connector, _ = src["name"].(string)
		sid, _ := src["server_id"].(int64)
		s.ServerID = uint32(sid)
		s.GTID, _ = unwrap(src["gtid"]).(string)
		s.File, _ = src["file"].(string)
		pos, _ := src["pos"].(int64)
		s.Pos = uint64(pos)
		row, _ := src["row"].(int32)
		s.Row = int(row)
		s.Database, _ = src["db"].(string)
		s.Table, _ = src["table"].(string)
		s.Snapshot, _ = src["snapshot"].(bool)
		s.CommitTimeMs, _ = src["ts_ms"].(int64)
		seq, _ := src["sequence"].(int64)
		s.Sequence = uint64(seq)
	}
	if tx, ok := unwrap(m["transaction"]).(map[string]any); ok {
		id, _ := tx["id"].(string)
		total, _ := tx["total_order"].(int64)
		order, _ := tx["data_collection_order"].(int64)
		ev.Tx = &connect.TxInfo{ID: id, TotalOrder: uint64(total), TableOrder: uint64(order)}
	}
	return ev, nil
}
