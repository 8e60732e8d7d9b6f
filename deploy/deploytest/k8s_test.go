package deploytest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/binlake/binlake/api"
	"github.com/binlake/binlake/connect/worker"
)

// object is one Kubernetes object, as generic YAML.
type object struct {
	file string
	m    map[string]any
}

func (o object) kind() string { return str(o.m, "kind") }
func (o object) name() string { return str(o.m, "metadata", "name") }
func (o object) String() string {
	return fmt.Sprintf("%s %s (%s)", o.kind(), o.name(), o.file)
}

// get walks nested maps; a numeric string key indexes a list.
func get(v any, path ...string) any {
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func str(v any, path ...string) string {
	s, _ := get(v, path...).(string)
	return s
}

func list(v any, path ...string) []any {
	l, _ := get(v, path...).([]any)
	return l
}

func mapOf(v any, path ...string) map[string]any {
	m, _ := get(v, path...).(map[string]any)
	return m
}

func intOf(v any, path ...string) (int, bool) {
	i, ok := get(v, path...).(int)
	return i, ok
}

// loadK8s parses every YAML file of deploy/k8s (multi-document files
// included).
func loadK8s(t *testing.T) (objs []object, kustomization map[string]any, files []string) {
	t.Helper()
	dir := repoPath("deploy", "k8s")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("reading deploy/k8s: %v", err)
	}
	for _, e := range entries {
		if e.IsDir() || (!strings.HasSuffix(e.Name(), ".yaml") && !strings.HasSuffix(e.Name(), ".yml")) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var m map[string]any
			err := dec.Decode(&m)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("parsing %s: %v", e.Name(), err)
			}
			if m == nil {
				continue
			}
			if str(m, "kind") == "Kustomization" {
				kustomization = m
				continue
			}
			objs = append(objs, object{file: e.Name(), m: m})
			files = append(files, e.Name())
		}
	}
	if kustomization == nil {
		t.Fatal("deploy/k8s has no kustomization.yaml")
	}
	return objs, kustomization, files
}

// manifests is deploy/k8s, indexed.
type manifests struct {
	objs  []object
	kust  map[string]any
	files []string
}

func (ms *manifests) find(kind, name string) (object, bool) {
	for _, o := range ms.objs {
		if o.kind() == kind && (name == "" || o.name() == name) {
			return o, true
		}
	}
	return object{}, false
}

func (ms *manifests) all(kind string) []object {
	var out []object
	for _, o := range ms.objs {
		if o.kind() == kind {
			out = append(out, o)
		}
	}
	return out
}

func loadManifests(t *testing.T) *manifests {
	objs, k, files := loadK8s(t)
	return &manifests{objs: objs, kust: k, files: files}
}

// worker returns the StatefulSet and its binlake container.
func (ms *manifests) worker(t *testing.T) (object, map[string]any) {
	t.Helper()
	sts, ok := ms.find("StatefulSet", "")
	if !ok {
		t.Fatal("no StatefulSet in deploy/k8s")
	}
	for _, c := range list(sts.m, "spec", "template", "spec", "containers") {
		if str(c, "name") == "binlake" {
			return sts, c.(map[string]any)
		}
	}
	t.Fatal("the StatefulSet has no container named binlake")
	return object{}, nil
}

// configMapData returns the data of the ConfigMap a container's envFrom
// names.
func (ms *manifests) configMapData(t *testing.T, ctr map[string]any) map[string]any {
	t.Helper()
	for _, ef := range list(ctr, "envFrom") {
		name := str(ef, "configMapRef", "name")
		if name == "" {
			continue
		}
		cm, ok := ms.find("ConfigMap", name)
		if !ok {
			t.Fatalf("envFrom names ConfigMap %s, which deploy/k8s does not define", name)
		}
		return mapOf(cm.m, "data")
	}
	t.Fatal("the binlake container takes no ConfigMap through envFrom")
	return nil
}

var apiVersions = map[string]string{
	"ServiceAccount": "v1", "ConfigMap": "v1", "Secret": "v1", "Service": "v1",
	"StatefulSet": "apps/v1", "Job": "batch/v1",
}

func TestK8sObjects(t *testing.T) {
	ms := loadManifests(t)
	kinds := map[string]int{}
	for _, o := range ms.objs {
		kinds[o.kind()]++
		want, known := apiVersions[o.kind()]
		if !known {
			t.Errorf("%v: unexpected kind", o)
			continue
		}
		if got := str(o.m, "apiVersion"); got != want {
			t.Errorf("%v: apiVersion %q, want %q", o, got, want)
		}
		if o.name() == "" {
			t.Errorf("%v: no metadata.name", o)
		}
		if ns := str(o.m, "metadata", "namespace"); ns != "" {
			t.Errorf("%v: has namespace %q; the manifests are namespace-less", o, ns)
		}
	}
	for _, k := range []string{"StatefulSet", "Service", "ConfigMap", "Secret", "ServiceAccount"} {
		if kinds[k] == 0 {
			t.Errorf("no %s", k)
		}
	}
	if kinds["StatefulSet"] != 1 {
		t.Errorf("%d StatefulSets, want 1", kinds["StatefulSet"])
	}

	// kustomization.yaml lists exactly the other files.
	var res []string
	for _, r := range list(ms.kust, "resources") {
		res = append(res, r.(string))
	}
	files := slices.Compact(slices.Sorted(slices.Values(ms.files)))
	sort.Strings(res)
	if !slices.Equal(res, files) {
		t.Errorf("kustomization resources %v, files %v", res, files)
	}
	if str(ms.kust, "namespace") != "" {
		t.Error("kustomization.yaml sets a namespace; the manifests are namespace-less")
	}
}

func TestK8sWorker(t *testing.T) {
	ms := loadManifests(t)
	sts, ctr := ms.worker(t)
	spec := mapOf(sts.m, "spec")
	pod := mapOf(spec, "template", "spec")

	if r, _ := intOf(spec, "replicas"); r != 1 {
		t.Errorf("replicas = %v; the worker is standalone, run exactly one", get(spec, "replicas"))
	}

	// The governing Service is headless and every Service selects the pod.
	podLabels := mapOf(spec, "template", "metadata", "labels")
	for k, v := range mapOf(spec, "selector", "matchLabels") {
		if podLabels[k] != v {
			t.Errorf("selector %s=%v does not match the pod labels %v", k, v, podLabels)
		}
	}
	gov, ok := ms.find("Service", str(spec, "serviceName"))
	if !ok {
		t.Fatalf("serviceName %q names no Service", str(spec, "serviceName"))
	}
	if str(gov.m, "spec", "clusterIP") != "None" {
		t.Errorf("governing Service %s is not headless", gov.name())
	}

	// Image and entrypoint: the image's ENTRYPOINT is the binary, so the
	// container passes the subcommand as args.
	df := dockerfile(t)
	if !slices.Equal(df.entrypoint, []string{"/usr/local/bin/binlake"}) {
		t.Errorf("deploy/Dockerfile ENTRYPOINT %v; update the container's args", df.entrypoint)
	}
	if get(ctr, "command") != nil {
		t.Error("the container overrides the image's entrypoint")
	}
	var args []string
	for _, a := range list(ctr, "args") {
		args = append(args, a.(string))
	}
	if len(args) == 0 || args[0] != "worker" {
		t.Errorf("args %v, want [worker ...]", args)
	}
	image := str(ctr, "image")
	var imageNames []string
	for _, im := range list(ms.kust, "images") {
		imageNames = append(imageNames, str(im, "name"))
	}
	if !slices.Contains(imageNames, image) {
		t.Errorf("image %q is not one kustomization.yaml sets (%v)", image, imageNames)
	}

	// Environment: only real worker flags (and Go runtime settings).
	flags := workerFlags(t)
	flagEnv := map[string]workerFlag{}
	for _, f := range flags {
		flagEnv[envName(f.name)] = f
	}
	runtimeEnv := map[string]bool{"GOMEMLIMIT": true, "GOMAXPROCS": true, "GOGC": true, "TMPDIR": true}
	data := ms.configMapData(t, ctr)
	env := map[string]string{}
	for k, v := range data {
		if _, ok := flagEnv[k]; !ok && !runtimeEnv[k] {
			t.Errorf("ConfigMap key %s is not a worker flag's variable (flags: %v)", k, keys(flagEnv))
		}
		env[k] = fmt.Sprint(v)
	}
	for _, e := range list(ctr, "env") {
		name := str(e, "name")
		if _, ok := flagEnv[name]; !ok && !runtimeEnv[name] {
			t.Errorf("container env %s is not a worker flag's variable", name)
		}
		if ref := mapOf(e, "valueFrom", "secretKeyRef"); ref != nil {
			sec, ok := ms.find("Secret", str(ref, "name"))
			if !ok {
				t.Errorf("env %s: Secret %s is not defined", name, str(ref, "name"))
			} else if _, ok := secretData(sec)[str(ref, "key")]; !ok {
				t.Errorf("env %s: Secret %s has no key %s", name, sec.name(), str(ref, "key"))
			}
			env[name] = "<secret>"
		} else {
			env[name] = str(e, "value")
		}
	}
	if env["BINLAKE_REST_TOKEN"] == "" {
		t.Error("the worker runs without BINLAKE_REST_TOKEN: the REST API would be open to the cluster")
	}
	if _, inCM := data["BINLAKE_REST_TOKEN"]; inCM {
		t.Error("BINLAKE_REST_TOKEN is in the ConfigMap; it belongs in the Secret")
	}
	if v := env["BINLAKE_CHECKPOINT_STORE"]; v != "" && v != "file" && v != "rocketmq" {
		t.Errorf("BINLAKE_CHECKPOINT_STORE=%q; cmd/binlake accepts file or rocketmq", v)
	}

	// Port: the REST address listens on all interfaces at the default
	// port, and the container, probes, Services and scrape annotation agree.
	defPort := restDefaultPort(t, flags)
	host, port, err := net.SplitHostPort(env["BINLAKE_REST_ADDR"])
	if err != nil {
		t.Fatalf("BINLAKE_REST_ADDR=%q: %v", env["BINLAKE_REST_ADDR"], err)
	}
	if host != "0.0.0.0" && host != "" {
		t.Errorf("BINLAKE_REST_ADDR host %q; the pod must listen on all interfaces", host)
	}
	if port != defPort {
		t.Errorf("BINLAKE_REST_ADDR port %s, the worker's default is %s", port, defPort)
	}
	if dfPort := df.env["BINLAKE_REST_ADDR"]; dfPort != "" && !strings.HasSuffix(dfPort, ":"+defPort) {
		t.Errorf("deploy/Dockerfile sets BINLAKE_REST_ADDR=%s, not port %s", dfPort, defPort)
	}
	portNames := map[string]string{}
	for _, p := range list(ctr, "ports") {
		n, _ := intOf(p, "containerPort")
		portNames[str(p, "name")] = strconv.Itoa(n)
	}
	if portNames["http"] != port {
		t.Errorf("container port http = %q, want %s", portNames["http"], port)
	}
	for _, svc := range ms.all("Service") {
		sel := mapOf(svc.m, "spec", "selector")
		if len(sel) == 0 {
			t.Errorf("%v selects nothing", svc)
		}
		for k, v := range sel {
			if podLabels[k] != v {
				t.Errorf("%v selector %s=%v does not match the pod", svc, k, v)
			}
		}
		for _, p := range list(svc.m, "spec", "ports") {
			tp := fmt.Sprint(get(p, "targetPort"))
			if tp != port && portNames[tp] == "" {
				t.Errorf("%v targetPort %s is no container port", svc, tp)
			}
			if n, _ := intOf(p, "port"); strconv.Itoa(n) != port {
				t.Errorf("%v port %d, want %s (clients use the worker's default port)", svc, n, port)
			}
		}
	}

	// Probes and scraping use real routes on the named port.
	routes := apiRoutes(t)
	probes := map[string]string{}
	for _, pr := range []string{"livenessProbe", "readinessProbe", "startupProbe"} {
		p := mapOf(ctr, pr, "httpGet")
		if p == nil {
			if pr != "startupProbe" {
				t.Errorf("no %s.httpGet", pr)
			}
			continue
		}
		path := str(p, "path")
		probes[pr] = path
		if _, ok := routes.match("GET", path); !ok {
			t.Errorf("%s path %s is not a GET route of the REST API", pr, path)
		}
		if pp := fmt.Sprint(get(p, "port")); pp != port && portNames[pp] == "" {
			t.Errorf("%s port %s is no container port", pr, pp)
		}
	}
	if probes["livenessProbe"] != "/healthz" || probes["readinessProbe"] != "/readyz" {
		t.Errorf("probes %v, want liveness /healthz and readiness /readyz", probes)
	}
	ann := mapOf(spec, "template", "metadata", "annotations")
	if str(ann, "prometheus.io/scrape") != "true" || str(ann, "prometheus.io/port") != port {
		t.Errorf("scrape annotations %v, want scrape=true port=%s", ann, port)
	}
	if p := str(ann, "prometheus.io/path"); p == "" {
		t.Error("no prometheus.io/path annotation")
	} else if _, ok := routes.match("GET", p); !ok {
		t.Errorf("prometheus.io/path %s is not a route", p)
	}

	// Data directory: the volume claim is mounted where BINLAKE_DATA_DIR
	// points, the image's default too.
	dataDir := env["BINLAKE_DATA_DIR"]
	if dataDir == "" || dataDir != df.env["BINLAKE_DATA_DIR"] {
		t.Errorf("BINLAKE_DATA_DIR=%q, the image's is %q", dataDir, df.env["BINLAKE_DATA_DIR"])
	}
	mounts := map[string]string{}
	for _, m := range list(ctr, "volumeMounts") {
		mounts[str(m, "mountPath")] = str(m, "name")
	}
	claims := map[string]bool{}
	for _, c := range list(spec, "volumeClaimTemplates") {
		claims[str(c, "metadata", "name")] = true
	}
	if !claims[mounts[dataDir]] {
		t.Errorf("data directory %s is mounted from %q, not from a volumeClaimTemplate (%v)", dataDir, mounts[dataDir], claims)
	}
	podVolumes := map[string]bool{}
	for _, v := range list(pod, "volumes") {
		podVolumes[str(v, "name")] = true
	}
	for path, name := range mounts {
		if !podVolumes[name] && !claims[name] {
			t.Errorf("mount %s uses volume %q, which is not defined", path, name)
		}
	}

	// Security: non-root as the image's user, read-only root file system
	// with every written path on a volume.
	psc := mapOf(pod, "securityContext")
	csc := mapOf(ctr, "securityContext")
	if get(psc, "runAsNonRoot") != true {
		t.Error("pod securityContext.runAsNonRoot is not true")
	}
	if uid, _ := intOf(psc, "runAsUser"); strconv.Itoa(uid) != df.uid {
		t.Errorf("runAsUser %d, the image's USER is %s", uid, df.uid)
	}
	if fsg, _ := intOf(psc, "fsGroup"); strconv.Itoa(fsg) != df.gid {
		t.Errorf("fsGroup %d, the image's group is %s: the volume would not be writable", fsg, df.gid)
	}
	if get(csc, "readOnlyRootFilesystem") != true || get(csc, "allowPrivilegeEscalation") != false {
		t.Errorf("container securityContext %v: want readOnlyRootFilesystem true, allowPrivilegeEscalation false", csc)
	}
	if !slices.Contains(list(csc, "capabilities", "drop"), any("ALL")) {
		t.Error("the container does not drop all capabilities")
	}
	for _, w := range []string{dataDir, "/tmp"} {
		if mounts[w] == "" {
			t.Errorf("%s is written by the worker but not mounted (the root file system is read-only)", w)
		}
	}

	// Resources: requests cover the 256 MiB RSS target, the limit is above
	// the request, and the Go soft limit sits below the hard one.
	req, err1 := parseQuantity(str(ctr, "resources", "requests", "memory"))
	lim, err2 := parseQuantity(str(ctr, "resources", "limits", "memory"))
	if err1 != nil || err2 != nil {
		t.Fatalf("memory request/limit: %v %v", err1, err2)
	}
	if req < 256<<20 {
		t.Errorf("memory request %d bytes is below the 256 MiB RSS target", req)
	}
	if lim < req {
		t.Errorf("memory limit %d is below the request %d", lim, req)
	}
	if gml := env["GOMEMLIMIT"]; gml != "" {
		soft, err := parseQuantity(strings.TrimSuffix(gml, "B"))
		if err != nil {
			t.Errorf("GOMEMLIMIT=%q: %v", gml, err)
		} else if soft >= lim || soft < req {
			t.Errorf("GOMEMLIMIT %d should be between the request %d and the limit %d", soft, req, lim)
		}
	}

	// Shutdown: the pod gets longer than the worker's own shutdown budget
	// (shutdown.timeout + 10s for the worker + 5s for the REST server).
	grace, _ := intOf(pod, "terminationGracePeriodSeconds")
	st := env["BINLAKE_SHUTDOWN_TIMEOUT"]
	if st == "" {
		st = flagDefault(flags, "shutdown.timeout", "30s")
	}
	d, err := time.ParseDuration(st)
	if err != nil {
		t.Fatalf("BINLAKE_SHUTDOWN_TIMEOUT=%q: %v", st, err)
	}
	if time.Duration(grace)*time.Second <= d+15*time.Second {
		t.Errorf("terminationGracePeriodSeconds %d is not above shutdown.timeout %v + 15s", grace, d)
	}
}

// TestK8sProbesNeedNoToken runs the REST handler with a token and a real
// (empty) worker: the probes must answer without the token, /readyz must
// follow the worker's start, and /metrics must answer without the token as
// the worker serves it by default (--rest.metrics.public=true), which is what
// the scrape annotations rely on.
func TestK8sProbesNeedNoToken(t *testing.T) {
	noMQ := errors.New("not used")
	w, err := worker.New(worker.Options{
		DataDir:     t.TempDir(),
		NewProducer: func(string) (worker.Producer, error) { return nil, noMQ },
		NewReader:   func(string) (worker.Reader, error) { return nil, noMQ },
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := api.New(api.Options{Worker: w, Token: "secret-token", PublicMetrics: true})
	get := func(path string) int {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code
	}
	if c := get("/healthz"); c != http.StatusOK {
		t.Errorf("/healthz without token: %d", c)
	}
	if c := get("/readyz"); c != http.StatusServiceUnavailable {
		t.Errorf("/readyz before start: %d, want 503", c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := w.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	}()
	if c := get("/readyz"); c != http.StatusOK {
		t.Errorf("/readyz after start: %d, want 200", c)
	}
	if c := get("/metrics"); c != http.StatusOK {
		t.Errorf("/metrics without token: %d; update the scrape notes in statefulset.yaml and docs/operations.md", c)
	}
	if c := get("/connectors"); c != http.StatusUnauthorized {
		t.Errorf("/connectors without token: %d, want 401", c)
	}
}

func TestK8sConnectorsJob(t *testing.T) {
	ms := loadManifests(t)
	job, ok := ms.find("Job", "")
	if !ok {
		t.Fatal("no connectors Job in deploy/k8s")
	}
	ctrs := list(job.m, "spec", "template", "spec", "containers")
	if len(ctrs) != 1 {
		t.Fatalf("the connectors Job has %d containers, want 1", len(ctrs))
	}
	ctr := mapOf(ctrs[0])
	url := ""
	for _, e := range list(ctr, "env") {
		if str(e, "name") == "BINLAKE_URL" {
			url = str(e, "value")
		}
	}
	m := regexp.MustCompile(`^http://([a-z0-9-]+):([0-9]+)$`).FindStringSubmatch(url)
	if m == nil {
		t.Fatalf("BINLAKE_URL=%q, want http://<service>:<port>", url)
	}
	svc, ok := ms.find("Service", m[1])
	if !ok {
		t.Fatalf("BINLAKE_URL names Service %s, which is not defined", m[1])
	}
	if n, _ := intOf(svc.m, "spec", "ports", "0", "port"); strconv.Itoa(n) != m[2] {
		t.Errorf("BINLAKE_URL port %s, Service %s listens on %d", m[2], svc.name(), n)
	}
	if str(svc.m, "spec", "clusterIP") == "None" {
		t.Errorf("the Job talks to headless Service %s", svc.name())
	}
	script := strings.Join(func() []string {
		var s []string
		for _, a := range list(ctr, "args") {
			s = append(s, a.(string))
		}
		return s
	}(), "\n")
	routes := apiRoutes(t)
	for _, c := range []struct{ method, path, marker string }{
		{"GET", "/readyz", `"$BINLAKE_URL/readyz"`},
		{"POST", "/connectors/x", `-X POST "$BINLAKE_URL/connectors/$name"`},
	} {
		if !strings.Contains(script, c.marker) {
			t.Errorf("the Job's script no longer calls %s", c.marker)
		}
		if _, ok := routes.match(c.method, c.path); !ok {
			t.Errorf("the Job calls %s %s, which is not a route", c.method, c.path)
		}
	}
	var secretVol string
	for _, v := range list(job.m, "spec", "template", "spec", "volumes") {
		if s := str(v, "secret", "secretName"); s != "" {
			secretVol = s
		}
	}
	sec, ok := ms.find("Secret", secretVol)
	if !ok {
		t.Fatalf("the Job mounts Secret %q, which is not defined", secretVol)
	}
	if _, ok := secretData(sec)["rest-token"]; !ok || !strings.Contains(script, "/secrets/rest-token") {
		t.Error("the Job does not read rest-token from the Secret")
	}
}

// TestK8sExampleConnectors checks the connector configs in the example
// Secret: valid JSON, a known connector class, and only keys of
// docs/config.md; the sink consumes topics the source writes.
func TestK8sExampleConnectors(t *testing.T) {
	ms := loadManifests(t)
	known := configKeys(t)
	passThrough := []string{"transforms.", "key.converter.", "value.converter.", "iceberg.catalog.properties.", "iceberg.table.properties."}
	var sourceTopics []string // topic prefixes the sources write: <prefix>_<db>_
	var sinkTopics []string
	n := 0
	for _, sec := range ms.all("Secret") {
		for k, v := range secretData(sec) {
			if !strings.HasSuffix(k, ".json") {
				continue
			}
			n++
			cfg := map[string]string{}
			if err := json.Unmarshal([]byte(v), &cfg); err != nil {
				t.Errorf("%s %s: %v (connector configs are objects of strings)", sec, k, err)
				continue
			}
			for key := range cfg {
				if !known[key] && !slices.ContainsFunc(passThrough, func(p string) bool { return strings.HasPrefix(key, p) }) {
					t.Errorf("%s %s: key %s is not in docs/config.md", sec, k, key)
				}
			}
			switch cfg["connector.class"] {
			case "mysql-source":
				prefix := cfg["topic.prefix"]
				if prefix == "" {
					prefix = strings.TrimSuffix(k, ".json")
				}
				for _, db := range strings.Split(cfg["database.include.list"], ",") {
					sourceTopics = append(sourceTopics, prefix+"_"+strings.TrimSpace(db)+"_")
				}
			case "lake-sink":
				sinkTopics = append(sinkTopics, strings.Split(cfg["connect.topicnames"], ",")...)
			default:
				t.Errorf("%s %s: connector.class %q is not a binlake plugin", sec, k, cfg["connector.class"])
			}
		}
	}
	if n == 0 {
		t.Fatal("the example Secret carries no connector configs")
	}
	for _, topic := range sinkTopics {
		if !slices.ContainsFunc(sourceTopics, func(p string) bool { return strings.HasPrefix(strings.TrimSpace(topic), p) }) {
			t.Errorf("sink topic %s is written by no example source (prefixes %v)", topic, sourceTopics)
		}
	}
}

// configKeys returns the keys documented in docs/config.md.
func configKeys(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z0-9._-]+)` \\|").FindAllStringSubmatch(string(readRepoFile(t, "docs", "config.md")), -1) {
		out[m[1]] = true
	}
	if len(out) < 20 {
		t.Fatalf("found only %d keys in docs/config.md", len(out))
	}
	return out
}

func secretData(o object) map[string]string {
	out := map[string]string{}
	for k, v := range mapOf(o.m, "stringData") {
		out[k] = fmt.Sprint(v)
	}
	for k := range mapOf(o.m, "data") {
		out[k] = "" // base64; only the key matters here
	}
	return out
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func flagDefault(flags []workerFlag, name, fallback string) string {
	for _, f := range flags {
		if f.name == name && f.def != "" {
			return f.def
		}
	}
	return fallback
}

// restDefaultPort is the port of the rest.addr flag's default.
func restDefaultPort(t *testing.T, flags []workerFlag) string {
	t.Helper()
	def := flagDefault(flags, "rest.addr", "")
	_, port, err := net.SplitHostPort(def)
	if err != nil {
		t.Fatalf("rest.addr default %q: %v", def, err)
	}
	return port
}

// parseQuantity parses the Kubernetes memory quantities the manifests use
// (and GOMEMLIMIT without its trailing B).
func parseQuantity(q string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"k", 1e3}, {"M", 1e6}, {"G", 1e9}}
	for _, u := range units {
		if n, ok := strings.CutSuffix(q, u.suffix); ok {
			v, err := strconv.ParseInt(n, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("quantity %q: %w", q, err)
			}
			return v * u.mult, nil
		}
	}
	v, err := strconv.ParseInt(q, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("quantity %q: %w", q, err)
	}
	return v, nil
}

// dockerImage is what the checks read from deploy/Dockerfile's last stage.
type dockerImage struct {
	entrypoint []string
	uid, gid   string
	env        map[string]string
}

func dockerfile(t *testing.T) dockerImage {
	t.Helper()
	out := dockerImage{env: map[string]string{}}
	for _, line := range strings.Split(string(readRepoFile(t, "deploy", "Dockerfile")), "\n") {
		instr, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch strings.ToUpper(instr) {
		case "FROM": // a new stage: only the last one counts
			out = dockerImage{env: map[string]string{}}
		case "ENTRYPOINT":
			if err := json.Unmarshal([]byte(rest), &out.entrypoint); err != nil {
				t.Fatalf("Dockerfile ENTRYPOINT %s is not exec form: %v", rest, err)
			}
		case "USER":
			out.uid, out.gid, _ = strings.Cut(strings.TrimSpace(rest), ":")
			if out.gid == "" {
				out.gid = out.uid
			}
		case "ENV":
			for _, kv := range strings.Fields(rest) {
				if k, v, ok := strings.Cut(kv, "="); ok {
					out.env[k] = v
				}
			}
		}
	}
	if out.uid == "" || len(out.entrypoint) == 0 {
		t.Fatal("deploy/Dockerfile's last stage has no USER or ENTRYPOINT")
	}
	return out
}

func TestParseQuantity(t *testing.T) {
	for q, want := range map[string]int64{"256Mi": 256 << 20, "1Gi": 1 << 30, "640Mi": 640 << 20, "500M": 500e6, "1024": 1024} {
		if got, err := parseQuantity(q); err != nil || got != want {
			t.Errorf("parseQuantity(%q) = %d, %v; want %d", q, got, err, want)
		}
	}
	for _, q := range []string{"", "Mi", "1.5Gi", "12x"} {
		if _, err := parseQuantity(q); err == nil {
			t.Errorf("parseQuantity(%q) accepted", q)
		}
	}
}
