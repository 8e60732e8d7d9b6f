// Package embedded is binlake's built-in schema registry: an http.Handler that
// serves the Confluent Schema Registry REST API for Avro schemas, keeps its
// data in a checkpoint.Store, and checks compatibility with the rules of
// schema/registry/compat. The worker mounts it under /schema-registry; it
// works behind any path prefix (mount it with http.StripPrefix).
//
// Served: GET /subjects, GET /subjects/{s}/versions, GET
// /subjects/{s}/versions/{v} (v a number, "latest" or -1), GET
// /subjects/{s}/versions/{v}/schema, GET .../referencedby, POST /subjects/{s}
// (lookup), POST /subjects/{s}/versions (register; idempotent, and the same
// schema gets the same id in every subject), DELETE /subjects/{s} and DELETE
// /subjects/{s}/versions/{v} (soft, then ?permanent=true), GET
// /schemas/ids/{id}, /schemas/ids/{id}/schema, /schemas/ids/{id}/versions,
// /schemas/ids/{id}/subjects, GET /schemas/types, POST
// /compatibility/subjects/{s}/versions[/{v}], GET/PUT/DELETE /config and
// /config/{s}, GET/PUT /mode (READWRITE or READONLY).
//
// One process owns a store: the registry keeps an index in memory, loaded
// from the store on first use, and writes through to the store before it
// answers.
package embedded

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/binlake/binlake/checkpoint"
	"github.com/binlake/binlake/schema/avroschema"
	"github.com/binlake/binlake/schema/registry"
	"github.com/binlake/binlake/schema/registry/compat"
)

// maxBodyBytes bounds a request body.
const maxBodyBytes = 8 << 20

// Registry is the embedded registry. Create it with New.
type Registry struct {
	store  checkpoint.Store
	prefix string
	mux    *http.ServeMux

	mu sync.Mutex
	st *state // nil until loaded
}

// Option configures a Registry.
type Option func(*Registry)

// WithKeyPrefix puts every store key under prefix (e.g. "schema-registry/")
// so the store can be shared with other users.
func WithKeyPrefix(prefix string) Option { return func(r *Registry) { r.prefix = prefix } }

// New returns a registry on store. It does no I/O; the store is read on the
// first request (or by Load).
func New(store checkpoint.Store, opts ...Option) *Registry {
	r := &Registry{store: store}
	for _, o := range opts {
		o(r)
	}
	m := http.NewServeMux()
	m.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, map[string]any{}) })
	m.HandleFunc("GET /subjects", r.handle(r.listSubjects))
	m.HandleFunc("GET /subjects/{subject}/versions", r.handle(r.listVersions))
	m.HandleFunc("GET /subjects/{subject}/versions/{version}", r.handle(r.getVersion))
	m.HandleFunc("GET /subjects/{subject}/versions/{version}/schema", r.handle(r.getVersionSchema))
	m.HandleFunc("GET /subjects/{subject}/versions/{version}/referencedby", r.handle(r.referencedBy))
	m.HandleFunc("POST /subjects/{subject}", r.handle(r.lookup))
	m.HandleFunc("POST /subjects/{subject}/versions", r.handle(r.register))
	m.HandleFunc("DELETE /subjects/{subject}", r.handle(r.deleteSubject))
	m.HandleFunc("DELETE /subjects/{subject}/versions/{version}", r.handle(r.deleteVersion))
	m.HandleFunc("GET /schemas/ids/{id}", r.handle(r.schemaByID))
	m.HandleFunc("GET /schemas/ids/{id}/schema", r.handle(r.rawSchemaByID))
	m.HandleFunc("GET /schemas/ids/{id}/versions", r.handle(r.idVersions))
	m.HandleFunc("GET /schemas/ids/{id}/subjects", r.handle(r.idSubjects))
	m.HandleFunc("GET /schemas/types", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, []string{registry.SchemaTypeAvro})
	})
	m.HandleFunc("POST /compatibility/subjects/{subject}/versions/{version}", r.handle(r.compatibility))
	m.HandleFunc("POST /compatibility/subjects/{subject}/versions", r.handle(r.compatibility))
	m.HandleFunc("GET /config", r.handle(r.getConfig))
	m.HandleFunc("PUT /config", r.handle(r.putConfig))
	m.HandleFunc("DELETE /config", r.handle(r.deleteConfig))
	m.HandleFunc("GET /config/{subject}", r.handle(r.getConfig))
	m.HandleFunc("PUT /config/{subject}", r.handle(r.putConfig))
	m.HandleFunc("DELETE /config/{subject}", r.handle(r.deleteConfig))
	m.HandleFunc("GET /mode", r.handle(r.getMode))
	m.HandleFunc("PUT /mode", r.handle(r.putMode))
	m.HandleFunc("/", func(w http.ResponseWriter, req *http.Request) {
		writeError(w, &registry.Error{Status: http.StatusNotFound, Code: http.StatusNotFound, Message: "HTTP 404 Not Found: " + req.URL.Path})
	})
	r.mux = m
	return r
}

// Load reads the registry's state from the store now (otherwise the first
// request does).
func (r *Registry) Load(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.st != nil {
		return nil
	}
	return r.load(ctx)
}

// ServeHTTP serves the Confluent API.
func (r *Registry) ServeHTTP(w http.ResponseWriter, req *http.Request) { r.mux.ServeHTTP(w, req) }

// handlerFunc handles one request under the registry lock with loaded state;
// it returns the status and body, or an error (a *registry.Error, or any
// other error for a 500).
type handlerFunc func(ctx context.Context, req *http.Request) (int, any, error)

func (r *Registry) handle(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.st == nil {
			if err := r.load(req.Context()); err != nil {
				writeError(w, internal(fmt.Errorf("loading schema registry state: %w", err)))
				return
			}
		}
		status, body, err := h(req.Context(), req)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, status, body)
	}
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", registry.ContentType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func writeError(w http.ResponseWriter, err error) {
	var e *registry.Error
	if !errors.As(err, &e) {
		e = internal(err)
	}
	writeJSON(w, e.Status, e)
}

func internal(err error) *registry.Error {
	return &registry.Error{Status: http.StatusInternalServerError, Code: registry.CodeInternal, Message: err.Error()}
}

func apiError(status, code int, format string, args ...any) *registry.Error {
	return &registry.Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func subjectNotFound(s string) error {
	return apiError(http.StatusNotFound, registry.CodeSubjectNotFound, "Subject '%s' not found.", s)
}

func versionNotFound(s string, v int) error {
	return apiError(http.StatusNotFound, registry.CodeVersionNotFound, "Version %d not found for subject '%s'.", v, s)
}

func schemaNotFound(format string, args ...any) error {
	return apiError(http.StatusNotFound, registry.CodeSchemaNotFound, format, args...)
}

func flag(req *http.Request, name string) bool {
	v := req.URL.Query().Get(name)
	return v == "true" || v == "1"
}

// readBody decodes a JSON request body.
func readBody(req *http.Request, v any) error {
	data, err := io.ReadAll(io.LimitReader(req.Body, maxBodyBytes+1))
	if err != nil {
		return apiError(http.StatusBadRequest, http.StatusBadRequest, "reading request body: %v", err)
	}
	if len(data) > maxBodyBytes {
		return apiError(http.StatusRequestEntityTooLarge, http.StatusRequestEntityTooLarge, "request body exceeds %d bytes", maxBodyBytes)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return apiError(http.StatusBadRequest, http.StatusBadRequest, "parsing request body: %v", err)
	}
	return nil
}

// parseSchema validates a register/lookup body and returns the normalized
// text and the parsed schema.
func parseSchema(body *registry.RegisterRequest) (string, *avroschema.Schema, error) {
	if body.SchemaType != "" && !strings.EqualFold(body.SchemaType, registry.SchemaTypeAvro) {
		return "", nil, apiError(http.StatusUnprocessableEntity, registry.CodeInvalidSchema, "Schema type %s is not supported by this registry (AVRO only)", body.SchemaType)
	}
	if strings.TrimSpace(body.Schema) == "" {
		return "", nil, apiError(http.StatusUnprocessableEntity, registry.CodeInvalidSchema, "Empty schema")
	}
	p, err := avroschema.Parse(body.Schema)
	if err != nil {
		return "", nil, apiError(http.StatusUnprocessableEntity, registry.CodeInvalidSchema, "Invalid schema: %v", err)
	}
	norm, err := avroschema.Normalize(body.Schema)
	if err != nil {
		return "", nil, apiError(http.StatusUnprocessableEntity, registry.CodeInvalidSchema, "Invalid schema: %v", err)
	}
	return norm, p, nil
}

// parseVersion reads the {version} path value: a positive number, "latest"
// or -1 (latest, returned as 0).
func parseVersion(req *http.Request) (int, error) {
	v := req.PathValue("version")
	if v == "latest" || v == "-1" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, apiError(http.StatusUnprocessableEntity, registry.CodeInvalidVersion,
			"The specified version '%s' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\"", v)
	}
	return n, nil
}

// resolveVersion finds a version of a subject; n == 0 is the latest live one.
func (r *Registry) resolveVersion(name string, n int, deleted bool) (*version, error) {
	s := r.st.subjects[name]
	if s == nil {
		return nil, subjectNotFound(name)
	}
	live := s.live()
	if len(live) == 0 && !deleted {
		return nil, subjectNotFound(name)
	}
	if n == 0 {
		if len(live) == 0 {
			return nil, versionNotFound(name, -1)
		}
		return live[len(live)-1], nil
	}
	v := s.find(n)
	if v == nil || v.Deleted && !deleted {
		return nil, versionNotFound(name, n)
	}
	return v, nil
}

func (r *Registry) subjectSchema(name string, v *version) registry.SubjectSchema {
	s := r.st.schemas[v.ID]
	out := registry.SubjectSchema{Subject: name, Version: v.Version, ID: v.ID, Schema: s.Schema, References: s.References}
	if s.SchemaType != "" && s.SchemaType != registry.SchemaTypeAvro {
		out.SchemaType = s.SchemaType
	}
	return out
}

func (r *Registry) listSubjects(_ context.Context, req *http.Request) (int, any, error) {
	deleted := flag(req, "deleted")
	prefix := req.URL.Query().Get("subjectPrefix")
	out := []string{}
	for name, s := range r.st.subjects {
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		if len(s.live()) > 0 || deleted && len(s.versions) > 0 {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return http.StatusOK, out, nil
}

func (r *Registry) listVersions(_ context.Context, req *http.Request) (int, any, error) {
	name := req.PathValue("subject")
	s := r.st.subjects[name]
	deleted := flag(req, "deleted")
	if s == nil || len(s.live()) == 0 && !deleted {
		return 0, nil, subjectNotFound(name)
	}
	out := []int{}
	for _, v := range s.versions {
		if !v.Deleted || deleted {
			out = append(out, v.Version)
		}
	}
	return http.StatusOK, out, nil
}

func (r *Registry) getVersion(_ context.Context, req *http.Request) (int, any, error) {
	n, err := parseVersion(req)
	if err != nil {
		return 0, nil, err
	}
	name := req.PathValue("subject")
	v, err := r.resolveVersion(name, n, flag(req, "deleted"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, r.subjectSchema(name, v), nil
}

func (r *Registry) getVersionSchema(ctx context.Context, req *http.Request) (int, any, error) {
	status, body, err := r.getVersion(ctx, req)
	if err != nil {
		return 0, nil, err
	}
	return status, json.RawMessage(body.(registry.SubjectSchema).Schema), nil
}

func (r *Registry) referencedBy(ctx context.Context, req *http.Request) (int, any, error) {
	if _, _, err := r.getVersion(ctx, req); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, []int{}, nil
}

func (r *Registry) lookup(_ context.Context, req *http.Request) (int, any, error) {
	name := req.PathValue("subject")
	var body registry.RegisterRequest
	if err := readBody(req, &body); err != nil {
		return 0, nil, err
	}
	s := r.st.subjects[name]
	deleted := flag(req, "deleted")
	if s == nil || len(s.live()) == 0 && !deleted {
		return 0, nil, subjectNotFound(name)
	}
	norm, _, err := parseSchema(&body)
	if err != nil {
		return 0, nil, err
	}
	id, ok := r.st.idByNorm[norm]
	if ok {
		for i := len(s.versions) - 1; i >= 0; i-- {
			v := s.versions[i]
			if v.ID == id && (!v.Deleted || deleted) {
				return http.StatusOK, r.subjectSchema(name, v), nil
			}
		}
	}
	return 0, nil, schemaNotFound("Schema not found")
}

func (r *Registry) register(ctx context.Context, req *http.Request) (int, any, error) {
	name := req.PathValue("subject")
	var body registry.RegisterRequest
	if err := readBody(req, &body); err != nil {
		return 0, nil, err
	}
	norm, parsed, err := parseSchema(&body)
	if err != nil {
		return 0, nil, err
	}
	if r.st.mode == "READONLY" {
		return 0, nil, apiError(http.StatusUnprocessableEntity, registry.CodeOperationNotPermitted, "Subject %s is in read-only mode", name)
	}
	s := r.st.subjects[name]
	id, known := r.st.idByNorm[norm]
	if s != nil && known {
		for _, v := range s.live() {
			if v.ID == id {
				return http.StatusOK, map[string]int{"id": id}, nil
			}
		}
	}
	if s != nil {
		var existing []*avroschema.Schema
		for _, v := range s.live() {
			existing = append(existing, r.st.parsed[v.ID])
		}
		level := r.st.level(name)
		if msgs := compat.Check(level, parsed, existing); len(msgs) > 0 {
			return 0, nil, apiError(http.StatusConflict, registry.CodeIncompatible,
				"Schema being registered is incompatible with an earlier schema for subject \"%s\" (compatibility %s), details: [%s]",
				name, level, strings.Join(msgs, "; "))
		}
	}
	if !known {
		id = r.st.nextID
		st := &storedSchema{Schema: norm, References: body.References}
		if err := r.put(ctx, r.key("schemas", strconv.Itoa(id)), st); err != nil {
			return 0, nil, err
		}
		r.st.nextID++
		r.st.schemas[id], r.st.parsed[id], r.st.idByNorm[norm] = st, parsed, id
	}
	next := 1
	if s != nil && len(s.versions) > 0 {
		next = s.versions[len(s.versions)-1].Version + 1
	}
	if err := r.put(ctx, r.key("subjects", escape(name), strconv.Itoa(next)), storedVersion{ID: id}); err != nil {
		return 0, nil, err
	}
	if s == nil {
		s = &subject{}
		r.st.subjects[name] = s
	}
	s.versions = append(s.versions, &version{Version: next, ID: id})
	return http.StatusOK, map[string]int{"id": id}, nil
}

func (r *Registry) deleteSubject(ctx context.Context, req *http.Request) (int, any, error) {
	name := req.PathValue("subject")
	s := r.st.subjects[name]
	if s == nil || len(s.versions) == 0 {
		return 0, nil, subjectNotFound(name)
	}
	permanent := flag(req, "permanent")
	out := []int{}
	if !permanent {
		live := s.live()
		if len(live) == 0 {
			return 0, nil, apiError(http.StatusNotFound, registry.CodeSubjectSoftDeleted,
				"Subject '%s' was soft deleted. Set permanent=true to delete permanently", name)
		}
		for _, v := range live {
			if err := r.put(ctx, r.key("subjects", escape(name), strconv.Itoa(v.Version)), storedVersion{ID: v.ID, Deleted: true}); err != nil {
				return 0, nil, err
			}
			v.Deleted = true
			out = append(out, v.Version)
		}
		return http.StatusOK, out, nil
	}
	if len(s.live()) > 0 {
		return 0, nil, apiError(http.StatusNotFound, registry.CodeSubjectNotSoftDeleted,
			"Subject '%s' was not deleted first before being permanently deleted", name)
	}
	for len(s.versions) > 0 {
		v := s.versions[0]
		if err := r.store.Delete(ctx, r.key("subjects", escape(name), strconv.Itoa(v.Version))); err != nil {
			return 0, nil, fmt.Errorf("deleting subject %q version %d: %w", name, v.Version, err)
		}
		s.versions = s.versions[1:]
		out = append(out, v.Version)
	}
	delete(r.st.subjects, name)
	return http.StatusOK, out, nil
}

func (r *Registry) deleteVersion(ctx context.Context, req *http.Request) (int, any, error) {
	n, err := parseVersion(req)
	if err != nil {
		return 0, nil, err
	}
	name := req.PathValue("subject")
	permanent := flag(req, "permanent")
	v, err := r.resolveVersion(name, n, permanent)
	if err != nil {
		return 0, nil, err
	}
	key := r.key("subjects", escape(name), strconv.Itoa(v.Version))
	if !permanent {
		if err := r.put(ctx, key, storedVersion{ID: v.ID, Deleted: true}); err != nil {
			return 0, nil, err
		}
		v.Deleted = true
		return http.StatusOK, v.Version, nil
	}
	if !v.Deleted {
		return 0, nil, apiError(http.StatusNotFound, registry.CodeVersionNotSoftDeleted,
			"Subject '%s' Version %d was not deleted first before being permanently deleted", name, v.Version)
	}
	if err := r.store.Delete(ctx, key); err != nil {
		return 0, nil, fmt.Errorf("deleting subject %q version %d: %w", name, v.Version, err)
	}
	s := r.st.subjects[name]
	for i, x := range s.versions {
		if x == v {
			s.versions = append(s.versions[:i], s.versions[i+1:]...)
			break
		}
	}
	if len(s.versions) == 0 {
		delete(r.st.subjects, name)
	}
	return http.StatusOK, v.Version, nil
}

func (r *Registry) schemaID(req *http.Request) (int, *storedSchema, error) {
	id, err := strconv.Atoi(req.PathValue("id"))
	if err != nil {
		return 0, nil, schemaNotFound("Schema %s not found", req.PathValue("id"))
	}
	s, ok := r.st.schemas[id]
	if !ok {
		return 0, nil, schemaNotFound("Schema %d not found", id)
	}
	return id, s, nil
}

func (r *Registry) schemaByID(_ context.Context, req *http.Request) (int, any, error) {
	_, s, err := r.schemaID(req)
	if err != nil {
		return 0, nil, err
	}
	out := registry.SchemaByIDResponse{Schema: s.Schema, References: s.References}
	return http.StatusOK, out, nil
}

func (r *Registry) rawSchemaByID(_ context.Context, req *http.Request) (int, any, error) {
	_, s, err := r.schemaID(req)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, json.RawMessage(s.Schema), nil
}

type subjectVersion struct {
	Subject string `json:"subject"`
	Version int    `json:"version"`
}

func (r *Registry) usesOf(id int, deleted bool) []subjectVersion {
	out := []subjectVersion{}
	for name, s := range r.st.subjects {
		for _, v := range s.versions {
			if v.ID == id && (!v.Deleted || deleted) {
				out = append(out, subjectVersion{name, v.Version})
			}
		}
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].Subject != out[b].Subject {
			return out[a].Subject < out[b].Subject
		}
		return out[a].Version < out[b].Version
	})
	return out
}

func (r *Registry) idVersions(_ context.Context, req *http.Request) (int, any, error) {
	id, _, err := r.schemaID(req)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, r.usesOf(id, flag(req, "deleted")), nil
}

func (r *Registry) idSubjects(_ context.Context, req *http.Request) (int, any, error) {
	id, _, err := r.schemaID(req)
	if err != nil {
		return 0, nil, err
	}
	out := []string{}
	for _, u := range r.usesOf(id, flag(req, "deleted")) {
		if len(out) == 0 || out[len(out)-1] != u.Subject {
			out = append(out, u.Subject)
		}
	}
	return http.StatusOK, out, nil
}

func (r *Registry) compatibility(_ context.Context, req *http.Request) (int, any, error) {
	name := req.PathValue("subject")
	var body registry.RegisterRequest
	if err := readBody(req, &body); err != nil {
		return 0, nil, err
	}
	_, parsed, err := parseSchema(&body)
	if err != nil {
		return 0, nil, err
	}
	level := r.st.level(name)
	var against []*avroschema.Schema
	if req.PathValue("version") != "" {
		n, err := parseVersion(req)
		if err != nil {
			return 0, nil, err
		}
		if s := r.st.subjects[name]; n == 0 && (s == nil || len(s.live()) == 0) {
			return http.StatusOK, registry.CompatibilityResponse{IsCompatible: true}, nil
		}
		v, err := r.resolveVersion(name, n, false)
		if err != nil {
			return 0, nil, err
		}
		against = []*avroschema.Schema{r.st.parsed[v.ID]}
	} else if s := r.st.subjects[name]; s != nil {
		for _, v := range s.live() {
			against = append(against, r.st.parsed[v.ID])
		}
	}
	if !level.Transitive() && req.PathValue("version") == "" && len(against) > 0 {
		// Checking against all versions: treat the level as transitive.
		level += "_TRANSITIVE"
	}
	msgs := compat.Check(level, parsed, against)
	out := registry.CompatibilityResponse{IsCompatible: len(msgs) == 0}
	if flag(req, "verbose") {
		out.Messages = msgs
	}
	return http.StatusOK, out, nil
}

func (r *Registry) getConfig(_ context.Context, req *http.Request) (int, any, error) {
	name := req.PathValue("subject")
	if name == "" {
		return http.StatusOK, registry.ConfigResponse{CompatibilityLevel: r.st.global}, nil
	}
	if l, ok := r.st.subjectCfg[name]; ok {
		return http.StatusOK, registry.ConfigResponse{CompatibilityLevel: l}, nil
	}
	if flag(req, "defaultToGlobal") {
		return http.StatusOK, registry.ConfigResponse{CompatibilityLevel: r.st.global}, nil
	}
	return 0, nil, apiError(http.StatusNotFound, registry.CodeSubjectConfigNotFound,
		"Subject '%s' does not have subject-level compatibility configured", name)
}

func (r *Registry) putConfig(ctx context.Context, req *http.Request) (int, any, error) {
	var body registry.ConfigRequest
	if err := readBody(req, &body); err != nil {
		return 0, nil, err
	}
	level, err := registry.ParseLevel(string(body.Compatibility))
	if err != nil {
		return 0, nil, apiError(http.StatusUnprocessableEntity, registry.CodeInvalidCompatibility, "Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive")
	}
	name := req.PathValue("subject")
	key := r.key("config")
	if name != "" {
		key = r.key("config", escape(name))
	}
	if err := r.put(ctx, key, registry.ConfigResponse{CompatibilityLevel: level}); err != nil {
		return 0, nil, err
	}
	if name == "" {
		r.st.global = level
	} else {
		r.st.subjectCfg[name] = level
	}
	return http.StatusOK, registry.ConfigRequest{Compatibility: level}, nil
}

func (r *Registry) deleteConfig(ctx context.Context, req *http.Request) (int, any, error) {
	name := req.PathValue("subject")
	if name == "" {
		prev := r.st.global
		if err := r.store.Delete(ctx, r.key("config")); err != nil {
			return 0, nil, fmt.Errorf("deleting global config: %w", err)
		}
		r.st.global = registry.DefaultLevel
		return http.StatusOK, registry.ConfigResponse{CompatibilityLevel: prev}, nil
	}
	prev, ok := r.st.subjectCfg[name]
	if !ok {
		return 0, nil, apiError(http.StatusNotFound, registry.CodeSubjectConfigNotFound,
			"Subject '%s' does not have subject-level compatibility configured", name)
	}
	if err := r.store.Delete(ctx, r.key("config", escape(name))); err != nil {
		return 0, nil, fmt.Errorf("deleting config of subject %q: %w", name, err)
	}
	delete(r.st.subjectCfg, name)
	return http.StatusOK, registry.ConfigResponse{CompatibilityLevel: prev}, nil
}

func (r *Registry) getMode(context.Context, *http.Request) (int, any, error) {
	return http.StatusOK, registry.ModeResponse{Mode: r.st.mode}, nil
}

func (r *Registry) putMode(ctx context.Context, req *http.Request) (int, any, error) {
	var body registry.ModeResponse
	if err := readBody(req, &body); err != nil {
		return 0, nil, err
	}
	mode := strings.ToUpper(body.Mode)
	if mode != "READWRITE" && mode != "READONLY" {
		return 0, nil, apiError(http.StatusUnprocessableEntity, registry.CodeInvalidMode, "Invalid mode %q: this registry supports READWRITE and READONLY", body.Mode)
	}
	if err := r.put(ctx, r.key("mode"), registry.ModeResponse{Mode: mode}); err != nil {
		return 0, nil, err
	}
	r.st.mode = mode
	return http.StatusOK, registry.ModeResponse{Mode: mode}, nil
}
