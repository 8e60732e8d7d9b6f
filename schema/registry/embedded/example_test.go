package embedded_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/binlake/binlake/schema/registry/embedded"
)

// The worker mounts the registry under /schema-registry; any checkpoint.Store
// can hold its data.
func ExampleNew() {
	reg := embedded.New(embedded.NewMemoryStore(), embedded.WithKeyPrefix("schema-registry/"))
	mux := http.NewServeMux()
	mux.Handle("/schema-registry/", http.StripPrefix("/schema-registry", reg))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	body := `{"schema":"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"id\",\"type\":\"long\"}]}"}`
	resp, err := http.Post(srv.URL+"/schema-registry/subjects/orders-value/versions", "application/vnd.schemaregistry.v1+json", strings.NewReader(body))
	if err != nil {
		fmt.Println(err)
		return
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Print(resp.StatusCode, " ", string(out))
	// Output: 200 {"id":1}
}
