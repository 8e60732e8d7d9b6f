package verify

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/binlake/binlake/schema"
)

// Column is one compared column: its MySQL name and the kind the type
// mapping gives it, which decides its canonical text on both sides.
type Column struct {
	Name  string
	Kind  schema.Kind
	Scale int
	// JSON marks a MySQL JSON column: its text is compared after
	// normalisation (sorted keys, no insignificant white space).
	JSON bool
}

// Cell is the canonical text of one value; Null marks SQL NULL.
type Cell struct {
	Text string
	Null bool
}

// String renders a cell for people: NULL, or the text quoted when it is a
// string-like value.
func (c Cell) String() string {
	if c.Null {
		return "NULL"
	}
	return c.Text
}

// MarshalJSON renders a cell as a JSON string, or null.
func (c Cell) MarshalJSON() ([]byte, error) {
	if c.Null {
		return []byte("null"), nil
	}
	return json.Marshal(c.Text)
}

// Canon returns the canonical text of v, a binlake value (schema.Kind's Go
// representation) of column c. A value of an unexpected Go type renders as
// "<type value>" so that it compares unequal instead of failing the run.
func Canon(c Column, v any) Cell {
	if v == nil {
		return Cell{Null: true}
	}
	if s, ok := canon(c, v); ok {
		return Cell{Text: s}
	}
	return Cell{Text: fmt.Sprintf("<%T %v>", v, v)}
}

func canon(c Column, v any) (string, bool) {
	switch c.Kind {
	case schema.KindBool:
		if b, ok := v.(bool); ok {
			return strconv.FormatBool(b), true
		}
	case schema.KindInt32, schema.KindInt64:
		if n, ok := asInt64(v); ok {
			return strconv.FormatInt(n, 10), true
		}
	case schema.KindFloat32:
		switch x := v.(type) {
		case float32:
			return strconv.FormatFloat(float64(x), 'g', -1, 32), true
		case float64:
			return strconv.FormatFloat(float64(float32(x)), 'g', -1, 32), true
		}
	case schema.KindFloat64:
		switch x := v.(type) {
		case float64:
			return strconv.FormatFloat(x, 'g', -1, 64), true
		case float32:
			return strconv.FormatFloat(float64(x), 'g', -1, 64), true
		}
	case schema.KindDecimal:
		if d, ok := v.(schema.Decimal); ok {
			if r, err := d.Rescale(int32(c.Scale)); err == nil {
				return r.String(), true
			}
			return d.String(), true
		}
		if n, ok := asInt64(v); ok && c.Scale == 0 {
			return strconv.FormatInt(n, 10), true
		}
	case schema.KindString:
		if s, ok := v.(string); ok {
			if c.JSON {
				return normalizeJSON(s), true
			}
			return s, true
		}
	case schema.KindBytes:
		if b, ok := v.([]byte); ok {
			return "0x" + hex.EncodeToString(b), true
		}
	case schema.KindDate:
		if n, ok := asInt64(v); ok {
			return time.Unix(n*86400, 0).UTC().Format("2006-01-02"), true
		}
	case schema.KindTime, schema.KindDuration:
		if n, ok := asInt64(v); ok {
			return formatDuration(n), true
		}
	case schema.KindTimestamp:
		if n, ok := asInt64(v); ok {
			return time.UnixMicro(n).UTC().Format("2006-01-02 15:04:05.000000"), true
		}
	case schema.KindTimestampTZ:
		if n, ok := asInt64(v); ok {
			return time.UnixMicro(n).UTC().Format("2006-01-02 15:04:05.000000Z"), true
		}
	}
	return "", false
}

func asInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int32:
		return int64(x), true
	case int64:
		return x, true
	}
	return 0, false
}

// formatDuration renders signed microseconds as [-]HH:MM:SS.ffffff, hours
// unbounded (MySQL TIME reaches 838 hours).
func formatDuration(us int64) string {
	sign, n := "", uint64(us)
	if us < 0 {
		sign, n = "-", uint64(-us) // -MinInt64 wraps to itself: 2^63 as uint64
	}
	frac := n % 1_000_000
	s := n / 1_000_000
	return fmt.Sprintf("%s%02d:%02d:%02d.%06d", sign, s/3600, s/60%60, s%60, frac)
}

// normalizeJSON re-encodes JSON text with sorted object keys, no
// insignificant white space and numbers in one spelling, so that MySQL's
// rendering ({"a": 1}) and other encoders' ({"a":1}) compare equal. Text
// that is not JSON is returned unchanged.
func normalizeJSON(s string) string {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return s
	}
	var buf bytes.Buffer
	writeJSON(&buf, v)
	return buf.String()
}

func writeJSON(buf *bytes.Buffer, v any) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			kb, _ := json.Marshal(k)
			buf.Write(kb)
			buf.WriteByte(':')
			writeJSON(buf, x[k])
		}
		buf.WriteByte('}')
	case []any:
		buf.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeJSON(buf, e)
		}
		buf.WriteByte(']')
	case json.Number:
		buf.WriteString(normalizeNumber(string(x)))
	default:
		b, _ := json.Marshal(x)
		buf.Write(b)
	}
}

// normalizeNumber keeps integers as written and spells other numbers as
// the shortest float64 text.
func normalizeNumber(s string) string {
	if !strings.ContainsAny(s, ".eE") {
		return s
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
