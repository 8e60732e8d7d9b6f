package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/spec"
	"github.com/binlake/binlake/connect/transform"
	"github.com/binlake/binlake/connect/worker"
)

// ConnectorInfo is a connector's config (redacted) and tasks.
type ConnectorInfo struct {
	Name   string          `json:"name"`
	Config connect.Config  `json:"config"`
	Tasks  []worker.TaskID `json:"tasks"`
	Type   string          `json:"type"`
}

// readBody reads a bounded request body.
func readBody(c *gin.Context) ([]byte, bool) {
	b, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			abort(c, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", MaxBodyBytes), nil)
			return nil, false
		}
		abort(c, http.StatusBadRequest, "reading request body: "+err.Error(), nil)
		return nil, false
	}
	return b, true
}

// readConfig parses a config body, answering 400 itself when it is bad.
func readConfig(c *gin.Context) (connect.Config, string, bool) {
	b, ok := readBody(c)
	if !ok {
		return nil, "", false
	}
	cfg, name, ferrs, err := ParseConfig(b)
	if err != nil {
		abort(c, http.StatusBadRequest, err.Error(), nil)
		return nil, "", false
	}
	if len(ferrs) > 0 {
		abort(c, http.StatusBadRequest, "invalid connector config", ferrs)
		return nil, "", false
	}
	return cfg, name, true
}

func (s *Server) connectorInfo(name string) (*ConnectorInfo, error) {
	cfg, err := s.opts.Worker.Config(name)
	if err != nil {
		return nil, err
	}
	tasks, err := s.opts.Worker.Tasks(name)
	if err != nil {
		return nil, err
	}
	info := &ConnectorInfo{Name: name, Config: cfg, Tasks: []worker.TaskID{}, Type: "unknown"}
	for _, t := range tasks {
		info.Tasks = append(info.Tasks, t.ID)
	}
	if p, ok := s.opts.Worker.Plugin(cfg[spec.ConnectorClass]); ok {
		info.Type = string(p.Kind)
	}
	return info, nil
}

func (s *Server) listConnectors() gin.HandlerFunc {
	return func(c *gin.Context) {
		names := s.opts.Worker.Connectors()
		expand := c.QueryArray("expand")
		if len(expand) == 0 {
			c.JSON(http.StatusOK, names)
			return
		}
		out := map[string]map[string]any{}
		for _, n := range names {
			entry := map[string]any{}
			for _, x := range expand {
				switch x {
				case "status":
					st, err := s.opts.Worker.Status(n)
					if err != nil {
						continue // deleted meanwhile
					}
					entry["status"] = st
				case "info":
					info, err := s.connectorInfo(n)
					if err != nil {
						continue // deleted meanwhile
					}
					entry["info"] = info
				default:
					abort(c, http.StatusBadRequest, fmt.Sprintf("unknown expand value %q (status or info)", x), nil)
					return
				}
			}
			out[n] = entry
		}
		c.JSON(http.StatusOK, out)
	}
}

func (s *Server) createWith(c *gin.Context, name string, cfg connect.Config) {
	if err := s.opts.Worker.Create(name, cfg); err != nil {
		fail(c, err)
		return
	}
	info, err := s.connectorInfo(name)
	if err != nil {
		fail(c, err)
		return
	}
	c.Header("Location", "/connectors/"+name)
	c.JSON(http.StatusCreated, info)
}

func (s *Server) create() gin.HandlerFunc {
	return func(c *gin.Context) {
		cfg, wrapped, ok := readConfig(c)
		if !ok {
			return
		}
		name := c.Param("name")
		if wrapped != "" && wrapped != name {
			abort(c, http.StatusBadRequest, "invalid connector config",
				[]spec.FieldError{{Field: "name", Message: fmt.Sprintf("name %q does not match the route's %q", wrapped, name)}})
			return
		}
		s.createWith(c, name, cfg)
	}
}

func (s *Server) createWrapped() gin.HandlerFunc {
	return func(c *gin.Context) {
		cfg, name, ok := readConfig(c)
		if !ok {
			return
		}
		if name == "" {
			name = cfg[spec.Name]
		}
		if name == "" {
			abort(c, http.StatusBadRequest, "invalid connector config",
				[]spec.FieldError{{Field: "name", Message: "required: give {\"name\": ..., \"config\": {...}}"}})
			return
		}
		s.createWith(c, name, cfg)
	}
}

func (s *Server) info() gin.HandlerFunc { return byName(s.connectorInfo) }

func (s *Server) getConfig() gin.HandlerFunc { return byName(s.opts.Worker.Config) }

func (s *Server) putConfig() gin.HandlerFunc {
	return func(c *gin.Context) {
		cfg, wrapped, ok := readConfig(c)
		if !ok {
			return
		}
		name := c.Param("name")
		if wrapped != "" && wrapped != name {
			abort(c, http.StatusBadRequest, "invalid connector config",
				[]spec.FieldError{{Field: "name", Message: fmt.Sprintf("name %q does not match the route's %q", wrapped, name)}})
			return
		}
		created, err := s.opts.Worker.PutConfig(name, cfg)
		if err != nil {
			fail(c, err)
			return
		}
		info, err := s.connectorInfo(name)
		if err != nil {
			fail(c, err)
			return
		}
		code := http.StatusOK
		if created {
			code = http.StatusCreated
		}
		c.JSON(code, info)
	}
}

func (s *Server) delete() gin.HandlerFunc {
	return func(c *gin.Context) {
		purge := false
		if v := c.Query("purge"); v != "" {
			var err error
			if purge, err = strconv.ParseBool(v); err != nil {
				abort(c, http.StatusBadRequest, fmt.Sprintf("purge=%q is not a boolean", v), nil)
				return
			}
		}
		if err := s.opts.Worker.Delete(c.Request.Context(), c.Param("name"), purge); err != nil {
			fail(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	}
}

func (s *Server) status() gin.HandlerFunc { return byName(s.opts.Worker.Status) }

func lifecycle(a worker.Action) func(*Server) gin.HandlerFunc {
	return func(s *Server) gin.HandlerFunc {
		do := map[worker.Action]func(string) error{
			worker.ActPause: s.opts.Worker.Pause, worker.ActResume: s.opts.Worker.Resume,
			worker.ActStop: s.opts.Worker.Stop, worker.ActRestart: s.opts.Worker.Restart,
		}[a]
		return func(c *gin.Context) {
			name := c.Param("name")
			if err := do(name); err != nil {
				fail(c, err)
				return
			}
			st, err := s.opts.Worker.Status(name)
			if err != nil {
				fail(c, err)
				return
			}
			c.JSON(http.StatusAccepted, st)
		}
	}
}

func (s *Server) tasks() gin.HandlerFunc { return byName(s.opts.Worker.Tasks) }

func taskID(c *gin.Context) (int, bool) {
	id, err := strconv.Atoi(c.Param("id"))
	if err != nil || id < 0 {
		abort(c, http.StatusBadRequest, fmt.Sprintf("task id %q is not a non-negative integer", c.Param("id")), nil)
		return 0, false
	}
	return id, true
}

func (s *Server) taskStatus() gin.HandlerFunc {
	return func(c *gin.Context) {
		id, ok := taskID(c)
		if !ok {
			return
		}
		st, err := s.opts.Worker.TaskStatus(c.Param("name"), id)
		if err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusOK, st)
	}
}

func (s *Server) restartTask() gin.HandlerFunc {
	return func(c *gin.Context) {
		id, ok := taskID(c)
		if !ok {
			return
		}
		if err := s.opts.Worker.RestartTask(c.Param("name"), id); err != nil {
			fail(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	}
}

func (s *Server) offsets() gin.HandlerFunc {
	return func(c *gin.Context) {
		off, err := s.opts.Worker.Offsets(c.Request.Context(), c.Param("name"))
		if err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusOK, off)
	}
}

// SnapshotRequest lists the tables ("db.table") to snapshot.
type SnapshotRequest struct {
	Tables []string `json:"tables"`
}

func (s *Server) snapshot() gin.HandlerFunc {
	return func(c *gin.Context) {
		b, ok := readBody(c)
		if !ok {
			return
		}
		var req SnapshotRequest
		if err := strictUnmarshal(b, &req); err != nil {
			abort(c, http.StatusBadRequest, err.Error(), nil)
			return
		}
		var ferrs []spec.FieldError
		if len(req.Tables) == 0 {
			ferrs = append(ferrs, spec.FieldError{Field: "tables", Message: "list at least one table as \"db.table\""})
		}
		for _, t := range req.Tables {
			if db, tbl, ok := strings.Cut(t, "."); !ok || db == "" || tbl == "" {
				ferrs = append(ferrs, spec.FieldError{Field: "tables", Message: fmt.Sprintf("%q is not of the form db.table", t)})
			}
		}
		if len(ferrs) > 0 {
			abort(c, http.StatusBadRequest, "invalid snapshot request", ferrs)
			return
		}
		if err := s.opts.Worker.Snapshot(c.Request.Context(), c.Param("name"), req.Tables); err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusAccepted, req)
	}
}

// PluginInfo describes an installed plugin (Kafka Connect's shape plus doc).
type PluginInfo struct {
	Class string `json:"class"`
	Type  string `json:"type"`
	Doc   string `json:"doc"`
}

// TransformationType is the PluginInfo.Type of transform types, as Kafka
// Connect names them.
const TransformationType = "transformation"

func (s *Server) plugins() gin.HandlerFunc {
	return func(c *gin.Context) {
		out := []PluginInfo{}
		for _, p := range s.opts.Worker.Plugins() {
			out = append(out, PluginInfo{Class: p.Name, Type: string(p.Kind), Doc: p.Doc})
		}
		// Transform types are listed too (Kafka Connect lists them with
		// ?connectorsOnly=false); ?connectorsOnly=true leaves them out.
		if c.Query("connectorsOnly") != "true" {
			for _, ti := range transform.Types() {
				out = append(out, PluginInfo{Class: ti.Name, Type: TransformationType, Doc: ti.Doc})
			}
		}
		c.JSON(http.StatusOK, out)
	}
}

// transformKeys returns the keys of a transform type (configured under
// transforms.<alias>.), or false when no transform type has that name.
func transformKeys(name string) ([]spec.Key, bool) {
	for _, ti := range transform.Types() {
		if ti.Name == name {
			keys := []spec.Key{{Name: "type", Type: spec.String, Required: true, Doc: "The transform type: " + name + "."}}
			if ti.Spec != nil {
				keys = append(keys, ti.Spec.Keys...)
			}
			return keys, true
		}
	}
	return nil, false
}

func (s *Server) pluginConfig() gin.HandlerFunc {
	return func(c *gin.Context) {
		p, ok := s.opts.Worker.Plugin(c.Param("type"))
		if !ok {
			if keys, ok := transformKeys(c.Param("type")); ok {
				c.JSON(http.StatusOK, keys)
				return
			}
			abort(c, http.StatusNotFound, fmt.Sprintf("plugin %q is not installed", c.Param("type")), nil)
			return
		}
		keys := p.FullSpec().Keys
		if keys == nil {
			keys = []spec.Key{}
		}
		c.JSON(http.StatusOK, keys)
	}
}

// ValidateResult is the answer of the validate route: always 200 for a
// well-formed request, with the field errors and the effective config
// (defaults applied, secrets redacted).
type ValidateResult struct {
	Name       string            `json:"name"`
	ErrorCount int               `json:"error_count"`
	Errors     []spec.FieldError `json:"errors"`
	Config     connect.Config    `json:"config"`
}

func (s *Server) validate() gin.HandlerFunc {
	return func(c *gin.Context) {
		class := c.Param("type")
		p, ok := s.opts.Worker.Plugin(class)
		if !ok {
			abort(c, http.StatusNotFound, fmt.Sprintf("plugin %q is not installed", class), nil)
			return
		}
		cfg, _, ok := readConfig(c)
		if !ok {
			return
		}
		if v, ok := cfg[spec.ConnectorClass]; ok && v != class {
			abort(c, http.StatusBadRequest, "invalid connector config", []spec.FieldError{{Field: spec.ConnectorClass,
				Message: fmt.Sprintf("%q does not match the route's plugin %q", v, class)}})
			return
		}
		cfg[spec.ConnectorClass] = class
		_, withDefaults, ferrs := s.opts.Worker.Validate("", cfg)
		if withDefaults == nil {
			withDefaults = cfg
		}
		if ferrs == nil {
			ferrs = []spec.FieldError{}
		}
		c.JSON(http.StatusOK, ValidateResult{Name: p.Name, ErrorCount: len(ferrs), Errors: ferrs,
			Config: p.FullSpec().Redact(withDefaults)})
	}
}

func (s *Server) metrics() gin.HandlerFunc {
	h := promhttp.HandlerFor(s.opts.Gatherer, promhttp.HandlerOpts{})
	return gin.WrapH(h)
}

// Health is the body of /healthz and /readyz.
type Health struct {
	Status string `json:"status"`
}

func (s *Server) healthz() gin.HandlerFunc {
	return func(c *gin.Context) { c.JSON(http.StatusOK, Health{Status: "ok"}) }
}

func (s *Server) readyz() gin.HandlerFunc {
	return func(c *gin.Context) {
		if !s.opts.Worker.Ready() {
			c.JSON(http.StatusServiceUnavailable, Health{Status: "starting or stopping"})
			return
		}
		c.JSON(http.StatusOK, Health{Status: "ready"})
	}
}

func (s *Server) schemaRegistry() gin.HandlerFunc {
	return gin.WrapH(http.StripPrefix("/schema-registry", s.opts.SchemaRegistry))
}

// byName answers a GET route that reads one thing of the connector named in the path: 200 with it as JSON, or the
// error's status.
func byName[T any](get func(name string) (T, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		v, err := get(c.Param("name"))
		if err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusOK, v)
	}
}
