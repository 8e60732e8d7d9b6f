package schema

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
)

// UnmarshalJSON decodes a column as encoding/json wrote it, turning Default
// back into the Go value of the column's kind (plain JSON would give float64,
// map or string), so a Table survives a JSON round trip exactly.
func (c *Column) UnmarshalJSON(b []byte) error {
	type plain Column
	var raw struct {
		plain
		Default json.RawMessage `json:"default,omitempty"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*c = Column(raw.plain)
	c.Default = nil
	if len(raw.Default) == 0 || string(raw.Default) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw.Default))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("decoding default of column %q: %w", c.Name, err)
	}
	d, err := defaultFromJSON(c.Kind, v)
	if err != nil {
		return fmt.Errorf("decoding default of column %q: %w", c.Name, err)
	}
	c.Default = d
	return nil
}

// defaultFromJSON converts a default decoded with json.Number back to the Go
// value of kind k.
func defaultFromJSON(k Kind, v any) (any, error) {
	num := func() (json.Number, error) {
		n, ok := v.(json.Number)
		if !ok {
			return "", fmt.Errorf("default %v is not a number", v)
		}
		return n, nil
	}
	switch k {
	case KindBool:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("default %v is not a bool", v)
		}
		return b, nil
	case KindInt32, KindDate:
		n, err := num()
		if err != nil {
			return nil, err
		}
		i, err := strconv.ParseInt(string(n), 10, 32)
		return int32(i), err
	case KindInt64, KindTime, KindDuration, KindTimestamp, KindTimestampTZ:
		n, err := num()
		if err != nil {
			return nil, err
		}
		return strconv.ParseInt(string(n), 10, 64)
	case KindFloat32:
		n, err := num()
		if err != nil {
			return nil, err
		}
		f, err := strconv.ParseFloat(string(n), 32)
		return float32(f), err
	case KindFloat64:
		n, err := num()
		if err != nil {
			return nil, err
		}
		return strconv.ParseFloat(string(n), 64)
	case KindDecimal:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("default %v is not a decimal", v)
		}
		u, _ := m["Unscaled"].(json.Number)
		s, _ := m["Scale"].(json.Number)
		bi, ok := new(big.Int).SetString(string(u), 10)
		if !ok {
			return nil, fmt.Errorf("default %v is not a decimal", v)
		}
		sc, err := strconv.ParseInt(string(s), 10, 32)
		if err != nil {
			return nil, fmt.Errorf("default %v is not a decimal: %w", v, err)
		}
		return Decimal{Unscaled: bi, Scale: int32(sc)}, nil
	case KindString:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("default %v is not a string", v)
		}
		return s, nil
	case KindBytes:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("default %v is not base64 bytes", v)
		}
		return base64.StdEncoding.DecodeString(s)
	}
	return nil, fmt.Errorf("unknown kind %s", k)
}
