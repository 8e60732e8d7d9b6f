// Package api is binlake's REST server (gin): the connector management
// routes of ARCHITECTURE.md 3.7 in Kafka Connect's conventions, with JSON
// errors {"error_code", "message"} and field errors on 400, secrets
// redacted in every response, optional bearer-token auth (/metrics may stay
// public for scrapers), the OpenAPI
// document, Prometheus metrics, health and readiness probes, and a mount
// point for the embedded schema registry.
package api

import (
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"net/http/pprof"
	rpprof "runtime/pprof"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/binlake/binlake/connect/worker"
	"github.com/binlake/binlake/internal/metrics"
)

// Options configure the server.
type Options struct {
	// Worker is the worker the routes manage.
	Worker *worker.Worker
	// Token, when set, is required as "Authorization: Bearer <token>" on
	// every route except /healthz and /readyz (and /metrics with
	// PublicMetrics).
	Token string
	// PublicMetrics serves /metrics without the token, so that Prometheus
	// can scrape it through pod annotations. The metrics carry connector
	// names and counts, never configs or data.
	PublicMetrics bool
	// SchemaRegistry, when set, serves /schema-registry/* (the prefix is
	// stripped before it sees the request).
	SchemaRegistry http.Handler
	// Gatherer is what /metrics serves (metrics.Registry when nil).
	Gatherer prometheus.Gatherer
	// Logger logs one line per request (slog.Default when nil).
	Logger *slog.Logger
	// Version is reported by /openapi.json.
	Version string
	// Pprof serves Go's runtime profiles under /debug/pprof/ (behind the
	// token like every other route), for finding where a worker spends
	// its CPU and memory.
	Pprof bool
}

// Server is the REST server's handler.
type Server struct {
	opts   Options
	engine *gin.Engine
}

// route declares one route: the OpenAPI document and the gin routes are
// both generated from the routes table, and a test checks them against
// each other.
type route struct {
	method, path string // gin syntax: /connectors/:name, /x/*path
	summary      string
	body         string // request schema name in components, or ""
	ok           int    // success code
	okSchema     string // success schema name, or "" for no body
	errors       []int  // documented error codes
	handler      func(*Server) gin.HandlerFunc
	query        []string // documented query parameters
}

// New returns the server; it does no I/O.
func New(opts Options) *Server {
	if opts.Gatherer == nil {
		opts.Gatherer = metrics.Registry
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.ContextWithFallback = true
	s := &Server{opts: opts, engine: e}
	e.Use(s.recoverJSON, s.logRequests, s.auth)
	e.NoRoute(func(c *gin.Context) {
		abort(c, http.StatusNotFound, "no route "+c.Request.Method+" "+c.Request.URL.Path, nil)
	})
	e.NoMethod(func(c *gin.Context) {
		abort(c, http.StatusMethodNotAllowed, "method "+c.Request.Method+" not allowed on "+c.Request.URL.Path, nil)
	})
	for _, r := range s.routes() {
		e.Handle(r.method, r.path, r.handler(s))
	}
	return s
}

// ServeHTTP serves a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.engine.ServeHTTP(w, r) }

func (s *Server) recoverJSON(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v)
			}
			s.opts.Logger.Error("panic in request handler", "method", c.Request.Method, "path", c.Request.URL.Path, "panic", v)
			abort(c, http.StatusInternalServerError, "internal error", nil)
		}
	}()
	c.Next()
}

// logRequests logs method, path, status and latency; never bodies or
// headers (they may carry secrets).
func (s *Server) logRequests(c *gin.Context) {
	began := time.Now()
	c.Next()
	s.opts.Logger.Debug("request", "method", c.Request.Method, "path", c.Request.URL.Path, "status", c.Writer.Status(),
		"duration", time.Since(began))
}

func (s *Server) auth(c *gin.Context) {
	if s.opts.Token == "" {
		return
	}
	if s.public(c.Request.URL.Path) {
		return
	}
	h := c.GetHeader("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(s.opts.Token)) != 1 {
		c.Header("WWW-Authenticate", `Bearer realm="binlake"`)
		abort(c, http.StatusUnauthorized, "missing or wrong bearer token", nil)
	}
}

// public reports whether path is served without the token: the probes,
// and /metrics with PublicMetrics.
func (s *Server) public(path string) bool {
	switch path {
	case "/healthz", "/readyz":
		return true
	case "/metrics":
		return s.opts.PublicMetrics
	}
	return false
}

func (s *Server) routes() []route {
	const (
		e400 = http.StatusBadRequest
		e404 = http.StatusNotFound
		e409 = http.StatusConflict
		e500 = http.StatusInternalServerError
	)
	rs := []route{
		{method: "GET", path: "/connectors", summary: "List connector names (?expand=status or ?expand=info for details)",
			ok: 200, okSchema: "ConnectorList", query: []string{"expand"}, handler: (*Server).listConnectors},
		{method: "POST", path: "/connectors", summary: "Create a connector from {\"name\", \"config\"} (Kafka Connect form)",
			body: "CreateRequest", ok: 201, okSchema: "ConnectorInfo", errors: []int{e400, e409, e500}, handler: (*Server).createWrapped},
		{method: "POST", path: "/connectors/:name", summary: "Create a connector from a config object",
			body: "Config", ok: 201, okSchema: "ConnectorInfo", errors: []int{e400, e409, e500}, handler: (*Server).create},
		{method: "GET", path: "/connectors/:name", summary: "A connector's config (secrets redacted) and tasks",
			ok: 200, okSchema: "ConnectorInfo", errors: []int{e404}, handler: (*Server).info},
		{method: "DELETE", path: "/connectors/:name", summary: "Delete a connector; checkpoints are kept unless ?purge=true",
			ok: 204, errors: []int{e400, e404, e500}, query: []string{"purge"}, handler: (*Server).delete},
		{method: "GET", path: "/connectors/:name/config", summary: "A connector's config, secrets redacted",
			ok: 200, okSchema: "Config", errors: []int{e404}, handler: (*Server).getConfig},
		{method: "PUT", path: "/connectors/:name/config", summary: "Replace a connector's config (creates it when absent: 201)",
			body: "Config", ok: 200, okSchema: "ConnectorInfo", errors: []int{e400, e409, e500}, handler: (*Server).putConfig},
		{method: "GET", path: "/connectors/:name/status", summary: "Connector and task states, worker id, last error trace",
			ok: 200, okSchema: "Status", errors: []int{e404}, handler: (*Server).status},
		{method: "GET", path: "/connectors/:name/tasks", summary: "A connector's tasks and their configs (secrets redacted)",
			ok: 200, okSchema: "TaskList", errors: []int{e404}, handler: (*Server).tasks},
		{method: "GET", path: "/connectors/:name/tasks/:id/status", summary: "One task's state",
			ok: 200, okSchema: "TaskStatus", errors: []int{e400, e404}, handler: (*Server).taskStatus},
		{method: "POST", path: "/connectors/:name/tasks/:id/restart", summary: "Restart one task (brings a FAILED task back)",
			ok: 204, errors: []int{e400, e404, e409}, handler: (*Server).restartTask},
		{method: "GET", path: "/connectors/:name/offsets", summary: "Source checkpoints / sink committed positions",
			ok: 200, okSchema: "Offsets", errors: []int{e400, e404, e409, e500}, handler: (*Server).offsets},
		{method: "POST", path: "/connectors/:name/snapshot", summary: "Ad-hoc lock-free (re-)snapshot of the listed tables",
			body: "SnapshotRequest", ok: 202, okSchema: "SnapshotRequest", errors: []int{e400, e404, e409, e500}, handler: (*Server).snapshot},
		{method: "GET", path: "/connector-plugins", summary: "Installed plugins",
			ok: 200, okSchema: "PluginList", handler: (*Server).plugins},
		{method: "GET", path: "/connector-plugins/:type/config", summary: "A plugin's documented config keys",
			ok: 200, okSchema: "KeyList", errors: []int{e404}, handler: (*Server).pluginConfig},
		{method: "PUT", path: "/connector-plugins/:type/config/validate", summary: "Validate a config without creating a connector",
			body: "Config", ok: 200, okSchema: "ValidateResult", errors: []int{e400, e404}, handler: (*Server).validate},
		{method: "GET", path: "/metrics", summary: "Prometheus metrics", ok: 200, okSchema: "text", handler: (*Server).metrics},
		{method: "GET", path: "/healthz", summary: "Liveness", ok: 200, okSchema: "Health", handler: (*Server).healthz},
		{method: "GET", path: "/readyz", summary: "Readiness: 503 until the worker started its connectors",
			ok: 200, okSchema: "Health", errors: []int{http.StatusServiceUnavailable}, handler: (*Server).readyz},
		{method: "GET", path: "/openapi.json", summary: "This OpenAPI document", ok: 200, okSchema: "object", handler: (*Server).openapi},
	}
	for _, a := range []worker.Action{worker.ActPause, worker.ActResume, worker.ActStop, worker.ActRestart} {
		methods := []string{"POST"}
		if a != worker.ActRestart {
			methods = append(methods, "PUT") // Kafka Connect uses PUT for these
		}
		for _, m := range methods {
			rs = append(rs, route{method: m, path: "/connectors/:name/" + string(a), summary: lifecycleSummary[a],
				ok: 202, okSchema: "Status", errors: []int{e404, e409, e500}, handler: lifecycle(a)})
		}
	}
	if s.opts.Pprof {
		rs = append(rs, route{method: "GET", path: "/debug/pprof/*profile", summary: "Go runtime profiles (net/http/pprof; served with --debug.pprof)",
			ok: 200, okSchema: "text", errors: []int{e404}, handler: (*Server).pprof})
	}
	if s.opts.SchemaRegistry != nil {
		for _, m := range []string{"GET", "POST", "PUT", "DELETE"} {
			rs = append(rs, route{method: m, path: "/schema-registry/*path", summary: "Embedded Confluent-compatible schema registry",
				ok: 200, okSchema: "object", errors: []int{e404}, handler: (*Server).schemaRegistry})
		}
	}
	return rs
}

var lifecycleSummary = map[worker.Action]string{
	worker.ActPause:   "Pause a connector's tasks (they stay started, idle)",
	worker.ActResume:  "Resume a paused or stopped connector",
	worker.ActStop:    "Stop a connector's tasks, keeping config and checkpoints (STOPPED)",
	worker.ActRestart: "Restart a connector and its tasks",
}

// Routes returns the routes the gin engine serves (for tests and docs).
func (s *Server) Routes() gin.RoutesInfo { return s.engine.Routes() }

// pprof serves net/http/pprof: the index, cmdline, profile (CPU, ?seconds=),
// symbol, trace and the named profiles (heap, goroutine, allocs, ...).
func (s *Server) pprof() gin.HandlerFunc {
	return func(c *gin.Context) {
		name := strings.TrimPrefix(c.Param("profile"), "/")
		switch name {
		case "":
			pprof.Index(c.Writer, c.Request)
		case "cmdline":
			pprof.Cmdline(c.Writer, c.Request)
		case "profile":
			pprof.Profile(c.Writer, c.Request)
		case "symbol":
			pprof.Symbol(c.Writer, c.Request)
		case "trace":
			pprof.Trace(c.Writer, c.Request)
		default:
			if rpprof.Lookup(name) == nil {
				abort(c, http.StatusNotFound, "no profile "+name, nil)
				return
			}
			pprof.Handler(name).ServeHTTP(c.Writer, c.Request)
		}
	}
}
