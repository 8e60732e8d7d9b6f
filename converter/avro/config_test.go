package avro

import (
	"context"
	"strings"
	"testing"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/spec"
	"github.com/binlake/binlake/converter/internal/convtest"
)

func TestFromConfig(t *testing.T) {
	reg := newRegistry(t)
	c, err := FromConfig(connect.Config{ConfigEvolutionPolicy: "allow", ConfigSubjectStrategy: "TopicRecordNameStrategy", ConfigNamePrefix: "x"}, reg)
	if err != nil {
		t.Fatal(err)
	}
	if c.opts.Policy != PolicyAllow || c.opts.Subjects != TopicRecordNameStrategy || c.opts.NamePrefix != "x" {
		t.Errorf("options %+v", c.opts)
	}
	// The key the hints name, as the worker hands it over (connector keys
	// under value.converter., prefix removed), selects the policy.
	key, ok := strings.CutPrefix(ConnectorKeyEvolutionPolicy, spec.ValueConverter+".")
	if !ok {
		t.Fatalf("%s is not under %s.", ConnectorKeyEvolutionPolicy, spec.ValueConverter)
	}
	if c2, err := FromConfig(connect.Config{key: "allow"}, reg); err != nil || c2.opts.Policy != PolicyAllow {
		t.Errorf("FromConfig with %s=allow: %v", ConnectorKeyEvolutionPolicy, err)
	}
	body, id, err := c.EncodeWithID(context.Background(), "t", convtest.Events(convtest.AllKinds())[0])
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := c.SchemaID(body); !ok || int(got) != id {
		t.Errorf("SchemaID %d %v, want %d", got, ok, id)
	}
	if _, ok := c.SchemaID([]byte{1, 2}); ok {
		t.Error("SchemaID accepted a short body")
	}
	bad := []connect.Config{
		{ConfigEvolutionPolicy: "sometimes"},
		{ConfigSubjectStrategy: "RecordNameStrategy"},
		{ConfigRegistryURL: "ftp://x"},
		{ConfigRegistryURL: "http://127.0.0.1:1", ConfigBasicAuthUserInfo: "nocolon"},
	}
	for _, cfg := range bad {
		if _, err := FromConfig(cfg, reg); err == nil {
			t.Errorf("FromConfig(%v) succeeded", cfg)
		}
	}
	if _, err := FromConfig(connect.Config{}, nil); err == nil {
		t.Error("FromConfig without any registry succeeded")
	}
	if c, err := Factory(nil)(connect.Config{ConfigRegistryURL: "http://127.0.0.1:8081"}); err != nil || c == nil {
		t.Errorf("factory with a URL: %v", err)
	}
}
