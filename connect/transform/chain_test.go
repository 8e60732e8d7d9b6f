package transform

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/schema"
)

// typicalChain is exclude + mask + filter + rename (also the benchmark's).
func typicalChain(t testing.TB) *Chain {
	return mustChain(t,
		"transforms", "drop, mask, keep, rename",
		"transforms.drop.type", "columns.exclude",
		"transforms.drop.columns", `shop\.customers\.(ssn|photo)`,
		"transforms.mask.type", "columns.mask",
		"transforms.mask.columns", `shop\.customers\.email`,
		"transforms.keep.type", "filter",
		"transforms.keep.condition", `op != "d" && (after.age ?? 0) >= 18`,
		"transforms.rename.type", "columns.rename",
		"transforms.rename.renames", "name:full_name,score:rating",
	)
}

func TestChainTypical(t *testing.T) {
	c := typicalChain(t)
	if got := strings.Join(c.Aliases(), ","); got != "drop,mask,keep,rename" {
		t.Fatalf("aliases %s", got)
	}
	in := customers(3)
	minor := customerRow(2)
	minor[5] = int32(12)
	del := event(in, connect.OpDelete, customerRow(3), nil)
	evs := []*connect.ChangeEvent{insert(in, 1), event(in, connect.OpCreate, nil, minor), del, insert(in, 4)}
	out, err := c.Apply(context.Background(), evs)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || out[0].Source.Sequence != evs[0].Source.Sequence || out[1].Source.Sequence != evs[3].Source.Sequence {
		t.Fatalf("kept %d events, want the first and the last in order", len(out))
	}
	want := "id,email,full_name,amount,age,created,active,rating"
	for _, ev := range out {
		checkEvent(t, ev)
		if got := strings.Join(colNames(ev.Schema), ","); got != want {
			t.Fatalf("columns %s, want %s", got, want)
		}
		if ev.After[1] != "****" || ev.After[2] != "Ann" || ev.Schema.Version != 3 {
			t.Fatalf("row %v version %d", ev.After, ev.Schema.Version)
		}
	}
	if out[0].Schema != out[1].Schema {
		t.Fatal("one table version, two derived schemas")
	}
	if len(evs[0].After) != 10 || evs[0].After[1] == "****" || evs[0].Schema != in {
		t.Fatal("input event modified")
	}
}

func TestChainOrderMatters(t *testing.T) {
	// Renaming first makes the filter see the new name.
	c := mustChain(t,
		"transforms", "r,f",
		"transforms.r.type", "columns.rename", "transforms.r.renames", "age:years",
		"transforms.f.type", "filter", "transforms.f.condition", `after.years == 30 && after.age == nil`)
	out, err := c.Apply(t.Context(), []*connect.ChangeEvent{insert(customers(1), 1)})
	if err != nil || len(out) != 1 {
		t.Fatalf("out %d err %v", len(out), err)
	}
}

func TestChainScope(t *testing.T) {
	c := mustChain(t,
		"transforms", "m",
		"transforms.m.type", "columns.mask", "transforms.m.columns", `.*\.email`, "transforms.m.tables", `shop\.orders, other\..*`)
	ev := insert(customers(1), 1)
	out, err := one(t, c, ev)
	if err != nil || out != ev {
		t.Fatalf("out-of-scope table changed: %v", err)
	}
	orders := customers(1)
	orders.Name = "orders"
	out, err = one(t, c, insert(orders, 2))
	if err != nil || out.After[1] != "****" {
		t.Fatalf("in-scope table not masked: %v %v", out, err)
	}
}

func TestChainErrorStopsBatch(t *testing.T) {
	c := mustChain(t, "transforms", "f", "transforms.f.type", "filter", "transforms.f.condition", `after.age > 18`)
	in := customers(1)
	bad := insert(in, 2)
	bad.After[5] = nil
	out, err := c.Apply(t.Context(), []*connect.ChangeEvent{insert(in, 1), bad, insert(in, 3)})
	var re *RecordError
	if out != nil || !errors.As(err, &re) || re.Event != bad || re.Transform != "f" {
		t.Fatalf("out %v err %v", out, err)
	}
	msg := err.Error()
	for _, want := range []string{`transform "f"`, "shop.customers", fmt.Sprintf("sequence %d", bad.Source.Sequence), "mysql-bin.000003:4242"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	// ApplyEvent lets the caller go on after a failing record.
	if got, err := c.ApplyEvent(t.Context(), bad); got != nil || !errors.As(err, &re) {
		t.Fatalf("ApplyEvent bad: %v %v", got, err)
	}
	if got, err := c.ApplyEvent(t.Context(), insert(in, 4)); got == nil || err != nil {
		t.Fatalf("ApplyEvent good: %v %v", got, err)
	}
}

func TestChainEmptyAndCanceled(t *testing.T) {
	c := mustChain(t)
	evs := []*connect.ChangeEvent{insert(customers(1), 1)}
	if out, err := c.Apply(t.Context(), evs); err != nil || len(out) != 1 || out[0] != evs[0] {
		t.Fatal("empty chain must pass events through")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := typicalChain(t).Apply(ctx, evs); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestChainTruncateWithoutSchema(t *testing.T) {
	ev := &connect.ChangeEvent{Op: connect.OpTruncate, Source: connect.SourceInfo{Database: "shop", Table: "customers"}}
	// The typical chain's filter reads after.age as nil (no image), so 0 < 18.
	out, err := typicalChain(t).Apply(t.Context(), []*connect.ChangeEvent{ev})
	if err != nil || len(out) != 0 {
		t.Fatalf("truncate through the filter: %v %v", out, err)
	}
	c := mustChain(t, "transforms", "d,m", "transforms.d.type", "columns.exclude", "transforms.d.columns", `.*\.ssn`,
		"transforms.m.type", "columns.mask", "transforms.m.columns", `.*\.email`)
	out, err = c.Apply(t.Context(), []*connect.ChangeEvent{ev})
	if err != nil || len(out) != 1 || out[0] != ev {
		t.Fatalf("truncate: %v %v", out, err)
	}
}

func TestChainConcurrent(t *testing.T) {
	c := typicalChain(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				// A new table version now and then, as after DDL.
				in := customers(1 + i/50)
				evs := []*connect.ChangeEvent{
					{Op: connect.OpCreate, After: customerRow(int64(g*1000 + i)), Schema: in,
						Source: connect.SourceInfo{Database: "shop", Table: "customers", Sequence: uint64(i)}},
				}
				out, err := c.Apply(context.Background(), evs)
				if err != nil {
					errs <- err
					return
				}
				if len(out) != 1 || out[0].Schema.Version != in.Version || checkRow(out[0].Schema, out[0].After) != nil {
					errs <- fmt.Errorf("bad output %v", out)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestPlanCacheBounded(t *testing.T) {
	c := mustChain(t, "transforms", "x", "transforms.x.type", "columns.exclude", "transforms.x.columns", `.*\.ssn`)
	for v := range maxPlans + 10 {
		if _, err := c.Apply(t.Context(), []*connect.ChangeEvent{insert(customers(v+1), 1)}); err != nil {
			t.Fatal(err)
		}
	}
	if len(c.byKey) > maxPlans || len(c.byPtr) > maxPlans {
		t.Fatalf("cache holds %d/%d plans", len(c.byKey), len(c.byPtr))
	}
}

var _ interface {
	Apply(context.Context, []*connect.ChangeEvent) ([]*connect.ChangeEvent, error)
} = (*Chain)(nil)

var _ = schema.KindBool

func TestChainCombinations(t *testing.T) {
	c := mustChain(t,
		"transforms", "key,drop,add,case,route",
		"transforms.key.type", "key.replace", "transforms.key.message.key.columns", `shop\.customers:email`,
		"transforms.drop.type", "columns.exclude", "transforms.drop.columns", `.*\.id`,
		"transforms.add.type", "field.add", "transforms.add.field", "seqNo", "transforms.add.value.from", "sequence",
		"transforms.case.type", "name.case", "transforms.case.case", "upper", "transforms.case.names", "table,column",
		"transforms.route.type", "route.regex", "transforms.route.regex", `shop\.([A-Z]+)`, "transforms.route.replacement", "t_$1",
	)
	ev := event(customers(2), connect.OpUpdate, customerRow(5), customerRow(5))
	out, err := one(t, c, ev)
	if err != nil {
		t.Fatal(err)
	}
	s := out.Schema
	if got := strings.Join(colNames(s), ","); got != "EMAIL,NAME,SSN,AMOUNT,AGE,CREATED,ACTIVE,PHOTO,SCORE,SEQNO" {
		t.Fatalf("columns %s", got)
	}
	if s.PrimaryKey[0] != 0 || s.Name != "CUSTOMERS" || out.Source.Table != "CUSTOMERS" || s.Version != 2 {
		t.Fatalf("schema %+v", s)
	}
	if out.After[9] != int64(ev.Source.Sequence) || out.Before[9] != int64(ev.Source.Sequence) || out.After[0] != ev.After[1] {
		t.Fatalf("row %v", out.After)
	}
	if topic, ok := c.Topic(out); !ok || topic != "t_CUSTOMERS" {
		t.Fatalf("topic %q", topic)
	}
	if ev.Source.Table != "customers" || len(ev.After) != 10 {
		t.Fatal("input modified")
	}
}
