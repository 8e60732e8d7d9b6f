package json

import (
	"bytes"
	"encoding/base64"
	stdjson "encoding/json"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/binlake/binlake/schema"
)

// appendValue writes the JSON form of one column value: numbers for the
// integer kinds (exact), strings for decimals, base64 for bytes, and the
// strings "NaN", "Infinity", "-Infinity" for non-finite floats.
func appendValue(buf []byte, c *schema.Column, v any) ([]byte, error) {
	if v == nil {
		return append(buf, "null"...), nil
	}
	switch c.Kind {
	case schema.KindBool:
		b, ok := v.(bool)
		if !ok {
			return nil, typeError(c, v)
		}
		return strconv.AppendBool(buf, b), nil
	case schema.KindInt32, schema.KindDate:
		i, ok := v.(int32)
		if !ok {
			return nil, typeError(c, v)
		}
		return strconv.AppendInt(buf, int64(i), 10), nil
	case schema.KindInt64, schema.KindTime, schema.KindDuration, schema.KindTimestamp, schema.KindTimestampTZ:
		i, ok := v.(int64)
		if !ok {
			return nil, typeError(c, v)
		}
		return strconv.AppendInt(buf, i, 10), nil
	case schema.KindFloat32:
		f, ok := v.(float32)
		if !ok {
			return nil, typeError(c, v)
		}
		return appendFloat(buf, float64(f), 32), nil
	case schema.KindFloat64:
		f, ok := v.(float64)
		if !ok {
			return nil, typeError(c, v)
		}
		return appendFloat(buf, f, 64), nil
	case schema.KindDecimal:
		d, ok := v.(schema.Decimal)
		if !ok {
			return nil, typeError(c, v)
		}
		return strconv.AppendQuote(buf, d.String()), nil
	case schema.KindString:
		s, ok := v.(string)
		if !ok {
			return nil, typeError(c, v)
		}
		if !utf8.ValidString(s) {
			return nil, fmt.Errorf("column %q: string is not valid UTF-8 and JSON cannot carry it exactly", c.Name)
		}
		b, err := stdjson.Marshal(s)
		if err != nil {
			return nil, fmt.Errorf("encoding column %q: %w", c.Name, err)
		}
		return append(buf, b...), nil
	case schema.KindBytes:
		b, ok := v.([]byte)
		if !ok {
			return nil, typeError(c, v)
		}
		buf = append(buf, '"')
		buf = base64.StdEncoding.AppendEncode(buf, b)
		return append(buf, '"'), nil
	default:
		return nil, fmt.Errorf("column %q has unsupported kind %s", c.Name, c.Kind)
	}
}

func appendFloat(buf []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(buf, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(buf, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(buf, `"-Infinity"`...)
	}
	return strconv.AppendFloat(buf, f, 'g', -1, bits)
}

func typeError(c *schema.Column, v any) error {
	return fmt.Errorf("column %q of kind %s holds a %T", c.Name, c.Kind, v)
}

// parseValue is the inverse of appendValue.
func parseValue(c *schema.Column, raw stdjson.RawMessage) (any, error) {
	raw = bytes.TrimSpace(raw)
	if string(raw) == "null" {
		return nil, nil
	}
	switch c.Kind {
	case schema.KindBool:
		switch string(raw) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, valueError(c, raw)
	case schema.KindInt32, schema.KindDate:
		i, err := strconv.ParseInt(string(raw), 10, 32)
		if err != nil {
			return nil, valueError(c, raw)
		}
		return int32(i), nil
	case schema.KindInt64, schema.KindTime, schema.KindDuration, schema.KindTimestamp, schema.KindTimestampTZ:
		var n stdjson.Number
		if err := stdjson.Unmarshal(raw, &n); err != nil {
			return nil, valueError(c, raw)
		}
		i, err := n.Int64()
		if err != nil {
			return nil, valueError(c, raw)
		}
		return i, nil
	case schema.KindFloat32:
		f, err := parseFloat(raw, 32)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", c.Name, err)
		}
		return float32(f), nil
	case schema.KindFloat64:
		f, err := parseFloat(raw, 64)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", c.Name, err)
		}
		return f, nil
	case schema.KindDecimal:
		var s string
		if err := stdjson.Unmarshal(raw, &s); err != nil {
			return nil, valueError(c, raw)
		}
		d, err := schema.ParseDecimal(s)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", c.Name, err)
		}
		return d, nil
	case schema.KindString:
		var s string
		if err := stdjson.Unmarshal(raw, &s); err != nil {
			return nil, valueError(c, raw)
		}
		return s, nil
	case schema.KindBytes:
		var s string
		if err := stdjson.Unmarshal(raw, &s); err != nil {
			return nil, valueError(c, raw)
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("column %q: decoding base64: %w", c.Name, err)
		}
		return b, nil
	default:
		return nil, fmt.Errorf("column %q has unsupported kind %s", c.Name, c.Kind)
	}
}

func parseFloat(raw []byte, bits int) (float64, error) {
	if len(raw) > 0 && raw[0] == '"' {
		switch string(raw) {
		case `"NaN"`:
			return math.NaN(), nil
		case `"Infinity"`:
			return math.Inf(1), nil
		case `"-Infinity"`:
			return math.Inf(-1), nil
		}
		return 0, fmt.Errorf("unexpected float %s", raw)
	}
	f, err := strconv.ParseFloat(string(raw), bits)
	if err != nil {
		return 0, fmt.Errorf("parsing float %s: %w", raw, err)
	}
	return f, nil
}

func valueError(c *schema.Column, raw []byte) error {
	if len(raw) > 40 {
		raw = raw[:40]
	}
	return fmt.Errorf("column %q of kind %s: unexpected JSON value %s", c.Name, c.Kind, raw)
}
