package verify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Row is one row of either side: its typed primary-key values (schema.Kind
// Go values, in key order) and the canonical cells of the compared columns.
type Row struct {
	Key   []any
	Cells []Cell
}

// Side reads the rows of one side of a table. Scan calls fn for every row
// and stops at fn's first error; fn may keep the row.
type Side interface {
	Scan(ctx context.Context, fn func(Row) error) error
}

// Source is the MySQL side: besides rows it yields the primary keys alone,
// from which the ranges are sampled.
type Source interface {
	Side
	ScanKeys(ctx context.Context, fn func(key []any) error) error
}

// Plan describes what is compared for one table: the columns (key columns
// among them) and the names of both tables.
type Plan struct {
	MySQLTable string
	LakeTable  string
	Columns    []Column
	// KeyColumns are the indexes into Columns of the primary-key columns,
	// in key order.
	KeyColumns []int
}

// Options tune a comparison.
type Options struct {
	// Ranges is the number of primary-key ranges (at least 1).
	Ranges int
	// MaxKeys bounds the differing keys listed per table; all are counted.
	MaxKeys int
	// MaxDiffRows bounds the MySQL rows of differing ranges held in memory
	// while their keys are listed; over it the comparison fails and asks
	// for more ranges.
	MaxDiffRows int
}

// Defaults of Options.
const (
	DefaultRanges      = 16
	DefaultMaxKeys     = 20
	DefaultMaxDiffRows = 2_000_000
	samplePerRange     = 64
)

func (o Options) withDefaults() Options {
	if o.Ranges < 1 {
		o.Ranges = DefaultRanges
	}
	if o.MaxKeys < 0 {
		o.MaxKeys = 0
	}
	if o.MaxDiffRows < 1 {
		o.MaxDiffRows = DefaultMaxDiffRows
	}
	return o
}

// Compare compares one table's two sides: it samples range boundaries from
// the MySQL keys, sums every range on both sides, and lists the keys of
// the ranges that differ.
func Compare(ctx context.Context, p *Plan, mysql Source, lake Side, opts Options) (*TableResult, error) {
	opts = opts.withDefaults()
	if len(p.KeyColumns) == 0 {
		return nil, errors.New("the table has no primary key")
	}
	s := newSampler(opts.Ranges * samplePerRange)
	if err := mysql.ScanKeys(ctx, func(key []any) error { s.add(key); return nil }); err != nil {
		return nil, fmt.Errorf("sampling keys of %s: %w", p.MySQLTable, err)
	}
	ranges := SplitRanges(s.keys, opts.Ranges)

	// Both sides are read at once. A MySQL failure stops the lake read; a
	// lake failure lets the MySQL read finish, since cancelling a query
	// would break the snapshot connection the next tables use.
	lctx, cancelLake := context.WithCancel(ctx)
	defer cancelLake()
	var mySums, lakeSums []Sum
	var myErr, lakeErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		lakeSums, lakeErr = sums(lctx, lake, ranges)
	}()
	if mySums, myErr = sums(ctx, mysql, ranges); myErr != nil {
		cancelLake()
	}
	wg.Wait()
	if myErr != nil {
		return nil, fmt.Errorf("reading %s from MySQL: %w", p.MySQLTable, myErr)
	}
	if lakeErr != nil {
		return nil, fmt.Errorf("reading lake table %s: %w", p.LakeTable, lakeErr)
	}

	res := &TableResult{MySQLTable: p.MySQLTable, LakeTable: p.LakeTable, Status: StatusEqual}
	for _, c := range p.Columns {
		res.Columns = append(res.Columns, c.Name)
	}
	differing := map[int]bool{}
	for i := range ranges.Len() {
		m, l := mySums[i], lakeSums[i]
		res.MySQLRows += m.Rows
		res.LakeRows += l.Rows
		rr := RangeResult{
			Index: i, Range: describeRange(p, ranges, i),
			MySQLRows: m.Rows, LakeRows: l.Rows,
			MySQLChecksum: fmt.Sprintf("%016x", m.Hash), LakeChecksum: fmt.Sprintf("%016x", l.Hash),
			Equal: m == l,
		}
		if !rr.Equal {
			differing[i] = true
		}
		res.Ranges = append(res.Ranges, rr)
	}
	if len(differing) == 0 {
		return res, nil
	}
	res.Status = StatusDifferent
	listed := pickListed(res.Ranges, opts.MaxDiffRows)
	if len(listed) == 0 {
		return nil, fmt.Errorf("%s: every differing range holds more than %d rows on one side (--max-diff-rows); run with more --ranges", p.MySQLTable, opts.MaxDiffRows)
	}
	if len(listed) < len(differing) {
		var skipped []string
		for _, rr := range res.Ranges {
			if !rr.Equal && !listed[rr.Index] {
				skipped = append(skipped, strconv.Itoa(rr.Index))
			}
		}
		res.Notes = append(res.Notes, fmt.Sprintf("keys of differing ranges %s are not listed: listing them would hold more than %d rows (raise --ranges or --max-diff-rows)",
			strings.Join(skipped, ", "), opts.MaxDiffRows))
		res.Truncated = true
	}
	if err := listDiffs(ctx, p, mysql, lake, ranges, listed, opts, res); err != nil {
		return nil, err
	}
	return res, nil
}

// sums reads a side once and sums its rows per range.
func sums(ctx context.Context, side Side, ranges Ranges) ([]Sum, error) {
	out := make([]Sum, ranges.Len())
	err := side.Scan(ctx, func(r Row) error {
		out[ranges.Index(r.Key)].Add(RowHash(r.Cells))
		return nil
	})
	return out, err
}

// pickListed picks the differing ranges whose keys are listed: in key
// order, as long as their rows together stay within maxRows. A range
// counts with the larger of its two sides: listing holds its MySQL rows
// and tracks every lake key it meets, so a lake side full of extra rows
// is bounded too.
func pickListed(rs []RangeResult, maxRows int) map[int]bool {
	out := map[int]bool{}
	var held int64
	for _, rr := range rs {
		n := max(rr.MySQLRows, rr.LakeRows)
		if rr.Equal || held+n > int64(maxRows) {
			continue
		}
		held += n
		out[rr.Index] = true
	}
	return out
}

// heldRow is a MySQL row of a differing range, waiting for its lake row.
type heldRow struct {
	row  Row
	hash uint64
}

// listDiffs reads the differing ranges again: the MySQL rows are held by
// key, then every lake row of those ranges is matched against them.
func listDiffs(ctx context.Context, p *Plan, mysql, lake Side, ranges Ranges, differing map[int]bool, opts Options, res *TableResult) error {
	held := map[string]*heldRow{}
	err := mysql.Scan(ctx, func(r Row) error {
		if !differing[ranges.Index(r.Key)] {
			return nil
		}
		if len(held) >= opts.MaxDiffRows {
			return fmt.Errorf("the differing ranges hold more than %d rows; run with more ranges", opts.MaxDiffRows)
		}
		held[keyString(p, r.Cells)] = &heldRow{row: r, hash: RowHash(r.Cells)}
		return nil
	})
	if err != nil {
		return fmt.Errorf("listing differing rows of %s in MySQL: %w", p.MySQLTable, err)
	}
	var diffs []Diff
	matched := map[string]bool{}
	err = lake.Scan(ctx, func(r Row) error {
		if !differing[ranges.Index(r.Key)] {
			return nil
		}
		k := keyString(p, r.Cells)
		h, ok := held[k]
		switch {
		case ok:
			delete(held, k)
			matched[k] = true
			if h.hash != RowHash(r.Cells) {
				diffs = append(diffs, Diff{Kind: DiffChanged, key: r.Key, Key: keyText(p, r.Cells), Columns: columnDiffs(p, h.row.Cells, r.Cells)})
			}
		case matched[k]:
			diffs = append(diffs, Diff{Kind: DiffDuplicate, key: r.Key, Key: keyText(p, r.Cells), Lake: rowMap(p, r.Cells)})
		default:
			matched[k] = true
			diffs = append(diffs, Diff{Kind: DiffExtra, key: r.Key, Key: keyText(p, r.Cells), Lake: rowMap(p, r.Cells)})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("listing differing rows of lake table %s: %w", p.LakeTable, err)
	}
	for _, h := range held {
		diffs = append(diffs, Diff{Kind: DiffMissing, key: h.row.Key, Key: keyText(p, h.row.Cells), MySQL: rowMap(p, h.row.Cells)})
	}
	slices.SortFunc(diffs, func(a, b Diff) int { return compareKeys(a.key, b.key) })
	res.Differences = len(diffs)
	for _, d := range diffs {
		switch d.Kind {
		case DiffMissing:
			res.MissingInLake++
		case DiffExtra, DiffDuplicate:
			res.ExtraInLake++
		case DiffChanged:
			res.Changed++
		}
	}
	if len(diffs) > opts.MaxKeys {
		diffs = diffs[:opts.MaxKeys]
		res.Truncated = true
	}
	res.Diffs = diffs
	return nil
}

// keyString is the map key of a row's primary key: its key cells framed so
// that different keys never collide.
func keyString(p *Plan, cells []Cell) string {
	var b strings.Builder
	for _, i := range p.KeyColumns {
		c := cells[i]
		if c.Null {
			b.WriteString("N|")
			continue
		}
		b.WriteString(strconv.Itoa(len(c.Text)))
		b.WriteByte(':')
		b.WriteString(c.Text)
		b.WriteByte('|')
	}
	return b.String()
}

// keyText renders a primary key for people: id=42, or (a=1, b=x).
func keyText(p *Plan, cells []Cell) string {
	parts := make([]string, len(p.KeyColumns))
	for j, i := range p.KeyColumns {
		parts[j] = p.Columns[i].Name + "=" + cells[i].String()
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func columnDiffs(p *Plan, mysql, lake []Cell) []ColumnDiff {
	var out []ColumnDiff
	for i, c := range p.Columns {
		if mysql[i] != lake[i] {
			out = append(out, ColumnDiff{Column: c.Name, MySQL: mysql[i], Lake: lake[i]})
		}
	}
	return out
}

// rowMap renders a row as column -> cell for a missing or extra key.
func rowMap(p *Plan, cells []Cell) map[string]Cell {
	m := make(map[string]Cell, len(cells))
	for i, c := range p.Columns {
		m[c.Name] = cells[i]
	}
	return m
}

// describeRange renders range i as a condition on the key, e.g.
// "id <= 120", "120 < id <= 240", "id > 240", or "all keys".
func describeRange(p *Plan, r Ranges, i int) string {
	key := make([]string, len(p.KeyColumns))
	for j, ci := range p.KeyColumns {
		key[j] = p.Columns[ci].Name
	}
	name := key[0]
	if len(key) > 1 {
		name = "(" + strings.Join(key, ", ") + ")"
	}
	bound := func(b []any) string {
		parts := make([]string, len(b))
		for j, v := range b {
			parts[j] = Canon(p.Columns[p.KeyColumns[j]], v).String()
		}
		if len(parts) == 1 {
			return parts[0]
		}
		return "(" + strings.Join(parts, ", ") + ")"
	}
	switch {
	case len(r.Bounds) == 0:
		return "all keys"
	case i == 0:
		return name + " <= " + bound(r.Bounds[0])
	case i == len(r.Bounds):
		return name + " > " + bound(r.Bounds[i-1])
	default:
		return bound(r.Bounds[i-1]) + " < " + name + " <= " + bound(r.Bounds[i])
	}
}
