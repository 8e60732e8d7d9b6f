//go:build integration

package registry_test

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/converter/avro"
	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/schema/avroschema"
	"github.com/binlake/binlake/schema/registry"
)

// Apicurio Registry from Maven Central. (3.3.1, named in REFERENCE.md, is not
// published there; 3.3.3 is.)
const (
	apicurioVersion = "3.3.3"
	apicurioURL     = "https://repo1.maven.org/maven2/io/apicurio/apicurio-registry-app/" + apicurioVersion +
		"/apicurio-registry-app-" + apicurioVersion + "-all.tar.gz"
)

func cacheDir(t *testing.T) string {
	if d := os.Getenv("BINLAKE_CACHE"); d != "" {
		return filepath.Join(d, "apicurio")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(home, ".cache", "binlake", "apicurio")
}

// apicurioHome downloads (once) and unpacks (once) the Apicurio distribution.
func apicurioHome(t *testing.T) string {
	dir := cacheDir(t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tgz := filepath.Join(dir, "apicurio-registry-app-"+apicurioVersion+"-all.tar.gz")
	if _, err := os.Stat(tgz); err != nil {
		t.Logf("downloading %s", apicurioURL)
		resp, err := http.Get(apicurioURL)
		if err != nil {
			t.Fatalf("downloading Apicurio Registry: %v", err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("downloading Apicurio Registry: HTTP %d", resp.StatusCode)
		}
		f, err := os.Create(tgz + ".part")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(f, resp.Body); err != nil {
			t.Fatalf("downloading Apicurio Registry: %v", err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tgz+".part", tgz); err != nil {
			t.Fatal(err)
		}
	}
	home := filepath.Join(dir, apicurioVersion)
	if _, err := os.Stat(filepath.Join(home, "quarkus-run.jar")); err == nil {
		return home
	}
	tmp := home + ".tmp"
	_ = os.RemoveAll(tmp)
	if err := untar(tgz, tmp); err != nil {
		t.Fatalf("unpacking Apicurio Registry: %v", err)
	}
	if err := os.Rename(tmp, home); err != nil {
		t.Fatal(err)
	}
	return home
}

func untar(path, dest string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		target := filepath.Join(dest, filepath.Clean("/"+h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
			if err != nil {
				return err
			}
			if _, err := io.Copy(out, tr); err != nil {
				out.Close()
				return err
			}
			if err := out.Close(); err != nil {
				return err
			}
		}
	}
}

// javaMajor returns the major version "java -version" reports, or 0.
func javaMajor(java string) int {
	out, err := exec.Command(java, "-version").CombinedOutput()
	if err != nil {
		return 0
	}
	s := string(out)
	i := strings.Index(s, "version \"")
	if i < 0 {
		return 0
	}
	s = s[i+len("version \""):]
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// findJava returns a java binary of version 21 or newer (Apicurio 3.3 needs
// it): $BINLAKE_JAVA, java on the PATH, or a JDK under /usr/lib/jvm.
func findJava(t *testing.T) string {
	candidates := []string{os.Getenv("BINLAKE_JAVA"), "java"}
	dirs, _ := filepath.Glob("/usr/lib/jvm/*/bin/java")
	candidates = append(candidates, dirs...)
	for _, c := range candidates {
		if c != "" && javaMajor(c) >= 21 {
			return c
		}
	}
	t.Fatalf("Apicurio Registry %s needs Java 21 or newer; none found (set BINLAKE_JAVA to a java binary)", apicurioVersion)
	return ""
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startApicurio runs Apicurio Registry (in-memory storage) on a loopback port
// and returns its Confluent-compatible API base URL.
func startApicurio(t *testing.T) string {
	home := apicurioHome(t)
	port := freePort(t)
	logPath := filepath.Join(t.TempDir(), "apicurio.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(findJava(t), "-Xmx512m",
		"-Dquarkus.http.host=127.0.0.1", fmt.Sprintf("-Dquarkus.http.port=%d", port),
		"-Dquarkus.management.enabled=false", "-jar", "quarkus-run.jar")
	cmd.Dir = home
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting Apicurio Registry: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		_, _ = cmd.Process.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		logFile.Close()
	})
	base := fmt.Sprintf("http://127.0.0.1:%d/apis/ccompat/v7", port)
	deadline := time.Now().Add(180 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			logs, _ := os.ReadFile(logPath)
			t.Fatalf("Apicurio Registry exited during start; log:\n%s", logs)
		default:
		}
		resp, err := http.Get(base + "/subjects")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return base
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	logs, _ := os.ReadFile(logPath)
	t.Fatalf("Apicurio Registry did not answer on %s within 180 s; log:\n%s", base, logs)
	return ""
}

const (
	orderV1 = `{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"long"}]}`
	orderV2 = `{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"long"},{"name":"note","type":["null","string"],"default":null}]}`
	orderV3 = `{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"long"},{"name":"qty","type":"int"}]}`
)

// TestApicurioInterop runs the registry client and the Avro converter against
// Apicurio Registry's Confluent API.
func TestApicurioInterop(t *testing.T) {
	base := startApicurio(t)
	ctx := context.Background()
	c, err := registry.NewClient(base)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("client", func(t *testing.T) {
		id1, err := c.Register(ctx, "orders-value", orderV1)
		if err != nil {
			t.Fatal(err)
		}
		fresh, _ := registry.NewClient(base) // no caches
		again, err := fresh.Register(ctx, "orders-value", orderV1)
		if err != nil || again != id1 {
			t.Errorf("re-register: id %d (first %d), %v", again, id1, err)
		}
		text, err := fresh.SchemaByID(ctx, id1)
		if err != nil {
			t.Fatal(err)
		}
		if p, err := avroschema.Parse(text); err != nil || p.Name != "shop.Order" {
			t.Errorf("schema by id: %s %v", text, err)
		}
		ss, err := fresh.Lookup(ctx, "orders-value", orderV1)
		if err != nil || ss.ID != id1 || ss.Version != 1 {
			t.Errorf("lookup: %+v %v", ss, err)
		}
		if _, err := fresh.Lookup(ctx, "orders-value", orderV2); !registry.IsNotFound(err) {
			t.Errorf("lookup of an unregistered schema: %v", err)
		}
		if _, err := fresh.Versions(ctx, "no-such-subject"); !registry.IsNotFound(err) || registry.ErrorCode(err) != registry.CodeSubjectNotFound {
			t.Errorf("versions of a missing subject: %v", err)
		}
		if _, err := fresh.SchemaByID(ctx, 987654); !registry.IsNotFound(err) {
			t.Errorf("missing id: %v", err)
		}
		if err := fresh.SetCompatibility(ctx, "orders-value", registry.Backward); err != nil {
			t.Fatal(err)
		}
		if lvl, err := fresh.Compatibility(ctx, "orders-value"); err != nil || lvl != registry.Backward {
			t.Errorf("compatibility: %s %v", lvl, err)
		}
		id2, err := fresh.Register(ctx, "orders-value", orderV2)
		if err != nil || id2 == id1 {
			t.Errorf("register v2: %d %v", id2, err)
		}
		ok, _, err := fresh.TestCompatibility(ctx, "orders-value", 0, orderV3)
		if err != nil || ok {
			t.Errorf("compatibility test of v3: %v %v", ok, err)
		}
		if _, err := fresh.Register(ctx, "orders-value", orderV3); !registry.IsIncompatible(err) {
			t.Errorf("register v3: want 409, got %v", err)
		}
		vs, err := fresh.Versions(ctx, "orders-value")
		if err != nil || len(vs) != 2 {
			t.Errorf("versions %v %v", vs, err)
		}
		latest, err := fresh.SchemaVersion(ctx, "orders-value", 0)
		if err != nil || latest.ID != id2 || latest.Version != 2 {
			t.Errorf("latest %+v %v", latest, err)
		}
		if _, err := fresh.DeleteSubject(ctx, "orders-value", false); err != nil {
			t.Errorf("delete subject: %v", err)
		}
	})

	t.Run("converter", func(t *testing.T) {
		conv, err := avro.New(c, avro.Options{})
		if err != nil {
			t.Fatal(err)
		}
		v1 := &schema.Table{Database: "shop", Name: "items", Version: 1, Columns: []schema.Column{
			{Name: "id", Kind: schema.KindInt64},
			{Name: "price", Kind: schema.KindDecimal, Precision: 10, Scale: 2},
			{Name: "at", Kind: schema.KindTimestampTZ, Optional: true},
		}, PrimaryKey: []int{0}}
		price := schema.Decimal{Unscaled: big.NewInt(-12345), Scale: 2}
		ev := &connect.ChangeEvent{Op: connect.OpCreate, Schema: v1, After: []any{int64(1), price, int64(1_700_000_000_000_001)},
			Source: connect.SourceInfo{Connector: "c", Database: "shop", Table: "items", Sequence: 7}}
		body, id, err := conv.EncodeWithID(ctx, "shop_items", ev)
		if err != nil {
			t.Fatal(err)
		}
		reader, _ := avro.New(c, avro.Options{})
		got, err := reader.Decode(ctx, "shop_items", body)
		if err != nil {
			t.Fatalf("decode (schema id %d): %v", id, err)
		}
		if got.After[1].(schema.Decimal).String() != "-123.45" || got.After[2].(int64) != 1_700_000_000_000_001 || got.Source.Sequence != 7 {
			t.Errorf("decoded %+v", got.After)
		}
		if err := c.SetCompatibility(ctx, "shop_items-value", registry.Backward); err != nil {
			t.Fatal(err)
		}
		v2 := *v1
		v2.Version = 2
		v2.Columns = append(append([]schema.Column(nil), v1.Columns...), schema.Column{Name: "note", Kind: schema.KindString, Optional: true})
		if _, err := conv.Encode(ctx, "shop_items", &connect.ChangeEvent{Op: connect.OpCreate, Schema: &v2, After: []any{int64(2), price, nil, "n"}}); err != nil {
			t.Fatalf("compatible change: %v", err)
		}
		// A decimal scale change: Apicurio's own rules may let it through;
		// binlake's check (policy fail) rejects it.
		v3 := v2
		v3.Version = 3
		v3.Columns = append([]schema.Column(nil), v2.Columns...)
		v3.Columns[1].Scale = 3
		_, err = conv.Encode(ctx, "shop_items", &connect.ChangeEvent{Op: connect.OpCreate, Schema: &v3, After: []any{int64(3), schema.Decimal{Unscaled: big.NewInt(1), Scale: 3}, nil, nil}})
		if err == nil || !strings.Contains(err.Error(), "decimal scale changed") || !connect.IsTerminal(err) {
			t.Errorf("decimal scale change: %v", err)
		}
	})
}
