package registry

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

func TestClientErrorsAndCache(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if u, p, ok := r.BasicAuth(); !ok || u != "u" || p != "p" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/sr/schemas/ids/7":
			w.Header().Set("Content-Type", ContentType)
			_, _ = w.Write([]byte(`{"schema":"\"string\""}`))
		case "/sr/subjects/a%2Fb/versions", "/sr/subjects/a/b/versions":
			if r.URL.RawPath == "" && r.URL.Path == "/sr/subjects/a/b/versions" {
				t.Errorf("subject was not path-escaped: %s", r.URL.Path)
			}
			w.Header().Set("Content-Type", ContentType)
			_, _ = w.Write([]byte(`{"id":9}`))
		case "/sr/subjects/gone/versions":
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error_code":40401,"message":"Subject 'gone' not found."}`))
		default:
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte("<html>bad gateway</html>"))
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	c, err := NewClient(srv.URL+"/sr/", WithBasicAuth("u", "p"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		s, err := c.SchemaByID(ctx, 7)
		if err != nil || s != `"string"` {
			t.Fatalf("schema by id: %q %v", s, err)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d calls for a cached id", n)
	}
	if id, err := c.Register(ctx, "a/b", `"string"`); err != nil || id != 9 {
		t.Errorf("register: %d %v", id, err)
	}
	if _, err := c.Register(ctx, "a/b", `"string"`); err != nil || calls.Load() != 2 {
		t.Errorf("register was not cached: %v, %d calls", err, calls.Load())
	}
	_, err = c.Versions(ctx, "gone")
	if !IsNotFound(err) || ErrorCode(err) != CodeSubjectNotFound || IsIncompatible(err) {
		t.Errorf("not found: %v", err)
	}
	_, err = c.Subjects(ctx)
	if ErrorCode(err) != http.StatusBadGateway || IsNotFound(err) {
		t.Errorf("non-JSON error: %v", err)
	}
	if _, err := NewClient("localhost:8081"); err == nil {
		t.Error("NewClient accepted a URL without scheme")
	}
}

func TestParseLevel(t *testing.T) {
	for _, s := range []string{"none", "BACKWARD", "backward_transitive", "FORWARD", "forward_transitive", "Full", "FULL_TRANSITIVE"} {
		if _, err := ParseLevel(s); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	if _, err := ParseLevel("SIDEWAYS"); err == nil {
		t.Error("unknown level accepted")
	}
	if !FullTransitive.ChecksBackward() || !FullTransitive.ChecksForward() || !FullTransitive.Transitive() || Forward.ChecksBackward() || Backward.Transitive() {
		t.Error("level predicates")
	}
}
