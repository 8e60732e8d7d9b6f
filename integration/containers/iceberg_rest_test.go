package containers

import (
	"context"
	"crypto/sha1" //nolint:gosec // the checksum Maven Central publishes
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

func sha1Hex(b []byte) string {
	h := sha1.Sum(b) //nolint:gosec // test of the Maven checksum
	return hex.EncodeToString(h[:])
}

func TestCachedArtifactDownloadsOnceAndChecksSHA1(t *testing.T) {
	body := []byte("PK\x03\x04 pretend jar " + strings.Repeat("x", 100_000))
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	dst := filepath.Join(t.TempDir(), "cache", "a.jar")
	ctx := context.Background()

	if _, err := cachedArtifact(ctx, dst, nil, srv.URL+"/a.jar", sha1Hex([]byte("other content"))); err == nil || !strings.Contains(err.Error(), "SHA-1") {
		t.Fatalf("a download with the wrong checksum: error = %v, want a SHA-1 mismatch", err)
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Fatalf("a file with the wrong checksum was left at %s (stat: %v)", dst, err)
	}
	leftovers, _ := filepath.Glob(dst + ".part-*")
	if len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}

	for range 2 {
		got, err := cachedArtifact(ctx, dst, nil, srv.URL+"/a.jar", sha1Hex(body))
		if err != nil {
			t.Fatal(err)
		}
		if got != dst {
			t.Errorf("path = %s, want %s", got, dst)
		}
	}
	if n := hits.Load(); n != 2 {
		t.Errorf("the server was asked %d times, want 2 (the bad download, then one good one)", n)
	}
	data, err := os.ReadFile(dst)
	if err != nil || string(data) != string(body) {
		t.Fatalf("cached file differs from the download (err %v)", err)
	}
}

func TestCachedArtifactPrefersAMatchingLocalCopy(t *testing.T) {
	dir := t.TempDir()
	body := []byte("jar bytes")
	bad := filepath.Join(dir, "bad.jar")
	good := filepath.Join(dir, "good.jar")
	if err := os.WriteFile(bad, []byte("tampered"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(good, body, 0o644); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		t.Error("downloaded although a local copy matches")
		w.WriteHeader(http.StatusNotFound)
	}))
	defer srv.Close()
	dst := filepath.Join(dir, "cache", "x.jar")
	if _, err := cachedArtifact(context.Background(), dst, []string{"", filepath.Join(dir, "missing.jar"), bad, good}, srv.URL, sha1Hex(body)); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(dst); string(data) != string(body) {
		t.Errorf("cached %q, want the matching local copy", data)
	}
}

func TestCachedArtifactReportsHTTPErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	_, err := cachedArtifact(context.Background(), filepath.Join(t.TempDir(), "y.jar"), nil, srv.URL+"/y.jar", sha1Hex(nil))
	if err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), srv.URL) {
		t.Errorf("error = %v, want one naming the URL and the status", err)
	}
}

func TestRESTEnvMapsCatalogProperties(t *testing.T) {
	base := []string{"PATH=/usr/bin", "CATALOG_IO__IMPL=leaked", "AWS_PROFILE=leaked", "HOME=/root"}
	fileEnv := restEnv(base, 18181, "/tmp/d", "file:///tmp/d/warehouse", nil)
	has := func(env []string, kv string) bool {
		for _, e := range env {
			if e == kv {
				return true
			}
		}
		return false
	}
	for _, want := range []string{"PATH=/usr/bin", "HOME=/root", "CATALOG_REST_PORT=18181", "CATALOG_WAREHOUSE=file:///tmp/d/warehouse",
		"CATALOG_URI=jdbc:sqlite:file:/tmp/d/catalog.db"} {
		if !has(fileEnv, want) {
			t.Errorf("file warehouse env lacks %s: %v", want, fileEnv)
		}
	}
	for _, e := range fileEnv {
		if strings.Contains(e, "leaked") || strings.HasPrefix(e, "CATALOG_IO__IMPL") || strings.HasPrefix(e, "AWS_") {
			t.Errorf("file warehouse env carries %s", e)
		}
	}
	m := &MinIO{Endpoint: "http://127.0.0.1:9000", AccessKey: "ak", SecretKey: "sk", Region: "us-east-1"}
	s3Env := restEnv(base, 1, "/d", "s3://b/w", m)
	for _, want := range []string{"CATALOG_IO__IMPL=org.apache.iceberg.aws.s3.S3FileIO", "CATALOG_S3_ENDPOINT=http://127.0.0.1:9000",
		"CATALOG_S3_PATH__STYLE__ACCESS=true", "CATALOG_S3_ACCESS__KEY__ID=ak", "CATALOG_S3_SECRET__ACCESS__KEY=sk", "AWS_REGION=us-east-1"} {
		if !has(s3Env, want) {
			t.Errorf("S3 warehouse env lacks %s", want)
		}
	}
	r := &IcebergREST{MinIO: m}
	if p := r.ClientProperties(); p["s3.endpoint"] != m.Endpoint || p["s3.secret-access-key"] != "sk" {
		t.Errorf("ClientProperties = %v", p)
	}
	if p := (&IcebergREST{}).ClientProperties(); len(p) != 0 {
		t.Errorf("ClientProperties of a local warehouse = %v, want none", p)
	}
}

func TestNewNamespaceIsUniqueAndValid(t *testing.T) {
	r := &IcebergREST{}
	a, b := r.NewNamespace(t), r.NewNamespace(t)
	if a == b {
		t.Fatalf("two namespaces named %s", a)
	}
	for _, ns := range []string{a, b} {
		if strings.Trim(ns, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
			t.Errorf("namespace %q has characters outside [a-z0-9_]", ns)
		}
	}
}

func TestSweepRESTDirsRemovesOnlyDeadOwners(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	dead := filepath.Join(tmp, restDirPrefix+"999999999-abc")
	mine := filepath.Join(tmp, restDirPrefix+strconv.Itoa(os.Getpid())+"-abc")
	other := filepath.Join(tmp, "unrelated-999999999-abc")
	for _, d := range []string{dead, mine, other} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	sweepRESTDirs()
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("directory of a dead test binary kept: %v", err)
	}
	for _, d := range []string{mine, other} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s removed: %v", d, err)
		}
	}
}

func TestJavaBinaryMissingSaysWhatToInstall(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("JAVA_HOME", "")
	_, err := javaBinary()
	if err == nil || !strings.Contains(err.Error(), "java 17") || !strings.Contains(err.Error(), "JAVA_HOME") {
		t.Errorf("error = %v, want one that says to install java 17 or set JAVA_HOME", err)
	}
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "bin", "java"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("JAVA_HOME", home)
	if got, err := javaBinary(); err != nil || got != filepath.Join(home, "bin", "java") {
		t.Errorf("javaBinary() = %q, %v; want $JAVA_HOME/bin/java", got, err)
	}
}
