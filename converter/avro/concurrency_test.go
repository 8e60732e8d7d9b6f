package avro

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/binlake/binlake/connect"
	"github.com/binlake/binlake/converter/internal/convtest"
)

// TestConcurrentUse encodes and decodes events of several table versions
// from many goroutines at once (run with -race): every body must decode to
// its event and every table version must get exactly one schema id. The
// versions were registered in order by an earlier converter (a restarted
// worker replaying old versions finds their ids by lookup).
func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	reg := newRegistry(t)
	steps := evolutionSteps()
	first := newConverter(t, reg, Options{})
	want := map[int]int{}
	for _, s := range steps {
		_, id, err := first.EncodeWithID(ctx, "shop_orders", &connect.ChangeEvent{Op: connect.OpRead, Schema: s.table, After: rowOf(s.table, 0)})
		if err != nil {
			t.Fatal(err)
		}
		want[s.table.Version] = id
	}
	c := newConverter(t, reg, Options{})
	var wg sync.WaitGroup
	ids := make([]map[int]bool, 8)
	errs := make(chan string, 64)
	for g := 0; g < 8; g++ {
		ids[g] = map[int]bool{}
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 40; i++ {
				s := steps[(g+i)%len(steps)]
				ev := &connect.ChangeEvent{Op: connect.OpCreate, Schema: s.table, After: rowOf(s.table, i)}
				body, id, err := c.EncodeWithID(ctx, "shop_orders", ev)
				if err != nil {
					errs <- err.Error()
					return
				}
				if want[s.table.Version] != id {
					errs <- fmt.Sprintf("version %d encoded with id %d, registered as %d", s.table.Version, id, want[s.table.Version])
					return
				}
				ids[g][id*100+s.table.Version] = true
				got, err := c.Decode(ctx, "shop_orders", body)
				if err != nil {
					errs <- err.Error()
					return
				}
				if d := convtest.EqualEvents(ev, got); d != "" {
					errs <- d
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	pairs := map[int]bool{}
	for _, m := range ids {
		for k := range m {
			pairs[k] = true
		}
	}
	if len(pairs) != len(steps) {
		t.Errorf("%d distinct (id, version) pairs for %d table versions", len(pairs), len(steps))
	}
}
