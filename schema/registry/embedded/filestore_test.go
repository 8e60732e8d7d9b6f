package embedded

import (
	"context"
	"testing"

	"github.com/binlake/binlake/checkpoint/file"
	"github.com/binlake/binlake/schema/registry"
)

// TestFileStoreSurvivesReopen runs the registry on the file checkpoint store
// and reopens it, as a restarted development worker does.
func TestFileStoreSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	open := func() (*file.Store, *Registry) {
		s, err := file.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		return s, New(s, WithKeyPrefix("schema-registry/"))
	}
	s1, r1 := open()
	if err := r1.Load(ctx); err != nil {
		t.Fatal(err)
	}
	c1 := serve(t, r1)
	if _, err := c1.Register(ctx, "orders-value", v1); err != nil {
		t.Fatal(err)
	}
	id2, err := c1.Register(ctx, "orders-value", v2)
	if err != nil {
		t.Fatal(err)
	}
	if err := c1.SetCompatibility(ctx, "orders-value", registry.Full); err != nil {
		t.Fatal(err)
	}
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	s2, r2 := open()
	defer s2.Close()
	c2 := serve(t, r2)
	latest, err := c2.SchemaVersion(ctx, "orders-value", 0)
	if err != nil || latest.ID != id2 || latest.Version != 2 {
		t.Fatalf("latest after reopen: %+v %v", latest, err)
	}
	if lvl, err := c2.Compatibility(ctx, "orders-value"); err != nil || lvl != registry.Full {
		t.Errorf("level after reopen: %s %v", lvl, err)
	}
	if id, err := c2.Register(ctx, "x-value", `"string"`); err != nil || id != 3 {
		t.Errorf("next id after reopen: %d %v", id, err)
	}
}
