package embedded

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/binlake/binlake/schema/registry"
)

const (
	v1 = `{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"long"}]}`
	// v2 adds a nullable column: BACKWARD compatible.
	v2 = `{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"long"},{"name":"note","type":["null","string"],"default":null}]}`
	// bad adds a NOT NULL column without default: not BACKWARD compatible.
	bad = `{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"long"},{"name":"qty","type":"int"}]}`
)

type env struct {
	t     *testing.T
	base  string
	store *MemoryStore
}

func newEnv(t *testing.T) *env {
	store := NewMemoryStore()
	return newEnvOn(t, store)
}

func newEnvOn(t *testing.T, store *MemoryStore) *env {
	mux := http.NewServeMux()
	mux.Handle("/schema-registry/", http.StripPrefix("/schema-registry", New(store, WithKeyPrefix("sr/"))))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &env{t: t, base: srv.URL + "/schema-registry", store: store}
}

// call sends a request as a Confluent client does and returns the status and
// decoded JSON body.
func (e *env) call(method, path, body string) (int, any) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.base+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	req.Header.Set("Accept", "application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json; qs=0.9, application/json; qs=0.5")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != registry.ContentType {
		e.t.Errorf("%s %s: content type %q", method, path, ct)
	}
	var out any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		e.t.Fatalf("%s %s: decoding body: %v", method, path, err)
	}
	return resp.StatusCode, out
}

// serve mounts r behind a path prefix and returns a client of it.
func serve(t *testing.T, r *Registry) *registry.Client {
	mux := http.NewServeMux()
	mux.Handle("/schema-registry/", http.StripPrefix("/schema-registry", r))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c, err := registry.NewClient(srv.URL + "/schema-registry")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func schemaBody(s string) string {
	b, _ := json.Marshal(map[string]string{"schema": s})
	return string(b)
}

func (e *env) expect(method, path, body string, status int, check func(any) bool) any {
	e.t.Helper()
	st, out := e.call(method, path, body)
	if st != status || check != nil && !check(out) {
		e.t.Errorf("%s %s: %d %v, want %d", method, path, st, out, status)
	}
	return out
}

func errCode(code int) func(any) bool {
	return func(v any) bool {
		m, ok := v.(map[string]any)
		return ok && m["error_code"] == float64(code) && m["message"] != ""
	}
}

func equalJSON(want string) func(any) bool {
	return func(v any) bool {
		var w any
		_ = json.Unmarshal([]byte(want), &w)
		a, _ := json.Marshal(v)
		b, _ := json.Marshal(w)
		return string(a) == string(b)
	}
}

func TestRegisterLookupAndFetch(t *testing.T) {
	e := newEnv(t)
	e.expect("GET", "/subjects", "", 200, equalJSON(`[]`))
	e.expect("POST", "/subjects/orders-value/versions", schemaBody(v1), 200, equalJSON(`{"id":1}`))
	// Idempotent: the same schema gets the same id and no new version.
	e.expect("POST", "/subjects/orders-value/versions", schemaBody(v1), 200, equalJSON(`{"id":1}`))
	// The same schema under another subject shares the id.
	e.expect("POST", "/subjects/other-value/versions", schemaBody(v1), 200, equalJSON(`{"id":1}`))
	e.expect("POST", "/subjects/orders-value/versions", schemaBody(v2), 200, equalJSON(`{"id":2}`))
	e.expect("GET", "/subjects", "", 200, equalJSON(`["orders-value","other-value"]`))
	e.expect("GET", "/subjects/orders-value/versions", "", 200, equalJSON(`[1,2]`))
	got := e.expect("GET", "/subjects/orders-value/versions/latest", "", 200, nil).(map[string]any)
	if got["version"] != float64(2) || got["id"] != float64(2) || got["subject"] != "orders-value" || !strings.Contains(got["schema"].(string), "note") {
		t.Errorf("latest %v", got)
	}
	e.expect("GET", "/subjects/orders-value/versions/-1", "", 200, func(v any) bool { return v.(map[string]any)["version"] == float64(2) })
	e.expect("GET", "/subjects/orders-value/versions/1/schema", "", 200, func(v any) bool { return v.(map[string]any)["name"] == "Order" })
	e.expect("GET", "/schemas/ids/2", "", 200, func(v any) bool { return strings.Contains(v.(map[string]any)["schema"].(string), "note") })
	e.expect("GET", "/schemas/ids/1/schema", "", 200, func(v any) bool { return v.(map[string]any)["type"] == "record" })
	e.expect("GET", "/schemas/ids/1/versions", "", 200, equalJSON(`[{"subject":"orders-value","version":1},{"subject":"other-value","version":1}]`))
	e.expect("GET", "/schemas/ids/1/subjects", "", 200, equalJSON(`["orders-value","other-value"]`))
	// Lookup with whitespace and key order differences finds the version.
	spaced := strings.ReplaceAll(v1, ",", " , ")
	e.expect("POST", "/subjects/orders-value", schemaBody(spaced), 200, func(v any) bool {
		m := v.(map[string]any)
		return m["id"] == float64(1) && m["version"] == float64(1) && m["subject"] == "orders-value"
	})
	e.expect("GET", "/schemas/types", "", 200, equalJSON(`["AVRO"]`))
}

func TestErrorCodes(t *testing.T) {
	e := newEnv(t)
	e.expect("GET", "/subjects/nope/versions", "", 404, errCode(registry.CodeSubjectNotFound))
	e.expect("GET", "/subjects/nope/versions/1", "", 404, errCode(registry.CodeSubjectNotFound))
	e.expect("POST", "/subjects/nope", schemaBody(v1), 404, errCode(registry.CodeSubjectNotFound))
	e.expect("GET", "/schemas/ids/42", "", 404, errCode(registry.CodeSchemaNotFound))
	e.expect("POST", "/subjects/s/versions", schemaBody(`{"type":"record"}`), 422, errCode(registry.CodeInvalidSchema))
	e.expect("POST", "/subjects/s/versions", schemaBody(`not json`), 422, errCode(registry.CodeInvalidSchema))
	e.expect("POST", "/subjects/s/versions", `{"schema":"{}","schemaType":"PROTOBUF"}`, 422, errCode(registry.CodeInvalidSchema))
	e.expect("POST", "/subjects/s/versions", schemaBody(v1), 200, nil)
	e.expect("GET", "/subjects/s/versions/7", "", 404, errCode(registry.CodeVersionNotFound))
	e.expect("GET", "/subjects/s/versions/abc", "", 422, errCode(registry.CodeInvalidVersion))
	e.expect("GET", "/subjects/s/versions/0", "", 422, errCode(registry.CodeInvalidVersion))
	e.expect("POST", "/subjects/s", schemaBody(v2), 404, errCode(registry.CodeSchemaNotFound))
	st, out := e.call("POST", "/subjects/s/versions", schemaBody(bad))
	if st != 409 || !errCode(registry.CodeIncompatible)(out) || !strings.Contains(out.(map[string]any)["message"].(string), "qty") {
		t.Errorf("incompatible register: %d %v", st, out)
	}
	e.expect("PUT", "/config/s", `{"compatibility":"SIDEWAYS"}`, 422, errCode(registry.CodeInvalidCompatibility))
	e.expect("GET", "/config/s", "", 404, errCode(registry.CodeSubjectConfigNotFound))
	e.expect("PUT", "/mode", `{"mode":"IMPORT"}`, 422, errCode(registry.CodeInvalidMode))
	e.expect("GET", "/no/such/route", "", 404, nil)
	e.expect("POST", "/subjects/s/versions", `{"schema":`, 400, nil)
}

func TestCompatibilityAndConfig(t *testing.T) {
	e := newEnv(t)
	e.expect("GET", "/config", "", 200, equalJSON(`{"compatibilityLevel":"BACKWARD"}`))
	e.expect("POST", "/subjects/s/versions", schemaBody(v1), 200, nil)
	e.expect("POST", "/compatibility/subjects/s/versions/latest?verbose=true", schemaBody(v2), 200, equalJSON(`{"is_compatible":true}`))
	e.expect("POST", "/compatibility/subjects/s/versions/latest", schemaBody(bad), 200, equalJSON(`{"is_compatible":false}`))
	e.expect("POST", "/compatibility/subjects/s/versions/1?verbose=true", schemaBody(bad), 200, func(v any) bool {
		m := v.(map[string]any)
		msgs, _ := m["messages"].([]any)
		return m["is_compatible"] == false && len(msgs) > 0 && strings.Contains(msgs[0].(string), "qty")
	})
	e.expect("POST", "/compatibility/subjects/new/versions/latest", schemaBody(bad), 200, equalJSON(`{"is_compatible":true}`))
	e.expect("PUT", "/config/s", `{"compatibility":"none"}`, 200, equalJSON(`{"compatibility":"NONE"}`))
	e.expect("GET", "/config/s", "", 200, equalJSON(`{"compatibilityLevel":"NONE"}`))
	e.expect("POST", "/subjects/s/versions", schemaBody(bad), 200, equalJSON(`{"id":2}`))
	e.expect("DELETE", "/config/s", "", 200, equalJSON(`{"compatibilityLevel":"NONE"}`))
	e.expect("GET", "/config/s?defaultToGlobal=true", "", 200, equalJSON(`{"compatibilityLevel":"BACKWARD"}`))
	e.expect("PUT", "/config", `{"compatibility":"FULL_TRANSITIVE"}`, 200, equalJSON(`{"compatibility":"FULL_TRANSITIVE"}`))
	e.expect("GET", "/config", "", 200, equalJSON(`{"compatibilityLevel":"FULL_TRANSITIVE"}`))
	e.expect("PUT", "/mode", `{"mode":"READONLY"}`, 200, equalJSON(`{"mode":"READONLY"}`))
	e.expect("POST", "/subjects/t/versions", schemaBody(v1), 422, errCode(registry.CodeOperationNotPermitted))
	e.expect("GET", "/mode", "", 200, equalJSON(`{"mode":"READONLY"}`))
}

func TestDeletes(t *testing.T) {
	e := newEnv(t)
	e.expect("POST", "/subjects/s/versions", schemaBody(v1), 200, nil)
	e.expect("POST", "/subjects/s/versions", schemaBody(v2), 200, nil)
	e.expect("DELETE", "/subjects/s/versions/2?permanent=true", "", 404, errCode(registry.CodeVersionNotSoftDeleted))
	e.expect("DELETE", "/subjects/s/versions/2", "", 200, equalJSON(`2`))
	e.expect("GET", "/subjects/s/versions", "", 200, equalJSON(`[1]`))
	e.expect("GET", "/subjects/s/versions?deleted=true", "", 200, equalJSON(`[1,2]`))
	e.expect("GET", "/subjects/s/versions/2", "", 404, errCode(registry.CodeVersionNotFound))
	e.expect("DELETE", "/subjects/s/versions/2?permanent=true", "", 200, equalJSON(`2`))
	e.expect("GET", "/subjects/s/versions?deleted=true", "", 200, equalJSON(`[1]`))
	e.expect("DELETE", "/subjects/s?permanent=true", "", 404, errCode(registry.CodeSubjectNotSoftDeleted))
	e.expect("DELETE", "/subjects/s", "", 200, equalJSON(`[1]`))
	e.expect("GET", "/subjects", "", 200, equalJSON(`[]`))
	e.expect("GET", "/subjects?deleted=true", "", 200, equalJSON(`["s"]`))
	e.expect("DELETE", "/subjects/s", "", 404, errCode(registry.CodeSubjectSoftDeleted))
	// Schemas stay readable by id after their subject is deleted.
	e.expect("GET", "/schemas/ids/1", "", 200, nil)
	e.expect("DELETE", "/subjects/s?permanent=true", "", 200, equalJSON(`[1]`))
	e.expect("GET", "/subjects/s/versions", "", 404, errCode(registry.CodeSubjectNotFound))
	// Re-registering after a delete starts a new history with the old id.
	e.expect("POST", "/subjects/s/versions", schemaBody(v1), 200, equalJSON(`{"id":1}`))
	e.expect("GET", "/subjects/s/versions", "", 200, equalJSON(`[1]`))
}

func TestStatePersistsInStore(t *testing.T) {
	store := NewMemoryStore()
	e := newEnvOn(t, store)
	e.expect("POST", "/subjects/a%2Fb-value/versions", schemaBody(v1), 200, nil)
	e.expect("POST", "/subjects/a%2Fb-value/versions", schemaBody(v2), 200, nil)
	e.expect("PUT", "/config/a%2Fb-value", `{"compatibility":"FORWARD"}`, 200, nil)
	e.expect("DELETE", "/subjects/a%2Fb-value/versions/1", "", 200, nil)
	keys, _ := store.List(context.Background(), "sr/")
	for _, k := range []string{"sr/schemas/1", "sr/schemas/2", "sr/subjects/a%2Fb-value/1", "sr/subjects/a%2Fb-value/2", "sr/config/a%2Fb-value"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("store lacks key %s (has %v)", k, keys)
		}
	}
	// A second registry on the same store (a restarted worker) sees it all.
	e2 := newEnvOn(t, store)
	e2.expect("GET", "/subjects/a%2Fb-value/versions", "", 200, equalJSON(`[2]`))
	e2.expect("GET", "/config/a%2Fb-value", "", 200, equalJSON(`{"compatibilityLevel":"FORWARD"}`))
	e2.expect("POST", "/subjects/x/versions", schemaBody(`{"type":"string"}`), 200, equalJSON(`{"id":3}`))
}

func TestClientAgainstEmbedded(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	c, err := registry.NewClient(e.base)
	if err != nil {
		t.Fatal(err)
	}
	id, err := c.Register(ctx, "orders-value", v1)
	if err != nil || id != 1 {
		t.Fatalf("register: %d %v", id, err)
	}
	if _, err := c.Register(ctx, "orders-value", bad); !registry.IsIncompatible(err) {
		t.Errorf("incompatible register: %v", err)
	}
	if _, err := c.SchemaByID(ctx, 99); !registry.IsNotFound(err) || registry.ErrorCode(err) != registry.CodeSchemaNotFound {
		t.Errorf("missing id: %v", err)
	}
	ss, err := c.Lookup(ctx, "orders-value", v1)
	if err != nil || ss.ID != 1 || ss.Version != 1 {
		t.Errorf("lookup: %+v %v", ss, err)
	}
	ok, msgs, err := c.TestCompatibility(ctx, "orders-value", 0, bad)
	if err != nil || ok || len(msgs) == 0 {
		t.Errorf("compatibility: %v %v %v", ok, msgs, err)
	}
	if lvl, err := c.Compatibility(ctx, "orders-value"); err != nil || lvl != registry.Backward {
		t.Errorf("level %s %v", lvl, err)
	}
	if _, had, err := c.SubjectCompatibility(ctx, "orders-value"); err != nil || had {
		t.Errorf("subject level: %v %v", had, err)
	}
	if err := c.SetCompatibility(ctx, "orders-value", registry.None); err != nil {
		t.Fatal(err)
	}
	if id, err := c.Register(ctx, "orders-value", bad); err != nil || id != 2 {
		t.Errorf("register under NONE: %d %v", id, err)
	}
	if err := c.DeleteCompatibility(ctx, "orders-value"); err != nil {
		t.Fatal(err)
	}
	vs, err := c.Versions(ctx, "orders-value")
	if err != nil || len(vs) != 2 {
		t.Errorf("versions %v %v", vs, err)
	}
	latest, err := c.SchemaVersion(ctx, "orders-value", 0)
	if err != nil || latest.Version != 2 || latest.ID != 2 {
		t.Errorf("latest %+v %v", latest, err)
	}
	if got, err := c.DeleteSubject(ctx, "orders-value", false); err != nil || len(got) != 2 {
		t.Errorf("delete: %v %v", got, err)
	}
	if _, err := c.Versions(ctx, "orders-value"); registry.ErrorCode(err) != registry.CodeSubjectNotFound {
		t.Errorf("versions after delete: %v", err)
	}
}
