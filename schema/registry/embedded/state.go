package embedded

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/binlake/binlake/schema/avroschema"
	"github.com/binlake/binlake/schema/registry"
)

// Stored records, JSON-encoded under the store keys:
//
//	<prefix>schemas/<id>                    storedSchema
//	<prefix>subjects/<escaped subject>/<v>  storedVersion
//	<prefix>config                          registry.ConfigResponse (global level)
//	<prefix>config/<escaped subject>        registry.ConfigResponse
//	<prefix>mode                            registry.ModeResponse
type storedSchema struct {
	Schema     string               `json:"schema"`
	SchemaType string               `json:"schemaType,omitempty"`
	References []registry.Reference `json:"references,omitempty"`
}

type storedVersion struct {
	ID      int  `json:"id"`
	Deleted bool `json:"deleted,omitempty"`
}

type version struct {
	Version int
	ID      int
	Deleted bool
}

type subject struct {
	versions []*version // ascending by Version
}

func (s *subject) live() []*version {
	out := make([]*version, 0, len(s.versions))
	for _, v := range s.versions {
		if !v.Deleted {
			out = append(out, v)
		}
	}
	return out
}

func (s *subject) find(n int) *version {
	for _, v := range s.versions {
		if v.Version == n {
			return v
		}
	}
	return nil
}

// state is the registry's in-memory index, rebuilt from the store on load.
type state struct {
	schemas    map[int]*storedSchema
	parsed     map[int]*avroschema.Schema
	idByNorm   map[string]int
	subjects   map[string]*subject
	global     registry.Level
	subjectCfg map[string]registry.Level
	mode       string
	nextID     int
}

func escape(subject string) string { return url.PathEscape(subject) }

func (r *Registry) key(parts ...string) string { return r.prefix + strings.Join(parts, "/") }

func (r *Registry) load(ctx context.Context) error {
	st := &state{schemas: map[int]*storedSchema{}, parsed: map[int]*avroschema.Schema{}, idByNorm: map[string]int{},
		subjects: map[string]*subject{}, global: registry.DefaultLevel, subjectCfg: map[string]registry.Level{}, mode: "READWRITE", nextID: 1}
	schemas, err := r.store.List(ctx, r.key("schemas")+"/")
	if err != nil {
		return fmt.Errorf("loading schemas: %w", err)
	}
	for k, v := range schemas {
		id, err := strconv.Atoi(strings.TrimPrefix(k, r.key("schemas")+"/"))
		if err != nil {
			return fmt.Errorf("loading schema key %q: not an id", k)
		}
		var s storedSchema
		if err := json.Unmarshal(v, &s); err != nil {
			return fmt.Errorf("loading schema %d: %w", id, err)
		}
		p, err := avroschema.Parse(s.Schema)
		if err != nil {
			return fmt.Errorf("loading schema %d: %w", id, err)
		}
		st.schemas[id], st.parsed[id], st.idByNorm[s.Schema] = &s, p, id
		st.nextID = max(st.nextID, id+1)
	}
	subjects, err := r.store.List(ctx, r.key("subjects")+"/")
	if err != nil {
		return fmt.Errorf("loading subjects: %w", err)
	}
	for k, v := range subjects {
		rest := strings.TrimPrefix(k, r.key("subjects")+"/")
		i := strings.LastIndexByte(rest, '/')
		if i < 0 {
			return fmt.Errorf("loading subject key %q: no version", k)
		}
		name, err := url.PathUnescape(rest[:i])
		if err != nil {
			return fmt.Errorf("loading subject key %q: %w", k, err)
		}
		n, err := strconv.Atoi(rest[i+1:])
		if err != nil {
			return fmt.Errorf("loading subject key %q: version is not a number", k)
		}
		var sv storedVersion
		if err := json.Unmarshal(v, &sv); err != nil {
			return fmt.Errorf("loading subject %q version %d: %w", name, n, err)
		}
		if _, ok := st.schemas[sv.ID]; !ok {
			return fmt.Errorf("loading subject %q version %d: schema %d is missing", name, n, sv.ID)
		}
		s := st.subjects[name]
		if s == nil {
			s = &subject{}
			st.subjects[name] = s
		}
		s.versions = append(s.versions, &version{Version: n, ID: sv.ID, Deleted: sv.Deleted})
	}
	for _, s := range st.subjects {
		sort.Slice(s.versions, func(a, b int) bool { return s.versions[a].Version < s.versions[b].Version })
	}
	configs, err := r.store.List(ctx, r.key("config"))
	if err != nil {
		return fmt.Errorf("loading config: %w", err)
	}
	for k, v := range configs {
		var c registry.ConfigResponse
		if err := json.Unmarshal(v, &c); err != nil {
			return fmt.Errorf("loading config %q: %w", k, err)
		}
		if k == r.key("config") {
			st.global = c.CompatibilityLevel
			continue
		}
		name, err := url.PathUnescape(strings.TrimPrefix(k, r.key("config")+"/"))
		if err != nil {
			return fmt.Errorf("loading config key %q: %w", k, err)
		}
		st.subjectCfg[name] = c.CompatibilityLevel
	}
	mode, found, err := r.store.Get(ctx, r.key("mode"))
	if err != nil {
		return fmt.Errorf("loading mode: %w", err)
	}
	if found {
		var m registry.ModeResponse
		if err := json.Unmarshal(mode, &m); err != nil {
			return fmt.Errorf("loading mode: %w", err)
		}
		st.mode = m.Mode
	}
	r.st = st
	return nil
}

func (r *Registry) put(ctx context.Context, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", key, err)
	}
	if err := r.store.Put(ctx, key, b); err != nil {
		return fmt.Errorf("storing %s: %w", key, err)
	}
	return nil
}

// level returns the compatibility level that applies to a subject.
func (st *state) level(subject string) registry.Level {
	if l, ok := st.subjectCfg[subject]; ok {
		return l
	}
	return st.global
}
