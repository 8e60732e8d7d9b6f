// Package plugin is the registry of connector plugins by name. Each plugin
// package registers itself from an init func; the binary pulls plugins in by
// blank imports, and the worker and REST API look them up here.
package plugin

import (
	"fmt"
	"sort"
	"sync"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/spec"
)

// Kind says whether a plugin reads (source) or writes (sink).
type Kind string

// The plugin kinds.
const (
	Source Kind = "source"
	Sink   Kind = "sink"
)

// Plugin describes one connector implementation.
type Plugin struct {
	// Name is the value of connector.class that selects the plugin.
	Name string
	// Kind is Source or Sink.
	Kind Kind
	// Doc describes the plugin in a sentence or two.
	Doc string
	// Spec declares the plugin's own keys. The common keys (spec.Common and
	// spec.Source or spec.Sink) are merged in front by FullSpec.
	Spec *spec.Spec
	// New returns a fresh connector: a connect.SourceConnector for a
	// source plugin, a connect.SinkConnector for a sink. It does no I/O.
	New func() connect.Connector
	// Validate, when set, checks rules that span keys (e.g. "uri is
	// required when catalog.type=rest") on a config that passed the spec,
	// with defaults applied; it returns one error per bad field and does
	// no I/O. The REST create, update and validate routes report them.
	Validate func(cfg connect.Config) []spec.FieldError
}

// FullSpec returns the plugin's complete spec: spec.Common, then spec.Source
// or spec.Sink, then the plugin's own keys (which win on a clash).
func (p Plugin) FullSpec() *spec.Spec {
	kindSpec := spec.Sink
	if p.Kind == Source {
		kindSpec = spec.Source
	}
	return spec.Merge(spec.Common, kindSpec, p.Spec)
}

// Registry holds plugins by name. The zero value is empty and ready.
type Registry struct {
	mu      sync.RWMutex
	plugins map[string]Plugin
}

// Default is the process-wide registry Register, Lookup and All use.
var Default = &Registry{}

// Register adds p to r. It returns an error for an empty name, a duplicate
// name, an unknown kind, a missing New func or a malformed spec.
func (r *Registry) Register(p Plugin) error {
	if p.Name == "" {
		return fmt.Errorf("registering plugin: empty name")
	}
	if p.Kind != Source && p.Kind != Sink {
		return fmt.Errorf("registering plugin %q: unknown kind %q", p.Name, p.Kind)
	}
	if p.New == nil {
		return fmt.Errorf("registering plugin %q: New is nil", p.Name)
	}
	if p.Spec != nil {
		if err := p.Spec.Check(); err != nil {
			return fmt.Errorf("registering plugin %q: %w", p.Name, err)
		}
	}
	if err := p.FullSpec().Check(); err != nil {
		return fmt.Errorf("registering plugin %q: %w", p.Name, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.plugins[p.Name]; dup {
		return fmt.Errorf("registering plugin %q: already registered", p.Name)
	}
	if r.plugins == nil {
		r.plugins = make(map[string]Plugin)
	}
	r.plugins[p.Name] = p
	return nil
}

// Lookup returns the plugin registered under name.
func (r *Registry) Lookup(name string) (Plugin, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	p, ok := r.plugins[name]
	return p, ok
}

// All returns every registered plugin sorted by name.
func (r *Registry) All() []Plugin {
	r.mu.RLock()
	out := make([]Plugin, 0, len(r.plugins))
	for _, p := range r.plugins {
		out = append(out, p)
	}
	r.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Register adds p to the Default registry and panics on error: it is meant
// for init funcs, where a duplicate or broken plugin is a programming error.
func Register(p Plugin) {
	if err := Default.Register(p); err != nil {
		panic(err)
	}
}

// Lookup returns the plugin registered under name in the Default registry.
func Lookup(name string) (Plugin, bool) { return Default.Lookup(name) }

// All returns every plugin of the Default registry sorted by name.
func All() []Plugin { return Default.All() }
