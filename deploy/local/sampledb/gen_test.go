package main

import (
	"strings"
	"testing"
)

func TestPlanSplitsTheRequestedRows(t *testing.T) {
	for _, total := range []int64{1000, 20000, 1_000_000} {
		p := newPlan(total)
		if p.Total() != total {
			t.Errorf("newPlan(%d).Total() = %d", total, p.Total())
		}
		if p.Items < p.Orders || p.Orders < p.Customers || p.Customers < p.Products {
			t.Errorf("newPlan(%d) = %+v: want items >= orders >= customers >= products", total, p)
		}
	}
	if p := newPlan(100); p.Customers < 20 || p.Products < 20 || p.Orders < 20 || p.Items < p.Orders {
		t.Errorf("newPlan(100) = %+v: want at least 20 rows per table and an item per order", p)
	}
}

func TestRowsAreDeterministicAndMatchTheColumns(t *testing.T) {
	p := newPlan(10000)
	for _, table := range tableNames {
		want := strings.Count(columns[table], ",") + 1
		for _, id := range []int64{1, 2, p.count(table)} {
			a, b := row(p, table, id), row(p, table, id)
			if len(a) != want {
				t.Fatalf("%s row %d has %d values, want %d", table, id, len(a), want)
			}
			if a[0] != id {
				t.Errorf("%s row %d starts with %v", table, id, a[0])
			}
			for i := range a {
				if ab, ok := a[i].([]byte); ok {
					if string(ab) != string(b[i].([]byte)) {
						t.Errorf("%s row %d column %d differs between calls", table, id, i)
					}
				} else if a[i] != b[i] {
					t.Errorf("%s row %d column %d: %v then %v", table, id, i, a[i], b[i])
				}
			}
		}
	}
}

func TestForeignKeysStayInRange(t *testing.T) {
	p := newPlan(5000)
	for id := int64(1); id <= p.Items; id += 97 {
		r := itemRow(p, id)
		if o := r[1].(int64); o < 1 || o > p.Orders {
			t.Fatalf("item %d references order %d outside 1..%d", id, o, p.Orders)
		}
		if pr := r[2].(int64); pr < 1 || pr > p.Products {
			t.Fatalf("item %d references product %d outside 1..%d", id, pr, p.Products)
		}
	}
	if last := itemRow(p, p.Items)[1].(int64); last != p.Orders {
		t.Errorf("the last item references order %d, want the last order %d", last, p.Orders)
	}
}

func TestChunksCoverEveryRowOnce(t *testing.T) {
	p := newPlan(12345)
	seen := map[string]int64{}
	for _, c := range chunks(p, 1000) {
		if c.to-c.from+1 > 1000 || c.from > c.to {
			t.Fatalf("bad chunk %+v", c)
		}
		if c.from != seen[c.table]+1 {
			t.Fatalf("chunk %+v does not continue at %d", c, seen[c.table]+1)
		}
		seen[c.table] = c.to
	}
	for _, table := range tableNames {
		if seen[table] != p.count(table) {
			t.Errorf("%s: chunks end at %d, want %d", table, seen[table], p.count(table))
		}
	}
	q, args := insertSQL(p, "shop", chunk{table: "orders", from: 1, to: 3})
	if n := strings.Count(q, "?"); n != len(args) || len(args) != 3*11 {
		t.Errorf("insertSQL: %d placeholders, %d args", n, len(args))
	}
}

func TestParseDetail(t *testing.T) {
	p, ok := parseDetail("snapshot: 1/4 tables done, at shop.orders, 340000 rows (~34%), 52000 rows/s")
	if !ok || p.done || p.pct != 34 || p.rows != 340000 || p.rowsPerSec != 52000 || p.table != "shop.orders" || p.tablesDone != 1 || p.tables != 4 {
		t.Errorf("parseDetail = %+v, %v", p, ok)
	}
	if p, ok := parseDetail("snapshot: 0/4 tables done, at shop.customers, 10 rows, 5 rows/s"); !ok || p.pct != -1 || p.rows != 10 {
		t.Errorf("parseDetail without percent = %+v, %v", p, ok)
	}
	if p, ok := parseDetail("snapshot done: 4 tables, 1000000 rows (80000 rows/s); streaming"); !ok || !p.done || p.totalRows != 1000000 {
		t.Errorf("parseDetail(done) = %+v, %v", p, ok)
	}
	if _, ok := parseDetail("waiting for topic x to exist"); ok {
		t.Error("parseDetail accepted an unknown text")
	}
}

func TestParseMetrics(t *testing.T) {
	text := `# HELP binlake_sink_records_total x
binlake_sink_records_total{connector="lake-sink",op="r",table="shop.orders",task="0"} 100
binlake_sink_records_total{connector="lake-sink",op="c",table="shop.orders",task="0"} 5
binlake_sink_records_total{connector="other",op="c",table="shop.orders",task="0"} 7
binlake_source_events_total{connector="mysql-source",op="r",table="shop.orders",task="0"} 105
binlake_source_lag_seconds{connector="mysql-source",task="0"} 0.25
binlake_sink_commits_total{connector="lake-sink",table="shop.orders"} 3
`
	s := parseMetrics(text, "mysql-source", "lake-sink")
	if s.sinkRecords != 105 || s.sourceEvents != 105 || s.lag != 0.25 || s.sinkCommits != 3 {
		t.Errorf("parseMetrics = %+v", s)
	}
	if s := parseMetrics("", "a", "b"); s.lag != -1 {
		t.Errorf("lag without a series = %v, want -1", s.lag)
	}
}

func TestThousands(t *testing.T) {
	for in, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4200: "-4,200"} {
		if got := thousands(in); got != want {
			t.Errorf("thousands(%d) = %q, want %q", in, got, want)
		}
	}
}
