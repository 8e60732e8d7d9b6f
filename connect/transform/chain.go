package transform

import (
	"context"
	"fmt"
	"regexp"
	"sync"

	"github.com/expr-lang/expr/vm"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/schema"
)

// shape is what the chain knows about the events of one table version at a
// point of the chain: the names, the schema (nil for events without one, such
// as truncates) and the topic override chosen so far ("" for none).
type shape struct {
	db, table string
	t         *schema.Table
	topic     string
}

// transformer is one configured transform. plan is called once per input
// shape (table version) and returns the output shape and the per-record
// operation, nil when the transform only changes the schema or names.
type transformer interface {
	plan(in shape) (out shape, op rowOp, err error)
}

// rowOp is the per-record work of a transform for one table version. It may
// replace r's row slices, and write into them only when they are owned.
type rowOp interface {
	apply(r *record, rs *runState) (keep bool, err error)
}

// record is an event on its way through the chain.
type record struct {
	ev                  *connect.ChangeEvent // the input event; read only
	before, after       []any
	ownBefore, ownAfter bool // whether the chain allocated before/after
}

// own makes both row images writable by copying those the chain does not
// own yet.
func (r *record) own() {
	if !r.ownBefore && r.before != nil {
		r.before = append([]any(nil), r.before...)
	}
	if !r.ownAfter && r.after != nil {
		r.after = append([]any(nil), r.after...)
	}
	r.ownBefore, r.ownAfter = true, true
}

// runState is the scratch space of one Apply call (pooled between calls).
type runState struct {
	lastIn   *schema.Table
	lastPlan *chainPlan
	rec      record
	env      map[string]any // filter environment
	vm       vm.VM
	buf      []byte // hash input
}

var runStates = sync.Pool{New: func() any { return &runState{env: map[string]any{}} }}

// step is one alias of the chain.
type step struct {
	alias, typ string
	scope      *regexp.Regexp // nil: every table
	t          transformer
}

type boundOp struct {
	alias string
	op    rowOp
}

// chainPlan is the whole chain prepared for one input table version.
type chainPlan struct {
	in       *schema.Table
	out      shape
	ops      []boundOp
	renamed  bool // out.db/out.table differ from the input's
	identity bool // no op, same schema, names and no topic
	err      error
	errAlias string
}

// maxPlans bounds the plan cache; it is cleared when full (table versions
// are few, so this only trims leftovers of long-gone versions).
const maxPlans = 4096

type tableKey struct {
	db, table string
	version   int // -1 for events without a schema
}

// Chain is a configured transform chain. It is safe for concurrent use.
type Chain struct {
	steps []step

	mu    sync.RWMutex
	byPtr map[*schema.Table]*chainPlan
	byKey map[tableKey]*chainPlan
}

// Aliases returns the transform aliases of the chain in order.
func (c *Chain) Aliases() []string {
	out := make([]string, len(c.steps))
	for i, s := range c.steps {
		out[i] = s.alias
	}
	return out
}

// Apply runs every event through the chain and returns the events to send,
// in order; dropped events are left out. It never modifies the input events.
// On the first record a transform fails on, it returns a *RecordError.
func (c *Chain) Apply(ctx context.Context, events []*connect.ChangeEvent) ([]*connect.ChangeEvent, error) {
	if len(c.steps) == 0 {
		return events, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rs := runStates.Get().(*runState)
	defer putRunState(rs)
	out := make([]*connect.ChangeEvent, 0, len(events))
	for _, ev := range events {
		res, err := c.applyOne(ev, rs)
		if err != nil {
			return nil, err
		}
		if res != nil {
			out = append(out, res)
		}
	}
	return out, nil
}

// ApplyEvent runs one event through the chain. It returns nil without error
// when a transform dropped the event, and a *RecordError when one failed, so
// a caller can handle records one by one (e.g. to dead-letter a failing one
// and go on with the rest).
func (c *Chain) ApplyEvent(ctx context.Context, ev *connect.ChangeEvent) (*connect.ChangeEvent, error) {
	if len(c.steps) == 0 {
		return ev, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rs := runStates.Get().(*runState)
	defer putRunState(rs)
	return c.applyOne(ev, rs)
}

func putRunState(rs *runState) {
	rs.lastIn, rs.lastPlan = nil, nil
	if cap(rs.buf) > 64<<10 {
		rs.buf = nil
	}
	clear(rs.buf[:cap(rs.buf)])
	rs.vm = vm.VM{}
	if len(rs.env) > 1024 {
		rs.env = map[string]any{}
	}
	clear(rs.env) // row values (possibly ones a later step masks) must not linger in the pool
	runStates.Put(rs)
}

func (c *Chain) applyOne(ev *connect.ChangeEvent, rs *runState) (*connect.ChangeEvent, error) {
	if ev == nil {
		return nil, nil
	}
	cp := c.planFor(ev, rs)
	if cp.err != nil {
		return nil, &RecordError{Event: ev, Transform: cp.errAlias, Err: cp.err}
	}
	if cp.identity {
		return ev, nil
	}
	if t := ev.Schema; t != nil {
		for _, row := range [2][]any{ev.Before, ev.After} {
			if row != nil && len(row) != len(t.Columns) {
				return nil, &RecordError{Event: ev, Transform: c.steps[0].alias,
					Err: fmt.Errorf("row image has %d values but table %s version %d has %d columns", len(row), t.QualifiedName(), t.Version, len(t.Columns))}
			}
		}
	}
	r := &rs.rec // reused: a record per event would escape to the heap
	*r = record{ev: ev, before: ev.Before, after: ev.After}
	defer func() { *r = record{} }()
	for _, b := range cp.ops {
		keep, err := b.op.apply(r, rs)
		if err != nil {
			return nil, &RecordError{Event: ev, Transform: b.alias, Err: err}
		}
		if !keep {
			return nil, nil
		}
	}
	if !r.ownBefore && !r.ownAfter && cp.out.t == ev.Schema && !cp.renamed && cp.out.topic == "" {
		return ev, nil // only filters ran, and they kept it
	}
	out := new(connect.ChangeEvent)
	*out = *ev
	out.Before, out.After = r.before, r.after
	out.Schema = cp.out.t
	if cp.renamed {
		out.Source.Database, out.Source.Table = cp.out.db, cp.out.table
	}
	if cp.out.topic != "" {
		setTopic(out, cp.out.topic)
	}
	return out, nil
}

// planFor returns the cached plan of ev's table version, building it on
// first use.
func (c *Chain) planFor(ev *connect.ChangeEvent, rs *runState) *chainPlan {
	t := ev.Schema
	if t != nil && rs.lastIn == t {
		return rs.lastPlan
	}
	key := tableKey{db: ev.Source.Database, table: ev.Source.Table, version: -1}
	in := shape{db: ev.Source.Database, table: ev.Source.Table}
	if t != nil {
		key = tableKey{db: t.Database, table: t.Name, version: t.Version}
		in = shape{db: t.Database, table: t.Name, t: t}
	}
	c.mu.RLock()
	var cp *chainPlan
	if t != nil {
		cp = c.byPtr[t]
	} else {
		cp = c.byKey[key]
	}
	c.mu.RUnlock()
	if cp != nil {
		if t != nil {
			rs.lastIn, rs.lastPlan = t, cp
		}
		return cp
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byKey == nil || len(c.byKey) >= maxPlans || len(c.byPtr) >= maxPlans {
		c.byKey = map[tableKey]*chainPlan{}
		c.byPtr = map[*schema.Table]*chainPlan{}
	}
	cp = c.byKey[key]
	if cp == nil || (t != nil && cp.in != t && (cp.in == nil || !cp.in.SameColumns(t))) {
		cp = c.build(in)
		c.byKey[key] = cp
	}
	if t != nil {
		c.byPtr[t] = cp
		rs.lastIn, rs.lastPlan = t, cp
	}
	return cp
}

// build plans every step for one input shape.
func (c *Chain) build(in shape) *chainPlan {
	cp := &chainPlan{in: in.t}
	cur := in
	for _, s := range c.steps {
		if s.scope != nil && !s.scope.MatchString(cur.db+"."+cur.table) {
			continue
		}
		out, op, err := s.t.plan(cur)
		if err == nil && out.t != nil && out.t != cur.t {
			if verr := out.t.Validate(); verr != nil {
				err = fmt.Errorf("deriving the %s schema: %w", s.typ, verr)
			}
		}
		if err != nil {
			cp.err, cp.errAlias = err, s.alias
			return cp
		}
		if op != nil {
			cp.ops = append(cp.ops, boundOp{alias: s.alias, op: op})
		}
		cur = out
	}
	cp.out = cur
	cp.renamed = cur.db != in.db || cur.table != in.table
	cp.identity = len(cp.ops) == 0 && cur.t == in.t && !cp.renamed && cur.topic == ""
	return cp
}

// derive returns a copy of t with its own Columns and PrimaryKey slices, for
// a transform to change. Version is kept (see the package doc).
func derive(t *schema.Table) *schema.Table {
	out := *t
	out.Columns = append([]schema.Column(nil), t.Columns...)
	out.PrimaryKey = append([]int(nil), t.PrimaryKey...)
	return &out
}
