package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeLifecycle runs the worker command's serve loop with the file
// stores (RocketMQ unreachable: tasks retry), manages a connector over
// HTTP with a token, cancels (as SIGTERM does) and checks the connector's
// state survived on disk and comes back on the next start.
func TestServeLifecycle(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	cfg, err := parseWorkerFlags([]string{"--rest.addr", addr, "--data.dir", dir, "--rocketmq.namesrv", "127.0.0.1:1",
		"--shutdown.timeout", "2s"}, func(k string) string {
		if k == "BINLAKE_REST_TOKEN" {
			return "tok"
		}
		return ""
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.metricsPublic {
		t.Fatal("--rest.metrics.public is not on by default")
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	callAs := func(token, method, path, body string, want int) string {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Fatalf("%s %s = %d %s, want %d", method, path, resp.StatusCode, b, want)
		}
		return string(b)
	}
	call := func(method, path, body string, want int) string {
		t.Helper()
		return callAs("tok", method, path, body, want)
	}
	start := func() (context.CancelFunc, chan error) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- serve(ctx, cfg, log) }()
		deadline := time.Now().Add(20 * time.Second)
		for {
			resp, err := http.Get("http://" + addr + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return cancel, done
				}
			}
			if time.Now().After(deadline) {
				t.Fatal("worker never became ready")
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	stop := func(cancel context.CancelFunc, done chan error) {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("serve returned %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("serve did not stop")
		}
	}

	cancel, done := start()
	call("POST", "/connectors/lake1", `{"connector.class": "lake-sink", "connect.topicnames": "t1", "value.converter": "json",
		"s3.secret-access-key": "verysecret"}`, 201)
	call("POST", "/connectors/lake1/pause", "", 202)
	// Keys that only fail together are named in a 400 too.
	if body := call("POST", "/connectors/lake2", `{"connector.class": "lake-sink", "connect.topicnames": "t1",
		"iceberg.catalog.type": "rest", "iceberg.warehouse": "analytics"}`, 400); !strings.Contains(body, `"iceberg.catalog.uri"`) ||
		strings.Contains(body, `"iceberg.warehouse"`) {
		t.Errorf("rest catalog without a URI: %s", body)
	}
	if body := call("GET", "/connectors/lake1/config", "", 200); strings.Contains(body, "verysecret") {
		t.Errorf("config leaked the secret: %s", body)
	}
	call("GET", "/schema-registry/subjects", "", 200)
	// Prometheus scrapes /metrics without the token by default; the rest
	// of the API still needs it.
	if body := callAs("", "GET", "/metrics", "", 200); !strings.Contains(body, "binlake_task_state") {
		t.Errorf("/metrics without the token lacks binlake_task_state")
	}
	callAs("", "GET", "/connectors", "", 401)
	stop(cancel, done)
	if _, err := os.Stat(filepath.Join(dir, "state", "connectors", "lake1.json")); err != nil {
		t.Fatalf("connector state not persisted: %v", err)
	}

	// With --rest.metrics.public=false /metrics needs the token too.
	cfg.metricsPublic = false
	cancel, done = start()
	if body := call("GET", "/connectors/lake1/status", "", 200); !strings.Contains(body, `"target_state":"PAUSED"`) {
		t.Errorf("status after restart = %s", body)
	}
	callAs("", "GET", "/metrics", "", 401)
	call("GET", "/metrics", "", 200)
	stop(cancel, done)
}

func TestMetricsPublicFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  string
		want bool
	}{
		{nil, "", true},
		{nil, "false", false},
		{[]string{"--rest.metrics.public=false"}, "", false},
		{[]string{"--rest.metrics.public=true"}, "false", true}, // the flag wins
	} {
		c, err := parseWorkerFlags(tc.args, func(k string) string {
			if k == "BINLAKE_REST_METRICS_PUBLIC" {
				return tc.env
			}
			return ""
		}, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if c.metricsPublic != tc.want {
			t.Errorf("%v with BINLAKE_REST_METRICS_PUBLIC=%q: metricsPublic = %v, want %v", tc.args, tc.env, c.metricsPublic, tc.want)
		}
	}
}

// TestOpenStoreErrorSaysTopicOnce: an unreachable broker fails the
// rocketmq store with a message that names the checkpoint topic once.
func TestOpenStoreErrorSaysTopicOnce(t *testing.T) {
	cfg, err := parseWorkerFlags([]string{"--checkpoint.store", "rocketmq", "--rocketmq.namesrv", "127.0.0.1:1",
		"--data.dir", t.TempDir()}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := openStore(ctx, cfg, "checkpoints", "cp-topic")
	if err == nil {
		s.Close()
		t.Fatal("opening a store on an unreachable name server succeeded")
	}
	if n := strings.Count(err.Error(), "opening checkpoint topic cp-topic"); n != 1 {
		t.Errorf("error names the topic %d times, want once: %v", n, err)
	}
}
