package transform

import (
	"context"
	"testing"

	"github.com/binlake/binlake/connect"
)

// BenchmarkChain measures the cost per record of a typical chain (exclude +
// mask + filter + rename) on a 10-column row, in batches of 256 as the
// worker polls them. ns/op and allocs/op are per record.
func BenchmarkChain(b *testing.B) {
	for _, bc := range []struct {
		name  string
		chain func(testing.TB) *Chain
	}{
		{"exclude+mask+filter+rename", typicalChain},
		{"exclude+hash+filter+rename", func(t testing.TB) *Chain {
			return mustChain(t,
				"transforms", "drop,mask,keep,rename",
				"transforms.drop.type", "columns.exclude", "transforms.drop.columns", `shop\.customers\.(ssn|photo)`,
				"transforms.mask.type", "columns.mask", "transforms.mask.columns", `shop\.customers\.email`,
				"transforms.mask.mode", "hash", "transforms.mask.salt", "pepper",
				"transforms.keep.type", "filter", "transforms.keep.condition", `op != "d" && (after.age ?? 0) >= 18`,
				"transforms.rename.type", "columns.rename", "transforms.rename.renames", "name:full_name,score:rating")
		}},
		{"filter only (kept, no copy)", func(t testing.TB) *Chain {
			return mustChain(t, "transforms", "keep", "transforms.keep.type", "filter",
				"transforms.keep.condition", `op != "d" && (after.age ?? 0) >= 18`)
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c := bc.chain(b)
			in := customers(1)
			const batch = 256
			evs := make([]*connect.ChangeEvent, batch)
			for i := range evs {
				evs[i] = insert(in, int64(i))
			}
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += batch {
				n := min(batch, b.N-i)
				out, err := c.Apply(ctx, evs[:n])
				if err != nil || len(out) != n {
					b.Fatalf("out %d err %v", len(out), err)
				}
			}
		})
	}
}
