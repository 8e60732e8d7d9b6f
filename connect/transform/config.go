package transform

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/spec"
)

// KeyType is the per-alias key naming the transform type:
// transforms.<alias>.type.
const KeyType = "type"

// KeyTables is the per-alias key every type takes: the tables ("db.table"
// regular expressions) the transform applies to.
const KeyTables = "tables"

// TypeInfo documents one transform type for GET /connector-plugins and the
// docs page. Spec declares the keys under transforms.<alias>. besides type.
type TypeInfo struct {
	Name string
	Doc  string
	Spec *spec.Spec
}

// typeDef is one transform type: its docs, keys and builder. build reads a
// config that passed the spec (defaults applied) and reports the remaining
// problems with p.fail.
type typeDef struct {
	name, doc string
	keys      []spec.Key
	build     func(p *params) transformer
}

func (d typeDef) spec() *spec.Spec {
	return &spec.Spec{Keys: append(append([]spec.Key(nil), d.keys...), tablesKey)}
}

var tablesKey = spec.Key{
	Name: KeyTables, Type: spec.List, Validate: validPatterns,
	Doc: "Comma-separated regular expressions (anchored, case-insensitive; no commas inside one) over \"db.table\" naming the tables the transform applies to; empty applies it to every table.",
}

// registry lists the built-in types in docs order.
var registry = []typeDef{
	columnsIncludeType, columnsExcludeType, columnsRenameType, columnsMaskType,
	keyReplaceType, nameCaseType, routeRegexType, filterType, fieldAddType,
}

func lookupType(name string) (typeDef, bool) {
	for _, d := range registry {
		if d.name == name {
			return d, true
		}
	}
	return typeDef{}, false
}

// Types returns the documented specs of the built-in transform types.
func Types() []TypeInfo {
	out := make([]TypeInfo, len(registry))
	for i, d := range registry {
		out[i] = TypeInfo{Name: d.name, Doc: d.doc, Spec: d.spec()}
	}
	return out
}

// params gives a builder typed access to one alias's keys and collects its
// field errors under full key names.
type params struct {
	alias string
	cfg   connect.Config // relative keys, validated, defaults applied
	errs  []spec.FieldError
}

func (p *params) field(key string) string { return spec.Transforms + "." + p.alias + "." + key }

func (p *params) fail(key, format string, args ...any) {
	p.errs = append(p.errs, spec.FieldError{Field: p.field(key), Message: fmt.Sprintf(format, args...)})
}

func (p *params) str(key string) string    { return spec.GetString(p.cfg, key) }
func (p *params) list(key string) []string { return spec.GetList(p.cfg, key) }
func (p *params) has(key string) bool      { return strings.TrimSpace(p.cfg[key]) != "" }

var aliasRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// Validate checks the transforms keys of a connector config ("transforms"
// and every "transforms.<alias>.*" key) and returns one field error per bad
// key, naming the full key, sorted by key; nil means valid. Other keys are
// ignored.
func Validate(cfg connect.Config) []spec.FieldError {
	_, errs := build(cfg)
	return errs
}

// New builds the transform chain of a connector config. An invalid config
// yields a *ConfigError holding Validate's field errors. A config without
// transforms gives an empty chain that passes events through.
func New(cfg connect.Config) (*Chain, error) {
	c, errs := build(cfg)
	if len(errs) > 0 {
		return nil, &ConfigError{Fields: errs}
	}
	return c, nil
}

func build(cfg connect.Config) (*Chain, []spec.FieldError) {
	var errs []spec.FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, spec.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	aliases := spec.GetList(cfg, spec.Transforms)
	listed := make(map[string]bool, len(aliases))
	for _, a := range aliases {
		switch {
		case !aliasRE.MatchString(a):
			add(spec.Transforms, "alias %q may only use A-Z, a-z, 0-9, _ and -", a)
		case listed[a]:
			add(spec.Transforms, "alias %q is listed twice", a)
		}
		listed[a] = true
	}
	prefix := spec.Transforms + "."
	for k := range cfg {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		alias, sub, ok := strings.Cut(rest, ".")
		switch {
		case !listed[alias]:
			add(k, "unknown key: transform alias %q is not listed in %s", alias, spec.Transforms)
		case !ok || sub == "":
			add(k, "unknown key: use %s%s.<key>", prefix, alias)
		}
	}
	c := &Chain{}
	done := map[string]bool{}
	for _, alias := range aliases {
		if done[alias] || !aliasRE.MatchString(alias) {
			continue
		}
		done[alias] = true
		ap := prefix + alias + "."
		typ := strings.TrimSpace(cfg[ap+KeyType])
		if typ == "" {
			add(ap+KeyType, "required key is missing")
			continue
		}
		def, ok := lookupType(typ)
		if !ok {
			add(ap+KeyType, "unknown transform type %q%s", typ, suggestType(typ))
			continue
		}
		sub := connect.Config{}
		for k, v := range cfg {
			if name, ok := strings.CutPrefix(k, ap); ok && name != KeyType && name != "" {
				sub[name] = v
			}
		}
		s := def.spec()
		if ferrs := s.Validate(sub); len(ferrs) > 0 {
			for _, fe := range ferrs {
				add(ap+fe.Field, "%s", fe.Message)
			}
			continue
		}
		p := &params{alias: alias, cfg: s.WithDefaults(sub)}
		t := def.build(p)
		var scope *regexp.Regexp
		if pats := p.list(KeyTables); len(pats) > 0 {
			scope, _ = compilePatterns(pats) // validated by the spec
		}
		errs = append(errs, p.errs...)
		if len(p.errs) == 0 && t != nil {
			c.steps = append(c.steps, step{alias: alias, typ: typ, scope: scope, t: t})
		}
	}
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Field < errs[j].Field })
		return nil, errs
	}
	return c, nil
}

// suggestType names the known types, the likely one first.
func suggestType(typ string) string {
	names := make([]string, len(registry))
	for i, d := range registry {
		names[i] = d.name
	}
	l := strings.ToLower(typ)
	for _, n := range names {
		if strings.Contains(n, l) || strings.Contains(l, strings.ReplaceAll(n, ".", "")) {
			return fmt.Sprintf(" (did you mean %q?)", n)
		}
	}
	return " (known: " + strings.Join(names, ", ") + ")"
}

// compilePatterns compiles regular expressions into one anchored,
// case-insensitive regexp matching any of them (Debezium's include/exclude
// list semantics).
func compilePatterns(pats []string) (*regexp.Regexp, error) {
	parts := make([]string, 0, len(pats))
	for _, p := range pats {
		if _, err := regexp.Compile(p); err != nil {
			return nil, fmt.Errorf("regular expression %q: %w", p, err)
		}
		parts = append(parts, "(?:"+p+")")
	}
	re, err := regexp.Compile(`(?i)^(?:` + strings.Join(parts, "|") + `)$`)
	if err != nil {
		return nil, fmt.Errorf("combining regular expressions: %w", err)
	}
	return re, nil
}

// validPatterns is the spec Validate func of regular-expression lists.
func validPatterns(v string) error {
	_, err := compilePatterns(splitList(v))
	return err
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

// Redact returns cfg with the values of secret transform keys
// (transforms.<alias>.<key> where the alias's type declares <key> secret, such
// as columns.mask's salt) replaced by spec.Redacted. Other keys are kept.
func Redact(cfg connect.Config) connect.Config {
	out := cfg.Clone()
	for name, v := range cfg {
		rest, ok := strings.CutPrefix(name, "transforms.")
		if !ok || v == "" {
			continue
		}
		alias, key, ok := strings.Cut(rest, ".")
		if !ok || key == "type" {
			continue
		}
		for _, ti := range Types() {
			if ti.Name != cfg["transforms."+alias+".type"] {
				continue
			}
			if k, found := ti.Spec.Key(key); found && k.IsSecret() {
				out[name] = spec.Redacted
			}
		}
	}
	return out
}
