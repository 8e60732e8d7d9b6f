package verify

import (
	"bytes"
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/binlake/binlake/schema"
)

// compareKeys orders two primary keys column by column in the Go order of
// their values (bytes and strings by byte, numbers by value). Both sides
// assign rows to ranges with it, so the ranges need not follow MySQL's
// collation order to be consistent.
func compareKeys(a, b []any) int {
	for i := range min(len(a), len(b)) {
		if c := compareValue(a[i], b[i]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

// compareValue orders two values of one kind; NULL sorts first and values
// of different Go types by their type names.
func compareValue(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	switch x := a.(type) {
	case int32, int64:
		xa, _ := asInt64(x)
		if yb, ok := asInt64(b); ok {
			return cmp.Compare(xa, yb)
		}
	case float32, float64:
		if yb, ok := asFloat64(b); ok {
			xa, _ := asFloat64(x)
			return cmp.Compare(xa, yb)
		}
	case bool:
		if y, ok := b.(bool); ok {
			switch {
			case x == y:
				return 0
			case !x:
				return -1
			default:
				return 1
			}
		}
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y)
		}
	case []byte:
		if y, ok := b.([]byte); ok {
			return bytes.Compare(x, y)
		}
	case schema.Decimal:
		if y, ok := b.(schema.Decimal); ok {
			return compareDecimal(x, y)
		}
	}
	return strings.Compare(fmt.Sprintf("%T", a), fmt.Sprintf("%T", b))
}

func asFloat64(v any) (float64, bool) {
	switch x := v.(type) {
	case float32:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

func compareDecimal(a, b schema.Decimal) int {
	s := max(a.Scale, b.Scale)
	ra, err1 := a.Rescale(s)
	rb, err2 := b.Rescale(s)
	if err1 != nil || err2 != nil {
		return strings.Compare(a.String(), b.String())
	}
	return ra.Unscaled.Cmp(rb.Unscaled)
}

// Ranges splits the key space of a table: range i holds the keys k with
// Bounds[i-1] < k <= Bounds[i]; the first range is unbounded below and the
// last one above, so every key falls into exactly one range.
type Ranges struct {
	Bounds [][]any
}

// Len returns the number of ranges.
func (r Ranges) Len() int { return len(r.Bounds) + 1 }

// Index returns the range of a key.
func (r Ranges) Index(key []any) int {
	i, _ := slices.BinarySearchFunc(r.Bounds, key, compareKeys)
	return i
}

// SplitRanges picks up to n-1 boundaries from a sample of keys so that the
// n ranges hold about as many sampled keys each. Fewer ranges result when
// the sample has fewer distinct keys. The sample is sorted in place.
func SplitRanges(sample [][]any, n int) Ranges {
	if n <= 1 || len(sample) == 0 {
		return Ranges{}
	}
	slices.SortFunc(sample, compareKeys)
	sample = slices.CompactFunc(sample, func(a, b []any) bool { return compareKeys(a, b) == 0 })
	var bounds [][]any
	for i := 1; i < n; i++ {
		pos := i*len(sample)/n - 1
		if pos < 0 {
			continue
		}
		b := sample[pos]
		if len(bounds) > 0 && compareKeys(bounds[len(bounds)-1], b) >= 0 {
			continue
		}
		bounds = append(bounds, b)
	}
	return Ranges{Bounds: bounds}
}

// sampler keeps a uniform random sample of the keys it is shown (reservoir
// sampling, algorithm R) in bounded memory. Its seed is fixed, so a run
// over the same keys picks the same sample.
type sampler struct {
	size int
	seen int64
	keys [][]any
	rng  *rand.Rand
}

func newSampler(size int) *sampler {
	return &sampler{size: size, rng: rand.New(rand.NewPCG(0x62696e6c, 0x616b6521))}
}

func (s *sampler) add(key []any) {
	s.seen++
	if len(s.keys) < s.size {
		s.keys = append(s.keys, key)
		return
	}
	if j := s.rng.Int64N(s.seen); j < int64(s.size) {
		s.keys[j] = key
	}
}
