// Package containers starts the real servers binlake's integration tests run against (MySQL 8,
// MariaDB 10.11, Apache RocketMQ, MinIO) as Docker containers with testcontainers-go.
//
// Every container uses host networking and listens on a free 127.0.0.1 port picked by this
// package, so no test traffic leaves the machine. Servers are shared per test binary: the first
// caller starts one, later callers reuse it, and TerminateAll (call it from TestMain after m.Run)
// removes them. Containers left behind by a test binary that died are removed on the next start.
//
// Image names come from the environment (BINLAKE_IMAGE_MYSQL, BINLAKE_IMAGE_MARIADB,
// BINLAKE_IMAGE_ROCKETMQ, BINLAKE_IMAGE_MINIO) and otherwise from the images.env file that
// deploy/images/build.sh writes to ${BINLAKE_CACHE:-$HOME/.cache/binlake}. Official images
// (mysql:8.x, mariadb:10.11, apache/rocketmq:5.3.x, minio/minio) work as well.
package containers

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
)

// Labels put on every container this package starts.
const (
	labelOwner = "org.binlake.test.owner" // PID of the test binary that started the container
	labelRole  = "org.binlake.test.role"
)

// startTimeout bounds the start of one server, readiness checks included.
const startTimeout = 4 * time.Minute

func init() {
	// No traffic to the machine's gateway address, and no reaper image to pull.
	setDefaultEnv("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")
	setDefaultEnv("TESTCONTAINERS_RYUK_DISABLED", "true")
	if os.Getenv("BINLAKE_CONTAINERS_VERBOSE") == "" {
		tclog.SetDefault(tclog.NewNoopLogger())
	}
}

func setDefaultEnv(key, value string) {
	if _, ok := os.LookupEnv(key); !ok {
		_ = os.Setenv(key, value)
	}
}

// server is one shared server: started once, its result (or error) reused by every caller.
type server struct {
	once  sync.Once
	value any
	err   error
}

var (
	mu         sync.Mutex
	servers    = map[string]*server{}
	running    []*testcontainers.DockerContainer
	signalOnce sync.Once
	sweepOnce  sync.Once
)

// shared returns the server registered under key, starting it with start on first use.
func shared(t testing.TB, key string, start func(ctx context.Context) (any, error)) any {
	t.Helper()
	mu.Lock()
	s, ok := servers[key]
	if !ok {
		s = &server{}
		servers[key] = s
	}
	mu.Unlock()
	s.once.Do(func() {
		signalOnce.Do(terminateOnSignal)
		ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
		defer cancel()
		sweepOnce.Do(func() { removeOrphans(ctx) })
		begin := time.Now()
		s.value, s.err = start(ctx)
		if s.err == nil {
			fmt.Fprintf(os.Stderr, "containers: %s ready in %s\n", key, time.Since(begin).Round(time.Millisecond))
		}
	})
	if s.err != nil {
		t.Fatalf("starting %s server: %v", key, s.err)
	}
	return s.value
}

// TerminateAll removes every container this package started. Call it from TestMain after m.Run.
func TerminateAll() {
	StopIcebergRESTServers()
	mu.Lock()
	ctrs := running
	running = nil
	servers = map[string]*server{}
	mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, c := range ctrs {
		if err := c.Terminate(ctx, testcontainers.StopTimeout(5*time.Second)); err != nil {
			fmt.Fprintf(os.Stderr, "containers: terminating %s: %v\n", c.GetContainerID(), err)
		}
	}
}

// terminateOnSignal removes the containers when the test binary is interrupted, then lets the
// signal take its normal course.
func terminateOnSignal() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		sig := <-ch
		TerminateAll()
		signal.Reset(os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
		if s, ok := sig.(syscall.Signal); ok {
			_ = syscall.Kill(os.Getpid(), s)
		}
		os.Exit(1)
	}()
}

// removeOrphans removes containers of this package whose test binary is no longer running.
func removeOrphans(ctx context.Context) {
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return
	}
	defer func() { _ = cli.Close() }()
	res, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: client.Filters{}.Add("label", labelOwner)})
	if err != nil {
		return
	}
	for _, c := range res.Items {
		pid, err := strconv.Atoi(c.Labels[labelOwner])
		if err != nil || pid <= 0 || processAlive(pid) {
			continue
		}
		_, _ = cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	}
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// spec describes one container to start.
type spec struct {
	role       string            // "mysql", "mariadb", "rocketmq-namesrv", ...
	image      string            // image reference
	env        map[string]string // environment
	entrypoint []string          // nil keeps the image's
	cmd        []string          // arguments
	tmpfs      map[string]string // tmpfs mounts (path -> options)
	files      []testcontainers.ContainerFile
}

// startContainer starts s with host networking and registers it for TerminateAll.
func startContainer(ctx context.Context, s spec) (*testcontainers.DockerContainer, error) {
	if err := checkImage(ctx, s.image); err != nil {
		return nil, err
	}
	opts := []testcontainers.ContainerCustomizer{
		testcontainers.WithEnv(s.env),
		testcontainers.WithLabels(map[string]string{labelOwner: strconv.Itoa(os.Getpid()), labelRole: s.role}),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			hc.NetworkMode = "host"
			if len(s.tmpfs) > 0 {
				hc.Tmpfs = s.tmpfs
			}
		}),
	}
	if s.entrypoint != nil {
		opts = append(opts, testcontainers.WithEntrypoint(s.entrypoint...))
	}
	if s.cmd != nil {
		opts = append(opts, testcontainers.WithCmd(s.cmd...))
	}
	if len(s.files) > 0 {
		opts = append(opts, testcontainers.WithFiles(s.files...))
	}
	c, err := testcontainers.Run(ctx, s.image, opts...)
	if c != nil {
		mu.Lock()
		running = append(running, c)
		mu.Unlock()
	}
	if err != nil {
		return nil, fmt.Errorf("running %s container from %s: %w", s.role, s.image, err)
	}
	return c, nil
}

// checkImage fails with a clear message when img is not in the local Docker engine (no registry
// can be reached from the test machines, so a missing image is not pulled for local ones).
func checkImage(ctx context.Context, img string) error {
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return fmt.Errorf("connecting to Docker (is it running? try deploy/local/ensure-docker.sh): %w", err)
	}
	defer func() { _ = cli.Close() }()
	if _, err := cli.ImageInspect(ctx, img); err != nil {
		if isLocalImage(img) {
			return fmt.Errorf("image %s is missing: run `make images` (deploy/images/build.sh): %w", img, err)
		}
		// An official image: let testcontainers pull it.
		return nil
	}
	return nil
}

// waitReady calls probe until it succeeds, the container exits or ctx ends; the error carries
// the last probe error and the container's log tail.
func waitReady(ctx context.Context, c *testcontainers.DockerContainer, what string, probe func(ctx context.Context) error) error {
	var last error
	for {
		pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		last = probe(pctx)
		cancel()
		if last == nil {
			return nil
		}
		if st, err := c.State(ctx); err == nil && !st.Running {
			return fmt.Errorf("%s exited (code %d) before it was ready: %w\n%s", what, st.ExitCode, last, logTail(c, 40))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last check: %w)\n%s", what, ctx.Err(), last, logTail(c, 40))
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// logTail returns the last n lines of a container's log.
func logTail(c *testcontainers.DockerContainer, n int) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rc, err := c.Logs(ctx)
	if err != nil {
		return fmt.Sprintf("(reading container log: %v)", err)
	}
	defer func() { _ = rc.Close() }()
	lines := make([]string, 0, n)
	sc := bufio.NewScanner(io.LimitReader(rc, 8<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if len(lines) == n {
			lines = lines[1:]
		}
		lines = append(lines, sc.Text())
	}
	return "container log tail:\n  " + strings.Join(lines, "\n  ")
}

// imageFor returns the image for a server: $BINLAKE_IMAGE_<NAME>, else the entry of images.env.
func imageFor(name string) (string, error) {
	key := "BINLAKE_IMAGE_" + strings.ToUpper(name)
	if v := strings.TrimSpace(os.Getenv(key)); v != "" {
		return v, nil
	}
	path := imagesEnvPath()
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("no image for %s: %s is unset and %s cannot be read (run `make images`): %w", name, key, path, err)
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if ok && k == key && v != "" {
			return v, nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	return "", fmt.Errorf("no image for %s: %s is unset and missing from %s (run `make images`)", name, key, path)
}

func imagesEnvPath() string {
	if dir := os.Getenv("BINLAKE_CACHE"); dir != "" {
		return filepath.Join(dir, "images.env")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		home = os.TempDir()
	}
	return filepath.Join(home, ".cache", "binlake", "images.env")
}

// isLocalImage reports whether img was built by deploy/images/build.sh (repository
// binlake-test/..., or another binlake-* prefix chosen with BINLAKE_IMAGE_REPO).
func isLocalImage(img string) bool {
	return strings.HasPrefix(img, "binlake-") && strings.Contains(img, "/")
}

// imageTag returns the tag of an image reference ("" when it has none).
func imageTag(img string) string {
	if i := strings.LastIndex(img, ":"); i > strings.LastIndex(img, "/") {
		return img[i+1:]
	}
	return ""
}
