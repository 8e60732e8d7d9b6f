package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/spec"
)

// MaxBodyBytes bounds a request body.
const MaxBodyBytes = 1 << 20

// errBody is a request body that is not acceptable JSON.
var errBody = errors.New("malformed request body")

// ParseConfig reads a connector config from a JSON body in either form:
// a flat object of keys ({"connector.class": "...", ...}) or Kafka
// Connect's wrapper ({"name": "...", "config": {...}}). Values may be
// strings, numbers or booleans (kept as their text) or arrays of those
// (joined with commas); nested objects and null are field errors. It
// returns the config, the name from a wrapper ("" if none) and either an
// error wrapping errBody for malformed JSON or field errors.
func ParseConfig(body []byte) (connect.Config, string, []spec.FieldError, error) {
	var top map[string]json.RawMessage
	if err := strictUnmarshal(body, &top); err != nil {
		return nil, "", nil, err
	}
	if top == nil {
		return nil, "", nil, fmt.Errorf("%w: the body must be a JSON object", errBody)
	}
	name := ""
	if raw, ok := top["config"]; ok && isObject(raw) {
		for k := range top {
			if k != "config" && k != "name" {
				return nil, "", []spec.FieldError{{Field: k, Message: "unknown field next to \"config\" (only \"name\" is allowed)"}}, nil
			}
		}
		if raw, ok := top["name"]; ok {
			if err := json.Unmarshal(raw, &name); err != nil {
				return nil, "", []spec.FieldError{{Field: "name", Message: "must be a string"}}, nil
			}
		}
		top = nil
		if err := strictUnmarshal(raw, &top); err != nil {
			return nil, "", nil, err
		}
	}
	cfg := make(connect.Config, len(top))
	var ferrs []spec.FieldError
	for k, raw := range top {
		v, err := scalarText(raw, true)
		if err != nil {
			ferrs = append(ferrs, spec.FieldError{Field: k, Message: err.Error()})
			continue
		}
		cfg[k] = v
	}
	sort.Slice(ferrs, func(i, j int) bool { return ferrs[i].Field < ferrs[j].Field })
	return cfg, name, ferrs, nil
}

func strictUnmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %w", errBody, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: trailing data after the JSON value", errBody)
	}
	return nil
}

func isObject(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && t[0] == '{'
}

// scalarText renders a JSON scalar (or, when arrays is set, an array of
// scalars) as config text.
func scalarText(raw json.RawMessage, arrays bool) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", fmt.Errorf("malformed value")
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		if x {
			return "true", nil
		}
		return "false", nil
	case []any:
		if !arrays {
			break
		}
		parts := make([]string, 0, len(x))
		for _, e := range x {
			b, _ := json.Marshal(e)
			s, err := scalarText(b, false)
			if err != nil {
				return "", fmt.Errorf("list elements must be strings, numbers or booleans")
			}
			if strings.Contains(s, ",") {
				return "", fmt.Errorf("list element %q contains a comma", s)
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, ","), nil
	case nil:
		return "", fmt.Errorf("must not be null")
	}
	return "", fmt.Errorf("must be a string, number, boolean or list, not an object")
}
