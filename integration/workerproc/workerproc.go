// Package workerproc runs the real binlake binary as a child process for end-to-end tests: it builds cmd/binlake once per
// test binary, starts `binlake worker` on a free loopback port with its own data directory, waits until /readyz answers,
// talks to its REST API, and can kill it with SIGKILL and start it again on the same data directory.
package workerproc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	errBuild  error
)

// Binary builds cmd/binlake once per test binary and returns the path of the executable.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "binlake-bin-")
		if err != nil {
			errBuild = err
			return
		}
		binPath = filepath.Join(dir, "binlake")
		root, err := moduleRoot()
		if err != nil {
			errBuild = err
			return
		}
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/binlake")
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			errBuild = fmt.Errorf("building cmd/binlake: %w\n%s", err, out)
		}
	})
	if errBuild != nil {
		t.Fatal(errBuild)
	}
	return binPath
}

func moduleRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("locating the module root: no caller information")
	}
	return filepath.Abs(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Options configure a worker process.
type Options struct {
	// NamesrvAddr is the RocketMQ name server.
	NamesrvAddr string
	// DataDir is the worker's data directory; a temporary one when empty.
	DataDir string
	// Args are extra command-line arguments.
	Args []string
	// Env are extra environment variables ("K=V").
	Env []string
}

// Worker is one running (or stopped) binlake worker process.
type Worker struct {
	t       testing.TB
	opts    Options
	Addr    string // host:port of the REST API
	BaseURL string // http://host:port
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
}

// Start builds the binary if needed, starts a worker and waits until it is ready. The process is killed when the test
// ends.
func Start(t testing.TB, opts Options) *Worker {
	t.Helper()
	if opts.DataDir == "" {
		opts.DataDir = TestDir(t, "worker")
	}
	w := &Worker{t: t, opts: opts}
	w.start()
	t.Cleanup(func() { w.Kill() })
	return w
}

// KeepDirsEnv names the environment variable that keeps test directories: when it is set, TestDir creates
// directories under $BINLAKE_KEEP_DIRS (or the system temp directory when it is "1") and never removes them, so the
// lake tables and worker logs of a failing run can be examined afterwards.
const KeepDirsEnv = "BINLAKE_KEEP_DIRS"

// TestDir returns a directory for the test's files: t.TempDir() normally, a kept directory when BINLAKE_KEEP_DIRS is
// set (its path is logged).
func TestDir(t testing.TB, name string) string {
	t.Helper()
	root := os.Getenv(KeepDirsEnv)
	if root == "" {
		return t.TempDir()
	}
	if root == "1" {
		root = os.TempDir()
	}
	prefix := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()) + "-" + name + "-"
	dir, err := os.MkdirTemp(root, prefix)
	if err != nil {
		t.Fatalf("creating a kept test directory: %v", err)
	}
	t.Logf("keeping %s in %s", name, dir)
	return dir
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		return 0, fmt.Errorf("releasing port %d: %w", port, err)
	}
	return port, nil
}

func (w *Worker) start() {
	w.t.Helper()
	bin := Binary(w.t)
	if w.Addr == "" {
		port, err := freePort()
		if err != nil {
			w.t.Fatalf("picking a port for the worker: %v", err)
		}
		w.Addr = fmt.Sprintf("127.0.0.1:%d", port)
		w.BaseURL = "http://" + w.Addr
	}
	args := []string{"worker", "--rest.addr", w.Addr, "--data.dir", w.opts.DataDir}
	if w.opts.NamesrvAddr != "" {
		args = append(args, "--rocketmq.namesrv", w.opts.NamesrvAddr)
	}
	args = append(args, w.opts.Args...)
	w.logPath = filepath.Join(w.opts.DataDir, "worker.log")
	logf, err := os.OpenFile(w.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		w.t.Fatalf("opening the worker log: %v", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), w.opts.Env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		w.t.Fatalf("starting the worker: %v", err)
	}
	w.cmd = cmd
	w.done = make(chan struct{})
	go func() {
		_ = cmd.Wait()
		_ = logf.Close()
		close(w.done)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		resp, err := http.Get(w.BaseURL + "/readyz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-w.done:
			w.t.Fatalf("worker exited before it was ready; log:\n%s", w.Log())
		case <-ctx.Done():
			w.t.Fatalf("worker not ready after 60s; log:\n%s", w.Log())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Kill sends SIGKILL and waits for the process to exit. It is a no-op when the worker is not running.
func (w *Worker) Kill() {
	if w.cmd == nil || w.cmd.Process == nil {
		return
	}
	_ = w.cmd.Process.Signal(syscall.SIGKILL)
	<-w.done
	w.cmd = nil
}

// Stop sends SIGTERM (the worker's graceful shutdown) and waits up to timeout before killing it.
func (w *Worker) Stop(timeout time.Duration) {
	if w.cmd == nil || w.cmd.Process == nil {
		return
	}
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.done:
	case <-time.After(timeout):
		w.t.Logf("worker did not stop within %s after SIGTERM; killing it", timeout)
		_ = w.cmd.Process.Signal(syscall.SIGKILL)
		<-w.done
	}
	w.cmd = nil
}

// Restart starts the worker again on the same data directory and REST address after Kill or Stop.
func (w *Worker) Restart() {
	w.t.Helper()
	w.Kill()
	w.start()
}

// Log returns the worker's combined output so far.
func (w *Worker) Log() string {
	b, err := os.ReadFile(w.logPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	return string(b)
}

// Response is a decoded REST answer.
type Response struct {
	Status int
	Body   []byte
}

// JSON decodes the body into v.
func (r Response) JSON(v any) error { return json.Unmarshal(r.Body, v) }

// Do sends a request with an optional JSON body (a string is sent as is, anything else is marshalled).
func (w *Worker) Do(method, path string, body any) (Response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			return Response{}, fmt.Errorf("encoding request body: %w", err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, w.BaseURL+path, rd)
	if err != nil {
		return Response{}, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Response{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return Response{}, fmt.Errorf("reading %s %s: %w", method, path, err)
	}
	return Response{Status: resp.StatusCode, Body: data}, nil
}

// MustDo is Do that fails the test on a transport error or an unexpected status.
func (w *Worker) MustDo(method, path string, body any, wantStatus int) Response {
	w.t.Helper()
	r, err := w.Do(method, path, body)
	if err != nil {
		w.t.Fatal(err)
	}
	if r.Status != wantStatus {
		w.t.Fatalf("%s %s: status %d, want %d; body: %s", method, path, r.Status, wantStatus, r.Body)
	}
	return r
}

// WaitFor polls cond every interval until it returns true or timeout passes; the last error cond returned is reported.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	for {
		ok, err := cond()
		if ok {
			return
		}
		last = err
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s (last error: %v)", timeout, what, last)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// PID returns the process id of the running worker, or 0 when it is not running.
func (w *Worker) PID() int {
	if w.cmd == nil || w.cmd.Process == nil {
		return 0
	}
	return w.cmd.Process.Pid
}

// PeakRSS returns the running worker's peak resident set size in bytes since it started (VmHWM in
// /proc/<pid>/status; Linux only).
func (w *Worker) PeakRSS() (int64, error) {
	pid := w.PID()
	if pid == 0 {
		return 0, errors.New("reading the worker's peak RSS: the worker is not running")
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("reading the worker's peak RSS: %w", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		rest, ok := strings.CutPrefix(line, "VmHWM:")
		if !ok {
			continue
		}
		var kb int64
		if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb); err != nil {
			return 0, fmt.Errorf("parsing VmHWM %q: %w", strings.TrimSpace(rest), err)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("reading the worker's peak RSS: no VmHWM in /proc/%d/status", pid)
}

// Diagnose describes the worker for a failing test: every connector's status (GET /connectors?expand=status) and the
// last warnings and errors of its log, so that a failure in CI, where the directories are gone, says what the worker
// was doing.
func (w *Worker) Diagnose() string {
	var b strings.Builder
	if r, err := w.Do("GET", "/connectors?expand=status", nil); err != nil {
		fmt.Fprintf(&b, "connector status: %v\n", err)
	} else {
		fmt.Fprintf(&b, "connector status (HTTP %d): %s\n", r.Status, r.Body)
		var byName map[string]json.RawMessage
		if json.Unmarshal(r.Body, &byName) == nil {
			for _, name := range slices.Sorted(maps.Keys(byName)) {
				if o, err := w.Do("GET", "/connectors/"+name+"/offsets", nil); err == nil {
					fmt.Fprintf(&b, "offsets of %s (HTTP %d): %s\n", name, o.Status, o.Body)
				}
			}
		}
	}
	var notable []string
	for _, line := range strings.Split(w.Log(), "\n") {
		if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") || strings.Contains(line, "panic") {
			notable = append(notable, line)
		}
	}
	const keep = 40
	if len(notable) > keep {
		fmt.Fprintf(&b, "(%d earlier warnings and errors left out)\n", len(notable)-keep)
		notable = notable[len(notable)-keep:]
	}
	fmt.Fprintf(&b, "worker log warnings and errors:\n%s", strings.Join(notable, "\n"))
	return b.String()
}
