package containers

import (
	"bufio"
	"context"
	"crypto/sha1" //nolint:gosec // Maven Central publishes SHA-1 checksums; the value is pinned below.
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The Iceberg REST catalog server IcebergRESTServer runs: the RESTCatalogServer of Apache
// Iceberg's iceberg-open-api test-fixtures jar (the server inside the apache/iceberg-rest-fixture
// image: a JdbcCatalog on SQLite behind the REST API, HadoopFileIO or S3FileIO), run with the
// host's java (17+) as a plain process.
const (
	// IcebergRESTVersion is the Apache Iceberg release of the server.
	IcebergRESTVersion = "1.10.0"
	// icebergRESTJarSHA1 is the content of iceberg-open-api-1.10.0.jar.sha1 on Maven Central.
	icebergRESTJarSHA1 = "ba3dcee71b5c0a6d91e03df132dfba1cd69c2cce"
	icebergRESTJarPath = "org/apache/iceberg/iceberg-open-api/" + IcebergRESTVersion + "/iceberg-open-api-" + IcebergRESTVersion + ".jar"
	mavenCentral       = "https://repo1.maven.org/maven2"
	// icebergRESTBucket is the MinIO bucket of the S3 warehouse.
	icebergRESTBucket = "binlake-iceberg-rest"
	// jarFetchTimeout bounds the one-time download of the 211 MB jar.
	jarFetchTimeout = 15 * time.Minute
)

// restKey starts the shared-server key of every Iceberg REST server.
const restKey = "iceberg-rest"

// IcebergRESTOptions chooses the warehouse of an Iceberg REST catalog server.
type IcebergRESTOptions struct {
	// MinIO, when set, puts the warehouse in a bucket of that server (S3FileIO, path-style
	// addressing, the server's credentials); when nil the warehouse is a local directory
	// (HadoopFileIO) that clients on this machine write to directly.
	MinIO *MinIO
}

// IcebergREST is a running Iceberg REST catalog server.
type IcebergREST struct {
	URI       string // "http://127.0.0.1:port", the catalog's base URL (clients append /v1/...)
	Warehouse string // "file://<Dir>/warehouse" or "s3://binlake-iceberg-rest/warehouse-<server>"
	MinIO     *MinIO // the S3 server of the warehouse; nil for a local warehouse
	Dir       string // the server's state directory: catalog.db (SQLite), server.log, warehouse/
}

// IcebergRESTServer returns the shared Iceberg REST catalog server for opts, starting it on
// first use (one server per test binary and warehouse kind; tables of different tests are kept
// apart by namespace, see NewNamespace). The server jar is taken from Maven's local repository
// (~/.m2) or downloaded once from Maven Central (BINLAKE_MAVEN_REPO overrides the base URL) into
// ${BINLAKE_CACHE:-~/.cache/binlake}/maven/iceberg, its SHA-1 checked against the published one;
// BINLAKE_ICEBERG_REST_JAR names a jar to use as is. The server runs with $JAVA_HOME/bin/java or
// the java on PATH (17 or later) and is killed when the test binary exits.
//
// Clients reach the server on 127.0.0.1; note that RESTCatalogServer has no bind-address
// setting, so its port is open on every interface of the machine while the tests run.
func IcebergRESTServer(t testing.TB, opts IcebergRESTOptions) *IcebergREST {
	t.Helper()
	jar, err := icebergRESTJar()
	if err != nil {
		t.Fatalf("starting Iceberg REST catalog server: %v", err)
	}
	key := restKey
	if opts.MinIO != nil {
		key += " (s3 on " + opts.MinIO.Endpoint + ")"
	}
	return shared(t, key, func(ctx context.Context) (any, error) { return startIcebergREST(ctx, jar, opts) }).(*IcebergREST)
}

var nsSeq atomic.Int64

var unsafeNamespace = regexp.MustCompile(`[^a-z0-9_]+`)

// NewNamespace returns a namespace name unique to this test binary and test (not created:
// writers create it on first use).
func (r *IcebergREST) NewNamespace(t testing.TB) string {
	t.Helper()
	base := strings.Trim(unsafeNamespace.ReplaceAllString(strings.ToLower(t.Name()), "_"), "_")
	if len(base) > 40 {
		base = strings.Trim(base[:40], "_")
	}
	return fmt.Sprintf("t_%s_%d_%d", base, os.Getpid(), nsSeq.Add(1))
}

// ClientProperties returns the Iceberg catalog properties a client (pyiceberg, iceberg-go)
// needs besides uri and warehouse to write and read the warehouse's files: the S3 endpoint and
// credentials for an S3 warehouse, nothing for a local one.
func (r *IcebergREST) ClientProperties() map[string]string {
	if r.MinIO == nil {
		return map[string]string{}
	}
	return map[string]string{
		"s3.endpoint":                 r.MinIO.Endpoint,
		"s3.region":                   r.MinIO.Region,
		"s3.access-key-id":            r.MinIO.AccessKey,
		"s3.secret-access-key":        r.MinIO.SecretKey,
		"s3.path-style-access":        "true",
		"s3.force-virtual-addressing": "false",
	}
}

// restEnv returns the server's environment: the CATALOG_* variables RESTCatalogServer turns into
// catalog properties (CATALOG_ stripped, "__" -> "-", "_" -> ".", lower case), on top of base
// without any CATALOG_* or AWS_* variable of its own.
func restEnv(base []string, port int, dir, warehouse string, m *MinIO) []string {
	env := make([]string, 0, len(base)+16)
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "CATALOG_") || strings.HasPrefix(k, "AWS_") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"CATALOG_REST_PORT="+strconv.Itoa(port),
		"CATALOG_WAREHOUSE="+warehouse,
		"CATALOG_URI=jdbc:sqlite:file:"+filepath.Join(dir, "catalog.db"),
		"CATALOG_JDBC_SCHEMA__VERSION=V1",
	)
	if m != nil {
		env = append(env,
			"CATALOG_IO__IMPL=org.apache.iceberg.aws.s3.S3FileIO",
			"CATALOG_S3_ENDPOINT="+m.Endpoint,
			"CATALOG_S3_PATH__STYLE__ACCESS=true",
			"CATALOG_S3_ACCESS__KEY__ID="+m.AccessKey,
			"CATALOG_S3_SECRET__ACCESS__KEY="+m.SecretKey,
			"CATALOG_CLIENT_REGION="+m.Region,
			"AWS_REGION="+m.Region,
		)
	}
	return env
}

// restProcess is a running server process.
type restProcess struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed when the process has exited
	err    error         // the process's exit status, valid after exited is closed
}

// restProcesses are the servers this test binary started; killed at exit by the kernel
// (Pdeathsig) or by StopIcebergRESTServers.
var (
	restMu        sync.Mutex
	restProcesses []*restProcess
)

func startIcebergREST(ctx context.Context, jar string, opts IcebergRESTOptions) (*IcebergREST, error) {
	java, err := javaBinary()
	if err != nil {
		return nil, err
	}
	sweepRESTDirs()
	dir, err := os.MkdirTemp("", restDirPrefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return nil, fmt.Errorf("creating Iceberg REST server directory: %w", err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	r := &IcebergREST{URI: "http://127.0.0.1:" + strconv.Itoa(port), MinIO: opts.MinIO, Dir: dir}
	if opts.MinIO != nil {
		if err := opts.MinIO.createBucket(ctx, icebergRESTBucket); err != nil {
			return nil, err
		}
		r.Warehouse = "s3://" + icebergRESTBucket + "/warehouse-" + filepath.Base(dir)
	} else {
		wh := filepath.Join(dir, "warehouse")
		if err := os.MkdirAll(wh, 0o755); err != nil {
			return nil, fmt.Errorf("creating Iceberg REST warehouse: %w", err)
		}
		r.Warehouse = "file://" + wh
	}
	logPath := filepath.Join(dir, "server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("creating Iceberg REST server log: %w", err)
	}
	defer func() { _ = logFile.Close() }()
	// Small heap, serial GC and C1 only: the server is tiny and the machines have two cores.
	cmd := exec.Command(java, "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		"-Djava.io.tmpdir="+dir, "-jar", jar)
	cmd.Dir = dir
	cmd.Env = restEnv(os.Environ(), port, dir, r.Warehouse, opts.MinIO)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Own process group; killed by the kernel when the test binary dies, even by SIGKILL.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("running %s -jar %s: %w", java, jar, err)
	}
	p := &restProcess{cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	restMu.Lock()
	restProcesses = append(restProcesses, p)
	restMu.Unlock()
	if err := r.waitReady(ctx, p, logPath); err != nil {
		p.stop()
		return nil, err
	}
	return r, nil
}

// waitReady polls GET /v1/config until it answers 200, the process exits or ctx ends.
func (r *IcebergREST) waitReady(ctx context.Context, p *restProcess, logPath string) error {
	what := "Iceberg REST catalog server on " + r.URI
	var last error
	for {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		last = r.probe(pctx)
		cancel()
		if last == nil {
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited (%s) before it was ready: %w\n%s", what, p.exitStatus(), last, fileTail(logPath, 40))
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last check: %w)\n%s", what, ctx.Err(), last, fileTail(logPath, 40))
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func (r *IcebergREST) probe(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.URI+"/v1/config", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("getting /v1/config: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "overrides") {
		return fmt.Errorf("getting /v1/config: status %s: %.200s", resp.Status, body)
	}
	return nil
}

// exitStatus describes how the process ended; call it after exited is closed.
func (p *restProcess) exitStatus() string {
	if p.err == nil {
		return "exit status 0"
	}
	return p.err.Error()
}

// stop ends the server's process group: SIGTERM, then SIGKILL after five seconds.
func (p *restProcess) stop() {
	pid := p.cmd.Process.Pid
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-p.exited
	}
}

// StopIcebergRESTServers stops every Iceberg REST catalog server of this test binary and
// removes their directories. Without it the servers die with the test binary (the kernel kills
// them when it exits) and their directories are removed by the next test binary that starts one.
func StopIcebergRESTServers() {
	mu.Lock()
	for key := range servers {
		if strings.HasPrefix(key, restKey) {
			delete(servers, key)
		}
	}
	mu.Unlock()
	restMu.Lock()
	procs := restProcesses
	restProcesses = nil
	restMu.Unlock()
	for _, p := range procs {
		p.stop()
		_ = os.RemoveAll(p.cmd.Dir)
	}
}

// restDirPrefix starts the name of every server directory: binlake-iceberg-rest-<pid>-<random>.
const restDirPrefix = "binlake-iceberg-rest-"

// sweepRESTDirs removes the directories of servers whose test binary is no longer running.
func sweepRESTDirs() {
	entries, err := os.ReadDir(os.TempDir())
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), restDirPrefix)
		if !ok || !e.IsDir() {
			continue
		}
		pidText, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid <= 0 || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		_ = os.RemoveAll(filepath.Join(os.TempDir(), e.Name()))
	}
}

// javaBinary returns $JAVA_HOME/bin/java or the java on PATH.
func javaBinary() (string, error) {
	if home := os.Getenv("JAVA_HOME"); home != "" {
		if p := filepath.Join(home, "bin", "java"); isExecutable(p) {
			return p, nil
		}
	}
	p, err := exec.LookPath("java")
	if err != nil {
		return "", fmt.Errorf("the Iceberg REST catalog server needs java 17 or later on PATH (apt-get install openjdk-17-jre-headless, or set JAVA_HOME): %w", err)
	}
	return p, nil
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

var (
	jarOnce sync.Once
	jarPath string
	jarErr  error
)

// icebergRESTJar returns the path of the server jar, fetching it on first use.
func icebergRESTJar() (string, error) {
	jarOnce.Do(func() {
		if p := os.Getenv("BINLAKE_ICEBERG_REST_JAR"); p != "" {
			if _, err := os.Stat(p); err != nil {
				jarErr = fmt.Errorf("reading BINLAKE_ICEBERG_REST_JAR: %w", err)
				return
			}
			jarPath = p
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), jarFetchTimeout)
		defer cancel()
		base := os.Getenv("BINLAKE_MAVEN_REPO")
		if base == "" {
			base = mavenCentral
		}
		dst := filepath.Join(cacheDir(), "maven", "iceberg", filepath.Base(icebergRESTJarPath))
		jarPath, jarErr = cachedArtifact(ctx, dst, []string{localMavenRepoPath(icebergRESTJarPath)}, strings.TrimSuffix(base, "/")+"/"+icebergRESTJarPath, icebergRESTJarSHA1)
	})
	return jarPath, jarErr
}

// cacheDir is ${BINLAKE_CACHE:-$HOME/.cache/binlake}.
func cacheDir() string {
	return filepath.Dir(imagesEnvPath())
}

// localMavenRepoPath is where Maven's local repository (~/.m2/repository) keeps an artifact.
func localMavenRepoPath(rel string) string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".m2", "repository", filepath.FromSlash(rel))
}

// cachedArtifact returns dst when it exists; otherwise it fills dst from the first local copy
// whose SHA-1 is wantSHA1, or else from url (checked the same way). Writers in concurrent test
// binaries are serialised by a lock file, and dst only ever appears complete and checked.
func cachedArtifact(ctx context.Context, dst string, local []string, url, wantSHA1 string) (string, error) {
	if _, err := os.Stat(dst); err == nil {
		return dst, nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", fmt.Errorf("creating cache directory: %w", err)
	}
	lock, err := os.OpenFile(dst+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", fmt.Errorf("opening cache lock: %w", err)
	}
	defer func() { _ = lock.Close() }()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("locking %s: %w", lock.Name(), err)
	}
	defer func() { _ = syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) }()
	if _, err := os.Stat(dst); err == nil {
		return dst, nil // another test binary fetched it meanwhile
	}
	for _, src := range local {
		if src == "" {
			continue
		}
		f, err := os.Open(src)
		if err != nil {
			continue
		}
		err = writeChecked(dst, f, wantSHA1)
		_ = f.Close()
		if err == nil {
			return dst, nil
		}
	}
	fmt.Fprintf(os.Stderr, "containers: downloading %s (once, into %s)\n", url, filepath.Dir(dst))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("downloading %s (or put the jar at %s): %w", url, dst, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("downloading %s: status %s", url, resp.Status)
	}
	if err := writeChecked(dst, resp.Body, wantSHA1); err != nil {
		return "", fmt.Errorf("downloading %s: %w", url, err)
	}
	return dst, nil
}

// writeChecked copies r to dst through a temporary file, and renames it into place only when
// its SHA-1 is want.
func writeChecked(dst string, r io.Reader, want string) error {
	tmp, err := os.CreateTemp(filepath.Dir(dst), filepath.Base(dst)+".part-*")
	if err != nil {
		return fmt.Errorf("creating temporary file: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	h := sha1.New() //nolint:gosec // checksum published by Maven Central
	_, err = io.Copy(io.MultiWriter(tmp, h), r)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", tmp.Name(), err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("checking SHA-1: got %s, want %s", got, want)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("moving %s into place: %w", dst, err)
	}
	return nil
}

// fileTail returns the last n lines of a file.
func fileTail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(reading %s: %v)", path, err)
	}
	defer func() { _ = f.Close() }()
	lines := make([]string, 0, n)
	sc := bufio.NewScanner(io.LimitReader(f, 8<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if len(lines) == n {
			lines = lines[1:]
		}
		lines = append(lines, sc.Text())
	}
	return "server log tail (" + path + "):\n  " + strings.Join(lines, "\n  ")
}
