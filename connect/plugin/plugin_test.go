package plugin

import (
	"context"
	"strings"
	"testing"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/spec"
)

type nopConnector struct{}

func (nopConnector) TaskConfigs(context.Context, connect.Config, int) ([]connect.Config, error) {
	return nil, nil
}

func newNop() connect.Connector { return nopConnector{} }

func TestRegistry(t *testing.T) {
	var r Registry
	good := Plugin{Name: "b", Kind: Sink, New: newNop, Spec: &spec.Spec{Keys: []spec.Key{{Name: "x", Type: spec.Int, Default: "2"}}}}
	if err := r.Register(good); err != nil {
		t.Fatal(err)
	}
	if err := r.Register(Plugin{Name: "a", Kind: Source, New: newNop}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		p    Plugin
		want string
	}{
		{"duplicate", good, "already registered"},
		{"no name", Plugin{Kind: Sink, New: newNop}, "empty name"},
		{"bad kind", Plugin{Name: "c", Kind: "both", New: newNop}, "unknown kind"},
		{"no New", Plugin{Name: "c", Kind: Sink}, "New is nil"},
		{"bad spec", Plugin{Name: "c", Kind: Sink, New: newNop, Spec: &spec.Spec{Keys: []spec.Key{{Name: "x", Type: spec.Int, Default: "z"}}}}, "default"},
	}
	for _, tt := range tests {
		if err := r.Register(tt.p); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Register = %v, want %q", tt.name, err, tt.want)
		}
	}
	all := r.All()
	if len(all) != 2 || all[0].Name != "a" || all[1].Name != "b" {
		t.Fatalf("All = %v", all)
	}
	p, ok := r.Lookup("b")
	if !ok {
		t.Fatal("Lookup(b) failed")
	}
	full := p.FullSpec()
	for _, k := range []string{spec.ConnectorClass, spec.TopicNames, "x"} {
		if _, ok := full.Key(k); !ok {
			t.Errorf("full sink spec lacks %s", k)
		}
	}
	if _, ok := full.Key(spec.TopicPrefix); ok {
		t.Error("sink spec has a source key")
	}
	if _, ok := r.Lookup("zzz"); ok {
		t.Error("Lookup of an unknown name succeeded")
	}
}

func TestRegisterPanicsOnDuplicate(t *testing.T) {
	Register(Plugin{Name: "plugin-test-dup", Kind: Source, New: newNop})
	defer func() {
		if recover() == nil {
			t.Error("duplicate Register did not panic")
		}
	}()
	Register(Plugin{Name: "plugin-test-dup", Kind: Source, New: newNop})
}

func TestWriteMarkdown(t *testing.T) {
	var b strings.Builder
	p := Plugin{Name: "demo", Kind: Source, Doc: "Demo plugin.", New: newNop, Spec: &spec.Spec{Keys: []spec.Key{
		{Name: "demo.pass", Type: spec.Password, Required: true, Doc: "A | pipe.", Group: "Conn"},
		{Name: "demo.mode", Type: spec.String, Default: "a", Enum: []string{"a", "b"}, Doc: "Mode.", Group: "Other"},
	}}}
	if err := WriteMarkdown(&b, []Plugin{p}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"## `demo` (source)", "| `demo.pass` | password | — | A \\| pipe. (**required**; secret) |",
		"| `demo.mode` | string | `a` | Mode. (one of: `a`, `b`) |", "**Conn**", "`" + spec.MaxTasks + "`", "`" + spec.CommitIntervalMs + "`"} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
}
