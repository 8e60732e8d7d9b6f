package iceberg_test

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/binlake/binlake/sink/lake"
)

// TestNoArrowLeaks runs upsert and append cycles on a checked allocator and
// requires every Arrow buffer the sink allocated to be released.
func TestNoArrowLeaks(t *testing.T) {
	for _, mode := range []lake.Mode{lake.ModeUpsert, lake.ModeAppend} {
		t.Run(string(mode), func(t *testing.T) {
			dir := t.TempDir()
			task, f := startTask(t, dir, taskConfig(dir, map[string]string{lake.KeyWriteMode: string(mode)}))
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			f.SetAllocator(mem)
			feed := newFeed(81, itemsTable(1), 2)
			for range 3 {
				mustPut(t, task, feed.next(300, 100))
				mustFlush(t, task)
			}
			mem.AssertSize(t, 0)
		})
	}
}
