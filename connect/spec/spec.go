// Package spec declares connector configuration: one typed, documented key
// list per plugin that drives validation (unknown keys, wrong types, missing
// required keys, enums, custom checks: one error per field), defaults, the
// redaction of secrets and the generated docs page.
package spec

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/binlake/binlake/connect"
)

// Type is the value type of a config key. Every value is a string on the
// wire; the type says how it is parsed.
type Type string

// The value types.
const (
	// String is any text.
	String Type = "string"
	// Int is a 32-bit signed integer in base 10.
	Int Type = "int"
	// Long is a 64-bit signed integer in base 10.
	Long Type = "long"
	// Bool is "true" or "false" (any case).
	Bool Type = "boolean"
	// Double is a finite floating-point number.
	Double Type = "double"
	// List is a comma-separated list; elements are trimmed, empty ones dropped.
	List Type = "list"
	// Password is secret text: always redacted in responses and logs.
	Password Type = "password"
	// Duration is a non-negative number of milliseconds, or a Go duration
	// such as "1500ms", "10s" or "1m".
	Duration Type = "duration"
)

// Redacted replaces the value of a secret key in responses and logs.
const Redacted = "[hidden]"

// Key declares one config key.
type Key struct {
	// Name is the key, e.g. "database.hostname".
	Name string `json:"name"`
	// Type says how the value is parsed.
	Type Type `json:"type"`
	// Default is the value used when the key is absent ("" for none).
	Default string `json:"default"`
	// Required keys must be present with a non-empty value.
	Required bool `json:"required"`
	// Doc says what the key does, in one or two sentences.
	Doc string `json:"doc"`
	// Secret values are redacted everywhere (implied by Type Password).
	Secret bool `json:"secret"`
	// Enum, when set, lists the allowed values (for a List: of each element).
	Enum []string `json:"enum,omitempty"`
	// Validate, when set, checks a value that already parsed as Type and is
	// in Enum. It returns an error that reads well after "key: ".
	Validate func(value string) error `json:"-"`
	// Group orders keys in docs ("Connection", "Snapshot", ...).
	Group string `json:"group,omitempty"`
}

// IsSecret reports whether k's value must be redacted.
func (k Key) IsSecret() bool { return k.Secret || k.Type == Password }

// Spec is a plugin's config declaration: its keys in doc order.
type Spec struct {
	Keys []Key
	// Prefixes lists name prefixes under which any key is accepted without
	// checks (e.g. "transforms." for per-transform keys, "value.converter."
	// for converter options). Values under them are passed through.
	Prefixes []string
}

// FieldError is one problem with one config key.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error returns "field: message".
func (e FieldError) Error() string { return e.Field + ": " + e.Message }

// Key returns the declared key with the given name.
func (s *Spec) Key(name string) (Key, bool) {
	for _, k := range s.Keys {
		if k.Name == name {
			return k, true
		}
	}
	return Key{}, false
}

func (s *Spec) prefixed(name string) bool {
	for _, p := range s.Prefixes {
		if strings.HasPrefix(name, p) && len(name) > len(p) {
			return true
		}
	}
	return false
}

// Validate checks cfg against s and returns one FieldError per bad field,
// sorted by field name: unknown keys, missing required keys, values that do
// not parse as the key's type, values outside Enum and values rejected by the
// key's Validate func. Defaults are taken into account: a missing key with a
// default is valid. It returns nil when cfg is valid.
func (s *Spec) Validate(cfg connect.Config) []FieldError {
	var errs []FieldError
	for name := range cfg {
		if _, ok := s.Key(name); ok || s.prefixed(name) {
			continue
		}
		msg := "unknown key"
		if near := s.nearest(name); near != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", near)
		}
		errs = append(errs, FieldError{Field: name, Message: msg})
	}
	for _, k := range s.Keys {
		v, ok := cfg[k.Name]
		if !ok {
			v = k.Default
		}
		if strings.TrimSpace(v) == "" {
			if k.Required {
				errs = append(errs, FieldError{Field: k.Name, Message: "required key is missing"})
				continue
			}
			// An absent key without default, or an optional text key set to
			// "", means "unset".
			if !ok || (len(k.Enum) == 0 && (k.Type == String || k.Type == Password || k.Type == List)) {
				continue
			}
		}
		if err := k.check(v); err != nil {
			msg := err.Error()
			if k.IsSecret() && v != "" {
				msg = strings.ReplaceAll(msg, v, Redacted) // never echo a secret
			}
			errs = append(errs, FieldError{Field: k.Name, Message: msg})
		}
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].Field < errs[j].Field })
	return errs
}

// check parses v as k's type and applies Enum and Validate.
func (k Key) check(v string) error {
	if err := checkType(k.Type, v); err != nil {
		return err
	}
	if len(k.Enum) > 0 {
		vals := []string{v}
		if k.Type == List {
			vals = splitList(v)
		}
		for _, x := range vals {
			if !slices.Contains(k.Enum, x) {
				return fmt.Errorf("value %q is not one of %s", x, strings.Join(k.Enum, ", "))
			}
		}
	}
	if k.Validate != nil {
		return k.Validate(v)
	}
	return nil
}

func checkType(t Type, v string) error {
	switch t {
	case String, Password, List:
		return nil
	case Int:
		if _, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32); err != nil {
			return fmt.Errorf("value %q is not an int", v)
		}
	case Long:
		if _, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err != nil {
			return fmt.Errorf("value %q is not a long", v)
		}
	case Bool:
		if _, err := parseBool(v); err != nil {
			return err
		}
	case Double:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("value %q is not a finite double", v)
		}
	case Duration:
		if _, err := parseDuration(v); err != nil {
			return err
		}
	default:
		return fmt.Errorf("key has unknown type %q", t)
	}
	return nil
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("value %q is not a boolean (true or false)", v)
}

func parseDuration(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		if ms < 0 || ms > math.MaxInt64/int64(time.Millisecond) {
			return 0, fmt.Errorf("value %q is out of range for a duration in milliseconds", v)
		}
		return time.Duration(ms) * time.Millisecond, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("value %q is not a duration (milliseconds, or e.g. 10s)", v)
	}
	return d, nil
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// WithDefaults returns a copy of cfg with the default of every absent key
// that has one.
func (s *Spec) WithDefaults(cfg connect.Config) connect.Config {
	out := cfg.Clone()
	for _, k := range s.Keys {
		if _, ok := out[k.Name]; !ok && k.Default != "" {
			out[k.Name] = k.Default
		}
	}
	return out
}

// Redact returns a copy of cfg with the value of every secret key replaced by
// Redacted. Keys the spec does not declare are redacted too when their name
// looks secret (LooksSecret), so a typo never leaks a password.
func (s *Spec) Redact(cfg connect.Config) connect.Config {
	out := cfg.Clone()
	for name, v := range out {
		if v == "" {
			continue
		}
		k, ok := s.Key(name)
		if (ok && k.IsSecret()) || LooksSecret(name) {
			out[name] = Redacted
		}
	}
	return out
}

// LooksSecret reports whether a key name suggests a secret value (password,
// secret, token, credential, private or access key).
func LooksSecret(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"password", "passwd", "secret", "token", "credential", "private", "user.info", "access-key", "access.key", "accesskey", "sasl.jaas"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// Check reports an error when s itself is malformed: an empty or duplicate
// key name, an unknown type, or a default that its own key rejects. Plugin
// registration calls it so a broken spec fails at init.
func (s *Spec) Check() error {
	seen := make(map[string]bool, len(s.Keys))
	for _, k := range s.Keys {
		if k.Name == "" {
			return fmt.Errorf("spec has a key without a name")
		}
		if seen[k.Name] {
			return fmt.Errorf("spec declares key %q twice", k.Name)
		}
		seen[k.Name] = true
		if err := checkType(k.Type, ""); err != nil && strings.Contains(err.Error(), "unknown type") {
			return fmt.Errorf("key %q: %w", k.Name, err)
		}
		if k.Default != "" {
			if err := k.check(k.Default); err != nil {
				return fmt.Errorf("key %q: default: %w", k.Name, err)
			}
		}
	}
	return nil
}

// Merge returns a spec with the keys of all specs in order. When two specs
// declare the same key, the later declaration wins and keeps the position of
// the first, so a plugin can override a common key's default or doc.
func Merge(specs ...*Spec) *Spec {
	out := &Spec{}
	pos := map[string]int{}
	for _, s := range specs {
		if s == nil {
			continue
		}
		for _, k := range s.Keys {
			if i, ok := pos[k.Name]; ok {
				out.Keys[i] = k
				continue
			}
			pos[k.Name] = len(out.Keys)
			out.Keys = append(out.Keys, k)
		}
		for _, p := range s.Prefixes {
			if !slices.Contains(out.Prefixes, p) {
				out.Prefixes = append(out.Prefixes, p)
			}
		}
	}
	return out
}

// nearest returns the declared key closest to name by edit distance when it
// is close enough to be a likely typo.
func (s *Spec) nearest(name string) string {
	best, bestD := "", 3
	for _, k := range s.Keys {
		if d := editDistance(name, k.Name, bestD); d < bestD {
			best, bestD = k.Name, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, capped at limit.
func editDistance(a, b string, limit int) int {
	if d := len(a) - len(b); d >= limit || -d >= limit {
		return limit
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], limit)
}
