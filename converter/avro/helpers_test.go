package avro

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/binlake/binlake/schema/registry"
	"github.com/binlake/binlake/schema/registry/embedded"
)

// newRegistry starts the embedded registry behind a path prefix, as the
// worker mounts it, and returns a client of it.
func newRegistry(t testing.TB) *registry.Client {
	t.Helper()
	reg := embedded.New(embedded.NewMemoryStore())
	mux := http.NewServeMux()
	mux.Handle("/schema-registry/", http.StripPrefix("/schema-registry", reg))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c, err := registry.NewClient(srv.URL + "/schema-registry")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newConverter(t testing.TB, reg Registry, opts Options) *Converter {
	t.Helper()
	c, err := New(reg, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
