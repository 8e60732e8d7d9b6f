package avro

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/connect/spec"
	"github.com/binlake/binlake/converter/internal/convtest"
	"github.com/binlake/binlake/schema"
	"github.com/binlake/binlake/schema/registry"
)

func ordersV1() *schema.Table {
	return &schema.Table{Database: "shop", Name: "orders", Version: 1, Columns: []schema.Column{
		{Name: "id", Kind: schema.KindInt64, SourceType: "bigint"},
		{Name: "name", Kind: schema.KindString, SourceType: "varchar(64)"},
		{Name: "price", Kind: schema.KindDecimal, Precision: 10, Scale: 2, SourceType: "decimal(10,2)"},
		{Name: "qty", Kind: schema.KindInt32, SourceType: "int"},
		{Name: "score", Kind: schema.KindFloat32, SourceType: "float"},
		{Name: "active", Kind: schema.KindBool, SourceType: "bit(1)"},
		{Name: "created", Kind: schema.KindTimestamp, SourceType: "datetime(6)"},
	}, PrimaryKey: []int{0}}
}

// next returns a copy of t with the next version number after edit.
func next(t *schema.Table, edit func(*schema.Table)) *schema.Table {
	n := *t
	n.Columns = append([]schema.Column(nil), t.Columns...)
	n.PrimaryKey = append([]int(nil), t.PrimaryKey...)
	n.Version++
	edit(&n)
	return &n
}

func col(t *schema.Table, name string) *schema.Column { return &t.Columns[t.ColumnIndex(name)] }

// evolutionSteps is the sequence of compatible DDL changes of issue 5.
func evolutionSteps() []struct {
	change string
	table  *schema.Table
} {
	v := ordersV1()
	steps := []struct {
		change string
		table  *schema.Table
	}{{"initial", v}}
	add := func(change string, edit func(*schema.Table)) {
		v = next(v, edit)
		steps = append(steps, struct {
			change string
			table  *schema.Table
		}{change, v})
	}
	add("add nullable column", func(t *schema.Table) {
		t.Columns = append(t.Columns, schema.Column{Name: "note", Kind: schema.KindString, Optional: true, SourceType: "text"})
	})
	add("add NOT NULL DEFAULT column", func(t *schema.Table) {
		t.Columns = append(t.Columns, schema.Column{Name: "status", Kind: schema.KindString, HasDefault: true, Default: "new", SourceType: "varchar(8)"})
	})
	add("drop column", func(t *schema.Table) {
		i := t.ColumnIndex("note")
		t.Columns = append(t.Columns[:i], t.Columns[i+1:]...)
	})
	add("int to bigint", func(t *schema.Table) { col(t, "qty").Kind, col(t, "qty").SourceType = schema.KindInt64, "bigint" })
	add("float to double", func(t *schema.Table) { col(t, "score").Kind, col(t, "score").SourceType = schema.KindFloat64, "double" })
	add("decimal precision widening", func(t *schema.Table) { col(t, "price").Precision, col(t, "price").SourceType = 12, "decimal(12,2)" })
	add("rename with alias", func(t *schema.Table) { c := col(t, "name"); c.Name, c.Aliases = "full_name", []string{"name"} })
	add("NOT NULL to nullable", func(t *schema.Table) { col(t, "active").Optional = true })
	return steps
}

func rowOf(t *schema.Table, n int) []any {
	row := make([]any, len(t.Columns))
	for i, c := range t.Columns {
		switch c.Kind {
		case schema.KindInt64, schema.KindTimestamp, schema.KindTimestampTZ:
			row[i] = int64(n)
		case schema.KindInt32:
			row[i] = int32(n)
		case schema.KindString:
			row[i] = "v" + c.Name
		case schema.KindDecimal:
			row[i] = schema.Decimal{Unscaled: big.NewInt(int64(1000 + n)), Scale: int32(c.Scale)}
		case schema.KindFloat32:
			row[i] = float32(n) / 4
		case schema.KindFloat64:
			row[i] = float64(n) / 8
		case schema.KindBool:
			row[i] = n%2 == 0
		}
	}
	return row
}

func TestEvolutionRegistersCompatibleVersions(t *testing.T) {
	ctx := context.Background()
	reg := newRegistry(t)
	c := newConverter(t, reg, Options{})
	dec := newConverter(t, reg, Options{})
	var bodies [][]byte
	var events []*connect.ChangeEvent
	lastID := 0
	for i, s := range evolutionSteps() {
		ev := &connect.ChangeEvent{Op: connect.OpCreate, Schema: s.table, After: rowOf(s.table, i)}
		body, id, err := c.EncodeWithID(ctx, "shop_orders", ev)
		if err != nil {
			t.Fatalf("step %d (%s): %v", i, s.change, err)
		}
		if id <= lastID {
			t.Errorf("step %d (%s): schema id %d not new (previous %d)", i, s.change, id, lastID)
		}
		lastID = id
		bodies, events = append(bodies, body), append(events, ev)
	}
	versions, err := reg.Versions(ctx, "shop_orders-value")
	if err != nil || len(versions) != len(evolutionSteps()) {
		t.Fatalf("versions %v %v, want %d", versions, err, len(evolutionSteps()))
	}
	// Every message still decodes with its own writer schema.
	for i, body := range bodies {
		got, err := dec.Decode(ctx, "shop_orders", body)
		if err != nil {
			t.Fatalf("decoding step %d: %v", i, err)
		}
		if d := convtest.EqualEvents(events[i], got); d != "" {
			t.Errorf("step %d: %s", i, d)
		}
	}
	renamed := evolutionSteps()[7].table
	if got, _ := dec.Decode(ctx, "shop_orders", bodies[7]); got.Schema.Columns[1].Name != "full_name" || got.Schema.Columns[1].Aliases[0] != "name" {
		t.Errorf("renamed column decoded as %+v (want %+v)", got.Schema.Columns[1], renamed.Columns[1])
	}
}

func TestEvolutionRejectsIncompatibleChanges(t *testing.T) {
	steps := evolutionSteps()
	last := steps[len(steps)-1].table
	cases := []struct {
		change string
		edit   func(*schema.Table)
		want   string
	}{
		{"decimal scale change", func(t *schema.Table) { col(t, "price").Scale = 3 }, "decimal scale changed from 2 to 3"},
		{"decimal precision narrowing", func(t *schema.Table) { col(t, "price").Precision = 8 }, "decimal precision narrowed from 12 to 8"},
		{"nullable to NOT NULL", func(t *schema.Table) { col(t, "active").Optional = false }, "nullable to NOT NULL"},
		{"bigint to int", func(t *schema.Table) { col(t, "qty").Kind = schema.KindInt32 }, "type changed from long to int"},
		{"DATETIME to TIMESTAMP", func(t *schema.Table) { col(t, "created").Kind = schema.KindTimestampTZ }, "adjust-to-utc=false to adjust-to-utc=true"},
		{"add NOT NULL without default", func(t *schema.Table) {
			t.Columns = append(t.Columns, schema.Column{Name: "must", Kind: schema.KindInt32})
		}, "field must was added without a default"},
	}
	for _, policy := range []Policy{PolicyFail, PolicyRegistry} {
		for _, tc := range cases {
			t.Run(string(policy)+"/"+tc.change, func(t *testing.T) {
				ctx := context.Background()
				reg := newRegistry(t)
				c := newConverter(t, reg, Options{Policy: policy})
				for _, s := range steps {
					if _, err := c.Encode(ctx, "shop_orders", &connect.ChangeEvent{Op: connect.OpRead, Schema: s.table, After: rowOf(s.table, 1)}); err != nil {
						t.Fatal(err)
					}
				}
				bad := next(last, tc.edit)
				_, err := c.Encode(ctx, "shop_orders", &connect.ChangeEvent{Op: connect.OpCreate, Schema: bad, After: rowOf(bad, 2)})
				if err == nil {
					t.Fatal("incompatible change was registered")
				}
				if !errors.Is(err, ErrIncompatibleSchema) || !connect.IsTerminal(err) {
					t.Errorf("error is not a terminal ErrIncompatibleSchema: %v", err)
				}
				// The hint names the key as the connector config spells it.
				hint := spec.ValueConverter + "." + ConfigEvolutionPolicy + "=" + string(PolicyAllow)
				for _, want := range []string{tc.want, "shop.orders", `"shop_orders-value"`, "BACKWARD", hint} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error lacks %q: %v", want, err)
					}
				}
				// Under PolicyFail binlake's own check speaks before the registry's.
				if fromRegistry := strings.Contains(err.Error(), "schema registry error"); fromRegistry != (policy == PolicyRegistry) {
					t.Errorf("policy %s: registry error=%v: %v", policy, fromRegistry, err)
				}
				if vs, _ := reg.Versions(ctx, "shop_orders-value"); len(vs) != len(steps) {
					t.Errorf("versions %v after a rejected change", vs)
				}
			})
		}
	}
}

func TestEvolutionPolicyAllow(t *testing.T) {
	ctx := context.Background()
	reg := newRegistry(t)
	c := newConverter(t, reg, Options{Policy: PolicyAllow})
	v1 := ordersV1()
	if _, err := c.Encode(ctx, "shop_orders", &connect.ChangeEvent{Op: connect.OpRead, Schema: v1, After: rowOf(v1, 1)}); err != nil {
		t.Fatal(err)
	}
	bad := next(v1, func(t *schema.Table) { col(t, "price").Scale = 4 })
	body, id, err := c.EncodeWithID(ctx, "shop_orders", &connect.ChangeEvent{Op: connect.OpCreate, Schema: bad, After: rowOf(bad, 2)})
	if err != nil {
		t.Fatalf("allow policy: %v", err)
	}
	if got, err := c.Decode(ctx, "shop_orders", body); err != nil || got.Schema.Columns[2].Scale != 4 {
		t.Errorf("decoding forced version: %v", err)
	}
	if vs, _ := reg.Versions(ctx, "shop_orders-value"); len(vs) != 2 || id <= 0 {
		t.Errorf("versions %v, id %d", vs, id)
	}
	// The subject's compatibility is back to what it was (none of its own).
	if _, had, err := reg.SubjectCompatibility(ctx, "shop_orders-value"); err != nil || had {
		t.Errorf("subject compatibility left behind: had=%v err=%v", had, err)
	}
	if lvl, _ := reg.Compatibility(ctx, "shop_orders-value"); lvl != registry.Backward {
		t.Errorf("level %s", lvl)
	}
}

func TestParsePolicy(t *testing.T) {
	for in, want := range map[string]Policy{"": PolicyFail, "FAIL": PolicyFail, "registry": PolicyRegistry, " allow ": PolicyAllow} {
		if got, err := ParsePolicy(in); err != nil || got != want {
			t.Errorf("ParsePolicy(%q) = %s, %v", in, got, err)
		}
	}
	if _, err := ParsePolicy("ignore"); err == nil {
		t.Error("ParsePolicy accepted an unknown policy")
	}
	if _, err := New(nil, Options{}); err == nil {
		t.Error("New accepted a nil registry")
	}
}
