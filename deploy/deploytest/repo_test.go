package deploytest

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/binlake/binlake/api"
	"github.com/binlake/binlake/internal/metrics"
)

// root is the repository root, relative to this package's directory (where
// go test runs).
const root = "../.."

func repoPath(parts ...string) string { return filepath.Join(append([]string{root}, parts...)...) }

func readRepoFile(t *testing.T, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(repoPath(parts...))
	if err != nil {
		t.Fatalf("reading %s: %v", filepath.Join(parts...), err)
	}
	return b
}

// metricKind is a Prometheus metric type.
type metricKind string

const (
	kindCounter   metricKind = "counter"
	kindGauge     metricKind = "gauge"
	kindHistogram metricKind = "histogram"
	kindSummary   metricKind = "summary"
	kindUntyped   metricKind = "untyped"
)

// metricInfo is what the checks need to know of one metric family.
type metricInfo struct {
	kind   metricKind
	labels []string
}

// constructors maps prometheus constructors to the kind they make.
var constructors = map[string]metricKind{
	"NewCounterVec": kindCounter, "NewCounter": kindCounter,
	"NewGaugeVec": kindGauge, "NewGauge": kindGauge,
	"NewHistogramVec": kindHistogram, "NewHistogram": kindHistogram,
	"NewSummaryVec": kindSummary, "NewSummary": kindSummary,
}

// parseMetricsSource reads the metric definitions of internal/metrics from
// its source: name (Opts.Name), kind (constructor) and label names.
func parseMetricsSource(t *testing.T) map[string]metricInfo {
	t.Helper()
	fset := token.NewFileSet()
	dir := repoPath("internal", "metrics")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("reading internal/metrics: %v", err)
	}
	out := map[string]metricInfo{}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, 0)
		if err != nil {
			t.Fatalf("parsing %s: %v", e.Name(), err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			kind, ok := constructors[sel.Sel.Name]
			if !ok || len(call.Args) == 0 {
				return true
			}
			opts, ok := call.Args[0].(*ast.CompositeLit)
			if !ok {
				return true
			}
			var name string
			for _, el := range opts.Elts {
				kv, ok := el.(*ast.KeyValueExpr)
				if !ok {
					continue
				}
				if id, ok := kv.Key.(*ast.Ident); ok && id.Name == "Name" {
					name = stringLit(kv.Value)
				}
			}
			if name == "" {
				t.Errorf("%s: %s call without a literal Name", fset.Position(call.Pos()), sel.Sel.Name)
				return true
			}
			var labels []string
			if len(call.Args) > 1 {
				if lit, ok := call.Args[1].(*ast.CompositeLit); ok {
					for _, el := range lit.Elts {
						labels = append(labels, stringLit(el))
					}
				}
			}
			out[name] = metricInfo{kind: kind, labels: labels}
			return true
		})
	}
	if len(out) == 0 {
		t.Fatal("found no metric definitions in internal/metrics")
	}
	return out
}

// stringLit returns the value of a string literal expression, or "".
func stringLit(e ast.Expr) string {
	if bl, ok := e.(*ast.BasicLit); ok && bl.Kind == token.STRING {
		if s, err := strconv.Unquote(bl.Value); err == nil {
			return s
		}
	}
	return ""
}

// registered reports whether metrics.Registry already holds a collector
// describing a metric of this name: registering another one must fail.
func registered(name string) bool {
	c := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: "probe"})
	if err := metrics.Registry.Register(c); err != nil {
		return true
	}
	metrics.Registry.Unregister(c)
	return false
}

var (
	catalogOnce sync.Once
	catalog     map[string]metricInfo
	catalogErr  error
)

// metricCatalog returns every metric family binlake's /metrics serves: the
// definitions in internal/metrics (each checked to be registered on
// metrics.Registry) and the families the registry gathers now (the Go and
// process collectors).
func metricCatalog(t *testing.T) map[string]metricInfo {
	t.Helper()
	catalogOnce.Do(func() {
		src := parseMetricsSource(t)
		out := map[string]metricInfo{}
		var missing []string
		for name, mi := range src {
			if !registered(name) {
				missing = append(missing, name)
			}
			out[name] = mi
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			catalogErr = errors.New("defined in internal/metrics but not registered on metrics.Registry: " + strings.Join(missing, ", "))
			return
		}
		fams, err := metrics.Registry.Gather()
		if err != nil {
			catalogErr = err
			return
		}
		for _, f := range fams {
			if _, ok := out[f.GetName()]; ok {
				continue
			}
			mi := metricInfo{kind: dtoKind(f.GetType())}
			if ms := f.GetMetric(); len(ms) > 0 {
				for _, lp := range ms[0].GetLabel() {
					mi.labels = append(mi.labels, lp.GetName())
				}
			}
			out[f.GetName()] = mi
		}
		catalog = out
	})
	if catalogErr != nil {
		t.Fatal(catalogErr)
	}
	return catalog
}

func dtoKind(t dto.MetricType) metricKind {
	switch t {
	case dto.MetricType_COUNTER:
		return kindCounter
	case dto.MetricType_GAUGE:
		return kindGauge
	case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
		return kindHistogram
	case dto.MetricType_SUMMARY:
		return kindSummary
	default:
		return kindUntyped
	}
}

// workerFlag is one flag of `binlake worker`, read from cmd/binlake/flags.go.
type workerFlag struct {
	name, def string // def is "" when the default is not a string literal
}

// envName mirrors cmd/binlake's envName: BINLAKE_ + the flag name
// upper-cased with '.' and '-' turned into '_'. TestEnvNameRule checks the
// rule against the comment in flags.go.
func envName(flag string) string {
	return "BINLAKE_" + strings.NewReplacer(".", "_", "-", "_").Replace(strings.ToUpper(flag))
}

// workerFlags parses the fs.XxxVar(&field, "name", default, "usage") calls
// of cmd/binlake/flags.go.
func workerFlags(t *testing.T) []workerFlag {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, repoPath("cmd", "binlake", "flags.go"), nil, 0)
	if err != nil {
		t.Fatalf("parsing cmd/binlake/flags.go: %v", err)
	}
	var out []workerFlag
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || !strings.HasSuffix(sel.Sel.Name, "Var") || len(call.Args) != 4 {
			return true
		}
		if x, ok := sel.X.(*ast.Ident); !ok || x.Name != "fs" {
			return true
		}
		name := stringLit(call.Args[1])
		if name == "" {
			t.Errorf("%s: flag without a literal name", fset.Position(call.Pos()))
			return true
		}
		out = append(out, workerFlag{name: name, def: stringLit(call.Args[2])})
		return true
	})
	if len(out) < 5 {
		t.Fatalf("found only %d flags in cmd/binlake/flags.go; did the flag definitions change shape?", len(out))
	}
	return out
}

func TestEnvNameRule(t *testing.T) {
	src := string(readRepoFile(t, "cmd", "binlake", "flags.go"))
	// The documented example of the rule must hold for our copy of it.
	if !strings.Contains(src, "(rest.addr -> BINLAKE_REST_ADDR)") {
		t.Fatal("cmd/binlake/flags.go no longer documents the env rule as (rest.addr -> BINLAKE_REST_ADDR); re-check envName here")
	}
	if !strings.Contains(src, `strings.NewReplacer(".", "_", "-", "_").Replace(strings.ToUpper(flagName))`) {
		t.Fatal("cmd/binlake/flags.go changed its env name rule; update envName in this package")
	}
	if got := envName("producer.max-inflight-bytes"); got != "BINLAKE_PRODUCER_MAX_INFLIGHT_BYTES" {
		t.Fatalf("envName = %s", got)
	}
}

// routeSet is the REST API's routes: OpenAPI path -> methods.
type routeSet map[string]map[string]bool

// apiRoutes returns the routes the REST server serves, from its OpenAPI
// document (generated from the same table as the gin routes).
func apiRoutes(t *testing.T) routeSet {
	t.Helper()
	srv := api.New(api.Options{SchemaRegistry: http.NotFoundHandler()})
	paths, ok := srv.Document()["paths"].(map[string]map[string]any)
	if !ok {
		t.Fatalf("OpenAPI paths have type %T", srv.Document()["paths"])
	}
	out := routeSet{}
	for p, ops := range paths {
		out[p] = map[string]bool{}
		for m := range ops {
			out[p][strings.ToUpper(m)] = true
		}
	}
	return out
}

// match reports whether method and a concrete path (e.g.
// /connectors/shop/status) are served, and the route template that matched.
func (rs routeSet) match(method, path string) (string, bool) {
	segs := strings.Split(strings.TrimSuffix(path, "/"), "/")
	for tmpl, methods := range rs {
		if !methods[method] {
			continue
		}
		ts := strings.Split(tmpl, "/")
		if routeMatches(ts, segs) {
			return tmpl, true
		}
	}
	return "", false
}

func routeMatches(tmpl, segs []string) bool {
	for i, ts := range tmpl {
		if i >= len(segs) {
			return false
		}
		if strings.HasPrefix(ts, "{") {
			if segs[i] == "" {
				return false
			}
			if ts == "{path}" { // the catch-all of /schema-registry/*path
				return true
			}
			continue
		}
		if ts != segs[i] {
			return false
		}
	}
	return len(tmpl) == len(segs)
}

func TestRouteMatching(t *testing.T) {
	rs := apiRoutes(t)
	for _, c := range []struct {
		method, path string
		ok           bool
	}{
		{"GET", "/connectors/shop/status", true},
		{"POST", "/connectors/shop/tasks/0/restart", true},
		{"DELETE", "/connectors/shop", true},
		{"GET", "/schema-registry/subjects/x/versions", true},
		{"GET", "/healthz", true},
		{"POST", "/healthz", false},
		{"GET", "/connectors/shop/nope", false},
		{"GET", "/connectors/shop/status/extra", false},
	} {
		if _, ok := rs.match(c.method, c.path); ok != c.ok {
			t.Errorf("match(%s %s) = %v, want %v", c.method, c.path, ok, c.ok)
		}
	}
}

// goStringLiterals returns every string literal of the repository's non-test
// Go sources, with literal concatenations ("a " + "b") folded.
func goStringLiterals(t *testing.T) []string {
	t.Helper()
	var out []string
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "testdata", "vendor", "node_modules", ".git":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch e := n.(type) {
			case *ast.BasicLit:
				if s := stringLit(e); s != "" {
					out = append(out, s)
				}
			case *ast.BinaryExpr:
				if s, ok := foldString(e); ok {
					out = append(out, s)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatalf("reading Go sources: %v", err)
	}
	return out
}

// foldString evaluates a concatenation of string literals.
func foldString(e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(e.Value)
		return s, err == nil
	case *ast.ParenExpr:
		return foldString(e.X)
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return "", false
		}
		a, ok := foldString(e.X)
		if !ok {
			return "", false
		}
		b, ok := foldString(e.Y)
		return a + b, ok
	}
	return "", false
}
