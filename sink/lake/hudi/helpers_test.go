package hudi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/file"

	"github.com/binlake/binlake/schema"
)

// hudiRSResult is what testdata/read_hudi.py prints.
type hudiRSResult struct {
	Rows        []map[string]*string `json:"rows"`
	Commits     []string             `json:"commits"`
	LatestExtra map[string]string    `json:"latest_extra"`
	BaseFiles   []string             `json:"base_files"`
	AvroSchema  string               `json:"avro_schema"`
	TableName   string               `json:"table_name"`
}

// readWithHudiRS reads the table at dir with hudi-rs, the independent
// reader. It fails the test with instructions when hudi-rs is missing.
func readWithHudiRS(t *testing.T, dir string) hudiRSResult {
	t.Helper()
	return readWithHudiRSOptions(t, dir, nil)
}

// readWithHudiRSOptions is readWithHudiRS with hudi-rs storage options
// (e.g. S3 endpoint and credentials).
func readWithHudiRSOptions(t *testing.T, dir string, options map[string]string) hudiRSResult {
	t.Helper()
	py := os.Getenv("BINLAKE_PYTHON")
	if py == "" {
		py = "python3"
	}
	script, err := filepath.Abs("testdata/read_hudi.py")
	if err != nil {
		t.Fatal(err)
	}
	args := []string{script, dir}
	if options != nil {
		b, err := json.Marshal(options)
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, string(b))
	}
	cmd := exec.Command(py, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit) && exit.ExitCode() == 3:
		t.Fatalf("hudi-rs is not installed for %s (%s): run `%s -m pip install hudi==0.5.0 pyarrow` or set BINLAKE_PYTHON to an interpreter that has it", py, bytes.TrimSpace(stderr.Bytes()), py)
	case errors.Is(err, exec.ErrNotFound):
		t.Fatalf("python interpreter %q not found: install python3 with `pip install hudi==0.5.0 pyarrow` or set BINLAKE_PYTHON", py)
	case err != nil:
		t.Fatalf("hudi-rs could not read the table at %s: %v\n%s", dir, err, stderr.String())
	}
	var res hudiRSResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("parsing read_hudi.py output: %v\n%s", err, stdout.String())
	}
	return res
}

// canonical renders a Go column value the way read_hudi.py renders what it
// reads (nil stays nil).
func canonical(k schema.Kind, v any) *string {
	if v == nil {
		return nil
	}
	var s string
	switch x := v.(type) {
	case bool:
		s = strconv.FormatBool(x)
	case int32:
		s = strconv.FormatInt(int64(x), 10)
	case int64:
		s = strconv.FormatInt(x, 10)
	case float32:
		s = strconv.FormatFloat(float64(x), 'g', -1, 64)
	case float64:
		s = strconv.FormatFloat(x, 'g', -1, 64)
	case schema.Decimal:
		s = x.String()
	case string:
		s = x
	case []byte:
		s = base64.StdEncoding.EncodeToString(x)
	default:
		s = "unsupported"
	}
	return &s
}

// sameValue compares a model value with what hudi-rs printed; floats are
// compared as numbers (Python's repr and Go's formatting differ in style).
func sameValue(k schema.Kind, want any, got *string) bool {
	w := canonical(k, want)
	if w == nil || got == nil {
		return w == nil && got == nil
	}
	if k == schema.KindFloat32 || k == schema.KindFloat64 {
		a, err1 := strconv.ParseFloat(*w, 64)
		b, err2 := strconv.ParseFloat(*got, 64)
		return err1 == nil && err2 == nil && a == b
	}
	return *w == *got
}

// model is the expected content of a table: record key -> row.
type model map[string][]any

// assertMatches checks that hudi-rs read exactly the model's rows.
func assertMatches(t *testing.T, res hudiRSResult, tbl *schema.Table, kg *keyGen, m model) {
	t.Helper()
	seen := map[string]bool{}
	for _, r := range res.Rows {
		kp := r[FieldRecordKey]
		if kp == nil {
			t.Fatalf("row without %s: %v", FieldRecordKey, r)
		}
		k := *kp
		if seen[k] {
			t.Errorf("key %s read twice", k)
			continue
		}
		seen[k] = true
		want, ok := m[k]
		if !ok {
			t.Errorf("key %s read but not in the model (deleted or never written)", k)
			continue
		}
		if wk, _ := kg.recordKey(want); wk != k {
			t.Errorf("model row for %s has key %s", k, wk)
		}
		if pp, _ := kg.partitionPath(want); r[FieldPartitionPath] == nil || *r[FieldPartitionPath] != pp {
			t.Errorf("key %s: partition path %v, want %q", k, deref(r[FieldPartitionPath]), pp)
		}
		for ci, c := range tbl.Columns {
			got, present := r[c.Name]
			if !present {
				t.Errorf("key %s: column %q missing from hudi-rs output", k, c.Name)
				continue
			}
			if !sameValue(c.Kind, want[ci], got) {
				t.Errorf("key %s column %q: hudi-rs read %v, want %v", k, c.Name, deref(got), deref(canonical(c.Kind, want[ci])))
			}
		}
	}
	var missing []string
	for k := range m {
		if !seen[k] {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("%d keys of the model not read by hudi-rs, e.g. %v", len(missing), missing[:min(5, len(missing))])
	}
}

func deref(p *string) string {
	if p == nil {
		return "<null>"
	}
	return *p
}

// openTestWriter opens a writer on a fresh local table.
func openTestWriter(t *testing.T, dir string, opts Options) *Writer {
	t.Helper()
	b, err := OpenLocalBucket(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	opts.Bucket = b
	w, err := Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("opening writer: %v", err)
	}
	return w
}

// footerValue returns a key-value entry of a Parquet file's footer.
func footerValue(t *testing.T, data []byte, key string) string {
	t.Helper()
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	v := pf.MetaData().KeyValueMetadata().FindValue(key)
	if v == nil {
		t.Fatalf("footer has no %s", key)
	}
	return *v
}
