package iceberg_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/iceberg-go/table"

	"github.com/binlake/binlake/sink/lake"
	lakeiceberg "github.com/binlake/binlake/sink/lake/iceberg"
)

// pyicebergLines reads a table with pyiceberg (the independent reader) and
// renders it like modelLines. The interpreter comes from BINLAKE_PYTHON
// (default python3); the test fails with a clear message when pyiceberg is
// not installed there.
func pyicebergLines(t testing.TB, dir string, ident table.Identifier, cols []string, props ...string) []string {
	return pyicebergRead(t, filepath.Join(dir, lakeiceberg.CatalogFile), "file://"+filepath.Join(dir, "warehouse"), ident, cols, props...)
}

// pyicebergRead reads a table of the sql catalog in dbPath with pyiceberg;
// props are extra catalog properties ("s3.endpoint=...").
func pyicebergRead(t testing.TB, dbPath, warehouse string, ident table.Identifier, cols []string, props ...string) []string {
	t.Helper()
	py := os.Getenv("BINLAKE_PYTHON")
	if py == "" {
		py = "python3"
	}
	script, err := filepath.Abs(filepath.Join("testdata", "read_table.py"))
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{script, lake.DefaultCatalogName, dbPath, warehouse, strings.Join(ident, "."), strings.Join(cols, ",")}, props...)
	cmd := exec.Command(py, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if strings.Contains(stderr.String(), "PYICEBERG_MISSING") {
			t.Fatalf("pyiceberg is not installed for %s: install it with pip install 'pyiceberg[sql-sqlite,pyarrow]==0.12.0' and set BINLAKE_PYTHON to that interpreter (%s)", py, strings.TrimSpace(stderr.String()))
		}
		t.Fatalf("pyiceberg reading %v with %s: %v\n%s", ident, py, err, stderr.String())
	}
	out := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	if len(out) == 1 && out[0] == "" {
		return nil
	}
	return out
}
