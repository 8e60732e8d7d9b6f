package main

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/binlake/binlake/connect/plugin"
)

// TestConfigDocsUpToDate fails when docs/config.md differs from what the
// registered plugin specs render.
func TestConfigDocsUpToDate(t *testing.T) {
	var want bytes.Buffer
	if err := writeConfigDocs(&want); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatalf("reading docs/config.md: %v (generate it with: go run ./cmd/binlake docs config > docs/config.md)", err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatal("docs/config.md is stale; regenerate it with: go run ./cmd/binlake docs config > docs/config.md")
	}
	for _, p := range plugin.All() {
		if !bytes.Contains(got, []byte("## `"+p.Name+"`")) {
			t.Errorf("docs/config.md lacks plugin %s", p.Name)
		}
	}
	if len(plugin.All()) < 2 {
		t.Errorf("only %d plugins compiled in", len(plugin.All()))
	}
}

func TestWorkerFlags(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	c, err := parseWorkerFlags(nil, getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.restAddr != "127.0.0.1:8082" || c.dataDir != "./binlake-data" || c.namesrv != "127.0.0.1:9876" ||
		c.restToken != "" || c.checkpointStore != storeFile {
		t.Errorf("defaults = %+v", c)
	}
	env["BINLAKE_REST_ADDR"] = "127.0.0.1:9999"
	env["BINLAKE_DATA_DIR"] = "/tmp/x"
	env["BINLAKE_ROCKETMQ_NAMESRV"] = "127.0.0.1:1"
	env["BINLAKE_REST_TOKEN"] = "tok"
	env["BINLAKE_CHECKPOINT_STORE"] = "rocketmq"
	env["BINLAKE_SHUTDOWN_TIMEOUT"] = "5s"
	c, err = parseWorkerFlags([]string{"--data.dir", "/tmp/y"}, getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.restAddr != "127.0.0.1:9999" || c.dataDir != "/tmp/y" || c.namesrv != "127.0.0.1:1" || c.restToken != "tok" ||
		c.checkpointStore != storeRocketMQ || c.shutdownTimeout != 5*time.Second {
		t.Errorf("env and flags = %+v", c)
	}
	if envName("producer.max-inflight-bytes") != "BINLAKE_PRODUCER_MAX_INFLIGHT_BYTES" {
		t.Error(envName("producer.max-inflight-bytes"))
	}
	bad := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--checkpoint.store=s3"}, nil, "file or rocketmq"},
		{[]string{"--log.level=loud"}, nil, "log.level"},
		{[]string{"--log.format=xml"}, nil, "log.format"},
		{[]string{"extra"}, nil, "unexpected"},
		{[]string{"--nope"}, nil, "not defined"},
		{nil, map[string]string{"BINLAKE_SHUTDOWN_TIMEOUT": "soon"}, "BINLAKE_SHUTDOWN_TIMEOUT"},
		{[]string{"--shutdown.timeout=0s"}, nil, "positive"},
	}
	for _, b := range bad {
		_, err := parseWorkerFlags(b.args, func(k string) string { return b.env[k] }, io.Discard)
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%v %v: err = %v, want %q", b.args, b.env, err, b.want)
		}
	}
}

func TestRunUsage(t *testing.T) {
	if code := run(nil); code != 2 {
		t.Errorf("no args: exit %d", code)
	}
	if code := run([]string{"bogus"}); code != 2 {
		t.Errorf("unknown command: exit %d", code)
	}
	if code := run([]string{"docs"}); code != 2 {
		t.Errorf("docs without config: exit %d", code)
	}
	if code := run([]string{"worker", "--checkpoint.store=nope"}); code != 2 {
		t.Errorf("bad worker flag: exit %d", code)
	}
}
