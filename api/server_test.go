package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/binlake/binlake/api"
	"github.com/binlake/binlake/connect/spec"
	"github.com/binlake/binlake/connect/testplugin"
	"github.com/binlake/binlake/connect/worker"
)

const secret = "Sup3rSecretPassw0rd"

type client struct {
	t     *testing.T
	srv   *api.Server
	w     *worker.Worker
	token string
}

func newClient(t *testing.T, opts api.Options) *client {
	t.Helper()
	w, err := worker.New(testplugin.WorkerOptions(t.TempDir(), testplugin.NewBroker(2), testplugin.NewMemStore()))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = w.Shutdown(ctx)
	})
	opts.Worker = w
	return &client{t: t, srv: api.New(opts), w: w, token: opts.Token}
}

type resp struct {
	code int
	body []byte
	hdr  http.Header
}

func (r resp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
}

// errorBody decodes and checks an error response's shape.
func (r resp) errorBody(t *testing.T) api.ErrorBody {
	t.Helper()
	var e api.ErrorBody
	r.json(t, &e)
	if e.ErrorCode != r.code || e.Message == "" {
		t.Fatalf("error body %s does not carry code %d and a message", r.body, r.code)
	}
	return e
}

func (c *client) do(method, path, body string) resp {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	rec := httptest.NewRecorder()
	c.srv.ServeHTTP(rec, req)
	b := rec.Body.Bytes()
	if bytes.Contains(b, []byte(secret)) {
		c.t.Errorf("%s %s leaked the secret: %s", method, path, b)
	}
	return resp{code: rec.Code, body: b, hdr: rec.Header()}
}

func (c *client) expect(method, path, body string, code int) resp {
	c.t.Helper()
	r := c.do(method, path, body)
	if r.code != code {
		c.t.Fatalf("%s %s = %d %s, want %d", method, path, r.code, r.body, code)
	}
	return r
}

var seq atomic.Int64

func uniq(s string) string { return fmt.Sprintf("%s-%d", s, seq.Add(1)) }

func sourceBody(extra string) string {
	b := `{"connector.class": "test-source", "value.converter": "json", "test.events": 3, "test.password": "` + secret + `"`
	if extra != "" {
		b += ", " + extra
	}
	return b + "}"
}

func (c *client) waitTaskState(name string, want worker.State) {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var st worker.Status
		c.expect("GET", "/connectors/"+name+"/status", "", 200).json(c.t, &st)
		if len(st.Tasks) > 0 && st.Tasks[0].State == want {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s: task never reached %s: %+v", name, want, st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func fields(e api.ErrorBody) string {
	var f []string
	for _, x := range e.Errors {
		f = append(f, x.Field)
	}
	sort.Strings(f)
	return strings.Join(f, ",")
}

func TestCreateAndRead(t *testing.T) {
	c := newClient(t, api.Options{})
	n := uniq("src")
	r := c.expect("POST", "/connectors/"+n, sourceBody(""), 201)
	var info api.ConnectorInfo
	r.json(t, &info)
	if info.Name != n || info.Type != "source" || info.Config["test.password"] != spec.Redacted || info.Config["test.events"] != "3" {
		t.Errorf("create response = %+v", info)
	}
	if r.hdr.Get("Location") != "/connectors/"+n {
		t.Errorf("Location = %q", r.hdr.Get("Location"))
	}
	c.expect("POST", "/connectors/"+n, sourceBody(""), 409).errorBody(t)

	var cfg map[string]string
	c.expect("GET", "/connectors/"+n+"/config", "", 200).json(t, &cfg)
	if cfg["test.password"] != spec.Redacted || cfg["connector.class"] != "test-source" || cfg["name"] != n {
		t.Errorf("config = %v", cfg)
	}
	c.expect("GET", "/connectors/"+n, "", 200).json(t, &info)
	c.waitTaskState(n, worker.Running)
	c.expect("GET", "/connectors/"+n, "", 200).json(t, &info)
	if len(info.Tasks) != 1 || info.Tasks[0].Connector != n {
		t.Errorf("info tasks = %+v", info.Tasks)
	}

	var names []string
	c.expect("GET", "/connectors", "", 200).json(t, &names)
	if len(names) != 1 || names[0] != n {
		t.Errorf("names = %v", names)
	}
	var expanded map[string]map[string]json.RawMessage
	c.expect("GET", "/connectors?expand=status&expand=info", "", 200).json(t, &expanded)
	if _, ok := expanded[n]["status"]; !ok {
		t.Errorf("expand=status lacks status: %v", expanded)
	}
	if _, ok := expanded[n]["info"]; !ok {
		t.Errorf("expand=info lacks info: %v", expanded)
	}
	c.expect("GET", "/connectors?expand=bogus", "", 400).errorBody(t)

	var tasks []worker.TaskInfo
	c.expect("GET", "/connectors/"+n+"/tasks", "", 200).json(t, &tasks)
	if len(tasks) != 1 || tasks[0].Config["test.password"] != spec.Redacted {
		t.Errorf("tasks = %+v", tasks)
	}
	var ts worker.TaskStatus
	c.expect("GET", "/connectors/"+n+"/tasks/0/status", "", 200).json(t, &ts)
	if ts.State != worker.Running || ts.WorkerID != "test-worker" {
		t.Errorf("task status = %+v", ts)
	}
	c.expect("GET", "/connectors/"+n+"/tasks/5/status", "", 404).errorBody(t)
	c.expect("GET", "/connectors/"+n+"/tasks/x/status", "", 400).errorBody(t)
	c.expect("GET", "/connectors/"+n+"/tasks/-1/status", "", 400).errorBody(t)

	// Kafka Connect's wrapped create.
	n2 := uniq("wrapped")
	c.expect("POST", "/connectors", `{"name": "`+n2+`", "config": `+sourceBody("")+`}`, 201)
	c.expect("POST", "/connectors", `{"config": `+sourceBody("")+`}`, 400).errorBody(t)
	c.expect("POST", "/connectors/"+uniq("x"), `{"name": "other", "config": `+sourceBody("")+`}`, 400).errorBody(t)
}

func TestCreateErrors(t *testing.T) {
	c := newClient(t, api.Options{})
	tests := []struct {
		name, path, body string
		code             int
		fields           string
	}{
		{"malformed json", "/connectors/a", `{"connector.class": `, 400, ""},
		{"not an object", "/connectors/a", `[1,2]`, 400, ""},
		{"trailing data", "/connectors/a", `{} {}`, 400, ""},
		{"empty body", "/connectors/a", ``, 400, ""},
		{"unknown plugin", "/connectors/a", `{"connector.class": "nope"}`, 400, "connector.class"},
		{"missing class", "/connectors/a", `{"max.tasks": "1"}`, 400, "connector.class"},
		{"unknown key", "/connectors/a", sourceBody(`"bogus.key": "1"`), 400, "bogus.key"},
		{"wrong type", "/connectors/a", sourceBody(`"max.tasks": "many"`), 400, "max.tasks"},
		{"wrong enum", "/connectors/a", sourceBody(`"errors.tolerance": "some"`), 400, "errors.tolerance"},
		{"missing required", "/connectors/a", `{"connector.class": "test-sink", "value.converter": "json"}`, 400, "connect.topicnames"},
		{"object value", "/connectors/a", sourceBody(`"max.tasks": {"x": 1}`), 400, "max.tasks"},
		{"null value", "/connectors/a", sourceBody(`"max.tasks": null`), 400, "max.tasks"},
		{"several", "/connectors/a", sourceBody(`"max.tasks": "x", "bogus": "1"`), 400, "bogus,max.tasks"},
		{"bad name", "/connectors/..x", sourceBody(""), 400, ""},
		{"too large", "/connectors/a", `{"x": "` + strings.Repeat("a", api.MaxBodyBytes) + `"}`, 413, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := c.expect("POST", tt.path, tt.body, tt.code).errorBody(t)
			if got := fields(e); got != tt.fields {
				t.Errorf("field errors on %v, want %q", e.Errors, tt.fields)
			}
		})
	}
	var names []string
	c.expect("GET", "/connectors", "", 200).json(t, &names)
	if len(names) != 0 {
		t.Errorf("failed creates left connectors: %v", names)
	}
	// Numbers and lists are accepted as text.
	n := uniq("typed")
	var info api.ConnectorInfo
	c.expect("POST", "/connectors/"+n, sourceBody(`"max.tasks": 1, "transforms": []`), 201).json(t, &info)
	if info.Config["max.tasks"] != "1" {
		t.Errorf("max.tasks = %q", info.Config["max.tasks"])
	}
}

func TestPutConfig(t *testing.T) {
	c := newClient(t, api.Options{})
	n := uniq("put")
	c.expect("PUT", "/connectors/"+n+"/config", sourceBody(""), 201)
	var info api.ConnectorInfo
	c.expect("PUT", "/connectors/"+n+"/config", sourceBody(`"test.events": 7`), 200).json(t, &info)
	if info.Config["test.events"] != "7" {
		t.Errorf("updated config = %v", info.Config)
	}
	c.expect("PUT", "/connectors/"+n+"/config", sourceBody(`"test.events": "x"`), 400).errorBody(t)
	c.expect("PUT", "/connectors/"+n+"/config", `{`, 400).errorBody(t)
	c.expect("PUT", "/connectors/"+n+"/config", `{"name": "zzz", "config": `+sourceBody("")+`}`, 400).errorBody(t)
	var cfg map[string]string
	c.expect("GET", "/connectors/"+n+"/config", "", 200).json(t, &cfg)
	if cfg["test.events"] != "7" {
		t.Errorf("a rejected PUT changed the config: %v", cfg)
	}
	c.expect("GET", "/connectors/nope/config", "", 404).errorBody(t)
}

func TestLifecycleRoutes(t *testing.T) {
	c := newClient(t, api.Options{})
	n := uniq("life")
	c.expect("POST", "/connectors/"+n, sourceBody(""), 201)
	c.waitTaskState(n, worker.Running)
	steps := []struct {
		method, action string
		code           int
		state          worker.State
	}{
		{"POST", "pause", 202, worker.Paused},
		{"PUT", "resume", 202, worker.Running},
		{"PUT", "pause", 202, worker.Paused},
		{"POST", "resume", 202, worker.Running},
		{"POST", "restart", 202, worker.Running},
		{"POST", "stop", 202, worker.Stopped},
		{"POST", "restart", 409, ""},
		{"PUT", "stop", 202, worker.Stopped},
		{"POST", "resume", 202, worker.Running},
	}
	for _, s := range steps {
		r := c.expect(s.method, "/connectors/"+n+"/"+s.action, "", s.code)
		if s.code != 202 {
			r.errorBody(t)
			continue
		}
		var st worker.Status
		r.json(t, &st)
		if st.Connector.State != s.state && st.Connector.State != worker.Unassigned {
			t.Errorf("%s %s: connector state %s, want %s", s.method, s.action, st.Connector.State, s.state)
		}
		if st.Target != s.state {
			t.Errorf("%s %s: target %s, want %s", s.method, s.action, st.Target, s.state)
		}
	}
	for _, a := range []string{"pause", "resume", "stop", "restart"} {
		c.expect("POST", "/connectors/nope/"+a, "", 404).errorBody(t)
	}
	c.expect("GET", "/connectors/nope/status", "", 404).errorBody(t)
	c.expect("GET", "/connectors/nope", "", 404).errorBody(t)
	c.expect("GET", "/connectors/nope/tasks", "", 404).errorBody(t)

	c.waitTaskState(n, worker.Running)
	c.expect("POST", "/connectors/"+n+"/tasks/0/restart", "", 204)
	c.expect("POST", "/connectors/"+n+"/tasks/3/restart", "", 404).errorBody(t)
	c.expect("POST", "/connectors/"+n+"/tasks/x/restart", "", 400).errorBody(t)

	c.expect("DELETE", "/connectors/"+n+"?purge=maybe", "", 400).errorBody(t)
	c.expect("DELETE", "/connectors/"+n+"?purge=true", "", 204)
	c.expect("DELETE", "/connectors/"+n, "", 404).errorBody(t)
	c.expect("GET", "/connectors/"+n+"/status", "", 404).errorBody(t)
}

func TestFailedTaskStatusCarriesTrace(t *testing.T) {
	c := newClient(t, api.Options{})
	n := uniq("fail")
	c.expect("POST", "/connectors/"+n, sourceBody(`"test.fail": "start-terminal"`), 201)
	c.waitTaskState(n, worker.Failed)
	var st worker.Status
	c.expect("GET", "/connectors/"+n+"/status", "", 200).json(t, &st)
	if !strings.Contains(st.Tasks[0].Trace, "injected failure") || !strings.Contains(st.Tasks[0].Trace, spec.Redacted) {
		t.Errorf("trace = %q", st.Tasks[0].Trace)
	}
}

func TestOffsetsAndSnapshot(t *testing.T) {
	c := newClient(t, api.Options{})
	n, sink := uniq("src"), uniq("sink")
	c.expect("POST", "/connectors/"+n, sourceBody(""), 201)
	deadline := time.Now().Add(10 * time.Second)
	for testplugin.Acked(n) < 3 {
		if time.Now().After(deadline) {
			t.Fatal("events never acknowledged")
		}
		time.Sleep(5 * time.Millisecond)
	}
	var off worker.Offsets
	c.expect("GET", "/connectors/"+n+"/offsets", "", 200).json(t, &off)
	if string(off.Checkpoints[n+"/0"]) != `{"sequence":3}` {
		t.Errorf("offsets = %+v", off)
	}
	c.expect("GET", "/connectors/nope/offsets", "", 404).errorBody(t)

	c.expect("POST", "/connectors/"+n+"/snapshot", `{"tables": ["db.t"]}`, 202)
	if got := testplugin.Snapshots(n); len(got) != 1 || got[0][0] != "db.t" {
		t.Errorf("snapshots = %v", got)
	}
	c.expect("POST", "/connectors/"+n+"/snapshot", `{"tables": []}`, 400).errorBody(t)
	c.expect("POST", "/connectors/"+n+"/snapshot", `{"tables": ["nodot"]}`, 400).errorBody(t)
	c.expect("POST", "/connectors/"+n+"/snapshot", `{"tables": `, 400).errorBody(t)
	c.expect("POST", "/connectors/nope/snapshot", `{"tables": ["db.t"]}`, 404).errorBody(t)
	c.expect("POST", "/connectors/"+n+"/pause", "", 202)
	c.expect("POST", "/connectors/"+n+"/snapshot", `{"tables": ["db.t"]}`, 409).errorBody(t)

	c.expect("POST", "/connectors/"+sink, `{"connector.class": "test-sink", "value.converter": "json", "connect.topicnames": "t1"}`, 201)
	c.expect("POST", "/connectors/"+sink+"/snapshot", `{"tables": ["db.t"]}`, 400).errorBody(t)
	// A stopped sink has no task to ask; a running one reports (nothing
	// committed yet: its topic does not exist).
	c.expect("POST", "/connectors/"+sink+"/stop", "", 202)
	c.expect("GET", "/connectors/"+sink+"/offsets", "", 409).errorBody(t)
	c.expect("POST", "/connectors/"+sink+"/resume", "", 202)
	c.waitTaskState(sink, worker.Running)
	var sinkOff worker.Offsets
	c.expect("GET", "/connectors/"+sink+"/offsets", "", 200).json(t, &sinkOff)
	if sinkOff.Type != "sink" || sinkOff.Tasks == nil {
		t.Errorf("sink offsets = %+v", sinkOff)
	}
}

func TestPluginRoutes(t *testing.T) {
	c := newClient(t, api.Options{})
	var plugins []api.PluginInfo
	c.expect("GET", "/connector-plugins", "", 200).json(t, &plugins)
	kinds := map[string]string{}
	for _, p := range plugins {
		kinds[p.Class] = p.Type
	}
	if kinds["test-source"] != "source" || kinds["test-sink"] != "sink" {
		t.Errorf("plugins = %+v", plugins)
	}
	if kinds["columns.mask"] != api.TransformationType || kinds["filter"] != api.TransformationType {
		t.Errorf("transform types missing from the plugin list: %+v", plugins)
	}
	var connectorsOnly []api.PluginInfo
	c.expect("GET", "/connector-plugins?connectorsOnly=true", "", 200).json(t, &connectorsOnly)
	for _, p := range connectorsOnly {
		if p.Type == api.TransformationType {
			t.Errorf("connectorsOnly=true listed transform %s", p.Class)
		}
	}
	var maskKeys []spec.Key
	c.expect("GET", "/connector-plugins/columns.mask/config", "", 200).json(t, &maskKeys)
	maskByName := map[string]spec.Key{}
	for _, k := range maskKeys {
		maskByName[k.Name] = k
	}
	if !maskByName["type"].Required || !maskByName["salt"].IsSecret() || maskByName["mode"].Default == "" {
		t.Errorf("columns.mask keys = %+v", maskKeys)
	}
	var keys []spec.Key
	c.expect("GET", "/connector-plugins/test-source/config", "", 200).json(t, &keys)
	byName := map[string]spec.Key{}
	for _, k := range keys {
		byName[k.Name] = k
	}
	if !byName["connector.class"].Required || !byName["test.password"].Secret && byName["test.password"].Type != spec.Password ||
		byName["test.events"].Default != "10" || byName["topic.prefix"].Name == "" {
		t.Errorf("keys = %+v", keys)
	}
	c.expect("GET", "/connector-plugins/nope/config", "", 404).errorBody(t)

	var vr api.ValidateResult
	c.expect("PUT", "/connector-plugins/test-source/config/validate", `{"test.events": "x", "test.password": "`+secret+`"}`, 200).json(t, &vr)
	if vr.ErrorCount != 1 || vr.Errors[0].Field != "test.events" || vr.Config["max.tasks"] != "1" || vr.Config["test.password"] != spec.Redacted {
		t.Errorf("validate = %+v", vr)
	}
	c.expect("PUT", "/connector-plugins/test-source/config/validate", `{"value.converter": "json"}`, 200).json(t, &vr)
	if vr.ErrorCount != 0 || len(vr.Errors) != 0 {
		t.Errorf("validate of a valid config = %+v", vr)
	}
	c.expect("PUT", "/connector-plugins/test-source/config/validate", `{"connector.class": "test-sink"}`, 400).errorBody(t)
	c.expect("PUT", "/connector-plugins/test-sink/config/validate", `{"connect.topicnames": "forbidden", "value.converter": "json"}`, 200).json(t, &vr)
	if vr.ErrorCount != 1 || vr.Errors[0].Field != "connect.topicnames" || !strings.Contains(vr.Errors[0].Message, "not allowed") {
		t.Errorf("validate with a cross-field error = %+v", vr)
	}
	c.expect("PUT", "/connector-plugins/test-source/config/validate", `nope`, 400).errorBody(t)
	c.expect("PUT", "/connector-plugins/nope/config/validate", `{}`, 404).errorBody(t)
}

func TestOperationsRoutes(t *testing.T) {
	c := newClient(t, api.Options{})
	n := uniq("m")
	c.expect("POST", "/connectors/"+n, sourceBody(""), 201)
	c.waitTaskState(n, worker.Running)
	m := c.expect("GET", "/metrics", "", 200)
	if !bytes.Contains(m.body, []byte(`binlake_task_state{connector="`+n+`",state="RUNNING",task="0"} 1`)) {
		t.Errorf("metrics lack the task state of %s", n)
	}
	var h api.Health
	c.expect("GET", "/healthz", "", 200).json(t, &h)
	c.expect("GET", "/readyz", "", 200).json(t, &h)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.w.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	c.expect("GET", "/readyz", "", 503)
	c.expect("GET", "/healthz", "", 200)
	c.expect("GET", "/no/such/route", "", 404).errorBody(t)
	c.expect("PATCH", "/connectors", "", 405).errorBody(t)
}

func TestAuth(t *testing.T) {
	c := newClient(t, api.Options{Token: "tok"})
	c.expect("GET", "/connectors", "", 200)
	c.token = "wrong"
	r := c.expect("GET", "/connectors", "", 401)
	r.errorBody(t)
	if !strings.HasPrefix(r.hdr.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("WWW-Authenticate = %q", r.hdr.Get("WWW-Authenticate"))
	}
	c.token = ""
	c.expect("GET", "/metrics", "", 401).errorBody(t)
	c.expect("POST", "/connectors/x", sourceBody(""), 401).errorBody(t)
	c.expect("GET", "/healthz", "", 200)
	c.expect("GET", "/readyz", "", 200)
}

// TestPublicMetrics: with PublicMetrics /metrics answers without the token
// (Prometheus pod-annotation scraping), every other route still needs it.
func TestPublicMetrics(t *testing.T) {
	for _, public := range []bool{true, false} {
		t.Run(fmt.Sprint("public=", public), func(t *testing.T) {
			c := newClient(t, api.Options{Token: "tok", PublicMetrics: public})
			c.token = ""
			if public {
				if m := c.expect("GET", "/metrics", "", 200); !strings.Contains(string(m.body), "binlake_task_state") &&
					!strings.Contains(string(m.body), "go_goroutines") {
					t.Errorf("/metrics body: %.200s", m.body)
				}
			} else {
				c.expect("GET", "/metrics", "", 401).errorBody(t)
			}
			c.expect("GET", "/connectors", "", 401).errorBody(t)
			c.expect("GET", "/metricsx", "", 401).errorBody(t)
			c.expect("GET", "/healthz", "", 200)
			c.token = "tok"
			c.expect("GET", "/metrics", "", 200)
			c.expect("GET", "/connectors", "", 200)
			// The OpenAPI document says the same.
			var doc struct {
				Paths map[string]map[string]map[string]any `json:"paths"`
			}
			c.expect("GET", "/openapi.json", "", 200).json(t, &doc)
			_, metricsSecured := doc.Paths["/metrics"]["get"]["security"]
			_, connectorsSecured := doc.Paths["/connectors"]["get"]["security"]
			if metricsSecured == public || !connectorsSecured {
				t.Errorf("OpenAPI security: /metrics %v, /connectors %v (public metrics %v)", metricsSecured, connectorsSecured, public)
			}
		})
	}
}

func TestSchemaRegistryMount(t *testing.T) {
	var seen atomic.Value
	reg := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Store(r.Method + " " + r.URL.Path)
		w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
		_, _ = w.Write([]byte(`["subject-value"]`))
	})
	c := newClient(t, api.Options{SchemaRegistry: reg})
	r := c.expect("GET", "/schema-registry/subjects", "", 200)
	if string(r.body) != `["subject-value"]` || seen.Load() != "GET /subjects" {
		t.Errorf("registry got %v, answered %s", seen.Load(), r.body)
	}
	c.expect("POST", "/schema-registry/subjects/x/versions", `{}`, 200)
	if seen.Load() != "POST /subjects/x/versions" {
		t.Errorf("registry got %v", seen.Load())
	}
	plain := newClient(t, api.Options{})
	plain.expect("GET", "/schema-registry/subjects", "", 404).errorBody(t)
}

// TestOpenAPIMatchesRoutes checks that every registered route is in the
// OpenAPI document with its method, and that the document has nothing else.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	for _, opts := range []api.Options{{}, {Token: "t", SchemaRegistry: http.NotFoundHandler()}} {
		c := newClient(t, opts)
		var doc struct {
			OpenAPI string                               `json:"openapi"`
			Paths   map[string]map[string]map[string]any `json:"paths"`
		}
		c.expect("GET", "/openapi.json", "", 200).json(t, &doc)
		if !strings.HasPrefix(doc.OpenAPI, "3.") {
			t.Errorf("openapi = %q", doc.OpenAPI)
		}
		inDoc := map[string]bool{}
		opIDs := map[string]bool{}
		for p, ops := range doc.Paths {
			for m, op := range ops {
				inDoc[strings.ToUpper(m)+" "+p] = true
				id, _ := op["operationId"].(string)
				if id == "" || opIDs[id] {
					t.Errorf("%s %s: missing or duplicate operationId %q", m, p, id)
				}
				opIDs[id] = true
				if _, ok := op["responses"].(map[string]any); !ok {
					t.Errorf("%s %s has no responses", m, p)
				}
			}
		}
		registered := map[string]bool{}
		for _, r := range c.srv.Routes() {
			k := r.Method + " " + api.OpenAPIPath(r.Path)
			registered[k] = true
			if !inDoc[k] {
				t.Errorf("route %s is not in the OpenAPI document", k)
			}
		}
		for k := range inDoc {
			if !registered[k] {
				t.Errorf("OpenAPI documents %s, which is not a route", k)
			}
		}
		if len(registered) < 25 {
			t.Errorf("only %d routes registered", len(registered))
		}
	}
}

// TestPprof: Go's profiles are served only with Pprof, behind the token.
func TestPprof(t *testing.T) {
	off := newClient(t, api.Options{})
	off.expect("GET", "/debug/pprof/", "", 404).errorBody(t)

	c := newClient(t, api.Options{Token: "tok", Pprof: true})
	if r := c.expect("GET", "/debug/pprof/", "", 200); !strings.Contains(string(r.body), "goroutine") {
		t.Errorf("index: %.300s", r.body)
	}
	if r := c.expect("GET", "/debug/pprof/goroutine?debug=1", "", 200); !strings.Contains(string(r.body), "goroutine profile") {
		t.Errorf("goroutine profile: %.300s", r.body)
	}
	if r := c.expect("GET", "/debug/pprof/heap", "", 200); len(r.body) == 0 {
		t.Error("empty heap profile")
	}
	if r := c.expect("GET", "/debug/pprof/cmdline", "", 200); len(r.body) == 0 {
		t.Error("empty cmdline")
	}
	c.expect("GET", "/debug/pprof/no-such-profile", "", 404).errorBody(t)
	c.token = ""
	c.expect("GET", "/debug/pprof/heap", "", 401).errorBody(t)
}
