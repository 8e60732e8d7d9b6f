package benchtable

import (
	"math"
	"strings"
	"testing"
)

func buckets(bounds []float64, counts []float64) []Bucket {
	out := make([]Bucket, len(bounds))
	for i := range bounds {
		out[i] = Bucket{UpperBound: bounds[i], Count: counts[i]}
	}
	return out
}

var inf = math.Inf(1)

func TestQuantile(t *testing.T) {
	// 100 observations: 10 in (0,1], 40 in (1,2], 50 in (2,4].
	h := buckets([]float64{1, 2, 4, inf}, []float64{10, 50, 100, 100})
	cases := []struct{ q, want float64 }{
		{0.05, 0.5},  // rank 5 of 10 in the first bucket, from 0
		{0.1, 1},     // rank 10: the first bucket's upper bound
		{0.3, 1.5},   // rank 30: 20 of 40 into (1,2]
		{0.5, 2},     // rank 50
		{0.75, 3},    // rank 75: 25 of 50 into (2,4]
		{0.99, 3.96}, // rank 99: 49 of 50
		{1, 4},
		{0, 0},
	}
	for _, c := range cases {
		if got := Quantile(c.q, h); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("Quantile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
}

func TestQuantileEdges(t *testing.T) {
	// Observations above the last finite bound: the largest finite bound, as Prometheus answers.
	if got := Quantile(0.99, buckets([]float64{1, 2, inf}, []float64{0, 1, 100})); got != 2 {
		t.Errorf("rank in +Inf bucket: %v, want 2", got)
	}
	if got := Quantile(0.5, buckets([]float64{1, inf}, []float64{0, 0})); !math.IsNaN(got) {
		t.Errorf("no observations: %v, want NaN", got)
	}
	if got := Quantile(0.5, buckets([]float64{1, 2}, []float64{1, 2})); !math.IsNaN(got) {
		t.Errorf("no +Inf bucket: %v, want NaN", got)
	}
	if got := Quantile(-1, buckets([]float64{1, inf}, []float64{1, 1})); !math.IsInf(got, -1) {
		t.Errorf("q < 0: %v", got)
	}
	if got := Quantile(2, buckets([]float64{1, inf}, []float64{1, 1})); !math.IsInf(got, 1) {
		t.Errorf("q > 1: %v", got)
	}
	// A negative first bound is returned as is (no interpolation from 0).
	if got := Quantile(0.5, buckets([]float64{-1, 1, inf}, []float64{10, 10, 10})); got != -1 {
		t.Errorf("negative first bound: %v", got)
	}
}

func TestDelta(t *testing.T) {
	before := buckets([]float64{1, 2, inf}, []float64{5, 8, 9})
	after := buckets([]float64{1, 2, inf}, []float64{5, 18, 29})
	d, err := Delta(before, after)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{0, 10, 20}
	for i := range want {
		if d[i].Count != want[i] || d[i].UpperBound != after[i].UpperBound {
			t.Errorf("bucket %d: %+v, want count %v", i, d[i], want[i])
		}
	}
	if Total(d) != 20 {
		t.Errorf("Total %v, want 20", Total(d))
	}
	// Only the window's observations count: half of the 20 are <= 1.5 by interpolation in (1,2].
	if got := Quantile(0.25, d); got != 1.5 {
		t.Errorf("quantile of the delta %v, want 1.5", got)
	}
	// A series absent before the window starts at zero.
	d, err = Delta(nil, after)
	if err != nil || Total(d) != 29 {
		t.Errorf("Delta(nil, after): %v %v", d, err)
	}
	if _, err := Delta(after, before); err == nil || !strings.Contains(err.Error(), "counter reset") {
		t.Errorf("a decreasing bucket must be an error, got %v", err)
	}
}
