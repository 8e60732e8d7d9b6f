// Package decode turns MySQL and MariaDB column values into the Go values that
// binlake's schema.Kind documents: values decoded from binlog rows events by
// go-mysql (with UseDecimal and ParseTime on) and values read as text by a
// snapshot SELECT. Both paths produce identical values for the same cell, so a
// snapshot read and a later binlog event of the same row compare equal.
package decode

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/binlake/binlake/schema"
	"github.com/shopspring/decimal"
)

// Codec converts one column's raw values. Build it once per column of a
// table version with NewCodec; it is immutable and safe for concurrent use.
type Codec struct {
	kind     schema.Kind
	base     string // MySQL base type: "int", "decimal", "binary", ...
	notNull  bool
	scale    int32
	padLen   int // BINARY(n): the binlog strips trailing zero bytes
	bitWidth int
	geometry bool
}

// NewCodec returns the codec of a column. It fails for a column whose kind
// it cannot produce.
func NewCodec(c schema.Column) (*Codec, error) {
	base, args := SplitType(c.SourceType)
	cd := &Codec{kind: c.Kind, base: base, notNull: !c.Optional, scale: int32(c.Scale)}
	switch base {
	case "binary":
		if len(args) == 1 {
			n, err := strconv.Atoi(args[0])
			if err != nil {
				return nil, fmt.Errorf("parsing length of %s column %q: %w", c.SourceType, c.Name, err)
			}
			cd.padLen = n
		}
	case "bit":
		cd.bitWidth = 1
		if len(args) == 1 {
			n, err := strconv.Atoi(args[0])
			if err != nil {
				return nil, fmt.Errorf("parsing width of %s column %q: %w", c.SourceType, c.Name, err)
			}
			cd.bitWidth = n
		}
	case "decimal", "numeric":
		if c.Kind == schema.KindString && len(args) == 2 {
			s, err := strconv.Atoi(args[1])
			if err != nil {
				return nil, fmt.Errorf("parsing scale of %s column %q: %w", c.SourceType, c.Name, err)
			}
			cd.scale = int32(s)
		}
	}
	cd.geometry = IsGeometry(base)
	if c.Kind == schema.KindInvalid || c.Kind > schema.KindTimestampTZ {
		return nil, fmt.Errorf("column %q has no valid kind", c.Name)
	}
	return cd, nil
}

// IsGeometry reports whether a MySQL base type is a spatial type.
func IsGeometry(base string) bool {
	switch base {
	case "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon",
		"geometrycollection", "geomcollection":
		return true
	}
	return false
}

// SplitType splits a MySQL column type such as "decimal(10,2) unsigned" or
// "enum('a','b')" into its lower-case base name and its parenthesised
// arguments (quotes kept for enum and set members).
func SplitType(t string) (base string, args []string) {
	t = strings.TrimSpace(t)
	i := strings.IndexAny(t, "( ")
	if i < 0 {
		return strings.ToLower(t), nil
	}
	base = strings.ToLower(t[:i])
	if t[i] != '(' {
		return base, nil
	}
	rest := t[i+1:]
	var cur strings.Builder
	inQuote := false
	for j := 0; j < len(rest); j++ {
		ch := rest[j]
		switch {
		case inQuote && ch == '\'' && j+1 < len(rest) && rest[j+1] == '\'':
			cur.WriteString("''")
			j++
		case ch == '\'':
			inQuote = !inQuote
			cur.WriteByte(ch)
		case !inQuote && ch == ',':
			args = append(args, strings.TrimSpace(cur.String()))
			cur.Reset()
		case !inQuote && ch == ')':
			args = append(args, strings.TrimSpace(cur.String()))
			return base, args
		default:
			cur.WriteByte(ch)
		}
	}
	return base, args
}

// zero returns the value of a zero date: NULL, or the epoch for a NOT NULL
// column (which cannot carry NULL).
func (c *Codec) zero() any {
	if !c.notNull {
		return nil
	}
	switch c.kind {
	case schema.KindDate:
		return int32(0)
	default:
		return int64(0)
	}
}

// Binlog converts a value decoded by go-mysql from a rows event. enum and
// set are the column's member strings from the TABLE_MAP metadata (nil for
// other columns).
func (c *Codec) Binlog(v any, enum, set []string) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch c.kind {
	case schema.KindBool:
		switch x := v.(type) {
		case int64:
			return x != 0, nil
		case int8:
			return x != 0, nil
		}
	case schema.KindInt32:
		switch x := v.(type) {
		case int8:
			return int32(x), nil
		case uint8:
			return int32(x), nil
		case int16:
			return int32(x), nil
		case uint16:
			return int32(x), nil
		case int32:
			return v, nil // already the kind's Go type: no new allocation
		case uint32:
			if x <= 1<<31-1 {
				return int32(x), nil
			}
		case int:
			return int32(x), nil
		}
	case schema.KindInt64:
		switch x := v.(type) {
		case int64:
			return v, nil
		case uint32:
			return int64(x), nil
		case int32:
			return int64(x), nil
		}
	case schema.KindFloat32:
		if _, ok := v.(float32); ok {
			return v, nil
		}
	case schema.KindFloat64:
		switch x := v.(type) {
		case float64:
			return v, nil
		case float32:
			return float64(x), nil
		}
	case schema.KindDecimal:
		switch x := v.(type) {
		case uint64:
			return schema.Decimal{Unscaled: new(big.Int).SetUint64(x), Scale: 0}, nil
		case int64:
			return schema.Decimal{Unscaled: big.NewInt(x), Scale: 0}, nil
		case decimal.Decimal:
			return fromShopspring(x, c.scale)
		case string:
			return c.decimalText(x)
		}
	case schema.KindString:
		switch x := v.(type) {
		case string:
			return v, nil
		case []byte:
			if c.base == "json" && len(x) == 0 {
				return "null", nil
			}
			return string(x), nil
		case int64:
			switch c.base {
			case "enum":
				return enumText(x, enum)
			case "set":
				return setText(x, set)
			}
		case decimal.Decimal:
			return x.StringFixed(c.scale), nil
		}
	case schema.KindBytes:
		switch x := v.(type) {
		case []byte:
			if !c.geometry && len(x) >= c.padLen {
				return v, nil
			}
			return c.bytes(x), nil
		case string:
			return c.bytes([]byte(x)), nil
		case int64:
			if c.base == "bit" {
				n := (c.bitWidth + 7) / 8
				out := make([]byte, n)
				u := uint64(x)
				for i := n - 1; i >= 0; i-- {
					out[i] = byte(u)
					u >>= 8
				}
				return out, nil
			}
		}
	case schema.KindDate:
		if s, ok := v.(string); ok {
			return c.dateText(s)
		}
	case schema.KindTime, schema.KindDuration:
		if s, ok := v.(string); ok {
			return ParseTimeMicros(s)
		}
	case schema.KindTimestamp, schema.KindTimestampTZ:
		switch x := v.(type) {
		case time.Time:
			return x.UnixMicro(), nil
		case string:
			return c.datetimeText(x)
		}
	}
	return nil, fmt.Errorf("decoding %s (%s) value of Go type %T", c.base, c.kind, v)
}

// Text converts a value read as text by a SELECT (nil b: NULL). The session
// must run with time_zone='+00:00' so TIMESTAMP text is UTC. BIT and spatial
// values arrive as their binary bytes.
func (c *Codec) Text(b []byte) (any, error) {
	if b == nil {
		return nil, nil
	}
	s := string(b)
	switch c.kind {
	case schema.KindBool:
		if len(b) == 1 {
			return b[0] != 0, nil
		}
		return nil, fmt.Errorf("decoding bit(1) value of %d bytes", len(b))
	case schema.KindInt32:
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("parsing %s value %q: %w", c.base, s, err)
		}
		return int32(n), nil
	case schema.KindInt64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("parsing %s value %q: %w", c.base, s, err)
		}
		return n, nil
	case schema.KindFloat32:
		f, err := strconv.ParseFloat(s, 32)
		if err != nil {
			return nil, fmt.Errorf("parsing float value %q: %w", s, err)
		}
		return float32(f), nil
	case schema.KindFloat64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("parsing double value %q: %w", s, err)
		}
		return f, nil
	case schema.KindDecimal:
		return c.decimalText(s)
	case schema.KindString:
		return s, nil
	case schema.KindBytes:
		return c.bytes(append([]byte(nil), b...)), nil
	case schema.KindDate:
		return c.dateText(s)
	case schema.KindTime, schema.KindDuration:
		return ParseTimeMicros(s)
	case schema.KindTimestamp, schema.KindTimestampTZ:
		return c.datetimeText(s)
	}
	return nil, fmt.Errorf("decoding text of kind %s", c.kind)
}

func (c *Codec) bytes(b []byte) []byte {
	switch {
	case c.geometry && len(b) >= 4:
		return b[4:]
	case c.padLen > 0 && len(b) < c.padLen:
		out := make([]byte, c.padLen)
		copy(out, b)
		return out
	}
	return b
}

func (c *Codec) decimalText(s string) (any, error) {
	d, err := schema.ParseDecimal(s)
	if err != nil {
		return nil, err
	}
	d, err = d.Rescale(c.scale)
	if err != nil {
		return nil, err
	}
	return d, nil
}

func fromShopspring(x decimal.Decimal, scale int32) (any, error) {
	d := schema.Decimal{Unscaled: x.Coefficient(), Scale: -x.Exponent()}
	r, err := d.Rescale(scale)
	if err != nil {
		return nil, err
	}
	return r, nil
}

func enumText(idx int64, members []string) (any, error) {
	if idx == 0 {
		return "", nil // MySQL's error value for an invalid member
	}
	if idx < 0 || int(idx) > len(members) {
		return nil, fmt.Errorf("enum index %d outside the %d members of the table map (is binlog_row_metadata FULL?)", idx, len(members))
	}
	return members[idx-1], nil
}

func setText(bits int64, members []string) (any, error) {
	if bits == 0 {
		return "", nil
	}
	var sb strings.Builder
	for i := 0; i < 64; i++ {
		if bits&(1<<uint(i)) == 0 {
			continue
		}
		if i >= len(members) {
			return nil, fmt.Errorf("set bit %d outside the %d members of the table map (is binlog_row_metadata FULL?)", i, len(members))
		}
		if sb.Len() > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(members[i])
	}
	return sb.String(), nil
}

func (c *Codec) dateText(s string) (any, error) {
	y, m, d, err := parseDate(s)
	if err != nil {
		return nil, err
	}
	if m == 0 || d == 0 {
		return c.zero(), nil
	}
	return int32(DaysFromCivil(y, m, d)), nil
}

func (c *Codec) datetimeText(s string) (any, error) {
	datePart, timePart, _ := strings.Cut(strings.TrimSpace(s), " ")
	y, m, d, err := parseDate(datePart)
	if err != nil {
		return nil, err
	}
	if m == 0 || d == 0 {
		return c.zero(), nil
	}
	var micros int64
	if timePart != "" {
		micros, err = ParseTimeMicros(timePart)
		if err != nil {
			return nil, err
		}
	}
	return DaysFromCivil(y, m, d)*86_400_000_000 + micros, nil
}

func parseDate(s string) (y, m, d int, err error) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, 0, 0, fmt.Errorf("parsing date %q", s)
	}
	y, err1 := strconv.Atoi(s[0:4])
	m, err2 := strconv.Atoi(s[5:7])
	d, err3 := strconv.Atoi(s[8:10])
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, 0, 0, fmt.Errorf("parsing date %q", s)
	}
	return y, m, d, nil
}

// ParseTimeMicros parses MySQL TIME text "[-]H+:MM:SS[.ffffff]" into signed
// microseconds.
func ParseTimeMicros(s string) (int64, error) {
	t := strings.TrimSpace(s)
	neg := strings.HasPrefix(t, "-")
	if neg {
		t = t[1:]
	}
	hms, frac, _ := strings.Cut(t, ".")
	parts := strings.Split(hms, ":")
	if len(parts) != 3 {
		return 0, fmt.Errorf("parsing time %q", s)
	}
	h, err1 := strconv.ParseInt(parts[0], 10, 64)
	mi, err2 := strconv.ParseInt(parts[1], 10, 64)
	se, err3 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || mi > 59 || se > 59 {
		return 0, fmt.Errorf("parsing time %q", s)
	}
	var us int64
	if frac != "" {
		if len(frac) > 6 {
			return 0, fmt.Errorf("parsing time %q: more than 6 fractional digits", s)
		}
		f, err := strconv.ParseInt(frac+strings.Repeat("0", 6-len(frac)), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parsing time %q: %w", s, err)
		}
		us = f
	}
	v := ((h*60+mi)*60+se)*1_000_000 + us
	if neg {
		v = -v
	}
	return v, nil
}

// DaysFromCivil returns the days since 1970-01-01 of a proleptic Gregorian
// date (Howard Hinnant's algorithm; valid for any year).
func DaysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}
