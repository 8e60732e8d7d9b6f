//go:build integration

package containers

import (
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

func getStatus(t *testing.T, url string) (int, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, string(b), nil
}

// TestIcebergRESTServerLifecycle starts the shared file-warehouse server, creates a namespace
// through the REST API, stops it, and checks that the process and its directory are gone and
// that the next call starts a new server.
func TestIcebergRESTServerLifecycle(t *testing.T) {
	defer StopIcebergRESTServers()
	r := IcebergRESTServer(t, IcebergRESTOptions{})
	if again := IcebergRESTServer(t, IcebergRESTOptions{}); again != r {
		t.Errorf("a second call started another server (%s, %s)", r.URI, again.URI)
	}
	if !strings.HasPrefix(r.URI, "http://127.0.0.1:") || !strings.HasPrefix(r.Warehouse, "file://"+r.Dir) {
		t.Errorf("server = %+v", r)
	}
	ns := r.NewNamespace(t)
	resp, err := http.Post(r.URI+"/v1/namespaces", "application/json", strings.NewReader(`{"namespace":["`+ns+`"]}`))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("creating namespace %s: status %s", ns, resp.Status)
	}
	code, body, err := getStatus(t, r.URI+"/v1/namespaces")
	if err != nil || code != http.StatusOK || !strings.Contains(body, ns) {
		t.Fatalf("listing namespaces: %d %s %v; want %s listed", code, body, err, ns)
	}

	StopIcebergRESTServers()
	if _, _, err := getStatus(t, r.URI+"/v1/config"); err == nil {
		t.Errorf("%s still answers after StopIcebergRESTServers", r.URI)
	}
	if _, err := os.Stat(r.Dir); !os.IsNotExist(err) {
		t.Errorf("server directory %s kept after StopIcebergRESTServers (stat: %v)", r.Dir, err)
	}

	r2 := IcebergRESTServer(t, IcebergRESTOptions{})
	if r2.URI == r.URI || r2.Dir == r.Dir {
		t.Errorf("the server after a stop reuses %s / %s", r2.URI, r2.Dir)
	}
	if code, _, err := getStatus(t, r2.URI+"/v1/config"); err != nil || code != http.StatusOK {
		t.Errorf("new server: GET /v1/config = %d, %v", code, err)
	}
}
